"""The scenarios that every adapter must pass alike, each run for every adapter under asyncio
and trio, against its loopback server: leaving a stream (a ``break``, an exception, a
cancellation) reaches the socket and leaves nothing behind; a slow reader holds the server back
instead of the reply being buffered whole; the streaming metrics follow the server's pace; and
the API key is in no log line, at any level.
The scenarios peculiar to one provider are in its own file."""

from __future__ import annotations

import gc
import logging
import warnings
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
import pytest
from agentcat_adapters.claude import ClaudeMessenger
from agentcat_adapters.gemini import GeminiMessenger
from agentcat_adapters.ollama import OllamaMessenger
from agentcat_adapters.openai import OpenAIMessenger
from agentcat_adapters.testing import (
    AwaitHangup,
    Drop,
    Loopback,
    Pause,
    Request,
    Reset,
    Response,
    deltas_until_failure,
    loopback,
)
from agentcat_adapters.testing import anthropic as claude_wire
from agentcat_adapters.testing import gemini as gemini_wire
from agentcat_adapters.testing import ollama as ollama_wire
from agentcat_adapters.testing import openai as openai_wire
from agentcat_adapters.testing import websocket as websocket_wire
from agentcat_adapters.testing.server import Step
from agentcat_adapters.websocket import WebSocketMessenger
from attrs import frozen

from agentcat import (
    REPLY,
    ConnectionLostError,
    Conversation,
    Meter,
    Node,
    OverloadedError,
    ProviderError,
    RateLimitedError,
    Reply,
    StreamingAgent,
    StreamingError,
    Text,
)

pytestmark = pytest.mark.anyio

KEY = "sk-adapter-secret-key"

Messenger = StreamingAgent[Conversation | str, Reply]


@frozen
class Adapter:
    """How to run a scenario on one adapter: its loopback server (``serve(respond)``), a
    messenger with :data:`KEY` on the server's URL (and options), a reply of text ``pieces``,
    whole, or ``cut`` by a step (``AwaitHangup``, ``Drop``, ``Reset``) after them, a refusal
    before the first byte that asks to wait (``limited``), and whether the SDK retries it."""

    name: str
    serve: Callable[[Callable[[Request], Any]], AbstractAsyncContextManager[Loopback]]
    messenger: Callable[..., Messenger]
    reply: Callable[[Sequence[str], Step | None], Any]
    limited: Callable[[float], Any]
    sdk_retries: bool

    def __str__(self) -> str:
        return self.name


def claude_reply(pieces: Sequence[str], cut: Step | None) -> Any:
    end: list[Any] = [claude_wire.message_delta("end_turn", 5), claude_wire.message_stop()]
    start: list[Any] = [claude_wire.message_start(3), claude_wire.text_block(0, pieces)]
    return claude_wire.reply(*start, *(end if cut is None else [cut]))


def openai_reply(pieces: Sequence[str], cut: Step | None) -> Any:
    end = [openai_wire.finish(), openai_wire.done()] if cut is None else [cut]
    return openai_wire.reply(openai_wire.text(pieces), *end)


def gemini_reply(pieces: Sequence[str], cut: Step | None) -> Any:
    return gemini_wire.reply(gemini_wire.text(pieces), gemini_wire.finish() if cut is None else cut)


def ollama_reply(pieces: Sequence[str], cut: Step | None) -> Any:
    return ollama_wire.reply(ollama_wire.text(pieces), ollama_wire.done() if cut is None else cut)


def websocket_reply(pieces: Sequence[str], cut: Step | None) -> Any:
    replies = [Reply((Text(0, piece),)) for piece in pieces]
    if cut is None:
        return websocket_wire.answer(*replies)
    return [*(websocket_wire.delta(n, r) for n, r in enumerate(replies)), cut]


ADAPTERS = [
    Adapter(
        "claude",
        loopback,
        lambda url, **options: ClaudeMessenger("m", base_url=url, api_key=KEY, **options),
        claude_reply,
        lambda wait: claude_wire.status(429, "rate_limit_error", "Slow down", retry_after=wait),
        sdk_retries=True,
    ),
    Adapter(
        "openai",
        loopback,
        lambda url, **options: OpenAIMessenger("m", base_url=f"{url}/v1", api_key=KEY, **options),
        openai_reply,
        lambda wait: openai_wire.status(429, "rate_limit_exceeded", "Slow down", retry_after=wait),
        sdk_retries=False,  # (it does not retry a wait beyond its maximum, but raises at once)
    ),
    Adapter(
        "gemini",
        loopback,
        lambda url, **options: GeminiMessenger("m", base_url=url, api_key=KEY, **options),
        gemini_reply,
        lambda wait: gemini_wire.status(429, "Slow down", headers={"retry-after": str(wait)}),
        sdk_retries=True,
    ),
    Adapter(
        "ollama",
        loopback,
        lambda url, **options: OllamaMessenger("m", base_url=url, api_key=KEY, **options),
        ollama_reply,
        lambda wait: ollama_wire.status(429, "Slow down", retry_after=wait),
        sdk_retries=False,
    ),
    Adapter(
        "websocket",
        websocket_wire.websocket_loopback,
        lambda url, **options: WebSocketMessenger("m", base_url=url, api_key=KEY, **options),
        websocket_reply,
        lambda wait: [websocket_wire.error("rate_limited", retry_after=wait, transient=True)],
        sdk_retries=False,
    ),
]


@pytest.fixture(params=ADAPTERS, ids=str)
def adapter(request: pytest.FixtureRequest) -> Adapter:
    chosen: Adapter = request.param
    return chosen


@asynccontextmanager
async def serving(adapter: Adapter, reply: Any) -> AsyncIterator[tuple[Messenger, Loopback]]:
    """The adapter's messenger on its server, which answers every request with ``reply``."""
    async with adapter.serve(lambda request: reply) as server:
        yield adapter.messenger(server.url), server


class Left(Exception):
    """Raised by a consumer to leave a stream."""


async def read_until_raising(messenger: Messenger, text: str) -> None:
    """Read a stream in ``async with`` until a delta of ``text``, then raise :class:`Left`."""
    async with messenger.stream("Hi") as stream:
        async for chunk in stream:
            if chunk.delta.text == text:
                raise Left


async def test_leaving_a_stream_any_way_reaches_the_socket_and_leaves_nothing(
    adapter: Adapter,
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with serving(adapter, adapter.reply(["one ", "two "], AwaitHangup())) as (
            messenger,
            server,
        ):
            async with messenger.stream("Hi") as stream:  # a break
                async for chunk in stream:
                    if chunk.delta.text == "two ":
                        break
            with pytest.raises(Left):  # an exception out of the block
                await read_until_raising(messenger, "two ")
            with anyio.CancelScope() as scope:  # cancelled while waiting for the next event
                async with messenger.stream("Hi") as stream:
                    async for chunk in stream:
                        if chunk.delta.text == "two ":
                            scope.cancel()
            with anyio.fail_after(10):
                for request in server.requests:
                    await request.hung_up.wait()
            assert len(server.requests) == 3
        gc.collect()  # (a generator left suspended would warn here, under trio)
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


@pytest.mark.parametrize("cut", [Drop(), Reset()], ids=["fin", "rst"])
async def test_a_connection_cut_mid_body_keeps_exactly_the_deltas_before_it(
    adapter: Adapter, cut: Step
) -> None:
    async with serving(adapter, adapter.reply(["one ", "two "], cut)) as (messenger, _):
        seen, error = await deltas_until_failure(messenger.invoke("Hi"))
    assert isinstance(error, StreamingError), error
    assert error.partial == REPLY.concat(seen)
    assert error.partial.text == "one two "
    assert error.recoverable
    assert isinstance(error.__cause__, ConnectionLostError)


async def test_a_wait_of_an_hour_asked_before_the_first_byte_is_bounded(adapter: Adapter) -> None:
    async with adapter.serve(lambda request: adapter.limited(3600)) as server:
        messenger = adapter.messenger(server.url, start_within=0.2)
        with anyio.fail_after(10):  # (a guard: an SDK that waited as asked would take the hour)
            seen, error = await deltas_until_failure(messenger.invoke("Hi"))
    assert seen == []
    if adapter.sdk_retries:  # its retry is waiting: the deadline ends it
        assert isinstance(error, OverloadedError)
        assert "start_within=0.2" in str(error)
    else:  # raised at once, with the wait asked for, for with_retry to honour or not
        assert isinstance(error, RateLimitedError)
        assert error.retry_after == 3600


async def test_an_event_of_a_shape_never_documented_is_a_provider_error_kept_with_its_partial(
    adapter: Adapter,
) -> None:
    page = b"data: <html>502 Bad Gateway</html>\n\n"  # (a proxy's page, where an event was due)
    junk: Any = page if adapter.name != "websocket" else "<html>502 Bad Gateway</html>"
    if adapter.name == "ollama":
        junk = b"<html>502 Bad Gateway</html>\n"
    async with serving(adapter, adapter.reply(["one ", "two "], junk)) as (messenger, _):
        seen, error = await deltas_until_failure(messenger.invoke("Hi"))
    assert isinstance(error, StreamingError), error
    assert error.partial == REPLY.concat(seen)
    assert error.partial.text == "one two "
    assert not error.recoverable
    assert type(error.__cause__) is ProviderError


PIECES = 2000
PIECE = "x" * 32_768  # 64 MB in all: far beyond any socket's buffers


async def test_a_slow_reader_holds_the_server_back(adapter: Adapter) -> None:
    long = adapter.reply([PIECE] * PIECES, None)
    async with serving(adapter, long) as (messenger, server), messenger.stream("Go") as stream:
        async for _ in stream:
            break
        await anyio.wait_all_tasks_blocked()  # the server blocked on its socket
        ahead = server.requests[0].sent
        read = sum([1 async for chunk in stream if chunk.delta.text])  # (from the first)
    assert read == PIECES
    assert ahead < PIECES // 4, ahead  # about a socket's buffers (some 120), not the reply


def paced(reply: Any, pace: float) -> Any:
    """``reply`` (a response, or a script of frames) with a pause of ``pace`` before each step."""
    steps = reply.body if isinstance(reply, Response) else reply
    slow = [paused for step in steps for paused in (Pause(pace), step)]
    return Response(reply.status, reply.headers, slow) if isinstance(reply, Response) else slow


async def test_the_metrics_follow_the_servers_pace(adapter: Adapter) -> None:
    pace = 0.02  # seconds before each frame the server sends
    pieces = ["one ", "two ", "three ", "four "]
    async with serving(adapter, paced(adapter.reply(pieces, None), pace)) as (messenger, _):
        meter = Meter(messenger.stream("Hi"), message_id="m")
        texts = [chunk.delta async for chunk in meter if chunk.delta]
    metrics = meter.metrics
    assert "".join(texts) == "".join(pieces)
    assert metrics.complete
    assert metrics.latency_first_token_ms is not None
    assert metrics.latency_total_ms is not None
    assert metrics.tokens_per_second is not None
    # Lower bounds, which the pauses make sure of: a frame at least before the first piece of
    # text, and one before each of the three pieces after it.
    assert metrics.latency_first_token_ms >= pace * 1000
    generating = metrics.latency_total_ms - metrics.latency_first_token_ms
    assert generating >= 3 * pace * 1000
    assert metrics.tokens_generated > 0
    assert metrics.tokens_per_second == pytest.approx(
        metrics.tokens_generated / (generating / 1000)
    )


async def test_the_key_reaches_the_server_and_no_log_line(
    adapter: Adapter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, the SDK's and its HTTP library's
    async with serving(adapter, adapter.reply(["Hello"], None)) as (messenger, server):
        assert (await messenger.stream("Hi")).text == "Hello"
    assert any(KEY in value for value in server.requests[0].headers.values())
    assert caplog.records or adapter.name == "websocket"  # (the SDKs log at this level)
    assert KEY not in caplog.text
    assert KEY not in repr(messenger)


async def test_a_messenger_is_a_model_stage_in_a_diagram(adapter: Adapter) -> None:
    async with serving(adapter, adapter.reply(["Hi"], None)) as (messenger, _):
        assert messenger.describe() == Node("model", f"{adapter.name}:m")
        assert repr(messenger).endswith("Messenger('m')")  # (its repr is its own, as before)
        assert '<g class="stage model">' in messenger.describe().svg()
