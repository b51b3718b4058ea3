"""ClaudeMessenger through the real ``anthropic`` SDK, against a loopback server that speaks the
Messages API's stream byte for byte, under asyncio and trio."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anthropic
import pytest
from agentcat_adapters import ClaudeMessenger
from agentcat_adapters.testing import (
    Drop,
    Loopback,
    Response,
    in_turn,
    loopback,
    rechunked,
)
from agentcat_adapters.testing import anthropic as wire

from agentcat import (
    ConnectionLostError,
    Conversation,
    Message,
    MessengerAgent,
    OverloadedError,
    ProviderError,
    RateLimitedError,
    Reply,
    StreamingError,
    Thinking,
    ToolArgumentsError,
    ToolCall,
    Usage,
    agent,
    map_deltas,
    text_of,
    tool,
)
from agentcat.messenger import ToolResultPart, ToolSpec

pytestmark = pytest.mark.anyio

HELLO = wire.reply(
    wire.message_start(12),
    wire.ping(),
    wire.text_block(0, ["Hel", "lo, ", "wörld"]),
    wire.message_delta("end_turn", 7),
    wire.message_stop(),
)


@asynccontextmanager
async def claude(
    *responses: Response, **options: object
) -> AsyncIterator[tuple[ClaudeMessenger, Loopback]]:
    """A messenger on a loopback server that answers the requests with ``responses`` in turn."""
    async with loopback(in_turn(*responses)) as server:
        messenger = ClaudeMessenger(
            "claude-test",
            base_url=server.url,
            api_key="sk-secret-key",
            **options,  # type: ignore[arg-type]
        )
        yield messenger, server


async def test_text_streams_in_order_with_the_providers_final_usage() -> None:
    async with claude(HELLO) as (messenger, server):
        deltas = [chunk.delta async for chunk in messenger.invoke("Hi")]
        reply = await messenger.stream("Hi")
    assert [d.text for d in deltas if d.text] == ["Hel", "lo, ", "wörld"]
    assert reply.text == "Hello, wörld"
    assert reply.usage == Usage(12, 7, reported=True)  # 1 then 7 reported: 7, not 8
    assert reply.stop == "end_turn"
    assert dict(reply.meta) == {"model": "claude-test", "id": "msg_1"}
    sent = server.requests[0]
    assert (sent.method, sent.path) == ("POST", "/v1/messages")
    assert sent.json()["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Hi"}]}
    ]
    assert sent.json()["stream"] is True


async def test_a_tool_call_streams_its_arguments_in_fragments_and_parallel_calls_stay_apart() -> (
    None
):
    frames = wire.reply(
        wire.message_start(20),
        wire.thinking_block(0, ["Two cities", ", two calls."], "sig-abc"),
        wire.text_block(1, ["Let me look."]),
        wire.tool_block(2, "toolu_1", "weather", ["", '{"city": ', '"Oslo"}']),
        wire.tool_block(3, "toolu_2", "weather", ['{"city": "Rome"}']),
        wire.message_delta("tool_use", 40),
        wire.message_stop(),
    )
    async with claude(frames) as (messenger, server):
        offered = Conversation.of("Weather in Oslo and Rome?").offering(
            [ToolSpec("weather", "The weather in a city", {"type": "object"})]
        )
        reply = await messenger.stream(offered)
    first, second = reply.tool_calls
    assert (first.id, first.name, first.arguments()) == ("toolu_1", "weather", {"city": "Oslo"})
    assert (second.id, second.name, second.arguments()) == ("toolu_2", "weather", {"city": "Rome"})
    assert reply.thinking == "Two cities, two calls."
    parts = reply.parts()
    assert [type(p).__name__ for p in parts] == [
        "ThinkingPart",
        "TextPart",
        "ToolCallPart",
        "ToolCallPart",
    ]
    assert parts[0].signature == "sig-abc"  # type: ignore[union-attr]
    assert (reply.stop, reply.usage) == ("tool_use", Usage(20, 40, reported=True))
    assert server.requests[0].json()["tools"] == [
        {
            "name": "weather",
            "description": "The weather in a city",
            "input_schema": {"type": "object"},
        }
    ]


async def test_a_token_bound_that_cuts_tool_arguments_gives_a_whole_reply_saying_so() -> None:
    frames = wire.reply(
        wire.message_start(20),
        wire.tool_block(0, "toolu_1", "weather", ['{"city": ', '"Os']),
        wire.message_delta("max_tokens", 8),
        wire.message_stop(),
    )
    async with claude(frames) as (messenger, _):
        reply = await messenger.stream("Weather?")
    assert reply.stop == "max_tokens"
    (call,) = reply.tool_calls
    assert (call.id, call.name, call.arguments_json) == ("toolu_1", "weather", '{"city": "Os')
    with pytest.raises(ToolArgumentsError) as cut:
        call.arguments()
    assert cut.value.raw == '{"city": "Os'


async def test_a_conversation_is_sent_back_faithfully() -> None:
    async with claude(HELLO) as (messenger, server):
        asked = Message.of_reply(
            Reply(
                (Thinking(0, "Hm.", "sig"), ToolCall(1, "toolu_1", "weather", '{"city": "Oslo"}'))
            )
        )
        conversation = Conversation(
            [
                Message("Be brief.", "system"),
                Message("Weather?", "user"),
                asked,
                Message("12", "tool", parts=(ToolResultPart("toolu_1", "12 degrees"),)),
            ]
        )
        await messenger.stream(conversation)
    sent = server.requests[0].json()
    assert sent["system"] == "Be brief."
    assert sent["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Weather?"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "Hm.", "signature": "sig"},
                {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Oslo"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": "12 degrees",
                    "is_error": False,
                }
            ],
        },
    ]


@pytest.mark.parametrize("sizes", [[1], [2, 3], [3, 1, 2]])
async def test_tiny_http_chunks_cut_inside_characters_give_the_same_reply(sizes: list[int]) -> None:
    cut = rechunked(HELLO, sizes)
    async with claude(cut) as (messenger, _):
        reply = await messenger.stream("Hi")
    assert (reply.text, reply.usage) == ("Hello, wörld", Usage(12, 7, reported=True))


async def test_unknown_events_and_block_types_are_passed_over() -> None:
    frames = wire.reply(
        wire.message_start(3),
        wire.event("some_future_event", {"x": 1}),
        wire.event(
            "content_block_start",
            {"index": 0, "content_block": {"type": "future_block", "data": "?"}},
        ),
        wire.event("content_block_stop", {"index": 0}),
        wire.text_block(1, ["ok"]),
        wire.message_delta("end_turn", 1),
        wire.message_stop(),
    )
    async with claude(frames) as (messenger, _):
        assert (await messenger.stream("Hi")).text == "ok"


async def test_an_error_event_mid_stream_is_a_streaming_error_with_the_partial_reply() -> None:
    frames = wire.reply(
        wire.message_start(5),
        wire.text_block(0, ["Half ", "a "]),
        wire.error("overloaded_error", "Overloaded"),
    )
    async with claude(frames) as (messenger, _):
        with pytest.raises(StreamingError) as raised:
            await messenger.stream("Hi")
    error = raised.value
    assert error.partial.text == "Half a "
    assert error.recoverable
    assert isinstance(error.__cause__, OverloadedError)
    assert error.__cause__.provider_type == "overloaded_error"


async def test_a_connection_dropped_mid_body_is_a_streaming_error_with_the_partial_reply() -> None:
    frames = wire.reply(wire.message_start(5), wire.text_block(0, ["Half "]), Drop())
    async with claude(frames) as (messenger, _):
        with pytest.raises(StreamingError) as raised:
            await messenger.stream("Hi")
    assert raised.value.partial.text == "Half "
    assert isinstance(raised.value.__cause__, ConnectionLostError)


async def test_a_reply_that_ends_without_its_last_event_is_cut() -> None:
    frames = wire.reply(wire.message_start(5), wire.text_block(0, ["Half "]))
    async with claude(frames) as (messenger, _):
        with pytest.raises(StreamingError, match="before its last event"):
            await messenger.stream("Hi")


async def test_rate_limits_are_retried_by_the_sdk_then_raised_typed_before_any_delta() -> None:
    limited = wire.status(429, "rate_limit_error", "Slow down", retry_after=0)
    async with claude(limited, max_retries=1) as (messenger, server):
        with pytest.raises(RateLimitedError) as raised:
            await messenger.stream("Hi")
    assert len(server.requests) == 2  # the SDK's one retry, then agentcat's error
    assert (raised.value.status, raised.value.retry_after) == (429, 0.0)
    assert raised.value.transient
    overloaded = wire.status(529, "overloaded_error", "Overloaded")
    async with claude(overloaded, HELLO, max_retries=0) as (messenger, server):
        with pytest.raises(OverloadedError):
            await messenger.stream("Hi")
        retried = messenger.with_retry(2, on=(ProviderError,))
        assert (await retried.stream("Hi")).text == "Hello, wörld"  # before the first delta


async def test_a_request_refused_is_a_provider_error_that_is_not_transient() -> None:
    refused = wire.status(400, "invalid_request_error", "max_tokens: too large")
    async with claude(refused) as (messenger, _):
        with pytest.raises(ProviderError, match="max_tokens: too large") as raised:
            await messenger.stream("Hi")
    assert not raised.value.transient
    assert type(raised.value) is ProviderError


async def test_the_api_key_is_in_no_repr_or_error() -> None:
    refused = wire.status(401, "authentication_error", "invalid x-api-key")
    async with claude(refused) as (messenger, server):
        assert "sk-secret" not in repr(messenger)
        with pytest.raises(ProviderError) as raised:
            await messenger.stream("Hi")
    assert "sk-secret" not in str(raised.value)
    assert "sk-secret" not in repr(raised.value)
    assert (
        server.requests[0].headers.get("x-api-key", "")
        + server.requests[0].headers.get("authorization", "")
        != ""
    )  # it was sent, to the server only


async def test_in_a_session_the_tool_loop_runs_on_claude() -> None:
    @agent
    def weather(city: str) -> str:
        """The weather in a city."""
        return f"12 degrees in {city}"

    asking = wire.reply(
        wire.message_start(20),
        wire.tool_block(0, "toolu_1", "weather", ['{"city": "Oslo"}']),
        wire.message_delta("tool_use", 9),
        wire.message_stop(),
    )
    answering = wire.reply(
        wire.message_start(40),
        wire.text_block(0, ["It is 12 degrees."]),
        wire.message_delta("end_turn", 6),
        wire.message_stop(),
    )
    async with claude(asking, answering) as (messenger, server):
        session = MessengerAgent(messenger, tools=[tool(weather)])
        text = await (session >> map_deltas(text_of)).stream("Weather in Oslo?")
    assert text == "It is 12 degrees."
    second = server.requests[1].json()["messages"]
    assert second[-1]["content"][0]["content"] == "12 degrees in Oslo"
    total = Usage(60, 15, reported=True)  # two requests add up
    assert sum((m.usage for m in session.conversation.messages if m.usage), Usage()) == total


def test_a_client_and_a_base_url_together_are_refused() -> None:
    with pytest.raises(TypeError, match="not both"):
        ClaudeMessenger("m", client=anthropic.AsyncAnthropic(api_key="x"), base_url="http://x")
    with pytest.raises(TypeError, match=r"takes an anthropic\.AsyncAnthropic"):
        ClaudeMessenger("m", client=object())  # type: ignore[arg-type]
