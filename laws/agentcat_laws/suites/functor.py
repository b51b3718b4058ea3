"""Streaming functor laws (S0-S2): lifting an agent preserves its value, the identity and
composition, up to chunk boundaries.

``S_c(f)`` is ``f`` lifted with chunking policy ``c``: its output produced as the deltas ``c``
cuts it into (see :class:`agentcat_laws.instruments.Chunked`); ``q`` is the accumulation of a
stream. A plain agent cannot be run chunk-wise itself, so these laws are how its streaming use
is checked.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from agentcat_laws.instruments import Chunked, monoid_of_value
from agentcat_laws.law import Example, Law, LawSuite, Verdict
from agentcat_laws.observe import Outcome, outcome, show
from agentcat_laws.scope import Scope
from agentcat_laws.strategies import ChunkPlan, chunk_plans, split
from agentcat_laws.suites._common import (
    AnyAgent,
    compose,
    equal,
    examples,
    input_monoid,
    model,
)

__all__ = ["FUNCTOR"]

SUITE = "streaming functor"


def _examples(
    scope: Scope, names: tuple[str, ...], plans: tuple[str, ...]
) -> st.SearchStrategy[Example]:
    return examples(scope, names, extra={plan: chunk_plans() for plan in plans})


def _lifted(scope: Scope, agent: AnyAgent, plan: ChunkPlan, value: Outcome) -> AnyAgent:
    """``S_c(agent)``, accumulating with the monoid of the value it is known to give."""
    monoid = scope.output_monoid or monoid_of_value(value.value)
    return scope.combinators.lift(Chunked(agent, plan), monoid)


def _cut(value: Outcome, plan: ChunkPlan) -> tuple[str, str]:
    deltas: Any = split(value.value, plan) if not value.failed else "-"
    return ("deltas", show(deltas))


async def _soundness(scope: Scope, e: Example) -> Verdict:
    right = await outcome(e["f"], e["x"])
    left = await outcome(lambda: _lifted(scope, e["f"], e["c"], right), e["x"])
    return equal(left, right, _cut(right, e["c"]))


async def _identity(scope: Scope, e: Example) -> Verdict:
    x = e["x"]
    lifted = scope.combinators.lift(
        Chunked(scope.combinators.identity, e["c"]), input_monoid(scope, x)
    )
    return equal(await outcome(lifted, x), Outcome(x), _cut(Outcome(x), e["c"]))


async def _composition(scope: Scope, e: Example) -> Verdict:
    f, g, x = e["f"], e["g"], e["x"]
    middle = await outcome(f, x)
    final = await model(scope, [f, g], x)
    left = await outcome(lambda: _lifted(scope, compose(scope, f, g), e["c1"], final), x)
    right_agent = compose(
        scope, _lifted(scope, f, e["c2"], middle), _lifted(scope, g, e["c3"], final)
    )
    right = await outcome(right_agent, x)
    return equal(left, right, _cut(middle, e["c2"]), ("f(x)", show(middle)))


def _plain(scope: Scope) -> bool:
    return not scope.streaming


FUNCTOR = LawSuite(
    name=SUITE,
    title="streaming functor laws of lift",
    kinds=frozenset({"agent", "combinators"}),
    laws=(
        Law(
            "S0",
            "soundness",
            "q ∘ S_c(f) ≡ f, for every chunking policy c",
            SUITE,
            lambda scope: _examples(scope, ("f",), ("c",)),
            _soundness,
            sides=("q(S_c(f)(x))", "f(x)"),
            applies=_plain,
        ),
        Law(
            "S1",
            "identity",
            "q ∘ S_c(Id) ≡ Id",
            SUITE,
            lambda scope: _examples(scope, (), ("c",)),
            _identity,
            sides=("q(S_c(Id)(x))", "x"),
            applies=_plain,
        ),
        Law(
            "S2",
            "composition",
            "q ∘ S_c1(f >> g) ≡ q ∘ (S_c2(f) >> S_c3(g)), chunkings drawn independently",
            SUITE,
            lambda scope: _examples(scope, ("f", "g"), ("c1", "c2", "c3")),
            _composition,
            sides=("q(S_c1(f >> g)(x))", "q((S_c2(f) >> S_c3(g))(x))"),
            applies=_plain,
        ),
    ),
)
