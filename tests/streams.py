"""Streaming stages and checks shared by the tests: producers that record their life, the
streaming identity under a chunking policy, and the well-formedness of a stream's chunks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import anyio
import anyio.lowlevel
from agentcat_laws import ChunkPlan, split
from agentcat_laws.strategies import EACH, WHOLE
from attrs import define, field, frozen
from hypothesis import example

from agentcat import STR, Chunk, Monoid, StreamingAgent

__all__ = [
    "PINNED",
    "Chunked",
    "Gate",
    "Recorder",
    "Tokens",
    "accumulate",
    "assert_well_formed",
    "chunked",
    "pinned",
]


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
    ``fail_after`` tokens if given, and recording everything in ``record``. With ``forever``,
    it then waits for ever instead of ending: only cancellation or closing ends it."""

    tokens: Sequence[str]
    record: Recorder = field(factory=Recorder)
    error: Exception | None = None
    fail_after: int | None = None
    label: str = "tokens"
    forever: bool = False

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
            if self.forever:
                await anyio.Event().wait()
            self.record.finished = True
        finally:
            self.record.closed = not self.record.finished
            self.record.running -= 1

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


@frozen(repr=False)
class Chunked(StreamingAgent[str, str]):
    """The streaming identity under a chunking policy: its input, cut as ``plan`` says."""

    plan: ChunkPlan

    async def open(self, value: str, /) -> AsyncIterator[str]:
        for delta in split(value, self.plan):
            yield delta

    @property
    def name(self) -> str:
        return f"chunked({self.plan!r})"


def chunked(plan: ChunkPlan) -> StreamingAgent[str, str]:
    return Chunked(plan)


def assert_well_formed(chunks: list[Chunk[Any]], monoid: Monoid[Any]) -> None:
    """W1 prefix sums, W2 exactly one ``done`` and it is last, W3 the final value is the fold."""
    assert chunks, "a stream has at least its terminal chunk"
    assert [chunk.done for chunk in chunks] == [False] * (len(chunks) - 1) + [True]  # W2
    total = monoid.empty()
    for chunk in chunks:
        total = monoid.combine(total, chunk.delta)
        assert chunk.accumulated == total  # W1
    assert chunks[-1].accumulated == monoid.concat([chunk.delta for chunk in chunks])  # W3


async def accumulate(agent: StreamingAgent[str, str], value: str) -> str:
    """q: the accumulated output, after checking the stream is well formed."""
    chunks = [chunk async for chunk in agent.stream(value)]
    assert_well_formed(chunks, STR)
    return chunks[-1].accumulated


NON_ASCII = "naïve café ☕ ok. Ünïcode! \U0001d4b3"
WHITESPACE = "  \n\t  \n"
PINNED = [
    ("", WHOLE),
    (NON_ASCII, WHOLE),
    (NON_ASCII, EACH),
    (WHITESPACE, EACH),
    (NON_ASCII, ChunkPlan((3, 4, 11))),
]


def pinned(test: Any, **others: Any) -> Any:
    """Pin the extremes of ``x`` and its chunking ``c`` (``others`` fixes the other arguments)."""
    for x, plan in PINNED:
        test = example(x=x, c=plan, **others)(test)
    return test


async def run_in_lockstep(
    gate: Gate, pipeline: StreamingAgent[str, str], deadlock_after: float = 5
) -> list[str]:
    """The deltas ``pipeline`` streams, each let through ``gate`` as it arrives: the gate
    releases token k+1 only once token k has reached the end, so a stage that runs ahead (or
    buffers) deadlocks, and ``deadlock_after`` seconds turn that into a TimeoutError."""
    received: list[str] = []
    with anyio.fail_after(deadlock_after):  # a deadlock, not a duration, is what fails here
        async with pipeline.stream("go") as stream:
            async for chunk in stream:
                if chunk.delta:
                    received.append(chunk.delta)
                    gate.receive()
    return received
