"""Streaming metrics: how fast a reply came, measured while it streams or from its chunks.

:class:`Meter` reads a stream (of replies or of text) as :class:`MessageChunk` values, each timed
when it reaches the reader, and says the :class:`StreamingMetrics` at any moment, for a live
status line; :meth:`StreamingMetrics.from_chunks` computes them from chunks kept. The figures
are what their names promise: the time to the first chunk with content (not to a usage-only
or metadata-only delta, which some providers send first), the wall time of the whole stream,
and the tokens the provider reported (a count of content chunks, marked ``estimated``, when it
reported none). Times are taken on the reader's side, so a slow reader's delays are in them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterable
from typing import Any

from attrs import frozen

from agentcat._runtime import is_mistake
from agentcat.chunks import Chunk, ChunkStream
from agentcat.errors import MonoidError, StreamingError
from agentcat.messenger.reply import Reply, Usage

__all__ = ["MessageChunk", "Meter", "StreamingMetrics", "with_errors"]

_NO_USAGE = Usage()


@frozen
class MessageChunk:
    """One chunk of a message's stream, as a UI reads it: the text ``delta`` and
    ``accumulated`` so far, ``done`` on the last one, its ``token_index`` in the stream, and
    ``latency_ms``, the time from the start of reading to its arrival. ``reply`` is the chunk's
    structured delta, when the stream is of replies."""

    message_id: str
    delta: str
    accumulated: str
    done: bool
    token_index: int
    latency_ms: float
    reply: Reply | None = None

    @property
    def has_content(self) -> bool:
        """Whether the chunk brings text, thinking or a tool call (not only usage or
        metadata, nor the end)."""
        if self.reply is not None:
            return bool(self.reply.fragments)
        return bool(self.delta)


@frozen
class StreamingMetrics:
    """How a stream went. Times in milliseconds from the start of reading; ``None`` where
    there is nothing to measure (no content chunk yet, no chunk at all)."""

    latency_first_token_ms: float | None
    """Time to the first chunk with content."""
    latency_total_ms: float | None
    """Time to the end of the stream (so far, for a stream still running)."""
    tokens_generated: int
    """Output tokens: the provider's figure, or the count of content chunks if ``estimated``."""
    chunks_received: int
    """Chunks that came before the terminal one (which marks the end and brings nothing of
    its own, except in a stream of one chunk: then this is 0)."""
    tokens_per_second: float | None
    """``tokens_generated`` over the time from the first token to the end: the generation
    rate, without the time the request waited before it."""
    estimated: bool
    """Whether ``tokens_generated`` counts content chunks, the provider having reported no
    usage."""
    complete: bool
    """Whether the stream has ended."""

    @classmethod
    def from_chunks(cls, chunks: Iterable[MessageChunk]) -> StreamingMetrics:
        """The metrics of a stream from its chunks, in order (all of them, or those so far)."""
        tally = _Tally()
        for chunk in chunks:
            tally.count(chunk.latency_ms, chunk.done, chunk.reply or chunk.delta)
        return tally.metrics(None)


class _Tally:
    """What the metrics are computed from, counted chunk by chunk (by a :class:`Meter`, or a
    session as its replies pass)."""

    __slots__ = ("complete", "content", "cut", "first", "last", "received", "usage")

    def __init__(self) -> None:
        self.first: float | None = None
        self.last: float | None = None
        self.received = self.content = 0
        self.usage = _NO_USAGE
        self.complete = False
        self.cut = False  # ended by a failure or by its reader leaving, not by its own end

    def count(self, latency_ms: float, done: bool, delta: Reply | str) -> None:
        """Count a chunk that came ``latency_ms`` after the start, with ``delta``."""
        self.last = latency_ms
        if done:
            self.complete = True
        else:
            self.received += 1
        if isinstance(delta, Reply):
            if delta.usage != _NO_USAGE:
                self.usage = self.usage + delta.usage
            content = bool(delta.fragments)
        else:
            content = bool(delta)
        if content:
            self.content += 1
            if self.first is None:
                self.first = latency_ms

    def metrics(self, now_ms: float | None) -> StreamingMetrics:
        total = self.last if self.complete or now_ms is None else now_ms
        # The provider's count is the truth once the stream has ended as it should; while it
        # runs, or if it was cut, it may be a figure sent at the start (one token, say), behind
        # the chunks already here.
        reported = self.usage.reported and (
            (self.complete and not self.cut) or self.usage.output_tokens >= self.content
        )
        tokens = self.usage.output_tokens if reported else self.content
        rate = None
        if self.first is not None and total is not None and total > self.first and tokens:
            rate = tokens / ((total - self.first) / 1000)
        return StreamingMetrics(
            self.first, total, tokens, self.received, rate, not reported, self.complete
        )


class Meter(AsyncIterator[MessageChunk]):
    """Reads ``stream`` (a :class:`ChunkStream` of :class:`Reply` or of ``str``) as
    :class:`MessageChunk` values of the message ``message_id``, timing each on arrival from the
    first read; :attr:`metrics` says how it goes at any moment. The stream itself is read as
    any reader does (from its first chunk), so other readers and ``await`` are unaffected.

    Raises (when read):
        MonoidError: a delta is neither a :class:`Reply` nor a ``str``.
        StreamScopeError: the stream runs tasks and is read outside ``async with stream:``.
    """

    def __init__(self, stream: ChunkStream[Any, Any], message_id: str | None = None) -> None:
        self._chunks = stream.replay()
        self.message_id = message_id or uuid.uuid4().hex
        self._tally = _Tally()
        self._start: float | None = None
        self._accumulated = ""

    @property
    def metrics(self) -> StreamingMetrics:
        """The metrics so far; for a stream still running, its total time is up to now."""
        now = None if self._start is None else (time.perf_counter() - self._start) * 1000
        return self._tally.metrics(now)

    async def __anext__(self) -> MessageChunk:
        if self._start is None:
            self._start = time.perf_counter()
        chunk: Chunk[Any] = await anext(self._chunks)
        latency = (time.perf_counter() - self._start) * 1000
        delta = chunk.delta
        if delta is None and chunk.done:  # the end of a stream whose type was never told
            delta = ""
        if isinstance(delta, Reply):
            reply, text = delta, delta.text
        elif isinstance(delta, str):
            reply, text = None, delta
        else:
            raise MonoidError(
                f"a Meter reads a stream of Reply or str deltas, not {type(delta).__qualname__}"
            )
        self._accumulated += text  # (each chunk holds its own copy, as a UI keeps it)
        read = MessageChunk(
            self.message_id, text, self._accumulated, chunk.done, chunk.index, latency, reply
        )
        self._tally.count(latency, chunk.done, delta)
        return read


async def with_errors(
    stream: ChunkStream[Any, Any], message_id: str | None = None
) -> AsyncIterator[MessageChunk | StreamingError]:
    """The stream's chunks as :class:`MessageChunk` values, and, if it fails, a
    :class:`agentcat.StreamingError` as the last item instead of an exception: the form of the
    Messenger Protocol, for a UI that shows an error where the text stopped. The error keeps
    the partial output and has the failure as its ``__cause__`` (a ``StreamingError`` raised
    by the stream is given as it is). Cancellation is not a failure: it is raised, and so are
    agentcat's own mistakes, which are bugs to fix rather than failures to show.

    Raises:
        StreamScopeError: the stream runs tasks and is read outside ``async with stream:``.
        MonoidError: a delta of the wrong type, or neither text nor a reply.
    """
    meter = Meter(stream, message_id)
    while True:
        try:
            chunk = await anext(meter)
        except StopAsyncIteration:
            return
        except StreamingError as error:
            yield error
            return
        except Exception as error:
            if is_mistake(error, ()):
                raise  # agentcat's mistake (or the meter's): a bug to see, not a failure to show
            try:
                partial = stream.accumulated
            except MonoidError:  # it failed before a delta told its type: nothing to show
                partial = None
            failure = StreamingError(
                f"the stream failed: {error}", partial=partial, recoverable=False
            )
            failure.__cause__ = error
            yield failure
            return
        yield chunk
