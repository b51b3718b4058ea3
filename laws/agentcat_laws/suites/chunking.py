"""Laws of chunk-wise input: transducer soundness (S3, with the homomorphism laws S3a and S3b
of a declared per-delta map) and rechunk invariance of consumers (S4).

A transducer sees its input a piece at a time; it is sound when what it produces adds up to the
same value however the input was cut. A per-delta map (:func:`agentcat.map_deltas`) declares
more: that it is a monoid homomorphism, ``f(e) = e`` and ``f(x ⊕ y) = f(x) ⊕ f(y)``, which is
what makes it sound. A consumer that claims to be chunk-agnostic, and a whole-input streaming
stage fed a stream, must give the same result for every rechunking of their input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from agentcat import ChunkStream, Monoid
from agentcat_laws.instruments import emitting, monoid_of_value
from agentcat_laws.law import Example, Law, LawSuite, Verdict
from agentcat_laws.observe import Outcome, outcome
from agentcat_laws.scope import Scope
from agentcat_laws.strategies import WHOLE, split
from agentcat_laws.suites._common import chunked_input, equal, input_monoid

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


CHUNKING = LawSuite(
    name=SUITE,
    title="laws of chunk-wise input",
    kinds=frozenset({"transducer", "streaming", "consumer"}),
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
            applies=lambda scope: scope.kind != "transducer",
        ),
    ),
)
