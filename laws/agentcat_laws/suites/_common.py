"""What the suites share: drawing chains of agents and chunked inputs, and running a chain as
its model (each stage invoked on the previous one's value).

The laws that compare a composite with a *reference* draw their agents plain
(:func:`plain_examples`): a generated streaming stage is drawn as :class:`Streamed` data, a
program and a chunking, so that the law builds ``S_c(program)`` with the scope's ``lift``
(:func:`built`) and computes the reference with the program itself (:func:`plain`), never with
the code under test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from attrs import frozen
from hypothesis import strategies as st
from returns.result import Failure, Result, Success

from agentcat import STR, Agent, Monoid
from agentcat_laws.instruments import Chunked, monoid_of_value
from agentcat_laws.law import Example, Verdict
from agentcat_laws.observe import Outcome, resolve
from agentcat_laws.programs import Program, programs
from agentcat_laws.scope import Scope
from agentcat_laws.strategies import ChunkPlan, chunk_plans, split

__all__ = [
    "AnyAgent",
    "Streamed",
    "built",
    "chunked_input",
    "compose",
    "equal",
    "examples",
    "input_monoid",
    "model",
    "plain",
    "plain_examples",
    "reference",
]

AnyAgent = Agent[Any, Any]


_PLANS = chunk_plans()


def examples(
    scope: Scope,
    names: Sequence[str] = (),
    *,
    fallible: bool = False,
    extra: Mapping[str, st.SearchStrategy[Any]] | None = None,
    inputs: st.SearchStrategy[Any] | None = None,
    chunking: bool = False,
) -> st.SearchStrategy[Example]:
    """Examples of a law: agents named ``names`` in a chain (the subject in one place, the
    first unless it maps text to text, companions in the others; all fallible, with
    ``fallible`` or when the subject is), then the ``extra`` values,
    the input ``x`` (from ``inputs``, by default the scope's), and with ``chunking`` a list of
    deltas that accumulate to ``x``. The strategies are built once, here, not per example."""
    fallible = fallible or scope.fallible
    primary = scope.fallible_primary() if fallible else scope.primary()
    others = scope.fallible_companions() if fallible else scope.companions()
    return _drawn(scope, names, primary, others, extra, inputs, chunking)


def _drawn(
    scope: Scope,
    names: Sequence[str],
    primary: st.SearchStrategy[Any],
    others: st.SearchStrategy[Any],
    extra: Mapping[str, st.SearchStrategy[Any]] | None,
    inputs: st.SearchStrategy[Any] | None,
    chunking: bool,
) -> st.SearchStrategy[Example]:
    position = scope.position(len(names)) if names else st.just(0)
    more = dict(extra or {})
    values = inputs if inputs is not None else scope.inputs

    @st.composite
    def build(draw: st.DrawFn) -> Example:
        place = draw(position)
        example: Example = {
            name: draw(primary if i == place else others) for i, name in enumerate(names)
        }
        example.update({name: draw(strategy) for name, strategy in more.items()})
        example["x"] = x = draw(values)
        if chunking:
            example["chunking"] = split(x, draw(_PLANS))
        return example

    return build()


@frozen(repr=False)
class Streamed:
    """A generated streaming stage as data: ``program`` with its output cut by ``plan``,
    ``S_plan(program)`` once :func:`built` lifts it."""

    program: Program
    plan: ChunkPlan

    def __repr__(self) -> str:
        return f"S[{self.plan!r}]({self.program!r})"


def plain_examples(
    scope: Scope,
    names: Sequence[str],
    *,
    extra: Mapping[str, st.SearchStrategy[Any]] | None = None,
    inputs: st.SearchStrategy[Any] | None = None,
) -> st.SearchStrategy[Example]:
    """Examples as :func:`examples` draws them, with every agent but the subject drawn plain:
    programs (:class:`Streamed` ones for streaming combinators), or companions not yet lifted.
    :func:`built` makes each what the law composes, :func:`plain` what its reference runs."""
    if scope.generated:
        stage: st.SearchStrategy[Any] = programs()
        if scope.combinators.streaming:
            stage = st.builds(Streamed, programs(), chunk_plans())
        return _drawn(scope, names, stage, stage, extra, inputs, False)
    others = scope.fallible_companions() if scope.fallible else scope.plain_companions()
    return _drawn(scope, names, st.just(scope.subject), others, extra, inputs, False)


def built(scope: Scope, drawn: Any) -> AnyAgent:
    """The agent a law composes for a value of :func:`plain_examples`: the subject as it is,
    ``S_c(program)`` lifted by the scope's ``lift``, a companion made of the scope's kind."""
    if isinstance(drawn, Streamed):
        return scope.combinators.lift(Chunked(drawn.program, drawn.plan), STR)
    if not scope.generated and drawn is not scope.subject and not scope.fallible:
        return scope.adapt(drawn)
    return drawn  # type: ignore[no-any-return]


def plain(drawn: Any) -> AnyAgent:
    """The plain agent a reference runs for a value of :func:`plain_examples`."""
    return drawn.program if isinstance(drawn, Streamed) else drawn


async def reference(scope: Scope, drawn: Sequence[Any], x: object) -> Outcome:
    """What the plain agents compute in sequence (see :func:`model`)."""
    return await model(scope, [plain(value) for value in drawn], x)


def chunked_input(scope: Scope) -> st.SearchStrategy[Example]:
    """An input ``x`` and a ``chunking`` of it (a list of deltas that accumulate to ``x``)."""
    return examples(scope, chunking=True)


def input_monoid(scope: Scope, value: object) -> Monoid[Any]:
    """How a chunked input accumulates: as the user said, else as its type says."""
    return scope.input_monoid or monoid_of_value(value)


def compose(scope: Scope, *stages: AnyAgent) -> AnyAgent:
    """The stages in sequence with the scope's ``>>`` (its Kleisli ``>>`` when fallible)."""
    combine = scope.combinators.kleisli if scope.fallible else scope.combinators.compose
    result = stages[0]
    for stage in stages[1:]:
        result = combine(result, stage)
    return result


async def model(scope: Scope, stages: Sequence[AnyAgent], x: object) -> Outcome:
    """What the stages compute in sequence, by definition: each invoked on the value of the one
    before (streams accumulated); for fallible stages, on the success value, stopping at the
    first failure."""
    try:
        if scope.fallible:
            result: Result[Any, Any] = Success(x)
            for stage in stages:
                if isinstance(result, Failure):
                    break
                result = await stage.invoke(result.unwrap())
            return Outcome(result)
        value: Any = x
        for stage in stages:
            value = await resolve(await stage.invoke(value))
        return Outcome(value)
    except Exception as error:
        return Outcome(error=error)


def equal(left: Outcome, right: Outcome, *details: tuple[str, str]) -> Verdict:
    """The verdict of an equation: both sides gave the same value (or the same failure)."""
    return Verdict(left == right, left, right, details)
