"""The notebooks run top to bottom, with top-level ``await`` as Jupyter allows it, and streams
behave in a real Jupyter kernel as they do in a script."""

from __future__ import annotations

import ast
import inspect
import json
from pathlib import Path
from typing import Any

import jupyter_client
import jupyter_client.manager
import pytest
from jupyter_client.blocking.client import BlockingKernelClient

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


# --- in a real kernel: leaving a stream early must not hurt the cell or the ones after it ------

SETUP = """
from collections.abc import AsyncIterator
import anyio
from agentcat import forward, streaming, transducer

state = {"running": 0, "closed": 0}

@streaming
async def tokens(prompt: str) -> AsyncIterator[str]:
    state["running"] += 1
    try:
        for n in range(1000):
            await anyio.sleep(0)
            yield f"{n} "
        await anyio.Event().wait()
    finally:
        state["running"] -= 1
        state["closed"] += 1

@transducer
async def shout(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
    async for delta in deltas:
        yield delta.upper()

fan = tokens >> (forward & shout)  # a transducer branch runs in a task of its own
"""

CELLS: list[tuple[str, str]] = [
    (
        "async for chunk in fan.stream('x'):\n    break",
        "StreamScopeError",  # fails at once, at the first read, and says how to read it
    ),
    (
        "async with fan.stream('x') as stream:\n"
        "    async for chunk in stream:\n"
        "        if chunk.index == 3:\n"
        "            break\n"
        "print('left:', state)",
        "left: {'running': 0, 'closed': 1}",
    ),
    (
        "try:\n"
        "    async with fan.stream('x') as stream:\n"
        "        async for chunk in stream:\n"
        "            raise KeyError('mine')\n"
        "except KeyError as error:\n"
        "    print('caught', repr(error), state)",
        "caught KeyError('mine') {'running': 0, 'closed': 2}",
    ),
    (
        "with anyio.move_on_after(0.05):\n"
        "    async with fan.stream('x') as stream:\n"
        "        async for chunk in stream:\n"
        "            pass\n"
        "print('timed out:', state)",
        "timed out: {'running': 0, 'closed': 3}",
    ),
    (
        "await anyio.sleep(0.01)\nawait anyio.lowlevel.checkpoint()\nprint('still alive')",
        "still alive",
    ),
]


def test_leaving_a_stream_early_in_a_running_kernel() -> None:
    """A real IPython kernel (asyncio), each cell run as a notebook runs it."""
    manager, client = jupyter_client.manager.start_new_kernel(kernel_name="python3")
    try:
        assert run_cell(client, SETUP) == ("", "")
        for code, expected in CELLS:
            out, error = run_cell(client, code)
            assert expected in (out + error), (code, out, error)
            if "StreamScopeError" not in expected:
                assert error == "", (code, error)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def run_cell(client: BlockingKernelClient, code: str) -> tuple[str, str]:
    """Run ``code`` in the kernel: what it printed, and the name and message of its error."""
    out: list[str] = []
    error: list[str] = []

    def collect(message: dict[str, Any]) -> None:
        kind, content = message["msg_type"], message["content"]
        if kind == "stream":
            out.append(content["text"])
        elif kind == "error":
            error.append(f"{content['ename']}: {content['evalue']}")

    client.execute_interactive(code, timeout=60, output_hook=collect)
    return "".join(out).strip(), "".join(error)
