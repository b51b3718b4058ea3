"""Reporting: the machine, the targets of the issue with PASS/MISS, and the tables, as Markdown.

The targets are judged on the asyncio run (the peers run under asyncio only), as ratios
between contestants measured in the same run; the trio tables are for information.
"""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.contestants import Backend, Contestant
from bench.measure import Cell, Plan
from bench.peers import version
from bench.workload import Case

__all__ = ["Machine", "Verdict", "machine", "render", "verdicts"]

LIBRARIES = ("agentcat", "anyio", "trio", "langchain-core", "miniagents")

# The targets of the issue.
LCEL_FACTOR = 10.0
MINIAGENTS_FACTOR = 5.0
FLOOR_SHARE = 0.25
FIRST_TOKEN_LIMIT = 1e-3
LONG_STREAM_SHARE = 0.8
MEMORY_GROWTH = 2.0
NEAR = 0.1


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
    tokens: int
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


def verdicts(cells: Sequence[Cell], plan: Plan) -> list[Verdict]:
    """Check every target of the issue on the asyncio cells, for every agentcat contestant."""
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
                    tokens,
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
                    tokens,
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
                        tokens,
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
                        long,
                        f"{share:.0%}",
                        f">= {LONG_STREAM_SHARE:.0%}",
                        share / LONG_STREAM_SHARE,
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


def render(
    cells: Sequence[Cell],
    plan: Plan,
    host: Machine,
    *,
    seconds: float,
    command: str,
    analysis: str | None,
) -> str:
    """The whole report as Markdown."""
    found = verdicts(cells, plan)
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
        f"peers' memory traced up to T = {plan.peer_memory_tokens:,}",
        "",
        "Throughput is T divided by the time from the request to the end of the stream, for the "
        "fastest request; time to first token is from the request (creating the stream) to the "
        "first token in the consumer, median over the requests; peak memory is tracemalloc's "
        "peak over one more request, in a pass of its own. Every contestant is fed by the same "
        "non-sleeping async generator of short strings, and its consumer touches every token.",
        "",
        f"## Targets ({len(found) - len(missed)} PASS, {len(missed)} MISS; asyncio)",
        "",
        f"A result marked (near) is within {NEAR:.0%} of its threshold: on a shared 2-core "
        "machine one run does not settle it either way.",
        "",
    ]
    lines += _table(
        ["target", "agentcat contestant (case)", "T", "measured", "needed", "result"],
        (
            [
                v.target,
                v.subject,
                f"{v.tokens:,}",
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
    return "\n".join(lines)
