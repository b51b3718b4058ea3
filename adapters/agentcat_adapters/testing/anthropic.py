"""Anthropic's Messages stream, rendered to bytes for the loopback server: every frame a named
server-sent event whose JSON ``type`` matches its name, as the API sends them (and as the SDK
requires: it skips a frame with no ``event:`` line)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from agentcat_adapters.testing.server import Response, Step, streamed

__all__ = [
    "error",
    "event",
    "message_delta",
    "message_start",
    "message_stop",
    "ping",
    "reply",
    "status",
    "text_block",
    "thinking_block",
    "tool_block",
]


def event(kind: str, data: dict[str, Any]) -> bytes:
    """One server-sent event: ``event: kind`` and its JSON data, ``type`` set to ``kind``."""
    body = json.dumps({"type": kind, **data}, ensure_ascii=False)
    return f"event: {kind}\ndata: {body}\n\n".encode()


def message_start(
    input_tokens: int = 10, *, model: str = "claude-test", id: str = "msg_1"
) -> bytes:
    message: dict[str, Any] = {
        "id": id,
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": model,
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": 1},
    }
    return event("message_start", {"message": message})


def text_block(index: int, pieces: Iterable[str]) -> list[bytes]:
    """A text block: its start, a ``text_delta`` per piece, its stop."""
    start = event(
        "content_block_start", {"index": index, "content_block": {"type": "text", "text": ""}}
    )
    deltas = [
        event(
            "content_block_delta", {"index": index, "delta": {"type": "text_delta", "text": piece}}
        )
        for piece in pieces
    ]
    return [start, *deltas, event("content_block_stop", {"index": index})]


def thinking_block(index: int, pieces: Iterable[str], signature: str) -> list[bytes]:
    """A thinking block: ``thinking_delta`` pieces, then its ``signature_delta``."""
    block = {"type": "thinking", "thinking": "", "signature": ""}
    start = event("content_block_start", {"index": index, "content_block": block})
    deltas = [
        event(
            "content_block_delta",
            {"index": index, "delta": {"type": "thinking_delta", "thinking": piece}},
        )
        for piece in pieces
    ]
    signed = event(
        "content_block_delta",
        {"index": index, "delta": {"type": "signature_delta", "signature": signature}},
    )
    return [start, *deltas, signed, event("content_block_stop", {"index": index})]


def tool_block(index: int, id: str, name: str, fragments: Iterable[str]) -> list[bytes]:
    """A tool-use block: its start (id and name), then its JSON arguments in ``fragments``."""
    block = {"type": "tool_use", "id": id, "name": name, "input": {}}
    start = event("content_block_start", {"index": index, "content_block": block})
    deltas = [
        event(
            "content_block_delta",
            {"index": index, "delta": {"type": "input_json_delta", "partial_json": fragment}},
        )
        for fragment in fragments
    ]
    return [start, *deltas, event("content_block_stop", {"index": index})]


def message_delta(stop_reason: str = "end_turn", output_tokens: int = 5) -> bytes:
    """The stop reason, and the usage so far (cumulative, as the API counts it)."""
    delta = {"stop_reason": stop_reason, "stop_sequence": None}
    return event("message_delta", {"delta": delta, "usage": {"output_tokens": output_tokens}})


def message_stop() -> bytes:
    return event("message_stop", {})


def ping() -> bytes:
    return event("ping", {})


def error(kind: str = "overloaded_error", message: str = "Overloaded") -> bytes:
    """An error inside a stream that began with status 200."""
    return event("error", {"error": {"type": kind, "message": message}})


def reply(*frames: bytes | Sequence[bytes] | Step) -> Response:
    """A streamed reply of ``frames`` (a frame, a list of them, or a server step)."""
    return streamed(
        *frames, headers={"content-type": "text/event-stream", "request-id": "req_loop"}
    )


def status(code: int, kind: str, message: str, *, retry_after: float | None = None) -> Response:
    """An error answered before any byte of a reply, as the API answers one."""
    headers = {"content-type": "application/json"}
    if retry_after is not None:
        headers["retry-after"] = str(retry_after)
    body = json.dumps({"type": "error", "error": {"type": kind, "message": message}}).encode()
    return Response(code, headers, [body])
