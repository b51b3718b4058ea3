"""Reporting: the machine, the targets of the issue with PASS/MISS, and the tables, as Markdown.

The targets are judged on the asyncio run (the peers run under asyncio only), as ratios
between contestants measured in the same run (or, for the per-call rows and the memory per
stream, as limits, next to a baseline of the same run); the trio tables are for information.
"""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.calls import CallCell
from bench.contestants import Backend, Contestant
from bench.crowd import CrowdCell
from bench.measure import Cell, Plan
from bench.peers import version
from bench.products import ProductCell
from bench.workload import Case

__all__ = ["Machine", "Rows", "Verdict", "machine", "render", "verdicts"]

LIBRARIES = ("agentcat", "anyio", "trio", "langchain-core", "miniagents")

# The targets of the issue.
LCEL_FACTOR = 10.0
MINIAGENTS_FACTOR = 5.0
FLOOR_SHARE = 0.25
FIRST_TOKEN_LIMIT = 1e-3
LONG_STREAM_SHARE = 0.8
MEMORY_GROWTH = 2.0
FAN_OUT_FACTOR = 3.0
"""A fan-out of three branches takes at most this many times the chain of the same three."""
HAND_FAN_FACTOR = 1.5
"""agentcat's fan-out streams at least this many times faster than the hand-written one."""
CROWD_CPU_FACTOR = 1.5
"""Many streams at once cost at most this many times the CPU of plain generators."""
CROWD_MEMORY = 5e3
"""Bytes of peak memory per stream, many streams at once."""
CALL_LIMIT = 8e-6
"""Seconds per ``await lift(f >> g >> h).stream(x)``."""
WARM_FIRST_LIMIT = 60e-6
"""Seconds to the first token at N = 20, warm."""
NEAR = 0.1


@dataclass(frozen=True, slots=True)
class Rows:
    """The measurements beyond the grid of cells: the fan-out rows, the many-streams row and
    the per-call rows, of every backend."""

    products: tuple[ProductCell, ...] = ()
    crowd: tuple[CrowdCell, ...] = ()
    calls: tuple[CallCell, ...] = ()


@dataclass(frozen=True, slots=True)
class Machine:
    """Where and when the benchmark ran."""

    date: str
    cpu: str
    cores: int
    python: str
    system: str
    libraries: tuple[tuple[str, str | None], ...]
    revision: str
    """The commit of the repository measured, and whether ``agentcat/`` had changes on top."""


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or "unknown"
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            return value.strip()
    return platform.processor() or "unknown"


def _revision() -> str:
    root = Path(__file__).parent.parent

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    try:
        commit = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--", "agentcat")
    except OSError:
        return "unknown"
    if not commit:
        return "unknown"
    return f"{commit} with uncommitted changes in agentcat/" if changed else commit


def machine() -> Machine:
    """Describe this machine and the installed libraries, now."""
    return Machine(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        cpu=_cpu_model(),
        cores=os.cpu_count() or 0,
        python=f"{platform.python_implementation()} {platform.python_version()}",
        system=platform.platform(),
        libraries=tuple((name, version(name)) for name in LIBRARIES),
        revision=_revision(),
    )


class _Cells:
    """The cells of one backend, looked up by contestant, token count and stage count."""

    def __init__(self, cells: Iterable[Cell], backend: Backend) -> None:
        self._cells = {
            (cell.contestant.key, cell.contestant.case, cell.tokens, cell.stages): cell
            for cell in cells
            if cell.backend == backend
        }
        self.contestants: list[Contestant] = []
        for cell in self._cells.values():
            if cell.contestant not in self.contestants:
                self.contestants.append(cell.contestant)

    def get(self, key: str, case: Case, tokens: int, stages: int) -> Cell | None:
        return self._cells.get((key, case, tokens, stages))

    def of(self, family: str) -> list[Contestant]:
        return [contestant for contestant in self.contestants if contestant.family == family]


@dataclass(frozen=True, slots=True)
class Verdict:
    """One target checked against one measurement."""

    target: str
    subject: str
    size: str
    """What was measured at: the stream length, or the number of streams, calls..."""
    measured: str
    needed: str
    margin: float
    """The measurement over the threshold (the threshold over the measurement, for a limit
    from above): the target is met when it is at least 1."""

    @property
    def passed(self) -> bool:
        return self.margin >= 1

    @property
    def near(self) -> bool:
        """Within 10% of the threshold: on a noisy machine, one run may not settle it."""
        return abs(self.margin - 1) < NEAR


def verdicts(cells: Sequence[Cell], plan: Plan, rows: Rows | None = None) -> list[Verdict]:
    """Check every target of the issue on the asyncio cells, for every agentcat contestant,
    then those of the other rows."""
    table = _Cells(cells, "asyncio")
    top, bottom = max(plan.stage_counts), min(plan.stage_counts)
    found: list[Verdict] = []

    def ratio(target: str, cell: Cell, other: Cell | None, need: float, tokens: int) -> None:
        if other is not None:
            value = cell.rate / other.rate
            found.append(
                Verdict(
                    target,
                    _subject(cell.contestant),
                    f"{tokens:,}",
                    f"{value:.2f}x",
                    f">= {need:g}x",
                    value / need,
                )
            )

    for tokens in plan.token_counts:
        for contestant in table.of("agentcat"):
            case = contestant.case
            cell = table.get(contestant.key, case, tokens, top)
            if cell is None:
                continue
            ratio(
                f"N={top}: throughput vs LCEL",
                cell,
                table.get("lcel", case, tokens, top),
                LCEL_FACTOR,
                tokens,
            )
            ratio(
                f"N={top}: throughput vs MiniAgents re-emitting",
                cell,
                table.get("miniagents", case, tokens, top),
                MINIAGENTS_FACTOR,
                tokens,
            )
            if case == "pass":
                ratio(
                    f"N={top}: throughput vs plain generators",
                    cell,
                    table.get("floor", case, tokens, top),
                    FLOOR_SHARE,
                    tokens,
                )
            found.append(
                Verdict(
                    f"N={top}: time to first token",
                    _subject(contestant),
                    f"{tokens:,}",
                    f"{cell.first * 1e3:.3f} ms",
                    f"< {FIRST_TOKEN_LIMIT * 1e3:g} ms",
                    FIRST_TOKEN_LIMIT / cell.first,
                )
            )
            narrow = table.get(contestant.key, case, tokens, bottom)
            if cell.peak is not None and narrow is not None and narrow.peak:
                growth = cell.peak / narrow.peak
                found.append(
                    Verdict(
                        f"peak memory N={top} vs N={bottom}",
                        _subject(contestant),
                        f"{tokens:,}",
                        f"{growth:.2f}x ({_mb(cell.peak)} vs {_mb(narrow.peak)} MB)",
                        f"<= {MEMORY_GROWTH:g}x",
                        MEMORY_GROWTH / growth,
                    )
                )
    if len(plan.token_counts) > 1:
        short, long = min(plan.token_counts), max(plan.token_counts)
        for contestant in table.of("agentcat"):
            for stages in plan.stage_counts:
                small = table.get(contestant.key, contestant.case, short, stages)
                large = table.get(contestant.key, contestant.case, long, stages)
                if small is None or large is None:
                    continue
                share = large.rate / small.rate
                found.append(
                    Verdict(
                        f"N={stages}: T={long:,} vs T={short:,} throughput",
                        _subject(contestant),
                        f"{long:,}",
                        f"{share:.0%}",
                        f">= {LONG_STREAM_SHARE:.0%}",
                        share / LONG_STREAM_SHARE,
                    )
                )
    if rows is not None:
        found += _product_verdicts(rows.products)
        found += _crowd_verdicts(rows.crowd)
        found += _call_verdicts(rows.calls)
    return found


_KINDS = (("steps", "per-delta steps"), ("transducers", "`@transducer` maps"))
"""The two kinds of branch of the fan-out rows: their keys in :mod:`bench.products`, and names."""


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.2f}"


def _kb(size: float) -> str:
    return f"{size / 1e3:.2f}"


def _product_verdicts(products: Sequence[ProductCell]) -> list[Verdict]:
    table = {cell.product.key: cell for cell in products if cell.backend == "asyncio"}
    hand = table.get("hand-fan")
    found: list[Verdict] = []
    for kind, name in _KINDS:
        fan, chain = table.get(f"{kind}-fan"), table.get(f"{kind}-chain")
        if fan is None:
            continue
        if chain is not None:
            ratio = fan.per_token / chain.per_token
            found.append(
                Verdict(
                    "fan-out `model >> (t1 & t2 & t3)` vs chain `model >> t1 >> t2 >> t3`: "
                    "time per input token",
                    f"{name}, fanned out",
                    f"{fan.tokens:,}",
                    f"{ratio:.2f}x ({_us(fan.per_token)} vs {_us(chain.per_token)} us)",
                    f"<= {FAN_OUT_FACTOR:g}x",
                    FAN_OUT_FACTOR / ratio,
                )
            )
        if hand is not None:
            ratio = hand.per_token / fan.per_token
            found.append(
                Verdict(
                    "fan-out throughput vs hand-written asyncio fan-out (bounded queues)",
                    f"{name}, fanned out",
                    f"{fan.tokens:,}",
                    f"{ratio:.2f}x ({fan.rate:,.0f} vs {hand.rate:,.0f} input tokens/s)",
                    f">= {HAND_FAN_FACTOR:g}x",
                    ratio / HAND_FAN_FACTOR,
                )
            )
    return found


def _crowd_cell(
    crowd: Sequence[CrowdCell], backend: Backend, family: str, streams: int | None = None
) -> CrowdCell | None:
    """The cell of ``family``, at ``streams`` streams (default: the most it was measured at)."""
    found = [
        cell
        for cell in crowd
        if cell.backend == backend
        and cell.crowd.family == family
        and (streams is None or cell.streams == streams)
    ]
    return max(found, key=lambda cell: cell.streams, default=None)


def _crowd_verdicts(crowd: Sequence[CrowdCell]) -> list[Verdict]:
    ours = _crowd_cell(crowd, "asyncio", "agentcat")
    if ours is None:
        return []
    floor = _crowd_cell(crowd, "asyncio", "floor", ours.streams)
    bare = _crowd_cell(crowd, "asyncio", "bare")
    found: list[Verdict] = []
    shape = f"{ours.tokens} tokens, N={ours.stages}"
    if floor is not None and ours.batches and floor.batches:
        ratio = ours.cpu / floor.cpu
        found.append(
            Verdict(
                "many streams at once: CPU time of the batch vs plain generators",
                ours.crowd.label,
                f"{ours.streams:,} streams x {shape}",
                f"{ratio:.2f}x ({ours.cpu:.2f} vs {floor.cpu:.2f} s)",
                f"<= {CROWD_CPU_FACTOR:g}x",
                CROWD_CPU_FACTOR / ratio,
            )
        )
    memory = ours.per_stream
    if memory is not None:
        notes = []
        if bare is not None and bare.per_stream is not None:
            notes.append(f"{_kb(memory - bare.per_stream)} above the reading task alone")
        if floor is not None and floor.per_stream is not None:
            notes.append(f"plain generators {_kb(floor.per_stream)}")
        note = f" ({'; '.join(notes)})" if notes else ""
        found.append(
            Verdict(
                "many streams at once: peak memory per stream (tracemalloc peak / streams)",
                ours.crowd.label,
                f"{ours.traced:,} streams x {shape} (traced)",
                f"{_kb(memory)} KB{note}",
                f"<= {_kb(CROWD_MEMORY)} KB",
                CROWD_MEMORY / memory,
            )
        )
    return found


def _call_verdicts(calls: Sequence[CallCell]) -> list[Verdict]:
    found: list[Verdict] = []
    for cell in calls:
        if cell.backend != "asyncio":
            continue
        limit, target = (
            (CALL_LIMIT, "lifted call of three plain agents, warm")
            if cell.key == "lift"
            else (WARM_FIRST_LIMIT, "time to first token, warm (stream created, first token read)")
        )
        found.append(
            Verdict(
                target,
                cell.label,
                f"{cell.count:,} x {cell.rounds} rounds",
                f"{_us(cell.seconds)} us ({cell.seconds / cell.baseline:.1f}x "
                f"{cell.baseline_label}: {_us(cell.baseline)} us)",
                f"<= {limit * 1e6:g} us",
                limit / cell.seconds,
            )
        )
    return found


def _subject(contestant: Contestant) -> str:
    return f"{contestant.label} ({contestant.case})"


def _mb(size: int) -> str:
    return f"{size / 1e6:.2f}"


def _row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(head: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = [_row(head), _row("---" if i == 0 else "---:" for i in range(len(head)))]
    lines.extend(_row(row) for row in rows)
    return lines


def _grid(
    table: _Cells,
    plan: Plan,
    contestants: Sequence[Contestant],
    show: Callable[[Contestant, int, int], str],
) -> list[str]:
    """A row per contestant, a column per (token count, stage count)."""
    head = ["contestant (case)"] + [
        f"T={tokens:,} N={stages}" for tokens in plan.token_counts for stages in plan.stage_counts
    ]
    rows = [
        [_subject(contestant)]
        + [
            show(contestant, tokens, stages)
            for tokens in plan.token_counts
            for stages in plan.stage_counts
        ]
        for contestant in contestants
    ]
    return _table(head, rows)


def _ordered(table: _Cells) -> list[Contestant]:
    order = {"floor": 0, "agentcat": 1, "lcel": 2, "miniagents": 3}
    return sorted(table.contestants, key=lambda c: (c.case != "pass", order[c.family]))


def _backend_tables(cells: Sequence[Cell], plan: Plan, backend: Backend) -> list[str]:
    table = _Cells(cells, backend)
    if not table.contestants:
        return []
    contestants = _ordered(table)

    def rate(contestant: Contestant, tokens: int, stages: int) -> str:
        cell = table.get(contestant.key, contestant.case, tokens, stages)
        return "-" if cell is None else f"{cell.rate:,.0f}"

    def first(contestant: Contestant, tokens: int, stages: int) -> str:
        cell = table.get(contestant.key, contestant.case, tokens, stages)
        return "-" if cell is None else f"{cell.first * 1e3:.3f}"

    def peak(contestant: Contestant, tokens: int, stages: int) -> str:
        cell = table.get(contestant.key, contestant.case, tokens, stages)
        return "-" if cell is None or cell.peak is None else _mb(cell.peak)

    lines = [f"## {backend}", "", "### Throughput (tokens/s, best request)", ""]
    lines += _grid(table, plan, contestants, rate)
    lines += ["", "### Time to first token (ms, median request)", ""]
    lines += _grid(table, plan, contestants, first)
    if any(cell.peak is not None for cell in cells if cell.backend == backend):
        lines += ["", "### Peak memory (MB, tracemalloc, one request)", ""]
        lines += _grid(table, plan, contestants, peak)
    lines += ["", "### agentcat's throughput as a multiple of the others' (same case)", ""]
    lines += _ratio_grid(table, plan)
    return [*lines, ""]


def _ratio_grid(table: _Cells, plan: Plan) -> list[str]:
    head = ["agentcat (case)", "divided by"] + [
        f"T={tokens:,} N={stages}" for tokens in plan.token_counts for stages in plan.stage_counts
    ]
    rows: list[list[str]] = []
    for ours in table.of("agentcat"):
        for other in _ordered(table):
            if other.family == "agentcat" or other.case != ours.case:
                continue
            row = [_subject(ours), other.label]
            for tokens in plan.token_counts:
                for stages in plan.stage_counts:
                    mine = table.get(ours.key, ours.case, tokens, stages)
                    theirs = table.get(other.key, other.case, tokens, stages)
                    ratio = None if mine is None or theirs is None else mine.rate / theirs.rate
                    row.append("-" if ratio is None else f"{ratio:.2f}x")
            rows.append(row)
    return _table(head, rows)


def _product_table(products: Sequence[ProductCell], backend: Backend) -> list[str]:
    table = {cell.product.key: cell for cell in products if cell.backend == backend}
    if not table:
        return []
    tokens = next(iter(table.values())).tokens
    hand = table.get("hand-fan")
    rows: list[list[str]] = []
    for kind, name in _KINDS:
        fan, chain = table.get(f"{kind}-fan"), table.get(f"{kind}-chain")
        if fan is None or chain is None:
            continue
        rows.append(
            [
                name,
                _us(chain.per_token),
                _us(fan.per_token),
                f"{fan.per_token / chain.per_token:.2f}x",
                "-" if hand is None else _us(hand.per_token),
                "-" if hand is None else f"{hand.per_token / fan.per_token:.2f}x",
                f"{len(fan.samples)}/{len(chain.samples)}",
            ]
        )
    lines = [
        f"### Fan-out of three branches (T = {tokens:,}; us per input token, best request)",
        "",
    ]
    return lines + _table(
        [
            "branches",
            "chained",
            "fanned out",
            "fan-out / chain",
            "hand-written asyncio fan-out",
            "agentcat's throughput / hand-written",
            "requests (fan-out/chain)",
        ],
        rows,
    )


def _crowd_table(crowd: Sequence[CrowdCell], backend: Backend) -> list[str]:
    cells = [cell for cell in crowd if cell.backend == backend]
    if not cells:
        return []
    first = cells[0]
    rows: list[list[str]] = []
    for cell in cells:
        floor = _crowd_cell(crowd, backend, "floor", cell.streams)
        timed = bool(cell.batches)
        memory = cell.per_stream
        rows.append(
            [
                cell.crowd.label,
                f"{cell.streams:,}" if timed else "-",
                f"{cell.cpu:.3f}" if timed else "-",
                f"{cell.cpu / (cell.streams * cell.tokens) * 1e6:.2f}" if timed else "-",
                f"{cell.cpu / floor.cpu:.2f}x" if timed and floor and floor.batches else "-",
                f"{min(batch.elapsed for batch in cell.batches):.3f}" if timed else "-",
                str(len(cell.batches)) if timed else "-",
                "-" if memory is None else _kb(memory),
                "-" if cell.traced is None else f"{cell.traced:,}",
            ]
        )
    lines = [
        f"### Many streams at once ({first.tokens} tokens each through N = {first.stages}, "
        "one task per stream; CPU time of the whole batch, least batch)",
        "",
    ]
    return lines + _table(
        [
            "contestant",
            "streams",
            "CPU (s)",
            "CPU per token (us)",
            "CPU / plain, same streams",
            "wall (s)",
            "batches",
            "peak memory per stream (KB)",
            "traced at (streams)",
        ],
        rows,
    )


def _call_table(calls: Sequence[CallCell], backend: Backend) -> list[str]:
    cells = [cell for cell in calls if cell.backend == backend]
    if not cells:
        return []
    rows = [
        [
            cell.label,
            _us(cell.seconds),
            cell.baseline_label,
            _us(cell.baseline),
            f"{cell.seconds / cell.baseline:.1f}x",
            f"{cell.count:,} x {cell.rounds}",
        ]
        for cell in cells
    ]
    lines = ["### Per call, warm (us, best round)", ""]
    return lines + _table(
        ["agentcat", "us", "baseline", "baseline us", "ratio", "per round x rounds"], rows
    )


def _row_tables(rows: Rows, backend: Backend) -> list[str]:
    """The tables of the other rows for ``backend``, each followed by a blank line."""
    tables = (
        _product_table(rows.products, backend),
        _crowd_table(rows.crowd, backend),
        _call_table(rows.calls, backend),
    )
    return [line for table in tables if table for line in (*table, "")]


def _plan_of_rows(plan: Plan) -> str:
    crowd, calls = plan.crowd, plan.calls
    ladder = ", ".join(f"{count:,}" for count in crowd.peer_streams)
    return (
        f"- Other rows: fan-outs at T = {plan.product_tokens:,}, in requests as the cells; "
        f"{crowd.streams:,} streams of {crowd.tokens} tokens through N = {crowd.stages} at once, "
        f"{crowd.repetitions} batch(es) each, memory traced at {crowd.traced_streams:,} streams, "
        f"the peers at the largest of {ladder} streams that fits in {crowd.peer_budget:g} s "
        f"(traced at the smallest); per-call rows the best of {calls.rounds} rounds of "
        f"{calls.calls:,} calls or {calls.firsts:,} first tokens (N = {calls.stages})"
    )


def render(
    cells: Sequence[Cell],
    plan: Plan,
    host: Machine,
    *,
    seconds: float,
    command: str,
    analysis: str | None,
    rows: Rows | None = None,
) -> str:
    """The whole report as Markdown."""
    rows = rows or Rows()
    found = verdicts(cells, plan, rows)
    missed = [verdict for verdict in found if not verdict.passed]
    libraries = ", ".join(f"{name} {v or 'not installed'}" for name, v in host.libraries)
    lines = [
        "# Streaming benchmark results",
        "",
        f"- Date: {host.date}",
        f"- Machine: {host.cpu}, {host.cores} cores; {host.system}",
        f"- Python: {host.python}",
        f"- Libraries: {libraries}",
        f"- agentcat revision: {host.revision}",
        f"- Command: `{command}` ({seconds / 60:.1f} minutes)",
        f"- Plan: T = {', '.join(f'{t:,}' for t in plan.token_counts)} tokens; "
        f"N = {', '.join(map(str, plan.stage_counts))} stages; up to {plan.repetitions} "
        f"timed requests per cell, fewer once a contestant has spent {plan.budget:g} s in it; "
        f"peers' memory traced up to T = {plan.peer_memory_tokens:,}; at least "
        f"{plan.min_repetitions} timed request(s) per cell however long they take",
        _plan_of_rows(plan),
        "",
        "Throughput is T divided by the time from the request to the end of the stream, for the "
        "fastest request; time to first token is from the request (creating the stream) to the "
        "first token in the consumer, median over the requests; peak memory is tracemalloc's "
        "peak over one more request, in a pass of its own. Every contestant is fed by the same "
        "non-sleeping async generator of short strings, and its consumer touches every token. "
        "The fan-out rows time `model >> (t1 & t2 & t3)` per input token against the same "
        "stages chained and against a hand-written asyncio fan-out; the many-streams row reads "
        "thousands of streams at once, one task each, from a producer that gives way to the "
        "event loop before every token, and times the CPU of the whole batch; the per-call "
        "rows time one warm `await lift(f >> g >> h).stream(x)` and one warm first token at "
        "N = 20 (see bench/README.md).",
        "",
        f"## Targets ({len(found) - len(missed)} PASS, {len(missed)} MISS; asyncio)",
        "",
        f"A result marked (near) is within {NEAR:.0%} of its threshold: on a shared 2-core "
        "machine one run does not settle it either way.",
        "",
    ]
    lines += _table(
        ["target", "agentcat contestant (case)", "T or size", "measured", "needed", "result"],
        (
            [
                v.target,
                v.subject,
                v.size,
                v.measured,
                v.needed,
                ("PASS" if v.passed else "MISS") + (" (near)" if v.near else ""),
            ]
            for v in found
        ),
    )
    lines.append("")
    if analysis:
        lines += [analysis.strip(), ""]
    for backend in ("asyncio", "trio"):
        lines += _backend_tables(cells, plan, backend)
        lines += _row_tables(rows, backend)
    return "\n".join(lines)
