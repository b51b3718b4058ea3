"""Messages and their promises: one `StreamedPromise` design for tokens and for conversations."""

from __future__ import annotations

import inspect
import types
import uuid
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterable, Mapping
from contextlib import aclosing
from datetime import UTC, datetime
from typing import Any

from attrs import field, frozen

from agentcat.promise import StreamedPromise
from agentcat.stream import ChunkStream

__all__ = ["Message", "MessagePromise", "MessageSequencePromise"]


def _frozen_mapping(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return types.MappingProxyType(dict(value))


@frozen
class Message:
    """An immutable chat message."""

    content: str
    role: str = "assistant"
    id: str = field(factory=lambda: uuid.uuid4().hex)
    timestamp: datetime = field(factory=lambda: datetime.now(UTC))
    metadata: Mapping[str, Any] = field(factory=dict, converter=_frozen_mapping)


class MessagePromise(StreamedPromise[str, Message]):
    """The tokens of one message as they are produced; ``await`` it for the :class:`Message`.

    The message's role, id, timestamp and metadata are fixed when the promise is made, so
    every consumer and every ``await`` sees the same message.
    """

    def __init__(
        self,
        tokens: AsyncIterator[str],
        *,
        role: str = "assistant",
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        stamp = Message("", role, metadata=metadata or {})
        super().__init__(
            tokens,
            lambda pieces: Message(
                "".join(pieces), stamp.role, stamp.id, stamp.timestamp, stamp.metadata
            ),
        )

    @classmethod
    def resolved(cls, message: Message) -> MessagePromise:
        """The promise of a message that is complete already (its content is one token)."""
        promise = cls(_tokens((message.content,) if message.content else ()))
        promise._whole = (message,)
        return promise

    @classmethod
    def from_stream(cls, stream: ChunkStream[str], *, role: str = "assistant") -> MessagePromise:
        """The message whose tokens are the text deltas of ``stream``, as they arrive."""
        return cls(_deltas(stream), role=role)


async def _tokens(tokens: Iterable[str]) -> AsyncIterator[str]:
    for token in tokens:
        yield token


async def _deltas(stream: ChunkStream[str]) -> AsyncIterator[str]:
    async for chunk in stream.replay():
        if chunk.delta:
            yield chunk.delta


class MessageSequencePromise(StreamedPromise[MessagePromise, tuple[Message, ...]]):
    """An ordered stream of message promises, made of any nesting of content.

    Strings, messages, message promises, text streams, sequences of messages, iterables,
    async iterables and awaitables are flattened, in order, into one sequence; each message is
    passed on as soon as it is known, before its tokens are all there. An exception in the
    content is raised at its position. ``await`` it for the tuple of complete messages.
    """

    def __init__(self, *content: object, role: str = "assistant") -> None:
        super().__init__(_flatten(content, role))

    async def _assemble(self) -> tuple[Message, ...]:
        return tuple([await promise for promise in self.pieces])


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
        yield MessagePromise.from_stream(item, role=role)
    elif isinstance(item, BaseException):
        raise item
    elif isinstance(item, AsyncIterable):
        async for part in item:
            async with aclosing(_flatten(part, role)) as promises:
                async for promise in promises:
                    yield promise
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
