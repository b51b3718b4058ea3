"""Sequence, ``>>`` (``agentcat.sequence``): the category laws C1-C3 by value and by structure,
Kleisli composition, and the one rule whichever side streams.

The agents are generated programs (see :mod:`agentcat_laws.programs`), so a ``>>`` that ran its
stages in another order, or one of them twice, is caught; each composite is also compared with
its model, the plain function it must compute.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from agentcat_laws import Op, Program, programs, texts
from hypothesis import given
from hypothesis import strategies as st

from agentcat import (
    Agent,
    Id,
    StreamingAgent,
    agent,
    filter_deltas,
    forward,
    lift,
    map_deltas,
    streaming,
    transducer,
)
from agentcat.monoids import Monoid
from agentcat.sequence import FallibleSequence, Pipeline
from agentcat.streaming import Lifted
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
    pipeline = (f >> g) >> h
    assert isinstance(pipeline, Pipeline)
    assert pipeline == f >> (g >> h)
    assert pipeline.stages == (f, g, h)
    assert ((f >> g) >> (h >> k)).stages == (f, g, h, k)  # type: ignore[attr-defined]


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
        assert isinstance(agent, Pipeline)
        assert agent.stages == leaves


# --- the same laws for fallible agents (Kleisli composition) --------------------------------


@pytest.mark.anyio
@given(st.lists(fallible_agents(), min_size=4, max_size=4), texts())
async def test_kleisli_c3_every_bracketing(modelled: list[ModelledFallible], x: str) -> None:
    agents, models = zip(*modelled, strict=True)
    expected = kleisli_model(list(models), x)
    composed = [bracket(*agents) for bracket in BRACKETINGS.values()]
    for name, built in zip(BRACKETINGS, composed, strict=True):
        assert isinstance(built, FallibleSequence), name
        assert built == composed[0], name
        assert await built.invoke(x) == expected, name


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


# --- one rule whichever side streams ----------------------------------------------------------


@agent
def up(text: str) -> str:
    return text.upper()


@agent
def exclaim(text: str) -> str:
    return text + "!"


@streaming
async def model(prompt: str) -> AsyncIterator[str]:
    for word in ("a ", "b ", prompt):
        yield word


@pytest.mark.anyio
async def test_a_plain_agent_on_either_side_of_a_streaming_one_is_lifted() -> None:
    after = model >> up
    before = up >> model
    assert isinstance(after, StreamingAgent)
    assert isinstance(before, StreamingAgent)
    assert [chunk.delta async for chunk in after.stream("c")] == ["A B C"]
    assert [chunk.delta async for chunk in before.stream("c")] == ["a ", "b ", "C", ""]
    assert await (up >> model >> exclaim).stream("c") == "a b C!"


def test_a_lifted_plain_stage_is_written_as_one() -> None:
    assert repr(model >> up) == "model >> lift(up)"
    assert repr(up >> model) == "lift(up) >> model"
    assert model >> up == model >> lift(up)
    assert up >> model == lift(up) >> model


@pytest.mark.anyio
@given(texts())
async def test_streaming_pipelines_are_flat_however_they_are_bracketed(x: str) -> None:
    bracketings = [
        ((model >> up) >> forward) >> exclaim,
        (model >> (up >> forward)) >> exclaim,
        model >> ((up >> forward) >> exclaim),
        model >> (up >> (forward >> exclaim)),
    ]
    for bracketing in bracketings:
        assert isinstance(bracketing, Lifted)
        assert isinstance(bracketing.agent, Pipeline)
        assert bracketing == bracketings[0]
        assert await bracketing.stream(x) == "A B " + x.upper() + "!"


@pytest.mark.anyio
async def test_a_plain_pipeline_next_to_a_streaming_stage_is_one_whole_input_stage() -> None:
    pipeline = (up >> exclaim) >> model
    assert isinstance(pipeline, Lifted)
    assert repr(pipeline) == "lift(up >> exclaim) >> model"
    assert await pipeline.stream("c") == "a b C!"


@pytest.mark.anyio
async def test_the_plain_face_of_a_streaming_pipeline_is_its_whole_value() -> None:
    """``lift(p)`` is the stream of ``p``: ``p`` itself, invoked, gives the stream's value."""
    streamed = model >> forward >> up
    assert isinstance(streamed, Lifted)
    inner = streamed.agent
    assert isinstance(inner, Pipeline)
    assert inner.streams
    assert await inner.invoke("c") == await streamed.stream("c") == "A B C"
    assert inner.output_type is str


def test_pipelines_are_built_by_the_operator_only() -> None:
    with pytest.raises(TypeError, match="write f >> g"):
        Pipeline((up, exclaim))
    with pytest.raises(TypeError, match="lift"):
        Lifted(up)
    with pytest.raises(TypeError, match="fallible >> fallible"):
        FallibleSequence((up.as_result(),))


def test_the_right_operand_must_be_an_agent() -> None:
    with pytest.raises(TypeError, match=r"not an Agent.*@agent"):
        up >> len  # type: ignore[operator]
    with pytest.raises(TypeError, match="not an Agent"):
        model >> "x"  # type: ignore[operator]


# --- scale: far deeper than anyone builds, within Python's own recursion limit ----------------


@streaming
async def two_words(prompt: str) -> AsyncIterator[str]:
    yield "a "
    yield "b "


@transducer
async def passing(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
    async for delta in deltas:
        yield delta


def keep(delta: str) -> bool:
    return True


@pytest.mark.anyio
@pytest.mark.parametrize(
    "kind",
    ["@transducer", "filter_deltas", "map_deltas", "whole-input lift", "forward", "mixed"],
)
async def test_nine_hundred_stages_of_every_kind_run(kind: str) -> None:
    limit = sys.getrecursionlimit()
    kinds: dict[str, list[StreamingAgent[str, str]]] = {
        "@transducer": [passing],
        "filter_deltas": [filter_deltas(keep)],
        "map_deltas": [map_deltas(str.upper)],
        "whole-input lift": [lift(exclaim)],
        "forward": [forward],
        "mixed": [passing, filter_deltas(keep), lift(up), map_deltas(str.lower), forward],
    }
    pipeline: StreamingAgent[str, str] = two_words
    for index in range(900):
        stages = kinds[kind]
        pipeline = pipeline >> stages[index % len(stages)]
    assert len(repr(pipeline)) > 900
    expected = {
        "@transducer": "a b ",
        "filter_deltas": "a b ",
        "map_deltas": "A B ",
        "whole-input lift": "a b " + "!" * 900,
        "forward": "a b ",
        "mixed": "a b ",
    }[kind]
    async with pipeline.stream("") as stream:
        chunks = [chunk async for chunk in stream]
    assert chunks[-1].accumulated == expected
    if kind == "whole-input lift":
        assert len(chunks) == 1  # a pipeline of whole-input stages gives one chunk, done
    assert sys.getrecursionlimit() == limit


# --- the monoid of a run: worked out once for each input monoid ----------------------------


@pytest.mark.anyio
async def test_a_pipeline_accumulates_each_input_with_its_own_monoid() -> None:
    twice: StreamingAgent[Any, Any] = forward >> map_deltas(lambda delta: delta * 2)
    assert await twice.stream("ab") == "abab"
    assert await twice.stream(b"ab") == b"abab"
    assert await twice.stream("cd") == "cdcd"  # the monoid kept for str is str's


class Unhashable:
    """A callable that cannot be hashed, as a user's monoid may hold."""

    __hash__ = None  # type: ignore[assignment]

    def __call__(self) -> str:
        return ""


@pytest.mark.anyio
async def test_a_monoid_that_cannot_be_hashed_still_carries_through_a_pipeline() -> None:
    odd = Monoid("odd", Unhashable(), lambda a, b: a + b, "".join, kind=str)

    @streaming(monoid=odd)
    async def words(text: str) -> AsyncIterator[str]:
        for word in text.split():
            yield word

    pipeline = words >> forward >> map_deltas(str.upper)
    stream = pipeline.stream("a b")
    assert stream.monoid is odd
    assert await stream == "AB"
