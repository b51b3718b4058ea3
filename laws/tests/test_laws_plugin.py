"""The pytest plugin, ``laws_of`` and the command line, on the example project (laws/example),
run as a user would: in a copy of it, in a separate process."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from agentcat_laws import LawCheck, laws_of, texts
from agentcat_laws.cli import main
from hypothesis import settings
from laws_gallery import DOUBLE_EACH_DELTA

EXAMPLE = Path(__file__).resolve().parents[1] / "example"

NAIVE = """
@transducer
async def censor(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
    async for delta in deltas:
        yield delta.replace(WORD, "*" * len(WORD))
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "example"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
    return copy


def break_censor(project: Path) -> None:
    """Replace the censor by the naive one, which censors each chunk on its own."""
    source = (project / "censor.py").read_text()
    (project / "censor.py").write_text(source[: source.index("@transducer")] + NAIVE)


def run(project: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


SELECTED = ["-k", "asyncio and (C0 or S3 or W4)"]


def test_the_example_project_passes(project: Path) -> None:
    done = run(project, "-m", "pytest", "-p", "no:cacheprovider", "-m", "agentcat_laws", *SELECTED)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout


def test_a_broken_law_fails_with_its_counterexample(project: Path) -> None:
    break_censor(project)
    done = run(project, "-m", "pytest", "-p", "no:cacheprovider", *SELECTED)
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "FAIL  S3   transducer soundness" in out
    assert "x        = 'darn'" in out
    assert "chunking = ['d', 'arn']" in out
    assert "q(t(x))               -> '****'" in out
    assert "FAILED tests/test_laws.py::test_censor_laws[asyncio-S3]" in out
    assert "runner.py" not in out  # the report, not a traceback through the runner
    assert "2 passed" in out  # C0 and W4 still hold


def test_the_command_line_exits_non_zero_on_a_broken_law(project: Path) -> None:
    break_censor(project)
    target = "tests/test_laws.py:test_censor_laws"  # a laws_of test: its inputs are used
    done = run(project, "-m", "agentcat_laws", target, "--laws", "S3", "--backend", "trio")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "chunking = ['d', 'arn']" in done.stdout
    assert done.stdout.endswith("1 law: 0 held, 1 broken (S3)\n")


def test_the_command_line_statuses(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["laws_gallery:WELL_MADE", "--max-examples", "10"]) == 0
    assert "5 laws: 5 held, 0 broken" in capsys.readouterr().out
    assert main(["laws_gallery:DONE_NOT_LAST", "--laws", "W2", "--max-examples", "20"]) == 1
    assert "FAIL  W2" in capsys.readouterr().out
    assert main(["laws_gallery:no_such_thing"]) == 2
    assert "no_such_thing" in capsys.readouterr().err
    assert main(["laws_gallery:STRIPPING"]) == 2  # a monoid of its own: inputs= is needed
    assert "inputs=" in capsys.readouterr().err


def test_the_plugin_registers_its_profiles() -> None:
    assert settings.get_profile("agentcat-ci").derandomize
    assert settings.get_profile("agentcat-nightly").max_examples == 2_000


def test_laws_of_makes_one_marked_case_per_law() -> None:
    test = laws_of(DOUBLE_EACH_DELTA, inputs=texts())
    check = test.agentcat_laws  # type: ignore[attr-defined]
    assert isinstance(check, LawCheck)
    marks = {mark.name: mark for mark in test.pytestmark}  # type: ignore[attr-defined]
    assert {"agentcat_laws", "anyio", "parametrize"} <= set(marks)
    assert marks["parametrize"].kwargs["ids"] == [law.name for law in check.laws]
    assert "S3" in marks["parametrize"].kwargs["ids"]
