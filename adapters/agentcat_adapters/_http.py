"""Reading a response body so that leaving it early closes everything: the connection (so the
server sees the client go) and every generator the HTTP library nests under the body."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio

from agentcat_adapters._sse import Frame, server_sent_events

__all__ = ["frames_of", "read_body"]


@asynccontextmanager
async def read_body(response: Any) -> AsyncIterator[AsyncIterator[bytes]]:
    """The bytes of ``response`` (an ``httpx2``/``httpx`` response being streamed), closed on
    exit, however the block is left.

    Closing the response closes the connection, but leaves the library's generators (one per
    layer: the response, the transport, the connection pool) suspended where they were, to be
    collected later, which trio reports as a ``ResourceWarning`` of each. So once the response
    is closed, the body is read once more: each layer finds its stream closed and ends.
    """
    body = response.aiter_bytes()
    try:
        yield body
    finally:
        with anyio.CancelScope(shield=True):  # (even when the block is left by cancellation)
            await response.aclose()
            with contextlib.suppress(Exception):
                async for _ in body:
                    pass


@asynccontextmanager
async def frames_of(calling: Any) -> AsyncIterator[AsyncIterator[Frame]]:
    """The server-sent events of a streamed call of an SDK made with
    ``with_streaming_response`` (the SDK sends the request, with its headers and retries, and
    raises its errors of status), read here from the body and closed on exit."""
    async with calling as response, read_body(response.http_response) as body:
        frames = server_sent_events(body)
        try:
            yield frames
        finally:
            await frames.aclose()
