"""Promises of messages: `MessagePromise`, the chunk stream of one message's text, and
`MessageSequencePromise`, an ordered stream of them made of any nesting of content."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterable, Mapping
from contextlib import aclosing
from typing import Any

import anyio
import anyio.abc

from agentcat._promise import StreamedPromise
from agentcat._runtime import deltas
from agentcat.chunks import ChunkStream, Invocation
from agentcat.errors import MonoidError
from agentcat.messenger.message import Message
from agentcat.messenger.reply import Reply
from agentcat.monoids import STR

__all__ = ["MessagePromise", "MessageSequencePromise"]


class MessagePromise(ChunkStream[str, Message]):
    """The text of one message as it is produced: a chunk stream of ``str`` deltas, which
    ``await`` resolves to the whole :class:`Message`.

    The message's role, id, timestamp and metadata are fixed when the promise is made, so every
    consumer and every ``await`` sees the same message. ``tokens`` are the text deltas, or the
    stream (or the call, ``agent.invoke(x)``) of a streaming agent whose output is text or
    :class:`agentcat.Reply` (read without consuming it: the stream stays whole for its other
    readers, and closing the promise leaves it open). Of a stream of replies, the
    chunks are the text and the whole is the message of the whole reply, with its tool calls,
    thinking and usage (:meth:`Message.of_reply`).

    A stream that runs tasks (a fan-out or a parallel product) makes a promise that does too:
    ``await`` it, or read it inside ``async with promise:``, whose scope hosts the stream's
    tasks (and closes the stream when it is left, as their scope ends).

    Raises (when read):
        StreamScopeError: the promise of a stream that runs tasks is iterated outside
            ``async with promise:``; raised at the first read, before anything runs.
    """

    def __init__(
        self,
        tokens: AsyncIterator[str]
        | ChunkStream[str, Any]
        | ChunkStream[Reply, Any]
        | Invocation[str]
        | Invocation[Reply],
        *,
        role: str = "assistant",
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self._of: ChunkStream[Any, Any] | None = None  # the stream of the text, if a stream
        if isinstance(tokens, Invocation):
            tokens = tokens.stream
        if isinstance(tokens, ChunkStream):
            self._of = tokens
            text: AsyncIterator[str] = _texts(tokens)
        else:
            text = tokens
        name = tokens._name if isinstance(tokens, ChunkStream) else role  # errors name the stage
        super().__init__(text, STR, name=name)
        self._stamp = Message("", role, metadata=metadata or {})
        self._guest: ChunkStream[Any, Any] | None = None  # the stream, once our scope hosts it
        of = self._of
        if of is not None and of._unscoped is not None and not of._finished:
            self._needs_scope(
                "a MessagePromise of a stream that runs tasks (a fan-out or a parallel product) "
                "needs a scope that owns them: read it inside `async with promise:`, or `await "
                "promise` for the whole message"
            )

    @classmethod
    def resolved(cls, message: Message) -> MessagePromise:
        """The promise of a message that is complete already (its content is one delta)."""
        promise = cls(deltas([message.content]), role=message.role)
        promise._whole = (message,)
        return promise

    @classmethod
    def _stamped(cls, tokens: ChunkStream[Reply, Any], stamp: Message) -> MessagePromise:
        """The promise of the message ``stamp`` (its id, role, timestamp and metadata), whose
        content is still streaming: what a session keeps in its store before the reply comes."""
        promise = cls(tokens, role=stamp.role)
        promise._stamp = stamp
        return promise

    @property
    def draft(self) -> Message:
        """The message as it stands: what has come so far (of a stream of replies, the reply
        so far, thinking and tool calls included), with the promise's role, id, timestamp and
        metadata (what a view shows, or a store keeps, of a reply still streaming)."""
        stamp = self._stamp
        so_far = None
        if self._of is not None:
            with contextlib.suppress(MonoidError):  # no delta has told the stream's type yet
                so_far = self._of.accumulated
        if isinstance(so_far, Reply):
            return Message.of_reply(
                so_far, stamp.role, id=stamp.id, timestamp=stamp.timestamp, metadata=stamp.metadata
            )
        return Message(self.accumulated, stamp.role, stamp.id, stamp.timestamp, stamp.metadata)

    async def _assemble(self) -> Message:
        return self.draft

    def _entered(self, group: anyio.abc.TaskGroup) -> None:
        stream = self._of
        if stream is not None and stream._host(group):  # (unless a scope of its own has)
            self._guest = stream

    async def _close_source(self) -> None:
        try:
            await super()._close_source()
        finally:
            if self._guest is not None:  # its tasks end with this promise's scope: so does it
                await self._guest.aclose()


async def _texts(stream: ChunkStream[Any, Any]) -> AsyncIterator[str]:
    """The text deltas of a stream of text or of replies."""
    async for chunk in stream.replay():
        delta = chunk.delta
        yield delta.text if isinstance(delta, Reply) else delta


class MessageSequencePromise(StreamedPromise[MessagePromise, tuple[Message, ...]]):
    """An ordered stream of message promises, made of any nesting of content.

    Strings, messages, message promises, text streams, sequences of messages, iterables,
    async iterables and awaitables are flattened, in order, into one sequence; each message is
    passed on as soon as it is known, before its text is all there. An exception in the
    content is raised at its position. ``await`` it for the tuple of complete messages.

    By default a message is produced when it is read, one after the other. With
    ``concurrently=True`` the independent replies of a sequence are produced at once, each as
    soon as it is known: read such a sequence inside ``async with sequence:``, whose scope
    owns the tasks that produce them (they are cancelled when it is left), or ``await`` it.
    Readers still see the messages in order.

    Raises (when read):
        TypeError: an item of the content cannot be a message (the message names it).
        StreamScopeError: a sequence made ``concurrently`` is read outside ``async with``.
    """

    def __init__(
        self, *content: object, role: str = "assistant", concurrently: bool = False
    ) -> None:
        super().__init__(_flatten(content, role))
        self._content = content
        self._ahead: anyio.CancelScope | None = None  # around the task producing ahead
        if concurrently:
            self._needs_scope(
                "a MessageSequencePromise made concurrently produces its messages in tasks: "
                "read it inside `async with sequence:`, or `await sequence`"
            )

    def _entered(self, group: anyio.abc.TaskGroup) -> None:
        self._ahead = anyio.CancelScope()
        group.start_soon(self._produce_ahead, group, self._ahead)

    async def _produce_ahead(self, group: anyio.abc.TaskGroup, scope: anyio.CancelScope) -> None:
        """Flatten the content as fast as it comes, and produce every message in a task."""
        # A failure is raised to readers at its position; being cancelled means the sequence
        # is being closed.
        with scope, contextlib.suppress(Exception):
            async for promise in self.replay():
                group.start_soon(_produced, promise)

    async def aclose(self) -> None:
        """Stop producing (the task that reads the content ahead, first: it may be waiting on
        a slow reply, which closing must not wait for), and close the content."""
        if self._ahead is not None:
            self._ahead.cancel()
        await super().aclose()

    async def _close_source(self) -> None:
        try:
            await super()._close_source()
        finally:
            for item in self._content:  # closed before they were reached: they never will be
                if inspect.iscoroutine(item) and inspect.getcoroutinestate(item) == "CORO_CREATED":
                    item.close()

    async def _assemble(self) -> tuple[Message, ...]:
        return tuple([await promise for promise in self.pieces])


async def _produced(promise: MessagePromise) -> None:
    with contextlib.suppress(Exception):  # its readers get the failure, at its position
        await promise


async def _flatten(item: object, role: str) -> AsyncGenerator[MessagePromise, None]:
    if isinstance(item, MessagePromise):
        yield item
    elif isinstance(item, Message):
        yield MessagePromise.resolved(item)
    elif isinstance(item, str):
        yield MessagePromise.resolved(Message(item, role))
    elif isinstance(item, MessageSequencePromise):
        async for promise in item.replay():
            yield promise
    elif isinstance(item, ChunkStream):
        yield MessagePromise(item, role=role)
    elif isinstance(item, Invocation):  # a streaming agent's call: its stream
        yield MessagePromise(item.stream, role=role)
    elif isinstance(item, BaseException):
        raise item
    elif isinstance(item, AsyncIterable):
        parts = aiter(item)
        try:
            async for part in parts:
                async with aclosing(_flatten(part, role)) as promises:
                    async for promise in promises:
                        yield promise
        finally:  # the sequence owns its content: left early, it closes what it was reading
            close = getattr(parts, "aclose", None)
            if close is not None:
                await close()
    elif inspect.isawaitable(item):
        async with aclosing(_flatten(await item, role)) as promises:
            async for promise in promises:
                yield promise
    elif isinstance(item, Iterable) and not isinstance(item, bytes | Mapping):
        for part in item:
            async with aclosing(_flatten(part, role)) as promises:
                async for promise in promises:
                    yield promise
    else:
        raise TypeError(f"cannot make a message of {item!r} ({type(item).__qualname__})")
