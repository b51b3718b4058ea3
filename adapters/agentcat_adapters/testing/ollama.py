"""Ollama's chat stream, rendered to bytes for the loopback server: NDJSON
(``application/x-ndjson``), one JSON object a line, each a piece of the assistant's ``message``,
the last with ``"done": true``, its ``done_reason``, its counts and its durations (in
nanoseconds), as the server sends them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from agentcat_adapters.testing.server import Response, Step, streamed

__all__ = ["done", "error", "line", "reply", "status", "text", "thinking", "tool_calls"]


def line(
    message: dict[str, Any] | None = None,
    *,
    done: bool = False,
    model: str = "llama-test",
    **fields: Any,
) -> bytes:
    """One line: the assistant's ``message`` so far (its fields over an empty ``content``),
    ``done``, and any other ``fields``."""
    body = {
        "model": model,
        "created_at": "2025-01-01T00:00:00.000000Z",
        "message": {"role": "assistant", "content": "", **(message or {})},
        "done": done,
        **fields,
    }
    return (json.dumps(body, ensure_ascii=False) + "\n").encode()


def text(pieces: Iterable[str]) -> list[bytes]:
    """A line per piece of text."""
    return [line({"content": piece}) for piece in pieces]


def thinking(pieces: Iterable[str]) -> list[bytes]:
    """A line per piece of thinking (what ``think`` asks for)."""
    return [line({"thinking": piece}) for piece in pieces]


def tool_calls(*calls: tuple[str, dict[str, Any]]) -> bytes:
    """One line with ``calls``, each a name and its arguments, whole, as Ollama sends them."""
    made = [{"function": {"name": name, "arguments": arguments}} for name, arguments in calls]
    return line({"tool_calls": made})


def done(
    reason: str = "stop",
    prompt_eval_count: int | None = 10,
    eval_count: int | None = 5,
) -> bytes:
    """The last line: the reason, the counts (``None``: not sent, as a server that reports none)
    and the durations."""
    counts = {"prompt_eval_count": prompt_eval_count, "eval_count": eval_count}
    fields: dict[str, Any] = {
        "done_reason": reason,
        "total_duration": 900_000_000,
        "load_duration": 100_000_000,
        "prompt_eval_duration": 200_000_000,
        "eval_duration": 600_000_000,
        **{name: value for name, value in counts.items() if value is not None},
    }
    return line(done=True, **fields)


def error(message: str = "an error was encountered while running the model") -> bytes:
    """An error inside a stream that began with status 200."""
    return (json.dumps({"error": message}) + "\n").encode()


def reply(*lines: bytes | Sequence[bytes] | Step) -> Response:
    """A streamed reply of ``lines`` (a line, a list of them, or a server step)."""
    return streamed(*lines, headers={"content-type": "application/x-ndjson"})


def status(code: int, message: str, *, retry_after: float | None = None) -> Response:
    """An error answered before any byte of a reply, as the server answers one."""
    headers = {"content-type": "application/json; charset=utf-8"}
    if retry_after is not None:
        headers["retry-after"] = str(retry_after)
    return Response(code, headers, [json.dumps({"error": message}).encode()])
