"""What the suites share: drawing chains of agents and chunked inputs, and running a chain as
its model (each stage invoked on the previous one's value)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import strategies as st
from returns.result import Failure, Result, Success

from agentcat import Agent, Monoid
from agentcat_laws.instruments import monoid_of_value
from agentcat_laws.law import Example, Verdict
from agentcat_laws.observe import Outcome, resolve
from agentcat_laws.scope import Scope
from agentcat_laws.strategies import chunk_plans, split

__all__ = [
    "AnyAgent",
    "chunked_input",
    "compose",
    "equal",
    "examples",
    "input_monoid",
    "model",
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
