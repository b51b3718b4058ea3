"""Blind spots of the suite (issue 13 §2): a fused run of adjacent ``map_deltas`` is, delta by
delta, the map of their composite, keeps the lock-step and the stages after it; a pipeline of
whole-input stages gives one chunk, done, carrying the whole value."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import pytest
from agentcat_laws import ChunkPlan, chunk_plans, split, texts
from hypothesis import given
from hypothesis import strategies as st

from agentcat import (
    Chunk,
    StreamingAgent,
    agent,
    filter_deltas,
    forward,
    lift,
    map_deltas,
    transducer,
)
from tests.streams import Gate, Recorder, Tokens, chunked, pinned, run_in_lockstep

pytestmark = pytest.mark.anyio

Shape = list[tuple[Any, bool]]
"""A stream as its deltas and done flags, in order."""


def exclaim(delta: str) -> str:
    return delta + "!"


def bracket(delta: str) -> str:
    return f"[{delta}]"


def reverse(delta: str) -> str:
    return delta[::-1]


def composite(functions: Sequence[Callable[[str], str]]) -> Callable[[str], str]:
    """The functions applied in order, the first first."""

    def apply(delta: str) -> str:
        for function in functions:
            delta = function(delta)
        return delta

    return apply


def test_the_maps_do_not_commute() -> None:
    """Each order of the maps gives another delta, so a fusion in the wrong order is seen."""
    orders = itertools.permutations([exclaim, bracket, reverse])
    assert len({composite(order)("ab") for order in orders}) == 6


async def shape(pipeline: StreamingAgent[Any, Any], value: Any) -> Shape:
    async with pipeline.stream(value) as stream:
        return [(chunk.delta, chunk.done) async for chunk in stream]


def mapped(x: str, c: ChunkPlan, functions: Sequence[Callable[[str], str]]) -> list[str]:
    """The model of maps fed ``x`` cut by ``c``: each delta through the functions in order."""
    return [composite(functions)(delta) for delta in split(x, c)]


def streamed(deltas: list[str]) -> Shape:
    """The model of a stream of non-empty deltas from a source that does not know its end."""
    return [(delta, False) for delta in deltas] + [("", True)]


# --- adjacent map_deltas, fused -----------------------------------------------------------------

RUNS: dict[str, tuple[StreamingAgent[str, str], list[Callable[[str], str]]]] = {
    "two maps": (map_deltas(exclaim) >> map_deltas(bracket), [exclaim, bracket]),
    "three maps": (
        map_deltas(exclaim) >> map_deltas(bracket) >> map_deltas(reverse),
        [exclaim, bracket, reverse],
    ),
    "a forward between": (
        map_deltas(bracket) >> forward >> map_deltas(exclaim),
        [bracket, exclaim],
    ),
}


@pytest.mark.parametrize("name", RUNS)
@pinned
@given(x=texts(), c=chunk_plans())
async def test_adjacent_maps_are_the_map_of_their_composite(
    name: str, x: str, c: ChunkPlan
) -> None:
    """``map(f) >> map(g)`` gives the deltas and done flags of ``map(g ∘ f)``, and of the model:
    fed ``x`` cut by ``c``, and opened on ``x`` whole (one delta)."""
    run, functions = RUNS[name]
    one = map_deltas(composite(functions))
    fused = await shape(chunked(c) >> run, x)
    assert fused == await shape(chunked(c) >> one, x)
    assert fused == streamed(mapped(x, c, functions))
    assert await shape(run, x) == await shape(one, x) == streamed([composite(functions)(x)])


@transducer
async def angle(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
    async for delta in deltas:
        yield f"<{delta}>"


def odd(delta: str) -> bool:
    return len(delta) % 2 == 1


def shout(text: str) -> str:
    return text.upper() + "."


AFTER: dict[str, tuple[StreamingAgent[str, str], Callable[[list[str]], Shape]]] = {
    "a transducer": (angle, lambda deltas: streamed([f"<{d}>" for d in deltas])),
    "a forward, then a transducer": (
        forward >> angle,
        lambda deltas: streamed([f"<{d}>" for d in deltas]),
    ),
    "a filter": (filter_deltas(odd), lambda deltas: streamed([d for d in deltas if odd(d)])),
    "a whole-input stage": (lift(agent(shout)), lambda deltas: [(shout("".join(deltas)), True)]),
    "a transducer, then maps": (
        angle >> map_deltas(reverse) >> map_deltas(bracket),
        lambda deltas: streamed([bracket(reverse(f"<{d}>")) for d in deltas]),
    ),
}


@pytest.mark.parametrize("name", AFTER)
@pinned
@given(x=texts(), c=chunk_plans())
async def test_the_stages_after_a_fused_run_are_kept(name: str, x: str, c: ChunkPlan) -> None:
    """``map(f) >> map(g) >> t`` runs ``t`` on the fused deltas."""
    after, model = AFTER[name]
    pipeline = chunked(c) >> map_deltas(exclaim) >> map_deltas(bracket) >> after
    assert await shape(pipeline, x) == model(mapped(x, c, [exclaim, bracket]))


Stages = Callable[[StreamingAgent[str, str]], StreamingAgent[str, str]]

LOCKSTEP: dict[str, tuple[Stages, Callable[[str], str]]] = {
    "two maps": (
        lambda producer: producer >> map_deltas(exclaim) >> map_deltas(bracket),
        composite([exclaim, bracket]),
    ),
    "three maps": (
        lambda producer: (
            producer >> map_deltas(exclaim) >> map_deltas(bracket) >> map_deltas(reverse)
        ),
        composite([exclaim, bracket, reverse]),
    ),
    "three maps, then a transducer": (
        lambda producer: (
            producer >> map_deltas(exclaim) >> map_deltas(bracket) >> map_deltas(reverse) >> angle
        ),
        lambda token: f"<{composite([exclaim, bracket, reverse])(token)}>",
    ),
}


@pytest.mark.parametrize("name", LOCKSTEP)
async def test_a_fused_run_stays_in_lockstep(name: str) -> None:
    """The gate releases token k+1 only once the consumer holds token k: a fused run that
    reads ahead deadlocks it."""
    stages, through = LOCKSTEP[name]
    gate = Gate(20)
    received = await run_in_lockstep(gate, stages(gate))
    assert received == [through(f"t{index} ") for index in range(20)]


@pytest.mark.parametrize("name", LOCKSTEP)
async def test_a_fused_run_asks_for_a_delta_only_once_the_one_before_arrived(name: str) -> None:
    """When the consumer receives delta k, the producer has made k + 1 of them, no more."""
    stages, through = LOCKSTEP[name]
    record = Recorder()
    tokens = [f"t{index} " for index in range(20)]
    made: list[int] = []
    async with stages(Tokens(tokens, record)).stream("go") as stream:
        async for chunk in stream:
            if chunk.delta:
                assert chunk.delta == through(tokens[len(made)])
                made.append(len(record.produced))
    assert made == list(range(1, 21))
    assert record.finished


# --- whole-input pipelines: one chunk -----------------------------------------------------------


def tag(text: str) -> str:
    return "<" + text


def twice(text: str) -> str:
    return text + text


def words(text: str) -> list[str]:
    return text.split()


def ordered(items: list[str]) -> list[str]:
    return sorted(items)


WHOLE_INPUT: dict[str, tuple[StreamingAgent[str, Any], Callable[[str], Any]]] = {
    "lift(f) >> lift(g)": (lift(agent(tag)) >> lift(agent(twice)), lambda x: twice(tag(x))),
    "lift(f >> g)": (lift(agent(tag) >> agent(twice)), lambda x: twice(tag(x))),
    "lift(f) >> g": (lift(agent(tag)) >> agent(twice), lambda x: twice(tag(x))),
    "three stages": (
        lift(agent(tag)) >> lift(agent(twice)) >> lift(agent(tag)),
        lambda x: tag(twice(tag(x))),
    ),
    "lists": (lift(agent(words)) >> lift(agent(ordered)), lambda x: ordered(words(x))),
}


@pytest.mark.parametrize("name", WHOLE_INPUT)
@given(x=texts() | st.sampled_from(["", "b a c", "naïve café ☕"]))
async def test_a_pipeline_of_whole_input_stages_gives_one_chunk(name: str, x: str) -> None:
    """Each stage waits for the whole value before it: the pipeline's stream is one chunk,
    done, whose delta and accumulated value are the whole output."""
    pipeline, model = WHOLE_INPUT[name]
    whole = model(x)
    async with pipeline.stream(x) as stream:
        chunks = [chunk async for chunk in stream]
    assert chunks == [Chunk(whole, whole, True)]
    assert await pipeline.stream(x) == whole
