"""Products of agents: fan-out ``f & g`` (one input, every output) and parallel ``f * g`` (a pair
in, a pair out), plain or streaming."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Generic, NamedTuple, TypeVar, TypeVarTuple, final, overload

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from attrs import frozen

from agentcat._meta import NoPublicConstructor, create
from agentcat._runtime import Branches, DeltaStep, Run, Starter, gather, given, side_by_side
from agentcat._structure import Node, Walk
from agentcat.agent import Agent
from agentcat.errors import CompositionError
from agentcat.monoids import INFERRED, Monoid, ProductMonoid
from agentcat.streaming import Combinator, Lifted, StreamingAgent, lift, walk_whole_type

__all__ = ["FanOut", "Parallel", "StreamingFanOut", "fan_out", "parallel"]

In = TypeVar("In", contravariant=True)
Ts = TypeVarTuple("Ts")
W = TypeVar("W")
X = TypeVar("X")
Y = TypeVar("Y")
Z = TypeVar("Z")


@final
@frozen(repr=False)
class FanOut(Combinator[In, tuple[*Ts]], Generic[In, *Ts], metaclass=NoPublicConstructor):
    """Every branch runs on the same input, concurrently; the output is the tuple of their outputs.

    ``f & g & h`` is one fan-out of three with a flat ``tuple[B, C, D]`` output; parentheses on
    the right, ``f & (g & h)``, keep a nested group. A failing branch cancels the others and its
    exception surfaces unchanged.

    Streaming, the branches' deltas interleave as they arrive. Each delta is a tuple holding one
    branch's delta at that branch's index and empty values elsewhere (the
    :class:`agentcat.monoids.ProductMonoid`), so the stream accumulates to the tuple of the
    branches' outputs and can be split by branch. Fed a stream, every branch receives each input
    delta; a whole-input branch waits for all of them, a transducer does not.
    """

    _built_by = "f & g"

    branches: tuple[Agent[In, Any], ...]

    @functools.cached_property
    def streams(self) -> bool:
        return isinstance(self.branches[0], StreamingAgent)

    async def invoke(self, value: In, /) -> tuple[*Ts]:
        if self.streams:
            return await self._whole(value)
        jobs = [functools.partial(branch.invoke, value) for branch in self.branches]
        return tuple(await gather(jobs))

    def _walk_input(self) -> Walk[object | None]:
        found: object | None = yield self.branches[0]._walk_input()
        return found

    def _walk_output(self) -> Walk[object | None]:
        types: list[object | None] = []
        for branch in self.branches:
            types.append((yield walk_whole_type(branch)))
        return _tuple_of(types)

    # A chain ``f & g & h`` extends the fan-out instead of nesting pairs, so the override
    # deliberately narrows the inherited ``&``.
    @overload  # type: ignore[override]
    def __and__(  # type: ignore[overload-overlap]  # a streaming branch makes it stream
        self: FanOut[X, *Ts], other: StreamingAgent[X, Z], /
    ) -> StreamingFanOut[X, *Ts, Z]: ...
    @overload
    def __and__(self: FanOut[X, *Ts], other: Agent[X, Z], /) -> FanOut[X, *Ts, Z]: ...
    def __and__(self, other: Agent[Any, Any], /) -> Agent[Any, Any]:
        return fan_out(self, other)

    def _walk_node(self) -> Walk[Node]:
        nodes: list[Node] = []
        for branch in self.branches:
            nodes.append((yield branch._walk_node()))
        return Node("fan_out", "", tuple(nodes))

    @property
    def _streaming_branches(self) -> tuple[StreamingAgent[In, Any], ...]:
        return self.branches  # type: ignore[return-value]  # `streams`: every branch streams

    def _open(self, value: In, run: Run, /) -> AsyncIterator[Any]:
        leaves, tag = self._leaves(_as_product(self._monoid_for_input(value)))
        if _all_steps(leaves):
            return run.opened(side_by_side(given(value), _steps_of(leaves), tag))
        return run.opened(Branches(lambda: _started(leaves, [value] * len(leaves)), tag, run))

    def _feed(
        self, source: AsyncIterator[Any], monoid: Monoid[Any] | None, run: Run, /
    ) -> AsyncIterator[Any]:
        leaves, tag = self._leaves(_as_product(self._monoid_after(monoid)))
        if _all_steps(leaves):
            return run.opened(side_by_side(source, _steps_of(leaves), tag))
        feeds = [(leaf, monoid) for leaf in leaves]
        return run.opened(_fed(source, feeds, _to_every(len(feeds)), tag, run))

    def _leaves(
        self, product: ProductMonoid
    ) -> tuple[list[StreamingAgent[Any, Any]], Callable[[int, Any], Any]]:
        """The branches to run, and how to tag a delta of each: a branch that is a streaming
        fan-out itself (``f & (g & h)``) is run as its own branches, each delta injected at its
        place in the nested tuple, so a group costs no task and no hand-over of its own."""
        leaves: list[StreamingAgent[Any, Any]] = []
        paths: list[tuple[tuple[ProductMonoid, int], ...]] = []
        pending: list[
            tuple[
                Sequence[StreamingAgent[Any, Any]],
                ProductMonoid,
                tuple[tuple[ProductMonoid, int], ...],
            ]
        ] = [(self._streaming_branches, product, ())]
        while pending:
            branches, monoid, path = pending.pop()
            for index, branch in reversed(list(enumerate(branches))):
                inner = branch.agent if isinstance(branch, StreamingFanOut) else None
                component = monoid.components[index]
                if isinstance(inner, FanOut) and isinstance(component, ProductMonoid):
                    pending.append((inner._streaming_branches, component, (*path, (monoid, index))))
                else:
                    leaves.append(branch)
                    paths.append((*path, (monoid, index)))
        leaves.reverse()
        paths.reverse()
        if len(leaves) == len(self.branches):  # no group inside: one injection each
            return leaves, product.inject
        return leaves, functools.partial(_injected, paths)

    def _walk_whole(self) -> Walk[bool]:
        for branch in self._streaming_branches:
            if not (yield branch._walk_whole()):
                return False
        return True

    def _walk_tasks(self) -> bool:
        """Branches run in tasks, unless every one is a per-delta step (then they run side by
        side in the reader's own task: nothing to wait for, no task needed)."""
        return not _all_steps(_flattened(self._streaming_branches))

    def _walk_element(self) -> Walk[object | None]:
        types: list[object | None] = []
        for branch in self._streaming_branches:
            types.append((yield branch._walk_element()))
        return _tuple_of(types)

    def _walk_monoid(self, upstream: Monoid[Any] | None, /) -> Walk[ProductMonoid]:
        monoids: list[Monoid[Any] | None] = []
        for branch in self._streaming_branches:
            monoids.append((yield branch._walk_monoid(upstream)))
        return _product(monoids)

    def _walk_input_monoid(self, value: In, /) -> Walk[ProductMonoid]:
        monoids: list[Monoid[Any] | None] = []
        for branch in self._streaming_branches:
            monoids.append((yield branch._walk_input_monoid(value)))
        return _product(monoids)


@final
@frozen(repr=False)
class StreamingFanOut(Lifted[In, tuple[*Ts]], Generic[In, *Ts]):
    """The streaming view of a :class:`FanOut` of streaming branches (``lift(f) & lift(g)``),
    typed so that ``&`` extends its tuple of outputs. It adds no behaviour to ``lift``."""

    _built_by = "f & g"

    @overload  # type: ignore[override]
    def __and__(
        self: StreamingFanOut[X, *Ts], other: StreamingAgent[X, Z], /
    ) -> StreamingFanOut[X, *Ts, Z]: ...
    @overload
    def __and__(
        self: StreamingFanOut[X, *Ts], other: Agent[X, Z], /
    ) -> StreamingFanOut[X, *Ts, Z]: ...
    def __and__(self, other: Agent[Any, Any], /) -> Agent[Any, Any]:
        return fan_out(self, other)


def fan_out(left: Agent[Any, Any], right: Agent[Any, Any]) -> Agent[Any, Any]:
    """``left & right``: extends ``left`` when it is a fan-out already, else pairs the two; when
    either streams, so does the fan-out, each plain branch lifted.

    Raises:
        CompositionError: ``right`` is not an agent.
    """
    if not isinstance(right, Agent):
        raise CompositionError(f"{left!r} & {right!r}: the right operand is not an Agent")
    if isinstance(left, StreamingAgent) or isinstance(right, StreamingAgent):
        if isinstance(left, StreamingFanOut) and isinstance(left.agent, FanOut):
            head = left.agent.branches
        elif isinstance(left, FanOut):
            head = tuple(lift(branch) for branch in left.branches)
        else:
            head = (lift(left),)
        return create(StreamingFanOut, create(FanOut, (*head, lift(right))))
    head = left.branches if isinstance(left, FanOut) else (left,)
    return create(FanOut, (*head, right))


@final
@frozen(repr=False)
class Parallel(Combinator[tuple[X, W], tuple[Y, Z]], metaclass=NoPublicConstructor):
    """``f * g``: ``f`` on the first item of a pair and ``g`` on the second, concurrently.

    Streaming, the two sides stream side by side; fed the stream of a fan-out, each side
    receives its own component's deltas as they come.
    """

    _built_by = "f * g"

    first: Agent[X, Y]
    second: Agent[W, Z]

    @functools.cached_property
    def streams(self) -> bool:
        return isinstance(self.first, StreamingAgent)

    async def invoke(self, value: tuple[X, W], /) -> tuple[Y, Z]:
        left, right = self._pair(value)
        if self.streams:
            return await self._whole(value)
        jobs: list[Callable[[], Awaitable[Any]]] = [
            functools.partial(self.first.invoke, left),
            functools.partial(self.second.invoke, right),
        ]
        first, second = await gather(jobs)
        return first, second

    def _pair(self, value: object) -> tuple[Any, Any]:
        if not (isinstance(value, tuple) and len(value) == 2):
            raise TypeError(f"{self!r} takes a pair, not {value!r}")
        return value

    def _walk_input(self) -> Walk[object | None]:
        first: object | None = yield self.first._walk_input()
        second: object | None = yield self.second._walk_input()
        return _tuple_of([first, second])

    def _walk_output(self) -> Walk[object | None]:
        first: object | None = yield walk_whole_type(self.first)
        second: object | None = yield walk_whole_type(self.second)
        return _tuple_of([first, second])

    def _walk_node(self) -> Walk[Node]:
        first: Node = yield self.first._walk_node()
        second: Node = yield self.second._walk_node()
        return Node("parallel", "", (first, second))

    @property
    def _sides(self) -> tuple[StreamingAgent[Any, Any], StreamingAgent[Any, Any]]:
        return self.first, self.second  # type: ignore[return-value]  # `streams`: both stream

    def _open(self, value: tuple[X, W], run: Run, /) -> AsyncIterator[Any]:
        pair = self._pair(value)
        tag = _as_product(self._monoid_for_input(value)).inject
        return run.opened(Branches(lambda: _started(self._sides, pair), tag, run))

    def _feed(
        self, source: AsyncIterator[Any], monoid: Monoid[Any] | None, run: Run, /
    ) -> AsyncIterator[Any]:
        if not (isinstance(monoid, ProductMonoid) and len(monoid.components) == 2):
            return super()._feed(source, monoid, run)  # a plain pair: wait for it whole
        feeds = list(zip(self._sides, monoid.components, strict=True))
        tag = _as_product(self._monoid_after(monoid)).inject
        return run.opened(_fed(source, feeds, _by_component(monoid), tag, run))

    def _walk_whole(self) -> Walk[bool]:
        first: bool = yield self._sides[0]._walk_whole()
        second: bool = yield self._sides[1]._walk_whole()
        return first and second

    def _walk_tasks(self) -> bool:
        return True

    def _walk_element(self) -> Walk[object | None]:
        first: object | None = yield self._sides[0]._walk_element()
        second: object | None = yield self._sides[1]._walk_element()
        return _tuple_of([first, second])

    def _walk_monoid(self, upstream: Monoid[Any] | None, /) -> Walk[ProductMonoid]:
        parts: Sequence[Monoid[Any] | None] = (None, None)
        if isinstance(upstream, ProductMonoid) and len(upstream.components) == 2:
            parts = upstream.components
        first = yield self._sides[0]._walk_monoid(parts[0])
        second = yield self._sides[1]._walk_monoid(parts[1])
        return _product([first, second])

    def _walk_input_monoid(self, value: tuple[X, W], /) -> Walk[ProductMonoid]:
        left, right = self._pair(value)
        first = yield self._sides[0]._walk_input_monoid(left)
        second = yield self._sides[1]._walk_input_monoid(right)
        return _product([first, second])


def parallel(left: Agent[Any, Any], right: Agent[Any, Any]) -> Agent[Any, Any]:
    """``left * right``; when either streams, so does the product, the plain side lifted.

    Raises:
        CompositionError: ``right`` is not an agent.
    """
    if not isinstance(right, Agent):
        raise CompositionError(f"{left!r} * {right!r}: the right operand is not an Agent")
    if isinstance(left, StreamingAgent) or isinstance(right, StreamingAgent):
        return create(Lifted, create(Parallel, lift(left), lift(right)))
    return create(Parallel, left, right)


def _tuple_of(types: list[object | None]) -> object | None:
    return None if None in types else tuple[tuple(types)]  # type: ignore[misc]


def _flattened(branches: Sequence[StreamingAgent[Any, Any]]) -> list[StreamingAgent[Any, Any]]:
    """The branches of a fan-out, those of every streaming fan-out among them in its place."""
    leaves: list[StreamingAgent[Any, Any]] = []
    pending = list(reversed(branches))
    while pending:
        branch = pending.pop()
        inner = branch.agent if isinstance(branch, StreamingFanOut) else None
        if isinstance(inner, FanOut):
            pending.extend(reversed(inner._streaming_branches))
        else:
            leaves.append(branch)
    return leaves


def _all_steps(leaves: Sequence[StreamingAgent[Any, Any]]) -> bool:
    return all(leaf._delta_step is not None or leaf._forwards for leaf in leaves)


def _steps_of(leaves: Sequence[StreamingAgent[Any, Any]]) -> list[list[DeltaStep]]:
    """What each branch does to a delta (a forwarder: nothing)."""
    return [[] if leaf._delta_step is None else [leaf._delta_step] for leaf in leaves]


def _injected(paths: Sequence[tuple[tuple[ProductMonoid, int], ...]], leaf: int, delta: Any) -> Any:
    """``delta`` of branch ``leaf``, injected at its place: innermost product first."""
    for product, index in reversed(paths[leaf]):
        delta = product.inject(index, delta)
    return delta


def _as_product(monoid: Monoid[Any] | None) -> ProductMonoid:
    assert isinstance(monoid, ProductMonoid), monoid  # what a product's walks return
    return monoid


def _product(monoids: Any) -> ProductMonoid:
    """The product of the branches' monoids; an unknown one is inferred from the first delta."""
    return ProductMonoid.of_components([INFERRED if m is None else m for m in monoids])


def _started(
    branches: Sequence[StreamingAgent[Any, Any]], values: Sequence[Any]
) -> tuple[list[Starter], list[Any], list[Any]]:
    """Branches opened each on its whole input: one producer each, nothing beside them."""
    return (
        [_starting(branch, value) for branch, value in zip(branches, values, strict=True)],
        [],
        [],
    )


def _starting(branch: StreamingAgent[Any, Any], value: Any) -> Starter:
    return lambda run: branch._open(value, run)


def _fed(
    source: AsyncIterator[Any],
    feeds: Sequence[tuple[StreamingAgent[Any, Any], Monoid[Any] | None]],
    route: Route,
    tag: Callable[[int, Any], Any],
    run: Run,
) -> Branches[Any]:
    """Branches fed from one input stream: a distributor hands each input delta to the branches
    ``route`` names, through one unbuffered channel per branch, and their outputs are merged.
    The channels are made when the branches start, and closed when they end."""

    failed: list[Exception] = []  # the input's failure, once it has failed

    def prepare() -> tuple[list[Starter], list[Any], list[Any]]:
        pairs = [anyio.create_memory_object_stream[Any]() for _ in feeds]
        starters = [
            _feeding(branch, receive, monoid)
            for (branch, monoid), (_, receive) in zip(feeds, pairs, strict=True)
        ]
        sends = [send for send, _ in pairs]

        async def distribute() -> None:
            await _distribute(source, sends, route, failed)

        return starters, [distribute], [end for pair in pairs for end in pair]

    return Branches(prepare, tag, run, shared=lambda error: any(error is f for f in failed))


def _feeding(
    branch: StreamingAgent[Any, Any],
    receive: MemoryObjectReceiveStream[Any],
    monoid: Monoid[Any] | None,
) -> Starter:
    def start(run: Run) -> AsyncIterator[Any]:
        run.opened(receive)  # closed with the branch, which tells the distributor
        return branch._feed(_Received(receive), monoid, run)

    return start


class _InputFailed(NamedTuple):
    """Sent to a branch after the deltas before it: the input stream failed with ``error``."""

    error: Exception


class _Received(AsyncIterator[Any]):
    """A branch's input: the deltas handed to it, then the input's end, or its failure raised
    where it came, as the branch would see it fed directly. (Not a generator: a branch left
    early leaves nothing to finalize; its channel is closed with it.)"""

    __slots__ = ("_receive",)

    def __init__(self, receive: MemoryObjectReceiveStream[Any]) -> None:
        self._receive = receive

    async def __anext__(self) -> Any:
        try:
            delta = await self._receive.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None
        if isinstance(delta, _InputFailed):
            raise delta.error
        return delta


Route = Callable[[Any], list[tuple[int, Any]]]
"""Which branches receive an input delta, and what each receives of it."""


def _to_every(count: int) -> Route:
    return lambda delta: [(index, delta) for index in range(count)]


def _by_component(monoid: ProductMonoid) -> Route:
    def route(delta: tuple[Any, ...]) -> list[tuple[int, Any]]:
        return [
            (index, part)
            for index, (part, component) in enumerate(zip(delta, monoid.components, strict=True))
            if not component.is_empty(part)
        ]

    return route


async def _distribute(
    source: AsyncIterator[Any],
    sends: list[MemoryObjectSendStream[Any]],
    route: Route,
    failed: list[Exception],
) -> None:
    """Hand every input delta to the branches ``route`` names, one at a time; a branch that
    stopped reading is left out from then on, and every branch sees the end of the input.

    A failure of the input reaches every branch still reading, after the deltas before it,
    and is kept in ``failed``: each branch passes on what it made of them, then raises it, as
    it would fed alone (raised here at once, it would cancel the branches with their work
    unsaid)."""
    async with contextlib.AsyncExitStack() as stack:
        for send in sends:
            stack.push_async_callback(send.aclose)
        open_branches = set(range(len(sends)))

        async def hand(index: int, part: Any) -> None:
            try:
                await sends[index].send(part)
            except anyio.BrokenResourceError:
                open_branches.discard(index)

        try:
            async for delta in source:
                for index, part in route(delta):
                    if index in open_branches:
                        await hand(index, part)
        except Exception as error:
            if not open_branches:
                raise
            failed.append(error)
            for index in sorted(open_branches):
                await hand(index, _InputFailed(error))
