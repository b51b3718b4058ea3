"""A WebSocket connection over an anyio byte stream, on the Sans-I/O protocol of ``websockets``:
one code path under asyncio and trio (the library's own asyncio client does not run under
trio). Only text messages are spoken; pings are answered, fragments joined."""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import Callable, Mapping

import anyio
import anyio.abc
from websockets.client import ClientProtocol
from websockets.exceptions import InvalidStatus
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import Protocol, State
from websockets.server import ServerProtocol
from websockets.uri import parse_uri

__all__ = ["InvalidStatus", "WebSocket", "accept", "connect", "parse_uri"]

_QUIET = logging.Logger("agentcat_adapters.websocket", logging.INFO)
"""The protocols' logger, never at debug level: at that level ``websockets`` logs every header
of the handshake, the API key among them. (A logger made apart from ``logging``'s tree, so no
one's configuration turns it up.)"""

_MAX_MESSAGE = 1 << 26
"""The largest message accepted (64 MiB): a conversation, or a delta, is far smaller."""


class WebSocket:
    """An open connection: :meth:`send` and :meth:`receive` text messages, :meth:`aclose`.

    Sending is serialized (several tasks may answer over one connection); a connection that
    has closed gives ``None`` to :meth:`receive` and raises ``anyio.BrokenResourceError`` on
    :meth:`send`.
    """

    def __init__(self, protocol: Protocol, stream: anyio.abc.ByteStream) -> None:
        self._protocol = protocol
        self._stream = stream
        self._sending = anyio.Lock()
        self._messages: deque[str] = deque()
        self._fragments: list[bytes] = []

    async def send(self, text: str) -> None:
        """Send ``text`` as one message.

        Raises:
            anyio.BrokenResourceError: the connection has closed.
        """
        async with self._sending:
            if self._protocol.state is not State.OPEN:
                raise anyio.BrokenResourceError("the WebSocket connection has closed")
            self._protocol.send_text(text.encode())
            await self._flush()

    async def receive(self) -> str | None:
        """The next text message; ``None`` once the connection has closed (cleanly or not)."""
        while not self._messages:
            if self._protocol.state is State.CLOSED or not await self._pull():
                return None
        return self._messages.popleft()

    async def aclose(self) -> None:
        """Say goodbye (a close frame) if the connection is open, and close the stream; shielded,
        so that a cancelled caller still closes it."""
        with anyio.CancelScope(shield=True):
            if self._protocol.state is State.OPEN:
                async with self._sending:
                    self._protocol.send_close(1000)
                    with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                        await self._flush()
            await self._stream.aclose()

    async def _pull(self) -> bool:
        """Read from the stream and take in its frames; ``False`` at its end."""
        try:
            data = await self._stream.receive()
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
            self._protocol.receive_eof()
            return False
        self._protocol.receive_data(data)
        for event in self._protocol.events_received():
            if isinstance(event, Frame):
                self._take(event)
        async with self._sending:  # the protocol's pongs and close frames
            with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                await self._flush()
        return True

    def _take(self, frame: Frame) -> None:
        if frame.opcode is Opcode.BINARY:
            self._protocol.fail(1003, "this protocol speaks text messages only")
        elif frame.opcode in (Opcode.TEXT, Opcode.CONT):
            self._fragments.append(bytes(frame.data))
            if frame.fin:
                data, self._fragments = b"".join(self._fragments), []
                try:
                    self._messages.append(data.decode())
                except UnicodeDecodeError:  # (the protocol leaves UTF-8 to the reader)
                    self._protocol.fail(1007, "a text message must be UTF-8")

    async def _flush(self) -> None:
        for data in self._protocol.data_to_send():
            if data:
                await self._stream.send(data)
            elif isinstance(self._stream, anyio.abc.SocketStream):  # the end: half-close
                with contextlib.suppress(OSError, anyio.BrokenResourceError):  # (peer gone)
                    await self._stream.send_eof()


async def connect(url: str, headers: Mapping[str, str]) -> WebSocket:
    """A connection to ``url`` (``ws://`` or ``wss://``), ``headers`` sent with the handshake.

    Raises:
        InvalidStatus: the server refused the handshake (its ``response`` has the status).
        OSError: the server could not be reached.
    """
    uri = parse_uri(url)
    stream: anyio.abc.ByteStream
    if uri.secure:
        stream = await anyio.connect_tcp(uri.host, uri.port, tls=True, tls_hostname=uri.host)
    else:
        stream = await anyio.connect_tcp(uri.host, uri.port)
    try:
        protocol = ClientProtocol(uri, max_size=_MAX_MESSAGE, logger=_QUIET)
        request = protocol.connect()
        for name, value in headers.items():
            request.headers[name] = value
        protocol.send_request(request)
        socket = WebSocket(protocol, stream)
        await socket._flush()
        while protocol.state is State.CONNECTING:
            if not await _handshake_data(protocol, stream):
                break
        if protocol.handshake_exc is not None:
            raise protocol.handshake_exc
        if protocol.state is not State.OPEN:
            raise anyio.BrokenResourceError("the server closed the connection in the handshake")
        for event in protocol.events_received():  # frames that came with the response
            if isinstance(event, Frame):
                socket._take(event)
        return socket
    except BaseException:
        with anyio.CancelScope(shield=True):
            await stream.aclose()
        raise


async def accept(
    stream: anyio.abc.ByteStream,
    refusal: Callable[[Request], tuple[int, str, Mapping[str, str]] | None],
) -> tuple[WebSocket, Request] | None:
    """The connection a client opens on ``stream``, and its handshake request; ``None`` if it
    did not complete the handshake, or was refused: ``refusal(request)`` gives a status, a
    reason and headers (``retry-after``...) to refuse it with."""
    protocol = ServerProtocol(max_size=_MAX_MESSAGE, logger=_QUIET)
    request: Request | None = None
    while request is None:
        if not await _handshake_data(protocol, stream):
            return None
        request = next((e for e in protocol.events_received() if isinstance(e, Request)), None)
    refused = refusal(request)
    response: Response
    if refused is None:
        response = protocol.accept(request)
    else:
        status, reason, headers = refused
        response = protocol.reject(status, reason)
        response.headers.update(headers)
    protocol.send_response(response)
    socket = WebSocket(protocol, stream)
    with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
        await socket._flush()
    return (socket, request) if protocol.state is State.OPEN else None


async def _handshake_data(protocol: Protocol, stream: anyio.abc.ByteStream) -> bool:
    try:
        protocol.receive_data(await stream.receive())
    except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError):
        protocol.receive_eof()
        return False
    return True
