"""The decoders alone, over generated replies: any blocks of text, thinking and tool calls, with
any pieces, rendered to a provider's bytes and cut into any HTTP chunks, decode to the reply
they render, with the provider's final usage, and no empty delta."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
from agentcat_adapters._sse import server_sent_events
from agentcat_adapters.claude import _ClaudeDecoder
from agentcat_adapters.gemini import _GeminiDecoder, _model_parts
from agentcat_adapters.ollama import _json_lines, _OllamaDecoder
from agentcat_adapters.openai import _OpenAIDecoder
from agentcat_adapters.testing import anthropic as claude_wire
from agentcat_adapters.testing import gemini as gemini_wire
from agentcat_adapters.testing import ollama as ollama_wire
from agentcat_adapters.testing import openai as openai_wire
from hypothesis import given, settings
from hypothesis import strategies as st

from agentcat import REPLY, Message, Reply, Usage

pieces = st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=4)
arguments = st.dictionaries(st.text(max_size=4), st.integers() | st.text(max_size=5), max_size=3)
Block = tuple[str, Any, Any]
blocks = st.lists(
    st.one_of(
        st.tuples(st.just("text"), pieces, st.none()),
        st.tuples(st.just("thinking"), pieces, st.text(min_size=1, max_size=8)),
        st.tuples(st.just("tool"), st.text(min_size=1, max_size=6), arguments),
    ),
    min_size=1,
    max_size=5,
)
cuts = st.lists(st.integers(1, 7), min_size=1, max_size=5)


def fragments_of(value: dict[str, Any], data: st.DataObject) -> list[str]:
    """The JSON text of ``value`` cut at drawn places (an empty first fragment allowed)."""
    text = json.dumps(value, ensure_ascii=False)
    points = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=4)))
    edges = [0, *points, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(edges)]


async def decoded(body: bytes, sizes: list[int], decoder: Any) -> Reply:
    async def chunks() -> AsyncIterator[bytes]:
        start, turn = 0, 0
        while start < len(body):
            size = sizes[turn % len(sizes)]
            yield body[start : start + size]
            start, turn = start + size, turn + 1

    deltas: list[Reply] = []
    async for frame in server_sent_events(chunks()):
        made = list(decoder.feed(frame))
        assert all(made), made  # no empty delta reaches users
        deltas.extend(made)
    deltas.extend(decoder.finish())
    return REPLY.concat(deltas)


@settings(max_examples=150, deadline=None)
@given(blocks, cuts, st.data())
def test_claude_streams_decode_to_what_they_render(
    drawn: list[Block], sizes: list[int], data: st.DataObject
) -> None:
    frames: list[bytes] = [claude_wire.message_start(9)]
    calls = []
    for index, (kind, content, extra) in enumerate(drawn):
        if kind == "text":
            frames += claude_wire.text_block(index, content)
        elif kind == "thinking":
            frames += claude_wire.thinking_block(index, content, extra)
        else:
            calls.append((f"toolu_{index}", content, extra))
            frames += claude_wire.tool_block(
                index, f"toolu_{index}", content, fragments_of(extra, data)
            )
    frames += [
        claude_wire.ping(),
        claude_wire.message_delta("end_turn", 21),
        claude_wire.message_stop(),
    ]
    reply = anyio.run(decoded, b"".join(frames), sizes, _ClaudeDecoder())
    assert reply.text == "".join("".join(c) for k, c, _ in drawn if k == "text")
    assert reply.thinking == "".join("".join(c) for k, c, _ in drawn if k == "thinking")
    assert [(c.id, c.name, c.arguments()) for c in reply.tool_calls] == calls
    assert (reply.usage, reply.stop) == (Usage(9, 21, reported=True), "end_turn")


@settings(max_examples=150, deadline=None)
@given(
    pieces,
    st.lists(st.tuples(st.text(min_size=1, max_size=6), arguments), max_size=3),
    cuts,
    st.data(),
)
def test_openai_streams_decode_to_what_they_render(
    text: list[str], tools: list[tuple[str, dict[str, Any]]], sizes: list[int], data: st.DataObject
) -> None:
    frames = [*openai_wire.text(text)]
    for index, (name, value) in enumerate(tools):
        frames += openai_wire.tool_call(index, f"call_{index}", name, fragments_of(value, data))
    frames += [openai_wire.finish("tool_calls" if tools else "stop"), openai_wire.usage(9, 21)]
    frames.append(openai_wire.done())
    reply = anyio.run(decoded, b"".join(frames), sizes, _OpenAIDecoder())
    assert reply.text == "".join(text)
    expected = [(f"call_{i}", name, value) for i, (name, value) in enumerate(tools)]
    assert [(c.id, c.name, c.arguments()) for c in reply.tool_calls] == expected
    assert reply.usage == Usage(9, 21, reported=True)
    assert reply.stop == ("tool_use" if tools else "end_turn")


# Ollama: NDJSON lines, each tool call whole.


async def ollama_decoded(body: bytes, sizes: list[int]) -> Reply:
    async def chunks() -> AsyncIterator[bytes]:
        start, turn = 0, 0
        while start < len(body):
            size = sizes[turn % len(sizes)]
            yield body[start : start + size]
            start, turn = start + size, turn + 1

    decoder = _OllamaDecoder()
    deltas: list[Reply] = []
    async for line in _json_lines(chunks()):
        made = list(decoder.feed(line))
        assert all(made), made  # no empty delta reaches users
        deltas.extend(made)
    deltas.extend(decoder.finish())
    return REPLY.concat(deltas)


@settings(max_examples=150, deadline=None)
@given(blocks, cuts, st.booleans())
def test_ollama_streams_decode_to_what_they_render(
    drawn: list[Block], sizes: list[int], one_line: bool
) -> None:
    lines: list[bytes] = []
    expected = [(content, extra) for kind, content, extra in drawn if kind == "tool"]
    together = list(expected) if one_line else None  # every call in the line of the first
    for kind, content, extra in drawn:
        if kind == "text":
            lines += ollama_wire.text(content)
        elif kind == "thinking":
            lines += ollama_wire.thinking(content)
        elif together is None:
            lines.append(ollama_wire.tool_calls((content, extra)))
        elif together:
            lines.append(ollama_wire.tool_calls(*together))
            together = []
    lines.append(ollama_wire.done("stop", 9, 21))
    reply = anyio.run(ollama_decoded, b"".join(lines), sizes)
    assert reply.text == "".join("".join(c) for k, c, _ in drawn if k == "text")
    assert reply.thinking == "".join("".join(c) for k, c, _ in drawn if k == "thinking")
    assert [(c.name, c.arguments()) for c in reply.tool_calls] == expected
    assert len({c.id for c in reply.tool_calls}) == len(expected)  # never merged
    assert reply.usage == Usage(9, 21, reported=True)
    assert reply.stop == ("tool_use" if expected else "end_turn")


# Gemini: data-only frames of whole parts, each function call a part, thought signatures on the
# parts they belong to.


@settings(max_examples=150, deadline=None)
@given(blocks, cuts, st.booleans(), st.data())
def test_gemini_streams_decode_to_what_they_render_and_replay_as_sent(
    drawn: list[Block], sizes: list[int], together: bool, data: st.DataObject
) -> None:
    chunks: list[list[dict[str, Any]]] = []
    sent: list[dict[str, Any]] = []  # the reply's parts, as a replay sends them
    calls = []
    for index, (kind, content, extra) in enumerate(drawn):
        signature = extra if kind == "thinking" else data.draw(st.none() | st.text(min_size=1))
        if kind == "tool":
            calls.append((f"call_{index}", content, extra))
            part = gemini_wire.call(content, extra, id=f"call_{index}", signature=signature)
            if together and chunks and "functionCall" in chunks[-1][-1]:
                chunks[-1].append(part)  # parallel calls, in one chunk
            else:
                chunks.append([part])
            sent.append({k: v for k, v in part.items() if k != "thoughtSignature"})
        else:
            thought = {"thought": True} if kind == "thinking" else {}
            pieces = [{"text": piece, **thought} for piece in content]
            if signature is not None:
                pieces[-1]["thoughtSignature"] = signature
            chunks += [[piece] for piece in pieces]
            last = sent[-1] if sent else {}
            if (
                "text" in last
                and "thoughtSignature" not in last
                and last.get("thought") == (thought.get("thought"))
            ):
                last["text"] += "".join(content)  # (one part, sent in two runs of pieces)
            else:
                sent.append({"text": "".join(content), **thought})
        if signature is not None:
            sent[-1]["thoughtSignature"] = signature
    frames = [gemini_wire.chunk(parts) for parts in chunks]
    frames.append(gemini_wire.finish("STOP", gemini_wire.usage(9, 21)))
    reply = anyio.run(decoded, b"".join(frames), sizes, _GeminiDecoder())
    assert reply.text == "".join("".join(c) for k, c, _ in drawn if k == "text")
    assert reply.thinking == "".join("".join(c) for k, c, _ in drawn if k == "thinking")
    assert [(c.id, c.name, c.arguments()) for c in reply.tool_calls] == calls
    assert (reply.usage, reply.stop) == (
        Usage(9, 21, reported=True),
        "tool_use" if calls else "end_turn",
    )
    assert _model_parts(Message.of_reply(reply)) == sent
