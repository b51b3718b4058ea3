"""What every adapter shares: the one driver that turns a provider's stream of events into
:class:`agentcat.Reply` deltas, the usage that providers report as running totals, and the
walk that finds the transport failure inside an SDK's error.

An adapter says four things: how a conversation becomes the SDK's request (``_request``), how
the SDK is called (``_events``, an async context manager of its events, which it closes on
exit so that leaving the stream reaches the socket), how its events become deltas (a fresh
``_Decoder`` per stream, pure), and which agentcat error an SDK failure is (``_classify``).
"""

from __future__ import annotations

import json
import math
import sys
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any, ClassVar

import anyio

from agentcat import REPLY, Conversation, Node, Reply, StreamingAgent, StreamingError, Usage
from agentcat.errors import OverloadedError, ProviderError, RateLimitedError
from agentcat_adapters._resume import Resumed, continuable

__all__ = [
    "Decoder",
    "Totals",
    "WireMessenger",
    "causes",
    "is_transport",
    "json_object",
    "provider_error",
    "seconds",
]


class Decoder(ABC):
    """Turns one stream's events into deltas; made fresh for each stream."""

    @abstractmethod
    def feed(self, event: Any) -> Iterator[Reply]:
        """The deltas ``event`` brings (none for a ping, or an event of an unknown type)."""

    @abstractmethod
    def finish(self) -> Iterator[Reply]:
        """The deltas at the end of the events.

        Raises:
            ConnectionLostError: the events ended before the provider's last one.
        """


class Totals:
    """Usage as providers report it, running totals (snapshots), given back as the increments
    that :data:`agentcat.REPLY` adds up: so a reply's usage is the provider's last figure,
    never a sum of snapshots."""

    _FIELDS = (
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "reasoning_tokens",
    )

    def __init__(self) -> None:
        self._seen = dict.fromkeys(self._FIELDS, 0)

    def increment(self, **snapshot: int | None) -> Usage:
        """What ``snapshot`` (a running total per field; ``None`` or absent: not reported this
        time) adds to what was reported before."""
        added = {}
        for name in self._FIELDS:
            value = snapshot.get(name)
            if value is None:
                continue
            added[name] = max(value - self._seen[name], 0)
            self._seen[name] = max(value, self._seen[name])
        return Usage(**added, reported=True)


def causes(error: BaseException) -> Iterator[BaseException]:
    """``error``, then what it was raised from or during, outward in: SDKs wrap the transport's
    failure."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def provider_error(
    provider: str,
    said: str,
    *,
    status: int | None,
    kind: str | None,
    retry_after: float | None,
    limiting: frozenset[str],
    overloaded: frozenset[str],
) -> ProviderError:
    """The agentcat error of a provider's failure, told by its HTTP ``status`` and the
    provider's own ``kind`` of error (its name of a rate limit is in ``limiting``, of an
    overload in ``overloaded``): an error event inside a 200 stream has only its kind."""
    fields: dict[str, Any] = {
        "provider": provider,
        "status": status,
        "provider_type": kind,
        "retry_after": retry_after,
    }
    if status == 429 or kind in limiting:
        return RateLimitedError(f"{provider} is limiting requests: {said}", **fields)
    if (status is not None and status >= 500) or kind in overloaded:
        return OverloadedError(f"{provider} is overloaded: {said}", **fields)
    if status is None or status == 200:  # (an error event inside a reply that had begun)
        return ProviderError(f"{provider} failed during its reply: {said}", **fields)
    return ProviderError(f"{provider} refused the request ({status}): {said}", **fields)


_TRANSPORT = frozenset(
    {
        "RemoteProtocolError",
        "ReadError",
        "ReadTimeout",
        "ConnectError",
        "ConnectTimeout",
        "WriteError",
        "WriteTimeout",
        "PoolTimeout",
    }
)
"""The names of the HTTP libraries' transport failures (the same in httpx, httpx2, httpcore)."""


def json_object(text: str, provider: str, what: str) -> dict[str, Any]:
    """``text`` (a ``what`` of ``provider``'s stream: a line, a frame), parsed.

    Raises:
        ProviderError: it is not a JSON object (the message shows it): the server speaks
            something other than the provider's protocol, which trying again would not change.
    """
    try:
        parsed = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        parsed = None
    if not isinstance(parsed, dict):
        raise ProviderError(
            f"{provider} sent a {what} that is not a JSON object: {text[:200]!r}",
            provider=provider,
        )
    return parsed


def _public_name(cls: type) -> str:
    """``cls`` as its users import it: from the shortest module path that exports it
    (``anthropic.AsyncAnthropic``, not ``anthropic._client.AsyncAnthropic``)."""
    parts = cls.__module__.split(".")
    for end in range(1, len(parts) + 1):
        path = ".".join(parts[:end])
        if getattr(sys.modules.get(path), cls.__name__, None) is cls:
            return f"{path}.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"


def is_transport(error: BaseException) -> bool:
    """Whether ``error`` is a transport failure of the HTTP library under an SDK (a connection
    refused, cut mid-body, or reset), whichever library it is (httpx, httpx2, httpcore): an SDK
    that does not wrap them raises them as they are."""
    return type(error).__name__ in _TRANSPORT


def seconds(value: str | None) -> float | None:
    """A ``retry-after`` header's seconds (``None`` if absent, or a date, not a number)."""
    try:
        return None if value is None else float(value)
    except ValueError:
        return None


class WireMessenger(StreamingAgent[Conversation | str, Reply]):
    """A messenger of a provider, on its SDK: a streaming agent from a conversation (or a
    prompt) to :class:`agentcat.Reply` deltas. The subclasses say how to speak to their SDK.

    A failure before the first delta is raised as the :class:`agentcat.ProviderError` it is
    (so ``with_retry`` and ``with_fallback`` take over), and so is a reply that has not begun
    within ``start_within`` seconds (an :class:`agentcat.OverloadedError`); after it, as a
    :class:`agentcat.StreamingError` whose ``partial`` is the reply so far, ``recoverable``
    when the failure is transient, and whose ``__cause__`` is that provider error.
    """

    provider: ClassVar[str]
    """The backend's name, in errors and in ``repr``."""
    client_type: ClassVar[type]
    """The SDK's client class: a ``client=`` must be one, and :meth:`_make_client` makes one."""
    continues: ClassVar[bool] = False
    """Whether the provider's models continue a reply sent back as the last message (see
    :meth:`with_resume`)."""

    def __init__(
        self,
        model: str,
        *,
        client: Any,
        base_url: str | None,
        api_key: str | None,
        max_retries: int,
        start_within: float | None,
        settings: Mapping[str, Any],
    ) -> None:
        kind = type(self).__name__
        if client is not None and (base_url is not None or api_key is not None):
            raise TypeError(f"give {kind} a client=, or base_url=/api_key=, not both")
        if client is not None and not isinstance(client, self.client_type):
            expected = _public_name(self.client_type)
            article = "an" if expected[0] in "aeiou" else "a"
            raise TypeError(f"client= takes {article} {expected}, not {client!r}")
        self.model = model
        """The provider's name of the model."""
        self._client = client
        self._base_url = base_url
        self.__api_key = api_key  # (never shown: not in repr, errors or stores)
        self._max_retries = max_retries
        self._start_within = math.inf if start_within is None else start_within
        self._settings = {k: v for k, v in settings.items() if v is not None}
        self._continuation_refused = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.model!r})"

    @property
    def name(self) -> str:
        return f"{self.provider}:{self.model}"

    def describe(self) -> Node:
        """A model stage, called ``provider:model``."""
        return Node("model", self.name)

    @asynccontextmanager
    async def _connected(self) -> AsyncIterator[Any]:
        """The client to stream with: the caller's, or one made for this stream and closed at
        its end, in the event loop that used it (an SDK client closed in another loop, or
        left to be collected, fails there)."""
        if self._client is not None:
            yield self._client
            return
        made = self._make_client(self.__api_key)
        try:
            yield made
        finally:
            await self._close_client(made)

    def _make_client(self, api_key: str | None) -> Any:
        """A client for one stream: ``client_type`` made with ``base_url``, ``api_key`` and
        ``max_retries`` (``None`` values: the SDK's own defaults, from its environment
        variables). An SDK whose client takes other arguments says how to make it here."""
        return self.client_type(
            base_url=self._base_url, api_key=api_key, max_retries=self._max_retries
        )

    async def _close_client(self, client: Any) -> None:
        """Close a client that :meth:`_make_client` made."""
        await client.close()

    def supports_tool_use(self) -> bool:
        """Whether the model is offered the conversation's tools, and may call them."""
        return True

    def supports_continuation(self) -> bool:
        """Whether the model continues a partial reply of text sent back as the last message:
        declared by the provider, and learnt false once the model refuses one (models change:
        Claude 4.6 and some Gemini models answer it with a 400)."""
        return self.continues and not self._continuation_refused

    def refuse_continuation(self) -> None:
        """Learn that the model refuses continuations: :meth:`supports_continuation` is false
        from now on, for this messenger."""
        self._continuation_refused = True

    def with_resume(self, attempts: int = 2) -> Resumed:
        """This messenger, whose replies cut short by a transient failure (a dropped
        connection, an overload) after their first delta go on where they stopped, up to
        ``attempts`` times: a text-only partial reply is sent back for the model to continue
        (a new request, billed again, its usage added), and the seam is mended, so the reader
        sees every character once. A reply that cannot be continued (a tool call or thinking in
        it, a model that does not continue replies, the attempts spent) raises its
        :class:`agentcat.StreamingError`, marked not ``resumable``; before the first delta,
        errors pass as they are (``with_retry`` is for those).

        Raises:
            ValueError: ``attempts`` is not an int of 1 or more.
        """
        return Resumed(self, attempts)

    async def open(self, value: Conversation | str, /) -> AsyncIterator[Reply]:
        conversation = Conversation.of(value)
        request = self._request(conversation)
        decoder = self._decoder()
        said: list[Reply] = []
        try:
            async with AsyncExitStack() as stack:
                events = await self._begun(stack, request)
                async for event in events:
                    for delta in self._read(decoder, event):
                        if delta:
                            said.append(delta)
                            yield delta
            for delta in decoder.finish():
                if delta:
                    said.append(delta)
                    yield delta
        except Exception as error:
            failure = error if isinstance(error, ProviderError) else self._classify(error)
            if failure is None:
                raise
            if not said:
                raise failure from error
            partial = REPLY.concat(said)
            raise StreamingError(
                f"{self.name} failed after {len(said)} deltas: {failure}",
                partial=partial,
                recoverable=failure.transient,
                resumable=failure.transient
                and self.supports_continuation()
                and continuable(partial),
            ) from failure

    def _read(self, decoder: Decoder, event: Any) -> list[Reply]:
        """The deltas of ``event``.

        Raises:
            ProviderError: the event is not of the shape the provider documents (a proxy's
                HTML page, a field of the wrong type): not worth retrying.
        """
        try:
            return list(decoder.feed(event))
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
            raise ProviderError(
                f"{self.provider} sent an event it does not document: {error!r}"[:300],
                provider=self.provider,
            ) from error

    async def _begun(self, stack: AsyncExitStack, request: dict[str, Any]) -> AsyncIterator[Any]:
        """The events of ``request``, once the reply has begun: within ``start_within``
        seconds, the SDK's retries and their waits included (a provider may ask to wait an
        hour, and an SDK may wait as long as it is asked).

        Raises:
            OverloadedError: the reply had not begun in time.
        """
        with anyio.move_on_after(self._start_within):
            return await stack.enter_async_context(self._events(request))
        raise OverloadedError(
            f"{self.name} had not begun its reply after {self._start_within} s, retries and "
            f"their waits included (start_within={self._start_within})",
            provider=self.provider,
        )

    @abstractmethod
    def _request(self, conversation: Conversation) -> dict[str, Any]:
        """The SDK's arguments for a reply to ``conversation`` (pure: no I/O)."""

    @abstractmethod
    def _events(self, request: dict[str, Any]) -> AbstractAsyncContextManager[AsyncIterator[Any]]:
        """The SDK's stream of events for ``request``, closed (connection and all) on exit."""

    @abstractmethod
    def _decoder(self) -> Decoder:
        """A fresh decoder for one stream."""

    @abstractmethod
    def _classify(self, error: BaseException) -> ProviderError | None:
        """The agentcat error of an SDK or transport failure; ``None`` if it is neither (a
        bug, raised as it is)."""
