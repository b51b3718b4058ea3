"""Measuring: repeated timed requests, taken in turns, and a separate tracemalloc pass.

For each stage count, every contestant's pipeline is built once, warmed up with a short
request (whose output is checked), and then timed in rounds: each round runs every contestant
once at every token count, in turn, so that whatever else the machine is doing slows them all
alike. A contestant leaves the rounds when it has its repetitions, or when it has had its
least number of requests (three in the full plan) and used up its time budget (the slow peers
at 100,000 tokens). Peak memory comes from one more request per contestant under
:mod:`tracemalloc`, which slows Python down several times and so is never on while timing.
The rounds (:func:`in_turns`) and the traced pass (:func:`traced_peak`) serve the other rows
too (:mod:`bench.products`, :mod:`bench.crowd`).
"""

from __future__ import annotations

import gc
import statistics
import tracemalloc
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Protocol, TypeVar

from bench.contestants import Backend, Contestant, Runner, Sample
from bench.workload import expected_chars, expected_first

__all__ = [
    "CallPlan",
    "Cell",
    "CrowdPlan",
    "OutputError",
    "Plan",
    "Timed",
    "in_turns",
    "measure",
    "traced_peak",
]


@dataclass(frozen=True, slots=True)
class CrowdPlan:
    """The many-streams row: ``streams`` streams of ``tokens`` tokens each, read at once.

    Every batch is timed ``repetitions`` times (its CPU time, the least kept); peak memory comes
    from one more batch of ``traced_streams`` streams under tracemalloc. The peers are measured
    at the largest of ``peer_streams`` whose batch fits in ``peer_budget`` seconds.
    """

    streams: int
    traced_streams: int
    repetitions: int
    peer_streams: tuple[int, ...]
    peer_budget: float
    tokens: int = 100
    stages: int = 5


@dataclass(frozen=True, slots=True)
class CallPlan:
    """The per-call rows: ``calls`` calls of a lifted pipeline, and ``firsts`` first tokens of
    a stream through ``stages`` stages, per round; the best of ``rounds`` rounds is kept."""

    calls: int
    firsts: int
    rounds: int
    stages: int = 20


@dataclass(frozen=True, slots=True)
class Plan:
    """What to measure, and how often.

    ``repetitions`` is the most timed requests per contestant and cell, ``budget`` the seconds
    a contestant may spend in one cell before it stops repeating, once it has had at least
    ``min_repetitions`` requests (however long they take); peak memory is traced for the peers
    only up to ``peer_memory_tokens`` tokens, since one traced LCEL request of 100,000 tokens
    through 20 stages takes minutes. ``product_tokens`` is the stream length of the fan-out
    rows, ``crowd`` and ``calls`` the plans of the many-streams and per-call rows.
    """

    token_counts: tuple[int, ...]
    stage_counts: tuple[int, ...]
    repetitions: int
    min_repetitions: int
    budget: float
    peer_memory_tokens: int
    product_tokens: int
    crowd: CrowdPlan
    calls: CallPlan
    warmup_tokens: int = 100


@dataclass(frozen=True, slots=True)
class Cell:
    """The measurements of one contestant, for one backend, token count and stage count."""

    contestant: Contestant
    backend: Backend
    tokens: int
    stages: int
    samples: tuple[Sample, ...]
    peak: int | None
    """Peak traced memory of one request, in bytes (``None``: not traced)."""

    @property
    def rate(self) -> float:
        """Tokens per second of the fastest request."""
        return self.tokens / min(sample.elapsed for sample in self.samples)

    @property
    def median_rate(self) -> float:
        """Tokens per second of the median request."""
        return self.tokens / statistics.median(sample.elapsed for sample in self.samples)

    @property
    def first(self) -> float:
        """The median time to first token, in seconds."""
        return statistics.median(sample.first for sample in self.samples)


class OutputError(AssertionError):
    """A contestant streamed something other than the tokens it was asked for."""


def _check(contestant: Contestant, stages: int, count: int, sample: Sample) -> None:
    want = (count, expected_first(contestant.case, stages), expected_chars(count))
    got = (sample.count, sample.head, sample.chars)
    if got != want:
        raise OutputError(
            f"{contestant.label} ({contestant.case}, {stages} stages) streamed "
            f"(count, first, characters) = {got}, not {want}"
        )


async def _timed(contestant: Contestant, run: Runner, stages: int, count: int) -> Sample:
    sample = await run(count)
    _check(contestant, stages, count, sample)
    return sample


class Timed(Protocol):
    """What a timed request returns: at least how long it took."""

    @property
    def elapsed(self) -> float: ...


R = TypeVar("R", bound=Timed)


async def in_turns(
    jobs: Sequence[Callable[[], Awaitable[R]]], *, repetitions: int, least: int, budget: float
) -> list[list[R]]:
    """Run every job once per round, in turn, for up to ``repetitions`` rounds; a job leaves
    the rounds once it has had ``least`` runs and has spent ``budget`` seconds. A
    ``gc.collect()`` runs before every job, outside its timing."""
    results: list[list[R]] = [[] for _ in jobs]
    for _ in range(repetitions):
        active = [
            index
            for index, done in enumerate(results)
            if len(done) < least or sum(result.elapsed for result in done) < budget
        ]
        if not active:
            break
        for index in active:
            gc.collect()
            results[index].append(await jobs[index]())
    return results


async def traced_peak(run: Callable[[], Awaitable[object]]) -> int:
    """tracemalloc's peak, in bytes, over one run of ``run`` (after a ``gc.collect()``)."""
    gc.collect()
    tracemalloc.start()
    try:
        await run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


async def measure(
    contestants: Sequence[Contestant],
    plan: Plan,
    backend: Backend,
    *,
    trace_memory: bool,
    progress: Callable[[str], None],
) -> list[Cell]:
    """Measure every contestant in every cell of ``plan`` under the running event loop.

    For each stage count, the rounds take every contestant at every token count in turn, so
    that a comparison across token counts (the long-stream target) is as fair as one across
    contestants.
    """
    cells: list[Cell] = []
    for stages in plan.stage_counts:
        runs = [contestant.build(stages) for contestant in contestants]
        for contestant, run in zip(contestants, runs, strict=True):
            await _timed(contestant, run, stages, plan.warmup_tokens)
        slots = [(index, count) for count in plan.token_counts for index in range(len(runs))]
        jobs = [
            partial(_timed, contestants[index], runs[index], stages, count)
            for index, count in slots
        ]
        taken = await in_turns(
            jobs,
            repetitions=plan.repetitions,
            least=plan.min_repetitions,
            budget=plan.budget,
        )
        for (index, count), done in zip(slots, taken, strict=True):
            contestant = contestants[index]
            traced = trace_memory and (
                contestant.family in ("floor", "agentcat") or count <= plan.peer_memory_tokens
            )
            peak = await traced_peak(partial(runs[index], count)) if traced else None
            cell = Cell(contestant, backend, count, stages, tuple(done), peak)
            cells.append(cell)
            progress(
                f"{backend:7} T={count:<7,} N={stages:<2} {contestant.case:4} "
                f"{contestant.label:38} {cell.rate:>12,.0f} tok/s  "
                f"first {cell.first * 1e3:8.3f} ms  x{len(done)}"
            )
    return cells
