"""The ``agentcat`` command (``agentcat._cli``): the demo streams offline and reports."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest


def run(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentcat", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_the_demo_streams_the_pipeline_and_reports(backend: str) -> None:
    done = run("demo", "--pace", "0", "--tokens", "12", "--backend", backend)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith(
        "pipeline: lift(brief) >> writer >> map_deltas(highlight) >> "
        "(forward & critic & lift(statistics))\n"
    )
    assert "writer: " in out
    assert "critic: " in out
    assert "[statistics, once the text was whole:" in out
    assert "time to first token:" in out
    assert "tokens/s" in out
    assert done.stderr == ""


def test_bad_settings_are_refused() -> None:
    done = run("demo", "--tokens", "0")
    assert done.returncode == 2
    assert "--tokens at least 1" in done.stderr


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_ctrl_c_during_the_demo_says_one_line(backend: str) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "agentcat", "demo", "--pace", "0.5", "--backend", backend],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().startswith("pipeline: ")  # it is streaming now
    process.send_signal(signal.SIGINT)
    _, error = process.communicate(timeout=60)
    assert process.returncode == 130
    assert error.strip().splitlines() == ["interrupted: every producer has stopped"]
