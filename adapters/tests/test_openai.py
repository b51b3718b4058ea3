"""OpenAIMessenger through the real ``openai`` SDK, against a loopback server that speaks the Chat
Completions stream byte for byte, under asyncio and trio."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import openai
import pytest
from agentcat_adapters import OpenAIMessenger
from agentcat_adapters.testing import (
    Drop,
    Loopback,
    Response,
    in_turn,
    loopback,
    rechunked,
)
from agentcat_adapters.testing import openai as wire

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
    wire.text(["Hel", "lo, ", "wörld"]),
    wire.finish("stop"),
    wire.usage(12, 7),
    wire.done(),
)


@asynccontextmanager
async def gpt(
    *responses: Response, **options: object
) -> AsyncIterator[tuple[OpenAIMessenger, Loopback]]:
    """A messenger on a loopback server that answers the requests with ``responses`` in turn."""
    async with loopback(in_turn(*responses)) as server:
        messenger = OpenAIMessenger(
            "gpt-test",
            base_url=f"{server.url}/v1",
            api_key="sk-secret-key",
            **options,  # type: ignore[arg-type]
        )
        yield messenger, server


async def test_text_streams_with_the_usage_it_reports_at_the_end() -> None:
    async with gpt(HELLO) as (messenger, server):
        deltas = [chunk.delta async for chunk in messenger.invoke("Hi")]
        reply = await messenger.stream("Hi")
    assert [d.text for d in deltas if d.text] == ["Hel", "lo, ", "wörld"]
    assert (reply.text, reply.stop) == ("Hello, wörld", "end_turn")
    assert reply.usage == Usage(12, 7, reported=True)
    assert dict(reply.meta) == {"model": "gpt-test", "id": "chatcmpl-1"}
    sent = server.requests[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.json()["stream_options"] == {"include_usage": True}
    assert sent.json()["messages"] == [{"role": "user", "content": "Hi"}]


async def test_parallel_tool_calls_stay_apart_however_the_server_sends_names_and_ids() -> None:
    frames = wire.reply(
        wire.text(["Let me look."]),
        wire.tool_call(0, "call_a", "weather", ["", '{"city": ', '"Oslo"}']),
        # A second call at the same index, told apart by its id (openai-python#3201):
        wire.tool_call(0, "call_b", "weather", ['{"city": "Rome"}']),
        # A server that resends the name and id with every fragment:
        wire.chunk(
            [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {
                                "index": 1,
                                "id": "call_c",
                                "function": {"name": "clock", "arguments": "{"},
                            },
                        ]
                    },
                    "finish_reason": None,
                }
            ]
        ),
        wire.chunk(
            [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {
                                "index": 1,
                                "id": "call_c",
                                "function": {"name": "clock", "arguments": "}"},
                            },
                        ]
                    },
                    "finish_reason": None,
                }
            ]
        ),
        # And one that sends a name in fragments:
        wire.tool_call(2, "call_d", "get_", []),
        wire.tool_call(2, None, "time", ["{}"]),
        wire.finish("tool_calls"),
        wire.usage(20, 30),
        wire.done(),
    )
    async with gpt(frames) as (messenger, server):
        offered = Conversation.of("Weather?").offering([ToolSpec("weather"), ToolSpec("clock")])
        reply = await messenger.stream(offered)
    calls = [(c.id, c.name, c.arguments()) for c in reply.tool_calls]
    assert calls == [
        ("call_a", "weather", {"city": "Oslo"}),
        ("call_b", "weather", {"city": "Rome"}),
        ("call_c", "clock", {}),  # not 'clockclock'
        ("call_d", "get_time", {}),
    ]
    assert (reply.text, reply.stop, reply.usage) == (
        "Let me look.",
        "tool_use",
        Usage(20, 30, reported=True),
    )
    assert server.requests[0].json()["tools"][0] == {
        "type": "function",
        "function": {
            "name": "weather",
            "description": "",
            "parameters": {"type": "object", "properties": {}},
        },
    }


async def test_a_token_bound_that_cuts_tool_arguments_gives_a_whole_reply_saying_so() -> None:
    frames = wire.reply(
        wire.tool_call(0, "call_1", "weather", ['{"city": ', '"Os']),
        wire.finish("length"),
        wire.usage(20, 8),
        wire.done(),
    )
    async with gpt(frames) as (messenger, _):
        reply = await messenger.stream("Weather?")
    assert reply.stop == "max_tokens"
    (call,) = reply.tool_calls
    assert (call.id, call.name, call.arguments_json) == ("call_1", "weather", '{"city": "Os')
    with pytest.raises(ToolArgumentsError) as cut:
        call.arguments()
    assert cut.value.raw == '{"city": "Os'


async def test_a_conversation_with_tool_results_is_sent_back_faithfully() -> None:
    asked = Message.of_reply(Reply((ToolCall(2, "call_a", "weather", '{"city": "Oslo"}'),)))
    conversation = Conversation(
        [
            Message("Be brief.", "system"),
            Message("Weather?", "user"),
            asked,
            Message("12", "tool", parts=(ToolResultPart("call_a", "12 degrees"),)),
        ]
    )
    async with gpt(HELLO) as (messenger, server):
        await messenger.stream(conversation)
    assert server.requests[0].json()["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_a",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_a", "content": "12 degrees"},
    ]


@pytest.mark.parametrize("sizes", [[1], [2, 3]])
async def test_tiny_http_chunks_give_the_same_reply(sizes: list[int]) -> None:
    async with gpt(rechunked(HELLO, sizes)) as (messenger, _):
        reply = await messenger.stream("Hi")
    assert (reply.text, reply.usage) == ("Hello, wörld", Usage(12, 7, reported=True))


async def test_no_usage_reported_is_said_so() -> None:
    async with gpt(wire.reply(wire.text(["ok"]), wire.finish(), wire.done())) as (messenger, _):
        reply = await messenger.stream("Hi")
    assert not reply.usage.reported


async def test_failures_mid_stream_keep_the_partial_reply() -> None:
    in_stream = wire.reply(wire.text(["Half ", "a "]), wire.error("server_error", "oops"))
    dropped = wire.reply(wire.text(["Half "]), Drop())
    unfinished = wire.reply(wire.text(["Half "]), wire.done())
    async with gpt(in_stream, dropped, unfinished) as (messenger, _):
        with pytest.raises(StreamingError) as error_event:
            await messenger.stream("Hi")
        with pytest.raises(StreamingError) as cut:
            await messenger.stream("Hi")
        with pytest.raises(StreamingError, match="no finish_reason"):
            await messenger.stream("Hi")
    assert error_event.value.partial.text == "Half a "
    assert isinstance(error_event.value.__cause__, OverloadedError)
    assert error_event.value.recoverable
    assert cut.value.partial.text == "Half "
    assert isinstance(cut.value.__cause__, ConnectionLostError)


async def test_errors_before_the_first_byte_are_typed() -> None:
    limited = wire.status(429, "rate_limit_exceeded", "Slow down", retry_after=0)
    refused = wire.status(400, "invalid_request_error", "bad model")
    async with gpt(limited, limited, refused, max_retries=1) as (messenger, server):
        with pytest.raises(RateLimitedError) as raised:
            await messenger.stream("Hi")
        assert len(server.requests) == 2  # the SDK retried once
        assert raised.value.retry_after == 0.0
        with pytest.raises(ProviderError, match="bad model") as bad:
            await messenger.stream("Hi")
    assert not bad.value.transient
    assert "sk-secret" not in str(bad.value) + repr(messenger)


async def test_in_a_session_the_tool_loop_runs_on_openai() -> None:
    @agent
    def weather(city: str) -> str:
        """The weather in a city."""
        return f"12 degrees in {city}"

    asking = wire.reply(
        wire.tool_call(0, "call_a", "weather", ['{"city": "Oslo"}']),
        wire.finish("tool_calls"),
        wire.usage(20, 9),
        wire.done(),
    )
    answering = wire.reply(
        wire.text(["It is 12 degrees."]), wire.finish(), wire.usage(40, 6), wire.done()
    )
    async with gpt(asking, answering) as (messenger, server):
        session = MessengerAgent(messenger, tools=[tool(weather)])
        assert (
            await (session >> map_deltas(text_of)).stream("Weather in Oslo?") == "It is 12 degrees."
        )
    assert server.requests[1].json()["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "call_a",
        "content": "12 degrees in Oslo",
    }


def test_a_client_and_a_base_url_together_are_refused() -> None:
    with pytest.raises(TypeError, match="not both"):
        OpenAIMessenger("m", client=openai.AsyncOpenAI(api_key="x"), base_url="http://x")
