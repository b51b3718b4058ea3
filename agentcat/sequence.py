"""Sequence, ``>>``: the rule :func:`compose`, the :class:`Pipeline` it builds, plain or streaming,
and :class:`FallibleSequence`, the Kleisli composition of fallible agents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, TypeVar, final

from attrs import frozen
from returns.result import Result, Success

from agentcat._annotations import check_compatible
from agentcat._meta import NoPublicConstructor, create
from agentcat._runtime import Run, mapped
from agentcat._structure import Node, operand
from agentcat.agent import Agent, Identity
from agentcat.errors import CompositionError
from agentcat.fallible import Catching, Fallible
from agentcat.monoids import Monoid
from agentcat.streaming import Combinator, Lifted, StreamingAgent, whole_type

__all__ = ["FallibleSequence", "Pipeline", "compose"]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)
Err = TypeVar("Err", covariant=True)


@final
@frozen(repr=False)
class Pipeline(Combinator[In, Out], metaclass=NoPublicConstructor):
    """Agents run one after the other, each on the output of the one before.

    Always flat: ``(f >> g) >> h`` and ``f >> (g >> h)`` are the same pipeline, equal by ``==``.
    With streaming stages, each is fed from the deltas of the one before, so a chain of
    transducers moves every token to the end before the first stage makes the next; a run of
    consecutive per-delta maps is fused into one step (the functor law
    ``map(f) >> map(g) = map(g ∘ f)``), so such stages cost a function call per token each.
    """

    _built_by = "f >> g"

    stages: tuple[Agent[Any, Any], ...]

    @property
    def streams(self) -> bool:
        return isinstance(self.stages[0], StreamingAgent)

    async def invoke(self, value: In, /) -> Out:
        if self.streams:
            return await self._whole(value)
        result: Any = value
        for stage in self.stages:
            result = await stage.invoke(result)
        return result  # type: ignore[no-any-return]

    @property
    def input_type(self) -> object | None:
        return self.stages[0].input_type

    @property
    def output_type(self) -> object | None:
        return whole_type(self.stages[-1])

    def describe(self) -> Node:
        return Node("sequence", "", tuple(stage.describe() for stage in self.stages))

    def _open(self, value: In, run: Run, /) -> AsyncIterator[Any]:
        first, *rest = self._streaming_stages
        return _chain(rest, first._open(value, run), first._monoid_for_input(value), run)

    def _feed(
        self, source: AsyncIterator[Any], monoid: Monoid[Any] | None, run: Run, /
    ) -> AsyncIterator[Any]:
        return _chain(self._streaming_stages, source, monoid, run)

    @property
    def _streaming_stages(self) -> tuple[StreamingAgent[Any, Any], ...]:
        return self.stages  # type: ignore[return-value]  # `streams`: every stage streams

    @property
    def _needs_whole_input(self) -> bool:
        return self._streaming_stages[0].needs_whole_input

    @property
    def _runs_tasks(self) -> bool:
        return any(stage.runs_tasks for stage in self._streaming_stages)

    @property
    def _element_type(self) -> object | None:
        return self._streaming_stages[-1].element_type

    def _monoid_after(self, upstream: Monoid[Any] | None, /) -> Monoid[Any] | None:
        return _through(self._streaming_stages, upstream)

    def _monoid_for_input(self, value: In, /) -> Monoid[Any] | None:
        first, *rest = self._streaming_stages
        return _through(rest, first._monoid_for_input(value))


def _through(
    stages: tuple[StreamingAgent[Any, Any], ...] | list[StreamingAgent[Any, Any]],
    monoid: Monoid[Any] | None,
) -> Monoid[Any] | None:
    """How the deltas accumulate after ``stages``, when they accumulate with ``monoid`` before."""
    for stage in stages:
        monoid = stage.monoid_after(monoid)
    return monoid


def _chain(
    stages: tuple[StreamingAgent[Any, Any], ...] | list[StreamingAgent[Any, Any]],
    iterator: AsyncIterator[Any],
    monoid: Monoid[Any] | None,
    run: Run,
) -> AsyncIterator[Any]:
    """Feed each stage from the deltas of the one before; a run of per-delta maps is one step."""
    index = 0
    while index < len(stages):
        stage = stages[index]
        function = stage._delta_function
        if function is None:
            iterator = stage._feed(iterator, monoid, run)
            monoid = stage.monoid_after(monoid)
        else:
            functions = [function]
            monoid = stage.monoid_after(monoid)
            while index + 1 < len(stages):
                following = stages[index + 1]
                function = following._delta_function
                if function is None:
                    break
                functions.append(function)
                monoid = following.monoid_after(monoid)
                index += 1
            iterator = run.opened(mapped(functions, iterator))
        index += 1
    return iterator


@final
@frozen(repr=False)
class FallibleSequence(Fallible[In, Out, Err], metaclass=NoPublicConstructor):
    """Fallible agents in sequence, stopping at the first ``Failure`` (flat, like `Pipeline`)."""

    _built_by = "fallible >> fallible"

    stages: tuple[Fallible[Any, Any, Any], ...]

    async def invoke(self, value: In, /) -> Result[Out, Err]:
        result: Result[Any, Any] = Success(value)
        for stage in self.stages:
            if not isinstance(result, Success):
                break
            result = await stage.invoke(result.unwrap())
        return result

    @property
    def input_type(self) -> object | None:
        return self.stages[0].input_type

    def describe(self) -> Node:
        return Node("result_sequence", "", tuple(stage.describe() for stage in self.stages))


def compose(left: Agent[Any, Any], right: Agent[Any, Any]) -> Agent[Any, Any]:
    """``left >> right``, the one rule of sequence:

    * the identity vanishes: ``Id >> f`` and ``f >> Id`` are ``f``;
    * when either side streams, the result is a streaming pipeline, the plain side lifted;
    * where two fallible agents meet, they compose by short-circuiting (Kleisli), however the
      pipelines around them were grouped;
    * anything else is a flat :class:`Pipeline`.

    Raises:
        CompositionError: ``right`` is not an agent, or the annotations of ``left``'s output and
            ``right``'s input certainly disagree.
    """
    if not isinstance(right, Agent):
        raise CompositionError(
            f"{left!r} >> {right!r}: the right operand is not an Agent (decorate a function "
            "with @agent to make one)"
        )
    if isinstance(left, Identity):
        return right
    if isinstance(right, Identity):
        return left
    if isinstance(left, StreamingAgent) or isinstance(right, StreamingAgent):
        _check(left, whole_type(left), right)
        stages = _streaming_stages(left) + _streaming_stages(right)
        return create(Lifted, create(Pipeline, stages))
    *before, last = _plain_stages(left)
    first, *after = _plain_stages(right)
    if isinstance(last, Fallible) and isinstance(first, Fallible):
        # (p >> f') >> g' is p >> (f' >> g'): the fallible agents compose wherever they meet.
        joined = (*before, _kleisli(last, first), *after)
        return joined[0] if len(joined) == 1 else create(Pipeline, joined)
    _check(left, left.output_type, right)
    return create(Pipeline, (*before, last, first, *after))


def _check(left: Agent[Any, Any], produced: object, right: Agent[Any, Any]) -> None:
    """The run-time type check of ``left >> right``, naming the operands as they are written."""
    check_compatible(
        operand(left.describe(), "sequence", first=True),
        produced,
        operand(right.describe(), "sequence", first=False),
        right.input_type,
    )


def _kleisli(left: Fallible[Any, Any, Any], right: Fallible[Any, Any, Any]) -> Agent[Any, Any]:
    before = left.stages if isinstance(left, FallibleSequence) else (left,)
    after = right.stages if isinstance(right, FallibleSequence) else (right,)
    success = before[-1].agent.output_type if isinstance(before[-1], Catching) else None
    _check(left, success, right)
    return create(FallibleSequence, (*before, *after))


def _plain_stages(agent: Agent[Any, Any]) -> tuple[Agent[Any, Any], ...]:
    return agent.stages if isinstance(agent, Pipeline) else (agent,)


def _streaming_stages(agent: Agent[Any, Any]) -> tuple[StreamingAgent[Any, Any], ...]:
    """The stages ``agent`` adds to a streaming pipeline: its own when it is one (so pipelines
    stay flat), itself when it streams, else ``lift(agent)``, one whole-input stage."""
    if isinstance(agent, Lifted) and agent.given_monoid is None:
        inner = agent.agent
        if isinstance(inner, Pipeline) and inner.streams:
            return inner._streaming_stages
    if isinstance(agent, StreamingAgent):
        return (agent,)
    return (create(Lifted, agent),)
