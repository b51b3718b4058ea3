"""Fallback and retry: combinators that make an agent try again, or try another."""

from __future__ import annotations

import random
from typing import final

import anyio
from attrs import field, frozen, validators

from agentcat._vars import In, Out
from agentcat.agent import Agent
from agentcat.structure import Node

__all__ = ["Backoff", "Fallback", "Retry", "no_backoff"]


@frozen
class Backoff:
    """Exponential backoff: ``initial * factor**n`` seconds before retry ``n + 1``, at most
    ``maximum``, each delay spread by up to ``jitter`` (a fraction) either way."""

    initial: float = field(default=0.1, validator=validators.ge(0))
    factor: float = field(default=2.0, validator=validators.ge(1))
    maximum: float = field(default=30.0, validator=validators.ge(0))
    jitter: float = field(default=0.0, validator=[validators.ge(0), validators.le(1)])

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (0 for the first retry)."""
        base = min(self.initial * self.factor**retry, self.maximum)
        return base * (1 + random.uniform(-self.jitter, self.jitter)) if self.jitter else base


no_backoff = Backoff(initial=0.0)


@final
@frozen(repr=False)
class Fallback(Agent[In, Out]):
    """``f.with_fallback(g, ...)``: the first alternative that does not fail with ``on`` answers."""

    alternatives: tuple[Agent[In, Out], ...]
    on: tuple[type[Exception], ...]

    async def invoke(self, value: In, /) -> Out:
        failures: list[Exception] = []
        for alternative in self.alternatives:
            try:
                return await alternative.invoke(value)
            except self.on as error:
                failures.append(error)
        raise exhausted(failures, f"every alternative of {self!r} failed")

    @property
    def input_type(self) -> object | None:
        return self.alternatives[0].input_type

    @property
    def output_type(self) -> object | None:
        return self.alternatives[0].output_type

    def describe(self) -> Node:
        slots = ", ".join("{}" for _ in self.alternatives[1:])
        children = tuple(a.describe() for a in self.alternatives)
        return Node("fallback", "{}.with_fallback(" + slots + ")", children)


@final
@frozen(repr=False)
class Retry(Agent[In, Out]):
    """``f.with_retry(attempts, backoff=..., on=...)``: bounded attempts with backoff between."""

    agent: Agent[In, Out]
    attempts: int = field(validator=validators.ge(1))
    backoff: Backoff
    on: tuple[type[Exception], ...]

    async def invoke(self, value: In, /) -> Out:
        failures: list[Exception] = []
        for retry in range(self.attempts):
            if retry:
                await anyio.sleep(self.backoff.delay(retry - 1))
            try:
                return await self.agent.invoke(value)
            except self.on as error:
                failures.append(error)
        raise exhausted(failures, f"{self!r} failed on all {self.attempts} attempts")

    @property
    def input_type(self) -> object | None:
        return self.agent.input_type

    @property
    def output_type(self) -> object | None:
        return self.agent.output_type

    def describe(self) -> Node:
        return Node("retry", "{}" + f".with_retry({self.attempts})", (self.agent.describe(),))


def exhausted(failures: list[Exception], summary: str) -> Exception:
    """The last failure, annotated with a summary and the earlier failures, so none is lost."""
    last = failures[-1]
    earlier = "".join(f"\n  {type(e).__name__}: {e}" for e in failures[:-1])
    last.add_note(summary + (f"; earlier failures:{earlier}" if earlier else ""))
    return last
