"""The notebooks run top to bottom in a real Jupyter kernel (IPython's, on asyncio), as Jupyter
runs them, and are committed with the outputs of the code as it is; in a real kernel, ``show``
displays a stream live, law reports display as tables, script idioms get a hint, and streams
behave as they do in a script.

Why nbclient rather than pytest's nbmake plugin: nbmake runs each notebook through nbclient too,
but as a pytest item of its own kind, which needs a flag on every pytest command; here the same
executor that saves the committed outputs (``python -m notebooks.execute``) runs in an ordinary
test, which also compares its fresh outputs with the committed ones.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jupyter_client
import jupyter_client.manager
import nbformat
import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager
from jupyter_client.provisioning.local_provisioner import LocalProvisioner

from agentcat._kernel import LOOP_HINT, NOTEBOOK_SCOPE_HINT
from notebooks.execute import digest, execute, notebooks

NOTEBOOKS = notebooks()


def test_there_are_the_three_notebooks() -> None:
    assert [path.name for path in NOTEBOOKS] == ["laws.ipynb", "messenger.ipynb", "tour.ipynb"]


def kinds(cell: nbformat.NotebookNode) -> list[tuple[str, ...]]:
    """What a cell's outputs are: each one's type, and its stream or the types of its data."""
    found: list[tuple[str, ...]] = []
    for output in cell.outputs:
        if output.output_type == "stream":
            found.append(("stream", output.name))
        else:
            found.append((output.output_type, *sorted(output.get("data", {}))))
    return found


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_the_notebook_runs_in_a_real_kernel_and_its_committed_outputs_are_current(
    notebook: Path,
) -> None:
    """Run in a fresh kernel, every cell succeeds without writing to stderr (execute raises,
    naming the cell); the committed notebook has every code cell run, in order, with no error,
    from the code as it is now, and the same kinds of output in each cell as the fresh run (a
    display that gained a diagram, say, must be committed with it)."""
    fresh = execute(notebook)
    committed = nbformat.read(notebook, as_version=4)
    assert committed.metadata.get("agentcat", {}).get("code") == digest(committed), (
        f"{notebook.name} was changed since its outputs were saved: python -m notebooks.execute"
    )
    code = [cell for cell in committed.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    ran = [cell for cell in fresh.cells if cell.cell_type == "code"]
    for number, (saved, now) in enumerate(zip(code, ran, strict=True), 1):
        assert all(output.output_type != "error" for output in saved.outputs), number
        assert kinds(saved) == kinds(now), f"{notebook.name}, code cell {number}"


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


@pytest.fixture(scope="module")
def started() -> Iterator[tuple[KernelManager, BlockingKernelClient]]:
    """A real IPython kernel (asyncio), shared by the tests of one module: each runs cells in it
    as a notebook does, with names of its own."""
    manager, client = jupyter_client.manager.start_new_kernel(kernel_name="python3")
    try:
        yield manager, client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


@pytest.fixture
def kernel(started: tuple[KernelManager, BlockingKernelClient]) -> BlockingKernelClient:
    """The client of the shared kernel."""
    return started[1]


def test_leaving_a_stream_early_in_a_running_kernel(kernel: BlockingKernelClient) -> None:
    assert run_cell(kernel, SETUP) == ("", "")
    # Without `async with`, it fails at once, at the first read, and says how to read it, in a
    # notebook too.
    out, error = run_cell(kernel, "async for chunk in fan.stream('x'):\n    break")
    assert error.startswith("StreamScopeError: the stream of tokens >> (forward & shout) runs")
    assert error.endswith(f"`await stream` for the whole value{NOTEBOOK_SCOPE_HINT}")
    assert run_cell(kernel, "print(state)") == ("{'running': 0, 'closed': 0}", "")
    for code, expected in CELLS:
        out, error = run_cell(kernel, code)
        assert expected in out, (code, out, error)
        assert error == "", (code, error)


def run_cell(client: BlockingKernelClient, code: str) -> tuple[str, str]:
    """Run ``code`` in the kernel: what it printed, and the name and message of its error."""
    out: list[str] = []
    error: list[str] = []
    for message in messages(client, code):
        kind, content = message["msg_type"], message["content"]
        if kind == "stream":
            out.append(content["text"])
        elif kind == "error":
            error.append(f"{content['ename']}: {content['evalue']}")
    return "".join(out).strip(), "".join(error)


def messages(client: BlockingKernelClient, code: str) -> list[dict[str, Any]]:
    """Run ``code`` in the kernel: every output message it sent, in order."""
    found: list[dict[str, Any]] = []
    client.execute_interactive(code, timeout=60, output_hook=found.append)
    return [message for message in found if message["msg_type"] in OUTPUTS]


OUTPUTS = frozenset(
    {"stream", "error", "display_data", "update_display_data", "execute_result", "clear_output"}
)


def displays(client: BlockingKernelClient, code: str) -> list[dict[str, Any]]:
    """Run ``code``: the data of each display it made or updated, with ``kind`` and ``id``;
    an error in the cell fails the test."""
    found = []
    for message in messages(client, code):
        kind, content = message["msg_type"], message["content"]
        assert kind != "error", content
        if kind in ("display_data", "update_display_data", "execute_result"):
            shown = dict(content["data"])
            shown["kind"] = kind
            shown["id"] = content.get("transient", {}).get("display_id")
            found.append(shown)
    return found


class Tags(HTMLParser):
    """The elements of an HTML fragment, checked to be balanced: the tags and text in order."""

    VOID = frozenset({"br", "img", "hr", "input", "meta", "link"})

    def __init__(self, html: str) -> None:
        super().__init__()
        self.open: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)
        self.close()
        assert self.open == [], f"unclosed {self.open} in {html}"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open[-1:] == [tag], (tag, self.open)
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


LIVE = """
from collections.abc import AsyncIterator
import anyio
import agentcat
from agentcat import agent, forward, show, streaming, transducer

live = {"running": 0}

@streaming
async def told(prompt: str) -> AsyncIterator[str]:
    live["running"] += 1
    try:
        for token in ["<b>Hel", "lo", " & bye</b>"]:
            await anyio.sleep(0)
            yield token
        if prompt == "forever":
            await anyio.Event().wait()
    finally:
        live["running"] -= 1

@agent
def count(text: str) -> int:
    return len(text)
"""


def test_show_updates_one_display_in_place_and_ends_with_the_whole_value(
    kernel: BlockingKernelClient,
) -> None:
    assert run_cell(kernel, LIVE) == ("", "")
    shown = displays(kernel, "whole = await show(told.stream('x'), every=0)\nwhole")
    first, *updates, result = shown
    assert first["kind"] == "display_data"
    assert first["id"]
    assert [update["kind"] for update in updates] == ["update_display_data"] * 4
    assert {update["id"] for update in updates} == {first["id"]}  # one display, in place
    texts = [update["text/plain"].splitlines()[1] for update in [first, *updates]]
    assert texts == [
        "\u258c",
        "<b>Hel\u258c",
        "<b>Hello\u258c",
        "<b>Hello & bye</b>\u258c",
        "<b>Hello & bye</b>",
    ]  # the cursor, until the end
    last = updates[-1]
    assert last["text/plain"].splitlines()[2].startswith("[done (~")
    assert "~3 tokens in " in last["text/plain"]
    page = Tags(last["text/html"])
    assert "".join(page.text).count("<b>Hello & bye</b>") == 1  # escaped: text, not markup
    assert [tag for tag, _ in page.tags if tag == "b"] == []
    assert "first token" in "".join(page.text)
    assert result == {"kind": "execute_result", "id": None, "text/plain": "'<b>Hello & bye</b>'"}


def test_show_puts_the_branches_of_a_fan_out_side_by_side(kernel: BlockingKernelClient) -> None:
    assert run_cell(kernel, LIVE) == ("", "")
    *_, last = displays(kernel, "pair = await show((told >> (forward & count)).stream('x'))")
    page = Tags(last["text/html"])
    row = next(attrs for tag, attrs in page.tags if "display: flex" in (attrs["style"] or ""))
    assert row["style"]
    assert "display: flex" in row["style"]
    labels = [text for text in page.text if text in ("forward", "lift(count)")]
    assert labels == ["forward", "lift(count)"]
    assert "<b>Hello & bye</b>" in page.text
    assert "18" in page.text
    assert last["text/plain"].splitlines()[1:5] == [
        "[forward]",
        "  <b>Hello & bye</b>",
        "[lift(count)]",
        "  18",
    ]


def test_a_timeout_around_show_stops_every_producer_and_the_display_says_so(
    kernel: BlockingKernelClient,
) -> None:
    assert run_cell(kernel, LIVE) == ("", "")
    code = "with anyio.move_on_after(0.2):\n    await show(told.stream('forever'))\nlive"
    *_, last, result = displays(kernel, code)
    assert last["text/plain"].splitlines()[1] == "<b>Hello & bye</b>"  # what had come
    assert last["text/plain"].splitlines()[2].startswith("[cancelled | ")
    assert "var(--jp-error-color1" in last["text/html"]
    assert result["text/plain"] == "{'running': 0}"


def test_interrupting_the_kernel_cancels_show_which_says_so_and_stops_the_producers(
    started: tuple[KernelManager, BlockingKernelClient],
) -> None:
    """Jupyter's interrupt button (SIGINT to the kernel, as the kernel manager sends it, whose
    own method cannot be called from inside the client's running loop): the kernel cancels
    the cell's task, where show reads."""
    manager, kernel = started
    assert isinstance(manager.provisioner, LocalProvisioner)
    pid = manager.provisioner.pid
    assert pid is not None
    assert run_cell(kernel, LIVE) == ("", "")
    code = """
@streaming
async def endless(prompt: str) -> AsyncIterator[str]:
    live["running"] += 1
    try:
        while True:
            await anyio.sleep(0.01)
            yield "x"
    finally:
        live["running"] -= 1

@transducer
async def loud(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
    async for delta in deltas:
        yield delta.upper()

await show((endless >> (forward & loud)).stream(""), every=0)  # loud runs in a task
"""
    sent: list[dict[str, Any]] = []

    def interrupt_once_it_streams(message: dict[str, Any]) -> None:
        sent.append(message)
        updates = [m for m in sent if m["msg_type"] == "update_display_data"]
        if message["msg_type"] == "update_display_data" and len(updates) == 2:
            os.kill(pid, signal.SIGINT)

    kernel.execute_interactive(code, timeout=20, output_hook=interrupt_once_it_streams)
    updates = [m["content"]["data"] for m in sent if m["msg_type"] == "update_display_data"]
    errors = [m["content"]["ename"] for m in sent if m["msg_type"] == "error"]
    assert errors == ["CancelledError"]
    last = updates[-1]["text/plain"].splitlines()
    assert last[0] == "endless >> (forward & loud)"
    assert last[-1].startswith("[cancelled | ")
    assert last[1:5:2] == ["[forward]", "[loud]"]
    assert run_cell(kernel, "print(live)") == ("{'running': 0}", "")


def test_a_stream_as_a_cells_value_says_what_to_write(kernel: BlockingKernelClient) -> None:
    assert run_cell(kernel, LIVE) == ("", "")
    (result,) = displays(kernel, "told.stream('x')")
    assert result["text/plain"] == (
        "<ChunkStream of told, unread: `await agentcat.show(stream)` shows it here as it "
        "streams, `await stream` gives the whole value>"
    )
    assert run_cell(kernel, "live") == ("", "")  # (nothing printed:) nothing ran either


def test_anyio_run_pasted_into_a_cell_gets_the_hint_under_its_error(
    kernel: BlockingKernelClient,
) -> None:
    assert run_cell(kernel, LIVE) == ("", "")
    sent = messages(kernel, "async def main() -> int:\n    return 1\n\nanyio.run(main)")
    kinds = [(message["msg_type"], message["content"].get("name")) for message in sent]
    assert kinds == [("error", None), ("stream", "stderr")]  # the traceback, then the hint
    assert sent[0]["content"]["evalue"] == "Already running asyncio in this thread"
    assert sent[1]["content"]["text"] == LOOP_HINT + "\n"
    assert run_cell(kernel, "await main()") == ("", "")  # what the hint says to write works
    assert run_cell(kernel, "raise RuntimeError('other')") == ("", "RuntimeError: other")


def test_a_law_report_displays_as_a_table(kernel: BlockingKernelClient) -> None:
    code = """
from hypothesis import settings, strategies as st
from agentcat import map_deltas
from agentcat_laws import check_laws

broken = map_deltas(lambda delta: delta[:1])  # keeps the first character of each chunk
report = await check_laws(
    broken, inputs=st.text(), laws=["S3", "W2"], settings=settings(max_examples=20)
)
report
"""
    (result,) = displays(kernel, code)
    page = Tags(result["text/html"])
    heads = [
        text for text in page.text if text in ("law", "statement", "verdict", "counterexample")
    ]
    assert heads == ["law", "statement", "verdict", "counterexample"]
    assert [tag for tag, _ in page.tags].count("tr") == 3  # the head, and a row per law
    text = "".join(page.text)
    assert "broken" in text
    assert "held" in text
    assert "counterexample (shrunk):" in text
    assert "chunking" in text
    assert "<lambda>" in text  # the subject's name, escaped (it would be a tag otherwise)
    assert result["text/plain"].startswith("agentcat-laws: map_deltas(<lambda>) (transducer)")
    assert re.search(r"2 laws: 1 held, 1 broken \(S3\)$", result["text/plain"])


def test_show_gives_a_turn_with_a_tool_call_in_the_order_it_streamed(
    kernel: BlockingKernelClient,
) -> None:
    code = """
from agentcat import EmbeddedModel, MessengerAgent, agent, show, tool

@agent
def weather(city: str) -> str:
    \"\"\"The current weather in a city.\"\"\"
    return f"12 degrees and clear in {city}"

session = MessengerAgent(EmbeddedModel(pace=0), tools=[tool(weather)])
reply = await show(session.invoke("What is the weather in Paris?"))
"""
    *_, last = displays(kernel, code)
    assert last["text/plain"].splitlines() == [
        "MessengerAgent(model, 4 messages)",
        "(thinking: I need the weather tool for Paris, so I call it first.)",
        "Let me ask the weather tool.",
        '→ weather({"city": "Paris"})',
        "(thinking: The tool has answered; I can reply to: What is the weather in Paris?)",
        "The weather tool says: 12 degrees and clear in Paris.",  # (no blank lines before it)
        last["text/plain"].splitlines()[-1],
    ]
    status = last["text/plain"].splitlines()[-1]
    assert status.startswith("[done (")  # tokens as the model reported them: no "~"
    assert status.endswith(" | model: embedded:model]")
    page = Tags(last["text/html"])
    assert ("i", {"style": "color: var(--jp-ui-font-color2, #6b6b6b)"}) in page.tags
    assert '\n→ weather({"city": "Paris"})' in page.text  # (the call begins a line)
