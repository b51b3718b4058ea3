"""``messenger.with_resume()``: a reply cut short mid-stream goes on where it stopped, and the
reader sees every character exactly once, proved over the text, its chunking and where (and
how, and how often) the connection fails, against a deterministic oracle: a loopback server
that knows the whole reply, checks that a continuation sends back a prefix of it (without
trailing whitespace, as Anthropic requires), and streams the rest. Through each real SDK whose
provider continues replies, under asyncio and trio; and what cannot be resumed is not."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import anyio
import pytest
from agentcat_adapters.claude import ClaudeMessenger
from agentcat_adapters.gemini import GeminiMessenger
from agentcat_adapters.ollama import OllamaMessenger
from agentcat_adapters.openai import OpenAIMessenger
from agentcat_adapters.testing import Drop, Request, Response, in_turn, loopback
from agentcat_adapters.testing import anthropic as claude_wire
from agentcat_adapters.testing import gemini as gemini_wire
from agentcat_adapters.testing import ollama as ollama_wire
from agentcat_adapters.testing import openai as openai_wire
from attrs import define, frozen
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from agentcat import (
    REPLY,
    ConnectionLostError,
    Node,
    Reply,
    StreamingAgent,
    StreamingError,
    Usage,
)

pytestmark = pytest.mark.anyio

Ending = str | None
"""How a response ends: ``None`` (whole), ``"drop"`` (the connection cut) or ``"error"`` (a
transient error event inside the stream)."""


@frozen
class Provider:
    """A provider whose models continue a reply: its messenger on a URL, the text a request
    sends back as its last (assistant) message, and a response of text ``pieces`` with an
    ending and the input tokens it reports."""

    name: str
    messenger: Callable[[str], ClaudeMessenger | GeminiMessenger | OllamaMessenger]
    sent_back: Callable[[dict[str, Any]], str]
    render: Callable[[Sequence[str], Ending, int], Response]

    def __str__(self) -> str:
        return self.name


def claude_sent_back(body: dict[str, Any]) -> str:
    last = body["messages"][-1]
    return "".join(b["text"] for b in last["content"]) if last["role"] == "assistant" else ""


def claude_render(pieces: Sequence[str], ending: Ending, tokens: int) -> Response:
    block = claude_wire.text_block(0, pieces)
    end: list[Any]
    if ending is None:
        stop = [claude_wire.message_delta("end_turn", len(pieces) + 1), claude_wire.message_stop()]
        end = [*block, *stop]
    else:
        end = [*block[:-1], Drop() if ending == "drop" else claude_wire.error("overloaded_error")]
    return claude_wire.reply(claude_wire.message_start(tokens), *end)


def ollama_sent_back(body: dict[str, Any]) -> str:
    last = body["messages"][-1]
    return str(last["content"]) if last["role"] == "assistant" else ""


def ollama_render(pieces: Sequence[str], ending: Ending, tokens: int) -> Response:
    end: Any
    if ending is None:
        end = ollama_wire.done("stop", tokens, len(pieces) + 1)
    else:
        end = Drop() if ending == "drop" else ollama_wire.error()
    return ollama_wire.reply(ollama_wire.text(pieces), end)


def gemini_sent_back(body: dict[str, Any]) -> str:
    last = body["contents"][-1]
    return "".join(p.get("text", "") for p in last["parts"]) if last["role"] == "model" else ""


def gemini_render(pieces: Sequence[str], ending: Ending, tokens: int) -> Response:
    end: Any
    if ending is None:
        end = gemini_wire.finish("STOP", gemini_wire.usage(tokens, len(pieces) + 1))
    else:
        end = Drop() if ending == "drop" else gemini_wire.error(503)
    return gemini_wire.reply(gemini_wire.text(pieces), end)


CONTINUING = [
    Provider(
        "claude",
        lambda url: ClaudeMessenger("claude-test", base_url=url, api_key="k", max_retries=0),
        claude_sent_back,
        claude_render,
    ),
    Provider(
        "ollama",
        lambda url: OllamaMessenger("llama-test", base_url=url),
        ollama_sent_back,
        ollama_render,
    ),
    Provider(
        "gemini",
        lambda url: GeminiMessenger("gemini-test", base_url=url, api_key="k", max_retries=0),
        gemini_sent_back,
        gemini_render,
    ),
]


@define
class Oracle:
    """The server's side: the whole ``text``; each request's answer cut into pieces of
    ``sizes`` in turn, the first ones failing (``failures``: after how many pieces, and how)."""

    text: str
    sizes: Sequence[int]
    failures: list[tuple[int, str]]
    provider: Provider
    wrong: list[str]
    usages: list[Usage]

    def respond(self, request: Request) -> Response:
        sent_back = self.provider.sent_back(request.json())
        if sent_back != sent_back.rstrip() or not self.text.startswith(sent_back):
            self.wrong.append(sent_back)  # (the test fails on it)
            return Response(400, {"content-type": "application/json"}, [b"{}"])
        pieces = cut(self.text[len(sent_back) :], self.sizes)
        tokens = 7  # the prompt's tokens, billed on every request
        if not self.failures:
            self.usages.append(Usage(tokens, len(pieces) + 1, reported=True))
            return self.provider.render(pieces, None, tokens)
        after, how = self.failures.pop(0)
        if self.provider.name == "claude":  # (message_start has come: its figure counts)
            self.usages.append(Usage(tokens, 1, reported=True))
        return self.provider.render(pieces[:after], how, tokens)


def cut(text: str, sizes: Sequence[int]) -> list[str]:
    pieces, start, turn = [], 0, 0
    while start < len(text):
        size = sizes[turn % len(sizes)]
        pieces.append(text[start : start + size])
        start, turn = start + size, turn + 1
    return pieces


TEXT = st.text(st.sampled_from("ab  \nc,é漢😀"), min_size=1, max_size=40)
SIZES = st.lists(st.integers(1, 6), min_size=1, max_size=4)
FAILURES = st.lists(
    st.tuples(st.integers(1, 12), st.sampled_from(["drop", "error"])), min_size=1, max_size=2
)


@pytest.mark.parametrize("provider", CONTINUING, ids=str)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=TEXT, sizes=SIZES, failures=FAILURES)
@example(text="Hello, ", sizes=[7], failures=[(1, "drop")])  # cut right after whitespace
@example(text="   ", sizes=[1], failures=[(1, "error")])  # whitespace only
@example(text="é漢😀", sizes=[1], failures=[(2, "drop")])  # cut between wide characters
@example(text="abc", sizes=[3], failures=[(1, "drop")])  # cut after all the text, before the stop
@example(text="a b c d", sizes=[2], failures=[(1, "drop"), (1, "error")])  # two failures
def test_a_resumed_reply_shows_every_character_exactly_once(
    anyio_backend: str,
    provider: Provider,
    text: str,
    sizes: list[int],
    failures: list[tuple[int, str]],
) -> None:
    # The first failure comes after at least one piece (so after a delta); then at most one more.
    oracle = Oracle(text, sizes, list(failures), provider, [], [])

    async def main() -> tuple[list[Reply], int]:
        async with loopback(oracle.respond) as server:
            messenger = provider.messenger(server.url).with_resume(attempts=2)
            deltas = [c.delta async for c in messenger.stream("Say it") if c.delta]
            return deltas, len(server.requests)

    deltas, requests = anyio.run(main, backend=anyio_backend)
    reply = REPLY.concat(deltas)
    assert oracle.wrong == []  # every continuation sent back a prefix, without trailing space
    assert "".join(d.text for d in deltas) == text  # every character once, in order
    assert len(reply.parts()) == 1  # one text part: the continuation goes on with it
    assert requests == 1 + len(failures)
    assert reply.usage == sum(oracle.usages, Usage(reported=True))  # every request billed
    assert reply.stop == "end_turn"


async def test_a_reply_that_cannot_be_continued_raises_as_it_was_marked_not_resumable() -> None:
    # A tool call in the partial reply: there is nothing to send back.
    call = claude_wire.tool_block(0, "call_1", "weather", ['{"city": '])[:-1]
    cut_call = claude_wire.reply(claude_wire.message_start(3), *call, Drop())
    async with loopback(in_turn(cut_call)) as server:
        claude = ClaudeMessenger("claude-test", base_url=server.url, api_key="k", max_retries=0)
        with pytest.raises(StreamingError) as raised:
            await claude.with_resume().stream("Weather?")
    assert (raised.value.recoverable, raised.value.resumable) == (True, False)
    assert raised.value.partial.tool_calls[0].arguments_json == '{"city": '
    assert len(server.requests) == 1


async def test_a_provider_that_does_not_continue_is_not_resumed() -> None:
    half = openai_wire.reply(openai_wire.text(["Half ", "a "]), Drop())
    async with loopback(in_turn(half)) as server:
        gpt = OpenAIMessenger("gpt-test", base_url=f"{server.url}/v1", api_key="k", max_retries=0)
        assert not gpt.supports_continuation()
        with pytest.raises(StreamingError) as raised:
            await gpt.with_resume().stream("Hi")
    assert raised.value.partial.text == "Half a "
    assert (raised.value.recoverable, raised.value.resumable) == (True, False)
    assert len(server.requests) == 1


async def test_a_model_that_refuses_a_continuation_is_learnt_and_not_asked_again() -> None:
    half = claude_render(["Half ", "a "], "drop", 3)
    refused = Response(
        400,
        {"content-type": "application/json"},
        [
            b'{"type": "error", "error": {"type": "invalid_request_error", "message": "This model'
            b' does not support assistant message prefill."}}'
        ],
    )
    async with loopback(in_turn(half, refused, half)) as server:
        claude = ClaudeMessenger("claude-test", base_url=server.url, api_key="k", max_retries=0)
        resumed = claude.with_resume(attempts=3)
        with pytest.raises(StreamingError) as raised:
            await resumed.stream("Hi")
        assert (raised.value.partial.text, raised.value.resumable) == ("Half a ", False)
        assert raised.value.recoverable  # (the drop that cut it was transient; the 400 is not it)
        assert isinstance(raised.value.__cause__, ConnectionLostError)
        assert len(server.requests) == 2  # the first, and the one continuation it refused
        assert not claude.supports_continuation()
        with pytest.raises(StreamingError) as again:
            await resumed.stream("Hi")
        assert not again.value.resumable
        assert len(server.requests) == 3  # not asked to continue again


async def test_a_streaming_error_says_whether_it_is_resumable() -> None:
    half = ollama_render(["Half ", "a "], "drop", 3)
    async with loopback(in_turn(half)) as server:
        with pytest.raises(StreamingError) as raised:
            await OllamaMessenger("llama-test", base_url=server.url).stream("Hi")
    assert (raised.value.recoverable, raised.value.resumable) == (True, True)


def test_attempts_must_be_one_or_more() -> None:
    with pytest.raises(ValueError, match="attempts"):
        OllamaMessenger("m").with_resume(attempts=0)


def test_a_resumed_messenger_is_a_streaming_agent_that_says_what_it_is() -> None:
    resumed = OllamaMessenger("llama-test").with_resume(3)
    assert isinstance(resumed, StreamingAgent)
    assert repr(resumed) == "OllamaMessenger('llama-test').with_resume(3)"
    assert resumed.describe() == Node("model", "ollama:llama-test (resumed)")
    assert resumed.supports_tool_use()
