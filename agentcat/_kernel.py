"""What agentcat does differently inside a Jupyter kernel: tell whether it runs in one (without
importing IPython, which is not a dependency: a kernel has imported it already), and say what
to write instead where a script's idiom fails there.

The hint for ``anyio.run`` (or ``asyncio.run``) pasted into a cell is a ``post_run_cell``
callback, registered when agentcat is imported inside a kernel: IPython's events take any number
of callbacks, so it replaces nothing of the user's or of another library's (a custom exception
handler, ``set_custom_exc``, has one slot, and patching the shell's traceback would change what
every cell shows). It runs after the traceback is shown, and adds one line under it.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["LOOP_HINT", "NOTEBOOK_SCOPE_HINT", "in_kernel", "install_hints", "kernel_shell"]

LOOP_HINT = (
    "agentcat: this notebook's kernel runs an event loop (asyncio) already, so `anyio.run(f, "
    "*args)` (or `asyncio.run(f(*args))`) cannot start another one: write `await f(*args)` in "
    "the cell instead (a notebook cell allows top-level `await`, `async for` and `async with`)."
)
"""What a cell that tried to start an event loop is told."""

NOTEBOOK_SCOPE_HINT = (
    " (in a notebook, `async with` works at the top level of a cell, as `await` does; `await "
    "agentcat.show(stream)` reads the stream in its scope and shows it as it arrives)"
)
"""What a :class:`agentcat.StreamScopeError` adds when it is raised inside a kernel."""

_LOOP_RUNNING = (
    "Already running asyncio in this thread",  # anyio.run
    "asyncio.run() cannot be called from a running event loop",
    "Cannot run the event loop while another loop is running",  # loop.run_until_complete
)


def kernel_shell() -> Any | None:
    """The IPython shell of the Jupyter kernel agentcat runs in, or ``None`` outside one (a
    script, a terminal IPython, a process that never imported IPython)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    shell = ipython.get_ipython()
    return shell if getattr(shell, "kernel", None) is not None else None


def in_kernel() -> bool:
    """Whether agentcat runs inside a Jupyter kernel."""
    return kernel_shell() is not None


def install_hints() -> None:
    """Register the notebook hints with the kernel's shell, once; outside a kernel, nothing."""
    shell = kernel_shell()
    if shell is None:
        return
    callbacks = shell.events.callbacks["post_run_cell"]
    if _after_cell not in callbacks:
        shell.events.register("post_run_cell", _after_cell)


def _after_cell(result: Any) -> None:
    """After a cell: if it failed because it tried to start an event loop, say what to write."""
    error = result.error_in_exec
    if isinstance(error, RuntimeError) and str(error).startswith(_LOOP_RUNNING):
        print(LOOP_HINT, file=sys.stderr)
