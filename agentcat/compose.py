"""Sequential composition: `Pipeline` and the `compose` rule behind ``>>``."""

from __future__ import annotations

from typing import Any, final

from attrs import frozen

from agentcat._vars import In, Out
from agentcat.agent import Agent, Identity
from agentcat.annotations import compatible, format_annotation
from agentcat.structure import Node

__all__ = ["Pipeline", "check_compatible", "compose"]


@final
@frozen(repr=False)
class Pipeline(Agent[In, Out]):
    """Agents run one after the other, each on the output of the one before.

    Always flat: ``(f >> g) >> h`` and ``f >> (g >> h)`` are the same pipeline, equal by ``==``.
    """

    stages: tuple[Agent[Any, Any], ...]

    async def invoke(self, value: In, /) -> Out:
        result: Any = value
        for stage in self.stages:
            result = await stage.invoke(result)
        return result  # type: ignore[no-any-return]

    @property
    def input_type(self) -> object | None:
        return self.stages[0].input_type

    @property
    def output_type(self) -> object | None:
        return self.stages[-1].output_type

    def describe(self) -> Node:
        return Node("sequence", "", tuple(stage.describe() for stage in self.stages))


def compose(left: Agent[Any, Any], right: Agent[Any, Any]) -> Agent[Any, Any]:
    """``left >> right``: the identity vanishes, results compose by short-circuiting, a
    streaming agent on the right is fed from the left (a streaming pipeline), anything else
    becomes a flat :class:`Pipeline`. Raises :class:`TypeError` when the annotations of
    ``left``'s output and ``right``'s input certainly disagree."""
    if not isinstance(right, Agent):
        raise TypeError(f"{left!r} >> {right!r}: the right operand is not an Agent")
    if isinstance(left, Identity):
        return right
    if isinstance(right, Identity):
        return left
    from agentcat.streaming import StreamingAgent, streaming_sequence

    if isinstance(right, StreamingAgent):
        return streaming_sequence(left, right)
    from agentcat.results import Fallible, fallible_sequence

    *before, last = _stages(left)
    first, *after = _stages(right)
    if isinstance(last, Fallible) and isinstance(first, Fallible):
        # Where two fallible agents meet, they compose by short-circuiting, however the
        # pipelines around them were grouped: (p >> f') >> g' is p >> (f' >> g').
        stages = (*before, fallible_sequence(last, first), *after)
        return stages[0] if len(stages) == 1 else Pipeline(stages)
    check_compatible(left, left.output_type, right)
    return Pipeline((*before, last, first, *after))


def check_compatible(left: Agent[Any, Any], produced: object, right: Agent[Any, Any]) -> None:
    """Raise a :class:`TypeError` naming both agents and both types when ``left``'s output,
    annotated ``produced``, cannot be ``right``'s input."""
    expected = right.input_type
    if not compatible(produced, expected):
        raise TypeError(
            f"cannot compose {left!r} >> {right!r}: {left!r} produces "
            f"{format_annotation(produced)}, but {right!r} expects {format_annotation(expected)}"
        )


def _stages(agent: Agent[Any, Any]) -> tuple[Agent[Any, Any], ...]:
    return agent.stages if isinstance(agent, Pipeline) else (agent,)
