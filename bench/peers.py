"""The peers' contestants: LangChain's LCEL and MiniAgents, when they are installed.

Neither library is a dependency of agentcat: they come with the ``bench`` dependency group
only, and are imported by name at run time, so that this module type-checks (and the rest of
the benchmark runs) where they are absent. Their objects are untyped here on purpose; the
adapters are kept to the few lines each library needs. Each library has its contestants of the
grid (``lcel_contestants``...) and its batch of the many-streams row (``lcel_crowd``...).
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from functools import partial
from time import perf_counter
from types import ModuleType
from typing import Any

from bench.contestants import Contestant, Runner, Sample
from bench.crowd import Batch, Crowd, together
from bench.workload import paced_tokens, shout, tokens

__all__ = [
    "lcel_contestants",
    "lcel_crowd",
    "miniagents_contestants",
    "miniagents_crowd",
    "version",
]


def version(distribution: str) -> str | None:
    """The installed version of ``distribution``, or ``None`` when it is not installed."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


# LCEL: a RunnableSequence of RunnableGenerator steps, streamed with `astream` ------------------


async def _lcel_produce(inputs: AsyncIterator[int]) -> AsyncIterator[str]:
    async for count in inputs:
        async for token in tokens(count):
            yield token


async def _lcel_pass(inputs: AsyncIterator[str]) -> AsyncIterator[str]:
    async for token in inputs:
        yield token


async def _lcel_map(inputs: AsyncIterator[str]) -> AsyncIterator[str]:
    async for token in inputs:
        yield shout(token)


def _lcel(
    runnables: ModuleType, step: Callable[[AsyncIterator[str]], AsyncIterator[str]]
) -> Callable[[int], Runner]:
    def build(stages: int) -> Runner:
        chain: Any = runnables.RunnableGenerator(_lcel_produce)
        for _ in range(stages):
            chain = chain | runnables.RunnableGenerator(step)

        async def run(count: int) -> Sample:
            first, seen, chars, head = 0.0, 0, 0, ""
            start = perf_counter()
            async with aclosing(chain.astream(count)) as stream:
                async for token in stream:
                    chars += len(token)
                    if not seen:
                        first, head = perf_counter(), token
                    seen += 1
            return Sample(first - start, perf_counter() - start, seen, head, chars)

        return run

    return build


async def _lcel_paced(inputs: AsyncIterator[int]) -> AsyncIterator[str]:
    async for count in inputs:
        async for token in paced_tokens(count):
            yield token


def _lcel_batch(runnables: ModuleType, stages: int) -> Batch:
    """Many LCEL streams at once: the pass-through and map steps in turn, as in the floor."""
    chain: Any = runnables.RunnableGenerator(_lcel_paced)
    for index in range(stages):
        chain = chain | runnables.RunnableGenerator(_lcel_map if index % 2 else _lcel_pass)

    async def read(count: int, done: list[tuple[int, int]]) -> None:
        seen, chars = 0, 0
        async with aclosing(chain.astream(count)) as stream:
            async for token in stream:
                chars += len(token)
                seen += 1
        done.append((seen, chars))

    return partial(together, read)


def lcel_crowd() -> list[Crowd]:
    """The many-streams row for LCEL, or nothing when ``langchain-core`` is not installed."""
    runnables = _module("langchain_core.runnables")
    if runnables is None:
        return []
    return [Crowd("lcel", "LCEL `RunnableGenerator`", "lcel", partial(_lcel_batch, runnables))]


def lcel_contestants() -> list[Contestant]:
    """LCEL pipelines, or none when ``langchain-core`` is not installed."""
    runnables = _module("langchain_core.runnables")
    if runnables is None:
        return []
    return [
        Contestant(
            "lcel", "LCEL `RunnableGenerator`", "lcel", "pass", _lcel(runnables, _lcel_pass)
        ),
        Contestant("lcel", "LCEL `RunnableGenerator`", "lcel", "map", _lcel(runnables, _lcel_map)),
    ]


# MiniAgents: agents triggered one on the reply of the other -----------------------------------


Restream = Callable[[Any, Any], AsyncIterator[str]]
"""The tokens of a re-emitted message, from the incoming message promise (and the auxiliary
fields MiniAgents passes to every token streamer)."""


def _miniagents(package: ModuleType, restream: Restream | None) -> Callable[[int], Runner]:
    """Agents that reply with the incoming message promises themselves (forwarding, when
    ``restream`` is ``None``), or with a new message promise per incoming one, whose tokens
    ``restream`` makes from the incoming tokens (re-emitting)."""

    async def produce(ctx: Any, count: int) -> None:
        ctx.reply(package.TextMessage.promise(message_token_streamer=lambda _: tokens(count)))

    async def forwarding(ctx: Any) -> None:
        ctx.reply(ctx.message_promises)

    def reemitting(restream: Restream) -> Callable[[Any], Awaitable[None]]:
        async def reemit(ctx: Any) -> None:
            async for message in ctx.message_promises:
                streamer = partial(restream, message)
                ctx.reply(package.TextMessage.promise(message_token_streamer=streamer))

        return reemit

    def build(stages: int) -> Runner:
        producer = package.miniagent(produce)
        agent = package.miniagent(forwarding if restream is None else reemitting(restream))

        async def run(count: int) -> Sample:
            first, seen, chars, head = 0.0, 0, 0, ""
            async with package.MiniAgents():
                start = perf_counter()
                reply = producer.trigger(count=count)
                for _ in range(stages):
                    reply = agent.trigger(reply)
                async for message in reply:
                    async for token in message:
                        chars += len(token)
                        if not seen:
                            first, head = perf_counter(), token
                        seen += 1
                end = perf_counter()
            return Sample(first - start, end - start, seen, head, chars)

        return run

    return build


async def _passing(message: Any, _: Any) -> AsyncIterator[str]:
    async for token in message:
        yield token


async def _mapping(message: Any, _: Any) -> AsyncIterator[str]:
    async for token in message:
        yield shout(token)


def miniagents_contestants() -> list[Contestant]:
    """MiniAgents pipelines, or none when ``miniagents`` is not installed."""
    package = _module("miniagents")
    if package is None:
        return []
    return [
        Contestant(
            "miniagents-forwarding",
            "MiniAgents forwarding",
            "miniagents",
            "pass",
            _miniagents(package, None),
        ),
        Contestant(
            "miniagents",
            "MiniAgents re-emitting",
            "miniagents",
            "pass",
            _miniagents(package, _passing),
        ),
        Contestant(
            "miniagents",
            "MiniAgents re-emitting",
            "miniagents",
            "map",
            _miniagents(package, _mapping),
        ),
    ]


def _miniagents_batch(package: ModuleType, stages: int) -> Batch:
    """Many MiniAgents chains at once, in one ``MiniAgents`` context: re-emitting agents that
    pass tokens on and map them in turn, as in the floor."""

    async def produce(ctx: Any, count: int) -> None:
        streamer = partial(_paced, count)
        ctx.reply(package.TextMessage.promise(message_token_streamer=streamer))

    def reemitting(restream: Restream) -> Callable[[Any], Awaitable[None]]:
        async def reemit(ctx: Any) -> None:
            async for message in ctx.message_promises:
                streamer = partial(restream, message)
                ctx.reply(package.TextMessage.promise(message_token_streamer=streamer))

        return reemit

    producer = package.miniagent(produce)
    passing, mapping = (
        package.miniagent(reemitting(_passing)),
        package.miniagent(reemitting(_mapping)),
    )
    agents = [mapping if index % 2 else passing for index in range(stages)]

    async def read(count: int, done: list[tuple[int, int]]) -> None:
        seen, chars = 0, 0
        reply = producer.trigger(count=count)
        for agent in agents:
            reply = agent.trigger(reply)
        async for message in reply:
            async for token in message:
                chars += len(token)
                seen += 1
        done.append((seen, chars))

    async def batch(streams: int, count: int) -> list[tuple[int, int]]:
        async with package.MiniAgents():
            return await together(read, streams, count)

    return batch


def _paced(count: int, _: Any) -> AsyncIterator[str]:
    return paced_tokens(count)


def miniagents_crowd() -> list[Crowd]:
    """The many-streams row for MiniAgents, or nothing when ``miniagents`` is not installed."""
    package = _module("miniagents")
    if package is None:
        return []
    return [
        Crowd(
            "miniagents",
            "MiniAgents re-emitting",
            "miniagents",
            partial(_miniagents_batch, package),
        )
    ]
