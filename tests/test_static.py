"""Lint, format and types of the whole project, as part of the test run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.mark.parametrize(
    "tool",
    [
        pytest.param(["ruff", "check", "."], id="ruff-check"),
        pytest.param(["ruff", "format", "--check", "."], id="ruff-format"),
        pytest.param(["mypy"], id="mypy"),  # the configuration in pyproject.toml
    ],
)
def test_tool_passes(tool: list[str]) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", *tool], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, (
        f"`{' '.join(tool)}` exited with {completed.returncode}:\n"
        f"{completed.stdout}\n{completed.stderr}"
    )
