"""Hypothesis strategies for the laws of agentcat: generated agents that are order-sensitive.

A law such as ``(f >> g) >> h ≡ f >> (g >> h)`` proves little when it is checked with agents that
commute (``x + 1`` and ``x + 2``) or are idempotent: a ``>>`` that ran its stages in the wrong
order, or twice, would pass. So the agents here are *programs*: short lists of operations on
strings (append a letter, reverse, duplicate, drop the first character, swap case, ...), drawn as
data and interpreted. They are

- printable: the ``repr`` of an agent is its program, e.g. ``program(append('a'), reverse)``,
  so a falsifying example reads as the agents it used;
- shrinkable: Hypothesis shrinks the list of operations and the letters, towards short programs;
- order-sensitive: ``append('a')`` then ``reverse`` differs from ``reverse`` then ``append('a')``,
  and ``duplicate`` or ``append`` applied twice differs from applying them once;
- checkable against a model: :meth:`ProgramAgent.run` is the plain function the agent computes,
  so a composite can be compared with the composition of the functions, not only with itself.

Every strategy draws eagerly (no ``st.functions``), so they are safe in ``async`` tests.
"""

from __future__ import annotations

from typing import Literal, get_args

import anyio.lowlevel
from attrs import frozen
from hypothesis import strategies as st
from returns.result import Failure, Result, Success

from agentcat import Agent, Fallible, fail

__all__ = [
    "LawError",
    "Modelled",
    "ModelledFallible",
    "Op",
    "OpKind",
    "ProgramAgent",
    "composite_agents",
    "errors",
    "fallible_agents",
    "kleisli_model",
    "ops",
    "programs",
    "text_pairs",
    "texts",
]

OpKind = Literal["append", "prepend", "reverse", "duplicate", "drop_first", "swap_case"]
"""The operations a program is made of."""

_WITH_LETTER: frozenset[OpKind] = frozenset({"append", "prepend"})
_LETTERS = "abcXYZé "


@frozen(repr=False)
class Op:
    """One operation on a string. ``letter`` is used by ``append`` and ``prepend`` only."""

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
class ProgramAgent(Agent[str, str]):
    """An agent from ``str`` to ``str`` that applies its operations in order.

    It passes through the event loop once before answering, so composites of such agents really
    interleave when they run concurrently. Two agents with the same program are equal.
    """

    ops: tuple[Op, ...]

    def run(self, text: str) -> str:
        """The function the agent computes, without an event loop: the model for the laws."""
        for op in self.ops:
            text = op(text)
        return text

    async def invoke(self, value: str, /) -> str:
        await anyio.lowlevel.checkpoint()
        return self.run(value)

    @property
    def name(self) -> str:
        return "program(" + ", ".join(map(repr, self.ops)) + ")"


class LawError(Exception):
    """A failure made up by a test. Compare occurrences with ``is``: each one is a new object."""

    def __init__(self, tag: int) -> None:
        super().__init__(tag)
        self.tag = tag

    def __repr__(self) -> str:
        return f"LawError({self.tag})"

    def __str__(self) -> str:
        # Two errors with the same tag are still different objects: say which one this is.
        return f"LawError {self.tag} (object {id(self):#x})"


def texts(max_size: int = 8) -> st.SearchStrategy[str]:
    """Short strings, non-ASCII and whitespace included; they shrink towards ``""``."""
    return st.text(st.sampled_from(_LETTERS + "ßİ"), max_size=max_size) | st.text(max_size=4)


def text_pairs() -> st.SearchStrategy[tuple[str, str]]:
    """Pairs of :func:`texts`, the inputs of ``f * g``."""
    return st.tuples(texts(), texts())


def ops() -> st.SearchStrategy[Op]:
    """Single operations; the ones without a letter come first, so they shrink to ``reverse``."""
    plain = [kind for kind in get_args(OpKind) if kind not in _WITH_LETTER]
    with_letter = sorted(_WITH_LETTER)
    return st.one_of(
        st.sampled_from([Op(kind) for kind in plain]),
        st.builds(Op, st.sampled_from(with_letter), st.sampled_from(_LETTERS)),
    )


def programs(max_ops: int = 3) -> st.SearchStrategy[ProgramAgent]:
    """Agents made of up to ``max_ops`` operations (possibly none, which computes the identity
    without being :data:`agentcat.Id`)."""
    return st.lists(ops(), max_size=max_ops).map(lambda found: ProgramAgent(tuple(found)))


def errors() -> st.SearchStrategy[LawError]:
    """Fresh exception objects, told apart by a small tag."""
    return st.builds(LawError, st.integers(0, 9))


ModelledFallible = tuple[Fallible[str, str, Exception], ProgramAgent | LawError]
"""A generated fallible agent and its model: the program it runs, or the error it fails with."""


def fallible_agents(max_ops: int = 3) -> st.SearchStrategy[ModelledFallible]:
    """Fallible agents that succeed (``program.as_result()``) or always fail (``fail(error)``),
    each paired with its model."""
    return st.one_of(programs(max_ops).map(_succeeding), errors().map(_failing))


def _succeeding(program: ProgramAgent) -> ModelledFallible:
    return program.as_result(), program


def _failing(error: LawError) -> ModelledFallible:
    return fail(error), error


def kleisli_model(models: list[ProgramAgent | LawError], text: str) -> Result[str, Exception]:
    """What fallible agents in sequence return, from their models: the first failure, or else
    the success of the programs run one after the other."""
    for model in models:
        if isinstance(model, LawError):
            return Failure(model)
        text = model.run(text)
    return Success(text)


Modelled = tuple[Agent[str, str], ProgramAgent]
"""A generated agent and the program that is its model."""


def composite_agents(max_leaves: int = 4) -> st.SearchStrategy[Modelled]:
    """Agents from ``str`` to ``str`` built with ``>>``, retry, fallback and recover over
    programs, each paired with one program that computes the same function (its model)."""

    def extend(inner: st.SearchStrategy[Modelled]) -> st.SearchStrategy[Modelled]:
        return st.one_of(
            st.builds(_sequence, inner, inner),
            st.builds(_retried, inner),
            st.builds(_with_fallback, inner, inner),
            st.builds(_recovered, inner, inner),
        )

    leaves = programs().map(lambda program: (program, program))
    return st.recursive(leaves, extend, max_leaves=max_leaves)


def _sequence(first: Modelled, second: Modelled) -> Modelled:
    return first[0] >> second[0], ProgramAgent(first[1].ops + second[1].ops)


def _retried(inner: Modelled) -> Modelled:
    return inner[0].with_retry(2), inner[1]


def _with_fallback(inner: Modelled, other: Modelled) -> Modelled:
    # `inner` never fails, so `other` is never invoked.
    return inner[0].with_fallback(other[0]), inner[1]


def _recovered(inner: Modelled, handler: Modelled) -> Modelled:
    # `inner` never fails, so `handler` is never invoked.
    return inner[0].as_result().recover(handler[0]), inner[1]
