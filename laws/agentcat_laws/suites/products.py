"""Laws of products (P1-P7): fan-out ``f & g`` and parallel ``f * g``, and their streaming
forms (SP1, SP2).

Values alone miss the bugs products have: a fan-out that runs a branch twice gives the right
tuple. So P1 also counts the calls of each branch, and P5 states its call-count difference
instead of hiding it: ``h >> (f & g)`` runs ``h`` once, ``(h >> f) & (h >> g)`` twice; the
law holds in value, and the counts must be exactly 1 and 2. P1-P5 relate products to each
other, with two branches; P6 and P7 are the definitions, against the plain agents: a fan-out
of two or three branches gives the tuple of their outputs (``f & g & h`` is one flat fan-out,
``f & (g & h)`` keeps its group), a parallel product the pair.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from agentcat import ChunkStream, StreamingAgent
from agentcat.monoids import ProductMonoid
from agentcat_laws.instruments import Project, counted
from agentcat_laws.law import Example, Law, LawSuite, Verdict
from agentcat_laws.observe import Outcome, collect, outcome, show
from agentcat_laws.scope import Scope
from agentcat_laws.suites._common import AnyAgent, built, equal, examples, plain, plain_examples

__all__ = ["PRODUCTS"]

SUITE = "products"


def _examples(
    scope: Scope, names: tuple[str, ...], *, pair: bool = False, **more: Any
) -> st.SearchStrategy[Example]:
    pairs = st.tuples(scope.inputs, scope.inputs) if pair else None
    return examples(scope, names, extra=more, inputs=pairs)


def _fan(scope: Scope, left: AnyAgent, right: AnyAgent) -> AnyAgent:
    return scope.combinators.fan_out(left, right)


def _par(scope: Scope, left: AnyAgent, right: AnyAgent) -> AnyAgent:
    return scope.combinators.parallel(left, right)


def _seq(scope: Scope, left: AnyAgent, right: AnyAgent) -> AnyAgent:
    return scope.combinators.compose(left, right)


async def _projection(scope: Scope, e: Example) -> Verdict:
    f, g, x, side = e["f"], e["g"], e["x"], e["side"]
    counted_f, f_calls = counted(f)
    counted_g, g_calls = counted(g)
    branches = (counted_f, counted_g) if side == "fst" else (counted_g, counted_f)
    projection = scope.adapt(Project(0 if side == "fst" else 1))
    left = await outcome(lambda: _seq(scope, _fan(scope, *branches), projection), x)
    right = await outcome(f, x)
    calls = ("calls", f"f: {f_calls.count}, g: {g_calls.count} (each must run once)")
    holds = left == right and f_calls.count == 1 and g_calls.count == 1
    return Verdict(holds, left, right, (calls,))


async def _parallel_identity(scope: Scope, e: Example) -> Verdict:
    identity = scope.combinators.identity
    left = await outcome(lambda: _par(scope, identity, identity), e["x"])
    return equal(left, Outcome(e["x"]))


async def _interchange(scope: Scope, e: Example) -> Verdict:
    f, g, h, k, x = e["f"], e["g"], e["h"], e["k"], e["x"]
    left = await outcome(lambda: _seq(scope, _par(scope, f, g), _par(scope, h, k)), x)
    right = await outcome(lambda: _par(scope, _seq(scope, f, h), _seq(scope, g, k)), x)
    return equal(left, right)


async def _fan_then_parallel(scope: Scope, e: Example) -> Verdict:
    f, g, h, k, x = e["f"], e["g"], e["h"], e["k"], e["x"]
    left = await outcome(lambda: _seq(scope, _fan(scope, f, g), _par(scope, h, k)), x)
    right = await outcome(lambda: _fan(scope, _seq(scope, f, h), _seq(scope, g, k)), x)
    return equal(left, right)


async def _distribution(scope: Scope, e: Example) -> Verdict:
    h, f, g, x = e["h"], e["f"], e["g"], e["x"]
    once, left_calls = counted(h)
    twice, right_calls = counted(h)
    left = await outcome(lambda: _seq(scope, once, _fan(scope, f, g)), x)
    right = await outcome(lambda: _fan(scope, _seq(scope, twice, f), _seq(scope, twice, g)), x)
    calls = ("calls of h", f"{left_calls.count} on the left, {right_calls.count} on the right")
    details: tuple[tuple[str, str], ...] = (calls,)
    if isinstance(right.error, BaseExceptionGroup) and left.error is not None:
        # h ran twice, so when it fails it may fail in both branches at once: the fan-out
        # raises both failures together. That is the stated difference, not a broken law.
        kinds = {type(leaf) for leaf in _leaves(right.error)}
        details += (("h failed in both branches", f"{right.error!r}"),)
        if kinds == {type(left.error)}:
            right = Outcome(error=left.error)
    holds = left == right and (left_calls.count, right_calls.count) == (1, 2)
    return Verdict(holds, left, right, details)


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    found: list[BaseException] = []
    for inner in group.exceptions:
        found.extend(_leaves(inner) if isinstance(inner, BaseExceptionGroup) else [inner])
    return found


async def _by_branch(product: AnyAgent, x: object, expected: list[Outcome]) -> Verdict:
    """Split the merged stream of a streaming product by branch and accumulate each part."""
    failed = next((e for e in expected if e.failed), None)
    try:
        assert isinstance(product, StreamingAgent), f"{product!r} does not stream"
        stream = await product.invoke(x)
        assert isinstance(stream, ChunkStream), f"{product!r} does not give a ChunkStream"
        monoid = stream.monoid
        assert isinstance(monoid, ProductMonoid), f"{product!r} accumulates with {monoid!r}"
        components = monoid.components
        found, error = await collect(stream)
    except Exception as raised:
        return equal(Outcome(error=raised), failed or Outcome(tuple(e.value for e in expected)))
    if error is not None or failed is not None:
        return equal(Outcome(error=error), failed or Outcome(tuple(e.value for e in expected)))
    deltas = [chunk.delta for chunk in found if not chunk.done]
    mixed = [
        d for d in deltas if sum(not c.is_empty(p) for c, p in zip(components, d, strict=True)) > 1
    ]
    parts = tuple(
        component.concat([delta[index] for delta in deltas])
        for index, component in enumerate(components)
    )
    left = Outcome(parts)
    right = Outcome(tuple(e.value for e in expected))
    details: tuple[tuple[str, str], ...] = (("deltas", show(deltas, width=400)),)
    if mixed:
        details += (("deltas of several branches at once", show(mixed)),)
    return Verdict(left == right and not mixed, left, right, details)


async def _streaming_fan_out(scope: Scope, e: Example) -> Verdict:
    f, g, x = e["f"], e["g"], e["x"]
    expected = [await outcome(f, x), await outcome(g, x)]
    return await _by_branch(_fan(scope, f, g), x, expected)


async def _streaming_parallel(scope: Scope, e: Example) -> Verdict:
    f, g, x = e["f"], e["g"], e["x"]
    expected = [await outcome(f, x[0]), await outcome(g, x[1])]
    return await _by_branch(_par(scope, f, g), x, expected)


FanShape = tuple[Any, ...]
"""The branches of a fan-out, by index; a tuple inside is a group, ``&``-ed first."""

FANS: dict[str, FanShape] = {
    "f & g": (0, 1),
    "(f & g) & h": (0, 1, 2),
    "f & (g & h)": (0, (1, 2)),
}


def _fan_shape(scope: Scope, shape: FanShape, stages: list[AnyAgent]) -> AnyAgent:
    parts = [_fan_shape(scope, p, stages) if isinstance(p, tuple) else stages[p] for p in shape]
    result = parts[0]
    for part in parts[1:]:
        result = _fan(scope, result, part)
    return result


def _expected(shape: FanShape, outputs: list[Outcome]) -> Outcome:
    """The tuple of the branches' outputs, grouped as ``shape``; the failure of one, if any."""
    failed = next((output for output in outputs if output.failed), None)
    if failed is not None:
        return failed

    def grouped(part: FanShape) -> tuple[Any, ...]:
        return tuple(grouped(p) if isinstance(p, tuple) else outputs[p].value for p in part)

    return Outcome(grouped(shape))


def _fans(scope: Scope) -> st.SearchStrategy[Example]:
    def of(names: tuple[str, ...]) -> st.SearchStrategy[Example]:
        shapes = [shape for shape in FANS if shape.count("&") == len(names) - 1]
        return plain_examples(scope, names, extra={"shape": st.sampled_from(shapes)})

    return of(("f", "g")) | of(("f", "g", "h"))


async def _fan_out(scope: Scope, e: Example) -> Verdict:
    drawn = [e[name] for name in ("f", "g", "h") if name in e]
    shape = FANS[e["shape"]]
    stages = [built(scope, value) for value in drawn]
    left = await outcome(lambda: _fan_shape(scope, shape, stages), e["x"])
    right = _expected(shape, [await outcome(plain(value), e["x"]) for value in drawn])
    return equal(left, right)


async def _parallel(scope: Scope, e: Example) -> Verdict:
    f, g, x = e["f"], e["g"], e["x"]
    left = await outcome(lambda: _par(scope, built(scope, f), built(scope, g)), x)
    right = _expected((0, 1), [await outcome(plain(f), x[0]), await outcome(plain(g), x[1])])
    return equal(left, right)


def _plain(scope: Scope) -> bool:
    return not scope.streaming and not scope.fallible


def _streaming(scope: Scope) -> bool:
    return scope.streaming


PRODUCTS = LawSuite(
    name=SUITE,
    title="laws of fan-out (&) and parallel (*)",
    kinds=frozenset({"agent", "streaming", "transducer", "combinators"}),
    laws=(
        Law(
            "P1",
            "projection",
            "(f & g) >> fst ≡ f and (g & f) >> snd ≡ f; each branch runs once",
            SUITE,
            lambda scope: _examples(scope, ("f", "g"), side=st.sampled_from(["fst", "snd"])),
            _projection,
            sides=("((f & g) >> fst)(x)", "f(x)"),
        ),
        Law(
            "P2",
            "parallel identity",
            "Id * Id ≡ Id",
            SUITE,
            lambda scope: st.fixed_dictionaries({"x": st.tuples(scope.inputs, scope.inputs)}),
            _parallel_identity,
            sides=("(Id * Id)(x)", "x"),
            applies=_plain,
        ),
        Law(
            "P3",
            "interchange",
            "(f * g) >> (h * k) ≡ (f >> h) * (g >> k)",
            SUITE,
            lambda scope: _examples(scope, ("f", "g", "h", "k"), pair=True),
            _interchange,
            sides=("((f * g) >> (h * k))(x)", "((f >> h) * (g >> k))(x)"),
        ),
        Law(
            "P4",
            "fan-out then parallel",
            "(f & g) >> (h * k) ≡ (f >> h) & (g >> k)",
            SUITE,
            lambda scope: _examples(scope, ("f", "g", "h", "k")),
            _fan_then_parallel,
            sides=("((f & g) >> (h * k))(x)", "((f >> h) & (g >> k))(x)"),
        ),
        Law(
            "P5",
            "distribution",
            "h >> (f & g) ≡ (h >> f) & (h >> g) in value only: h runs once on the left and "
            "twice on the right",
            SUITE,
            lambda scope: _examples(scope, ("h", "f", "g")),
            _distribution,
            sides=("(h >> (f & g))(x)", "((h >> f) & (h >> g))(x)"),
        ),
        Law(
            "P6",
            "fan-out",
            "(f & g)(x) ≡ (f(x), g(x)) and (f & g & h)(x) ≡ (f(x), g(x), h(x)), "
            "f & (g & h) ≡ (f(x), (g(x), h(x))), against the plain agents",
            SUITE,
            _fans,
            _fan_out,
            sides=("the fan-out, as grouped", "the plain agents' outputs"),
        ),
        Law(
            "P7",
            "parallel",
            "(f * g)((x, y)) ≡ (f(x), g(y)), against the plain agents",
            SUITE,
            lambda scope: plain_examples(
                scope, ("f", "g"), inputs=st.tuples(scope.inputs, scope.inputs)
            ),
            _parallel,
            sides=("(f * g)((x, y))", "(f(x), g(y))"),
        ),
        Law(
            "SP1",
            "streaming fan-out",
            "S(f & g) ≅ S(f) & S(g) up to interleaving: each delta carries one branch's delta, "
            "and each branch's deltas add up to that branch's output",
            SUITE,
            lambda scope: _examples(scope, ("f", "g")),
            _streaming_fan_out,
            sides=("per-branch accumulation of (f & g)(x)", "(q(f(x)), q(g(x)))"),
            applies=_streaming,
        ),
        Law(
            "SP2",
            "streaming parallel",
            "S(f * g) ≅ S(f) * S(g): each delta carries one side's delta, and each side's "
            "deltas add up to that side's output",
            SUITE,
            lambda scope: _examples(scope, ("f", "g"), pair=True),
            _streaming_parallel,
            sides=("per-side accumulation of (f * g)(x)", "(q(f(x[0])), q(g(x[1])))"),
            applies=_streaming,
        ),
    ),
)
