"""The benchmark's command line: measure every contestant, then write the report.

``python -m bench.run`` runs the full plan of the issue (about 14 minutes on 2 cores) and
writes ``bench/RESULTS.md``; ``--quick`` runs a small plan in about a minute and prints the
report instead. The peers are measured when they are installed (the ``bench`` dependency
group), and left out with a warning when they are not. The import times of Hypothesis and
agentcat-laws (``bench/imports.py``, in fresh interpreters) are measured first, and reported in
a section of their own at the end.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from time import perf_counter

import anyio

from bench.calls import measure_calls
from bench.contestants import Backend, Contestant, agentcat_contestants, floor_contestants
from bench.crowd import Crowd, agentcat_crowd, bare_crowd, floor_crowd, measure_crowd
from bench.imports import ImportPlan, measure_imports, render_imports
from bench.measure import CallPlan, Cell, CrowdPlan, Plan, measure
from bench.peers import (
    lcel_contestants,
    lcel_crowd,
    miniagents_contestants,
    miniagents_crowd,
    version,
)
from bench.products import measure_products
from bench.report import Rows, machine, render

__all__ = ["FULL", "FULL_IMPORTS", "QUICK", "QUICK_IMPORTS", "main"]

HERE = Path(__file__).parent

FULL = Plan(
    token_counts=(10_000, 100_000),
    stage_counts=(1, 5, 20),
    repetitions=5,
    min_repetitions=3,
    budget=5.0,
    peer_memory_tokens=10_000,
    product_tokens=10_000,
    crowd=CrowdPlan(
        streams=10_000,
        traced_streams=2_000,
        repetitions=2,
        peer_streams=(1_000, 500, 200, 100),
        peer_budget=10.0,
    ),
    calls=CallPlan(calls=10_000, firsts=1_000, rounds=7),
)
"""The plan of the issue: every peer gets at least three requests per cell (the slow ones at
T = 100,000 exactly three, about 100 s a cell for LCEL at N = 20), so the fast contestants get
at most five, not seven, to keep the whole run under 15 minutes."""

QUICK = Plan(
    token_counts=(2_000, 10_000),
    stage_counts=(1, 20),
    repetitions=2,
    min_repetitions=1,
    budget=0.5,
    peer_memory_tokens=2_000,
    product_tokens=1_000,
    crowd=CrowdPlan(
        streams=500,
        traced_streams=200,
        repetitions=1,
        peer_streams=(50, 20),
        peer_budget=1.0,
    ),
    calls=CallPlan(calls=2_000, firsts=200, rounds=3),
)
"""A smoke run: every contestant, every row and every code path, at small sizes."""

FULL_IMPORTS = ImportPlan(runs=15)
"""The import rows of the full run: 15 interpreters per case (about half a minute)."""

QUICK_IMPORTS = ImportPlan(runs=5)
"""The import rows of the smoke run."""


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _contestants() -> list[Contestant]:
    peers = lcel_contestants() + miniagents_contestants()
    if not peers:
        _say("warning: langchain-core and miniagents are not installed (the `bench` group)")
    return floor_contestants() + agentcat_contestants() + peers


def _crowds() -> list[Crowd]:
    return [bare_crowd(), floor_crowd(), agentcat_crowd(), *lcel_crowd(), *miniagents_crowd()]


async def _everything(
    contestants: Sequence[Contestant], crowds: Sequence[Crowd], plan: Plan, backend: Backend
) -> tuple[list[Cell], Rows]:
    """Every row, under one event loop: the cells, the fan-outs, the calls, the many streams."""
    traced = backend == "asyncio"
    chosen = [contestant for contestant in contestants if backend in contestant.backends]
    cells = await measure(chosen, plan, backend, trace_memory=traced, progress=_say)
    products = await measure_products(plan, backend, progress=_say)
    calls = await measure_calls(plan.calls, backend, progress=_say)
    crowd = await measure_crowd(crowds, plan.crowd, backend, trace_memory=traced, progress=_say)
    return cells, Rows(tuple(products), tuple(crowd), tuple(calls))


def _measure(
    contestants: Sequence[Contestant], crowds: Sequence[Crowd], plan: Plan, backend: Backend
) -> tuple[list[Cell], Rows]:
    task = partial(_everything, contestants, crowds, plan, backend)
    return anyio.run(task, backend=backend)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; the exit status is 0 whether targets pass or not."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="a small plan; print the report, write nothing"
    )
    parser.add_argument(
        "--output", type=Path, help="where to write the report (default: bench/RESULTS.md)"
    )
    parser.add_argument("--no-trio", action="store_true", help="measure under asyncio only")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    import_plan = QUICK_IMPORTS if args.quick else FULL_IMPORTS
    output: Path | None = args.output or (None if args.quick else HERE / "RESULTS.md")

    host = machine()  # now, not after minutes of measuring: the code measured is this revision
    contestants, crowds = _contestants(), _crowds()
    started = perf_counter()
    imports = measure_imports(import_plan, progress=_say)
    cells, rows = _measure(contestants, crowds, plan, "asyncio")
    if not args.no_trio and version("trio") is not None:
        more, other = _measure(contestants, crowds, plan, "trio")
        cells += more
        rows = Rows(
            rows.products + other.products, rows.crowd + other.crowd, rows.calls + other.calls
        )
    analysis_file = HERE / "analysis.md"
    report = render(
        cells,
        plan,
        host,
        seconds=perf_counter() - started,
        command=" ".join(["python -m bench.run", *(argv if argv is not None else sys.argv[1:])]),
        analysis=analysis_file.read_text() if analysis_file.exists() else None,
        rows=rows,
    )
    report = f"{report.rstrip()}\n\n{render_imports(imports, import_plan)}\n"
    if output is None:
        print(report)
    else:
        output.write_text(report)
        _say(f"wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
