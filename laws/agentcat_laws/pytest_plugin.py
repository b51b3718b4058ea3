"""The ``agentcat_laws`` pytest plugin, loaded through the ``pytest11`` entry point.

It registers the ``agentcat_laws`` marker (which :func:`agentcat_laws.laws_of` puts on its
tests), the Hypothesis profiles ``agentcat-ci`` and ``agentcat-nightly`` (select one with
``pytest --hypothesis-profile agentcat-ci``), and shows a broken law as its report (statement,
shrunk counterexample, both sides) instead of a traceback through the runner.
"""

from __future__ import annotations

import sys
from collections.abc import Generator

import pytest

from agentcat_laws.profiles import register_profiles

register_profiles()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "agentcat_laws: a law checked by agentcat_laws.laws_of (one case per law)"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    # The runner is not imported here (every pytest session in the environment loads this
    # plugin): a LawsBroken can only have been raised once something imported it.
    runner = sys.modules.get("agentcat_laws.runner")
    error = call.excinfo.value if call.excinfo is not None else None
    if report.failed and runner is not None and isinstance(error, runner.LawsBroken):
        report.longrepr = str(error)
    return report
