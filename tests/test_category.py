"""Category laws of ``>>`` (C1-C3), checked by value on generated inputs and by structure.

The agents are generated programs (see :mod:`agentcat_laws.programs`), so a ``>>`` that ran its
stages in another order, or one of them twice, is caught; each composite is also compared with
its model, the plain function it must compute.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from agentcat_laws import Op, Program, programs, texts
from hypothesis import given
from hypothesis import strategies as st

from agentcat import Agent, FallibleSequence, Id, Pipeline
from tests.helpers import Counted
from tests.strategies import (
    Modelled,
    ModelledFallible,
    composite_agents,
    fallible_agents,
    kleisli_model,
)

A = Agent[Any, Any]

BRACKETINGS: dict[str, Callable[[A, A, A, A], A]] = {
    "((fg)h)k": lambda f, g, h, k: ((f >> g) >> h) >> k,
    "(f(gh))k": lambda f, g, h, k: (f >> (g >> h)) >> k,
    "(fg)(hk)": lambda f, g, h, k: (f >> g) >> (h >> k),
    "f((gh)k)": lambda f, g, h, k: f >> ((g >> h) >> k),
    "f(g(hk))": lambda f, g, h, k: f >> (g >> (h >> k)),
}


def chained(*programs: Program) -> Program:
    """The model of ``programs`` in sequence: one program with all their operations."""
    return Program(tuple(op for program in programs for op in program.ops))


# --- sequence semantics: the order of the stages ------------------------------------------


@pytest.mark.anyio
@given(programs(), programs(), texts())
async def test_sequence_runs_left_then_right(f: Program, g: Program, x: str) -> None:
    assert await (f >> g).invoke(x) == g.run(f.run(x))


@pytest.mark.anyio
@given(composite_agents(), texts())
async def test_composites_compute_their_model(modelled: Modelled, x: str) -> None:
    composite, model = modelled
    assert await composite.invoke(x) == model.run(x)


@pytest.mark.anyio
@given(programs(), programs(), texts())
async def test_each_stage_runs_once_on_the_previous_output(f: Program, g: Program, x: str) -> None:
    counted_f, counted_g = Counted(f), Counted(g)
    await (counted_f >> counted_g).invoke(x)
    assert counted_f.inputs == [x]
    assert counted_g.inputs == [f.run(x)]


# --- C1, C2: identity -----------------------------------------------------------------------


@pytest.mark.anyio
@given(composite_agents(), texts())
async def test_c1_left_identity(modelled: Modelled, x: str) -> None:
    f, _ = modelled
    assert await (Id >> f).invoke(x) == await f.invoke(x)
    assert Id >> f == f


@pytest.mark.anyio
@given(composite_agents(), texts())
async def test_c2_right_identity(modelled: Modelled, x: str) -> None:
    f, _ = modelled
    assert await (f >> Id).invoke(x) == await f.invoke(x)
    assert f >> Id == f


def test_identity_vanishes_from_compositions() -> None:
    f = Program(())
    assert Id >> f is f
    assert f >> Id is f
    assert Id >> Id is Id


@pytest.mark.anyio
@given(texts() | st.integers() | st.none())
async def test_id_returns_its_input(x: object) -> None:
    assert await Id.invoke(x) is x


# --- C3: associativity ----------------------------------------------------------------------


@pytest.mark.anyio
@given(programs(), programs(), programs(), programs(), texts())
async def test_c3_every_bracketing_of_four_programs(
    f: Program, g: Program, h: Program, k: Program, x: str
) -> None:
    expected = chained(f, g, h, k).run(x)
    for name, bracket in BRACKETINGS.items():
        assert await bracket(f, g, h, k).invoke(x) == expected, name


@pytest.mark.anyio
@given(st.lists(composite_agents(max_leaves=2), min_size=4, max_size=4), texts())
async def test_c3_every_bracketing_of_four_composites(agents: list[Modelled], x: str) -> None:
    (f, mf), (g, mg), (h, mh), (k, mk) = agents
    expected = chained(mf, mg, mh, mk).run(x)
    for name, bracket in BRACKETINGS.items():
        assert await bracket(f, g, h, k).invoke(x) == expected, name


@given(composite_agents(max_leaves=2), composite_agents(max_leaves=2), programs(), programs())
def test_c3_bracketings_are_equal_by_structure(
    f_model: Modelled, g_model: Modelled, h: Program, k: Program
) -> None:
    f, g = f_model[0], g_model[0]
    first, *others = (bracket(f, g, h, k) for bracket in BRACKETINGS.values())
    for other in others:
        assert other == first
        assert hash(other) == hash(first)


def test_sequences_are_flat() -> None:
    f, g, h, k = (Program((Op("append", letter),)) for letter in "abcX")
    assert (f >> g) >> h == f >> (g >> h) == Pipeline((f, g, h))
    assert (f >> g) >> (h >> k) == Pipeline((f, g, h, k))
    assert isinstance(f >> g >> h, Pipeline)


# Any bracketing, with identities anywhere: a tree of `>>` over programs and `Id`.
Tree = tuple[A, tuple[Program, ...]]


def _leaf(agent: Program | None) -> Tree:
    return (Id, ()) if agent is None else (agent, (agent,))


def _join(pair: tuple[Tree, Tree]) -> Tree:
    (left, left_leaves), (right, right_leaves) = pair
    return left >> right, left_leaves + right_leaves


trees: st.SearchStrategy[Tree] = st.recursive(
    st.one_of(st.none(), programs()).map(_leaf),
    lambda inner: st.tuples(inner, inner).map(_join),
    max_leaves=8,
)


@pytest.mark.anyio
@given(trees, texts())
async def test_any_bracketing_with_identities_is_the_flat_sequence(tree: Tree, x: str) -> None:
    agent, leaves = tree
    assert await agent.invoke(x) == chained(*leaves).run(x)
    if not leaves:
        assert agent is Id
    elif len(leaves) == 1:
        assert agent == leaves[0]
    else:
        assert agent == Pipeline(leaves)


# --- the same laws for fallible agents (Kleisli composition) --------------------------------


@pytest.mark.anyio
@given(st.lists(fallible_agents(), min_size=4, max_size=4), texts())
async def test_kleisli_c3_every_bracketing(modelled: list[ModelledFallible], x: str) -> None:
    agents, models = zip(*modelled, strict=True)
    expected = kleisli_model(list(models), x)
    composed = [bracket(*agents) for bracket in BRACKETINGS.values()]
    for name, agent in zip(BRACKETINGS, composed, strict=True):
        assert isinstance(agent, FallibleSequence), name
        assert agent == composed[0], name
        assert await agent.invoke(x) == expected, name


@pytest.mark.anyio
@given(fallible_agents(), texts())
async def test_kleisli_c1_c2_identity(modelled: ModelledFallible, x: str) -> None:
    f, model = modelled
    assert Id >> f is f
    assert f >> Id is f
    assert await f.invoke(x) == kleisli_model([model], x)


@pytest.mark.anyio
@given(programs(), fallible_agents(), fallible_agents(), texts())
async def test_c3_plain_agent_then_fallible_agents(
    p: Program, f_model: ModelledFallible, g_model: ModelledFallible, x: str
) -> None:
    """``p >> f >> g``, written without parentheses, is ``(p >> f) >> g``: it must mean what
    ``p >> (f >> g)`` means (a plain step, then fallible steps that short-circuit)."""
    (f, mf), (g, mg) = f_model, g_model
    right = p >> (f >> g)
    left = (p >> f) >> g  # type: ignore[operator]
    assert await left.invoke(x) == await right.invoke(x) == kleisli_model([mf, mg], p.run(x))
