"""The contestants: what a benchmark run is made of, the floor, and agentcat's pipelines.

A contestant builds, for a number of stages, a :data:`Runner`: an async function that makes one
request for ``count`` tokens, consumes the whole stream a token at a time, and returns a
:class:`Sample` of when the first token and the end arrived. Every runner follows the same
consumer loop (touch the token, note the first one, count), written out in each so that no
extra call per token is added to any of them. The peers' contestants are in :mod:`bench.peers`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from time import perf_counter
from typing import Literal

from agentcat import StreamingAgent, forward, map_deltas, streaming, transducer
from bench.workload import Case, shout, tokens

__all__ = [
    "Backend",
    "Contestant",
    "Family",
    "Runner",
    "Sample",
    "agentcat_contestants",
    "floor_contestants",
    "mapping",
    "passing",
    "produce",
    "shout_each",
]

Backend = Literal["asyncio", "trio"]
Family = Literal["floor", "agentcat", "lcel", "miniagents"]


@dataclass(frozen=True, slots=True)
class Sample:
    """One request: seconds from the request to the first token and to the end of the stream,
    how many tokens arrived, the first one, and their total length (to check the output)."""

    first: float
    elapsed: float
    count: int
    head: str
    chars: int


Runner = Callable[[int], Awaitable[Sample]]
"""Make one request for ``count`` tokens and consume all of it."""


@dataclass(frozen=True, slots=True)
class Contestant:
    """One way of streaming tokens through stages, for one case.

    ``build(stages)`` makes the pipeline once (outside the timings) and returns its runner;
    ``backends`` are the event loops it runs under.
    """

    key: str
    label: str
    family: Family
    case: Case
    build: Callable[[int], Runner]
    backends: tuple[Backend, ...] = ("asyncio",)


# The floor: plain chained async generators -------------------------------------------------


async def passing(source: AsyncIterator[str]) -> AsyncIterator[str]:
    """A plain stage that passes every token on."""
    async for token in source:
        yield token


async def mapping(source: AsyncIterator[str]) -> AsyncIterator[str]:
    """A plain stage that maps every token with ``shout``."""
    async for token in source:
        yield shout(token)


def _floor(stage: Callable[[AsyncIterator[str]], AsyncIterator[str]]) -> Callable[[int], Runner]:
    def build(stages: int) -> Runner:
        async def run(count: int) -> Sample:
            first, seen, chars, head = 0.0, 0, 0, ""
            start = perf_counter()
            chain = tokens(count)
            for _ in range(stages):
                chain = stage(chain)
            async for token in chain:
                chars += len(token)
                if not seen:
                    first, head = perf_counter(), token
                seen += 1
            return Sample(first - start, perf_counter() - start, seen, head, chars)

        return run

    return build


def floor_contestants() -> list[Contestant]:
    """Plain async generators chained by hand: the least any streaming runtime can cost."""
    both: tuple[Backend, ...] = ("asyncio", "trio")
    return [
        Contestant("floor", "plain async generators", "floor", "pass", _floor(passing), both),
        Contestant("floor", "plain async generators", "floor", "map", _floor(mapping), both),
    ]


# agentcat ------------------------------------------------------------------------------------


produce = streaming(tokens)
"""The producer as a streaming agent: the workload's generator, taking its whole input."""


@transducer
async def shout_each(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
    """The per-token map written as a transducer: one generator per stage, never fused."""
    async for delta in deltas:
        yield shout(delta)


def agentcat_runner(pipeline: StreamingAgent[int, str]) -> Runner:
    """A request to an agentcat pipeline: the stream of ``count`` tokens, each touched."""

    async def run(count: int) -> Sample:
        first, seen, chars, head = 0.0, 0, 0, ""
        start = perf_counter()
        async with pipeline.stream(count) as stream:
            async for chunk in stream:
                delta = chunk.delta
                chars += len(delta)
                if not seen:
                    first, head = perf_counter(), delta
                seen += 1
        end = perf_counter()
        # A last chunk that only says `done` (its delta is empty) is not a token.
        if seen and chunk.done and not chunk.delta:
            seen -= 1
        return Sample(first - start, end - start, seen, head, chars)

    return run


def _agentcat(stage: StreamingAgent[str, str]) -> Callable[[int], Runner]:
    def build(stages: int) -> Runner:
        pipeline: StreamingAgent[int, str] = produce
        for _ in range(stages):
            pipeline = pipeline >> stage
        return agentcat_runner(pipeline)

    return build


def agentcat_contestants() -> list[Contestant]:
    """agentcat's streaming pipelines: ``producer >> stage >> ... >> stage``."""
    both: tuple[Backend, ...] = ("asyncio", "trio")
    return [
        Contestant("agentcat", "agentcat `forward`", "agentcat", "pass", _agentcat(forward), both),
        Contestant(
            "agentcat-fused",
            "agentcat `map_deltas` (fused)",
            "agentcat",
            "map",
            _agentcat(map_deltas(shout)),
            both,
        ),
        Contestant(
            "agentcat-unfused",
            "agentcat `@transducer` map (unfused)",
            "agentcat",
            "map",
            _agentcat(shout_each),
            both,
        ),
    ]
