"""The import rows: what importing Hypothesis and agentcat-laws costs, each in a fresh interpreter.

agentcat-laws registers a ``hypothesis`` entry point, which Hypothesis runs on ``import
hypothesis`` in every process of the environment, most of which never use agentcat; so the
entry point must cost next to nothing, and ``import agentcat_laws`` (which loading the entry
point implies) too. Each case is a few statements timed one after the other with
``perf_counter`` inside a new interpreter (its start-up is not counted), the median over
``runs`` interpreters, the cases taken in turns so that background load hits them alike:

- ``import hypothesis`` with plugins off (``HYPOTHESIS_NO_PLUGINS=1``), the baseline of every
  ratio; then, in the same interpreter, agentcat-laws' entry point loaded and called as
  Hypothesis does it: its own cost (target: at most :data:`HOOK_SHARE` of the baseline). Every
  other installed entry point is timed the same way, for comparison;
- ``import hypothesis`` with every installed plugin on, as any Hypothesis user of this
  environment pays it;
- ``import agentcat_laws`` (target: at most :data:`PACKAGE_SHARE` of the baseline), ``from
  agentcat_laws import check_laws`` (all of it: Hypothesis, agentcat, the laws: where the cost
  went), and ``import agentcat``, what the laws are built on.

The interpreters share a bytecode cache of their own (``PYTHONPYCACHEPREFIX``, a temporary
folder, filled by one warm-up round that is not counted), as installed packages have one,
even where ``PYTHONDONTWRITEBYTECODE`` is set: without it every run would compile every module.
``python -m bench.imports [--runs N]`` prints this section alone.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from bench.report import NEAR, Verdict

__all__ = [
    "HOOK",
    "HOOK_SHARE",
    "PACKAGE_SHARE",
    "ImportPlan",
    "ImportRow",
    "import_verdicts",
    "measure_imports",
    "render_imports",
]

HOOK = "agentcat_laws.hypothesis_setup:_hypothesis_setup_hook"
"""agentcat-laws' entry point, as ``laws/pyproject.toml`` declares it."""

HOOK_SHARE = 0.05
"""The entry point costs at most this share of ``import hypothesis`` (plugins off)."""
PACKAGE_SHARE = 0.05
"""``import agentcat_laws`` costs at most this share of ``import hypothesis`` (plugins off)."""

BASELINE = "`import hypothesis`, plugins off"


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """``runs`` fresh interpreters per case, after one warm-up round."""

    runs: int


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One timed statement: the median of its seconds over the interpreters, and each."""

    key: str
    """``baseline``, ``hook:<entry point>``, ``hypothesis``, ``laws``, ``laws-used`` or
    ``agentcat``."""
    label: str
    seconds: float
    runs: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class _Case:
    steps: tuple[tuple[str, str, str], ...]
    """(row key, label, statement), timed one after the other in one interpreter."""
    plugins: bool
    """Whether Hypothesis loads its plugins (entry points) when it is imported."""


def _load_and_call(value: str) -> str:
    """What Hypothesis does with one entry point of its group: load it, call it if callable."""
    return (
        "from importlib.metadata import EntryPoint; "
        f"_hook = EntryPoint('_', {value!r}, 'hypothesis').load(); "
        "_hook() if callable(_hook) else None"
    )


def plugins() -> list[str]:
    """The ``hypothesis`` entry points installed here, as ``module:function``."""
    return sorted(entry.value for entry in importlib.metadata.entry_points(group="hypothesis"))


def _cases() -> list[_Case]:
    hooks = [HOOK, *(value for value in plugins() if value != HOOK)]
    return [
        *(
            _Case(
                (
                    ("baseline", BASELINE, "import hypothesis"),
                    (
                        f"hook:{value}",
                        "agentcat-laws' entry point alone"
                        if value == HOOK
                        else f"entry point `{value}` alone",
                        _load_and_call(value),
                    ),
                ),
                plugins=False,
            )
            for value in hooks
        ),
        _Case((("hypothesis", "`import hypothesis`, every plugin on", "import hypothesis"),), True),
        _Case((("laws", "`import agentcat_laws`", "import agentcat_laws"),), True),
        _Case(
            (
                (
                    "laws-used",
                    "`from agentcat_laws import check_laws`",
                    "from agentcat_laws import check_laws",
                ),
            ),
            True,
        ),
        _Case((("agentcat", "`import agentcat`", "import agentcat"),), True),
    ]


def _script(case: _Case) -> str:
    """The interpreter's program: each step between two clock readings, the times printed
    (``time`` is loaded at start-up already, so the clock imports nothing)."""
    lines = ["from time import perf_counter as _clock", "_times = [_clock()]"]
    for _, _, statement in case.steps:
        lines += [statement, "_times.append(_clock())"]
    lines.append("print(*(b - a for a, b in zip(_times, _times[1:])))")
    return "\n".join(lines)


def _environment(cache: str, plugins: bool) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONDONTWRITEBYTECODE", "HYPOTHESIS_NO_PLUGINS")
    }
    env["PYTHONPYCACHEPREFIX"] = cache
    if not plugins:
        env["HYPOTHESIS_NO_PLUGINS"] = "1"
    return env


def _run(case: _Case, env: Mapping[str, str], cwd: str) -> list[float]:
    completed = subprocess.run(
        [sys.executable, "-c", _script(case)],
        env=env,
        cwd=cwd,  # an empty folder: nothing in the current one shadows the packages
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{case.steps[-1][1]} failed:\n{completed.stderr}")
    times = [float(word) for word in completed.stdout.split()]
    if len(times) != len(case.steps):
        raise RuntimeError(f"{case.steps[-1][1]} printed {completed.stdout!r}")
    return times


def measure_imports(plan: ImportPlan, *, progress: Callable[[str], None]) -> list[ImportRow]:
    """Time every case in ``plan.runs`` rounds of fresh interpreters, after a warm-up round;
    the baseline's row gathers its timings from every entry-point case."""
    cases = _cases()
    labels = {key: label for case in cases for key, label, _ in case.steps}
    found: dict[str, list[float]] = {key: [] for key in labels}
    with tempfile.TemporaryDirectory(prefix="bench-imports-") as folder:
        cache = os.path.join(folder, "pycache")
        for round_ in range(plan.runs + 1):
            for case in cases:
                times = _run(case, _environment(cache, case.plugins), folder)
                if round_ > 0:  # round 0 is the warm-up, which fills the bytecode cache
                    for (key, _, _), seconds in zip(case.steps, times, strict=True):
                        found[key].append(seconds)
    rows = []
    for key, label in labels.items():
        runs = tuple(found[key])
        rows.append(ImportRow(key, label, statistics.median(runs), runs))
        progress(f"imports {label:60} {rows[-1].seconds * 1e3:8.1f} ms  ({len(runs)} runs)")
    return rows


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f}"


def _ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.3f}x" if value < baseline / 10 else f"{value / baseline:.2f}x"


def _row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def import_verdicts(rows: Sequence[ImportRow]) -> list[Verdict]:
    """The two targets: agentcat-laws' entry point, and ``import agentcat_laws``, each against
    ``import hypothesis`` with plugins off."""
    by_key = {row.key: row for row in rows}
    baseline = by_key["baseline"]
    targets = (
        ("agentcat-laws' entry point, against `import hypothesis`", f"hook:{HOOK}", HOOK_SHARE),
        ("`import agentcat_laws`, against `import hypothesis`", "laws", PACKAGE_SHARE),
    )
    return [
        Verdict(
            target,
            by_key[key].label,
            f"{len(by_key[key].runs)} interpreters",
            f"{_ms(by_key[key].seconds)} ms ({_ratio(by_key[key].seconds, baseline.seconds)} "
            f"{BASELINE}: {_ms(baseline.seconds)} ms)",
            f"<= {share:g}x",
            share * baseline.seconds / max(by_key[key].seconds, 1e-9),
        )
        for target, key, share in targets
    ]


def render_imports(rows: Sequence[ImportRow], plan: ImportPlan) -> str:
    """The section of the report: the targets, then every timing against the baseline."""
    baseline = next(row for row in rows if row.key == "baseline")
    lines = [
        "## Import times",
        "",
        "Each statement timed inside a fresh interpreter (its start-up not counted), median of "
        f"{plan.runs} interpreters per case (the baseline: of every entry-point case), the "
        "cases in turns, with a bytecode cache; ratios against "
        f"{BASELINE} in the same run. An entry point's row is its own cost, loaded and called "
        "after `import hypothesis` in the same interpreter, as Hypothesis does it. Installed "
        "Hypothesis plugins: " + ", ".join(f"`{value}`" for value in plugins()) + ". These "
        "targets are not counted among the streaming targets; a result within "
        f"{NEAR:.0%} of its threshold is marked (near).",
        "",
        _row(["target", "measured", "needed", "result"]),
        _row(["---", "---:", "---:", "---:"]),
    ]
    for verdict in import_verdicts(rows):
        result = ("PASS" if verdict.passed else "MISS") + (" (near)" if verdict.near else "")
        lines.append(_row([verdict.target, verdict.measured, verdict.needed, result]))
    lines += [
        "",
        _row(["imported", "ms (median)", "min", "max", f"ratio to {BASELINE}"]),
        _row(["---", "---:", "---:", "---:", "---:"]),
    ]
    for row in rows:
        ratio = _ratio(row.seconds, baseline.seconds)
        cells = [row.label, _ms(row.seconds), _ms(min(row.runs)), _ms(max(row.runs)), ratio]
        lines.append(_row(cells))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the import section alone."""
    parser = argparse.ArgumentParser(prog="python -m bench.imports", description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="interpreters per case (default 7)")
    args = parser.parse_args(argv)
    plan = ImportPlan(runs=args.runs)
    rows = measure_imports(plan, progress=lambda line: print(line, file=sys.stderr, flush=True))
    print(render_imports(rows, plan))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
