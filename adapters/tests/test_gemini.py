"""GeminiMessenger through the real ``google-genai`` SDK, against a loopback server that speaks
the ``streamGenerateContent`` stream byte for byte, under asyncio and trio."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.abc
import httpx2
import pytest
from agentcat_adapters.gemini import GeminiMessenger
from agentcat_adapters.testing import (
    Drop,
    Loopback,
    Response,
    in_turn,
    loopback,
    rechunked,
)
from agentcat_adapters.testing import gemini as wire
from google import genai
from google.genai import types

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

HELLO = wire.reply(
    wire.text(["Hel", "lo, ", "wörld"]),
    wire.finish("STOP", wire.usage(12, 7)),
)


@asynccontextmanager
async def gemini(
    *responses: Response, **options: object
) -> AsyncIterator[tuple[GeminiMessenger, Loopback]]:
    """A messenger on a loopback server that answers the requests with ``responses`` in turn."""
    async with loopback(in_turn(*responses)) as server:
        messenger = GeminiMessenger(
            "gemini-test",
            base_url=server.url,
            api_key="secret-gemini-key",
            **options,  # type: ignore[arg-type]
        )
        yield messenger, server


async def test_text_streams_with_the_usage_it_reports_at_the_end() -> None:
    async with gemini(HELLO) as (messenger, server):
        deltas = [chunk.delta async for chunk in messenger.invoke("Hi")]
        reply = await messenger.stream("Hi")
    assert [d.text for d in deltas if d.text] == ["Hel", "lo, ", "wörld"]
    assert (reply.text, reply.stop) == ("Hello, wörld", "end_turn")
    assert reply.usage == Usage(12, 7, reported=True)
    assert dict(reply.meta) == {"model": "gemini-test", "id": "resp-1"}
    sent = server.requests[0]
    assert (sent.method, sent.path) == (
        "POST",
        "/v1beta/models/gemini-test:streamGenerateContent?alt=sse",
    )
    assert sent.json() == {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}


async def test_thinking_and_its_signatures_are_kept_and_sent_back_on_their_parts() -> None:
    frames = wire.reply(
        wire.thought(["Two cities", ", one answer."], signature="sig-thought"),
        wire.text(["Oslo is ", "colder."], signature="sig-text"),
        wire.finish("STOP", wire.usage(9, 4, thoughts_tokens=30)),
    )
    async with gemini(frames, HELLO) as (messenger, server):
        reply = await messenger.stream("Which is colder?")
        again = Conversation.of("Which is colder?").append(Message.of_reply(reply))
        await messenger.stream(again.append(Message("Why?", "user")))
    assert (reply.thinking, reply.text) == ("Two cities, one answer.", "Oslo is colder.")
    assert [(type(p).__name__, getattr(p, "signature", None)) for p in reply.parts()] == [
        ("ThinkingPart", "sig-thought"),
        ("TextPart", None),
        ("ThinkingPart", "sig-text"),  # (no thought: the text's signature, after it)
    ]
    assert reply.usage == Usage(9, 34, reasoning_tokens=30, reported=True)
    assert server.requests[1].json()["contents"][1] == {
        "role": "model",
        "parts": [
            {"text": "Two cities, one answer.", "thought": True, "thoughtSignature": "sig-thought"},
            {"text": "Oslo is colder.", "thoughtSignature": "sig-text"},
        ],
    }


async def test_a_function_call_comes_whole_with_its_arguments_as_json() -> None:
    frames = wire.reply(
        wire.function_call("weather", {"city": "Oslo", "days": 2}, id="call-1", signature="s1"),
        wire.finish("STOP", wire.usage(20, 5)),
    )
    async with gemini(frames) as (messenger, server):
        offered = Conversation.of("Weather?").offering(
            [ToolSpec("weather", "The weather in a city", {"type": "object"})]
        )
        reply = await messenger.stream(offered)
    (asked,) = reply.tool_calls
    assert (asked.id, asked.name, asked.arguments()) == (
        "call-1",
        "weather",
        {"city": "Oslo", "days": 2},
    )
    assert asked.arguments_json == json.dumps({"city": "Oslo", "days": 2})
    assert (reply.stop, reply.usage) == ("tool_use", Usage(20, 5, reported=True))
    assert server.requests[0].json()["tools"] == [
        {
            "functionDeclarations": [
                {
                    "name": "weather",
                    "description": "The weather in a city",
                    "parametersJsonSchema": {"type": "object"},
                }
            ]
        }
    ]


async def test_parallel_function_calls_stay_apart() -> None:
    frames = wire.reply(
        wire.chunk(
            [
                wire.call("weather", {"city": "Oslo"}, signature="sig-first"),
                wire.call("weather", {"city": "Rome"}),  # one name, and no ids
            ]
        ),
        wire.function_call("clock"),
        wire.finish("STOP", wire.usage(20, 30)),
    )
    async with gemini(frames) as (messenger, _):
        reply = await messenger.stream("Weather and time?")
    calls = [(c.key, c.id, c.name, c.arguments()) for c in reply.tool_calls]
    assert calls == [
        (0, "", "weather", {"city": "Oslo"}),
        (2, "", "weather", {"city": "Rome"}),
        (3, "", "clock", {}),
    ]
    assert reply.fragments[1] == Thinking(1, signature="sig-first")  # right after its call
    assert reply.stop == "tool_use"


async def test_a_conversation_with_tool_results_is_sent_back_faithfully() -> None:
    asked = Message.of_reply(
        Reply(
            (
                Text(0, "Let me look."),
                ToolCall(1, "", "weather", '{"city": "Oslo"}'),
                Thinking(2, signature="sig-call"),
                ToolCall(3, "", "clock", "{}"),
            )
        )
    )
    answered = Message(
        "12\nnoon",
        "tool",
        parts=(ToolResultPart("", "12 degrees"), ToolResultPart("", "no clock", is_error=True)),
    )
    conversation = Conversation(
        [Message("Be brief.", "system"), Message("Weather?", "user"), asked, answered]
    ).offering([ToolSpec("weather"), ToolSpec("clock")])
    async with gemini(HELLO, max_tokens=256, temperature=0.2) as (messenger, server):
        await messenger.stream(conversation)
    sent = server.requests[0].json()
    assert sent["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert sent["generationConfig"] == {"maxOutputTokens": 256, "temperature": 0.2}
    assert [d["name"] for d in sent["tools"][0]["functionDeclarations"]] == ["weather", "clock"]
    assert sent["contents"] == [
        {"role": "user", "parts": [{"text": "Weather?"}]},
        {
            "role": "model",
            "parts": [
                {"text": "Let me look."},
                {
                    "functionCall": {"name": "weather", "args": {"city": "Oslo"}},
                    "thoughtSignature": "sig-call",
                },
                {"functionCall": {"name": "clock", "args": {}}},
            ],
        },
        {
            "role": "user",
            "parts": [  # (named by place: Gemini gave the calls no ids)
                {"functionResponse": {"name": "weather", "response": {"output": "12 degrees"}}},
                {"functionResponse": {"name": "clock", "response": {"error": "no clock"}}},
            ],
        },
    ]


async def test_settings_are_fields_of_the_request_body() -> None:
    thinking = {"generationConfig": {"thinkingConfig": {"includeThoughts": True}}}
    settings = {**thinking, "safetySettings": []}
    async with gemini(HELLO, temperature=0.5, settings=settings) as (messenger, server):
        await messenger.stream("Hi")
    sent = server.requests[0].json()
    assert sent["generationConfig"] == {
        "temperature": 0.5,
        "thinkingConfig": {"includeThoughts": True},
    }
    assert sent["safetySettings"] == []


@pytest.mark.parametrize("sizes", [[1], [2, 3], [3, 1, 2]])
async def test_tiny_http_chunks_cut_inside_characters_give_the_same_reply(sizes: list[int]) -> None:
    async with gemini(rechunked(HELLO, sizes)) as (messenger, _):
        reply = await messenger.stream("Hi")
    assert (reply.text, reply.usage) == ("Hello, wörld", Usage(12, 7, reported=True))


async def test_usage_is_the_final_figures_or_said_to_be_unreported() -> None:
    running = wire.reply(
        wire.chunk([{"text": "Hel"}], usage=wire.usage(12)),
        wire.chunk([{"text": "lo"}], usage=wire.usage(12, 1)),
        wire.finish("STOP", wire.usage(12, 7, thoughts_tokens=3, cached_tokens=8)),
    )
    unreported = wire.reply(wire.text(["ok"]), wire.finish("STOP"))
    async with gemini(running, unreported) as (messenger, _):
        reply = await messenger.stream("Hi")
        bare = await messenger.stream("Hi")
    assert reply.usage == Usage(12, 10, cache_read_tokens=8, reasoning_tokens=3, reported=True)
    assert bare.usage == Usage()
    assert not bare.usage.reported


async def test_finish_reasons_are_said_as_the_other_providers_say_them() -> None:
    cut = wire.reply(wire.text(["Once upon"]), wire.finish("MAX_TOKENS", wire.usage(3, 2)))
    unsafe = wire.reply(wire.finish("SAFETY"))
    blocked = wire.reply(b'data: {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}}\r\n\r\n')
    async with gemini(cut, unsafe, blocked) as (messenger, _):
        stops = [(await messenger.stream("Hi")).stop for _ in range(3)]
    assert stops == ["max_tokens", "safety", "prohibited_content"]


async def test_unknown_fields_parts_and_candidates_are_passed_over() -> None:
    frames = wire.reply(
        b'data: {"candidates": [{"content": {"parts": [{"executableCode": {"code": "1"}}]},'
        b' "index": 0, "futureField": 1}], "somethingNew": {}}\r\n\r\n',
        b'data: {"candidates": [{"content": {"parts": [{"text": "not me"}]}, "index": 1},'
        b' {"content": {"parts": [{"text": "ok", "future": true}]}, "index": 0}]}\r\n\r\n',
        wire.finish("STOP"),
    )
    async with gemini(frames) as (messenger, _):
        assert (await messenger.stream("Hi")).text == "ok"


async def test_errors_before_the_first_byte_are_typed_with_the_wait_asked_for() -> None:
    limited = wire.status(429, "Quota exceeded", retry_after=7)
    limited_by_header = wire.status(429, "Slow down", headers={"retry-after": "3"})
    overloaded = wire.status(503, "The model is overloaded.")
    refused = wire.status(400, "Invalid JSON payload received.")
    async with gemini(limited, limited_by_header, overloaded, refused, max_retries=0) as (
        messenger,
        server,
    ):
        with pytest.raises(RateLimitedError) as by_body:
            await messenger.stream("Hi")
        with pytest.raises(RateLimitedError) as by_header:
            await messenger.stream("Hi")
        with pytest.raises(OverloadedError) as busy:
            await messenger.stream("Hi")
        with pytest.raises(ProviderError, match="Invalid JSON payload") as bad:
            await messenger.stream("Hi")
    assert len(server.requests) == 4  # (max_retries=0: no retry)
    assert (by_body.value.status, by_body.value.retry_after) == (429, 7.0)
    assert by_body.value.provider_type == "RESOURCE_EXHAUSTED"
    assert by_header.value.retry_after == 3.0
    assert (busy.value.status, busy.value.provider_type) == (503, "UNAVAILABLE")
    assert busy.value.transient
    assert not bad.value.transient
    assert type(bad.value) is ProviderError


async def test_the_sdk_retries_before_the_first_byte() -> None:
    overloaded = wire.status(503, "The model is overloaded.")
    async with gemini(overloaded, HELLO, max_retries=1) as (messenger, server):
        assert (await messenger.stream("Hi")).text == "Hello, wörld"  # (after the SDK's wait)
    assert len(server.requests) == 2


async def test_an_error_frame_mid_stream_keeps_exactly_the_deltas_before_it() -> None:
    frames = wire.reply(wire.text(["Half ", "a "]), wire.error(503, "The model is overloaded."))
    async with gemini(frames) as (messenger, _):
        seen: list[Reply] = []
        try:
            async for chunk in messenger.invoke("Hi"):
                seen.append(chunk.delta)
        except StreamingError as failed:
            error = failed
        else:
            pytest.fail("the stream did not fail")
    assert len(seen) == 2
    assert error.partial == REPLY.concat(seen)
    assert error.partial.text == "Half a "
    assert error.recoverable
    assert isinstance(error.__cause__, OverloadedError)
    assert (error.__cause__.status, error.__cause__.provider_type) == (503, "UNAVAILABLE")


async def test_a_body_cut_or_ended_without_a_finish_reason_is_recoverable() -> None:
    dropped = wire.reply(wire.text(["Half "]), Drop())
    unfinished = wire.reply(wire.text(["Half "]))
    async with gemini(dropped, unfinished) as (messenger, _):
        with pytest.raises(StreamingError) as cut:
            await messenger.stream("Hi")
        with pytest.raises(StreamingError, match="no finishReason") as ended:
            await messenger.stream("Hi")
    for error in (cut.value, ended.value):
        assert error.partial.text == "Half "
        assert error.recoverable
        assert isinstance(error.__cause__, ConnectionLostError)


async def test_a_malformed_frame_is_a_provider_error_that_is_not_transient() -> None:
    malformed = b"data: {not json\r\n\r\n"
    async with gemini(wire.reply(wire.text(["Half "]), malformed), wire.reply(malformed)) as (
        messenger,
        _,
    ):
        with pytest.raises(StreamingError) as after:
            await messenger.stream("Hi")
        with pytest.raises(ProviderError, match="not a response") as before:
            await messenger.stream("Hi")
    assert after.value.partial.text == "Half "
    assert not after.value.recoverable
    assert not before.value.transient


async def test_no_server_is_a_connection_error_before_any_delta() -> None:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    await listener.aclose()  # (nothing listens there now)
    messenger = GeminiMessenger(
        "gemini-test", base_url=f"http://127.0.0.1:{port}", api_key="k", max_retries=0
    )
    with pytest.raises(ConnectionLostError):
        await messenger.stream("Hi")


async def test_the_api_key_is_in_no_repr_or_error() -> None:
    refused = wire.status(400, "API key not valid. Please pass a valid API key.")
    async with gemini(refused) as (messenger, server):
        assert "secret" not in repr(messenger)
        with pytest.raises(ProviderError) as raised:
            await messenger.stream("Hi")
    assert "secret" not in str(raised.value) + repr(raised.value)
    assert "secret" not in str(raised.value.__cause__)
    assert server.requests[0].headers["x-goog-api-key"] == "secret-gemini-key"  # to it only


async def test_a_client_the_caller_owns_is_used_with_its_retries_and_left_open() -> None:
    overloaded = wire.status(503, "The model is overloaded.")
    async with loopback(in_turn(overloaded, HELLO)) as server:
        options = types.HttpOptions(
            base_url=server.url,
            async_client_args={"transport": httpx2.AsyncHTTPTransport()},  # (for trio)
            retry_options=types.HttpRetryOptions(attempts=2, initial_delay=0, jitter=0),
        )
        client = genai.Client(api_key="k", http_options=options)
        try:
            messenger = GeminiMessenger("gemini-test", client=client)
            assert (await messenger.stream("Hi")).text == "Hello, wörld"
            assert (await messenger.stream("Again")).text == "Hello, wörld"  # still open
        finally:
            await client.aio.aclose()
            client.close()
    assert len(server.requests) == 3  # the SDK retried the first once
    assert server.requests[0].path.startswith("/v1/")  # (its own API version)


async def test_in_a_session_the_tool_loop_runs_on_gemini() -> None:
    @agent
    def weather(city: str) -> str:
        """The weather in a city."""
        return f"12 degrees in {city}"

    asking = wire.reply(
        wire.function_call("weather", {"city": "Oslo"}, id="call-1"),
        wire.finish("STOP", wire.usage(20, 9)),
    )
    answering = wire.reply(wire.text(["It is 12 degrees."]), wire.finish("STOP", wire.usage(40, 6)))
    async with gemini(asking, answering) as (messenger, server):
        session = MessengerAgent(messenger, tools=[tool(weather)])
        text = await (session >> map_deltas(text_of)).stream("Weather in Oslo?")
    assert text == "It is 12 degrees."
    assert server.requests[1].json()["contents"][-1] == {
        "role": "user",
        "parts": [
            {
                "functionResponse": {
                    "name": "weather",
                    "response": {"output": "12 degrees in Oslo"},
                    "id": "call-1",
                }
            }
        ],
    }
    total = Usage(60, 15, reported=True)  # two requests add up
    assert sum((m.usage for m in session.conversation.messages if m.usage), Usage()) == total


def test_a_client_and_a_base_url_together_are_refused() -> None:
    with pytest.raises(TypeError, match="not both"):
        GeminiMessenger("m", client=genai.Client(api_key="x"), base_url="http://x")
    with pytest.raises(TypeError, match=r"takes a google\.genai\.Client"):
        GeminiMessenger("m", client=object())  # type: ignore[arg-type]
