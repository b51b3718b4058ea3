"""The per-call rows: what one short call costs, with everything built and warm.

- **A lifted call**: ``await lifted.stream(x)``, where ``lifted = lift(f >> g >> h)`` is built
  once and ``f``, ``g``, ``h`` are three plain agents of small string functions, against calling
  the three functions directly in sequence, ``h(g(f(x)))``. Microseconds per call: each round
  makes ``calls`` calls in a loop, and the best round counts.
- **Time to first token, warm**: a stream of 100 tokens through ``stages`` stages is created
  and its first token read (the timing stops there; the stream is closed after), ``firsts``
  times a round, the best round's mean counting; for agentcat's three kinds of stage against
  plain generators chained by hand, created and read the same way.

Rounds alternate agentcat and its baseline, so that background load slows both alike.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from time import perf_counter

from agentcat import StreamingAgent, agent, forward, lift, map_deltas
from bench.contestants import Backend, mapping, passing, produce, shout_each
from bench.measure import CallPlan, OutputError
from bench.workload import expected_first, shout, tokens

__all__ = ["CallCell", "measure_calls"]

WORD = " hello "
STREAM_TOKENS = 100


def trim(text: str) -> str:
    """The second small function of the lifted call."""
    return text.strip()


def exclaim(text: str) -> str:
    """The third small function of the lifted call."""
    return text + "!"


@dataclass(frozen=True, slots=True)
class CallCell:
    """One per-call row: agentcat's seconds per operation and its baseline's, best rounds."""

    key: str
    label: str
    baseline_label: str
    backend: Backend
    seconds: float
    baseline: float
    count: int
    """Operations per round."""
    rounds: int


Round = Callable[[int], Awaitable[float]]
"""Make ``count`` operations; the mean seconds of one."""


def _lifted_calls(lifted: StreamingAgent[str, str]) -> Round:
    async def calls(count: int) -> float:
        start = perf_counter()
        for _ in range(count):
            await lifted.stream(WORD)
        return (perf_counter() - start) / count

    return calls


def _direct_calls() -> Round:
    async def calls(count: int) -> float:
        start = perf_counter()
        for _ in range(count):
            exclaim(trim(shout(WORD)))
        return (perf_counter() - start) / count

    return calls


def _agentcat_firsts(stage: StreamingAgent[str, str], stages: int, head: str) -> Round:
    pipeline: StreamingAgent[int, str] = produce
    for _ in range(stages):
        pipeline = pipeline >> stage

    async def firsts(count: int) -> float:
        total = 0.0
        for _ in range(count):
            start = perf_counter()
            async with pipeline.stream(STREAM_TOKENS) as stream:
                async for chunk in stream:
                    total += perf_counter() - start
                    if chunk.delta != head:
                        raise OutputError(f"{pipeline!r} streamed {chunk.delta!r} first")
                    break
        return total / count

    return firsts


def _floor_firsts(
    stage: Callable[[AsyncIterator[str]], AsyncIterator[str]], stages: int, head: str
) -> Round:
    async def firsts(count: int) -> float:
        total = 0.0
        for _ in range(count):
            start = perf_counter()
            chain = tokens(STREAM_TOKENS)
            made = [chain]
            for _ in range(stages):
                chain = stage(chain)
                made.append(chain)
            async for token in chain:
                total += perf_counter() - start
                if token != head:
                    raise OutputError(f"plain generators streamed {token!r} first")
                break
            # Close every generator, the outermost first, as agentcat's stream does: one left
            # to the collector is closed by an event loop task, later, in someone else's time.
            for generator in reversed(made):
                await generator.aclose()  # type: ignore[attr-defined]  # an async generator's
        return total / count

    return firsts


async def _best(mine: Round, theirs: Round, count: int, rounds: int) -> tuple[float, float]:
    """The best round of each, taken in turns after one warm-up round each."""
    await mine(max(1, count // 10))
    await theirs(max(1, count // 10))
    best_mine, best_theirs = float("inf"), float("inf")
    for _ in range(rounds):
        gc.collect()
        best_mine = min(best_mine, await mine(count))
        gc.collect()
        best_theirs = min(best_theirs, await theirs(count))
    return best_mine, best_theirs


async def measure_calls(
    plan: CallPlan, backend: Backend, *, progress: Callable[[str], None]
) -> list[CallCell]:
    """Measure the per-call rows under the running event loop."""
    lifted = lift(agent(shout) >> agent(trim) >> agent(exclaim))
    if (got := await lifted.stream(WORD)) != exclaim(trim(shout(WORD))):
        raise OutputError(f"{lifted!r} returned {got!r}")
    stages = plan.stages
    pass_head, map_head = expected_first("pass", stages), expected_first("map", stages)
    rows: list[tuple[str, str, str, Round, Round, int]] = [
        (
            "lift",
            "`await lift(f >> g >> h).stream(x)`",
            "`h(g(f(x)))`",
            _lifted_calls(lifted),
            _direct_calls(),
            plan.calls,
        ),
        (
            "first-pass",
            f"first token, N={stages} `forward`",
            "plain async generators (pass)",
            _agentcat_firsts(forward, stages, pass_head),
            _floor_firsts(passing, stages, pass_head),
            plan.firsts,
        ),
        (
            "first-fused",
            f"first token, N={stages} `map_deltas` (fused)",
            "plain async generators (map)",
            _agentcat_firsts(map_deltas(shout), stages, map_head),
            _floor_firsts(mapping, stages, map_head),
            plan.firsts,
        ),
        (
            "first-unfused",
            f"first token, N={stages} `@transducer` map (unfused)",
            "plain async generators (map)",
            _agentcat_firsts(shout_each, stages, map_head),
            _floor_firsts(mapping, stages, map_head),
            plan.firsts,
        ),
    ]
    cells = []
    for key, label, baseline_label, mine, theirs, count in rows:
        seconds, baseline = await _best(mine, theirs, count, plan.rounds)
        cell = CallCell(key, label, baseline_label, backend, seconds, baseline, count, plan.rounds)
        cells.append(cell)
        progress(
            f"{backend:7} calls {label:52} {seconds * 1e6:8.2f} us  "
            f"(baseline {baseline * 1e6:.2f} us)  {count:,} x{plan.rounds}"
        )
    return cells
