"""Chunks and their stream (``agentcat.chunks``): chunk shapes, replay, whole values, errors at
their position, closing, cancellation and backpressure."""

from __future__ import annotations

import gc
import itertools
import warnings
from collections.abc import AsyncIterator

import anyio
import anyio.lowlevel
import pytest
from attrs import define, field

from agentcat import (
    LIST,
    STR,
    TUPLE,
    Chunk,
    ChunkStream,
    MonoidError,
    StreamClosedError,
    StreamingAgent,
    StreamScopeError,
    forward,
    map_deltas,
    streaming,
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


# --- leaving a stream early, by every way out ------------------------------------------------
#
# A stream whose pipeline runs tasks (a fan-out, a parallel product) is read inside `async with`,
# which owns the tasks; a sequential one may also be read with a plain `async for`. Whichever
# way the reader leaves, its own task carries on untouched and every producer stops.


def Forever(tokens: list[str], label: str = "tokens") -> Tokens:
    """A producer that gives its tokens, then waits for ever: only cancellation ends it."""
    return Tokens(tokens, label=label, forever=True)


def concurrent(left: Tokens, right: Tokens) -> StreamingAgent[str, tuple[str, str]]:
    return forward >> (left & (right >> shout))


async def the_caller_is_untouched() -> None:
    """No cancellation is pending on the caller, and its scopes still work as they should."""
    for _ in range(3):
        await anyio.lowlevel.checkpoint()
    with anyio.CancelScope() as scope:
        scope.cancel()
        await anyio.lowlevel.checkpoint()
    assert scope.cancelled_caught


def stopped(*producers: Tokens) -> bool:
    return all(p.record.running == 0 for p in producers)


async def test_breaking_out_of_a_concurrent_stream_stops_every_branch() -> None:
    left, right = Forever(WORDS, label="left"), Forever(WORDS, label="right")
    before = len(anyio.get_running_tasks())
    async with concurrent(left, right).stream("") as stream:
        async for chunk in stream:
            if chunk.index == 2:
                break
    assert stopped(left, right)
    assert len(anyio.get_running_tasks()) == before
    await the_caller_is_untouched()


async def test_an_exception_in_the_reader_comes_out_unchanged_and_stops_every_branch() -> None:
    left, right = Forever(WORDS, label="left"), Forever(WORDS, label="right")
    failure = KeyError("the reader's own")

    async def read() -> None:
        async with concurrent(left, right).stream("") as stream:
            async for _ in stream:
                raise failure

    with pytest.raises(KeyError) as caught:
        await read()
    assert caught.value is failure  # not wrapped in a group
    assert stopped(left, right)
    await the_caller_is_untouched()


async def test_cancelling_the_reader_stops_every_branch() -> None:
    left, right = Forever(WORDS, label="left"), Forever(WORDS, label="right")
    with anyio.CancelScope() as scope:
        async with concurrent(left, right).stream("") as stream:
            async for chunk in stream:
                if chunk.index == 1:
                    scope.cancel()
    assert scope.cancelled_caught
    assert stopped(left, right)
    await the_caller_is_untouched()


async def test_a_timeout_stops_every_branch() -> None:
    left, right = Forever(WORDS, label="left"), Forever(WORDS, label="right")
    with anyio.move_on_after(0.05) as scope:  # the producers wait for ever: it must fire
        async with concurrent(left, right).stream("") as stream:
            async for _ in stream:
                pass
    assert scope.cancelled_caught
    assert stopped(left, right)
    await the_caller_is_untouched()


async def test_a_concurrent_stream_read_without_a_scope_fails_at_once_and_names_the_fix() -> None:
    left, right = Tokens(WORDS, label="left"), Tokens(WORDS, label="right")
    stream = concurrent(left, right).stream("")
    with pytest.raises(StreamScopeError, match=r"read it inside `async with stream:`"):
        async for _ in stream:
            pass
    with pytest.raises(StreamScopeError):
        await anext(stream)
    assert left.record.produced == right.record.produced == []  # nothing ran
    async with stream:  # the same stream, read as it should be
        chunks = [chunk async for chunk in stream]
    assert chunks[-1].done
    assert await stream == ("".join(WORDS), "".join(WORDS).upper())
    await the_caller_is_untouched()


async def test_a_sequential_stream_left_without_a_scope_stops_its_producers() -> None:
    """A plain `async for` over sequential stages: breaking out and dropping the stream leaves
    its generators to the event loop's finalizer, which closes every one."""
    producer = Forever(WORDS)
    stream = (producer >> shout >> forward).stream("")
    async for chunk in stream:
        if chunk.index == 1:
            break
    with warnings.catch_warnings():  # trio warns that the generators were left unclosed
        warnings.simplefilter("ignore", ResourceWarning)
        del stream, chunk
        gc.collect()
        for _ in range(10):
            await anyio.lowlevel.checkpoint()
    assert producer.record.running == 0
    assert producer.record.closed
    await the_caller_is_untouched()


async def test_a_stream_read_once_and_dropped_stops_its_producers() -> None:
    producer = Forever(WORDS)
    stream = (producer >> shout).stream("")
    await anext(stream)
    with warnings.catch_warnings():  # trio warns that the generators were left unclosed
        warnings.simplefilter("ignore", ResourceWarning)
        del stream
        gc.collect()
        for _ in range(10):
            await anyio.lowlevel.checkpoint()
    assert producer.record.running == 0
    await the_caller_is_untouched()


async def test_awaiting_a_concurrent_stream_needs_no_scope_and_leaves_no_task() -> None:
    before = len(anyio.get_running_tasks())
    left, right = Tokens(WORDS, label="left"), Tokens(WORDS, label="right")
    assert await concurrent(left, right).stream("") == ("".join(WORDS), "".join(WORDS).upper())
    assert len(anyio.get_running_tasks()) == before


async def test_a_branch_failing_mid_stream_surfaces_unchanged_inside_the_scope() -> None:
    failure = ConnectionError("branch lost")
    broken, healthy = Tokens(WORDS, error=failure, fail_after=2), Forever(WORDS)
    received: list[object] = []

    async def read() -> None:
        async with (broken & healthy).stream("") as stream:
            async for chunk in stream:
                received.append(chunk.delta)

    with pytest.raises(ConnectionError) as caught:
        await read()
    assert caught.value is failure
    assert stopped(broken, healthy)
    assert received  # the deltas before the failure were passed on
    await the_caller_is_untouched()


# --- many readers, one stream --------------------------------------------------------------------


async def test_each_async_for_sees_every_chunk_from_the_first() -> None:
    stream = (Tokens(WORDS) >> shout).stream("")
    first = [chunk.delta async for chunk in stream]
    second = [chunk.delta async for chunk in stream]
    assert first == second == [*(w.upper() for w in WORDS), ""]


@pytest.mark.parametrize("kind", ["sequential", "concurrent"])
async def test_readers_in_several_tasks_each_see_every_chunk(kind: str) -> None:
    producers = [Tokens(WORDS, label="left"), Tokens(WORDS, label="right")]
    pipeline = concurrent(*producers) if kind == "concurrent" else producers[0] >> shout >> forward
    seen: dict[int, list[object]] = {}
    async with pipeline.stream("") as stream:

        async def read(reader: int) -> None:
            seen[reader] = [chunk.delta async for chunk in stream]

        async with anyio.create_task_group() as group:
            for reader in range(4):
                group.start_soon(read, reader)
    assert len({tuple(deltas) for deltas in seen.values()}) == 1  # all the same, in order
    assert len(seen) == 4
    assert producers[0].record.produced == WORDS  # produced once, whoever asked


async def test_a_delta_of_the_wrong_type_names_the_stage_where_it_is_produced() -> None:
    @streaming
    async def model(prompt: str) -> AsyncIterator[str]:
        yield "fine "
        yield 3  # type: ignore[misc]

    stream = model.stream("")
    with pytest.raises(MonoidError, match=r"model produced 3 \(int\), but its deltas are str"):
        await stream
    assert stream.accumulated == "fine "


def test_an_unread_stream_says_how_to_read_it() -> None:
    stream = Tokens(WORDS).stream("")
    assert repr(stream) == (
        "<ChunkStream of tokens, unread: iterate it, or await it for the whole value>"
    )


@define(eq=False, repr=False)
class Held(StreamingAgent[str, str]):
    """Yields ``first``, then waits at ``gate`` (saying so through ``waiting``) before ``second``,
    then waits for ever; ``closed`` records that its generator was closed."""

    gate: anyio.Event = field(factory=anyio.Event)
    waiting: anyio.Event = field(factory=anyio.Event)
    closed: bool = False

    async def open(self, value: str, /) -> AsyncIterator[str]:
        try:
            yield "first "
            self.waiting.set()
            await self.gate.wait()
            yield "second "
            await anyio.Event().wait()
        finally:
            self.closed = True


async def test_closing_from_another_task_while_a_reader_produces_waits_for_its_piece() -> None:
    producer = Held()
    stream = producer.stream("")
    received: list[str] = []
    closed = False

    async def read() -> None:
        with pytest.raises(StreamClosedError, match="was closed before its end"):
            await collect(stream, received)

    async def close() -> None:
        nonlocal closed
        await stream.aclose()
        closed = True

    async with anyio.create_task_group() as group:
        group.start_soon(read)
        await producer.waiting.wait()  # the reader is producing the second piece
        group.start_soon(close)
        for _ in range(5):
            await anyio.lowlevel.checkpoint()
        assert not closed  # a running producer is not closed under the reader's feet
        producer.gate.set()
    assert closed
    assert producer.closed
    assert received == ["first ", "second "]  # the piece under way arrived, nothing after
    with pytest.raises(StreamClosedError):
        await stream


async def test_cancelling_the_reader_that_produces_ends_the_stream_for_every_reader() -> None:
    producer = Held()
    stream = producer.stream("")
    with anyio.CancelScope() as scope:  # a deadline around one reader, say
        reading = stream.replay()
        assert (await anext(reading)).delta == "first "

        async def cancel() -> None:
            await producer.waiting.wait()
            scope.cancel()

        async with anyio.create_task_group() as group:
            group.start_soon(cancel)
            await anext(reading)  # produces the second piece; cancelled while it waits
    assert scope.cancelled_caught
    assert producer.closed
    other = stream.replay()
    assert (await anext(other)).delta == "first "
    with pytest.raises(StreamClosedError, match="cancelled while producing"):
        await anext(other)
    assert stream.accumulated == "first "


async def test_a_stream_of_unannotated_type_takes_the_monoid_of_its_first_delta() -> None:
    @streaming
    async def model(prompt: str):  # type: ignore[no-untyped-def]  # its deltas' type unknown
        yield "Hel"
        yield "lo"
        if prompt:
            yield 3

    chunks = [chunk async for chunk in model.stream("")]
    assert chunks[-1] == Chunk("", "Hello", True)  # the empty str, not None
    with pytest.raises(MonoidError, match=r"model produced 3 \(int\), but its deltas are str"):
        await model.stream("and then")


async def test_a_reader_cancelled_while_another_produces_keeps_its_place() -> None:
    producer = Held()
    stream = producer.stream("")
    async with anyio.create_task_group() as group:
        group.start_soon(collect, stream, [])  # it produces, and waits at the gate for "second "
        await producer.waiting.wait()
        reading = stream.replay()
        assert (await anext(reading)).delta == "first "
        with anyio.move_on_after(0):  # cancelled while it waits for the other reader's piece
            await anext(reading)
        producer.gate.set()
        with anyio.fail_after(10):  # a guard: a skipped place waits for a piece that never comes
            assert (await anext(reading)).delta == "second "  # not skipped
        group.cancel_scope.cancel()  # the other reader waits for ever after "second "


async def test_a_closer_cancelled_while_another_waits_does_not_let_production_resume() -> None:
    producer = Held()
    stream = producer.stream("")
    received: list[str] = []

    async def read() -> None:
        with pytest.raises(StreamClosedError):
            await collect(stream, received)

    with anyio.fail_after(10):  # a guard: without the fix, the second closer waits for ever
        async with anyio.create_task_group() as group:
            group.start_soon(read)
            await producer.waiting.wait()
            with anyio.CancelScope() as first:
                group.start_soon(stream.aclose)  # the second closer, which must get through
                for _ in range(3):
                    await anyio.lowlevel.checkpoint()
                first.cancel()
                await stream.aclose()  # cancelled while it waits for the piece under way
            producer.gate.set()
    assert received == ["first ", "second "]
    assert producer.closed


@define
class SlowToClose:
    """A source of one item whose ``aclose`` waits until ``release`` is set."""

    release: anyio.Event = field(factory=anyio.Event)
    ended: anyio.Event = field(factory=anyio.Event)
    given: bool = False
    closed: bool = False

    def __aiter__(self) -> SlowToClose:
        return self

    async def __anext__(self) -> str:
        if self.given:
            self.ended.set()
            raise StopAsyncIteration
        self.given = True
        return "only"

    async def aclose(self) -> None:
        await self.release.wait()
        self.closed = True


async def test_closing_returns_once_the_source_is_closed() -> None:
    source = SlowToClose()
    stream = ChunkStream(source)
    closed = False

    async def close() -> None:
        nonlocal closed
        await stream.aclose()
        closed = True

    async with anyio.create_task_group() as group:
        group.start_soon(collect, stream, [])  # reaches the end, and waits in the source's close
        await source.ended.wait()
        group.start_soon(close)
        for _ in range(5):
            await anyio.lowlevel.checkpoint()
        assert not closed  # the source is still closing
        source.release.set()
    assert closed
    assert source.closed
