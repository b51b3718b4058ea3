"""The actor side: :class:`AgentHost` holds one agent in a Ray actor and serves its calls and
streams, each stream a Ray streaming generator of batches.

One stream, inside the actor, is two tasks of one task group: the *pump* reads the agent's
stream (in its own task, as a fan-out's task group requires, inside ``async with``) into a
buffer of at most ``max_batch`` deltas, and the generator Ray iterates yields whatever is
waiting there as one batch. So a batch forms only while the driver or the link is behind: at
LLM token rates every delta travels alone and at once, and a fast producer pays Ray's cost per
object (about half a millisecond) once per batch, not per delta. Ray's backpressure (one object
ahead, set by the driver) with the bounded buffer bounds how far the agent runs ahead.

A transducer fed from the driver asks for each input delta: the pump puts :data:`NEED` in the
buffer, the batch that ends with it goes out, and the driver answers with :meth:`push`. The
transducer is thus exactly lock-step with its upstream, as it is locally.
"""

from __future__ import annotations

import traceback
from collections.abc import AsyncIterator, Awaitable
from typing import Any, Final

import anyio
import anyio.abc
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from agentcat import Agent, Monoid, StreamingAgent
from agentcat_ray.errors import RemoteError
from ray import cloudpickle

__all__ = ["ENDED", "NEED", "NONE", "AgentHost", "End", "Failed", "Fed"]

NONE: Final = 0
"""A batch's tail: nothing more to say."""
ENDED: Final = 1
"""A batch's tail: its last delta was the stream's last, known at once (a lifted plain agent's
one delta), so the driver marks its chunk ``done`` as the local stream does."""
NEED: Final = 2
"""A batch's tail: the transducer asks for its next input delta (:meth:`AgentHost.push`)."""


class End:
    """What the driver pushes when the transducer's input has ended."""


class Failed:
    """What the driver pushes when the transducer's input failed: ``error`` is raised to the
    transducer where it asked for the next delta, as a local source would raise it."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


Fed = tuple[Any] | End | Failed
"""One answer to :data:`NEED`: ``(delta,)``, :class:`End` or :class:`Failed`."""


class _Needed:
    """The marker the pump puts in the buffer when the transducer asks for input."""


_NEEDED: Final = _Needed()


class _Raised:
    """The agent's failure, in the buffer after the deltas before it."""

    def __init__(self, error: Exception) -> None:
        self.error = error


class AgentHost:
    """An agent in a Ray actor: ``call`` for a plain agent, ``stream`` for a streaming one,
    ``push`` to feed a transducer, ``wait_closed`` to hear that a stream's producers stopped.

    The agent arrives pickled (with Ray's cloudpickle, by :func:`agentcat_ray.on_ray`) and is
    unpickled once, here; every call and stream of the stage shares it, concurrently.
    """

    def __init__(self, pickled: bytes) -> None:
        self._agent: Agent[Any, Any] = cloudpickle.loads(pickled)
        self._inputs: dict[str, MemoryObjectSendStream[Fed]] = {}
        self._closed: dict[str, anyio.Event] = {}

    async def call(self, value: Any) -> Any:
        """The plain agent's output for ``value``."""
        return _portable(await self._agent.invoke(value), self._agent)

    async def stream(
        self, stream_id: str, value: Any, fed: bool, max_batch: int
    ) -> AsyncIterator[tuple[list[Any], int]]:
        """The batches of one stream: ``(deltas, tail)``, where ``tail`` is :data:`NONE`,
        :data:`ENDED` or :data:`NEED`. ``fed`` streams the agent as a transducer fed by
        :meth:`push`; otherwise it streams on the whole ``value``. The agent's own failure is
        raised after the batch of the deltas before it."""
        closed = self._closed[stream_id] = anyio.Event()
        send, receive = anyio.create_memory_object_stream[Any](max_batch)
        failure: Exception | None = None
        try:
            async with anyio.create_task_group() as group, receive:
                if fed:
                    given, inputs = anyio.create_memory_object_stream[Fed](1)
                    self._inputs[stream_id] = given
                    group.start_soon(self._pump, send, self._fed(inputs, send))
                else:
                    group.start_soon(self._pump, send, self._whole(value, send))
                held: Any = None
                while True:
                    if held is None:
                        try:
                            held = await receive.receive()
                        except anyio.EndOfStream:
                            break
                    batch, tail, held = _batch(held, receive, max_batch)
                    if not batch and isinstance(held, _Raised):
                        failure = held.error  # raised outside the group, not wrapped in it
                        break
                    yield batch, tail
        finally:
            self._inputs.pop(stream_id, None)
            del self._closed[stream_id]
            closed.set()
        if failure is not None:
            raise _portable_error(failure, self._agent)

    async def push(self, stream_id: str, fed: Fed) -> None:
        """Give a fed transducer the answer to its :data:`NEED`."""
        await self._inputs[stream_id].send(fed)

    async def wait_closed(self, stream_id: str) -> None:
        """Return once the stream ``stream_id`` has closed every producer it opened (at once
        if it has, or never began)."""
        closed = self._closed.get(stream_id)
        if closed is not None:
            await closed.wait()

    async def _pump(self, send: MemoryObjectSendStream[Any], produce: Awaitable[None]) -> None:
        async with send:
            try:
                await produce
            except Exception as error:
                await send.send(_Raised(error))

    async def _whole(self, value: Any, send: MemoryObjectSendStream[Any]) -> None:
        agent = self._agent
        assert isinstance(agent, StreamingAgent)
        async with agent.stream(value) as stream:
            async for chunk in stream:
                if not chunk.done:
                    await send.send(chunk.delta)
                elif chunk.index == 0 and _kept(chunk.delta, stream.monoid):
                    await send.send(_Last(chunk.delta))  # the one chunk, final at once
                # (else the terminal chunk: its delta is empty, and says nothing)

    async def _fed(
        self, inputs: MemoryObjectReceiveStream[Fed], send: MemoryObjectSendStream[Any]
    ) -> None:
        async def source() -> AsyncIterator[Any]:
            async with inputs:
                while True:
                    await send.send(_NEEDED)
                    fed = await inputs.receive()
                    if isinstance(fed, End):
                        return
                    if isinstance(fed, Failed):
                        raise fed.error
                    yield fed[0]

        agent = self._agent
        assert isinstance(agent, StreamingAgent)
        deltas = agent.transduce(source())
        try:
            async for delta in deltas:
                await send.send(delta)
        finally:
            aclose = getattr(deltas, "aclose", None)
            if aclose is not None:
                await aclose()


def _kept(delta: Any, monoid: Monoid[Any] | None) -> bool:
    """Whether a stream keeps ``delta`` (it drops an empty one), as :class:`ChunkStream` does."""
    return bool(delta) or monoid is None or not monoid.is_empty(delta)


def _portable(value: Any, agent: Agent[Any, Any]) -> Any:
    """``value``, checked to cross to the driver: a value that cannot be pickled is a
    :class:`agentcat_ray.RemoteError` here, naming the agent, not Ray's own failure there."""
    try:
        cloudpickle.dumps(value)
    except Exception as error:
        raise RemoteError(
            f"{agent!r} gave {type(value).__qualname__} {_short(value)}, which cannot be pickled "
            f"to cross to the driver: {error}"
        ) from None
    return value


def _portable_error(error: Exception, agent: Agent[Any, Any]) -> Exception:
    """``error`` if it can cross to the driver as itself, else a :class:`RemoteError` with its
    type, text and traceback (an exception whose constructor pickling cannot call, say)."""
    try:
        cloudpickle.loads(cloudpickle.dumps(error))
    except Exception as failure:
        told = "".join(traceback.format_exception(error))
        return RemoteError(
            f"{agent!r} raised {type(error).__qualname__}: {error}; it cannot be pickled to "
            f"cross to the driver ({failure}), so here is its traceback:\n{told}"
        )
    return error


def _short(value: Any) -> str:
    told = repr(value)
    return told if len(told) <= 60 else told[:57] + "..."


class _Last:
    """A delta known to be its stream's last the moment it was made."""

    def __init__(self, delta: Any) -> None:
        self.delta = delta


def _batch(
    first: Any, receive: MemoryObjectReceiveStream[Any], max_batch: int
) -> tuple[list[Any], int, Any]:
    """``first`` and the deltas waiting after it in the buffer, up to ``max_batch``: the batch,
    its tail, and the item held back for the next (a failure after the batch's deltas)."""
    batch: list[Any] = []
    item = first
    while True:
        if isinstance(item, _Raised):
            return batch, NONE, item
        if isinstance(item, _Needed):
            return batch, NEED, None
        if isinstance(item, _Last):
            batch.append(item.delta)
            return batch, ENDED, None
        batch.append(item)
        if len(batch) == max_batch:
            return batch, NONE, None
        try:
            item = receive.receive_nowait()
        except (anyio.WouldBlock, anyio.EndOfStream):
            return batch, NONE, None
