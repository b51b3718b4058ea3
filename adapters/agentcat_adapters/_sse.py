"""Server-sent events, read from the bytes of a response body: the frames of a stream, each its
``event:`` name (if it has one) and its ``data`` text."""

from __future__ import annotations

import codecs
import json
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from attrs import frozen

__all__ = ["Frame", "server_sent_events"]


@frozen
class Frame:
    """One server-sent event: its name (``None`` for a data-only frame) and its data."""

    event: str | None
    data: str

    def json(self) -> Any:
        """The data, parsed.

        Raises:
            ValueError: the data is not JSON (the message shows it).
        """
        try:
            return json.loads(self.data)
        except json.JSONDecodeError as error:
            raise ValueError(
                f"a server-sent event whose data is not JSON: {self.data!r}"
            ) from error


async def server_sent_events(body: AsyncIterator[bytes]) -> AsyncGenerator[Frame, None]:
    """The frames of ``body``, in order. The body may be cut anywhere (inside a UTF-8 sequence,
    between a line and its end); frames with no data (comments, keep-alives) are passed over."""
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
                    yield Frame(name, "\n".join(data))
                name, data = None, []
            elif line.startswith("event:"):
                name = line[len("event:") :].strip()
            elif line.startswith("data:"):
                data.append(line[len("data:") :].removeprefix(" "))
