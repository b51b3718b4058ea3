"""Generated agents for the laws: programs, marks and made-up errors.

A law such as ``(f >> g) >> h ≡ f >> (g >> h)`` proves little when checked with agents that
commute (``x + 1`` and ``x + 2``) or are idempotent: a ``>>`` that ran its stages in the wrong
order, or one of them twice, would pass. So the generated agents here are

- **programs**: short lists of operations on text (append a letter, reverse, duplicate, drop
  the first character, swap case), drawn as data and interpreted. They are printable (the
  ``repr`` is the program: ``program(append('a'), reverse)``), shrinkable (Hypothesis shrinks
  the list and the letters), and order-sensitive (``append('a')`` then ``reverse`` differs from
  ``reverse`` then ``append('a')``; ``duplicate`` twice differs from once);
- **marks**: ``mark('g')`` wraps any value as ``('g', value)``, so it follows an agent of any
  output type and still records the order in which stages ran;
- **law errors**: fresh exceptions told apart by a tag, for the error laws;
- **steps**: per-delta stages as data (``map(reverse)``, ``filter(odd_length)``,
  ``each(append('a'))``, ``forward``), for the laws that check a chain of them delta by delta
  against the plain functions.

Every strategy draws eagerly (no ``st.functions``), so they are safe to use in ``async`` tests
and in :func:`agentcat_laws.check_laws`.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

import anyio.lowlevel
from attrs import frozen
from hypothesis import strategies as st

from agentcat import Agent, Fallible, fail

__all__ = [
    "DROPPED",
    "Keep",
    "LawError",
    "Mark",
    "Op",
    "OpKind",
    "Program",
    "Step",
    "errors",
    "fallible_programs",
    "keeps",
    "marks",
    "ops",
    "programs",
    "steps",
]

OpKind = Literal["append", "prepend", "reverse", "duplicate", "drop_first", "swap_case"]
"""The operations a program is made of."""

_WITH_LETTER: frozenset[str] = frozenset({"append", "prepend"})
_LETTERS = "abXé "


@frozen(repr=False)
class Op:
    """One operation on text; ``letter`` is used by ``append`` and ``prepend`` only."""

    kind: OpKind
    letter: str = ""

    def __call__(self, text: str) -> str:
        match self.kind:
            case "append":
                return text + self.letter
            case "prepend":
                return self.letter + text
            case "reverse":
                return text[::-1]
            case "duplicate":
                return text + text
            case "drop_first":
                return text[1:]
            case "swap_case":
                return text.swapcase()

    def __repr__(self) -> str:
        return f"{self.kind}({self.letter!r})" if self.kind in _WITH_LETTER else self.kind


@frozen(repr=False)
class Program(Agent[str, str]):
    """An agent from text to text that applies its operations in order.

    It passes through the event loop before answering, so composites of programs really
    interleave when they run concurrently. :meth:`run` is the plain function it computes.
    """

    ops: tuple[Op, ...] = ()

    def run(self, text: str) -> str:
        """The function the agent computes, without an event loop: a model for the laws."""
        for op in self.ops:
            text = op(text)
        return text

    async def invoke(self, value: str, /) -> str:
        await anyio.lowlevel.checkpoint()
        return self.run(value)

    @property
    def name(self) -> str:
        return "program(" + ", ".join(map(repr, self.ops)) + ")"


@frozen(repr=False)
class Mark(Agent[Any, Any]):
    """``mark('g')``: any value ``v`` becomes ``('g', v)``.

    It accepts and produces any type (so it composes after any agent without upsetting the
    run-time type check of ``>>``) and records which stage ran on what, in which order.
    """

    label: str

    async def invoke(self, value: Any, /) -> Any:
        await anyio.lowlevel.checkpoint()
        return (self.label, value)

    @property
    def name(self) -> str:
        return f"mark({self.label!r})"


class LawError(Exception):
    """A failure made up by a law. Compared by identity, like any exception: two
    ``LawError(1)`` are different failures."""

    def __init__(self, tag: int) -> None:
        super().__init__(tag)
        self.tag = tag

    def __repr__(self) -> str:
        return f"LawError({self.tag})"


def ops() -> st.SearchStrategy[Op]:
    """Single operations; those without a letter come first, so they shrink to ``reverse``."""
    plain = [kind for kind in get_args(OpKind) if kind not in _WITH_LETTER]
    return st.one_of(
        st.sampled_from([Op(kind) for kind in plain]),
        st.builds(Op, st.sampled_from(sorted(_WITH_LETTER)), st.sampled_from(_LETTERS)),
    )


def programs(max_ops: int = 3) -> st.SearchStrategy[Program]:
    """Programs of up to ``max_ops`` operations (none at all computes the identity, without
    being :data:`agentcat.Id`)."""
    return st.lists(ops(), max_size=max_ops).map(lambda found: Program(tuple(found)))


def marks(labels: str = "ghk") -> st.SearchStrategy[Mark]:
    """Marks labelled with one of ``labels``."""
    return st.sampled_from([Mark(label) for label in labels])


def errors() -> st.SearchStrategy[LawError]:
    """Fresh exception objects, told apart by a small tag."""
    return st.builds(LawError, st.integers(0, 9))


def fallible_programs(max_ops: int = 3) -> st.SearchStrategy[Fallible[Any, Any, Exception]]:
    """Fallible agents that succeed (``program.as_result()``) or always fail
    (``fail(LawError(n))``)."""
    return st.one_of(
        programs(max_ops).map(lambda program: program.as_result()),
        errors().map(fail),
    )


KeepKind = Literal["odd_length", "has_space", "has_a"]
"""The predicates a filter step is drawn from."""


@frozen(repr=False)
class Keep:
    """A predicate on a text delta, for ``filter_deltas``: drawn as data, printed by name."""

    kind: KeepKind

    def __call__(self, delta: str) -> bool:
        match self.kind:
            case "odd_length":
                return len(delta) % 2 == 1
            case "has_space":
                return " " in delta
            case "has_a":
                return "a" in delta

    def __repr__(self) -> str:
        return self.kind


DROPPED: Any = object()
"""What :meth:`Step.apply` gives for a delta a filter does not pass on."""

StepKind = Literal["map", "filter", "each", "forward"]


@frozen(repr=False)
class Step:
    """One per-delta stage, as data: ``map(op)`` (``map_deltas``), ``filter(keep)``
    (``filter_deltas``), ``each(op)`` (a hand-written transducer that maps each delta, which a
    pipeline cannot fuse), or ``forward``. :meth:`apply` is what it does to one delta."""

    kind: StepKind
    op: Op = Op("reverse")
    keep: Keep = Keep("odd_length")

    def apply(self, delta: Any) -> Any:
        """The delta after this step, or :data:`DROPPED`."""
        if self.kind in ("map", "each"):
            return self.op(delta)
        if self.kind == "filter":
            return delta if self.keep(delta) else DROPPED
        return delta

    def __repr__(self) -> str:
        if self.kind == "forward":
            return "forward"
        return f"{self.kind}({self.keep if self.kind == 'filter' else self.op!r})"


def keeps() -> st.SearchStrategy[Keep]:
    """Predicates of text deltas."""
    return st.sampled_from([Keep(kind) for kind in get_args(KeepKind)])


def steps() -> st.SearchStrategy[Step]:
    """Per-delta steps of text; they shrink to ``map(reverse)``."""
    return st.one_of(
        ops().map(lambda op: Step("map", op=op)),
        keeps().map(lambda keep: Step("filter", keep=keep)),
        ops().map(lambda op: Step("each", op=op)),
        st.just(Step("forward")),
    )
