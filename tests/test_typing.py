"""The static typing of the algebra: each case in ``tests/typing/cases`` carries its own verdict.

mypy checks the case files in strict mode with the minimal configuration
``tests/typing/mypy.ini`` (the project's configuration excludes ``tests/typing``), and the suite
passes exactly when it reports nothing. Every expectation sits on the line of its case:

- a composition that must type-check, with the type mypy must infer for it, is written
  ``assert_type(expression, ExpectedType)``: should the composition be rejected, or its type
  change, mypy reports an error there;
- a composition that must be rejected ends with ``# type: ignore[code]``, the code of the error
  mypy must report (``operator``, ``arg-type``, ``call-overload``, ``assignment``...). The
  configuration sets ``warn_unused_ignores``, so should the composition become accepted, mypy
  reports the ignore as unused; should it fail for another reason (another code), mypy reports
  that error. ``ignore-without-code`` makes a bare ``# type: ignore`` an error too.

``well_typed.py`` holds plain pipelines (``>>``, ``&``, ``*``, ``Id``, ``as_result``, Kleisli
``>>``, fallback and retry), ``ill_typed.py`` the compositions that must not type-check, and
``streaming_typed.py`` both kinds for streaming agents, including a plain operand next to a
streaming one.

To add a case, write it in the file it belongs to and run mypy as the test does::

    python -m mypy --config-file tests/typing/mypy.ini tests/typing/cases

For an accepted case, find the type with a temporary ``reveal_type(expression)``, then write
``assert_type(expression, ThatType)`` (``reveal_type`` only prints a note, which this test
rejects, so none may stay). For a rejected case, append ``# type: ignore[code]`` with the code
mypy reports on that line, after checking that its message names the mistake the case is about.

The last tests prove that the suite can fail: on small files written to a temporary directory and
checked with the same configuration, mypy reports a mismatched ``>>`` without an ignore, an
ignore that is not needed, and an ``assert_type`` with the wrong type.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
TYPING = Path(__file__).parent / "typing"
CASES = TYPING / "cases"
CONFIG = TYPING / "mypy.ini"
ERROR = re.compile(r"^(?P<file>.+?):(?P<line>\d+): error: (?P<message>.*)  \[(?P<code>[a-z-]+)\]$")


def mypy(*targets: str) -> subprocess.CompletedProcess[str]:
    """mypy on ``targets``, from the repository root, with the configuration of the cases."""
    command = [
        sys.executable,
        "-m",
        "mypy",
        "--config-file",
        str(CONFIG),
        "--cache-dir",
        str(ROOT / ".mypy_cache" / "typing-cases"),
        "--no-color-output",
        "--no-pretty",
        "--show-error-codes",
        *targets,
    ]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


def report(completed: subprocess.CompletedProcess[str]) -> str:
    return f"mypy exited with {completed.returncode}:\n{completed.stdout}{completed.stderr}"


def test_mypy_accepts_the_cases_as_annotated() -> None:
    completed = mypy(CASES.relative_to(ROOT).as_posix())
    notes = [line for line in completed.stdout.splitlines() if ": note: " in line]
    assert completed.returncode == 0, report(completed)
    assert not notes, report(completed)  # a leftover reveal_type, say


PRELUDE = """\
from typing import assert_type

from agentcat import Agent, agent


@agent
def parse(text: str) -> int:
    return int(text)


@agent
def render(number: int) -> str:
    return str(number)


"""
"""Two agents for the probes below, each of which adds one wrong expectation as its last line."""

MISMATCH = PRELUDE + "parse >> parse\n"
UNNEEDED_IGNORE = PRELUDE + "parse >> render  # type: ignore[operator]\n"
WRONG_TYPE = PRELUDE + "assert_type(parse >> render, Agent[str, int])\n"


@pytest.mark.parametrize(
    ("source", "code"),
    [
        pytest.param(MISMATCH, "operator", id="mismatch-without-ignore"),
        pytest.param(UNNEEDED_IGNORE, "unused-ignore", id="unneeded-ignore"),
        pytest.param(WRONG_TYPE, "assert-type", id="wrong-assert-type"),
    ],
)
def test_the_suite_fails_when_a_verdict_is_wrong(tmp_path: Path, source: str, code: str) -> None:
    """The configuration of the cases turns each kind of wrong expectation into an error on its
    line (the last line of the file), and into a failing exit status."""
    case = tmp_path / "typing_probe.py"
    case.write_text(source, encoding="utf-8")
    completed = mypy(str(case))
    errors = [match for line in completed.stdout.splitlines() if (match := ERROR.match(line))]
    last = len(source.splitlines())
    assert completed.returncode == 1, report(completed)
    assert [(int(error["line"]), error["code"]) for error in errors] == [(last, code)], report(
        completed
    )
