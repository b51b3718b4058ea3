"""Watching a stream as it arrives: :func:`show` reads a stream to its end and shows it live.

In a Jupyter notebook it is one display, updated in place: the text so far with a cursor, a
fan-out's branches side by side, and a status line (tokens per second, time to the first
token), ending with the whole value. Elsewhere (a script, a terminal) the text is written as
it streams, then the status line.

Why an awaitable rather than a stream that displays itself: IPython shows a cell's last value
by calling formatters, synchronously, inside the kernel's running event loop. A formatter
cannot await the stream; to show it live it would have to start a task that reads on after
the cell has ended, which nothing owns and interrupting the cell would not stop. ``await
show(stream)`` reads the stream in the cell's own task, inside the stream's scope, so the cell
ends when the stream does, and interrupting it stops every producer. A bare stream, displayed,
says to write this instead.
"""

from __future__ import annotations

import html
import pprint
import sys
import time
from typing import IO, Any, TypeVar, overload

import anyio

from agentcat._kernel import kernel_shell
from agentcat._structure import Node, render
from agentcat.agent import Agent
from agentcat.chunks import Chunk, ChunkStream, Invocation
from agentcat.errors import MonoidError
from agentcat.messenger.message import Message
from agentcat.messenger.metrics import StreamingMetrics, _Tally
from agentcat.messenger.promises import MessagePromise, MessageSequencePromise
from agentcat.messenger.reply import (
    REPLY,
    Part,
    Reply,
    Text,
    TextPart,
    Thinking,
    ThinkingPart,
    ToolCallPart,
)
from agentcat.monoids import STR, Monoid, ProductMonoid

__all__ = ["show"]

T = TypeVar("T")
W = TypeVar("W")

_CURSOR = "\u258c"  # ▌
_GREY = "var(--jp-ui-font-color2, #6b6b6b)"
_DIM = f"color: {_GREY}"
_PANE = (
    "flex: 1 1 0; min-width: 0; padding: 6px 8px; border-radius: 4px; "
    "border: 1px solid var(--jp-border-color2, #d0d0d0); "
    "background: var(--jp-layout-color1, #ffffff)"
)
_TEXT = "white-space: pre-wrap; word-break: normal; overflow-wrap: break-word; margin: 0"
_LABEL = f"font-size: 11px; margin-bottom: 4px; {_DIM}; overflow: hidden; text-overflow: ellipsis"


@overload
async def show(stream: ChunkStream[Any, W], *, every: float = ...) -> W: ...
@overload
async def show(stream: Invocation[Any], *, every: float = ...) -> Any: ...
async def show(stream: ChunkStream[Any, Any] | Invocation[Any], *, every: float = 0.05) -> Any:
    """Read ``stream`` to its end, showing it as it arrives, and return its whole value (what
    ``await stream`` gives): in a notebook cell, ``text = await agentcat.show(agent.stream(x))``.

    The stream is read inside its scope (``async with``), so a fan-out's branches run, and
    interrupting the cell, a timeout around it or a failure of the stream stops every producer;
    the display then shows how far the stream came and why it stopped, and the exception goes
    on. In a notebook the display is updated at most every ``every`` seconds, and at the end,
    so that a fast stream does not flood the notebook (``every=0``: at every chunk).

    Outside a notebook, the text of the stream (of ``str`` or :class:`agentcat.Reply` deltas)
    is written to standard output as it arrives, flushed at every chunk, then the status line;
    a stream of other values (a fan-out's tuples, say) is written whole once it has ended.

    Raises:
        TypeError: ``stream`` is neither a :class:`agentcat.ChunkStream` (``agent.stream(x)``)
            nor an invocation (``agent.invoke(x)``); or it is a sequence of messages
            (``session.receive()``), whose messages are shown one by one.
        ValueError: ``every`` is negative.
    """
    if isinstance(stream, Invocation):
        stream = stream.stream
    if isinstance(stream, MessageSequencePromise):
        raise TypeError(
            "show() reads one stream, and a MessageSequencePromise is a sequence of messages: "
            "show each one, `async for message in session.receive(): await show(message)`"
        )
    if not isinstance(stream, ChunkStream):
        raise TypeError(
            f"show() reads a stream, agent.stream(x) or agent.invoke(x), not {stream!r} "
            f"({type(stream).__qualname__})"
        )
    if every < 0:
        raise ValueError(f"show(every=) is a number of seconds, 0 or more, not {every!r}")
    view = _View(stream)
    surface: _Notebook | _Terminal = (
        _Notebook(view) if kernel_shell() is not None else _Terminal(view, sys.stdout)
    )
    async with stream:
        try:
            shown = time.monotonic()
            async for chunk in stream:
                view.count(chunk)
                surface.arrived(chunk)
                now = time.monotonic()
                if now - shown >= every and not chunk.done:
                    surface.update()
                    shown = now
        except BaseException as error:
            view.stopped(error)
            surface.end()
            raise
    surface.end()
    return await stream


class _View:
    """What a live view of one stream shows: the value so far, how the stream is going, and
    how it ended; rendered as HTML and as plain text."""

    def __init__(self, stream: ChunkStream[Any, Any]) -> None:
        self.stream = stream
        subject = stream._name
        self.node: Node | None = subject.describe() if isinstance(subject, Agent) else None
        self._tally = _Tally()
        self._start = time.perf_counter()
        self.ending: str | None = None  # "done", or why it stopped; None while it streams
        self.failed = False

    def count(self, chunk: Chunk[Any]) -> None:
        latency = (time.perf_counter() - self._start) * 1000
        self._tally.count(latency, chunk.done, _counted(chunk.delta, self.stream.monoid))
        if chunk.done:
            self.ending = "done"

    def stopped(self, error: BaseException) -> None:
        self.failed = True
        if isinstance(error, anyio.get_cancelled_exc_class()):
            self.ending = "cancelled"
        elif isinstance(error, KeyboardInterrupt):
            self.ending = "interrupted"
        else:
            self.ending = f"failed: {type(error).__name__}: {error}"
        self._tally.cut = True

    @property
    def title(self) -> str:
        """What the stream is of: its agent (a session says how many messages it has now), or
        for a message, who says it."""
        if isinstance(self.stream, MessagePromise):
            return f"{self.stream.draft.role} message"
        return str(self.stream._name)

    @property
    def of_text(self) -> bool:
        """Whether the stream is of text or replies, whose chunks are tokens (as a model sends
        them); the chunks of other streams (a fan-out's, say) are counted as chunks."""
        return isinstance(self.value, str | Reply | Message) or self.stream.monoid in (STR, REPLY)

    @property
    def live(self) -> bool:
        return self.ending is None

    @property
    def value(self) -> object | None:
        """The value so far (``None`` while no delta has told its type)."""
        if isinstance(self.stream, MessagePromise):
            return self.stream.draft  # the message so far: thinking and tool calls too
        try:
            value: object = self.stream.accumulated
        except MonoidError:
            return None
        return value

    @property
    def metrics(self) -> StreamingMetrics:
        now = (time.perf_counter() - self._start) * 1000
        return self._tally.metrics(None if self._tally.complete else now)

    def status(self) -> str:
        """The status line: ``streaming (142 tokens/sec) | 34 tokens | first token 120 ms``."""
        metrics = self.metrics
        approx = "~" if metrics.estimated else ""
        unit = "tokens" if self.of_text else "chunks"
        head = self.ending or ("streaming" if metrics.chunks_received else "waiting")
        if metrics.tokens_per_second is not None and not self.failed:
            head += f" ({approx}{metrics.tokens_per_second:.0f} {unit}/sec)"
        count = metrics.tokens_generated
        tokens = f"{approx}{count} {unit if count != 1 else unit[:-1]}"
        if self.ending is not None and metrics.latency_total_ms is not None:
            tokens += f" in {metrics.latency_total_ms / 1000:.2f} s"
        parts = [head, tokens]
        if metrics.latency_first_token_ms is not None:
            first = "token" if self.of_text else "chunk"
            parts.append(f"first {first} {metrics.latency_first_token_ms:.0f} ms")
        value = self.value
        if isinstance(value, Reply) and "model" in value.meta:
            parts.append(f"model: {value.meta['model']}")
        return " | ".join(parts)

    def html(self) -> str:
        metrics = self.metrics
        counted = (
            "counted as chunks: the stream reported no usage"
            if metrics.estimated
            else "tokens as the provider reported them"
        )
        colour = "var(--jp-error-color1, #c62828)" if self.failed else _GREY
        return (
            '<div class="agentcat-stream" style="font-family: var(--jp-code-font-family, '
            'monospace); font-size: 13px; line-height: 1.45; max-width: 100%">'
            f'<div style="{_LABEL}">{_escape(self.title)}</div>'
            f"{_html_of(self.value, self.stream.monoid, self.node, self.live, boxed=True)}"
            f'<div style="font-size: 11px; margin-top: 4px; color: {colour}" '
            f'title="{_escape(counted)}">{_escape(self.status())}</div></div>'
        )

    def plain(self) -> str:
        body = _plain_of(self.value, self.stream.monoid, self.node, self.live)
        return f"{self.title}\n{body}\n[{self.status()}]"

    def bundle(self) -> dict[str, str]:
        return {"text/html": self.html(), "text/plain": self.plain()}


class _Notebook:
    """A display in the cell that runs :func:`show`, updated in place."""

    def __init__(self, view: _View) -> None:
        from IPython.display import display

        self._view = view
        self._handle = display(view.bundle(), raw=True, display_id=True)

    def arrived(self, chunk: Chunk[Any]) -> None:
        """A chunk has arrived (the display follows at the next update)."""

    def update(self) -> None:
        self._handle.update(self._view.bundle(), raw=True)

    def end(self) -> None:
        self.update()


class _Terminal:
    """Text written as it streams to ``out`` (standard output), then the status line."""

    def __init__(self, view: _View, out: IO[str]) -> None:
        self._view = view
        self._out = out
        self._wrote = False

    def arrived(self, chunk: Chunk[Any]) -> None:
        delta = chunk.delta
        text = delta.text if isinstance(delta, Reply) else delta
        if isinstance(text, str) and text:
            self._out.write(text)
            self._out.flush()
            self._wrote = True

    def update(self) -> None:
        """(The text is written as it arrives: nothing more to do until the end.)"""

    def end(self) -> None:
        view = self._view
        if not self._wrote:
            self._out.write(_plain_of(view.value, view.stream.monoid, view.node, live=False))
        self._out.write(f"\n[{view.status()}]\n")
        self._out.flush()


def _counted(delta: object, monoid: Monoid[Any] | None) -> Reply | str:
    """A delta as the metrics count it: a reply or text as it is, anything else as one token
    of content unless it is empty."""
    if isinstance(delta, Reply | str):
        return delta
    empty = delta is None or (monoid is not None and monoid.is_empty(delta))
    return "" if empty else _CURSOR


def _branches(node: Node | None) -> tuple[Node, ...] | None:
    """The branches of the fan-out (or parallel product) that makes ``node``'s output, if one
    does: through a sequence to its last stage, through a wrapper to what it wraps."""
    while node is not None:
        if node.kind in ("fan_out", "parallel"):
            return node.children
        if not node.children:
            return None
        last = node.kind in ("sequence", "result_sequence")
        node = node.children[-1] if last else node.children[0]
    return None


def _split(
    value: object, monoid: Monoid[Any] | None, node: Node | None
) -> list[tuple[str, object, Monoid[Any], Node | None]] | None:
    """The branches of a product value: each one's label, value, monoid and node."""
    if not isinstance(monoid, ProductMonoid) or not isinstance(value, tuple):
        return None
    if len(value) != len(monoid.components):
        return None
    nodes = _branches(node)
    if nodes is None or len(nodes) != len(value):
        return [
            (f"branch {index + 1}", part, component, None)
            for index, (part, component) in enumerate(zip(value, monoid.components, strict=True))
        ]
    return [
        (render(child), part, component, child)
        for part, component, child in zip(value, monoid.components, nodes, strict=True)
    ]


def _html_of(
    value: object, monoid: Monoid[Any] | None, node: Node | None, live: bool, *, boxed: bool
) -> str:
    """A value as HTML: a product's branches side by side, each in a pane under its label (a
    branch that is a fan-out too has its own inside); any other value in a pane if ``boxed``."""
    branches = _split(value, monoid, node)
    if branches is None:
        leaf = _leaf_html(value, monoid, live)
        return f'<div style="{_PANE}">{leaf}</div>' if boxed else leaf
    panes = "".join(
        f'<div style="{_PANE}"><div style="{_LABEL}">{_escape(label)}</div>'
        f"{_html_of(part, component, child, live, boxed=False)}</div>"
        for label, part, component, child in branches
    )
    return f'<div style="display: flex; gap: 8px; align-items: stretch">{panes}</div>'


def _leaf_html(value: object, monoid: Monoid[Any] | None, live: bool) -> str:
    cursor = f'<span style="{_DIM}">{_CURSOR}</span>' if live else ""
    pieces = _pieces(value)
    if pieces is not None:
        inside = "".join(_piece_html(kind, text) for kind, text in pieces)
        if not inside and not live:
            inside = f'<span style="{_DIM}">(nothing)</span>'
        return f'<pre style="{_TEXT}">{inside}{cursor}</pre>'
    if live and monoid is not None and monoid.is_empty(value):
        return f'<pre style="{_TEXT}"><span style="{_DIM}">\u2026</span></pre>'  # …
    return f'<pre style="{_TEXT}">{_escape(_shown(value))}</pre>'


def _piece_html(kind: str, text: str) -> str:
    if kind == "text":
        return _escape(text)
    if kind == "thinking":
        return f'<i style="{_DIM}">{_escape(text)}</i>\n'
    colour = "var(--jp-info-color1, #0b61a4)" if kind == "call" else _GREY
    return f'<b style="color: {colour}">{_escape(text)}</b>\n'


def _plain_of(value: object, monoid: Monoid[Any] | None, node: Node | None, live: bool) -> str:
    branches = _split(value, monoid, node)
    if branches is None:
        return _leaf_plain(value, monoid, live)
    lines = []
    for label, part, component, child in branches:
        lines.append(f"[{label}]")
        inner = _plain_of(part, component, child, live)
        lines.extend(f"  {line}" for line in inner.splitlines() or [""])
    return "\n".join(lines)


def _leaf_plain(value: object, monoid: Monoid[Any] | None, live: bool) -> str:
    cursor = _CURSOR if live else ""
    pieces = _pieces(value)
    if pieces is not None:
        shown = {"text": "{}", "thinking": "(thinking: {})\n", "call": "{}\n", "result": "{}\n"}
        return "".join(shown[kind].format(text) for kind, text in pieces) + cursor
    if live and monoid is not None and monoid.is_empty(value):
        return "\u2026"
    return _shown(value)


def _pieces(value: object) -> list[tuple[str, str]] | None:
    """Text, a reply or a message as what a reader sees of it, in the order it streamed:
    ``("text", ...)``, ``("thinking", ...)``, ``("call", "→ name(arguments)")`` and ``("result",
    "← content")``; ``None`` for a value of another kind (shown as its ``repr``)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [("text", value)]
    if isinstance(value, Reply):
        found = []
        for fragment in value.fragments:  # in the order they streamed, one round after another
            if isinstance(fragment, Text):
                found.append(("text", fragment.text))
            elif isinstance(fragment, Thinking):
                found.append(("thinking", fragment.text))
            else:
                found.append(("call", f"\n\u2192 {fragment.name}({fragment.arguments})"))
        return _spaced(found)
    if isinstance(value, Message):
        if not value.parts:
            return [("text", value.content)]
        return _spaced([_piece_of(part) for part in value.parts])
    return None


def _spaced(pieces: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The pieces, text after thinking or a tool call without the blank lines that separate
    the rounds of a turn in its text (the other pieces end a line already)."""
    spaced: list[tuple[str, str]] = []
    for kind, text in pieces:
        if kind == "text" and spaced and spaced[-1][0] != "text":
            text = text.lstrip("\n")
        spaced.append((kind, text))
    return spaced


def _piece_of(part: Part) -> tuple[str, str]:
    if isinstance(part, TextPart):
        return ("text", part.text)
    if isinstance(part, ThinkingPart):
        return ("thinking", part.text)
    if isinstance(part, ToolCallPart):
        return ("call", f"\n\u2192 {part.name}({part.arguments_json})")
    return ("result", f"\u2190 {part.content}")


def _shown(value: object) -> str:
    return pprint.pformat(value, width=60, compact=True)


def _escape(text: str) -> str:
    return html.escape(text, quote=True)
