"""WebSocketMessenger on agentcat's frame protocol, under asyncio and trio: against a scripted
loopback server (frame by frame, drops and malformed frames included), and against
``serve_messenger`` putting a real messenger (the embedded model, or a scripted agent) behind a
socket."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import anyio
import pytest
from agentcat_adapters._websocket import InvalidStatus, WebSocket, connect
from agentcat_adapters.testing import (
    AwaitHangup,
    Drop,
    Loopback,
    Pause,
    Request,
    Response,
    deltas_until_failure,
)
from agentcat_adapters.testing import websocket as wire
from agentcat_adapters.websocket import WebSocketMessenger, serve_messenger
from agentcat_laws.strategies import replies
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentcat import (
    REPLY,
    ConnectionLostError,
    Conversation,
    EmbeddedModel,
    MessengerAgent,
    Meter,
    OverloadedError,
    ProviderError,
    RateLimitedError,
    Reply,
    StreamingError,
    Text,
    Thinking,
    ToolCall,
    Usage,
    agent,
    map_deltas,
    streaming,
    text_of,
    tool,
)
from agentcat.messenger import ThinkingPart

pytestmark = pytest.mark.anyio

HELLO = (
    Reply((Text(0, "Hel"),), meta={"model": "ws-test"}),
    Reply((Text(0, "lo, wörld"),)),
    Reply(usage=Usage(12, 7, reported=True), stop="end_turn"),
)


@asynccontextmanager
async def scripted(
    *answers: Sequence[wire.Step], **options: object
) -> AsyncIterator[tuple[WebSocketMessenger, Loopback]]:
    """A messenger on a scripted server that answers the requests with ``answers`` in turn."""
    queue = list(answers)

    def respond(request: Request) -> Sequence[wire.Step]:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    async with wire.websocket_loopback(respond) as server:
        yield WebSocketMessenger("ws-test", base_url=server.url, **options), server  # type: ignore[arg-type]


async def test_text_streams_with_usage_and_meta_as_sent() -> None:
    async with scripted(wire.answer(*HELLO)) as (messenger, server):
        deltas = [chunk.delta async for chunk in messenger.invoke("Hi") if not chunk.done]
    assert deltas == list(HELLO)
    assert REPLY.concat(deltas).text == "Hello, wörld"
    sent = server.requests[0].json()
    assert (sent["type"], sent["model"]) == ("request", "ws-test")
    conversation = Conversation.from_json(json.dumps(sent["conversation"]))
    assert [(m.role, m.content) for m in conversation.messages] == [("user", "Hi")]


async def test_tool_calls_thinking_and_text_cross_in_order_never_merged() -> None:
    deltas = (
        Reply((Thinking(0, "Let me ", ""),)),
        Reply((Thinking(0, "look.", "sig-1"),)),
        Reply((ToolCall(1, "call_a", "weather", ""),)),  # (an empty first fragment)
        Reply((ToolCall(2, "call_b", "weather", '{"city": '),)),  # (a parallel call)
        Reply((ToolCall(1, "", "", '{"city": "Oslo"}'),)),
        Reply((ToolCall(2, "", "", '"Rome"}'),)),
        Reply((Text(3, "Both asked."),), stop="tool_use"),
    )
    async with scripted(wire.answer(*deltas)) as (messenger, _):
        reply = await messenger.stream("Weather?")
    assert reply.thinking == "Let me look."
    assert reply.parts()[0] == ThinkingPart("Let me look.", "sig-1")
    calls = [(c.id, c.name, c.arguments()) for c in reply.tool_calls]
    assert calls == [
        ("call_a", "weather", {"city": "Oslo"}),
        ("call_b", "weather", {"city": "Rome"}),
    ]
    assert (reply.text, reply.stop) == ("Both asked.", "tool_use")


async def test_usage_is_not_reported_when_the_server_sends_none() -> None:
    async with scripted(wire.answer(Reply((Text(0, "Hi"),), stop="end_turn"))) as (messenger, _):
        reply = await messenger.stream("Hi")
    assert reply.usage == Usage()
    assert not reply.usage.reported


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(deltas=st.lists(replies(), max_size=6))
def test_any_deltas_cross_a_served_socket_as_they_are(
    anyio_backend: str, deltas: list[Reply]
) -> None:
    @streaming(monoid=REPLY)
    async def script(conversation: Conversation) -> AsyncIterator[Reply]:
        for delta in deltas:
            yield delta

    async def main() -> list[Reply]:
        async with serve_messenger(script) as server:
            messenger = WebSocketMessenger("any", base_url=server.url)
            return [chunk.delta async for chunk in messenger.invoke("Hi") if not chunk.done]

    received = anyio.run(main, backend=anyio_backend)
    assert received == [delta for delta in deltas if delta]  # (a stream drops empty deltas)


async def test_the_embedded_model_over_a_socket_answers_as_it_does_at_home() -> None:
    model = EmbeddedModel(pace=0)
    conversation = Conversation.of("What does monoid mean?")
    async with serve_messenger(model) as server:
        remote = WebSocketMessenger("embedded", base_url=server.url)
        assert await remote.stream(conversation) == await model.stream(conversation)
        assert (
            await (remote >> map_deltas(text_of)).stream(conversation)
            == (await model.stream(conversation)).text
        )


async def test_a_session_runs_its_tools_through_a_served_model() -> None:
    @agent
    async def define(word: str) -> str:
        """The meaning of a word."""
        return f"{word}: a set with an associative operation and a unit"

    async with serve_messenger(EmbeddedModel(pace=0)) as server:
        session = MessengerAgent(
            WebSocketMessenger("embedded", base_url=server.url), tools=[tool(define)]
        )
        answer = await session.stream("What does monoid mean?")
    assert any(m.tool_results for m in session.conversation.messages)
    assert "associative" in answer.text


async def test_errors_before_the_first_delta_are_raised_by_kind() -> None:
    limited = wire.error("rate_limited", "slow down", status=429, retry_after=7, transient=True)
    busy = wire.error("overloaded", "busy", status=529, provider_type="overloaded_error")
    async with scripted([limited], [busy], [wire.error("refused", "no")]) as (messenger, _):
        seen, error = await deltas_until_failure(messenger.invoke("Hi"))
        assert isinstance(error, RateLimitedError)
        assert (seen, error.retry_after, error.status, error.transient) == ([], 7.0, 429, True)
        seen, error = await deltas_until_failure(messenger.invoke("Hi"))
        assert isinstance(error, OverloadedError)
        assert (error.provider_type, error.transient) == ("overloaded_error", False)
        seen, error = await deltas_until_failure(messenger.invoke("Hi"))
        assert type(error) is ProviderError
        assert not error.transient


async def test_a_refused_handshake_is_raised_by_its_status() -> None:
    def refuse(handshake: Request) -> Response:
        return Response(429, {"retry-after": "3"}, [b"too many"])

    async with wire.websocket_loopback(lambda r: [], refuse=refuse) as server:
        messenger = WebSocketMessenger("ws-test", base_url=server.url)
        with pytest.raises(RateLimitedError, match="too many") as raised:
            await messenger.stream("Hi")
    assert (raised.value.status, raised.value.retry_after) == (429, 3.0)


async def test_a_server_that_is_not_there_is_a_lost_connection() -> None:
    async with serve_messenger(EmbeddedModel(pace=0)) as server:
        url = server.url
    with pytest.raises(ConnectionLostError):
        await WebSocketMessenger("embedded", base_url=url).stream("Hi")


async def test_a_reply_that_does_not_begin_in_time_is_an_overload() -> None:
    async with scripted([AwaitHangup()], start_within=0.2) as (messenger, server):
        with pytest.raises(OverloadedError, match="start_within"):
            await messenger.stream("Hi")
        with anyio.fail_after(10):
            await server.requests[0].hung_up.wait()


@pytest.mark.parametrize(
    ("ending", "cause", "recoverable"),
    [
        (wire.error("overloaded", "busy", status=503, transient=True), OverloadedError, True),
        (wire.error("failed", "the tool broke"), ProviderError, False),
        (Drop(), ConnectionLostError, True),
        ("this is not JSON", ProviderError, False),
        (wire.delta(5, Reply((Text(0, "skipped"),))), ProviderError, False),
        (wire.done(7), ConnectionLostError, True),
    ],
    ids=["error-frame", "failed", "drop", "malformed", "seq-gap", "done-miscounted"],
)
async def test_a_failure_after_k_deltas_keeps_exactly_those_deltas(
    ending: wire.Step, cause: type[ProviderError], recoverable: bool
) -> None:
    half = [wire.delta(0, Reply((Text(0, "Half "),))), wire.delta(1, Reply((Text(0, "a "),)))]
    async with scripted([*half, ending]) as (messenger, _):
        seen, error = await deltas_until_failure(messenger.invoke("Hi"))
    assert isinstance(error, StreamingError)
    assert len(seen) == 2
    assert error.partial == REPLY.concat(seen)
    assert error.partial.text == "Half a "
    assert error.recoverable is recoverable
    assert type(error.__cause__) is cause


async def test_a_clean_close_without_done_is_a_lost_connection() -> None:
    half = [wire.delta(0, Reply((Text(0, "Half"),)))]
    async with scripted(half) as (messenger, _):
        seen, error = await deltas_until_failure(messenger.invoke("Hi"))
    assert len(seen) == 1
    assert isinstance(error, StreamingError)
    assert isinstance(error.__cause__, ConnectionLostError)
    assert (error.partial.text, error.recoverable) == ("Half", True)


async def test_unknown_frame_types_are_ignored() -> None:
    frames: list[wire.Step] = [{"type": "ping"}, *wire.answer(*HELLO[:2]), {"type": "x"}]
    frames.insert(2, {"type": "progress", "percent": 50})
    async with scripted(frames) as (messenger, _):
        assert (await messenger.stream("Hi")).text == "Hello, wörld"


async def test_leaving_the_stream_stops_the_served_producer() -> None:
    stopped = anyio.Event()

    @streaming(monoid=REPLY)
    async def endless(conversation: Conversation) -> AsyncIterator[Reply]:
        try:
            for n in range(10**9):
                yield Reply((Text(0, f"{n} "),))
        finally:
            stopped.set()

    async with serve_messenger(endless) as server:
        messenger = WebSocketMessenger("endless", base_url=server.url)
        async with messenger.stream("Count") as stream:
            async for chunk in stream:
                if chunk.delta.text == "1 ":
                    break
        with anyio.fail_after(10):
            await stopped.wait()


async def test_a_slow_consumer_slows_the_served_producer() -> None:
    produced = 0
    total = 4000
    big = "x" * 32_768

    @streaming(monoid=REPLY)
    async def flood(conversation: Conversation) -> AsyncIterator[Reply]:
        nonlocal produced
        for _ in range(total):
            produced += 1
            yield Reply((Text(0, big),))

    async with serve_messenger(flood) as server:
        messenger = WebSocketMessenger("flood", base_url=server.url)
        async with messenger.stream("Go") as stream:
            async for _ in stream:
                break
            await anyio.wait_all_tasks_blocked()  # the server blocked, its writes unread
            ahead = produced
            read = sum([1 async for chunk in stream if chunk.delta])  # (from the first again)
    assert read == total
    assert ahead < total // 4, ahead  # held back by the socket: ~ a TCP window, not the reply


async def test_served_failures_cross_by_kind_with_the_partial_reply() -> None:
    @streaming(monoid=REPLY)
    async def busy(conversation: Conversation) -> AsyncIterator[Reply]:
        nothing: tuple[Reply, ...] = ()  # (no delta: it fails before its first)
        for delta in nothing:
            yield delta
        raise OverloadedError("the model is busy", provider="claude", status=529)

    @streaming(monoid=REPLY)
    async def cut(conversation: Conversation) -> AsyncIterator[Reply]:
        yield Reply((Text(0, "Half "),))
        raise StreamingError(
            "cut", partial=Reply((Text(0, "Half "),)), recoverable=True
        ) from ConnectionLostError("lost", provider="claude")

    async with serve_messenger({"busy": busy, "cut": cut}) as server:
        with pytest.raises(OverloadedError, match="busy") as raised:
            await WebSocketMessenger("busy", base_url=server.url).stream("Hi")
        assert (raised.value.status, raised.value.transient) == (529, True)
        with pytest.raises(StreamingError) as cut_short:
            await WebSocketMessenger("cut", base_url=server.url).stream("Hi")
        assert (cut_short.value.partial.text, cut_short.value.recoverable) == ("Half ", True)
        assert isinstance(cut_short.value.__cause__, ConnectionLostError)
        with pytest.raises(ProviderError, match="no model 'other' here") as unknown:
            await WebSocketMessenger("other", base_url=server.url).stream("Hi")
        assert unknown.value.status == 404


async def test_metrics_follow_the_servers_pace() -> None:
    pace = 0.05  # seconds before the first delta, and between the four content deltas
    paced = [step for n in range(1, 4) for step in (Pause(pace), wire.delta(n, more(n)))]
    frames = [
        Pause(pace),
        wire.delta(0, more(0)),
        *paced,
        wire.delta(4, Reply(usage=Usage(3, 8, reported=True), stop="end_turn")),
        wire.done(5),
    ]
    async with scripted(frames) as (messenger, _):
        meter = Meter(messenger.stream("Hi"), message_id="r")
        async for _ in meter:
            pass
    metrics = meter.metrics
    assert metrics.latency_first_token_ms is not None
    assert metrics.latency_total_ms is not None
    assert metrics.tokens_per_second is not None
    assert metrics.latency_first_token_ms >= pace * 1000  # (lower bounds: the pauses are sure)
    generating = metrics.latency_total_ms - metrics.latency_first_token_ms
    assert generating >= 3 * pace * 1000
    assert (metrics.tokens_generated, metrics.estimated) == (8, False)  # the server's figure
    assert metrics.tokens_per_second == pytest.approx(8 / (generating / 1000))


def more(n: int) -> Reply:
    return Reply((Text(0, f"word{n} "),))


async def test_a_key_is_sent_checked_and_shown_nowhere(caplog: pytest.LogCaptureFixture) -> None:
    key = "sk-very-secret-websocket-key"
    caplog.set_level(logging.DEBUG)
    async with serve_messenger(EmbeddedModel(pace=0), api_key=key) as server:
        good = WebSocketMessenger("embedded", base_url=server.url, api_key=key)
        assert (await good.stream("Hi")).text
        bad = WebSocketMessenger("embedded", base_url=server.url, api_key="sk-wrong")
        with pytest.raises(ProviderError) as refused:
            await bad.stream("Hi")
        with pytest.raises(ProviderError):
            await WebSocketMessenger("embedded", base_url=server.url).stream("Hi")
    assert (refused.value.status, refused.value.transient) == (401, False)
    shown = [repr(good), repr(bad), str(refused.value), caplog.text]
    assert not any(key in text or "sk-wrong" in text for text in shown)


async def test_the_key_reaches_the_scripted_server_in_the_handshake() -> None:
    async with scripted(wire.answer(*HELLO), api_key="sk-k") as (messenger, server):
        await messenger.stream("Hi")
    assert server.requests[0].headers["authorization"] == "Bearer sk-k"


def test_a_url_that_is_not_a_websocket_is_refused_when_made() -> None:
    with pytest.raises(ValueError, match="ws:// or wss://"):
        WebSocketMessenger("m", base_url="http://localhost:1")


async def raw_client(url: str, *headers: tuple[str, str]) -> WebSocket:
    """A connection that speaks to the server frame by frame, as a careless client would."""
    return await connect(url, dict(headers))


async def test_a_careless_client_harms_neither_the_server_nor_the_others() -> None:
    async with serve_messenger(EmbeddedModel(pace=0)) as server:
        careless = await raw_client(server.url)
        for frame in ['{"id": "x"}', "[" * 200_000, '{"type": "request", "id": 5}']:
            await careless.send(frame)
            said = json.loads(await careless.receive() or "{}")
            assert (said["type"], said["error"]["kind"]) == ("error", "protocol")
        await careless.aclose()
        remote = WebSocketMessenger("embedded", base_url=server.url)
        assert (await remote.stream("Hi")).text  # the server still answers


async def test_a_request_withdrawn_frees_its_id_for_the_next() -> None:
    request = {"type": "request", "id": "A", "model": "m"}
    request["conversation"] = json.loads(Conversation.of("Hi").to_json())
    async with serve_messenger(EmbeddedModel(pace=0)) as server:
        client = await raw_client(server.url)
        await client.send(json.dumps(request))
        await client.send(json.dumps({"type": "cancel", "id": "A"}))
        await client.send(json.dumps(request))
        kinds: list[str] = []
        while not kinds or kinds[-1] not in ("done", "error"):
            kinds.append(json.loads(await client.receive() or "{}")["type"])
        await client.aclose()
    assert kinds[-1] == "done"  # the second request, answered whole: no "already running"


async def test_a_served_model_failing_with_a_broken_pipe_is_reported_not_left_hanging() -> None:
    @streaming(monoid=REPLY)
    async def upstream_broke(conversation: Conversation) -> AsyncIterator[Reply]:
        yield Reply((Text(0, "Half "),))
        raise anyio.BrokenResourceError("the model's own upstream went away")

    async with serve_messenger(upstream_broke) as server:
        with anyio.fail_after(10), pytest.raises(StreamingError) as raised:
            await WebSocketMessenger("m", base_url=server.url).stream("Hi")
    assert raised.value.partial.text == "Half "


async def test_two_authorization_headers_are_refused_and_the_server_goes_on() -> None:
    async with serve_messenger(EmbeddedModel(pace=0), api_key="k") as server:
        with pytest.raises(InvalidStatus) as refused:
            await raw_client(server.url, ("Authorization", "Bearer k"), ("Authorization", "x"))
        assert refused.value.response.status_code == 401
        good = WebSocketMessenger("embedded", base_url=server.url, api_key="k")
        assert (await good.stream("Hi")).text


async def test_a_password_in_the_url_is_in_no_error() -> None:
    async with serve_messenger(EmbeddedModel(pace=0)) as server:
        port = server.url.rsplit(":", 1)[1]
    messenger = WebSocketMessenger("m", base_url=f"ws://bob:s3cret@127.0.0.1:{port}")
    with pytest.raises(ConnectionLostError) as lost:
        await messenger.stream("Hi")
    assert "s3cret" not in str(lost.value)
    assert "s3cret" not in repr(messenger)
