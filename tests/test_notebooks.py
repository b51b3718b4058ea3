"""The notebooks run top to bottom, with top-level ``await`` as Jupyter allows it."""

from __future__ import annotations

import ast
import inspect
import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def code_cells(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]


@pytest.mark.anyio
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
async def test_the_notebook_runs(notebook: Path) -> None:
    sources = code_cells(notebook)
    assert sources
    namespace: dict[str, object] = {"__name__": "notebook"}
    for number, source in enumerate(sources, 1):
        code = compile(
            source, f"{notebook.name} cell {number}", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        )
        result = eval(code, namespace)
        if inspect.iscoroutine(result):
            await result


def test_there_is_a_notebook() -> None:
    assert [path.name for path in NOTEBOOKS] == ["tour.ipynb"]
