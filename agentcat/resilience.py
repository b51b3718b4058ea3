"""Fallback and retry: combinators that make an agent try again, or try another."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any, final

import anyio
from attrs import field, frozen, validators

from agentcat._vars import AnyAgent, In, Out, X, Y
from agentcat.agent import Agent
from agentcat.structure import Node

__all__ = [
    "Backoff",
    "Fallback",
    "Retry",
    "describe_fallback",
    "describe_retry",
    "exhausted",
    "fallback_plan",
    "first_success",
    "no_backoff",
    "retry_plan",
]


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


async def first_success(
    plan: Sequence[tuple[Agent[X, Y], float]],
    value: X,
    on: tuple[type[Exception], ...],
    summary: str,
    failures: tuple[Exception, ...] = (),
) -> Y:
    """The output of the first attempt of ``plan`` that does not fail with ``on``.

    Each attempt runs while the failure before it is handled, so when all fail, the last
    failure carries the earlier ones as its ``__context__`` chain (and a note names them).
    """
    (agent, delay), rest = plan[0], plan[1:]
    if delay:
        await anyio.sleep(delay)
    try:
        return await agent.invoke(value)
    except on as error:
        if not rest:
            exhausted([*failures, error], summary)  # adds the summary note to ``error``
            raise
        return await first_success(rest, value, on, summary, (*failures, error))


def fallback_plan(alternatives: tuple[AnyAgent, ...]) -> list[tuple[AnyAgent, float]]:
    """The plan of a fallback: each alternative once, in order, without waiting."""
    return [(alternative, 0.0) for alternative in alternatives]


def retry_plan(agent: AnyAgent, attempts: int, backoff: Backoff) -> list[tuple[AnyAgent, float]]:
    """The plan of a retry: ``attempts`` runs of ``agent``, waiting as ``backoff`` says before
    each retry. A plan lists the attempts in order: which agent, and the seconds to wait first."""
    return [(agent, backoff.delay(retry - 1) if retry else 0.0) for retry in range(attempts)]


def describe_fallback(alternatives: tuple[Agent[Any, Any], ...]) -> Node:
    """The node of ``first.with_fallback(second, ...)``, streaming or not."""
    slots = ", ".join("{}" for _ in alternatives[1:])
    children = tuple(a.describe() for a in alternatives)
    return Node("fallback", "{}.with_fallback(" + slots + ")", children)


def describe_retry(agent: Agent[Any, Any], attempts: int) -> Node:
    """The node of ``agent.with_retry(attempts)``, streaming or not."""
    return Node("retry", "{}" + f".with_retry({attempts})", (agent.describe(),))


@final
@frozen(repr=False)
class Fallback(Agent[In, Out]):
    """``f.with_fallback(g, ...)``: the first alternative that does not fail with ``on`` answers."""

    alternatives: tuple[Agent[In, Out], ...]
    on: tuple[type[Exception], ...]

    async def invoke(self, value: In, /) -> Out:
        plan: list[tuple[Agent[In, Out], float]] = fallback_plan(self.alternatives)
        return await first_success(plan, value, self.on, f"every alternative of {self!r} failed")

    @property
    def input_type(self) -> object | None:
        return self.alternatives[0].input_type

    @property
    def output_type(self) -> object | None:
        return self.alternatives[0].output_type

    def describe(self) -> Node:
        return describe_fallback(self.alternatives)


@final
@frozen(repr=False)
class Retry(Agent[In, Out]):
    """``f.with_retry(attempts, backoff=..., on=...)``: bounded attempts with backoff between."""

    agent: Agent[In, Out]
    attempts: int = field(validator=validators.ge(1))
    backoff: Backoff
    on: tuple[type[Exception], ...]

    async def invoke(self, value: In, /) -> Out:
        plan: list[tuple[Agent[In, Out], float]] = retry_plan(
            self.agent, self.attempts, self.backoff
        )
        summary = f"{self!r} failed on all {self.attempts} attempts"
        return await first_success(plan, value, self.on, summary)

    @property
    def input_type(self) -> object | None:
        return self.agent.input_type

    @property
    def output_type(self) -> object | None:
        return self.agent.output_type

    def describe(self) -> Node:
        return describe_retry(self.agent, self.attempts)


def exhausted(failures: list[Exception], summary: str) -> Exception:
    """The last failure, annotated with a summary and the earlier failures, so none is lost."""
    last = failures[-1]
    earlier = "".join(f"\n  {type(e).__name__}: {e}" for e in failures[:-1])
    last.add_note(summary + (f"; earlier failures:{earlier}" if earlier else ""))
    return last
