"""The structural description of an agent: a tree that `repr` prints and that tools can draw,
and `walk`, which evaluates definitions over such trees without recursion."""

from __future__ import annotations

from collections.abc import Generator
from types import GeneratorType
from typing import Any, TypeVar, overload

from attrs import frozen

__all__ = ["Node", "Walk", "operand", "render", "walk"]

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

    ``kind`` is ``"agent"`` for a leaf and the combinator's name otherwise: ``"sequence"``,
    ``"result_sequence"`` (fallible agents in sequence), ``"fan_out"``, ``"parallel"``,
    ``"fallback"``, ``"retry"``, ``"result"`` (``as_result``), ``"recover"`` or ``"lift"``.
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
