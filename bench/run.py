"""The benchmark's command line: measure every contestant, then write the report.

``python -m bench.run`` runs the full plan of the issue (about 8 minutes on 2 cores) and writes
``bench/RESULTS.md``; ``--quick`` runs a small plan in under a minute and prints the
report instead. The peers are measured when they are installed (the ``bench`` dependency
group), and left out with a warning when they are not.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from time import perf_counter

import anyio

from bench.contestants import Backend, Contestant, agentcat_contestants, floor_contestants
from bench.measure import Cell, Plan, measure
from bench.peers import lcel_contestants, miniagents_contestants, version
from bench.report import machine, render

__all__ = ["FULL", "QUICK", "main"]

HERE = Path(__file__).parent

FULL = Plan(
    token_counts=(10_000, 100_000),
    stage_counts=(1, 5, 20),
    repetitions=7,
    budget=5.0,
    peer_memory_tokens=10_000,
)
"""The plan of the issue."""

QUICK = Plan(
    token_counts=(2_000, 10_000),
    stage_counts=(1, 20),
    repetitions=2,
    budget=0.5,
    peer_memory_tokens=2_000,
)
"""A smoke run: every contestant and every code path, a few seconds per backend."""


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _contestants() -> list[Contestant]:
    peers = lcel_contestants() + miniagents_contestants()
    if not peers:
        _say("warning: langchain-core and miniagents are not installed (the `bench` group)")
    return floor_contestants() + agentcat_contestants() + peers


def _measure(contestants: Sequence[Contestant], plan: Plan, backend: Backend) -> list[Cell]:
    chosen = [contestant for contestant in contestants if backend in contestant.backends]
    task = partial(measure, chosen, plan, backend, trace_memory=backend == "asyncio", progress=_say)
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
    output: Path | None = args.output or (None if args.quick else HERE / "RESULTS.md")

    host = machine()  # now, not after minutes of measuring: the code measured is this revision
    contestants = _contestants()
    started = perf_counter()
    cells = _measure(contestants, plan, "asyncio")
    if not args.no_trio and version("trio") is not None:
        cells += _measure(contestants, plan, "trio")
    analysis_file = HERE / "analysis.md"
    report = render(
        cells,
        plan,
        host,
        seconds=perf_counter() - started,
        command=" ".join(["python -m bench.run", *(argv if argv is not None else sys.argv[1:])]),
        analysis=analysis_file.read_text() if analysis_file.exists() else None,
    )
    if output is None:
        print(report)
    else:
        output.write_text(report)
        _say(f"wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
