"""Instrumented streaming stages for the runtime tests: producers that record their life."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import anyio
import anyio.lowlevel
from attrs import define, field

from agentcat import StreamingAgent

__all__ = ["Gate", "Recorder", "Tokens"]


@define
class Recorder:
    """What a producer did: the tokens it produced, whether it finished or was closed."""

    produced: list[str] = field(factory=list)
    finished: bool = False
    closed: bool = False
    running: int = 0


@define(eq=False, repr=False)
class Tokens(StreamingAgent[str, str]):
    """Streams ``tokens`` one by one (the input is ignored), failing with ``error`` after
    ``fail_after`` tokens if given, and recording everything in ``record``."""

    tokens: Sequence[str]
    record: Recorder = field(factory=Recorder)
    error: Exception | None = None
    fail_after: int | None = None
    label: str = "tokens"

    async def open(self, value: str, /) -> AsyncIterator[str]:
        self.record.running += 1
        try:
            for index, token in enumerate(self.tokens):
                if self.error is not None and index == self.fail_after:
                    raise self.error
                await anyio.lowlevel.checkpoint()
                self.record.produced.append(token)
                yield token
            if self.error is not None and self.fail_after == len(self.tokens):
                raise self.error
            self.record.finished = True
        finally:
            self.record.closed = not self.record.finished
            self.record.running -= 1

    @property
    def element_type(self) -> object:
        return str

    @property
    def name(self) -> str:
        return self.label


@define(eq=False, repr=False)
class Gate(StreamingAgent[str, str]):
    """A producer in lock-step with its consumer: it releases token k+1 only once the consumer
    has reported (``received``) that it holds token k. A stage that buffers deadlocks it."""

    count: int
    received: int = 0
    _moved: anyio.Event | None = None

    def receive(self) -> None:
        """Called by the consumer for each token it gets."""
        self.received += 1
        if self._moved is not None:
            self._moved.set()

    async def open(self, value: str, /) -> AsyncIterator[str]:
        for index in range(self.count):
            while self.received < index:
                self._moved = anyio.Event()
                await self._moved.wait()
            yield f"t{index} "

    @property
    def element_type(self) -> object:
        return str
