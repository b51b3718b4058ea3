"""Run the notebooks in a real Jupyter kernel and save them with their outputs, so that a reader
sees the diagrams, tables and live displays without running anything::

    python -m notebooks.execute            # every notebook under notebooks/
    python -m notebooks.execute tour.ipynb

A notebook is run by nbclient, cell after cell in one kernel (``python3``, the interpreter of
this environment; IPython's kernel runs an asyncio loop, so top-level ``await`` runs on asyncio),
as Jupyter runs it; a live display's updates are applied in place, so the saved output is its
final state. A cell that fails, or writes to stderr, stops the run with the cell named. The
saved notebook records a digest of its code, by which the tests tell whether the outputs are of
the code as it is.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat import NotebookNode

__all__ = ["FOLDER", "NotebookError", "digest", "execute", "main", "notebooks"]

FOLDER = Path(__file__).resolve().parent
"""Where the notebooks are (and the folder they run in)."""

KERNEL = "python3"
TIMEOUT = 120
"""Seconds a cell may take."""


class NotebookError(Exception):
    """A cell wrote to stderr: a warning or a hint a reader would see as a fault."""


def notebooks() -> list[Path]:
    """Every notebook under :data:`FOLDER`, by name."""
    return sorted(FOLDER.glob("*.ipynb"))


def digest(notebook: NotebookNode) -> str:
    """A digest of the notebook's code cells: what its outputs were made from."""
    sources = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    return hashlib.sha256(json.dumps(sources).encode()).hexdigest()


def execute(path: Path) -> NotebookNode:
    """The notebook at ``path``, run top to bottom in a fresh real kernel, with its outputs and
    the digest of its code in its metadata (``agentcat.code``).

    Raises:
        nbclient.exceptions.CellExecutionError: a cell raised (the cell and the error named).
        NotebookError: a cell wrote to stderr.
    """
    notebook: NotebookNode = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name=KERNEL,
        timeout=TIMEOUT,
        resources={"metadata": {"path": str(path.parent)}},
        coalesce_streams=True,  # what was printed in one cell is one output, however it was flushed
    )
    client.execute()
    for number, cell in enumerate(notebook.cells, 1):
        for output in cell.get("outputs", []):
            if output.output_type == "stream" and output.name == "stderr":
                raise NotebookError(f"{path.name}, cell {number} wrote to stderr: {output.text}")
    notebook.metadata["agentcat"] = {"code": digest(notebook)}
    return notebook


def main(names: list[str]) -> None:
    """Run the notebooks named (every one if none is) and save each with its outputs."""
    paths = [FOLDER / name for name in names] if names else notebooks()
    for path in paths:
        nbformat.write(execute(path), path)
        print(f"executed {path.name}")


if __name__ == "__main__":
    main(sys.argv[1:])
