"""`StreamedPromise[P, W]`: a stream of pieces that can be replayed and awaited whole."""

from __future__ import annotations

import contextlib
import contextvars
import sys
from collections.abc import AsyncIterator, Coroutine, Generator, Sequence
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import anyio
import anyio.abc

from agentcat._kernel import NOTEBOOK_SCOPE_HINT, in_kernel
from agentcat._runtime import HOST, aclose
from agentcat.errors import StreamClosedError, StreamScopeError

__all__ = ["StreamedPromise"]

P = TypeVar("P")
W = TypeVar("W")


class _Place(AsyncIterator[P]):
    """A reader's place in a promise: a :class:`_Replay`, or the promise's own. ``__anext__``
    hands back the promise's ``_piece`` coroutine rather than awaiting it in one more: a reader
    costs no layer per piece. (The place moves on when asked, so that two tasks sharing one
    iterator get one piece each; an end or an error is the same at the next place, a read
    cancelled before its piece came moves the place back, and a promise that needs a scope
    says so before any place moves.)"""

    __slots__ = ()
    _position: int

    @property
    def _promise(self) -> StreamedPromise[P, Any]:
        """The promise this place is in."""
        raise NotImplementedError

    def __anext__(self) -> Coroutine[Any, Any, P]:
        promise, index = self._promise, self._position
        unscoped = promise._unscoped
        if unscoped is not None and index >= len(promise._items) and not promise._finished:
            raise unscoped
        self._position = index + 1
        return promise._piece(index, self)


class StreamedPromise(_Place[P], Generic[P, W]):
    """A promise of a stream, in the MiniAgents sense, but pulled rather than pushed.

    * Iterate it (``async for piece in promise``) to get the pieces as they are produced. Each
      ``async for`` starts from the first piece, so several consumers, in one task or many,
      each see everything, in order; the pieces are kept for them (and for the whole).
      :meth:`replay` gives such an iterator by name; ``anext(promise)`` reads the promise's
      own one.
    * ``await promise`` gives the whole value, built from all the pieces. It is settled once:
      every ``await`` gives the same value, or raises the same error.
    * An error of the producer is raised to every consumer at the position where it happened;
      the pieces before it stay available.

    Nothing runs in the background: a piece is produced when a consumer asks for one that has
    not been produced yet, in that consumer's task, while the others wait for it. So a slow
    consumer slows the producer, and the consumer that produces carries the producer: cancelling
    it while it produces (a timeout around one reader, say) stops the producer, and the stream
    ends there for every consumer, with :class:`agentcat.StreamClosedError` (the producer cannot
    resume: the cancellation went through it). Give a deadline to the whole reading, not to one
    of several readers. Closing the promise (``aclose()``, leaving ``async with``) stops the
    producer and closes it; from another task than the one producing, once the piece under way
    has arrived.

    A subclass decides what is kept of each piece (:meth:`_kept`), how a kept item is shown
    (:meth:`_present`), how many pieces follow the last item (:meth:`_tail_count`) and what the
    whole value is (:meth:`_assemble`); :class:`agentcat.ChunkStream` keeps only deltas, for
    instance.
    """

    def __init__(self, source: AsyncIterator[Any]) -> None:
        self._source = source
        self._items: list[Any] = []
        self._finished = False
        self._error: BaseException | None = None
        self._last_given = False  # set by `_kept` when the item it gave is known to be the last
        self._pulling = False
        self._closers = 0  # how many `aclose()` calls are waiting: no consumer starts producing
        self._source_closed = False
        self._arrived: anyio.Event | None = None
        self._position = 0
        self._whole: tuple[W] | None = None
        self._failure: Exception | None = None
        self._unscoped: Exception | None = None
        self._scope: _Scope | None = None

    @property
    def _promise(self) -> StreamedPromise[P, W]:
        return self  # its own reader's place is in itself

    # What a subclass refines ----------------------------------------------------------

    def _kept(self, piece: Any) -> Any:
        """What is kept of a piece of the source (by default the piece itself), or
        :data:`_SKIPPED` to keep nothing and ask the source again. It may set ``_last_given``
        when the item is known to be the last."""
        return piece

    def _present(self, index: int) -> P:
        """The piece a consumer receives at ``index``: the item kept there, or past the items,
        one of the :meth:`_tail_count` that follow them."""
        return self._items[index]  # type: ignore[no-any-return]

    def _tail_count(self) -> int:
        """How many pieces follow the last item once the source has ended (none by default)."""
        return 0

    async def _assemble(self) -> W:
        """The whole value from every piece: by default their tuple."""
        return tuple(self.pieces)  # type: ignore[return-value]  # W = tuple[P, ...]

    async def _close_source(self) -> None:
        await aclose(self._source)

    def _needs_scope(self, message: object) -> None:
        """Say that producing runs tasks, which need the scope of ``async with``: until one is
        open, reading raises :class:`agentcat.StreamScopeError` with ``message`` (and, inside a
        Jupyter kernel, how a notebook cell does it)."""
        self._unscoped = StreamScopeError(_Scoped(message))

    def _entered(self, group: anyio.abc.TaskGroup) -> None:
        """The scope is open: the tasks of production start in ``group``."""

    # Production -----------------------------------------------------------------------

    async def _piece(self, index: int, place: _Place[P] | None = None) -> P:
        """The piece at ``index``, producing pieces up to it if need be, for the reader at
        ``place`` (moved back if the read is cancelled before the piece came).

        Raises:
            StopAsyncIteration: past the end.
            StreamScopeError: producing needs a scope no ``async with`` has opened (a stream
                that runs tasks); nothing is produced, so the stream can still be read in one.
            StreamClosedError: the promise was closed, or the consumer producing it cancelled,
                before ``index`` was produced.
            BaseException: the producer's own error, at its position.
        """
        items = self._items
        while True:
            if index < len(items):
                return self._present(index)
            if self._finished:
                if self._error is not None:
                    raise self._error
                if index < len(items) + self._tail_count():
                    return self._present(index)
                raise StopAsyncIteration
            if self._unscoped is not None:
                raise self._unscoped
            if self._pulling or self._closers:  # another consumer is producing, or aclose() closing
                try:
                    await self._arrival()
                except BaseException:
                    if place is not None and place._position == index + 1:
                        place._position = index  # not read: the piece is still this reader's next
                    raise
                continue
            self._pulling = True
            try:
                while True:
                    item = self._kept(await anext(self._source))
                    if item is not _SKIPPED:
                        break
                items.append(item)
            except StopAsyncIteration:
                await self._finish(None)
            except anyio.get_cancelled_exc_class():
                await self._finish(
                    StreamClosedError(
                        _Said(
                            "{} was cancelled while producing: the consumer that produced it "
                            "was cancelled (a timeout around it, say), which stops the producer "
                            "for every consumer",
                            self,
                        )
                    )
                )
                raise
            except BaseException as error:
                await self._finish(error)
            else:
                if self._last_given:  # no need to ask the source again to hear that it has ended
                    await self._finish(None)
                if index < len(items):  # the piece just kept (a drain asks past them all)
                    return self._present(index)
            finally:
                self._pulling = False
                if self._arrived is not None:
                    self._arrive()

    async def _arrival(self) -> None:
        """Wait until the consumer producing has its piece (or ``aclose()`` has closed)."""
        if self._arrived is None:
            self._arrived = anyio.Event()
        await self._arrived.wait()

    def _arrive(self) -> None:
        """Wake every consumer (or ``aclose()``) waiting in :meth:`_arrival`."""
        arrived, self._arrived = self._arrived, None
        if arrived is not None:
            arrived.set()

    async def _finish(self, error: BaseException | None) -> None:
        """End the stream, with ``error`` for the reads past its items (``None``: a normal end),
        and close the source. Called only by the consumer producing, or when none is."""
        self._finished = True
        self._error = error
        try:
            await self._close_source()
        finally:
            self._source_closed = True
            self._arrive()  # an `aclose()` waiting for the source to be closed

    # Consumption ----------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[P]:
        return _Replay(self)

    def replay(self) -> AsyncIterator[P]:
        """A new iterator over every piece, from the first, independent of other consumers."""
        return _Replay(self)

    @property
    def pieces(self) -> Sequence[P]:
        """The pieces produced so far.

        Raises:
            MonoidError: of a :class:`agentcat.ChunkStream` that has ended with no delta and
                whose type is unknown (its terminal chunk has no empty value to show).
        """
        ended = self._finished and self._error is None
        count = len(self._items) + (self._tail_count() if ended else 0)
        return tuple(self._present(index) for index in range(count))

    async def result(self) -> W:
        """The whole value: every piece is produced, then assembled into one value. A promise
        whose production runs tasks hosts them for the time it takes.

        Raises:
            BaseException: the producer's error, or the assembly's, the same one every time.
        """
        if self._whole is None and self._failure is None:
            if self._unscoped is not None and not self._finished:
                async with self:
                    await self._drain()
            else:
                await self._drain()
            if self._whole is None and self._failure is None:  # not by another awaiter meanwhile
                try:
                    whole = (await self._assemble(),)
                except Exception as error:
                    if self._whole is None and self._failure is None:
                        self._failure = error
                else:
                    if self._whole is None and self._failure is None:
                        self._whole = whole
        if self._failure is not None:
            raise self._failure
        assert self._whole is not None
        return self._whole[0]

    async def _drain(self) -> None:
        """Produce every piece (raising the producer's error, if any)."""
        with contextlib.suppress(StopAsyncIteration):
            await self._piece(sys.maxsize)

    def __await__(self) -> Generator[Any, None, W]:
        return self.result().__await__()

    async def aclose(self) -> None:
        """Stop the producer (and everything upstream of it), and close it; later reads past
        the pieces produced so far raise :class:`agentcat.StreamClosedError`.

        If a consumer in another task is producing a piece, this waits for that piece: a
        running producer cannot be closed from outside it (its generator is running) and
        cancelling another task needs a scope around it that costs more, on every piece, than
        the rest of reading it. To stop such a read at once, cancel the reader (a timeout
        around it, say)."""
        self._closers += 1
        try:
            while self._pulling:
                await self._arrival()
            if not self._finished:
                await self._finish(StreamClosedError(_Said("{} was closed before its end", self)))
            while not self._source_closed:  # another task is closing it
                await self._arrival()
        finally:
            self._closers -= 1
            self._arrive()

    # A promise whose production runs tasks is read inside `async with`, which owns them ------

    def _host(self, group: anyio.abc.TaskGroup) -> bool:
        """Start the tasks of production in ``group``, if they need a scope that nothing has
        opened yet: the scope of this promise's ``async with``, or of another promise whose
        production reads this one. True if this call started them."""
        if self._unscoped is None or self._finished:
            return False
        self._unscoped = None
        self._entered(group)
        return True

    async def __aenter__(self) -> Self:
        scope = self._scope
        if scope is None and self._unscoped is not None and not self._finished:
            group = anyio.create_task_group()
            await group.__aenter__()
            self._scope = _Scope(group, anyio.get_current_task().id, HOST.set(group))
            self._host(group)
        elif scope is not None and scope.owner == anyio.get_current_task().id:
            scope.depth += 1
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        scope = self._scope
        if scope is None:
            await self.aclose()
            return
        if scope.owner != anyio.get_current_task().id or scope.left:
            return  # inside the scope of another `async with`, whose owner closes the promise
        if scope.depth:
            scope.depth -= 1
            return
        scope.left = True
        try:
            await self.aclose()  # stops every task the promise started, and waits for them
        finally:
            HOST.reset(scope.token)
            scope.group.cancel_scope.cancel()  # what is left now has nothing to do
            # Left with no exception: the tasks have stopped, and the reader's own exception
            # must come out as it is, not wrapped in the group's.
            await scope.group.__aexit__(None, None, None)


_SKIPPED: Any = object()
"""What :meth:`StreamedPromise._kept` gives for a piece it does not keep."""


class _Scope:
    """The ``async with`` that holds a promise whose production runs tasks: its task group, the
    task that entered it (only that task's way out closes the promise), and how deeply it
    re-entered."""

    __slots__ = ("depth", "group", "left", "owner", "token")

    def __init__(
        self,
        group: anyio.abc.TaskGroup,
        owner: int,
        token: contextvars.Token[anyio.abc.TaskGroup | None],
    ) -> None:
        self.group, self.owner, self.token = group, owner, token
        self.depth = 0
        self.left = False


class _Replay(_Place[P]):
    """One reader's place in a promise, from its first piece."""

    __slots__ = ("_position", "_promise")

    _promise: StreamedPromise[P, Any]  # a slot, over the base's property

    def __init__(self, promise: StreamedPromise[P, Any]) -> None:
        self._promise = promise
        self._position = 0


class _Scoped:
    """The message of a :class:`agentcat.StreamScopeError`, with what a notebook cell writes
    added when it is read inside a Jupyter kernel (where the error is raised, not where the
    stream was made)."""

    __slots__ = ("_message",)

    def __init__(self, message: object) -> None:
        self._message = message

    def __str__(self) -> str:
        return f"{self._message}{NOTEBOOK_SCOPE_HINT if in_kernel() else ''}"

    __repr__ = __str__


class _Said:
    """A message put in words only when someone reads it: ``template`` with ``subject`` in it.
    A stream's ``repr`` or name renders its whole pipeline, which is no cost to pay every time a
    stream is closed early or made to need a scope."""

    __slots__ = ("_subject", "_template")

    def __init__(self, template: str, subject: object) -> None:
        self._template, self._subject = template, subject

    def __str__(self) -> str:
        return self._template.format(self._subject)

    __repr__ = __str__
