"""The many-streams row: thousands of short streams at once, each read by its own task.

A batch opens ``streams`` streams of ``tokens`` tokens through ``stages`` stages (pass-through
and ``shout`` stages in turn: ``forward``, ``map_deltas(shout)``, ``forward``... for agentcat,
the same generators chained by hand for the floor) and reads them all concurrently, one task
each, in one task group. The producer is :func:`bench.workload.paced_tokens`, which gives way
to the event loop before every token, as a model's stream does: so every stream of a batch is
open at once, and they interleave. Measured: the CPU time of the whole batch
(``time.process_time``, the least of a few batches), and the peak memory per stream
(tracemalloc's peak over one more batch, divided by its streams), in a separate pass at a
smaller count, since tracing ten thousand streams slows Python down several times.

The peers (:func:`bench.peers.lcel_crowd`, :func:`bench.peers.miniagents_crowd`) are measured at
the largest count of the plan's ladder whose batch fits in its budget, the floor beside them at
the same count; ``bare`` readers (tasks that give way as often and read nothing) show how much
of the memory per stream is the reading task's own.
"""

from __future__ import annotations

import gc
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from functools import partial
from time import perf_counter, process_time
from typing import Any, Literal

import anyio

from agentcat import StreamingAgent, forward, map_deltas, streaming
from bench.contestants import Backend, mapping, passing
from bench.measure import CrowdPlan, OutputError, in_turns, traced_peak
from bench.workload import expected_chars, giving_way, paced_tokens, shout

__all__ = [
    "Crowd",
    "CrowdCell",
    "Read",
    "Timing",
    "agentcat_crowd",
    "bare_crowd",
    "floor_crowd",
    "measure_crowd",
    "together",
]

CrowdFamily = Literal["bare", "floor", "agentcat", "lcel", "miniagents"]

Read = Callable[[int, list[tuple[int, int]]], Coroutine[Any, Any, None]]
"""Open one stream of ``count`` tokens, read all of it, and append its (tokens, characters)."""

Batch = Callable[[int, int], Awaitable[list[tuple[int, int]]]]
"""Read ``streams`` streams of ``count`` tokens at once; every stream's (tokens, characters)."""


async def together(read: Read, streams: int, count: int) -> list[tuple[int, int]]:
    """``streams`` readers in one task group, each reading its own stream."""
    done: list[tuple[int, int]] = []
    async with anyio.create_task_group() as group:
        for _ in range(streams):
            group.start_soon(read, count, done)
    return done


@dataclass(frozen=True, slots=True)
class Crowd:
    """One way of streaming through stages, many streams at once.

    ``build(stages)`` makes what a batch needs once and returns the batch runner.
    """

    key: str
    label: str
    family: CrowdFamily
    build: Callable[[int], Batch]
    backends: tuple[Backend, ...] = ("asyncio",)


@dataclass(frozen=True, slots=True)
class Timing:
    """One batch: its CPU time and its wall-clock time, in seconds."""

    cpu: float
    elapsed: float


@dataclass(frozen=True, slots=True)
class CrowdCell:
    """The batches of one contestant, for one backend and number of streams."""

    crowd: Crowd
    backend: Backend
    streams: int
    tokens: int
    stages: int
    batches: tuple[Timing, ...]
    traced: int | None
    """How many streams the traced batch had (``None``: not traced)."""
    peak: int | None
    """tracemalloc's peak over the traced batch, in bytes."""

    @property
    def cpu(self) -> float:
        """The CPU seconds of the cheapest batch."""
        return min(batch.cpu for batch in self.batches)

    @property
    def per_stream(self) -> float | None:
        """Peak memory per stream, in bytes, of the traced batch."""
        return None if self.peak is None or not self.traced else self.peak / self.traced


# The contestants --------------------------------------------------------------------------


def _floor(stages: int) -> Batch:
    kinds = [mapping if index % 2 else passing for index in range(stages)]

    async def read(count: int, done: list[tuple[int, int]]) -> None:
        seen, chars = 0, 0
        chain = paced_tokens(count)
        for stage in kinds:
            chain = stage(chain)
        async for token in chain:
            chars += len(token)
            seen += 1
        done.append((seen, chars))

    return partial(together, read)


def floor_crowd() -> Crowd:
    """Plain async generators chained by hand, many at once: the least it can cost."""
    return Crowd("floor", "plain async generators", "floor", _floor, ("asyncio", "trio"))


def _agentcat(stages: int) -> Batch:
    pipeline: StreamingAgent[int, str] = streaming(paced_tokens)
    for index in range(stages):
        pipeline = pipeline >> (map_deltas(shout) if index % 2 else forward)

    async def read(count: int, done: list[tuple[int, int]]) -> None:
        seen, chars = 0, 0
        async with pipeline.stream(count) as stream:
            async for chunk in stream:
                chars += len(chunk.delta)
                seen += 1
        # A last chunk that only says `done` (its delta is empty) is not a token.
        if seen and chunk.done and not chunk.delta:
            seen -= 1
        done.append((seen, chars))

    return partial(together, read)


def agentcat_crowd() -> Crowd:
    """agentcat's ``streaming(paced_tokens) >> forward >> map_deltas(shout) >> ...``."""
    return Crowd(
        "agentcat", "agentcat `forward`/`map_deltas`", "agentcat", _agentcat, ("asyncio", "trio")
    )


def _bare(_: int) -> Batch:
    async def read(count: int, done: list[tuple[int, int]]) -> None:
        give_way = giving_way()
        for _ in range(count):
            await give_way()
        done.append((count, expected_chars(count)))

    return partial(together, read)


def bare_crowd() -> Crowd:
    """Readers that give way once per token and read no stream: the reading tasks' own cost."""
    return Crowd("bare", "reader tasks alone (no stream)", "bare", _bare)


# Measuring ----------------------------------------------------------------------------------


def _check(crowd: Crowd, streams: int, count: int, done: list[tuple[int, int]]) -> None:
    want = (count, expected_chars(count))
    wrong = [result for result in done if result != want]
    if len(done) != streams or wrong:
        raise OutputError(
            f"{crowd.label}: {len(done)} of {streams} streams ended, {len(wrong)} of them "
            f"with (tokens, characters) other than {want} (say {wrong[:1]})"
        )


async def _batch(crowd: Crowd, batch: Batch, streams: int, count: int) -> Timing:
    cpu, start = process_time(), perf_counter()
    done = await batch(streams, count)
    timing = Timing(process_time() - cpu, perf_counter() - start)
    _check(crowd, streams, count, done)
    return timing


async def _traced(crowd: Crowd, batch: Batch, streams: int, count: int) -> int:
    done: list[tuple[int, int]] = []

    async def run() -> None:
        done.extend(await batch(streams, count))

    peak = await traced_peak(run)
    _check(crowd, streams, count, done)
    return peak


def _say(cell: CrowdCell) -> str:
    memory = cell.per_stream
    traced = "" if memory is None else f"  {memory / 1e3:6.2f} KB/stream (at {cell.traced:,})"
    timed = f"{cell.cpu:8.3f} s CPU  x{len(cell.batches)}" if cell.batches else "not timed"
    return (
        f"{cell.backend:7} streams={cell.streams:<6,} crowd {cell.crowd.label:38} {timed}{traced}"
    )


def _ladder(plan: CrowdPlan, probe: Timing, rung: int) -> int:
    """The largest count of the peers' ladder that a batch taking ``probe`` at ``rung`` streams
    predicts (linearly) to fit in the peers' budget; the smallest when none does."""
    seconds_per_stream = probe.elapsed / rung
    fits = [count for count in plan.peer_streams if count * seconds_per_stream <= plan.peer_budget]
    return max(fits, default=min(plan.peer_streams))


async def measure_crowd(
    crowds: Sequence[Crowd],
    plan: CrowdPlan,
    backend: Backend,
    *,
    trace_memory: bool,
    progress: Callable[[str], None],
) -> list[CrowdCell]:
    """Measure the many-streams row under the running event loop: the floor and agentcat at
    ``plan.streams``, in turns; then every peer, once at the smallest count of the ladder (its
    probe, and its traced batch) and once at the largest count the probe predicts to fit in
    ``plan.peer_budget`` seconds, with the floor at that count beside it."""
    chosen = [crowd for crowd in crowds if backend in crowd.backends]
    batches = {crowd.key: crowd.build(plan.stages) for crowd in chosen}
    count = plan.tokens
    for crowd in chosen:
        await _batch(crowd, batches[crowd.key], 10, count)  # warm-up, checked
    cells: list[CrowdCell] = []

    async def timed(group: Sequence[Crowd], streams: int) -> list[list[Timing]]:
        """``plan.repetitions`` batches of every contestant of ``group``, in turns."""
        jobs = [partial(_batch, crowd, batches[crowd.key], streams, count) for crowd in group]
        repetitions = plan.repetitions
        return await in_turns(jobs, repetitions=repetitions, least=repetitions, budget=0)

    async def record(crowd: Crowd, streams: int, taken: list[Timing], traced: int | None) -> None:
        gc.collect()
        peak = None if traced is None else await _traced(crowd, batches[crowd.key], traced, count)
        cell = CrowdCell(crowd, backend, streams, count, plan.stages, tuple(taken), traced, peak)
        cells.append(cell)
        progress(_say(cell))

    ours = [crowd for crowd in chosen if crowd.family in ("floor", "agentcat")]
    traced = plan.traced_streams if trace_memory else None
    for crowd, taken in zip(ours, await timed(ours, plan.streams), strict=True):
        await record(crowd, plan.streams, taken, traced)
    for crowd in chosen:
        if crowd.family == "bare" and trace_memory:
            await record(crowd, plan.streams, [], plan.traced_streams)

    floor = next((crowd for crowd in chosen if crowd.family == "floor"), None)
    floors_at: set[int] = set()
    for crowd in chosen:
        if crowd.family not in ("lcel", "miniagents"):
            continue
        rung = min(plan.peer_streams)
        gc.collect()
        probe = await _batch(crowd, batches[crowd.key], rung, count)
        streams = _ladder(plan, probe, rung)
        if streams == rung:
            timing = probe
        else:
            gc.collect()
            timing = await _batch(crowd, batches[crowd.key], streams, count)
        await record(crowd, streams, [timing], rung if trace_memory else None)
        if floor is not None and streams not in floors_at:
            floors_at.add(streams)
            (taken,) = await timed([floor], streams)
            await record(floor, streams, taken, None)
    return cells
