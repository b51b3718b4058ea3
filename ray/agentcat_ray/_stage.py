"""The driver side: the agents :func:`agentcat_ray.on_ray` gives back, and the source that pulls a
remote stream's batches.

A remote stream is read with Ray's *synchronous* API in a worker thread, one thread hop per
batch: Ray's async API needs asyncio's loop (under trio it fails), and the thread costs no more
than Ray's own half millisecond per object. Whatever way the stream is left, its source calls
``ray.cancel`` (dropping a Ray generator does not stop its producer) and waits until the actor
says the agent's stream has closed every producer it opened.

(agentcat-ray is released with the core, from one workspace, and uses two of its private parts:
``Ending``, the source that tells its one delta was its last, which keeps a remote stage's
chunks exactly the local ones, and ``NoPublicConstructor``.)
"""

from __future__ import annotations

import contextlib
import uuid
import weakref
from collections import deque
from collections.abc import AsyncIterator
from typing import Any, Final, TypeVar

import anyio
import anyio.to_thread
import ray.exceptions
from attrs import frozen

import ray
from agentcat import (
    Agent,
    CompositionError,
    Monoid,
    Node,
    StreamClosedError,
    StreamingAgent,
    StreamingError,
)
from agentcat._meta import NoPublicConstructor
from agentcat._runtime import Ending
from agentcat.monoids import INFERRED
from agentcat_ray._host import ENDED, NEED, AgentHost, End, Failed, Fed
from agentcat_ray.errors import RayNotStartedError
from ray import cloudpickle

__all__ = ["RemoteAgent", "RemoteStage", "Actor"]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)

_HOST: Any = ray.remote(AgentHost)  # (typed Any: mypy does not see what ray.remote adds)

CLOSE_WAIT: Final = 5.0
"""How long closing a remote stream waits, at most, for the actor to say that the agent's
stream has closed its producers (a producer that never awaits cannot be cancelled sooner)."""


class Actor:
    """The Ray actor of one remote stage, started at its first call. The agent is pickled at
    once, so an agent that cannot travel fails where ``on_ray`` is written, and Ray checks
    the actor options there too."""

    __slots__ = ("_handle", "_pickled", "_started")

    def __init__(self, agent: Agent[Any, Any], options: dict[str, Any]) -> None:
        try:
            self._pickled = cloudpickle.dumps(agent)
        except Exception as error:
            raise CompositionError(
                f"on_ray({agent!r}): the agent cannot be pickled to go to its actor ({error}); "
                "make what holds a lock, a client or a socket inside the agent's own call"
            ) from error
        try:
            self._started = _HOST.options(**options)
        except (TypeError, ValueError) as error:
            raise CompositionError(f"on_ray({agent!r}): {error}") from error
        self._handle: Any = None

    def handle(self) -> Any:
        """The actor's handle, the actor started if it was not.

        Raises:
            RayNotStartedError: ``ray.init()`` was not called.
        """
        if self._handle is None:
            if not ray.is_initialized():
                raise RayNotStartedError(
                    "a stage on Ray ran before ray.init(): call ray.init() (or "
                    "ray.init(address=...) to join a cluster) first; agentcat never starts "
                    "Ray itself"
                )
            self._handle = self._started.remote(self._pickled)
        return self._handle


@frozen(repr=False, eq=False)
class RemoteAgent(Agent[In, Out], metaclass=NoPublicConstructor):
    """A plain agent on Ray (``on_ray(agent)``): each ``invoke`` is one remote call.

    Its failures are the agent's own, with their types and arguments (a note says they were
    raised in a Ray actor); a failure of Ray itself (the actor died) is Ray's, so that
    ``with_retry(on=(ray.exceptions.RayActorError,))`` can retry it over ``max_restarts``.
    Cancelling the call cancels the remote one.
    """

    _built_by = "on_ray(agent)"

    agent: Agent[In, Out]
    actor: Actor

    async def invoke(self, value: In, /) -> Out:
        ref = self.actor.handle().call.remote(value)
        try:
            output: Out = await anyio.to_thread.run_sync(ray.get, ref, abandon_on_cancel=True)
        except ray.exceptions.RayTaskError as error:
            raise _local(error, self) from None
        except anyio.get_cancelled_exc_class():
            ray.cancel(ref)
            raise
        return output

    @property
    def name(self) -> str:
        return f"on_ray({self.agent.name})"

    @property
    def input_type(self) -> object | None:
        return self.agent.input_type

    @property
    def output_type(self) -> object | None:
        return self.agent.output_type

    def describe(self) -> Node:
        return _node(self.agent)


@frozen(repr=False, eq=False)
class RemoteStage(StreamingAgent[In, Out], metaclass=NoPublicConstructor):
    """A streaming stage on Ray (``on_ray(stage)``), of the same kind as the stage: a
    whole-input stage (a model, a streaming pipeline) streams on its whole input, a transducer
    is fed delta by delta, lock-step with its upstream.

    Its stream is an ordinary :class:`agentcat.ChunkStream`, with the local run's chunks (a
    fan-out's branches may interleave otherwise). A whole-input stage's producer runs ahead of
    its reader by at most ``2 * max_batch + 1`` deltas (see :func:`agentcat_ray.on_ray`).
    Errors are as they would be locally: the agent's own exception, with its type and
    arguments, at its position; a failure of Ray after the first delta is an
    :class:`agentcat.StreamingError` with the partial output, before it Ray's own error, which
    ``with_retry`` can retry.
    """

    _built_by = "on_ray(stage)"

    agent: StreamingAgent[In, Out]
    actor: Actor
    max_batch: int

    def open(self, value: In, /) -> AsyncIterator[Out]:
        return _Remote(self, value, None)

    def transduce(self, source: AsyncIterator[In], /) -> AsyncIterator[Out]:
        if self.agent.needs_whole_input:
            return super().transduce(source)
        return _Remote(self, None, source)

    @property
    def needs_whole_input(self) -> bool:
        return self.agent.needs_whole_input

    @property
    def element_type(self) -> object | None:
        return self.agent.element_type

    @property
    def monoid(self) -> Monoid[Out] | None:
        return self.agent.monoid

    def monoid_after(self, upstream: Monoid[Any] | None, /) -> Monoid[Out] | None:
        return self.agent.monoid_after(upstream)

    def _monoid_for_input(self, value: In, /) -> Monoid[Out] | None:
        return self.agent._monoid_for_input(value)

    @property
    def input_type(self) -> object | None:
        return self.agent.input_type

    @property
    def name(self) -> str:
        return f"on_ray({self.agent.name})"

    def describe(self) -> Node:
        return _node(self.agent)


def _node(agent: Agent[Any, Any]) -> Node:
    return Node("remote", "on_ray({})", (agent.describe(),))


class _Remote(Ending[Any]):
    """The deltas of one remote stream: a batch pulled when the last is used up, its deltas
    handed on one by one, so chunk boundaries are the agent's own. Fed (``source`` given), it
    answers each request of the remote transducer with one delta of ``source``, pulled then."""

    def __init__(
        self, stage: RemoteStage[Any, Any], value: Any, source: AsyncIterator[Any] | None
    ) -> None:
        self.ended = False
        self._stage, self._value, self._source = stage, value, source
        self._batch: deque[Any] = deque()
        self._tail = 0
        self._given: list[Any] = []  # for the partial output of a failure of Ray
        self._pushed: BaseException | None = None  # the failure of ``source``, sent on
        self._handle: Any = None
        self._id = uuid.uuid4().hex
        self._generator: Any = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._finished = False

    async def __anext__(self) -> Any:
        batch = self._batch
        while not batch:
            if self._finished:
                raise StopAsyncIteration
            await self._pull()
        delta = batch.popleft()
        if not batch and self._tail == ENDED:
            self.ended = True
        self._given.append(delta)
        return delta

    async def aclose(self) -> None:
        """Cancel the remote stream, and wait (at most :data:`CLOSE_WAIT` seconds) until the
        actor says the agent's stream has closed its producers."""
        if self._generator is None or self._finished:
            self._finished = True
            return
        self._finished = True
        self._stop()
        with anyio.CancelScope(shield=True), anyio.move_on_after(CLOSE_WAIT):
            closed = self._handle.wait_closed.remote(self._id)
            with contextlib.suppress(ray.exceptions.RayError):  # (gone: so is every producer)
                await anyio.to_thread.run_sync(ray.get, closed, abandon_on_cancel=True)

    def _stop(self) -> None:
        if self._finalizer is not None:
            self._finalizer.detach()
        ray.cancel(self._generator)

    async def _pull(self) -> None:
        if self._generator is None:
            self._start()
        answer: Fed | None = None
        if self._tail == NEED:
            answer = await self._answer()
        try:
            pulled = await anyio.to_thread.run_sync(
                _pull, self._handle, self._id, answer, self._generator, abandon_on_cancel=True
            )
        except ray.exceptions.RayTaskError as error:
            self._end()
            local = _local(error, self._stage)
            pushed = self._pushed
            if (
                pushed is not None
                and type(local) is type(pushed)
                and getattr(local, "args", None) == pushed.args
            ):
                raise pushed from None  # the input's own failure, come back: raised as it is
            raise local from None
        except ray.exceptions.RayError as error:
            self._end()
            if not self._given:
                raise  # nothing passed on yet: the stage may be retried, over max_restarts
            monoid = self._stage.monoid or INFERRED
            raise StreamingError(
                f"{self._stage!r}: Ray failed after {len(self._given)} deltas: {error}",
                partial=monoid.concat(self._given),
                recoverable=True,
            ) from error
        if pulled is None:
            self._end()
            return
        deltas, self._tail = pulled
        self._batch.extend(deltas)

    async def _answer(self) -> Fed:
        """One delta of the source, or its end or failure, for the remote transducer."""
        assert self._source is not None
        try:
            delta = await anext(self._source)
        except StopAsyncIteration:
            return End()
        except Exception as error:
            self._pushed = error
            return Failed(error)
        return (delta,)

    def _start(self) -> None:
        stage = self._stage
        self._handle = stage.actor.handle()
        self._generator = self._handle.stream.options(_generator_backpressure_num_objects=1).remote(
            self._id, self._value, self._source is not None, stage.max_batch
        )
        # A stream dropped without closing stops its producer when it is collected.
        finalizer = self._finalizer = weakref.finalize(self, ray.cancel, self._generator)
        finalizer.atexit = False

    def _end(self) -> None:
        self._finished = True
        if self._finalizer is not None:
            self._finalizer.detach()


def _pull(handle: Any, stream_id: str, answer: Fed | None, generator: Any) -> Any:
    """(In a worker thread.) Send ``answer`` to a transducer that asked for input, then the
    next batch of ``generator``, or ``None`` at its end."""
    if answer is not None:
        ray.get(handle.push.remote(stream_id, answer))
    try:
        ref = next(generator)
    except StopIteration:
        return None
    return ray.get(ref)


def _local(error: ray.exceptions.RayTaskError, stage: Agent[Any, Any]) -> BaseException:
    """The exception the agent raised in its actor, as it would be raised locally, with a note
    that says where; a cancellation from outside (``ray.cancel`` by someone else) is a
    :class:`agentcat.StreamClosedError`."""
    cause = error.cause
    if isinstance(error, ray.exceptions.TaskCancelledError) or isinstance(
        cause, ray.exceptions.TaskCancelledError
    ):
        return StreamClosedError(f"{stage!r} was cancelled in its Ray actor")
    if not isinstance(cause, BaseException):
        return error
    cause.add_note(f"(raised in a Ray actor running {stage!r})")
    return cause
