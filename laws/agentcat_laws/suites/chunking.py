"""Laws of chunk-wise input: transducer soundness (S3, with the homomorphism laws S3a and S3b
of a declared per-delta map), rechunk invariance of consumers (S4), and per-delta stages
delta by delta (S5-S8).

A transducer sees its input a piece at a time; it is sound when what it produces adds up to the
same value however the input was cut. A per-delta map (:func:`agentcat.map_deltas`) declares
more: that it is a monoid homomorphism, ``f(e) = e`` and ``f(x ⊕ y) = f(x) ⊕ f(y)``, which is
what makes it sound. A consumer that claims to be chunk-agnostic, and a whole-input streaming
stage fed a stream, must give the same result for every rechunking of their input.

S3 compares a transducer with itself, by accumulated value: a filter that kept the deltas it
should drop passes it, and so do a wrong fusion of maps and a stage that reads ahead. A
per-delta stage says what it does to each delta, so S5-S8 compare, delta by delta, with the
plain function: ``map_deltas(f)`` fed any chunking gives ``f(d)`` for each delta ``d`` (S5),
``filter_deltas(p)`` the deltas with ``p(d)`` (S6), a chain of them (fused by ``>>``) the
plain steps in turn (S7), and the output made of input delta ``i`` arrives before the source
has made delta ``i + 1`` (S8, lock-step). They are checked on a declared per-delta subject, and
on the combinators' ``map_deltas`` and ``filter_deltas`` with generated steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from agentcat import ChunkStream, Monoid
from agentcat.transducers import FilterDeltas, Forward, MapDeltas
from agentcat_laws.instruments import emitting, monoid_of_value
from agentcat_laws.law import Example, Law, LawSuite, Verdict
from agentcat_laws.observe import Outcome, outcome, show
from agentcat_laws.programs import Step, keeps, ops, steps
from agentcat_laws.scope import Scope
from agentcat_laws.strategies import WHOLE, chunk_plans, split
from agentcat_laws.suites._common import chunked_input, equal, input_monoid
from agentcat_laws.suites._per_delta import (
    Link,
    Trace,
    model,
    per_delta,
    streamed_combinators,
    traced,
)

__all__ = ["CHUNKING"]

SUITE = "chunking"


async def _fed_chunkwise(scope: Scope, e: Example) -> Verdict:
    x, chunking = e["x"], e["chunking"]
    source = emitting(chunking, input_monoid(scope, x))
    left = await outcome(lambda: scope.combinators.compose(source, scope.subject), x)
    return equal(left, await outcome(scope.subject, x))


def _function(scope: Scope) -> Any:
    return scope.subject.function


async def _apply(function: Any, value: object) -> Outcome:
    try:
        return Outcome(function(value))
    except Exception as error:
        return Outcome(error=error)


def _output_monoid(scope: Scope, value: Outcome) -> Monoid[Any]:
    return scope.output_monoid or scope.subject.monoid or monoid_of_value(value.value)


async def _preserves_empty(scope: Scope, e: Example) -> Verdict:
    empty = input_monoid(scope, e["x"]).empty()
    left = await _apply(_function(scope), empty)
    if left.failed:
        return equal(left, Outcome(empty))
    return equal(left, Outcome(_output_monoid(scope, left).empty()), ("e", repr(empty)))


async def _preserves_combine(scope: Scope, e: Example) -> Verdict:
    x, y = e["x"], e["y"]
    function = _function(scope)
    left = await _apply(function, input_monoid(scope, x).combine(x, y))
    fx, fy = await _apply(function, x), await _apply(function, y)
    if fx.failed or fy.failed:
        return equal(left, fx if fx.failed else fy)
    right = Outcome(_output_monoid(scope, fx).combine(fx.value, fy.value))
    return equal(left, right, ("f(x)", repr(fx)), ("f(y)", repr(fy)))


async def _consume(scope: Scope, deltas: Sequence[Any], monoid: Monoid[Any]) -> Outcome:
    stream = ChunkStream.of(deltas, monoid)
    try:
        return Outcome(await scope.subject.function(stream))
    except Exception as error:
        return Outcome(error=error)
    finally:
        await stream.aclose()


async def _rechunk_invariance(scope: Scope, e: Example) -> Verdict:
    if scope.kind != "consumer":
        return await _fed_chunkwise(scope, e)
    x = e["x"]
    monoid = scope.subject.monoid or input_monoid(scope, x)
    left = await _consume(scope, e["chunking"], monoid)
    return equal(left, await _consume(scope, split(x, WHOLE), monoid))


def _pair(scope: Scope) -> st.SearchStrategy[Example]:
    return st.fixed_dictionaries({"x": scope.inputs, "y": scope.inputs})


def _homomorphism(scope: Scope) -> bool:
    return scope.declared_homomorphism


def _deltas(trace: Trace) -> Outcome:
    made, error = trace
    deltas = [delta for _, delta in made]
    return Outcome(deltas if error is None else (deltas, f"raised {type(error).__name__}"))


async def _delta_by_delta(scope: Scope, e: Example) -> Verdict:
    expected = model(e["chain"], e["chunking"])
    return equal(_deltas(await traced(scope, e)), _deltas(expected))


async def _lockstep(scope: Scope, e: Example) -> Verdict:
    expected = model(e["chain"], e["chunking"])
    found = await traced(scope, e)
    left = [made for made, _ in found[0]]
    right = [index + 1 for index, _ in expected[0]]
    details = (("deltas", show(_deltas(found))), ("expected deltas", show(_deltas(expected))))
    return Verdict(left == right, left, right, details)


def _chain_examples(
    scope: Scope, only: st.SearchStrategy[Step], smallest: int, largest: int
) -> st.SearchStrategy[Example]:
    """A chain of per-delta links, an input and a chunking of it. For the combinators, the
    links are generated (``only``, when a law is about one step); for a subject, it stands in
    the chain with ``smallest - 1`` to ``largest - 1`` companions: steps of text when the chain
    is text, else ``forward`` (and the subject again, when it keeps the type)."""
    plans = chunk_plans()
    subject = scope.subject
    keeps_type = isinstance(subject, FilterDeltas | Forward)

    @st.composite
    def build(draw: st.DrawFn) -> Example:
        x = draw(scope.inputs)
        chain: list[Link]
        if scope.generated:
            chain = draw(st.lists(only, min_size=smallest, max_size=largest))
        else:
            text = scope.endomorphic or (keeps_type and isinstance(x, str))
            others = steps() if text else st.just(Step("forward"))
            if keeps_type:
                others = others | st.just(subject)
            chain = draw(st.lists(others, min_size=smallest - 1, max_size=largest - 1))
            chain.insert(draw(st.integers(0, len(chain))), subject)
        return {"chain": chain, "x": x, "chunking": split(x, draw(plans))}

    return build()


def _maps(scope: Scope) -> st.SearchStrategy[Example]:
    return _chain_examples(scope, ops().map(lambda op: Step("map", op=op)), 1, 1)


def _filters(scope: Scope) -> st.SearchStrategy[Example]:
    return _chain_examples(scope, keeps().map(lambda keep: Step("filter", keep=keep)), 1, 1)


CHUNKING = LawSuite(
    name=SUITE,
    title="laws of chunk-wise input",
    kinds=frozenset({"transducer", "streaming", "consumer", "combinators"}),
    laws=(
        Law(
            "S3",
            "transducer soundness",
            "q(t fed any chunking of x) ≡ q(t(x)): the output adds up to the same value "
            "however the input is cut",
            SUITE,
            chunked_input,
            _fed_chunkwise,
            sides=("q((chunking >> t)(x))", "q(t(x))"),
            applies=lambda scope: scope.kind == "transducer",
        ),
        Law(
            "S3a",
            "homomorphism: empty",
            "a per-delta map f (map_deltas(f)) maps the empty value to the empty value: f(e) = e",
            SUITE,
            lambda scope: st.fixed_dictionaries({"x": scope.inputs}),
            _preserves_empty,
            sides=("f(e)", "e"),
            applies=_homomorphism,
        ),
        Law(
            "S3b",
            "homomorphism: combine",
            "a per-delta map f (map_deltas(f)) preserves ⊕: f(x ⊕ y) = f(x) ⊕ f(y)",
            SUITE,
            _pair,
            _preserves_combine,
            sides=("f(x ⊕ y)", "f(x) ⊕ f(y)"),
            applies=_homomorphism,
        ),
        Law(
            "S4",
            "rechunk invariance",
            "a chunk-agnostic consumer gives the same result for every rechunking of its "
            "input (one chunk, one element per chunk, cuts inside UTF-8 sequences)",
            SUITE,
            chunked_input,
            _rechunk_invariance,
            sides=("fed the chunking", "fed x in one chunk"),
            applies=lambda scope: scope.kind in ("streaming", "consumer"),
        ),
        Law(
            "S5",
            "per-delta map",
            "map_deltas(f) fed any chunking of x gives exactly f(d) for each delta d (the "
            "non-empty ones), delta by delta",
            SUITE,
            _maps,
            _delta_by_delta,
            sides=("the deltas of (chunking >> map_deltas(f))", "[f(d) for d in chunking]"),
            applies=lambda scope: (
                streamed_combinators(scope) or isinstance(scope.subject, MapDeltas)
            ),
        ),
        Law(
            "S6",
            "per-delta filter",
            "filter_deltas(p) fed any chunking of x gives exactly the deltas d with p(d), "
            "delta by delta",
            SUITE,
            _filters,
            _delta_by_delta,
            sides=("the deltas of (chunking >> filter_deltas(p))", "[d for d in chunking if p(d)]"),
            applies=lambda scope: (
                streamed_combinators(scope) or isinstance(scope.subject, FilterDeltas)
            ),
        ),
        Law(
            "S7",
            "fusion",
            "a chain of per-delta stages (maps, filters, forward, hand-written ones; fused by >>) "
            "fed any chunking gives exactly each delta through the plain steps in turn",
            SUITE,
            lambda scope: _chain_examples(scope, steps(), 2, 4),
            _delta_by_delta,
            sides=("the deltas of (chunking >> chain)", "each delta through the plain steps"),
            applies=lambda scope: streamed_combinators(scope) or per_delta(scope),
        ),
        Law(
            "S8",
            "lock-step",
            "a chain of per-delta stages never runs ahead of its consumer: the output of input "
            "delta i arrives when the source has made i + 1 deltas, no more",
            SUITE,
            lambda scope: _chain_examples(scope, steps(), 1, 4),
            _lockstep,
            sides=("deltas made by the source at each arrival", "i + 1 for input delta i"),
            applies=lambda scope: streamed_combinators(scope) or per_delta(scope),
        ),
    ),
)
