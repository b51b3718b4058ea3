"""``repr`` writes the expression that builds an agent; ``describe()`` gives its tree."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from agentcat import Agent, Id, Node, agent, fail, forward, lift, map_deltas, streaming

A = Agent[Any, Any]


def _leaf(name: str) -> A:
    def function(value: Any) -> Any:
        return value

    function.__name__ = function.__qualname__ = name
    return agent(function)


parse, summarize, classify, render, f, g, h, k = map(
    _leaf, ["parse", "summarize", "classify", "render", "f", "g", "h", "k"]
)


@streaming
async def m(prompt: Any) -> AsyncIterator[Any]:
    """A streaming leaf that takes anything (the leaves here compose in any order)."""
    yield prompt


def upper(delta: Any) -> Any:
    return delta


NAMESPACE: dict[str, object] = {
    "parse": parse,
    "summarize": summarize,
    "classify": classify,
    "render": render,
    "f": f,
    "g": g,
    "h": h,
    "k": k,
    "Id": Id,
    "m": m,
    "lift": lift,
    "forward": forward,
    "map_deltas": map_deltas,
    "upper": upper,
    "ValueError": ValueError,
    "KeyError": KeyError,
}


REPRS: list[tuple[Callable[[], A], str]] = [
    (
        lambda: parse >> (summarize & classify) >> render,
        "parse >> (summarize & classify) >> render",
    ),
    (lambda: f >> g >> h, "f >> g >> h"),
    (lambda: f >> (g >> h), "f >> g >> h"),
    (lambda: f & g & h, "f & g & h"),
    (lambda: f & (g & h), "f & (g & h)"),
    (lambda: (f & g) >> (h * k), "(f & g) >> (h * k)"),
    (lambda: (f * g) * h, "f * g * h"),
    (lambda: f * (g * h), "f * (g * h)"),
    (lambda: (f >> g) * h, "(f >> g) * h"),
    (lambda: f.with_retry(3), "f.with_retry(3)"),
    (lambda: (f >> g).with_retry(2), "(f >> g).with_retry(2)"),
    (lambda: f.with_retry(2).with_retry(3), "f.with_retry(2).with_retry(3)"),
    (lambda: f.with_fallback(g), "f.with_fallback(g)"),
    (lambda: f.with_fallback(g >> h, k), "f.with_fallback(g >> h, k)"),
    (lambda: f.as_result(), "f.as_result()"),
    (lambda: f.as_result(ValueError, KeyError), "f.as_result(ValueError, KeyError)"),
    (lambda: f.as_result() >> g.as_result(), "f.as_result() >> g.as_result()"),
    (lambda: (f >> g).as_result().recover(h), "(f >> g).as_result().recover(h)"),
    (lambda: fail(ValueError("no")), "fail(ValueError('no'))"),
    (lambda: Id, "Id"),
    (lambda: Id >> f >> Id, "f"),
    (lambda: Id * Id, "Id * Id"),
    # streaming: a plain operand next to a streaming one is lifted, and written so
    (lambda: lift(f), "lift(f)"),
    (lambda: lift(f >> g), "lift(f >> g)"),
    (lambda: m >> f, "m >> lift(f)"),
    (lambda: f >> m >> g, "lift(f) >> m >> lift(g)"),
    (lambda: m & f & g, "m & lift(f) & lift(g)"),
    (lambda: (f & g) & m, "lift(f) & lift(g) & m"),
    (lambda: f & (g & m), "lift(f) & (lift(g) & m)"),
    (lambda: f * m, "lift(f) * m"),
    (lambda: (m & f) >> g, "(m & lift(f)) >> lift(g)"),
    (lambda: m >> forward >> map_deltas(upper), "m >> forward >> map_deltas(upper)"),
    (lambda: m.with_retry(2), "m.with_retry(2)"),
    (lambda: (m >> f).with_retry(2), "(m >> lift(f)).with_retry(2)"),
    (lambda: f.with_fallback(m), "lift(f).with_fallback(m)"),
    (lambda: m.with_fallback(f >> g), "m.with_fallback(lift(f >> g))"),
]


@pytest.mark.parametrize(("build", "expected"), [pytest.param(*case, id=case[1]) for case in REPRS])
def test_repr(build: Callable[[], A], expected: str) -> None:
    assert repr(build()) == expected


def test_describe_gives_the_tree() -> None:
    leaf = Node("agent", "f")
    assert f.describe() == leaf
    assert (f >> g).describe() == Node("sequence", "", (leaf, Node("agent", "g")))
    assert (f & g & h).describe().kind == "fan_out"
    assert len((f & g & h).describe().children) == 3
    assert (f * g).describe() == Node("parallel", "", (leaf, Node("agent", "g")))
    assert f.with_retry(3).describe() == Node("retry", "{}.with_retry(3)", (leaf,))
    assert f.with_fallback(g).describe() == Node(
        "fallback", "{}.with_fallback({})", (leaf, Node("agent", "g"))
    )
    assert f.as_result().describe() == Node("result", "{}.as_result()", (leaf,))
    assert (f.as_result() >> g.as_result()).describe().kind == "result_sequence"
    assert f.as_result().recover(g).describe().kind == "recover"
    assert Id.describe() == Node("agent", "Id")


def test_describe_nests() -> None:
    tree = (parse >> (summarize & classify) >> render).describe()
    assert [child.kind for child in tree.children] == ["agent", "fan_out", "agent"]
    assert [child.label for child in tree.children[1].children] == ["summarize", "classify"]


# --- repr is the expression that builds the agent: evaluating it gives an equal agent --------


def _common_steps(inner: st.SearchStrategy[A]) -> list[st.SearchStrategy[A]]:
    return [
        st.builds(lambda a, b: a >> b, inner, inner),
        st.builds(lambda a, b: a & b, inner, inner),
        st.builds(lambda a, b: a * b, inner, inner),
        st.builds(lambda a, n: a.with_retry(n), inner, st.integers(1, 3)),
        st.builds(lambda a, b: a.with_fallback(b), inner, inner),
    ]


def _plain_step(inner: st.SearchStrategy[A]) -> st.SearchStrategy[A]:
    fallible = st.builds(lambda agent: agent.as_result(), inner)
    return st.one_of(
        *_common_steps(inner),
        st.builds(lambda a, b: (a >> b).recover(g), fallible, fallible),
        st.builds(lambda a, b: a.recover(b), fallible, inner),
    )


expressions: st.SearchStrategy[A] = st.recursive(
    st.sampled_from([f, g, h, Id]), _plain_step, max_leaves=6
)


def _streaming_step(inner: st.SearchStrategy[A]) -> st.SearchStrategy[A]:
    return st.one_of(*_common_steps(inner), st.builds(lift, inner))


mixed_expressions: st.SearchStrategy[A] = st.recursive(
    st.sampled_from([f, g, m, forward, map_deltas(upper), Id]), _streaming_step, max_leaves=6
)


@given(expressions)
@example(f & (g & h))
@example(f * (g * h))
@example((f >> g).with_retry(2).with_fallback(h & k))
def test_repr_evaluates_to_an_equal_agent(expression: A) -> None:
    assert eval(repr(expression), NAMESPACE) == expression


@given(mixed_expressions)
@example(m & (f & g))
@example((f * m) * g)
@example(lift(f >> g) >> m)
def test_repr_of_a_streaming_composition_evaluates_to_an_equal_agent(expression: A) -> None:
    assert eval(repr(expression), NAMESPACE) == expression
