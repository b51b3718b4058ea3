"""Sequence, ``>>``: the rule :func:`compose`, the :class:`Pipeline` it builds, plain or streaming,
and :class:`FallibleSequence`, the Kleisli composition of fallible agents."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Any, TypeVar, final

from attrs import frozen
from returns.result import Result, Success

from agentcat._annotations import compatible, mismatch
from agentcat._meta import NoPublicConstructor, create
from agentcat._runtime import Deferred, Run, accumulate, stepped
from agentcat._structure import Node, Walk, operand
from agentcat.agent import Agent, Composite, Identity
from agentcat.errors import CompositionError
from agentcat.fallible import Catching, Fallible
from agentcat.monoids import Monoid
from agentcat.streaming import Combinator, Lifted, StreamingAgent, walk_whole_type, whole_type

__all__ = ["FallibleSequence", "Pipeline", "compose"]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)
Err = TypeVar("Err", covariant=True)


@final
@frozen(repr=False)
class Pipeline(Combinator[In, Out], metaclass=NoPublicConstructor):
    """Agents run one after the other, each on the output of the one before.

    Always flat: ``(f >> g) >> h`` and ``f >> (g >> h)`` are the same pipeline, equal by ``==``,
    when the stages are all plain or all streaming. A plain agent that meets a streaming one is
    lifted as one whole-input stage, so ``s >> (a >> b)`` has one such stage where
    ``(s >> a) >> b`` has two: another structure, the same stream.
    With streaming stages, each is fed from the deltas of the one before, so a chain of
    transducers moves every token to the end before the first stage makes the next; a run of
    consecutive per-delta maps is fused into one step (the functor law
    ``map(f) >> map(g) = map(g ∘ f)``), so such stages cost a function call per token each.
    """

    _built_by = "f >> g"

    stages: tuple[Agent[Any, Any], ...]

    @functools.cached_property
    def streams(self) -> bool:
        return isinstance(self.stages[0], StreamingAgent)

    async def invoke(self, value: In, /) -> Out:
        if self.streams:
            return await self._whole(value)
        result: Any = value
        for stage in self.stages:
            result = await stage.invoke(result)
        return result  # type: ignore[no-any-return]

    def _walk_input(self) -> Walk[object | None]:
        found: object | None = yield self.stages[0]._walk_input()
        return found

    def _walk_output(self) -> Walk[object | None]:
        found: object | None = yield walk_whole_type(self.stages[-1])
        return found

    def _walk_node(self) -> Walk[Node]:
        nodes: list[Node] = []
        for stage in self.stages:
            nodes.append((yield stage._walk_node()))
        return Node("sequence", "", tuple(nodes))

    def _open(self, value: In, run: Run, /) -> AsyncIterator[Any]:
        first = self._streaming_stages[0]
        return _chain(
            self._after_first, first._open(value, run), first._monoid_for_input(value), run
        )

    def _feed(
        self, source: AsyncIterator[Any], monoid: Monoid[Any] | None, run: Run, /
    ) -> AsyncIterator[Any]:
        return _chain(self._all, source, monoid, run)

    # How the stages are run is decided by their structure alone, so once per pipeline: the
    # plan for the stages after the first (opened on a value) and for all of them (fed).
    @functools.cached_property
    def _after_first(self) -> list[Segment]:
        return _segments(self._streaming_stages[1:])

    @functools.cached_property
    def _all(self) -> list[Segment]:
        return _segments(self._streaming_stages)

    def _monoid_for_input(self, value: In, /) -> Monoid[Any] | None:
        """The first stage's monoid for ``value``, carried through the rest: the rest only
        depends on that monoid, so it is worked out once for each."""
        first = self._streaming_stages[0]
        upstream = first._monoid_for_input(value)
        known = self._monoids_after_first
        try:
            return known[upstream]
        except KeyError:
            found = known[upstream] = _through(self._streaming_stages[1:], upstream)
        except TypeError:  # a monoid that cannot be hashed (a user's, say): not kept
            found = _through(self._streaming_stages[1:], upstream)
        return found

    @functools.cached_property
    def _monoids_after_first(self) -> dict[Monoid[Any] | None, Monoid[Any] | None]:
        return {}

    @property
    def _streaming_stages(self) -> tuple[StreamingAgent[Any, Any], ...]:
        return self.stages  # type: ignore[return-value]  # `streams`: every stage streams

    def _walk_whole(self) -> Walk[bool]:
        found: bool = yield self._streaming_stages[0]._walk_whole()
        return found

    def _walk_tasks(self) -> Walk[bool]:
        for stage in self._streaming_stages:
            if (yield stage._walk_tasks()):
                return True
        return False

    def _walk_element(self) -> Walk[object | None]:
        found: object | None = yield self._streaming_stages[-1]._walk_element()
        return found

    def _walk_monoid(self, upstream: Monoid[Any] | None, /) -> Walk[Monoid[Any] | None]:
        monoid = upstream
        for stage in self._streaming_stages:
            monoid = yield stage._walk_monoid(monoid)
        return monoid

    def _walk_input_monoid(self, value: In, /) -> Walk[Monoid[Any] | None]:
        first, *rest = self._streaming_stages
        monoid: Monoid[Any] | None = yield first._walk_input_monoid(value)
        for stage in rest:
            monoid = yield stage._walk_monoid(monoid)
        return monoid


def _through(
    stages: tuple[StreamingAgent[Any, Any], ...] | list[StreamingAgent[Any, Any]],
    monoid: Monoid[Any] | None,
) -> Monoid[Any] | None:
    """How the deltas accumulate after ``stages``, when they accumulate with ``monoid`` before."""
    for stage in stages:
        monoid = stage.monoid_after(monoid)
    return monoid


def _chain(
    segments: list[Segment], iterator: AsyncIterator[Any], monoid: Monoid[Any] | None, run: Run
) -> AsyncIterator[Any]:
    """Feed each stage from the deltas of the one before, by the plan :func:`_segments` made.

    A whole-input stage cannot start before its input has ended, so the stages before it are
    drained first: the chain is run as *segments*, one after the other, each cut at a run of
    whole-input stages, and only the last one streams to the reader. So a long pipeline is only
    as deep, in the stack, as its longest run of transducers."""
    if len(segments) == 1 and not segments[0][0]:
        return _linked(segments[0][1], iterator, monoid, run)
    return Deferred(functools.partial(_run_segments, segments, iterator, monoid, run))


Segment = tuple[
    tuple[StreamingAgent[Any, Any], ...],  # whole-input stages, given each the whole before
    tuple[StreamingAgent[Any, Any], ...],  # then the stages that take their input as it comes
]


def _segments(stages: tuple[StreamingAgent[Any, Any], ...]) -> list[Segment]:
    """The plan of a chain: its stages cut into segments (see :func:`_chain`)."""
    segments: list[Segment] = []
    wholes: list[StreamingAgent[Any, Any]] = []
    then: list[StreamingAgent[Any, Any]] = []
    for stage in stages:
        if stage.needs_whole_input:
            if then:
                segments.append((tuple(wholes), tuple(then)))
                wholes, then = [], []
            wholes.append(stage)
        else:
            then.append(stage)
    segments.append((tuple(wholes), tuple(then)))
    return segments


def _linked(
    stages: tuple[StreamingAgent[Any, Any], ...],
    iterator: AsyncIterator[Any],
    monoid: Monoid[Any] | None,
    run: Run,
) -> AsyncIterator[Any]:
    """Stages that take their input as it comes, each fed from the one before; a forwarder is
    left out, and consecutive per-delta maps and filters are one step (the laws allow both)."""
    index = 0
    while index < len(stages):
        stage = stages[index]
        end = index + 1
        if stage._delta_step is not None:
            while end < len(stages) and (stages[end]._delta_step or stages[end]._forwards):
                end += 1
            steps = [s._delta_step for s in stages[index:end] if s._delta_step is not None]
            iterator = run.opened(stepped(steps, iterator))
        elif not stage._forwards:
            iterator = stage._feed(iterator, monoid, run)
        monoid = _through(stages[index:end], monoid)
        index = end
    return iterator


async def _run_segments(
    segments: list[Segment], source: AsyncIterator[Any], monoid: Monoid[Any] | None, run: Run
) -> AsyncIterator[Any]:
    """A chain run as segments (see :func:`_chain`): every segment but the last is drained
    into the whole input of the next one, in a loop; the last one streams."""
    for wholes, then in segments:
        if wholes:
            value = await accumulate(source, monoid)
            *before, last = wholes
            for stage in before:
                value = await accumulate(stage._open(value, run), stage._monoid_for_input(value))
            source, monoid = last._open(value, run), last._monoid_for_input(value)
        source = _linked(then, source, monoid, run)
        monoid = _through(then, monoid)
    return source


@final
@frozen(repr=False)
class FallibleSequence(
    Fallible[In, Out, Err], Composite[In, Result[Out, Err]], metaclass=NoPublicConstructor
):
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

    def _walk_input(self) -> Walk[object | None]:
        found: object | None = yield self.stages[0]._walk_input()
        return found

    def _walk_output(self) -> object | None:
        return None  # the error types of the stages are not known at run time

    def _walk_node(self) -> Walk[Node]:
        nodes: list[Node] = []
        for stage in self.stages:
            nodes.append((yield stage._walk_node()))
        return Node("result_sequence", "", tuple(nodes))


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
    """The run-time type check of ``left >> right``, naming the operands as they are written
    (only when they disagree: writing them costs a walk of both).

    Raises:
        CompositionError: the annotations certainly disagree.
    """
    expected = right.input_type
    if not compatible(produced, expected):
        raise mismatch(
            operand(left.describe(), "sequence", first=True),
            produced,
            operand(right.describe(), "sequence", first=False),
            expected,
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
