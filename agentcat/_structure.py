"""The structural description of an agent: a tree that `repr` prints and that tools can draw."""

from __future__ import annotations

from attrs import frozen

__all__ = ["Node", "operand", "render"]


@frozen
class Node:
    """One agent in a composition: its kind, its label and the agents it is made of.

    ``kind`` is ``"agent"`` for a leaf and the combinator's name otherwise (``"sequence"``,
    ``"fan_out"``, ``"parallel"``, ``"fallback"``, ``"retry"``, ``"result"``, ``"lift"``, ...).
    ``label`` is what a leaf is called, or how a wrapping combinator is written around its child.
    """

    kind: str
    label: str
    children: tuple[Node, ...] = ()


_INFIX = {"sequence": " >> ", "fan_out": " & ", "parallel": " * ", "result_sequence": " >> "}


_FLAT = frozenset({"sequence", "result_sequence"})
"""Kinds that never contain themselves (they flatten). A fan-out extends itself only on the
left, so a fan-out inside a fan-out is a group the parentheses must show."""


def render(node: Node) -> str:
    """Write ``node`` as the Python expression that builds it, e.g. ``a >> (b & c) >> d``."""
    if node.kind in _INFIX:
        return _INFIX[node.kind].join(
            operand(child, node.kind, first=index == 0) for index, child in enumerate(node.children)
        )
    if not node.children:
        return node.label
    # A wrapping combinator: its label is a format with one slot per child. A slot followed by
    # a dot is a receiver (`(f >> g).with_retry(2)`), which an infix child must parenthesise;
    # any other slot is an argument of a call, which needs no parentheses.
    receivers = [part.startswith(".") for part in node.label.split("{}")[1:]]
    return node.label.format(
        *(
            operand(child, "call", first=False) if receiver else render(child)
            for child, receiver in zip(node.children, receivers, strict=True)
        )
    )


def operand(child: Node, parent_kind: str, *, first: bool) -> str:
    """A child in its parent's expression, parenthesised unless Python's grouping (operators
    associate to the left) and the flattening of ``>>`` and ``&`` make it read the same."""
    text = render(child)
    if child.kind not in _INFIX:
        return text
    if child.kind == parent_kind and (child.kind in _FLAT or (first and child.kind == "parallel")):
        return text
    return f"({text})"
