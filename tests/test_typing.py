"""The static typing of the algebra: mypy's verdict on ``tests/typing/cases`` is pinned.

``tests/typing/cases/well_typed.py`` holds pipelines that must type-check, with
``reveal_type`` on each, so the types inferred for ``>>``, ``&``, ``*``, ``Id``, ``as_result``
and Kleisli ``>>`` are pinned; ``tests/typing/cases/ill_typed.py`` holds compositions that must
not, each marked ``# error``. mypy runs on them in strict mode with the minimal configuration
``tests/typing/mypy.ini`` (the project's configuration excludes ``tests/typing``), and its output,
normalised, must equal ``tests/typing/expected.txt`` line for line.

After a deliberate change of the types, regenerate the expected output with::

    AGENTCAT_UPDATE_TYPING=1 python -m pytest tests/test_typing.py

and review the difference before committing it.

Normalisation: paths use ``/``; lines are sorted by file and line (mypy's order of files
depends on its cache); only lines about the case files are kept (not mypy's summary);
the notes that list the variants of an overload are dropped, because they restate agentcat's
signatures (which gain overloads as features arrive) rather than a verdict on a case.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
TYPING = Path(__file__).parent / "typing"
CASES = TYPING / "cases"
EXPECTED = TYPING / "expected.txt"
LINE = re.compile(r"^(?P<file>[^:]+\.py):(?P<line>\d+): (?P<severity>error|note): (?P<message>.*)$")


@cache
def mypy_output() -> tuple[str, ...]:
    """mypy's normalised lines for the case files (run once per session)."""
    command = [
        sys.executable,
        "-m",
        "mypy",
        "--config-file",
        str(TYPING / "mypy.ini"),
        "--cache-dir",
        str(ROOT / ".mypy_cache" / "typing-cases"),
        "--no-color-output",
        "--no-error-summary",
        "--no-pretty",
        "--hide-error-context",
        "--show-error-codes",
        CASES.relative_to(ROOT).as_posix(),
    ]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if completed.returncode not in (0, 1) or completed.stderr.strip():
        pytest.fail(f"mypy did not run: {completed.returncode}\n{completed.stderr}")
    return tuple(normalise(completed.stdout))


def normalise(output: str) -> list[str]:
    lines: list[tuple[str, int, str]] = []
    for raw in output.splitlines():
        match = LINE.match(raw.replace("\\", "/"))
        if match is None or not match["file"].startswith("tests/typing/cases/"):
            continue
        message = match["message"]
        if match["severity"] == "note" and (
            message == "Possible overload variants:" or message.startswith("    ")
        ):
            continue
        line = f"{match['file']}:{match['line']}: {match['severity']}: {message}"
        lines.append((match["file"], int(match["line"]), line))
    # mypy's order of files depends on its cache; within a line, its order is kept (stable sort)
    return [line for _, _, line in sorted(lines, key=lambda item: item[:2])]


def test_mypy_output_is_the_expected_one() -> None:
    actual = "".join(f"{line}\n" for line in mypy_output())
    if os.environ.get("AGENTCAT_UPDATE_TYPING"):
        EXPECTED.write_text(actual, encoding="utf-8")
    assert actual == EXPECTED.read_text(encoding="utf-8")


def errors_by_file() -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    for line in mypy_output():
        file, number, severity, _ = line.split(":", 3)
        if severity.strip() == "error":
            found.setdefault(file, set()).add(int(number))
    return found


def marked_lines(path: Path) -> set[int]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {number for number, text in enumerate(lines, 1) if text.endswith("# error")}


@pytest.mark.parametrize("path", sorted(CASES.glob("*.py")), ids=lambda path: path.name)
def test_errors_are_exactly_on_the_marked_lines(path: Path) -> None:
    """Independent of ``expected.txt``: every ``# error`` line fails, and no other line does."""
    errors = errors_by_file().get(path.relative_to(ROOT).as_posix(), set())
    assert errors == marked_lines(path)


def test_the_well_typed_file_reveals_types() -> None:
    reveals = [line for line in mypy_output() if "well_typed.py" in line]
    assert reveals
    assert all(": note: Revealed type is " in line for line in reveals)


def test_a_mismatched_sequence_is_an_error() -> None:
    lines = marked_lines(CASES / "ill_typed.py")
    text = (CASES / "ill_typed.py").read_text(encoding="utf-8").splitlines()
    (number,) = (n for n in lines if text[n - 1].startswith("parse >> parse"))
    assert (
        f"tests/typing/cases/ill_typed.py:{number}: error: Unsupported operand types for >> "
        in ("\n".join(mypy_output()))
    )
