"""Laws as values: a :class:`Law` says what it states and how to check it; a :class:`LawSuite`
groups the laws of one family; checking gives a :class:`LawResult` per law, with the shrunk
:class:`Counterexample` when the law is broken.

A law is checked in two steps, so that Hypothesis can drive it from ordinary (synchronous)
code while the subject runs on an event loop: ``draw`` gives the strategy of one example (a
dict of named, printable values: the input, a chunking, the generated agents), and ``check``
is the coroutine that runs both sides on that example and returns a :class:`Verdict`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from attrs import field, frozen
from hypothesis import strategies as st

if TYPE_CHECKING:
    from agentcat_laws.scope import Kind, Scope

__all__ = [
    "Counterexample",
    "Example",
    "Law",
    "LawReport",
    "LawResult",
    "LawSuite",
    "Verdict",
]

Example = dict[str, Any]
"""One drawn example of a law: named values, in the order they are shown."""


@frozen
class Verdict:
    """What one example of a law gave: whether the law held, the two sides' values, and facts
    worth showing beside them (how the output was chunked, how often a stage ran)."""

    holds: bool
    left: object
    right: object
    details: tuple[tuple[str, str], ...] = ()


def _always(scope: Scope) -> bool:
    return True


@frozen(repr=False)
class Law:
    """One law: its name (``"C3"``), title, statement, family, the meaning of its two sides,
    how to draw an example (``draw(scope)``), and how to check one (``await check(scope,
    example)``). ``applies(scope)`` tells whether the law means something for a subject."""

    name: str
    title: str
    statement: str
    suite: str
    draw: Callable[[Scope], st.SearchStrategy[Example]] = field(eq=False)
    check: Callable[[Scope, Example], Awaitable[Verdict]] = field(eq=False)
    sides: tuple[str, str] = ("left", "right")
    applies: Callable[[Scope], bool] = field(default=_always, eq=False)

    def __repr__(self) -> str:
        return f"<Law {self.name} {self.title}: {self.statement}>"


@frozen(repr=False)
class LawSuite:
    """A family of laws, and the kinds of subject it applies to."""

    name: str
    title: str
    kinds: frozenset[Kind]
    laws: tuple[Law, ...]

    def for_scope(self, scope: Scope) -> tuple[Law, ...]:
        """The laws of the suite that apply to ``scope``'s subject."""
        if scope.kind not in self.kinds:
            return ()
        return tuple(law for law in self.laws if law.applies(scope))

    def __repr__(self) -> str:
        return f"<LawSuite {self.name}: {', '.join(law.name for law in self.laws)}>"


@frozen
class Counterexample:
    """The smallest example Hypothesis found that breaks a law.

    ``example`` holds the drawn values by name (input, chunking, generated agents), ``left``
    and ``right`` what the two sides gave, ``details`` further facts; ``flaky`` is set when the
    example did not break the law again when rerun (a nondeterministic subject).
    """

    example: Mapping[str, Any]
    left: object
    right: object
    details: tuple[tuple[str, str], ...] = ()
    flaky: bool = False


@frozen
class LawResult:
    """The result of one law: ``passed``, else a ``counterexample``, or an ``error`` when the
    law could not be checked at all (an input strategy that cannot be satisfied, say)."""

    law: Law
    passed: bool
    counterexample: Counterexample | None = None
    error: str | None = None
    examples: int = 0

    def __str__(self) -> str:
        from agentcat_laws.report import render_result

        return render_result(self)

    def _repr_html_(self) -> str:
        """How a notebook shows the result: a table of one row."""
        from agentcat_laws.report import render_result_html

        return render_result_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How IPython shows the result as text: rendered, as ``str`` does."""
        printer.text(str(self))


@frozen
class LawReport:
    """The results of every law checked on one subject. ``str(report)`` renders it."""

    subject: str
    kind: str
    results: tuple[LawResult, ...]
    inputs: str = ""
    """How the inputs were drawn (shown in the report)."""

    @property
    def passed(self) -> bool:
        """Whether every law held."""
        return all(result.passed for result in self.results)

    @property
    def broken(self) -> tuple[LawResult, ...]:
        """The results of the laws that did not hold (or could not be checked)."""
        return tuple(result for result in self.results if not result.passed)

    def __getitem__(self, name: str) -> LawResult:
        """The result of the law called ``name``."""
        for result in self.results:
            if result.law.name == name:
                return result
        raise KeyError(name)

    def __str__(self) -> str:
        from agentcat_laws.report import render

        return render(self)

    def _repr_html_(self) -> str:
        """How a notebook shows the report: a table of the laws, the counterexample of each
        broken one beside it."""
        from agentcat_laws.report import render_html

        return render_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How IPython shows the report as text: rendered, as ``str`` does."""
        printer.text(str(self))
