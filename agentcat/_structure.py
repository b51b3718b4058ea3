"""The structural description of an agent: a tree that `repr` prints as an expression and that
draws itself (an SVG diagram, Mermaid text), and `walk`, which evaluates definitions over such
trees without recursion."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Container, Generator
from itertools import pairwise
from types import GeneratorType
from typing import Any, TypeVar, overload

from attrs import frozen

__all__ = ["Node", "Walk", "mimebundle", "operand", "render", "walk"]

R = TypeVar("R")

Walk = Generator[Any, Any, R]
"""A recursive definition, written as a generator: it yields what each part gives (a part's own
walk, or its value when it is a leaf) and receives the part's result; what it returns is its
own result (see :func:`walk`)."""


@overload
def walk(root: Walk[R], /) -> R: ...
@overload
def walk(root: R, /) -> R: ...
def walk(root: Any, /) -> Any:
    """Run a definition written as a :data:`Walk` with an explicit stack, so that no depth of
    nesting (a fan-out inside a fan-out, a thousand deep) meets Python's recursion limit. A
    leaf's value (no walk at all) is its own result."""
    if not isinstance(root, GeneratorType):
        return root
    stack: list[Walk[Any]] = [root]
    value: Any = None
    while True:
        try:
            part = stack[-1].send(value)
        except StopIteration as done:
            stack.pop()
            if not stack:
                return done.value
            value = done.value
        else:
            if isinstance(part, GeneratorType):
                stack.append(part)
                value = None
            else:  # a leaf's value: handed straight back
                value = part


@frozen
class Node:
    """One agent in a composition: its kind, its label and the agents it is made of.

    ``kind`` is ``"agent"`` for a leaf, ``"model"`` for a leaf that is a model (a messenger,
    such as :class:`agentcat.EmbeddedModel` or an adapter's, or a session around one), and the
    combinator's name otherwise: ``"sequence"``, ``"result_sequence"`` (fallible agents in
    sequence), ``"fan_out"``, ``"parallel"``, ``"fallback"``, ``"retry"``, ``"result"``
    (``as_result``), ``"recover"``, ``"lift"`` or ``"remote"`` (a stage that runs elsewhere,
    such as ``on_ray``). ``label`` is what a leaf is called, or how a
    wrapping combinator is written around its children (a format with a ``{}`` for each).

    In Jupyter a node displays as its diagram (:meth:`svg`); :meth:`mermaid` is the same
    drawing as text, for docs.
    """

    kind: str
    label: str
    children: tuple[Node, ...] = ()

    def svg(self) -> str:
        """The diagram of the tree, as a self-contained SVG document: a sequence runs left to
        right; the branches of a fan-out share one input, a parallel's each take their item of
        the input pair; alternatives (fallback, recover) are stacked, each tried if the one
        above fails; wrappers (retry, ``as_result``, a remote stage...) frame what they wrap,
        and model stages stand out from plain agents."""
        return _svg(self)

    def mermaid(self) -> str:
        """The same drawing as Mermaid text (a ``flowchart LR``, with a subgraph for each
        group and each wrapper), to paste into docs that render Mermaid."""
        return _mermaid(self)

    def _repr_mimebundle_(
        self, include: Container[str] | None = None, exclude: Container[str] | None = None
    ) -> dict[str, str]:
        """What Jupyter shows (it passes ``include`` and ``exclude`` and filters itself)."""
        return mimebundle(self, repr(self))


_INFIX = {"sequence": " >> ", "fan_out": " & ", "parallel": " * ", "result_sequence": " >> "}


_FLAT = frozenset({"sequence", "result_sequence"})
"""Kinds that never contain themselves (they flatten). A fan-out extends itself only on the
left, so a fan-out inside a fan-out is a group the parentheses must show."""


def render(node: Node) -> str:
    """Write ``node`` as the Python expression that builds it, e.g. ``a >> (b & c) >> d``."""
    return walk(_rendered(node))


def _rendered(node: Node) -> Walk[str]:
    texts = []
    for child in node.children:
        texts.append((yield _rendered(child)))
    if node.kind in _INFIX:
        return _INFIX[node.kind].join(
            _grouped(text, child.kind, node.kind, first=index == 0)
            for index, (text, child) in enumerate(zip(texts, node.children, strict=True))
        )
    if not node.children:
        return node.label
    # A wrapping combinator: its label is a format with one slot per child. A slot followed by
    # a dot is a receiver (`(f >> g).with_retry(2)`), which an infix child must parenthesise;
    # any other slot is an argument of a call, which needs no parentheses.
    receivers = [part.startswith(".") for part in node.label.split("{}")[1:]]
    return node.label.format(
        *(
            _grouped(text, child.kind, "call", first=False) if receiver else text
            for text, child, receiver in zip(texts, node.children, receivers, strict=True)
        )
    )


def operand(child: Node, parent_kind: str, *, first: bool) -> str:
    """A child in its parent's expression, parenthesised unless Python's grouping (operators
    associate to the left) and the flattening of ``>>`` and ``&`` make it read the same."""
    return _grouped(render(child), child.kind, parent_kind, first=first)


def _grouped(text: str, kind: str, parent_kind: str, *, first: bool) -> str:
    if kind not in _INFIX:
        return text
    if kind == parent_kind and (kind in _FLAT or (first and kind == "parallel")):
        return text
    return f"({text})"


def mimebundle(node: Node, text: str) -> dict[str, str]:
    """What Jupyter displays of an agent or a tree: its diagram, with ``text`` as the fallback."""
    return {"image/svg+xml": node.svg(), "text/plain": text}


# --- The diagram ------------------------------------------------------------------------------
#
# Each node is drawn, children first (a walk), as a `_Drawing` in its own coordinates; a parent
# places its children's drawings without copying them, and `_svg` writes every shape once, at
# its place, with an explicit stack. Sizes come from character counts in a monospace font.

_FONT = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace"
_CHAR = 8.0  # the advance of a 13px label character, rounded up
_SMALL = 6.8  # of an 11px caption character
_LONGEST = 32  # characters of a label shown (the whole label is the stage's <title>)
_LEAF = 40.0  # a stage's height
_GAP = 32.0  # the arrow between two stages of a sequence
_PAD = 10.0  # inside a frame
_CAPTION = 20.0  # a frame's caption
_SPLIT = 40.0  # before stacked branches: where the input splits (room for "[0]")
_FORK = 12.0  # where on it the input forks
_JOIN = 24.0  # after stacked branches or alternatives: where the outputs join
_STACK = 12.0  # between stacked branches
_TRY = 30.0  # between alternatives: the dashed arrow to the next one
_ENTRY = 20.0  # before alternatives: the input's arrow to the first
_MARGIN = 12.0
_STUB = 24.0  # the diagram's input and output arrows

_INK = "#57606a"
_TEXT = "#1f2328"
_MUTED = "#6e7781"

_LEAVES = {
    "agent": ("#f6f8fa", _INK, 6),
    "model": ("#ddf4ff", "#0969da", 14),
}
"""A leaf's fill, stroke and corner radius, by kind (another kind is drawn as an agent)."""

_FRAMES = {
    "retry": ("#9a6700", "none", "", "\u21bb "),
    "fallback": ("#bc4c00", "none", "", ""),
    "recover": ("#bc4c00", "none", "", ""),
    "result": (_MUTED, "none", "", ""),
    "result_sequence": (_MUTED, "none", "", ""),
    "remote": ("#8250df", "#faf5ff", "6 3", "remote: "),
    "lift": (_MUTED, "none", "2 3", ""),
    "fan_out": (_MUTED, "none", "2 3", ""),
    "parallel": (_MUTED, "none", "2 3", ""),
}
"""A frame's stroke, fill, dashes and caption prefix, by kind (another kind is drawn as a
lift is)."""

_CAPTIONS = {
    "fan_out": "& fan-out: shared input",
    "parallel": "* parallel: split pair",
    "result_sequence": ">> of Results",
}
_NOTES = {"fallback": "if it fails", "recover": "on a Failure"}
"""The words on the dashed arrow between alternatives (``"or"`` for another kind)."""

_Shape = Callable[[float, float], str]
"""Writes one SVG element, its drawing placed at the given offset."""


@frozen
class _Drawing:
    width: float
    height: float
    port: float  # the height at which the flow enters and leaves
    shapes: tuple[_Shape, ...]
    parts: tuple[tuple[float, float, _Drawing], ...] = ()  # children, at their offsets


def _svg(node: Node) -> str:
    root: _Drawing = walk(_drawn(node))
    width = root.width + 2 * (_MARGIN + _STUB)
    height = root.height + 2 * _MARGIN
    left, top = _MARGIN + _STUB, _MARGIN
    port = top + root.port
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{height:g}" '
        f'viewBox="0 0 {width:g} {height:g}" font-family="{_FONT}" font-size="13" '
        f'role="img" aria-label="{_escaped(render(node))}">',
        f'<rect width="{width:g}" height="{height:g}" rx="8" fill="#ffffff" stroke="#d0d7de"/>',
        _arrow(_MARGIN, port, left, port)(0, 0),
        _arrow(left + root.width, port, width - _MARGIN, port)(0, 0),
    ]
    stack = [(left, top, root)]
    while stack:
        x, y, drawing = stack.pop()
        out.extend(shape(x, y) for shape in drawing.shapes)
        stack.extend((x + dx, y + dy, part) for dx, dy, part in reversed(drawing.parts))
    out.append("</svg>")
    return "\n".join(out)


def _drawn(node: Node) -> Walk[_Drawing]:
    parts: list[_Drawing] = []
    for child in node.children:
        parts.append((yield _drawn(child)))
    if not parts:
        return _leaf(node)
    if node.kind == "lift" and not node.children[0].children:
        return _leaf(node.children[0], tag=_call(node))  # a lifted stage: one box, marked
    if node.kind == "sequence":
        return _sequence(parts)
    if node.kind in ("fan_out", "parallel"):
        content = _branches(parts, paired=node.kind == "parallel")
    elif node.kind == "result_sequence":
        content = _sequence(parts)
    elif len(parts) > 1:
        content = _alternatives(parts, _NOTES.get(node.kind, "or"))
    else:
        content = parts[0]
    return _framed(content, node)


def _leaf(node: Node, *, tag: str = "") -> _Drawing:
    """A stage: its label in a box, and a tag above it for a model (``model``) or a lifted
    stage (``lift``, a plain agent that waits for its whole input)."""
    fill, stroke, radius = _LEAVES.get(node.kind, _LEAVES["agent"])
    shown = _shortened(node.label, _LONGEST)
    tag = "model" if node.kind == "model" else _shortened(tag, _LONGEST)
    width = max(_CHAR * len(shown) + 28, _SMALL * len(tag) + 2 * radius + 8, 60.0)

    def stage(x: float, y: float) -> str:
        marked = (
            f'<text x="{x + radius:g}" y="{y + 12:g}" font-size="9" '
            f'fill="{stroke if node.kind == "model" else _MUTED}">{_escaped(tag)}</text>'
        )
        return (
            f'<g class="stage {_css(node.kind)}"><title>{_escaped(node.label)}</title>'
            f'<rect x="{x:g}" y="{y:g}" width="{width:g}" height="{_LEAF:g}" rx="{radius}" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>{marked if tag else ""}'
            f'<text x="{x + width / 2:g}" y="{y + (27 if tag else 24.5):g}" '
            f'text-anchor="middle" fill="{_TEXT}">{_escaped(shown)}</text></g>'
        )

    return _Drawing(width, _LEAF, _LEAF / 2, (stage,))


def _sequence(parts: list[_Drawing]) -> _Drawing:
    port = max(part.port for part in parts)
    placed: list[tuple[float, float, _Drawing]] = []
    arrows: list[_Shape] = []
    x = 0.0
    for part in parts:
        if placed:
            arrows.append(_arrow(x - _GAP, port, x, port))
        placed.append((x, port - part.port, part))
        x += part.width + _GAP
    height = max(dy + part.height for _, dy, part in placed)
    return _Drawing(x - _GAP, height, port, tuple(arrows), tuple(placed))


def _branches(parts: list[_Drawing], *, paired: bool) -> _Drawing:
    """Branches stacked, the input split to each: the same input for a fan-out (a dot, where it
    forks), an item of the pair for a parallel (a bar, each branch marked with its index)."""
    placed = _stacked(parts, _SPLIT, _STACK)
    ports = [dy + part.port for _, dy, part in placed]
    port = (ports[0] + ports[-1]) / 2
    join = _SPLIT + max(part.width for part in parts) + _JOIN / 2
    width = join + _JOIN / 2
    shapes = [
        _line((0, port), (_FORK, port)),
        _line((_FORK, ports[0]), (_FORK, ports[-1]), width=4 if paired else 1.5),
        _line((join, ports[0]), (join, ports[-1])),
        _line((join, port), (width, port)),
    ]
    for index, ((x, _, part), y) in enumerate(zip(placed, ports, strict=True)):
        shapes.append(_arrow(_FORK, y, x, y))
        shapes.append(_line((x + part.width, y), (join, y)))
        if paired:
            shapes.append(_text(_FORK + 4, y - 5, f"[{index}]", _MUTED))
    if not paired:
        shapes.append(lambda x, y: _circle(x + _FORK, y + port))
    height = placed[-1][1] + parts[-1].height
    return _Drawing(width, height, port, tuple(shapes), tuple(placed))


def _alternatives(parts: list[_Drawing], note: str) -> _Drawing:
    """Alternatives stacked: the input goes to the first, a dashed arrow (with ``note``) to each
    next one, and every one's output to the join."""
    placed = _stacked(parts, _ENTRY, _TRY)
    ports = [dy + part.port for _, dy, part in placed]
    down = _ENTRY + 14
    widest = max(max(part.width for part in parts), 20 + _SMALL * len(note))
    join = _ENTRY + widest + _JOIN / 2
    width = join + _JOIN / 2
    shapes = [
        _arrow(0, ports[0], _ENTRY, ports[0]),
        _line((join, ports[0]), (join, ports[-1])),
        _line((join, ports[0]), (width, ports[0])),
    ]
    for (x, _, part), port in zip(placed, ports, strict=True):
        shapes.append(_line((x + part.width, port), (join, port)))
    for (_, y, part), (_, below, _) in pairwise(placed):
        shapes.append(_arrow(down, y + part.height, down, below, dashed=True))
        shapes.append(_text(down + 6, (y + part.height + below) / 2 + 4, note, _MUTED))
    height = placed[-1][1] + parts[-1].height
    return _Drawing(width, height, ports[0], tuple(shapes), tuple(placed))


def _stacked(parts: list[_Drawing], x: float, gap: float) -> list[tuple[float, float, _Drawing]]:
    placed, y = [], 0.0
    for part in parts:
        placed.append((x, y, part))
        y += part.height + gap
    return placed


def _framed(content: _Drawing, node: Node) -> _Drawing:
    """``content`` in a frame captioned with what ``node`` is: a wrapper's call written without
    its receiver (``with_retry(3)``), a group's kind."""
    stroke, fill, dashes, prefix = _FRAMES.get(node.kind, _FRAMES["lift"])
    said = prefix + _CAPTIONS.get(node.kind, _call(node))
    caption = _shortened(said, _LONGEST + 16)
    width = max(content.width, _SMALL * len(caption)) + 2 * _PAD
    height = _CAPTION + content.height + _PAD
    port = _CAPTION + content.port
    left = (width - content.width) / 2  # a caption wider than the content centres it
    dashing = f' stroke-dasharray="{dashes}"' if dashes else ""

    def frame(x: float, y: float) -> str:
        return (
            f'<g class="group {_css(node.kind)}"><title>{_escaped(said)}</title>'
            f'<rect x="{x:g}" y="{y:g}" width="{width:g}" height="{height:g}" rx="8" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="1.2"{dashing}/>'
            f'<text x="{x + _PAD:g}" y="{y + 14:g}" font-size="11" fill="{stroke}">'
            f"{_escaped(caption)}</text></g>"
        )

    shapes = (
        frame,
        _line((0, port), (left, port)),
        _line((left + content.width, port), (width, port)),
    )
    return _Drawing(width, height, port, shapes, ((left, _CAPTION, content),))


def _call(node: Node) -> str:
    """A wrapper's label without its children: ``{}.with_fallback({}, on=(E,))`` is
    ``with_fallback(on=(E,))``, ``lift({})`` is ``lift``; its kind if nothing is left."""
    call = re.sub(r"\{\}(, )?", "", node.label.removeprefix("{}.")).removesuffix("()")
    return call or node.kind


def _line(start: tuple[float, float], end: tuple[float, float], *, width: float = 1.5) -> _Shape:
    (x1, y1), (x2, y2) = start, end
    return lambda x, y: (
        f'<line x1="{x + x1:g}" y1="{y + y1:g}" x2="{x + x2:g}" y2="{y + y2:g}" '
        f'stroke="{_INK}" stroke-width="{width:g}"/>'
    )


def _arrow(x1: float, y1: float, x2: float, y2: float, *, dashed: bool = False) -> _Shape:
    """A horizontal arrow to the right, or a vertical one downwards."""
    dashing = ' stroke-dasharray="4 3"' if dashed else ""

    def arrow(x: float, y: float) -> str:
        tip_x, tip_y = x + x2, y + y2
        if y1 == y2:
            head = f"{tip_x - 7:g},{tip_y - 4:g} {tip_x:g},{tip_y:g} {tip_x - 7:g},{tip_y + 4:g}"
        else:
            head = f"{tip_x - 4:g},{tip_y - 7:g} {tip_x:g},{tip_y:g} {tip_x + 4:g},{tip_y - 7:g}"
        return (
            f'<line x1="{x + x1:g}" y1="{y + y1:g}" x2="{tip_x:g}" y2="{tip_y:g}" '
            f'stroke="{_INK}" stroke-width="1.5"{dashing}/>'
            f'<polygon points="{head}" fill="{_INK}"/>'
        )

    return arrow


def _circle(x: float, y: float) -> str:
    return f'<circle cx="{x:g}" cy="{y:g}" r="4" fill="{_INK}"/>'


def _text(x1: float, y1: float, text: str, color: str) -> _Shape:
    return lambda x, y: (
        f'<text x="{x + x1:g}" y="{y + y1:g}" font-size="11" fill="{color}">{_escaped(text)}</text>'
    )


def _shortened(text: str, longest: int) -> str:
    return text if len(text) <= longest else text[: longest - 1] + "\u2026"


def _escaped(text: str) -> str:
    """Text for XML: escaped, and a control character (which XML cannot hold) shown as �."""
    return html.escape(_CONTROL.sub("\ufffd", text), quote=True)


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _css(kind: str) -> str:
    return re.sub(r"[^\w-]", "_", kind) or "_"


# --- Mermaid ----------------------------------------------------------------------------------


class _Chart:
    """The Mermaid text being written: node and subgraph lines in order, edges apart."""

    def __init__(self) -> None:
        self.lines = ["flowchart LR"]
        self.edges: list[str] = []
        self.depth = 1
        self.count = 0

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def write(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)


_Flow = tuple[list[tuple[str, str]], list[str]]
"""Where a part's input enters (each node, with what it is given, such as ``[0]``) and where its
output leaves."""


def _mermaid(node: Node) -> str:
    chart = _Chart()
    chart.write("input((in))")
    entries, exits = walk(_charted(node, chart))
    chart.write("output((out))")
    edges = [*_edges(["input"], entries), *chart.edges, *_edges(exits, [("output", "")])]
    return "\n".join([*chart.lines, *("    " + edge for edge in edges)])


def _edges(exits: list[str], entries: list[tuple[str, str]], arrow: str = "-->") -> list[str]:
    return [
        f'{start} {arrow}|"{_quoted(label)}"| {end}' if label else f"{start} {arrow} {end}"
        for start in exits
        for end, label in entries
    ]


def _charted(node: Node, chart: _Chart) -> Walk[_Flow]:
    if not node.children or (node.kind == "lift" and not node.children[0].children):
        name = chart.name("n")  # a lifted stage is one node too, called `lift(stage)`
        text = _quoted(_shortened(render(node), _LONGEST * 2))
        model = (node.children[0] if node.children else node).kind == "model"
        chart.write(f'{name}(["{text}"])' if model else f'{name}["{text}"]')
        return [(name, "")], [name]
    grouped = node.kind != "sequence"
    if grouped:
        prefix = _FRAMES.get(node.kind, _FRAMES["lift"])[3]
        caption = prefix + _CAPTIONS.get(node.kind, _call(node))
        chart.write(f'subgraph {chart.name("g")} ["{_quoted(caption)}"]')
        chart.depth += 1
    flows: list[_Flow] = []
    for child in node.children:
        flows.append((yield _charted(child, chart)))
    if grouped:
        chart.depth -= 1
        chart.write("end")
    if node.kind in ("sequence", "result_sequence"):
        for (_, exits), (entries, _) in pairwise(flows):
            chart.edges.extend(_edges(exits, entries))
        return flows[0][0], flows[-1][1]
    every_exit = [name for _, exits in flows for name in exits]
    if node.kind == "fan_out":
        return [entry for entries, _ in flows for entry in entries], every_exit
    if node.kind == "parallel":
        return [
            (name, f"[{index}]{given}")
            for index, (entries, _) in enumerate(flows)
            for name, given in entries
        ], every_exit
    note = _NOTES.get(node.kind, "or")
    for (_, exits), (entries, _) in pairwise(flows):
        chart.edges.extend(_edges(exits, [(name, note) for name, _ in entries], "-.->"))
    return flows[0][0], every_exit


def _quoted(text: str) -> str:
    """Text for a quoted Mermaid label: the characters it would read otherwise as entity codes."""
    return (
        text.replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    )
