"""Transducers (``agentcat.transducers``): soundness S3 of the built-in ones over arbitrary
chunkings, fusion of per-delta maps, and lock-step: through 20 transducers, token k+1 exists only
after token k arrived."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import anyio
import pytest
from agentcat_laws import ChunkPlan, chunk_plans
from agentcat_laws.strategies import EACH, WHOLE
from hypothesis import given
from hypothesis import strategies as st

from agentcat import (
    StreamingAgent,
    filter_deltas,
    forward,
    map_deltas,
    monoids,
    split_sentences,
    transducer,
)
from tests.streams import Gate, accumulate, chunked, pinned, run_in_lockstep

pytestmark = pytest.mark.anyio

TEXT = st.text(max_size=12)


def keep(delta: str) -> bool:
    return bool(delta)


SOUND_TRANSDUCERS: dict[str, StreamingAgent[str, str]] = {
    "forward": forward,
    "map_deltas(upper)": map_deltas(str.upper),
    "split_sentences": split_sentences,
    "filter_deltas(keep)": filter_deltas(keep),
    "twenty stages": forward >> split_sentences >> map_deltas(str.upper) >> forward,
}


@pytest.mark.parametrize("name", SOUND_TRANSDUCERS)
@pinned
@given(
    x=TEXT
    | st.sampled_from(
        ["A b. C d? E! f", "x.\ny. ", "Mr. Smith. Hi", "你好。世界！再见？", "「はい。」次"]
    ),
    c=chunk_plans(),
)
async def test_s3_built_in_transducers_are_sound(name: str, x: str, c: ChunkPlan) -> None:
    """Fed any chunking of x, a transducer's output adds up to its output for x whole."""
    transducer = SOUND_TRANSDUCERS[name]
    assert await accumulate(chunked(c) >> transducer, x) == await accumulate(transducer, x)


def twice(delta: str) -> str:
    return delta * 2


async def test_s3_a_non_homomorphic_map_fed_chunk_wise_is_caught() -> None:
    """The notes' example: duplicating each delta is sound only for one chunk."""
    double = map_deltas(twice)
    whole = await accumulate(chunked(WHOLE) >> double, "a ")
    cut = await accumulate(chunked(ChunkPlan((1,))) >> double, "a ")
    assert (whole, cut) == ("a a ", "aa  ")


# --- lock-step ---------------------------------------------------------------------------------


@transducer
async def tag(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
    async for delta in deltas:
        yield delta.upper()


@transducer
async def hoard(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
    """A stage that buffers: it emits deltas two at a time."""
    held: list[str] = []
    async for delta in deltas:
        held.append(delta)
        if len(held) == 2:
            yield "".join(held)
            held.clear()
    if held:
        yield "".join(held)


def twenty_stages(
    gate: Gate, middle: StreamingAgent[str, str] = forward
) -> StreamingAgent[str, str]:
    kinds: list[StreamingAgent[str, str]] = [
        forward,
        tag,
        map_deltas(str.lower),
        filter_deltas(bool),
    ]
    pipeline: StreamingAgent[str, str] = gate
    for index in range(20):
        pipeline = pipeline >> (middle if index == 10 else kinds[index % len(kinds)])
    return pipeline


async def test_each_token_reaches_the_end_before_the_next_is_produced() -> None:
    gate = Gate(50)
    received = await run_in_lockstep(gate, twenty_stages(gate))
    assert received == [f"t{index} " for index in range(50)]


async def test_a_buffering_stage_breaks_the_lockstep() -> None:
    gate = Gate(50)
    with pytest.raises(TimeoutError):
        await run_in_lockstep(gate, twenty_stages(gate, middle=hoard), deadlock_after=0.5)


async def test_lockstep_holds_through_a_fan_out_of_transducers() -> None:
    gate = Gate(30)
    pipeline = gate >> forward >> (tag & map_deltas(str.lower)) >> forward
    received: list[str] = []
    with anyio.fail_after(5):
        async with pipeline.stream("go") as stream:
            async for chunk in stream:
                upper, lower = chunk.delta
                received.append(upper or lower)
                if lower:
                    gate.receive()
    assert [token for token in received if token.islower()] == [f"t{i} " for i in range(30)]


# --- fusion of per-delta maps --------------------------------------------------------------------


def exclaim(delta: str) -> str:
    return delta + "!"


def bracket(delta: str) -> str:
    return f"[{delta}]"


async def test_adjacent_maps_fuse_in_order_and_keep_the_stage_after_them() -> None:
    """``map(f) >> map(g) >> t`` is ``map(g ∘ f) >> t``, delta by delta."""
    after: list[str] = []

    @transducer
    async def record(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
        async for delta in deltas:
            after.append(delta)
            yield delta

    fused = chunked(ChunkPlan((1,))) >> map_deltas(exclaim) >> map_deltas(bracket) >> record
    chunks = [chunk.delta async for chunk in fused.stream("ab")]
    assert chunks == ["[a!]", "[b!]", ""]
    assert after == ["[a!]", "[b!]"]


async def test_adjacent_maps_stay_in_lockstep() -> None:
    gate = Gate(20)
    pipeline = gate >> map_deltas(str.upper) >> map_deltas(str.lower) >> map_deltas(exclaim)
    received = await run_in_lockstep(gate, pipeline)
    assert received == [f"t{index} !" for index in range(20)]


@pytest.mark.parametrize(
    "build",
    [
        lambda: map_deltas(3),  # type: ignore[arg-type]
        lambda: filter_deltas("x"),  # type: ignore[arg-type]
        lambda: transducer(None),  # type: ignore[call-overload]
    ],
    ids=["map_deltas", "filter_deltas", "transducer"],
)
def test_transducers_take_functions(build: Callable[[], object]) -> None:
    with pytest.raises(TypeError, match="takes"):
        build()


def test_transducer_takes_an_async_generator_of_deltas() -> None:
    async def whole(deltas: AsyncIterator[str]) -> str:
        return ""

    with pytest.raises(TypeError, match="whole is an async function that returns"):
        transducer(whole)  # type: ignore[arg-type]


async def test_transducer_takes_a_monoid_for_what_the_annotation_does_not_tell() -> None:
    @transducer(monoid=monoids.LAST)
    async def latest(deltas: AsyncIterator[str]) -> AsyncIterator[int]:
        async for delta in deltas:
            yield len(delta)

    assert latest.monoid is monoids.LAST
    assert await (chunked(EACH) >> latest).stream("abc") == 1


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("A b. C d? E! f", ["A b. ", "C d? ", "E! ", "f"]),
        ('He said "yes." Then left.  Done', ['He said "yes." ', "Then left.  ", "Done"]),
        ("Wait... what?! Ok", ["Wait... ", "what?! ", "Ok"]),
        ("no end at all", ["no end at all"]),
        ("你好。世界！再见？", ["你好。", "世界！", "再见？"]),
        ("「はい。」と言った。次", ["「はい。」", "と言った。", "次"]),
    ],
)
async def test_split_sentences_cuts_after_each_sentence_end(
    text: str, sentences: list[str]
) -> None:
    for plan in (WHOLE, EACH):
        async with (chunked(plan) >> split_sentences).stream(text) as stream:
            assert [chunk.delta async for chunk in stream if chunk.delta] == sentences
