"""Products of agents: fan-out ``f & g`` (one input, every output) and parallel ``f * g``."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, Generic, final

from attrs import frozen

from agentcat._vars import In, Ts, W, X, Y, Z
from agentcat.agent import Agent
from agentcat.concurrency import gather
from agentcat.structure import Node

__all__ = ["FanOut", "Parallel", "fan_out"]


@final
@frozen(repr=False)
class FanOut(Agent[In, tuple[*Ts]], Generic[In, *Ts]):
    """Every branch runs on the same input, concurrently; the output is the tuple of their outputs.

    ``f & g & h`` is one fan-out of three with a flat ``tuple[B, C, D]`` output; parentheses on
    the right, ``f & (g & h)``, keep a nested group. A failing branch cancels the others and its
    exception surfaces unchanged.
    """

    branches: tuple[Agent[In, Any], ...]

    async def invoke(self, value: In, /) -> tuple[*Ts]:
        jobs = [functools.partial(branch.invoke, value) for branch in self.branches]
        return tuple(await gather(jobs))

    @property
    def input_type(self) -> object | None:
        return self.branches[0].input_type

    @property
    def output_type(self) -> object | None:
        outputs = tuple(branch.output_type for branch in self.branches)
        return None if None in outputs else tuple[outputs]  # type: ignore[valid-type]

    # A chain ``f & g & h`` extends the fan-out instead of nesting pairs, so the override
    # deliberately narrows the inherited ``&``.
    def __and__(  # type: ignore[override]
        self: FanOut[X, *Ts], other: Agent[X, Z], /
    ) -> FanOut[X, *Ts, Z]:
        return fan_out(self, other)

    def describe(self) -> Node:
        return Node("fan_out", "", tuple(branch.describe() for branch in self.branches))


@final
@frozen(repr=False)
class Parallel(Agent[tuple[X, W], tuple[Y, Z]]):
    """``f * g``: ``f`` on the first item of a pair and ``g`` on the second, concurrently."""

    first: Agent[X, Y]
    second: Agent[W, Z]

    async def invoke(self, value: tuple[X, W], /) -> tuple[Y, Z]:
        if not (isinstance(value, tuple) and len(value) == 2):
            raise TypeError(f"{self!r} takes a pair, not {value!r}")
        left, right = value
        jobs: list[Callable[[], Awaitable[Any]]] = [
            functools.partial(self.first.invoke, left),
            functools.partial(self.second.invoke, right),
        ]
        first, second = await gather(jobs)
        return first, second

    @property
    def input_type(self) -> object | None:
        return _pair(self.first.input_type, self.second.input_type)

    @property
    def output_type(self) -> object | None:
        return _pair(self.first.output_type, self.second.output_type)

    def describe(self) -> Node:
        return Node("parallel", "", (self.first.describe(), self.second.describe()))


def _pair(first: object | None, second: object | None) -> object | None:
    return None if first is None or second is None else tuple[first, second]  # type: ignore[valid-type]


def fan_out(left: Agent[Any, Any], right: Agent[Any, Any]) -> FanOut[Any, *tuple[Any, ...]]:
    """``left & right``: extends ``left`` when it is a fan-out already, else pairs the two."""
    if not isinstance(right, Agent):
        raise TypeError(f"{left!r} & {right!r}: the right operand is not an Agent")
    head = left.branches if isinstance(left, FanOut) else (left,)
    return FanOut((*head, right))
