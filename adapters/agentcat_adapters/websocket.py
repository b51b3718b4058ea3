"""`WebSocketMessenger`: a model behind a WebSocket, on agentcat's frame protocol; and
:func:`serve_messenger`, which puts any messenger behind one.

The protocol (version 1) is JSON text messages, one per frame, each an object with a ``type``:

- the client asks: ``{"type": "request", "id": ID, "model": NAME, "conversation": C}``, where
  ``C`` is the JSON object of :meth:`agentcat.Conversation.to_json`; and may then withdraw:
  ``{"type": "cancel", "id": ID}``. Closing the connection withdraws every request on it;
- the server answers each request with its deltas, ``{"type": "delta", "id": ID, "seq": N,
  "reply": R}`` (``N`` counts from 0; ``R`` is the JSON object of
  :meth:`agentcat.Reply.to_json`, so usage, the stop reason and tool calls whose arguments
  stream in fragments cross as they are), then one last frame: ``{"type": "done", "id": ID,
  "deltas": COUNT}``, or ``{"type": "error", "id": ID, "error": E}``, where ``E`` is
  ``{"kind", "message", "status", "provider_type", "retry_after", "transient"}`` and its kind is
  ``rate_limited``, ``overloaded``, ``connection_lost``, ``refused`` (the model's provider said
  no), ``failed`` (anything else) or ``protocol`` (the request itself was malformed; its ``id``
  may then be ``null``).

Frames of other types are ignored, so either side may add some. The handshake may carry a key,
``Authorization: Bearer KEY``; a server that wants one and does not get it refuses the
handshake with 401. A request is answered on demand: the server sends a delta when the socket
takes it, so a client that reads slowly slows the model's stream down (TCP's window is the only
buffer), instead of either side buffering without bound.

:class:`WebSocketMessenger` opens a connection for each stream, sends one request, and closes
the connection when the stream ends or is left (after a ``cancel``), so that leaving a stream
stops the model on the server. It runs on the Sans-I/O protocol of ``websockets`` over anyio
streams: the library's own asyncio client does not run under trio.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import math
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, ClassVar, TypeAlias, final

import anyio
import anyio.abc
from attrs import frozen

from agentcat import Conversation, Reply, StreamingAgent, StreamingError
from agentcat.errors import ConnectionLostError, OverloadedError, ProviderError, RateLimitedError
from agentcat_adapters._base import (
    Decoder,
    WireMessenger,
    causes,
    json_object,
    provider_error,
    seconds,
)
from agentcat_adapters._listening import listening

try:
    from agentcat_adapters._websocket import InvalidStatus, WebSocket, accept, connect, parse_uri
except ImportError as missing:  # pragma: no cover - the extra is installed in the suite
    raise ImportError(
        "WebSocketMessenger needs the websockets library: "
        "pip install 'agentcat-adapters[websocket]'"
    ) from missing

__all__ = ["WebSocketMessenger", "WebSocketServer", "serve_messenger"]

_ERRORS: dict[str, type[ProviderError]] = {
    "rate_limited": RateLimitedError,
    "overloaded": OverloadedError,
    "connection_lost": ConnectionLostError,
}
"""The kinds of error a server reports, as the errors a client raises (others: a
:class:`~agentcat.ProviderError`)."""


@final
class WebSocketMessenger(WireMessenger):
    """A messenger of a model served over a WebSocket, on agentcat's frame protocol (see the
    module): by :func:`serve_messenger`, or by any server that speaks it.

    ``WebSocketMessenger(model, base_url="ws://host:port/path", api_key=...)`` opens a
    connection for each stream (the key, if given, as ``Authorization: Bearer``), and closes it
    when the stream ends or is left. There is no ``client=``: a WebSocket connection is not a
    client to share between streams here. A reply that has not begun within ``start_within``
    seconds (connecting included; ``None``: no bound) is an
    :class:`~agentcat.OverloadedError`.

    Raises:
        ValueError: ``base_url`` is not a ``ws://`` or ``wss://`` URL.
    """

    provider: ClassVar[str] = "websocket"
    client_type: ClassVar[type] = WebSocket

    def __init__(
        self,
        model: str,
        *,
        base_url: str,
        api_key: str | None = None,
        start_within: float | None = 120.0,
    ) -> None:
        if not base_url.startswith(("ws://", "wss://")):
            raise ValueError(f"base_url must be a ws:// or wss:// URL, not {base_url!r}")
        super().__init__(
            model,
            client=None,
            base_url=base_url,
            api_key=None,  # (the key travels in the handshake's headers, kept here alone)
            max_retries=0,
            start_within=start_within,
            settings={},
        )
        self.__headers = {} if api_key is None else {"authorization": f"Bearer {api_key}"}
        uri = parse_uri(base_url)
        self._where = f"{uri.host}:{uri.port}"  # (never the URL: it may hold user:password@)

    def _request(self, conversation: Conversation) -> dict[str, Any]:
        return {
            "type": "request",
            "id": uuid.uuid4().hex,
            "model": self.model,
            "conversation": json.loads(conversation.to_json()),
        }

    @asynccontextmanager
    async def _events(self, request: dict[str, Any]) -> AsyncIterator[AsyncIterator[Any]]:
        # Entered once the first frame has come (so start_within bounds the wait for it);
        # left, it withdraws the request if its answer had not ended, and closes.
        assert self._base_url is not None  # (checked when made)
        socket = await connect(self._base_url, self.__headers)
        answer = _Answer(socket, request["id"])
        try:
            await socket.send(json.dumps(request, ensure_ascii=False))
            frames = answer.frames(await socket.receive())
            try:
                yield frames
            finally:
                await frames.aclose()
        finally:
            with anyio.CancelScope(shield=True):
                if not answer.ended:
                    with anyio.move_on_after(5), contextlib.suppress(anyio.BrokenResourceError):
                        await socket.send(json.dumps({"type": "cancel", "id": request["id"]}))
                await socket.aclose()

    def _decoder(self) -> Decoder:
        return _FrameDecoder()

    def _classify(self, error: BaseException) -> ProviderError | None:
        for cause in causes(error):
            if isinstance(cause, InvalidStatus):
                response = cause.response
                said = response.body.decode(errors="replace").strip() if response.body else ""
                return provider_error(
                    self.provider,
                    f"the server refused the connection: {said or response.reason_phrase}",
                    status=response.status_code,
                    kind=None,
                    retry_after=seconds(response.headers.get("retry-after")),
                    limiting=frozenset(),
                    overloaded=frozenset(),
                )
            if isinstance(cause, OSError | anyio.BrokenResourceError):
                return ConnectionLostError(
                    f"the connection to {self._where} was lost: {cause!r}",
                    provider=self.provider,
                )
        return None


class _Answer:
    """The frames that answer one request on its connection; :attr:`ended` once its last one
    (``done`` or ``error``) has come."""

    def __init__(self, socket: WebSocket, request_id: str) -> None:
        self.socket = socket
        self.request_id = request_id
        self.ended = False

    async def frames(self, first: str | None) -> AsyncGenerator[dict[str, Any], None]:
        """The frames, parsed, from ``first`` on, until the last or the connection's end.

        Raises:
            ProviderError: a frame is not a JSON object with a ``type``, or answers another
                request: the server speaks another protocol, which trying again would not
                change.
        """
        text = first
        while text is not None:
            frame = _parsed(text)
            if frame.get("id") not in (self.request_id, None):
                raise ProviderError(
                    f"the server answered request {frame.get('id')!r}, not {self.request_id!r}",
                    provider="websocket",
                )
            self.ended = frame["type"] in ("done", "error")
            yield frame
            if self.ended:
                return
            text = await self.socket.receive()


def _parsed(text: str) -> dict[str, Any]:
    """A frame of the server's, parsed.

    Raises:
        ProviderError: it is not a JSON object with a ``type``.
    """
    frame = json_object(text, "websocket", "frame")
    if not isinstance(frame.get("type"), str):
        raise ProviderError(
            f"the server sent a frame without a type: {text[:200]!r}", provider="websocket"
        )
    return frame


class _FrameDecoder(Decoder):
    """The server's frames to deltas: each ``delta`` frame's reply, in ``seq`` order; an
    ``error`` frame raised as the error it names; ``done`` the end."""

    def __init__(self) -> None:
        self.seq = 0
        self.done = False

    def feed(self, frame: dict[str, Any]) -> Iterator[Reply]:
        kind = frame["type"]
        if kind == "delta":
            if frame.get("seq") != self.seq:
                raise ProviderError(
                    f"the server sent delta {frame.get('seq')!r} where {self.seq} was due",
                    provider="websocket",
                )
            self.seq += 1
            yield _reply(frame.get("reply"))
        elif kind == "error":
            raise _error(frame.get("error"))
        elif kind == "done":
            if frame.get("deltas") != self.seq:
                raise ConnectionLostError(
                    f"the server said it sent {frame.get('deltas')!r} deltas; {self.seq} came",
                    provider="websocket",
                )
            self.done = True

    def finish(self) -> Iterator[Reply]:
        if not self.done:
            raise ConnectionLostError(
                f"the WebSocket closed after {self.seq} deltas, before the reply's done frame",
                provider="websocket",
            )
        return iter(())


def _reply(data: Any) -> Reply:
    try:
        return Reply.from_json(json.dumps(data))
    except (ValueError, TypeError) as error:
        raise ProviderError(
            f"the server sent a delta that is not a reply: {error}", provider="websocket"
        ) from error


def _error(data: Any) -> ProviderError:
    """The error an ``error`` frame reports; its ``transient`` as the server says."""
    data = data if isinstance(data, dict) else {}
    retry_after = data.get("retry_after")
    kind = _ERRORS.get(str(data.get("kind")), ProviderError)
    error = kind(
        f"the server reported {data.get('kind', 'an error')}: {data.get('message', '')}",
        provider="websocket",
        status=data.get("status") if isinstance(data.get("status"), int) else None,
        provider_type=data.get("provider_type") or None,
        retry_after=float(retry_after) if isinstance(retry_after, int | float) else None,
    )
    transient = data.get("transient")
    if isinstance(transient, bool) and transient is not kind.transient:
        error.transient = transient
    return error


_Messenger: TypeAlias = StreamingAgent[Conversation, Reply]
_Messengers: TypeAlias = _Messenger | Mapping[str, _Messenger]


@frozen
class WebSocketServer:
    """A running server of :func:`serve_messenger`: clients connect to :attr:`url`."""

    url: str


@asynccontextmanager
async def serve_messenger(
    messengers: _Messengers,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    api_key: str | None = None,
) -> AsyncIterator[WebSocketServer]:
    """Serve ``messengers`` over WebSocket, on agentcat's frame protocol, while the block runs:
    one messenger answers every request whatever its model; a mapping answers a request by its
    model's name. ``port=0`` takes a free port (the server's ``url`` says which). With an
    ``api_key``, a client must send it (``Authorization: Bearer``) or is refused with 401.

    Each request runs in a task of its connection, cancelled when the client cancels it or
    leaves; leaving the block stops every connection and every request. A failure is sent as an
    ``error`` frame, told by kind (a :class:`~agentcat.StreamingError` by its cause, transient
    when it is recoverable), after the deltas that had been sent.

    Raises:
        OSError: the address cannot be listened on.
    """
    pick = _picker(messengers)
    expected = None if api_key is None else f"Bearer {api_key}".encode()

    def refusal(handshake: Any) -> tuple[int, str, Mapping[str, str]] | None:
        given = handshake.headers.get_all("authorization")  # (one, exactly)
        sent = given[0].encode() if len(given) == 1 else b""
        if expected is not None and not hmac.compare_digest(sent, expected):
            return 401, "this server needs its key: Authorization: Bearer KEY", {}
        return None

    async def serve(stream: anyio.abc.SocketStream) -> None:
        # One connection's failure is its own: it must not reach the listener's task group,
        # which would stop every other connection (and the caller's block).
        with contextlib.suppress(Exception):
            async with stream:
                accepted = await accept(stream, refusal)
                if accepted is not None:
                    await _connection(accepted[0], pick)

    async with listening(serve, host, port) as bound:
        shown = f"[{host}]" if ":" in host else host  # (an IPv6 address, bracketed)
        yield WebSocketServer(f"ws://{shown}:{bound}")


def _picker(messengers: _Messengers) -> Callable[[str], _Messenger]:
    """The messenger for a model's name, or a :class:`ProviderError` saying there is none."""
    if not isinstance(messengers, Mapping):
        return lambda model: messengers
    names = ", ".join(repr(name) for name in messengers) or "none"

    def pick(model: str) -> _Messenger:
        if model not in messengers:
            raise ProviderError(
                f"no model {model!r} here; this server has {names}",
                provider="websocket",
                status=404,
            )
        return messengers[model]

    return pick


async def _connection(socket: WebSocket, pick: Callable[[str], _Messenger]) -> None:
    """Answer the requests of one connection, each in its own task and cancel scope, until the
    client closes it."""
    running: dict[str, anyio.CancelScope] = {}
    try:
        async with anyio.create_task_group() as requests:
            while (text := await socket.receive()) is not None:
                try:
                    frame = _client_frame(text)
                except ValueError as malformed:
                    await _send_error(socket, None, malformed, kind="protocol")
                    continue
                request_id = frame["id"]
                if frame["type"] == "cancel":
                    if request_id in running:  # (withdrawn: its id is free again at once)
                        running.pop(request_id).cancel()
                elif frame["type"] == "request":
                    if request_id in running:
                        error = ValueError(f"request {request_id!r} is already running")
                        await _send_error(socket, request_id, error, kind="protocol")
                        continue
                    scope = running[request_id] = anyio.CancelScope()
                    requests.start_soon(_request, socket, frame, pick, scope, running)
            requests.cancel_scope.cancel()  # the client has gone: so have its requests
    finally:
        await socket.aclose()


def _client_frame(text: str) -> dict[str, Any]:
    """A client's frame, parsed and checked.

    Raises:
        ValueError: it is not a request or a cancel with an ``id`` (the message says what)."""
    try:
        frame = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"a frame must be a JSON object: {error}") from error
    if not isinstance(frame, dict) or not isinstance(frame.get("id"), str):
        raise ValueError(f"a frame must be a JSON object with a string id: {text[:200]!r}")
    if not isinstance(frame.get("type"), str):
        raise ValueError(f"a frame must say its type, a string: {text[:200]!r}")
    if frame.get("type") == "request" and not isinstance(frame.get("conversation"), dict):
        raise ValueError("a request must carry its conversation, a JSON object")
    if frame.get("type") == "request" and not isinstance(frame.get("model"), str):
        raise ValueError("a request must name its model, a string")
    return frame


class _ClientGone(Exception):
    """The client's connection closed under a send: nobody is left to answer."""


async def _request(
    socket: WebSocket,
    frame: dict[str, Any],
    pick: Callable[[str], _Messenger],
    scope: anyio.CancelScope,
    running: dict[str, anyio.CancelScope],
) -> None:
    """Stream the answer to one request, in ``scope``, until it ends, fails or is cancelled
    (a cancelled request sends nothing more: its client has withdrawn it)."""
    request_id = frame["id"]
    quoted = json.dumps(request_id)
    sent = 0

    async def send(text: str) -> None:
        try:
            await socket.send(text)
        except anyio.BrokenResourceError as gone:
            raise _ClientGone from gone

    with scope:
        try:
            try:
                conversation = Conversation.from_json(json.dumps(frame["conversation"]))
            except (ValueError, TypeError) as malformed:
                await _send_error(socket, request_id, malformed, kind="protocol")
                return
            async with pick(frame["model"]).invoke(conversation) as stream:
                async for chunk in stream:
                    if chunk.delta:  # (the terminal chunk's delta is empty)
                        reply = chunk.delta.to_json()
                        await send(f'{{"type":"delta","id":{quoted},"seq":{sent},"reply":{reply}}}')
                        sent += 1
            await send(json.dumps({"type": "done", "id": request_id, "deltas": sent}))
        except _ClientGone:
            return
        except Exception as error:  # (the model's own failure, BrokenResourceError included)
            await _send_error(socket, request_id, error)
        finally:
            if running.get(request_id) is scope:  # (not a later request given the same id)
                del running[request_id]


_KINDS: dict[type[ProviderError], str] = {
    RateLimitedError: "rate_limited",
    OverloadedError: "overloaded",
    ConnectionLostError: "connection_lost",
}


async def _send_error(
    socket: WebSocket, request_id: str | None, error: Exception, kind: str | None = None
) -> None:
    """Report ``error`` to the client as an ``error`` frame (if it is still there)."""
    cause: BaseException = error
    transient = None
    if isinstance(error, StreamingError):
        transient = error.recoverable
        cause = error.__cause__ if isinstance(error.__cause__, ProviderError) else error
    fields: dict[str, Any] = {"status": None, "provider_type": None, "retry_after": None}
    if kind is None and isinstance(cause, ProviderError):
        kind = next((k for t, k in _KINDS.items() if isinstance(cause, t)), "refused")
        fields = {
            "status": cause.status,
            "provider_type": cause.provider_type,
            "retry_after": _finite(cause.retry_after),
        }
        transient = cause.transient if transient is None else transient
    body = {
        "kind": kind or "failed",
        "message": str(cause) if isinstance(cause, ProviderError | ValueError) else repr(cause),
        **fields,
        "transient": bool(transient),
    }
    with contextlib.suppress(anyio.BrokenResourceError):
        await socket.send(json.dumps({"type": "error", "id": request_id, "error": body}))


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
