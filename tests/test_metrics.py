"""Streaming metrics (``agentcat.messenger.metrics``): chunks timed as they arrive, and figures
that mean what their names say."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from agentcat import (
    MessageChunk,
    Meter,
    MonoidError,
    Reply,
    StreamingError,
    StreamingMetrics,
    StreamScopeError,
    Text,
    ToolCall,
    Usage,
    streaming,
    with_errors,
)
from tests.streams import Tokens

pytestmark = pytest.mark.anyio


def chunk(
    latency: float, delta: str = "", *, done: bool = False, reply: Reply | None = None
) -> MessageChunk:
    return MessageChunk("m", delta, "", done, 0, latency, reply)


def test_the_figures_are_what_their_names_promise() -> None:
    chunks = [
        chunk(40.0, reply=Reply(usage=Usage(input_tokens=12, reported=True))),  # usage only
        chunk(100.0, "Hel", reply=Reply((Text(0, "Hel"),))),
        chunk(150.0, "lo", reply=Reply((Text(0, "lo"),))),
        chunk(300.0, reply=Reply(usage=Usage(output_tokens=30, reported=True), stop="end_turn")),
        chunk(300.5, done=True, reply=Reply()),
    ]
    metrics = StreamingMetrics.from_chunks(chunks)
    assert metrics.latency_first_token_ms == 100.0  # not the usage-only chunk at 40 ms
    assert metrics.latency_total_ms == 300.5  # wall time, not a sum of latencies
    assert metrics.chunks_received == 4
    assert metrics.tokens_generated == 30  # the provider's figure, not a count of chunks
    assert metrics.tokens_per_second == pytest.approx(30 / 0.2005)
    assert (metrics.estimated, metrics.complete) == (False, True)


def test_without_reported_usage_the_tokens_are_an_estimate() -> None:
    chunks = [chunk(10.0, "a"), chunk(20.0, "b"), chunk(30.0, "c"), chunk(30.0, done=True)]
    metrics = StreamingMetrics.from_chunks(chunks)
    assert (metrics.tokens_generated, metrics.estimated) == (3, True)
    assert metrics.tokens_per_second == pytest.approx(3 / 0.02)
    empty = StreamingMetrics.from_chunks([])
    assert (empty.latency_first_token_ms, empty.tokens_per_second, empty.complete) == (
        None,
        None,
        False,
    )


@streaming
async def model(prompt: str) -> AsyncIterator[Reply]:
    yield Reply(meta={"model": "embedded"})
    yield Reply((Text(0, "It is "),))
    yield Reply((ToolCall(1, "c", "clock", "{}"),))
    yield Reply((Text(0, "noon."),), usage=Usage(5, 4, reported=True), stop="end_turn")


async def test_a_meter_times_a_reply_stream_as_it_is_read_and_says_how_it_goes() -> None:
    stream = model.stream("time?")
    meter = Meter(stream, message_id="reply-1")
    seen: list[MessageChunk] = []
    async for read in meter:
        seen.append(read)
        live = meter.metrics
        assert live.chunks_received == sum(not c.done for c in seen)
        assert live.complete == read.done
    assert [c.delta for c in seen] == ["", "It is ", "", "noon.", ""]
    assert [c.accumulated for c in seen] == ["", "It is ", "It is ", "It is noon.", "It is noon."]
    assert {c.message_id for c in seen} == {"reply-1"}
    assert [c.latency_ms for c in seen] == sorted(c.latency_ms for c in seen)
    final = meter.metrics
    assert final == StreamingMetrics.from_chunks(seen)
    assert (final.tokens_generated, final.estimated, final.chunks_received) == (4, False, 4)
    assert final.latency_first_token_ms == seen[1].latency_ms  # the first with content
    assert (await stream).text == "It is noon."  # the stream is whole for its other readers


async def test_a_meter_reads_text_streams_too_and_names_what_it_cannot_read() -> None:
    meter = Meter(Tokens(["a ", "b"]).stream(""))
    assert [c.accumulated async for c in meter] == ["a ", "a b", "a b"]
    assert meter.metrics.estimated
    async with _numbers.stream("") as numbers:
        with pytest.raises(MonoidError, match="Reply or str deltas, not list"):
            await anext(Meter(numbers))


@streaming
async def _numbers(prompt: str) -> AsyncIterator[list[int]]:
    yield [1]


async def test_with_errors_gives_a_failure_as_the_last_item_with_the_partial_output() -> None:
    failure = ConnectionError("connection reset")
    stream = Tokens(["Hel", "lo"], error=failure, fail_after=2).stream("")
    items = [item async for item in with_errors(stream, "m1")]
    assert [item.delta for item in items[:-1] if isinstance(item, MessageChunk)] == ["Hel", "lo"]
    error = items[-1]
    assert isinstance(error, StreamingError)
    assert (error.error_type, error.partial_output, error.recoverable) == (
        "ConnectionError",
        "Hello",
        False,
    )
    assert error.__cause__ is failure
    assert "connection reset" in error.message
    whole = [item async for item in with_errors(Tokens(["ok"]).stream(""))]
    assert all(isinstance(item, MessageChunk) for item in whole)


def test_while_it_runs_a_count_sent_at_the_start_does_not_hide_the_chunks_since() -> None:
    start = chunk(10.0, reply=Reply(usage=Usage(input_tokens=9, output_tokens=1, reported=True)))
    texts = [chunk(20.0 + n, "w", reply=Reply((Text(0, "w"),))) for n in range(5)]
    running = StreamingMetrics.from_chunks([start, *texts])
    assert (running.tokens_generated, running.estimated) == (5, True)
    end = chunk(40.0, reply=Reply(usage=Usage(output_tokens=6, reported=True)))
    done = StreamingMetrics.from_chunks([start, *texts, end, chunk(40.0, done=True)])
    assert (done.tokens_generated, done.estimated) == (7, False)


async def test_with_errors_shows_failures_and_raises_mistakes() -> None:
    @streaming
    async def refused(prompt: str):  # type: ignore[no-untyped-def]  # its type never told
        if prompt == "":
            raise ConnectionError("refused")
        yield prompt

    (error,) = [item async for item in with_errors(refused.stream(""))]
    assert isinstance(error, StreamingError)
    assert (error.error_type, error.partial_output) == ("ConnectionError", None)

    both = Tokens(["a"]) & Tokens(["b"])
    with pytest.raises(StreamScopeError):  # a bug to fix, not a failure to show
        [item async for item in with_errors(both.stream(""))]

    @streaming
    async def typed_wrong(prompt: str) -> AsyncIterator[str]:
        yield "Hal"
        raise TypeError("the model's own bug: a failure like any other, shown")

    *_, shown = [item async for item in with_errors(typed_wrong.stream(""))]
    assert isinstance(shown, StreamingError)
    assert (shown.error_type, shown.partial_output) == ("TypeError", "Hal")
