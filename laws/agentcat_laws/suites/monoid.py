"""Monoid laws (M1-M3) of an accumulation: identity, associativity, and ``concat`` as the fold.

Commutativity is not assumed (text is not commutative). M3 checks that ``concat``, the fast
fold agentcat uses for whole streams, agrees with ``combine``: on the empty stream, a single
delta, and a stream split anywhere.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from agentcat import Monoid
from agentcat_laws.law import Example, Law, LawSuite, Verdict
from agentcat_laws.observe import Outcome
from agentcat_laws.scope import Scope

__all__ = ["MONOID"]

SUITE = "monoid"


def _monoid(scope: Scope) -> Monoid[Any]:
    monoid: Monoid[Any] = scope.subject
    return monoid


def _values(scope: Scope, *names: str) -> st.SearchStrategy[Example]:
    return st.fixed_dictionaries(dict.fromkeys(names, scope.inputs))


def _lists(scope: Scope) -> st.SearchStrategy[Example]:
    values = st.lists(scope.inputs, max_size=4)
    return st.fixed_dictionaries({"s": values, "t": values})


def _compare(left: Any, right: Any, *details: tuple[str, str]) -> Verdict:
    try:
        holds = bool(left == right)
    except Exception:
        holds = False
    return Verdict(holds, Outcome(left), Outcome(right), details)


async def _identity(scope: Scope, e: Example) -> Verdict:
    m, x = _monoid(scope), e["x"]
    left, right = m.combine(m.empty(), x), m.combine(x, m.empty())
    if left != x:
        return _compare(left, x, ("side", "e ⊕ x"))
    return _compare(right, x, ("side", "x ⊕ e"))


async def _associativity(scope: Scope, e: Example) -> Verdict:
    m, x, y, z = _monoid(scope), e["x"], e["y"], e["z"]
    return _compare(m.combine(m.combine(x, y), z), m.combine(x, m.combine(y, z)))


async def _concat(scope: Scope, e: Example) -> Verdict:
    m, s, t = _monoid(scope), e["s"], e["t"]
    if m.concat([]) != m.empty():
        return _compare(m.concat([]), m.empty(), ("case", "q([]) = e"))
    for x in s + t:
        if m.concat([x]) != x:
            return _compare(m.concat([x]), x, ("case", "q([x]) = x"))
    return _compare(m.concat(s + t), m.combine(m.concat(s), m.concat(t)), ("case", "q(s ++ t)"))


MONOID = LawSuite(
    name=SUITE,
    title="monoid laws of an accumulation",
    kinds=frozenset({"monoid"}),
    laws=(
        Law(
            "M1",
            "identity",
            "e ⊕ x = x = x ⊕ e",
            SUITE,
            lambda scope: _values(scope, "x"),
            _identity,
            sides=("e ⊕ x (or x ⊕ e)", "x"),
        ),
        Law(
            "M2",
            "associativity",
            "(x ⊕ y) ⊕ z = x ⊕ (y ⊕ z)",
            SUITE,
            lambda scope: _values(scope, "x", "y", "z"),
            _associativity,
            sides=("(x ⊕ y) ⊕ z", "x ⊕ (y ⊕ z)"),
        ),
        Law(
            "M3",
            "fold",
            "q(s ++ t) = q(s) ⊕ q(t), q([]) = e, q([x]) = x, where q is concat",
            SUITE,
            _lists,
            _concat,
            sides=("left side of the case", "right side of the case"),
        ),
    ),
)
