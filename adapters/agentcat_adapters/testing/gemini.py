"""Gemini's ``streamGenerateContent?alt=sse`` stream, rendered to bytes for the loopback server:
data-only server-sent events of ``GenerateContentResponse`` objects, each ending with a blank
line (CRLF, as the API sends them), and no ``[DONE]``: the stream ends with the body."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from agentcat_adapters.testing.server import Response, Step, streamed

__all__ = [
    "call",
    "chunk",
    "error",
    "finish",
    "function_call",
    "reply",
    "status",
    "text",
    "thought",
    "usage",
]


def chunk(
    parts: Sequence[dict[str, Any]] | None = None,
    *,
    finish_reason: str | None = None,
    usage: dict[str, Any] | None = None,
    model: str = "gemini-test",
    id: str = "resp-1",
) -> bytes:
    """One chunk: a candidate with ``parts`` (a part per dict) and ``finish_reason``, and the
    ``usage`` so far (``usageMetadata``)."""
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": list(parts or [])}}
    if finish_reason is not None:
        candidate["finishReason"] = finish_reason
    candidate["index"] = 0
    body: dict[str, Any] = {"candidates": [candidate]}
    if usage is not None:
        body["usageMetadata"] = usage
    body |= {"modelVersion": model, "responseId": id}
    return f"data: {json.dumps(body, ensure_ascii=False)}\r\n\r\n".encode()


def text(pieces: Iterable[str], *, signature: str | None = None) -> list[bytes]:
    """A chunk per piece of text; a ``signature`` on the last (where Gemini 3 puts it)."""
    parts = [{"text": piece} for piece in pieces]
    if signature is not None and parts:
        parts[-1]["thoughtSignature"] = signature
    return [chunk([part]) for part in parts]


def thought(pieces: Iterable[str], *, signature: str | None = None) -> list[bytes]:
    """A chunk per piece of a thought summary (``"thought": true``); a ``signature`` on the
    last."""
    parts: list[dict[str, Any]] = [{"text": piece, "thought": True} for piece in pieces]
    if signature is not None and parts:
        parts[-1]["thoughtSignature"] = signature
    return [chunk([part]) for part in parts]


def call(
    name: str,
    args: Mapping[str, Any] | None = None,
    *,
    id: str | None = None,
    signature: str | None = None,
) -> dict[str, Any]:
    """A function-call part: the call whole, its ``args`` an object (and its ``id``, which
    Gemini may leave out), with a thought ``signature`` if given."""
    function: dict[str, Any] = {"name": name, "args": dict(args or {})}
    if id is not None:
        function["id"] = id
    part: dict[str, Any] = {"functionCall": function}
    if signature is not None:
        part["thoughtSignature"] = signature
    return part


def function_call(
    name: str,
    args: Mapping[str, Any] | None = None,
    *,
    id: str | None = None,
    signature: str | None = None,
) -> bytes:
    """A chunk of one function call (parallel calls: ``chunk([call(...), call(...)])``)."""
    return chunk([call(name, args, id=id, signature=signature)])


def usage(
    prompt_tokens: int,
    candidates_tokens: int | None = None,
    *,
    thoughts_tokens: int | None = None,
    cached_tokens: int | None = None,
) -> dict[str, Any]:
    """A ``usageMetadata``: running totals, the prompt's alone until the last chunk."""
    figures: dict[str, Any] = {"promptTokenCount": prompt_tokens}
    if candidates_tokens is not None:
        figures["candidatesTokenCount"] = candidates_tokens
    if thoughts_tokens is not None:
        figures["thoughtsTokenCount"] = thoughts_tokens
    if cached_tokens is not None:
        figures["cachedContentTokenCount"] = cached_tokens
    total = prompt_tokens + (candidates_tokens or 0) + (thoughts_tokens or 0)
    return figures | {"totalTokenCount": total}


def finish(reason: str = "STOP", figures: dict[str, Any] | None = None) -> bytes:
    """The last chunk: an empty text part, ``finishReason``, and the usage whole, if given."""
    return chunk([{"text": ""}], finish_reason=reason, usage=figures)


def error(code: int = 503, message: str = "The model is overloaded.") -> bytes:
    """An error inside a stream that began with status 200 (its ``status`` told by its code)."""
    body = {"error": {"code": code, "message": message, "status": _STATUSES.get(code, "UNKNOWN")}}
    return f"data: {json.dumps(body)}\r\n\r\n".encode()


def reply(*frames: bytes | Sequence[bytes] | Step) -> Response:
    """A streamed reply of ``frames`` (a frame, a list of them, or a server step)."""
    return streamed(*frames, headers={"content-type": "text/event-stream"})


def status(
    code: int,
    message: str,
    *,
    retry_after: float | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """An error answered before any byte of a reply, as the API answers one: its ``status``
    told by its code, and a ``retry_after`` in seconds as Gemini says it, a
    ``google.rpc.RetryInfo`` among the error's details."""
    error: dict[str, Any] = {
        "code": code,
        "message": message,
        "status": _STATUSES.get(code, "UNKNOWN"),
    }
    if retry_after is not None:
        retry = {"@type": "type.googleapis.com/google.rpc.RetryInfo"}
        error["details"] = [retry | {"retryDelay": f"{retry_after:g}s"}]
    body = json.dumps({"error": error}).encode()
    return Response(code, {"content-type": "application/json", **(headers or {})}, [body])


_STATUSES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
