"""Fallback and retry for streams, which must not repeat or lose a delta already passed on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, final

import anyio
from attrs import field, frozen, validators

from agentcat._vars import In, Out
from agentcat.monoid import INFERRED, Monoid, monoid_of
from agentcat.resilience import Backoff, exhausted
from agentcat.sources import aclose_all
from agentcat.streaming import Chain, StreamingAgent
from agentcat.structure import Node

__all__ = ["StreamingError", "StreamingFallback", "StreamingRetry"]


class StreamingError(Exception):
    """A stream failed after it had passed deltas on, so it could not be retried or replaced
    without repeating them. ``partial`` is what it had produced; ``recoverable`` tells whether
    an attempt or alternative was left that would have taken over before the first delta, so a
    caller may restart the whole stream. The original failure is ``__cause__``."""

    def __init__(self, message: str, *, partial: Any, recoverable: bool) -> None:
        super().__init__(message)
        self.partial = partial
        self.recoverable = recoverable


async def _attempt(
    owner: StreamingAgent[Any, Any],
    agent: StreamingAgent[In, Out],
    value: In,
    on: tuple[type[Exception], ...],
    left: bool,
) -> AsyncIterator[Out]:
    """Stream ``agent`` on ``value``; a failure after the first delta becomes StreamingError."""
    chain: Chain = []
    emitted: list[Out] = []
    try:
        async for delta in agent.start(value, chain):
            emitted.append(delta)
            yield delta
    except on as error:
        if not emitted:
            raise
        monoid: Monoid[Out] = agent.monoid or monoid_of(emitted[0])
        raise StreamingError(
            f"{owner!r}: {agent!r} failed after {len(emitted)} deltas: {error}",
            partial=monoid.concat(emitted),
            recoverable=left,
        ) from error
    finally:
        await aclose_all(chain)


@final
@frozen(repr=False)
class StreamingFallback(StreamingAgent[In, Out]):
    """Alternatives tried in turn while one fails with ``on`` before its first delta."""

    alternatives: tuple[StreamingAgent[In, Out], ...]
    on: tuple[type[Exception], ...]

    async def open(self, value: In, /) -> AsyncIterator[Out]:
        failures: list[Exception] = []
        for number, alternative in enumerate(self.alternatives, 1):
            left = number < len(self.alternatives)
            try:
                async for delta in _attempt(self, alternative, value, self.on, left):
                    yield delta
                return
            except StreamingError:
                raise
            except self.on as error:
                failures.append(error)
        raise exhausted(failures, f"every alternative of {self!r} failed")

    @property
    def monoid(self) -> Monoid[Out] | None:
        return self.monoid_after(None)

    def monoid_after(self, upstream: Monoid[Any] | None, /) -> Monoid[Out] | None:
        """The most specific monoid among the alternatives' (any may be the one that answers):
        the first one known by type, else :data:`INFERRED` if one infers, else ``None``."""
        known = [a.monoid_after(upstream) for a in self.alternatives]
        specific = [m for m in known if m is not None and m is not INFERRED]
        return specific[0] if specific else next((m for m in known if m is not None), None)

    @property
    def element_type(self) -> object | None:
        return self.alternatives[0].element_type

    @property
    def input_type(self) -> object | None:
        return self.alternatives[0].input_type

    def describe(self) -> Node:
        slots = ", ".join("{}" for _ in self.alternatives[1:])
        children = tuple(a.describe() for a in self.alternatives)
        return Node("fallback", "{}.with_fallback(" + slots + ")", children)


@final
@frozen(repr=False)
class StreamingRetry(StreamingAgent[In, Out]):
    """Up to ``attempts`` runs while the stream fails with ``on`` before its first delta."""

    agent: StreamingAgent[In, Out]
    attempts: int = field(validator=validators.ge(1))
    backoff: Backoff
    on: tuple[type[Exception], ...]

    async def open(self, value: In, /) -> AsyncIterator[Out]:
        failures: list[Exception] = []
        for retry in range(self.attempts):
            if retry:
                await anyio.sleep(self.backoff.delay(retry - 1))
            left = retry + 1 < self.attempts
            try:
                async for delta in _attempt(self, self.agent, value, self.on, left):
                    yield delta
                return
            except StreamingError:
                raise
            except self.on as error:
                failures.append(error)
        raise exhausted(failures, f"{self!r} failed on all {self.attempts} attempts")

    @property
    def monoid(self) -> Monoid[Out] | None:
        return self.agent.monoid

    def monoid_after(self, upstream: Monoid[Any] | None, /) -> Monoid[Out] | None:
        return self.agent.monoid_after(upstream)

    @property
    def element_type(self) -> object | None:
        return self.agent.element_type

    @property
    def input_type(self) -> object | None:
        return self.agent.input_type

    def describe(self) -> Node:
        return Node("retry", "{}" + f".with_retry({self.attempts})", (self.agent.describe(),))
