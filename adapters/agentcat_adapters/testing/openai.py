"""OpenAI's Chat Completions stream, rendered to bytes for the loopback server: data-only
server-sent events of ``chat.completion.chunk`` objects, ending with ``data: [DONE]``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from agentcat_adapters.testing.server import Response, Step, streamed

__all__ = ["chunk", "done", "error", "finish", "reply", "status", "text", "tool_call", "usage"]


def chunk(
    choices: Sequence[dict[str, Any]] | None = None,
    *,
    usage: dict[str, Any] | None = None,
    model: str = "gpt-test",
    id: str = "chatcmpl-1",
) -> bytes:
    """One chunk: its ``choices`` (a choice per dict) and ``usage``."""
    body = {
        "id": id,
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": list(choices or []),
        "usage": usage,
    }
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n".encode()


def _delta(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    return {"index": 0, "delta": delta, "finish_reason": finish_reason}


def text(pieces: Iterable[str], *, role: bool = True) -> list[bytes]:
    """A chunk per piece of text (the first with the role, as the API sends it)."""
    out = []
    for number, piece in enumerate(pieces):
        delta: dict[str, Any] = {"content": piece}
        if role and number == 0:
            delta["role"] = "assistant"
        out.append(chunk([_delta(delta)]))
    return out


def tool_call(
    index: int, id: str | None, name: str | None, fragments: Iterable[str]
) -> list[bytes]:
    """A tool call: its id and name in the first chunk (if given), then its JSON arguments in
    ``fragments``, a chunk each."""
    first: dict[str, Any] = {"index": index, "type": "function", "function": {"arguments": ""}}
    if id is not None:
        first["id"] = id
    if name is not None:
        first["function"]["name"] = name
    out = [chunk([_delta({"tool_calls": [first]})])]
    for fragment in fragments:
        call = {"index": index, "function": {"arguments": fragment}}
        out.append(chunk([_delta({"tool_calls": [call]})]))
    return out


def finish(reason: str = "stop") -> bytes:
    return chunk([_delta({}, reason)])


def usage(prompt_tokens: int, completion_tokens: int) -> bytes:
    """The usage chunk (no choices) that ``include_usage`` asks for, before ``[DONE]``."""
    figures = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    return chunk([], usage=figures)


def done() -> bytes:
    return b"data: [DONE]\n\n"


def error(kind: str = "server_error", message: str = "The server had an error") -> bytes:
    """An error inside a stream that began with status 200."""
    return f"data: {json.dumps({'error': {'type': kind, 'message': message}})}\n\n".encode()


def reply(*frames: bytes | Sequence[bytes] | Step) -> Response:
    """A streamed reply of ``frames`` (a frame, a list of them, or a server step)."""
    return streamed(*frames, headers={"content-type": "text/event-stream"})


def status(code: int, kind: str, message: str, *, retry_after: float | None = None) -> Response:
    """An error answered before any byte of a reply, as the API answers one."""
    headers = {"content-type": "application/json"}
    if retry_after is not None:
        headers["retry-after"] = str(retry_after)
    body = json.dumps({"error": {"type": kind, "message": message, "code": None}}).encode()
    return Response(code, headers, [body])
