"""A loopback HTTP/1.1 server that runs in the test's own event loop (asyncio or trio), for
testing a messenger through its real SDK on the wire format of its provider, byte for byte.

``async with loopback(respond) as server:`` listens on ``127.0.0.1`` at a free port
(``server.url``); every request is kept in ``server.requests`` and answered by
``respond(request)``, a :class:`Response`: a status, headers, and a body of steps, each
``bytes`` sent as one HTTP chunk (so a frame can be cut anywhere, inside a UTF-8 sequence
too), a :class:`Pause`, a :class:`Drop` (the connection closed mid-body, without the last
chunk: a FIN), a :class:`Reset` (the same, by a TCP reset: an RST, which HTTP libraries raise
as another error), or :class:`AwaitHangup` (wait, without a clock, until the client closes the
connection: how a test sees cancellation reach the socket). Nothing here imports an SDK.
"""

from __future__ import annotations

import json
import socket
import struct
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.abc
from attrs import define, field, frozen

from agentcat_adapters._listening import listening

__all__ = [
    "AwaitHangup",
    "Drop",
    "Reset",
    "Loopback",
    "Pause",
    "Request",
    "Response",
    "in_turn",
    "loopback",
    "rechunked",
    "reset",
    "streamed",
]


@frozen
class Pause:
    """Wait ``seconds`` before the next step (a model's pace)."""

    seconds: float


@frozen
class Drop:
    """Close the connection here, before the body's end: the client sees it cut."""


@frozen
class Reset:
    """Reset the connection here (an RST: closed with a zero linger), before the body's end."""


@frozen
class AwaitHangup:
    """Send nothing more, and wait until the client closes the connection (it is marked on the
    request: :attr:`Request.hung_up`)."""


Step = bytes | Pause | Drop | Reset | AwaitHangup


@frozen
class Response:
    """What the server answers: ``status``, ``headers`` and the ``body`` steps. A body is sent
    with ``Transfer-Encoding: chunked``, so that a dropped connection is an error to the
    client, not an early end."""

    status: int = 200
    headers: Mapping[str, str] = field(factory=lambda: {"content-type": "text/event-stream"})
    body: Sequence[Step] = ()


@define
class Request:
    """A request the server received: its ``method``, ``path``, ``headers`` (names in lower
    case) and ``body``; :attr:`hung_up` is set once the client has closed the connection, and
    :attr:`sent` counts the steps of the response sent so far (how a test sees a slow reader
    hold the server back)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    hung_up: anyio.Event = field(factory=anyio.Event)
    sent: int = 0

    def json(self) -> Any:
        """The body, parsed as JSON."""
        return json.loads(self.body)


@define
class Loopback:
    """A running loopback server (see :func:`loopback`)."""

    url: str
    requests: list[Request] = field(factory=list)


def in_turn(*responses: Response) -> Callable[[Request], Response]:
    """What :func:`loopback` answers with ``responses`` in turn: the first request gets the
    first, and so on, the last one answering every request after it."""
    queue = list(responses)
    if not queue:
        raise ValueError("in_turn() needs at least one response")

    def respond(request: Request) -> Response:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return respond


def streamed(*frames: bytes | Sequence[bytes] | Step, headers: Mapping[str, str]) -> Response:
    """A 200 response whose body is ``frames``: a frame of bytes, a list of them, or a step."""
    body: list[Step] = []
    for frame in frames:
        if isinstance(frame, list | tuple):
            body.extend(frame)
        else:
            body.append(frame)  # type: ignore[arg-type]
    return Response(200, headers, body)


def rechunked(response: Response, sizes: Sequence[int]) -> Response:
    """``response`` with its bytes cut into HTTP chunks of ``sizes`` bytes in turn (1 to 3,
    say), across frame boundaries and inside UTF-8 sequences; other steps stay in place.

    Raises:
        ValueError: ``sizes`` is empty or holds a size below 1.
    """
    if not sizes or min(sizes) < 1:
        raise ValueError(f"rechunked() takes sizes of 1 byte or more, not {list(sizes)!r}")
    return Response(response.status, response.headers, _cut(response.body, sizes))


def _cut(steps: Iterable[Step], sizes: Sequence[int]) -> list[Step]:
    out: list[Step] = []
    pending = b""
    turn = 0
    for step in [*steps, None]:
        if isinstance(step, bytes):
            pending += step
            continue
        while pending:
            size = sizes[turn % len(sizes)]
            turn += 1
            out.append(pending[:size])
            pending = pending[size:]
        if step is not None:
            out.append(step)
    return out


@asynccontextmanager
async def loopback(respond: Callable[[Request], Response]) -> AsyncIterator[Loopback]:
    """Serve ``respond`` on a free loopback port while the block runs, in a task group of the
    caller's loop; leaving the block stops the server and every connection it holds."""
    server = Loopback("")

    async def serve(client: anyio.abc.SocketStream) -> None:
        async with client:
            await _connection(client, server, respond)

    async with listening(serve) as port:
        server.url = f"http://127.0.0.1:{port}"
        yield server


async def _connection(
    client: anyio.abc.SocketStream, server: Loopback, respond: Callable[[Request], Response]
) -> None:
    buffer = b""
    while True:  # one request after another on a kept-alive connection
        try:
            request, buffer = await _read_request(client, buffer)
        except (anyio.EndOfStream, anyio.BrokenResourceError):
            return
        server.requests.append(request)
        if not await _send(client, request, respond(request)):
            return


async def _read_request(client: anyio.abc.SocketStream, buffer: bytes) -> tuple[Request, bytes]:
    while b"\r\n\r\n" not in buffer:
        buffer += await client.receive()
    head, buffer = buffer.split(b"\r\n\r\n", 1)
    line, *lines = head.decode("latin-1").split("\r\n")
    method, path, _ = line.split(" ", 2)
    headers = {}
    for header in lines:
        name, _, value = header.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(buffer) < length:
        buffer += await client.receive()
    return Request(method, path, headers, buffer[:length]), buffer[length:]


async def _send(client: anyio.abc.SocketStream, request: Request, response: Response) -> bool:
    """Send ``response``; False if the connection ended (dropped, or closed by the client)."""
    head = [f"HTTP/1.1 {response.status} {_REASONS.get(response.status, 'Status')}"]
    head += [f"{name}: {value}" for name, value in response.headers.items()]
    head += ["transfer-encoding: chunked", "", ""]
    try:
        await client.send("\r\n".join(head).encode("latin-1"))
        for step in response.body:
            if isinstance(step, Pause):
                await anyio.sleep(step.seconds)
            elif isinstance(step, Reset):
                await reset(client)
                return False
            elif isinstance(step, Drop):
                return False
            elif isinstance(step, AwaitHangup):
                await _hangup(client)
                request.hung_up.set()
                return False
            elif step:
                await client.send(b"%x\r\n%s\r\n" % (len(step), step))
            request.sent += 1
        await client.send(b"0\r\n\r\n")
    except (anyio.BrokenResourceError, anyio.ClosedResourceError):
        request.hung_up.set()
        return False
    return True


async def _hangup(client: anyio.abc.SocketStream) -> None:
    try:
        while await client.receive():
            pass
    except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
        return


_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
    529: "Overloaded",
}


async def reset(stream: anyio.abc.SocketStream) -> None:
    """Close ``stream`` with a TCP reset (an RST) instead of the orderly FIN."""
    raw = stream.extra(anyio.abc.SocketAttribute.raw_socket)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    await stream.aclose()
