"""Chunks and their stream (``agentcat.chunks``): chunk shapes, replay, whole values, errors at
their position, closing, cancellation and backpressure."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import anyio
import pytest

from agentcat import (
    LIST,
    STR,
    TUPLE,
    Chunk,
    ChunkStream,
    MonoidError,
    StreamClosedError,
    forward,
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


async def test_a_stream_of_known_deltas() -> None:
    stream = ChunkStream.of(["Hel", "", "lo"])
    assert [chunk.delta async for chunk in stream] == ["Hel", "lo", ""]
    assert await stream == "Hello"
    assert stream.monoid is STR
    assert await ChunkStream.of([[1], [2]], LIST) == [1, 2]


async def test_the_monoid_is_the_one_given_or_the_first_deltas() -> None:
    deltas: list[tuple[int, ...]] = [(1,), (2,)]
    stream = ChunkStream.of(deltas)
    assert stream.monoid is None  # nothing has told yet
    assert await stream == (1, 2)
    assert stream.monoid is TUPLE


async def test_each_delta_is_kept_once() -> None:
    """The stream's deltas are the accumulation's parts: one list, not a copy per use."""
    stream = Tokens(WORDS).stream("")
    chunks = [chunk async for chunk in stream]
    assert chunks[2].accumulated == "The cat sat "
    assert stream._accumulation is not None
    assert stream._accumulation.parts is stream._items
    assert stream._items == WORDS


def test_a_chunk_is_equal_up_to_its_position() -> None:
    assert Chunk("a", "ba", index=1) == Chunk("a", "ba", index=7)
    assert hash(Chunk("a", "ba", index=1)) == hash(Chunk("a", "ba"))
    assert Chunk("a", "ba") != Chunk("a", "ba", done=True)
    assert repr(Chunk("a", "ba", True)) == "Chunk(delta='a', accumulated='ba', done=True)"


async def test_closing_closes_every_producer_even_when_one_fails_to_close() -> None:
    producer = Tokens(WORDS)

    @transducer
    async def fails_on_close(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
        try:
            async for delta in deltas:
                yield delta
        finally:
            raise LookupError("could not close")

    stream = (producer >> fails_on_close >> forward).stream("")
    await anext(stream)
    with pytest.raises(LookupError, match="could not close"):
        await stream.aclose()
    assert producer.record.closed
    assert producer.record.running == 0
