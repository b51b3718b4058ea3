"""OllamaMessenger through the real ``ollama`` SDK's client, against a loopback server that speaks
Ollama's chat stream (NDJSON) byte for byte, under asyncio and trio."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import ollama
import pytest
from agentcat_adapters.ollama import OllamaMessenger
from agentcat_adapters.testing import (
    Drop,
    Loopback,
    Response,
    deltas_until_failure,
    in_turn,
    loopback,
    rechunked,
)
from agentcat_adapters.testing import ollama as wire

from agentcat import (
    REPLY,
    ConnectionLostError,
    Conversation,
    Message,
    MessengerAgent,
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
    text_of,
    tool,
)
from agentcat.messenger import ToolResultPart, ToolSpec

pytestmark = pytest.mark.anyio

NESTED = {
    "type": "object",
    "properties": {
        "place": {"type": "object", "properties": {"city": {"type": "string"}}},
        "unit": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
    },
    "required": ["place"],
    "additionalProperties": False,
}
"""A tool's schema with what the SDK's tool model does not keep."""

HELLO = wire.reply(wire.text(["Hel", "lo, ", "wörld"]), wire.done("stop", 12, 7))


@asynccontextmanager
async def llama(
    *responses: Response, **options: object
) -> AsyncIterator[tuple[OllamaMessenger, Loopback]]:
    """A messenger on a loopback server that answers the requests with ``responses`` in turn."""
    async with loopback(in_turn(*responses)) as server:
        messenger = OllamaMessenger(
            "llama-test",
            base_url=server.url,
            api_key="sk-secret-key",
            **options,  # type: ignore[arg-type]
        )
        yield messenger, server


async def test_text_streams_with_the_usage_it_reports_at_the_end() -> None:
    async with llama(HELLO) as (messenger, server):
        deltas = [chunk.delta async for chunk in messenger.invoke("Hi")]
        reply = await messenger.stream("Hi")
    assert [d.text for d in deltas if d.text] == ["Hel", "lo, ", "wörld"]
    assert (reply.text, reply.stop) == ("Hello, wörld", "end_turn")
    assert reply.usage == Usage(12, 7, reported=True)
    assert dict(reply.meta) == {"model": "llama-test"}
    sent = server.requests[0]
    assert (sent.method, sent.path) == ("POST", "/api/chat")
    assert sent.headers["user-agent"].startswith("ollama-python/")  # the SDK's client sent it
    assert sent.json() == {
        "model": "llama-test",
        "messages": [{"role": "user", "content": "Hi"}],
        "stream": True,
    }


async def test_thinking_streams_before_the_text_when_it_is_asked_for() -> None:
    frames = wire.reply(
        wire.thinking(["Two cities", ", one answer."]),
        wire.text(["Oslo ", "is colder."]),
        wire.done(),
    )
    async with llama(frames, settings={"think": True}) as (messenger, server):
        reply = await messenger.stream("Which is colder, Oslo or Rome?")
    assert reply.thinking == "Two cities, one answer."
    assert reply.text == "Oslo is colder."
    assert [type(p).__name__ for p in reply.parts()] == ["ThinkingPart", "TextPart"]
    assert server.requests[0].json()["think"] is True


async def test_a_tool_call_arrives_whole_and_each_reply_names_its_calls_anew() -> None:
    asking = wire.reply(wire.tool_calls(("weather", {"city": "Zürich"})), wire.done())
    async with llama(asking) as (messenger, server):
        offered = Conversation.of("Weather?").offering(
            [ToolSpec("weather", "The weather in a city", {"type": "object"})]
        )
        reply = await messenger.stream(offered)
        again = await messenger.stream(offered)
    (call,) = reply.tool_calls
    assert (call.name, call.arguments()) == ("weather", {"city": "Zürich"})
    assert call.id  # Ollama gives none: one is made, unique to the reply
    assert call.id != again.tool_calls[0].id
    assert reply.stop == "tool_use"
    assert server.requests[0].json()["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "weather",
                "description": "The weather in a city",
                "parameters": {"type": "object"},
            },
        }
    ]


async def test_tool_calls_stay_apart_in_one_line_or_in_two() -> None:
    frames = wire.reply(
        wire.text(["Let me look."]),
        wire.tool_calls(("weather", {"city": "Oslo"}), ("weather", {"city": "Rome"})),
        wire.tool_calls(("weather", {"city": "Oslo"})),  # the same call again, a line of its own
        # A server that gives calls an id and an index:
        wire.line(
            {
                "tool_calls": [
                    {"id": "call_x", "function": {"index": 0, "name": "clock", "arguments": {}}}
                ]
            }
        ),
        wire.done("stop", 20, 30),
    )
    async with llama(frames) as (messenger, _):
        reply = await messenger.stream("Weather in Oslo and Rome, and the time?")
    calls = [(c.name, c.arguments()) for c in reply.tool_calls]
    assert calls == [
        ("weather", {"city": "Oslo"}),
        ("weather", {"city": "Rome"}),
        ("weather", {"city": "Oslo"}),
        ("clock", {}),
    ]
    ids = [c.id for c in reply.tool_calls]
    assert len(set(ids)) == 4
    assert ids[-1] == "call_x"
    assert (reply.text, reply.stop, reply.usage) == (
        "Let me look.",
        "tool_use",
        Usage(20, 30, reported=True),
    )


async def test_the_usage_is_the_final_figures_or_said_to_be_not_reported() -> None:
    silent = wire.reply(wire.text(["ok"]), wire.done("stop", None, None))
    cached = wire.reply(wire.text(["ok"]), wire.done("stop", None, 4))  # a prompt all cached
    async with llama(HELLO, silent, cached) as (messenger, _):
        assert (await messenger.stream("Hi")).usage == Usage(12, 7, reported=True)
        assert not (await messenger.stream("Hi")).usage.reported
        assert (await messenger.stream("Hi")).usage == Usage(0, 4, reported=True)


async def test_errors_before_the_first_byte_are_typed_before_any_delta() -> None:
    limited = wire.status(429, "too many requests", retry_after=2)
    busy = wire.status(503, "server busy, please try again.  maximum pending requests exceeded")
    missing = wire.status(404, "model 'llama-test' not found, try pulling it first")
    async with llama(limited, busy, missing, HELLO) as (messenger, server):
        seen, error = await deltas_until_failure(messenger.invoke("Hi"))
        assert isinstance(error, RateLimitedError)
        assert (error.status, error.retry_after, seen) == (429, 2.0, [])
        assert len(server.requests) == 1  # Ollama does not retry
        seen, error = await deltas_until_failure(messenger.invoke("Hi"))
        assert isinstance(error, OverloadedError)
        assert (error.status, seen) == (503, [])
        assert "maximum pending requests" in str(error)
        seen, error = await deltas_until_failure(messenger.invoke("Hi"))
        assert type(error) is ProviderError
        assert not error.transient
        assert "not found, try pulling it first" in str(error)
        retried = messenger.with_retry(2, on=(ProviderError,))
        assert (await retried.stream("Hi")).text == "Hello, wörld"


async def test_an_error_line_mid_stream_keeps_exactly_the_deltas_before_it() -> None:
    frames = wire.reply(
        wire.text(["Half ", "a "]),
        wire.error("model runner has unexpectedly stopped"),
        wire.text(["never"]),
    )
    async with llama(frames) as (messenger, _):
        seen, error = await deltas_until_failure(messenger.invoke("Hi"))
    assert isinstance(error, StreamingError)
    assert [d.text for d in seen if d.text] == ["Half ", "a "]
    assert error.partial == REPLY.concat(seen)
    assert error.recoverable
    assert isinstance(error.__cause__, OverloadedError)
    assert "model runner has unexpectedly stopped" in str(error.__cause__)


async def test_a_body_cut_or_ended_without_its_last_line_is_a_recoverable_streaming_error() -> None:
    dropped = wire.reply(wire.text(["Half "]), Drop())
    unfinished = wire.reply(wire.text(["Half "]))
    async with llama(dropped, unfinished) as (messenger, _):
        with pytest.raises(StreamingError) as cut:
            await messenger.stream("Hi")
        with pytest.raises(StreamingError, match="before its last line") as ended:
            await messenger.stream("Hi")
    for raised in (cut, ended):
        assert raised.value.partial.text == "Half "
        assert raised.value.recoverable
        assert isinstance(raised.value.__cause__, ConnectionLostError)


async def test_a_line_that_is_not_json_is_a_provider_error_not_worth_retrying() -> None:
    proxy_page = wire.reply(b"<html>502 Bad Gateway</html>\n")
    garbled = wire.reply(wire.text(["Half "]), b'{"message": {"content": "a \n')
    async with llama(proxy_page, garbled) as (messenger, _):
        with pytest.raises(ProviderError, match="not a JSON object") as before:
            await messenger.stream("Hi")
        with pytest.raises(StreamingError) as after:
            await messenger.stream("Hi")
    assert not before.value.transient
    assert after.value.partial.text == "Half "
    assert not after.value.recoverable
    assert "not a JSON object" in str(after.value.__cause__)


@pytest.mark.parametrize("sizes", [[1], [2, 3], [3, 1, 2]])
async def test_tiny_http_chunks_cut_inside_characters_give_the_same_reply(sizes: list[int]) -> None:
    frames = wire.reply(
        wire.thinking(["Hm, "]),
        wire.text(["Hel", "lo, ", "wörld"]),
        wire.tool_calls(("weather", {"city": "Zürich"})),
        wire.done("stop", 12, 7),
    )
    async with llama(rechunked(frames, sizes)) as (messenger, _):
        reply = await messenger.stream("Hi")
    assert (reply.thinking, reply.text) == ("Hm, ", "Hello, wörld")
    assert [(c.name, c.arguments()) for c in reply.tool_calls] == [("weather", {"city": "Zürich"})]
    assert (reply.stop, reply.usage) == ("tool_use", Usage(12, 7, reported=True))


async def test_a_reply_cut_by_its_token_bound_says_so() -> None:
    frames = wire.reply(wire.text(["One, two"]), wire.done("length", 5, 3))
    async with llama(frames, max_tokens=3) as (messenger, server):
        reply = await messenger.stream("Count")
    assert (reply.text, reply.stop) == ("One, two", "max_tokens")
    assert server.requests[0].json()["options"] == {"num_predict": 3}


async def test_the_api_key_is_in_no_repr_or_error() -> None:
    refused = wire.status(401, "unauthorized")
    async with llama(refused) as (messenger, server):
        assert "sk-secret" not in repr(messenger)
        with pytest.raises(ProviderError) as raised:
            await messenger.stream("Hi")
    assert "sk-secret" not in str(raised.value) + repr(raised.value)
    assert (raised.value.status, raised.value.transient) == (401, False)
    assert server.requests[0].headers["authorization"] == "Bearer sk-secret-key"  # sent, only


async def test_the_request_carries_the_conversation_tools_and_options() -> None:
    asked = Message.of_reply(
        Reply(
            (
                Thinking(0, "Oslo first."),
                Text(1, "Looking."),
                ToolCall(2, "call_a", "weather", '{"city": "Oslo"}'),
            )
        )
    )
    conversation = Conversation(
        [
            Message("Be brief.", "system"),
            Message("Weather?", "user"),
            asked,
            Message("12", "tool", parts=(ToolResultPart("call_a", "12 degrees"),)),
        ]
    ).offering([ToolSpec("weather", "The weather in a city", NESTED)])
    settings = {"think": True, "keep_alive": "5m", "options": {"num_ctx": 8192}}
    async with llama(HELLO, max_tokens=64, temperature=0.2, settings=settings) as (messenger, srv):
        await messenger.stream(conversation)
    sent = srv.requests[0].json()
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": "Looking.",
            "thinking": "Oslo first.",
            "tool_calls": [{"function": {"name": "weather", "arguments": {"city": "Oslo"}}}],
        },
        {"role": "tool", "content": "12 degrees", "tool_name": "weather"},
    ]
    assert sent["options"] == {"num_predict": 64, "temperature": 0.2, "num_ctx": 8192}
    assert (sent["think"], sent["keep_alive"], sent["stream"]) == (True, "5m", True)
    # The schema whole: the SDK's own tool model would drop the nested properties and anyOf.
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "weather",
                "description": "The weather in a city",
                "parameters": NESTED,
            },
        }
    ]


async def test_in_a_session_the_tool_loop_runs_on_ollama() -> None:
    @agent
    def weather(city: str) -> str:
        """The weather in a city."""
        return f"12 degrees in {city}"

    asking = wire.reply(wire.tool_calls(("weather", {"city": "Oslo"})), wire.done("stop", 20, 9))
    answering = wire.reply(wire.text(["It is 12 degrees."]), wire.done("stop", 40, 6))
    async with llama(asking, answering) as (messenger, server):
        session = MessengerAgent(messenger, tools=[tool(weather)])
        text = await (session >> map_deltas(text_of)).stream("Weather in Oslo?")
    assert text == "It is 12 degrees."
    second = server.requests[1].json()["messages"]
    assert second[-2:] == [
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"function": {"name": "weather", "arguments": {"city": "Oslo"}}}],
        },
        {"role": "tool", "content": "12 degrees in Oslo", "tool_name": "weather"},
    ]
    total = Usage(60, 15, reported=True)  # two requests add up
    assert sum((m.usage for m in session.conversation.messages if m.usage), Usage()) == total


async def test_a_client_of_the_callers_is_used_and_left_open() -> None:
    async with (
        loopback(in_turn(HELLO)) as server,
        ollama.AsyncClient(host=server.url, headers={"x-trace": "t-1"}) as client,
    ):
        messenger = OllamaMessenger("llama-test", client=client)
        assert (await messenger.stream("Hi")).text == "Hello, wörld"
        assert (await messenger.stream("Hi")).text == "Hello, wörld"
        assert not client._client.is_closed  # the caller's to close
    assert [r.headers["x-trace"] for r in server.requests] == ["t-1", "t-1"]


async def test_a_server_that_is_not_there_is_a_lost_connection() -> None:
    async with loopback(in_turn(HELLO)) as server:
        gone = server.url  # (no one listens there once the block is left)
    messenger = OllamaMessenger("llama-test", base_url=gone)
    with pytest.raises(ConnectionLostError, match="connection to Ollama"):
        await messenger.stream("Hi")


def test_a_client_and_a_base_url_together_are_refused() -> None:
    with pytest.raises(TypeError, match="not both"):
        OllamaMessenger("m", client=ollama.AsyncClient(), base_url="http://x")
    with pytest.raises(TypeError, match=r"takes an ollama\.AsyncClient"):
        OllamaMessenger("m", client=object())  # type: ignore[arg-type]
