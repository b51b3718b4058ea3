"""Streaming products: fan-out and parallel whose branches stream side by side."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Generic, final

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from attrs import frozen

from agentcat._vars import In, Ts, W, X, Y, Z
from agentcat.concurrency import Starter, merge
from agentcat.monoid import INFERRED, Monoid, ProductMonoid
from agentcat.streaming import Chain, StreamingAgent
from agentcat.structure import Node

__all__ = ["StreamingFanOut", "StreamingParallel", "streaming_fan_out"]


def _product(
    branches: Sequence[StreamingAgent[Any, Any]], upstream: Sequence[Monoid[Any] | None]
) -> ProductMonoid:
    return ProductMonoid.of_components(
        [
            _known(branch.monoid_after(before))
            for branch, before in zip(branches, upstream, strict=True)
        ]
    )


def _known(monoid: Monoid[Any] | None) -> Monoid[Any]:
    """A branch's monoid; an unknown one is inferred from the branch's first delta."""
    return INFERRED if monoid is None else monoid


def _element(branches: Sequence[StreamingAgent[Any, Any]]) -> object | None:
    elements = tuple(branch.element_type for branch in branches)
    return None if None in elements else tuple[elements]  # type: ignore[valid-type]


@final
@frozen(repr=False)
class StreamingFanOut(StreamingAgent[In, tuple[*Ts]], Generic[In, *Ts]):
    """Every branch streams on the same input at once; their deltas interleave as they arrive.

    Each delta is a tuple holding one branch's delta at that branch's index and empty values
    elsewhere (the :class:`ProductMonoid`), so the stream accumulates to the tuple of the
    branches' outputs and can be split by branch. Fed a stream, every branch receives each
    input delta; a whole-input branch waits for all of them, a transducer does not.
    """

    branches: tuple[StreamingAgent[In, Any], ...]

    @property
    def needs_whole_input(self) -> bool:
        return all(branch.needs_whole_input for branch in self.branches)

    @property
    def monoid(self) -> ProductMonoid:
        return self.monoid_after(None)

    def monoid_after(self, upstream: Monoid[Any] | None, /) -> ProductMonoid:
        return _product(self.branches, [upstream] * len(self.branches))

    @property
    def element_type(self) -> object | None:
        return _element(self.branches)

    @property
    def input_type(self) -> object | None:
        return self.branches[0].input_type

    def open(self, value: In, /) -> AsyncIterator[tuple[*Ts]]:
        starters = [_starting(branch, value) for branch in self.branches]
        return merge(starters, self.monoid_for_input(value).inject)

    def monoid_for_input(self, value: In, /) -> ProductMonoid:
        return ProductMonoid.of_components(
            [_known(branch.monoid_for_input(value)) for branch in self.branches]
        )

    def feed(
        self, source: AsyncIterator[In], monoid: Monoid[In] | None, chain: Chain, /
    ) -> AsyncIterator[tuple[*Ts]]:
        product = self.monoid_after(monoid)
        feeds = [(branch, monoid) for branch in self.branches]
        iterator = _fed(source, feeds, _to_every(len(feeds)), product)
        chain.append(iterator)
        return iterator

    def __and__(  # type: ignore[override]
        self: StreamingFanOut[X, *Ts], other: StreamingAgent[X, Z], /
    ) -> StreamingFanOut[X, *Ts, Z]:
        return streaming_fan_out(self, other)

    def describe(self) -> Node:
        return Node("fan_out", "", tuple(branch.describe() for branch in self.branches))


@final
@frozen(repr=False)
class StreamingParallel(StreamingAgent[tuple[X, W], tuple[Y, Z]]):
    """``f * g`` streaming: ``f`` on the first item, ``g`` on the second, side by side.

    Fed the stream of a fan-out, each branch receives its own component's deltas as they come.
    """

    first: StreamingAgent[X, Y]
    second: StreamingAgent[W, Z]

    @property
    def needs_whole_input(self) -> bool:
        return self.first.needs_whole_input and self.second.needs_whole_input

    @property
    def monoid(self) -> ProductMonoid:
        return self.monoid_after(None)

    def monoid_after(self, upstream: Monoid[Any] | None, /) -> ProductMonoid:
        parts: Sequence[Monoid[Any] | None] = (None, None)
        if isinstance(upstream, ProductMonoid) and len(upstream.components) == 2:
            parts = upstream.components
        return _product((self.first, self.second), parts)

    @property
    def element_type(self) -> object | None:
        return _element((self.first, self.second))

    def open(self, value: tuple[X, W], /) -> AsyncIterator[tuple[Y, Z]]:
        if not (isinstance(value, tuple) and len(value) == 2):
            raise TypeError(f"{self!r} takes a pair, not {value!r}")
        starters = [_starting(self.first, value[0]), _starting(self.second, value[1])]
        return merge(starters, self.monoid_for_input(value).inject)

    def monoid_for_input(self, value: tuple[X, W], /) -> ProductMonoid:
        first, second = value
        return ProductMonoid.of_components(
            [
                _known(self.first.monoid_for_input(first)),
                _known(self.second.monoid_for_input(second)),
            ]
        )

    def feed(
        self,
        source: AsyncIterator[tuple[X, W]],
        monoid: Monoid[tuple[X, W]] | None,
        chain: Chain,
        /,
    ) -> AsyncIterator[tuple[Y, Z]]:
        if not (isinstance(monoid, ProductMonoid) and len(monoid.components) == 2):
            return super().feed(source, monoid, chain)  # a plain pair: wait for it whole
        product = self.monoid_after(monoid)
        branches: tuple[StreamingAgent[Any, Any], ...] = (self.first, self.second)
        feeds = list(zip(branches, monoid.components, strict=True))
        iterator = _fed(source, feeds, _by_component(monoid), product)
        chain.append(iterator)
        return iterator

    def describe(self) -> Node:
        return Node("parallel", "", (self.first.describe(), self.second.describe()))


def _starting(branch: StreamingAgent[Any, Any], value: Any) -> Starter:
    return lambda chain: branch.start(value, chain)


async def _fed(
    source: AsyncIterator[Any],
    feeds: Sequence[tuple[StreamingAgent[Any, Any], Monoid[Any] | None]],
    route: Route,
    product: ProductMonoid,
) -> AsyncIterator[Any]:
    """Branches fed from one input stream: a distributor hands each input delta to the branches
    ``route`` names, through one unbuffered channel per branch, and their outputs are merged.
    The channels exist only while this generator runs, and it closes them all."""
    with contextlib.ExitStack() as channels:
        pairs = [anyio.create_memory_object_stream[Any]() for _ in feeds]
        for send, receive in pairs:
            channels.enter_context(send)
            channels.enter_context(receive)
        starters = [
            _feeding(branch, receive, monoid)
            for (branch, monoid), (_, receive) in zip(feeds, pairs, strict=True)
        ]

        async def distribute() -> None:
            await _distribute(source, [send for send, _ in pairs], route)

        async with contextlib.aclosing(merge(starters, product.inject, [distribute])) as merged:
            async for delta in merged:
                yield delta


def _feeding(
    branch: StreamingAgent[Any, Any],
    receive: MemoryObjectReceiveStream[Any],
    monoid: Monoid[Any] | None,
) -> Starter:
    def start(chain: Chain) -> AsyncIterator[Any]:
        chain.append(receive)  # closed with the branch, which tells the distributor
        return branch.feed(receive, monoid, chain)

    return start


Route = Callable[[Any], list[tuple[int, Any]]]


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
    source: AsyncIterator[Any], sends: list[MemoryObjectSendStream[Any]], route: Route
) -> None:
    """Hand every input delta to the branches ``route`` names, one at a time; a branch that
    stopped reading is left out from then on, and every branch sees the end of the input."""
    async with contextlib.AsyncExitStack() as stack:
        for send in sends:
            stack.push_async_callback(send.aclose)
        open_branches = set(range(len(sends)))
        async for delta in source:
            for index, part in route(delta):
                if index in open_branches:
                    try:
                        await sends[index].send(part)
                    except anyio.BrokenResourceError:
                        open_branches.discard(index)


def streaming_fan_out(
    left: StreamingAgent[Any, Any], right: StreamingAgent[Any, Any]
) -> StreamingFanOut[Any, *tuple[Any, ...]]:
    """``left & right`` for streaming agents: extends ``left`` when it is a fan-out already."""
    if not isinstance(right, StreamingAgent):
        raise TypeError(
            f"{left!r} & {right!r}: both branches of a streaming fan-out must stream; lift() "
            "the plain one"
        )
    head = left.branches if isinstance(left, StreamingFanOut) else (left,)
    return StreamingFanOut((*head, right))
