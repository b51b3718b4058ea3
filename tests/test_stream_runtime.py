"""The stream runtime: replay, whole values, errors at their position, closing, cancellation,
backpressure, and that no task outlives its stream."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import anyio
import pytest

from agentcat import (
    STR,
    Chunk,
    ChunkStream,
    MonoidError,
    StreamClosedError,
    StreamingAgent,
    agent,
    forward,
    lift,
    map_deltas,
    transducer,
)
from tests.streams import Tokens

pytestmark = pytest.mark.anyio

WORDS = ["The ", "cat ", "sat ", "on ", "the ", "mat."]


@transducer
async def shout(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
    async for delta in deltas:
        yield delta.upper()


async def test_chunks_carry_deltas_prefix_sums_and_one_final_done() -> None:
    chunks = [chunk async for chunk in Tokens(WORDS).stream("")]
    assert [c.delta for c in chunks] == [*WORDS, ""]
    assert [c.accumulated for c in chunks][-1] == "The cat sat on the mat."
    for before, after in itertools.pairwise(chunks):
        assert after.accumulated == before.accumulated + after.delta
    assert [c.done for c in chunks] == [False] * len(WORDS) + [True]
    assert [c.index for c in chunks] == list(range(len(WORDS) + 1))


async def test_a_lifted_plain_agent_gives_exactly_one_final_chunk() -> None:
    @agent
    def count(text: str) -> int:
        return len(text.split())

    chunks = [chunk async for chunk in lift(count).stream("a b c")]
    assert chunks == [Chunk(3, 3, True)]


async def test_an_empty_stream_is_one_terminal_chunk() -> None:
    chunks = [chunk async for chunk in Tokens([]).stream("")]
    assert chunks == [Chunk("", "", True)]


async def test_an_empty_stream_of_unknown_type_names_the_problem() -> None:
    async def nothing() -> AsyncIterator[object]:
        return
        yield

    with pytest.raises(MonoidError, match="no delta and its type is unknown"):
        await ChunkStream(nothing())


async def test_awaiting_gives_the_whole_and_replays_see_every_chunk() -> None:
    stream = (Tokens(WORDS) >> shout).stream("")
    first = [chunk.delta async for chunk in stream]
    assert await stream == "THE CAT SAT ON THE MAT."
    second = [chunk.delta async for chunk in stream.replay()]
    assert first == second == [w.upper() for w in WORDS] + [""]


async def test_concurrent_consumers_each_see_every_chunk_once_produced_once() -> None:
    producer = Tokens(WORDS)
    stream = producer.stream("")
    seen: dict[int, list[str]] = {}

    async def consume(key: int) -> None:
        seen[key] = [chunk.delta async for chunk in stream.replay()]

    async with anyio.create_task_group() as group:
        for key in range(3):
            group.start_soon(consume, key)
    assert seen == {key: [*WORDS, ""] for key in range(3)}
    assert producer.record.produced == WORDS


async def collect(chunks: AsyncIterator[Chunk[str]], deltas: list[str]) -> None:
    async for chunk in chunks:
        deltas.append(chunk.delta)


async def test_an_upstream_error_is_raised_at_its_position_with_the_partial_output() -> None:
    failure = ValueError("model overloaded")
    stream = (Tokens(WORDS, error=failure, fail_after=3) >> shout >> forward).stream("")
    received: list[str] = []
    with pytest.raises(ValueError, match="model overloaded") as caught:
        await collect(stream, received)
    assert caught.value is failure
    assert received == ["THE ", "CAT ", "SAT "]
    assert stream.accumulated == "THE CAT SAT "
    replayed: list[str] = []
    with pytest.raises(ValueError, match="model overloaded"):
        await collect(stream.replay(), replayed)
    assert replayed == received
    with pytest.raises(ValueError, match="model overloaded"):
        await stream


async def test_leaving_early_closes_every_producer_up_the_chain() -> None:
    producer = Tokens(WORDS)
    async with (producer >> shout >> map_deltas(str.lower)).stream("") as stream:
        async for chunk in stream:
            if chunk.index == 1:
                break
    assert producer.record.closed
    assert producer.record.running == 0
    assert producer.record.produced == WORDS[:2]
    with pytest.raises(StreamClosedError):
        await stream


async def test_aclose_stops_the_producers_of_every_fan_out_branch() -> None:
    left, right = Tokens(WORDS, label="left"), Tokens(WORDS, label="right")
    stream = (left & right).stream("")
    await anext(stream)
    await stream.aclose()
    assert left.record.running == right.record.running == 0
    assert not (left.record.finished and right.record.finished)


async def test_cancelling_the_consumer_stops_the_producers() -> None:
    left, right = Tokens(WORDS * 10), Tokens(WORDS * 10)
    pipeline = forward >> (left & (right >> shout))
    with anyio.CancelScope() as scope:
        async for chunk in pipeline.stream(""):
            if chunk.index == 3:
                scope.cancel()
    assert scope.cancelled_caught
    assert left.record.running == right.record.running == 0
    assert left.record.closed
    assert right.record.closed


async def test_no_task_outlives_a_fan_out_stream() -> None:
    before = len(anyio.get_running_tasks())
    pipeline = Tokens(WORDS) >> (shout & forward & lift(agent(str.title)))
    async with pipeline.stream("") as stream:
        await anext(stream)
        assert len(anyio.get_running_tasks()) > before
    assert len(anyio.get_running_tasks()) == before
    whole = await pipeline.stream("")
    assert whole == (
        "THE CAT SAT ON THE MAT.",
        "The cat sat on the mat.",
        "The Cat Sat On The Mat.",
    )
    assert len(anyio.get_running_tasks()) == before


async def test_a_slow_consumer_slows_its_producers() -> None:
    producer = Tokens([f"{n} " for n in range(200)])
    consumed = 0
    async with (producer >> shout >> forward).stream("") as stream:
        async for _ in stream:
            consumed += 1
            for _ in range(5):
                await anyio.lowlevel.checkpoint()  # give a runaway producer every chance
            assert len(producer.record.produced) <= consumed
            if consumed == 50:
                break


async def test_a_slow_consumer_slows_the_branches_of_a_fan_out() -> None:
    left, right = Tokens([f"{n} " for n in range(200)]), Tokens([f"{n} " for n in range(200)])
    consumed = 0
    async with (forward >> (left & right)).stream("") as stream:
        async for _ in stream:
            consumed += 1
            for _ in range(5):
                await anyio.lowlevel.checkpoint()
            # each branch holds at most the piece it is handing over and the one it made next
            assert len(left.record.produced) + len(right.record.produced) <= consumed + 4
            if consumed == 50:
                break


async def test_fan_out_deltas_interleave_tagged_by_branch() -> None:
    fan = Tokens(["a", "b", "c"], label="letters") & Tokens(["1", "2"], label="digits")
    chunks = [chunk async for chunk in fan.stream("")]
    letters = [chunk.delta[0] for chunk in chunks if chunk.delta[0]]
    digits = [chunk.delta[1] for chunk in chunks if chunk.delta[1]]
    assert letters == ["a", "b", "c"]
    assert digits == ["1", "2"]
    assert all(not (x and y) for x, y in (chunk.delta for chunk in chunks))
    assert chunks[-1].done
    assert chunks[-1].accumulated == ("abc", "12")


async def test_a_failing_branch_cancels_the_other_and_surfaces_unchanged() -> None:
    failure = RuntimeError("branch broke")
    healthy = Tokens(WORDS * 50)
    fan = Tokens(WORDS, error=failure, fail_after=2) & healthy
    with pytest.raises(RuntimeError) as caught:
        await fan.stream("")
    assert caught.value is failure
    assert healthy.record.running == 0
    assert not healthy.record.finished


async def test_a_whole_input_stage_waits_while_a_transducer_streams() -> None:
    seen_by_whole: list[str] = []

    @agent
    def record_whole(text: str) -> str:
        seen_by_whole.append(text)
        return f"{len(text)} characters"

    pipeline = Tokens(WORDS) >> (shout & lift(record_whole))
    chunks = [chunk async for chunk in pipeline.stream("")]
    texts = [chunk.delta[0] for chunk in chunks if chunk.delta[0]]
    assert texts == [w.upper() for w in WORDS]
    position = next(i for i, chunk in enumerate(chunks) if chunk.delta[1])
    assert position >= len(WORDS)  # the whole-input branch answered only after the last token
    assert seen_by_whole == ["The cat sat on the mat."]


async def test_parallel_fed_by_a_fan_out_streams_each_component() -> None:
    pipeline = (Tokens(["x", "y"]) & Tokens(["p", "q"])) >> (shout * forward)
    assert await pipeline.stream("") == ("XY", "pq")


def test_the_monoid_of_a_text_stream_is_known_statically() -> None:
    stage: StreamingAgent[str, str] = Tokens(WORDS) >> shout
    assert stage.monoid is STR
