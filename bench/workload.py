"""The workload every contestant runs: one producer of short tokens and one per-token map.

Every contestant is fed by :func:`tokens`, an async generator that yields ``count`` short
strings without sleeping or awaiting anything (a cooperative producer: it gives way only when
its consumer does), so the benchmark measures the cost of the stages and nothing else. The map
stages all call :func:`shout`, so a map costs the same function call in every library.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Literal

__all__ = [
    "CASES",
    "WORDS",
    "Case",
    "expected_chars",
    "expected_first",
    "giving_way",
    "keep",
    "paced_tokens",
    "same",
    "shout",
    "tokens",
]

Case = Literal["pass", "map"]
"""``pass``: every stage passes each token on unchanged; ``map``: every stage maps it."""

CASES: tuple[Case, ...] = ("pass", "map")

WORDS: tuple[str, ...] = tuple(f"w{index} " for index in range(64))
"""The tokens, used in turn: short strings made once, so producing a token allocates nothing."""


async def tokens(count: int) -> AsyncIterator[str]:
    """Yield ``count`` short tokens, never sleeping."""
    words = WORDS
    for index in range(count):
        yield words[index & 63]


def giving_way() -> Callable[[], Awaitable[None]]:
    """The running event loop's own cheapest checkpoint: ``asyncio.sleep(0)``, or trio's
    ``checkpoint()``. (anyio's backend-neutral ``checkpoint()`` looks the event loop up at every
    call, which would double the cost of a token in the many-streams row.)"""
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # not asyncio: the benchmark's other event loop
        import trio.lowlevel  # here: trio is needed only when it runs

        return trio.lowlevel.checkpoint
    return partial(asyncio.sleep, 0)


async def paced_tokens(count: int) -> AsyncIterator[str]:
    """Yield ``count`` short tokens, giving way to the event loop before each one, as a model's
    stream does while it waits on the network: the producer of the many-streams row, where
    thousands of streams must all be open and interleaved at once."""
    words, give_way = WORDS, giving_way()
    for index in range(count):
        await give_way()
        yield words[index & 63]


def shout(delta: str) -> str:
    """The per-token map of the ``map`` case (a homomorphism of strings, as agentcat wants)."""
    return delta.upper()


def same(delta: str) -> str:
    """The identity on tokens: the pass-through branch of the hand-written fan-out."""
    return delta


def keep(delta: str) -> bool:
    """The filter of the fan-out rows, which keeps every token (so every branch's output has the
    same length, and a filter costs its call and nothing else)."""
    return True


def expected_first(case: Case, stages: int) -> str:
    """The first token a consumer of ``stages`` stages of ``case`` must see."""
    return shout(WORDS[0]) if case == "map" and stages > 0 else WORDS[0]


def expected_chars(count: int) -> int:
    """The total length of the first ``count`` tokens (maps keep the length)."""
    rounds, rest = divmod(count, len(WORDS))
    return rounds * sum(map(len, WORDS)) + sum(map(len, WORDS[:rest]))
