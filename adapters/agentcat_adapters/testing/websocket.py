"""agentcat's WebSocket frame protocol (:mod:`agentcat_adapters.websocket`), scripted: a
loopback WebSocket server that answers each request with the frames a test gives, and the
frames themselves.

``async with websocket_loopback(respond) as server:`` listens on ``127.0.0.1`` (``server.url``
is a ``ws://`` URL); each request frame is kept in ``server.requests`` (a
:class:`~agentcat_adapters.testing.Request` whose ``headers`` are the handshake's and whose
``body`` is the frame) and answered by ``respond(request)``: a list of steps, each a frame (a
``dict``, given the request's ``id``), a text message sent as it is (``str``: a malformed frame,
say), or a :class:`~agentcat_adapters.testing.Pause`, :class:`~agentcat_adapters.testing.Drop`
(the TCP connection closed, without a close frame), :class:`~agentcat_adapters.testing.Reset`
(reset) or
:class:`~agentcat_adapters.testing.AwaitHangup`. ``refuse(handshake)`` may refuse a connection
with a :class:`~agentcat_adapters.testing.Response` (its status, headers and body) instead.
Needs the ``websocket`` extra.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.abc

from agentcat import Reply
from agentcat_adapters._listening import listening
from agentcat_adapters._websocket import WebSocket, accept
from agentcat_adapters.testing.server import (
    AwaitHangup,
    Drop,
    Loopback,
    Pause,
    Request,
    Reset,
    Response,
    reset,
)

__all__ = ["answer", "delta", "done", "error", "websocket_loopback"]

Step = dict[str, Any] | str | Pause | Drop | Reset | AwaitHangup


def delta(seq: int, reply: Reply) -> dict[str, Any]:
    """The ``seq``-th delta of an answer."""
    return {"type": "delta", "seq": seq, "reply": json.loads(reply.to_json())}


def done(deltas: int) -> dict[str, Any]:
    """The last frame of an answer of ``deltas`` deltas."""
    return {"type": "done", "deltas": deltas}


def error(
    kind: str,
    message: str = "the model failed",
    *,
    status: int | None = None,
    provider_type: str | None = None,
    retry_after: float | None = None,
    transient: bool = False,
) -> dict[str, Any]:
    """An ``error`` frame of ``kind`` (``rate_limited``, ``overloaded``, ``connection_lost``,
    ``refused``, ``failed``, ``protocol``)."""
    fields = {"status": status, "provider_type": provider_type, "retry_after": retry_after}
    body = {"kind": kind, "message": message, **fields, "transient": transient}
    return {"type": "error", "error": body}


def answer(*replies: Reply) -> list[dict[str, Any]]:
    """A whole answer: ``replies`` as its deltas, then ``done``."""
    return [*(delta(seq, reply) for seq, reply in enumerate(replies)), done(len(replies))]


@asynccontextmanager
async def websocket_loopback(
    respond: Callable[[Request], Sequence[Step]],
    *,
    refuse: Callable[[Request], Response | None] | None = None,
) -> AsyncIterator[Loopback]:
    """Serve ``respond`` over WebSocket on a free loopback port while the block runs, in a task
    group of the caller's loop; leaving the block stops the server and its connections."""
    server = Loopback("")

    def refusal(handshake: Any) -> tuple[int, str, dict[str, str]] | None:
        refused = None if refuse is None else refuse(_request(handshake, b""))
        if refused is None:
            return None
        body = b"".join(step for step in refused.body if isinstance(step, bytes))
        return refused.status, body.decode(), dict(refused.headers)

    async def serve(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            accepted = await accept(stream, refusal)
            if accepted is None:
                return
            socket, handshake = accepted
            text = await socket.receive()
            if text is None:
                return
            request = _request(handshake, text.encode())
            server.requests.append(request)
            await _play(socket, stream, request, respond(request))
            await socket.aclose()

    async with listening(serve) as port:
        server.url = f"ws://127.0.0.1:{port}"
        yield server


def _request(handshake: Any, body: bytes) -> Request:
    headers = {name.lower(): value for name, value in handshake.headers.raw_items()}
    return Request("GET", handshake.path, headers, body)


async def _play(
    socket: WebSocket, stream: anyio.abc.SocketStream, request: Request, steps: Sequence[Step]
) -> None:
    request_id = request.json().get("id")
    try:
        for step in steps:
            if isinstance(step, Pause):
                await anyio.sleep(step.seconds)
            elif isinstance(step, Drop):
                await stream.aclose()
                return
            elif isinstance(step, Reset):
                await reset(stream)
                return
            elif isinstance(step, AwaitHangup):
                while await socket.receive() is not None:
                    pass  # (the client's cancel frame, then its close)
                request.hung_up.set()
                return
            elif isinstance(step, str):
                await socket.send(step)
            else:
                await socket.send(json.dumps({**step, "id": step.get("id", request_id)}))
            request.sent += 1
    except anyio.BrokenResourceError:
        request.hung_up.set()
