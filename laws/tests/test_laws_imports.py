"""What importing costs in modules: Hypothesis' entry point imports neither agentcat nor the
laws' heavy modules on ``import hypothesis``, yet ``st.from_type(Chunk[str])`` works whichever
is imported first; ``import agentcat_laws`` imports nothing heavy, and every name of its
``__all__`` and every submodule is still there when asked for.

Each case runs in a fresh interpreter (the test process has imported everything long before),
with Hypothesis' plugins on, and reports ``sys.modules`` as JSON.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

HOOK = "agentcat_laws.hypothesis_setup:_hypothesis_setup_hook"

# Prepended to every script: the names of the loaded modules of agentcat and agentcat_laws.
PRELUDE = """
import json, sys

def ours():
    return sorted(
        name for name in sys.modules if name.partition(".")[0] in ("agentcat", "agentcat_laws")
    )

def finders():
    return [type(finder).__qualname__ for finder in sys.meta_path]
"""

# Drawn through st.from_type(Chunk[str]): each chunk's accumulated value ends with its delta.
DRAW_CHUNKS = """
from hypothesis import given, settings, strategies as st
from agentcat import Chunk

deltas = []

@settings(max_examples=50, database=None)
@given(st.from_type(Chunk[str]))
def draw(chunk):
    assert isinstance(chunk, Chunk)
    assert chunk.accumulated.endswith(chunk.delta)
    deltas.append(chunk.delta)
"""


def run(tmp_path: Path, *parts: str) -> dict[str, Any]:
    """Run the script of ``parts`` (after :data:`PRELUDE`) in a fresh interpreter, plugins
    on; the JSON it prints last."""
    script = "".join(textwrap.dedent(part) for part in (PRELUDE, *parts))
    env = {key: value for key, value in os.environ.items() if key != "HYPOTHESIS_NO_PLUGINS"}
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    found: dict[str, Any] = json.loads(completed.stdout.splitlines()[-1])
    return found


def test_the_entry_point_is_installed() -> None:
    # Otherwise the tests below would pass without the hook ever running.
    hooks = [entry.value for entry in importlib.metadata.entry_points(group="hypothesis")]
    assert HOOK in hooks


def test_importing_hypothesis_imports_neither_agentcat_nor_the_laws(tmp_path: Path) -> None:
    found = run(
        tmp_path,
        """
        import hypothesis
        print(json.dumps({"ours": ours(), "finders": finders()}))
        """,
    )
    assert found["ours"] == ["agentcat_laws", "agentcat_laws.hypothesis_setup"]
    assert "_AfterAgentcat" in found["finders"]  # the hook ran, and waits for agentcat


def test_from_type_works_when_agentcat_comes_after_hypothesis(tmp_path: Path) -> None:
    found = run(
        tmp_path,
        """
        import hypothesis
        import agentcat
        imported = ours()
        """,
        DRAW_CHUNKS,
        """
        draw()
        loader = type(sys.modules["agentcat"].__loader__).__module__
        print(json.dumps({
            "imported": imported, "drawn": ours(), "deltas": deltas, "finders": finders(),
            "loader": loader,
        }))
        """,
    )
    assert "agentcat" in found["imported"]
    assert "agentcat_laws.strategies" not in found["imported"]  # registered, not yet resolved
    assert "agentcat_laws.strategies" in found["drawn"]
    assert len(found["deltas"]) > 1
    assert any(found["deltas"])
    assert "_AfterAgentcat" not in found["finders"]  # gone once agentcat was imported
    assert found["loader"] != "agentcat_laws.hypothesis_setup"  # agentcat keeps its own loader


def test_from_type_works_when_agentcat_comes_first(tmp_path: Path) -> None:
    found = run(
        tmp_path,
        """
        import agentcat
        import hypothesis
        waiting = finders()
        """,
        DRAW_CHUNKS,
        """
        draw()
        print(json.dumps({"waiting": waiting, "deltas": deltas}))
        """,
    )
    assert "_AfterAgentcat" not in found["waiting"]  # registered at once
    assert len(found["deltas"]) > 1
    assert any(found["deltas"])


def test_importing_the_laws_imports_nothing_heavy(tmp_path: Path) -> None:
    found = run(
        tmp_path,
        """
        import agentcat_laws
        heavy = sorted(
            name for name in sys.modules
            if name.partition(".")[0] in ("hypothesis", "agentcat", "anyio", "attrs", "returns")
        )
        print(json.dumps({"ours": ours(), "heavy": heavy}))
        """,
    )
    assert found == {"ours": ["agentcat_laws"], "heavy": []}


def test_the_pytest_plugin_imports_neither_agentcat_nor_the_runner(tmp_path: Path) -> None:
    # Every pytest session in the environment loads the plugin (its profiles need Hypothesis).
    found = run(
        tmp_path,
        """
        import agentcat_laws.pytest_plugin
        print(json.dumps({"ours": ours()}))
        """,
    )
    assert "agentcat" not in found["ours"]
    assert "agentcat_laws.runner" not in found["ours"]


def test_every_public_name_and_submodule_is_there_when_asked_for(tmp_path: Path) -> None:
    found = run(
        tmp_path,
        """
        from importlib import import_module
        from types import ModuleType
        import agentcat_laws
        import agentcat_laws.scope  # imports agentcat_laws.programs, binding it in the package

        from agentcat_laws import programs
        homes = {name: home for home, names in agentcat_laws._EXPORTS.items() for name in names}
        wrong = [
            name for name in agentcat_laws.__all__
            if getattr(agentcat_laws, name)
            is not getattr(import_module(f"agentcat_laws.{homes[name]}"), name)
        ]
        star = {}
        exec("from agentcat_laws import *", star)
        try:
            agentcat_laws.no_such_name
            missing = "found"
        except AttributeError:
            missing = "AttributeError"
        print(json.dumps({
            "programs": isinstance(programs, ModuleType) or not callable(programs),
            "unplaced": sorted(set(agentcat_laws.__all__) ^ set(homes)),
            "wrong": wrong,
            "star": sorted(set(agentcat_laws.__all__) - set(star)),
            "dir": sorted(set(agentcat_laws.__all__) - set(dir(agentcat_laws))),
            "strategies": agentcat_laws.strategies.__name__,
            "suites": agentcat_laws.suites.SUITES is agentcat_laws.SUITES,
            "missing": missing,
        }))
        """,
    )
    assert found == {
        "programs": False,  # the function, as before, not the module of the same name
        "unplaced": [],
        "wrong": [],
        "star": [],
        "dir": [],
        "strategies": "agentcat_laws.strategies",
        "suites": True,
        "missing": "AttributeError",
    }
