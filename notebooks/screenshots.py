"""Look at the notebooks as a reader does: render each to HTML (nbconvert, JupyterLab's look)
and take a screenshot of the whole page in headless Chromium (Debian's ``chromium`` package:
``apt-get install -y chromium``)::

    python -m notebooks.screenshots [OUT]   # OUT/<notebook>.html and OUT/<notebook>.png

It shows the committed outputs (``python -m notebooks.execute`` first, to see the code as it
is). Chromium takes a screenshot of its window only, so each page is loaded twice: once to
measure its height (a script writes it into the page's title, which ``--dump-dom`` prints),
then in a window that tall. Each run has a profile folder of its own, thrown away after it.

Raises:
    FileNotFoundError: no ``chromium`` (nor ``chromium-browser``) on the ``PATH``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

from notebooks.execute import FOLDER, notebooks

__all__ = ["WIDTH", "browser", "main", "render", "screenshot"]

WIDTH = 1100
"""The width of the window, in CSS pixels: a laptop's browser beside nothing else."""

_MEASURE = (
    "<script>addEventListener('load', () => { document.title = 'height=' + "
    "document.documentElement.scrollHeight; });</script>"
)
_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--virtual-time-budget=5000",  # the page's scripts (MathJax, the measure) run before the shot
)


def browser() -> str:
    """The Chromium command on this machine.

    Raises:
        FileNotFoundError: there is none.
    """
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise FileNotFoundError("no chromium on the PATH: apt-get install -y chromium")


def render(notebook: Path, out: Path) -> Path:
    """The notebook rendered to ``out/<name>.html`` as JupyterLab shows it, with its outputs."""
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(
        nbformat.read(notebook, as_version=4)
    )
    page = out / f"{notebook.stem}.html"
    page.write_text(body.replace("</head>", f"{_MEASURE}</head>", 1), encoding="utf-8")
    return page


def _chromium(*arguments: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        run = subprocess.run(
            [browser(), *_FLAGS, f"--user-data-dir={profile}", *arguments],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    return run.stdout


def screenshot(page: Path) -> Path:
    """A screenshot of the whole of ``page`` (an HTML file), beside it as a PNG."""
    dom = _chromium(f"--window-size={WIDTH},800", "--dump-dom", page.as_uri())
    found = re.search(r"<title>height=(\d+)</title>", dom)
    height = int(found.group(1)) if found else 4000
    picture = page.with_suffix(".png")
    _chromium(f"--window-size={WIDTH},{height}", f"--screenshot={picture}", page.as_uri())
    return picture


def main(arguments: list[str]) -> None:
    """Render and photograph every notebook into the folder given (by default a new one)."""
    out = Path(arguments[0]) if arguments else Path(tempfile.mkdtemp(prefix="notebooks-"))
    out.mkdir(parents=True, exist_ok=True)
    for notebook in notebooks():
        print(screenshot(render(notebook, out)))
    print(f"(from {FOLDER})")


if __name__ == "__main__":
    main(sys.argv[1:])
