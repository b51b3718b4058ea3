"""Category laws of ``>>`` (C0-C4).

C1-C3 alone do not pin down what ``>>`` means: a ``>>`` that ran its stages right to left is
associative and has ``Id`` for unit too. C0, the definition, closes that gap: ``f >> g`` runs
``f``, then ``g`` on its output, and it is checked with order-sensitive agents. C0 has two
stages, and C3 compares bracketings with each other, so a ``>>`` that reversed only chains of
three or more would pass both; C4 compares chains of three and four, in every bracketing,
with the plain agents run one after the other (streamed stages with the plain programs).
"""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import strategies as st

from agentcat_laws.law import Example, Law, LawSuite, Verdict
from agentcat_laws.observe import outcome
from agentcat_laws.scope import Scope
from agentcat_laws.suites._common import (
    AnyAgent,
    built,
    compose,
    equal,
    examples,
    model,
    plain_examples,
    reference,
)

__all__ = ["CATEGORY"]

SUITE = "category"

Bracketing = Callable[[Scope, AnyAgent, AnyAgent, AnyAgent, AnyAgent], AnyAgent]


def _c(scope: Scope, left: AnyAgent, right: AnyAgent) -> AnyAgent:
    return compose(scope, left, right)


BRACKETINGS: dict[str, Bracketing] = {
    "((f >> g) >> h) >> k": lambda s, f, g, h, k: _c(s, _c(s, _c(s, f, g), h), k),
    "(f >> (g >> h)) >> k": lambda s, f, g, h, k: _c(s, _c(s, f, _c(s, g, h)), k),
    "(f >> g) >> (h >> k)": lambda s, f, g, h, k: _c(s, _c(s, f, g), _c(s, h, k)),
    "f >> ((g >> h) >> k)": lambda s, f, g, h, k: _c(s, f, _c(s, _c(s, g, h), k)),
    "f >> (g >> (h >> k))": lambda s, f, g, h, k: _c(s, f, _c(s, g, _c(s, h, k))),
}
_LEFT_NESTED = "((f >> g) >> h) >> k"


Tree = int | tuple["Tree", "Tree"]
"""A bracketing of a chain: a stage's index, or a pair of bracketings composed with ``>>``."""

CHAINS: dict[str, Tree] = {
    "(f >> g) >> h": ((0, 1), 2),
    "f >> (g >> h)": (0, (1, 2)),
    "((f >> g) >> h) >> k": (((0, 1), 2), 3),
    "(f >> (g >> h)) >> k": ((0, (1, 2)), 3),
    "(f >> g) >> (h >> k)": ((0, 1), (2, 3)),
    "f >> ((g >> h) >> k)": (0, ((1, 2), 3)),
    "f >> (g >> (h >> k))": (0, (1, (2, 3))),
}


def _bracketed(scope: Scope, tree: Tree, stages: list[AnyAgent]) -> AnyAgent:
    if isinstance(tree, int):
        return stages[tree]
    return compose(scope, _bracketed(scope, tree[0], stages), _bracketed(scope, tree[1], stages))


def _chains(scope: Scope) -> st.SearchStrategy[Example]:
    def of(names: tuple[str, ...]) -> st.SearchStrategy[Example]:
        shapes = [shape for shape in CHAINS if shape.count(">>") == len(names) - 1]
        return plain_examples(scope, names, extra={"bracketing": st.sampled_from(shapes)})

    return of(("f", "g", "h")) | of(("f", "g", "h", "k"))


async def _chain(scope: Scope, e: Example) -> Verdict:
    drawn = [e[name] for name in ("f", "g", "h", "k") if name in e]
    stages = [built(scope, value) for value in drawn]
    tree = CHAINS[e["bracketing"]]
    left = await outcome(lambda: _bracketed(scope, tree, stages), e["x"])
    return equal(left, await reference(scope, drawn, e["x"]))


async def _sequence(scope: Scope, e: Example) -> Verdict:
    left = await outcome(lambda: compose(scope, e["f"], e["g"]), e["x"])
    return equal(left, await model(scope, [e["f"], e["g"]], e["x"]))


async def _left_identity(scope: Scope, e: Example) -> Verdict:
    composed = compose(scope, scope.combinators.identity, e["f"])
    return equal(await outcome(composed, e["x"]), await outcome(e["f"], e["x"]))


async def _right_identity(scope: Scope, e: Example) -> Verdict:
    composed = compose(scope, e["f"], scope.combinators.identity)
    return equal(await outcome(composed, e["x"]), await outcome(e["f"], e["x"]))


async def _associativity(scope: Scope, e: Example) -> Verdict:
    stages = (e["f"], e["g"], e["h"], e["k"])
    left = await outcome(lambda: BRACKETINGS[e["bracketing"]](scope, *stages), e["x"])
    right = await outcome(lambda: BRACKETINGS[_LEFT_NESTED](scope, *stages), e["x"])
    return equal(left, right)


CATEGORY = LawSuite(
    name=SUITE,
    title="category laws of >>",
    kinds=frozenset({"agent", "fallible", "streaming", "transducer", "combinators"}),
    laws=(
        Law(
            "C0",
            "sequence",
            "(f >> g)(x) ≡ g(f(x)): f runs first, g on its output",
            SUITE,
            lambda scope: examples(scope, ("f", "g")),
            _sequence,
            sides=("(f >> g)(x)", "g(f(x))"),
        ),
        Law(
            "C1",
            "left identity",
            "Id >> f ≡ f",
            SUITE,
            lambda scope: examples(scope, ("f",)),
            _left_identity,
            sides=("(Id >> f)(x)", "f(x)"),
        ),
        Law(
            "C2",
            "right identity",
            "f >> Id ≡ f",
            SUITE,
            lambda scope: examples(scope, ("f",)),
            _right_identity,
            sides=("(f >> Id)(x)", "f(x)"),
        ),
        Law(
            "C3",
            "associativity",
            "(f >> g) >> h ≡ f >> (g >> h), for every bracketing of four agents",
            SUITE,
            lambda scope: examples(
                scope,
                ("f", "g", "h", "k"),
                extra={
                    "bracketing": st.sampled_from([b for b in BRACKETINGS if b != _LEFT_NESTED])
                },
            ),
            _associativity,
            sides=("the bracketing drawn", _LEFT_NESTED),
        ),
        Law(
            "C4",
            "chain",
            "(f >> g >> h)(x) ≡ h(g(f(x))): three or four agents, in every bracketing, against "
            "the plain agents run one after the other",
            SUITE,
            _chains,
            _chain,
            sides=("the chain, as bracketed", "the plain agents in turn"),
        ),
    ),
)
