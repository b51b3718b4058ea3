"""Server-sent events, read from the bytes of a response body: the frames of a stream, each a
named event and its data, parsed as JSON."""

from __future__ import annotations

import codecs
import json
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

__all__ = ["server_sent_events"]


async def server_sent_events(body: AsyncIterator[bytes]) -> AsyncGenerator[dict[str, Any], None]:
    """The events of ``body``, in order: each frame's ``data`` parsed as JSON, with the frame's
    ``event:`` name under ``"event"`` when it has one. The body may be cut anywhere (inside a
    UTF-8 sequence, between a line and its end); frames with no data are passed over.

    Raises:
        ValueError: a frame's data is not JSON.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    pending = ""
    name: str | None = None
    data: list[str] = []
    async for chunk in body:
        pending += decoder.decode(chunk)
        *lines, pending = pending.split("\n")
        for line in lines:
            line = line.removesuffix("\r")
            if not line:  # the end of a frame
                if data:
                    yield _frame(name, data)
                name, data = None, []
            elif line.startswith("event:"):
                name = line[len("event:") :].strip()
            elif line.startswith("data:"):
                data.append(line[len("data:") :].removeprefix(" "))


def _frame(name: str | None, data: list[str]) -> dict[str, Any]:
    text = "\n".join(data)
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"a server-sent event whose data is not JSON: {text!r}") from error
    if not isinstance(parsed, dict):
        return {"event": name, "data": parsed}
    return {**parsed, "event": name} if name is not None else parsed
