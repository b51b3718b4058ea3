"""Error laws (E1-E4): failures as values short-circuit, surface unchanged, keep the partial
output of a stream, and recovering a success changes nothing.

E1, E2 and E4 are about fallible agents (those returning ``returns``' ``Result``): a plain
subject is made fallible with ``as_result``. An agent annotated to return a ``Result`` that is
not a :class:`agentcat.Fallible` composes with ``>>`` as a plain agent, so the next stage
receives the ``Failure`` as its input: E1 and E2 catch exactly that.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from returns.result import Failure, Success

from agentcat import Chunk, StreamingError
from agentcat_laws.instruments import FailAfter, counted, emitting, monoid_of_value
from agentcat_laws.law import Example, Law, LawSuite, Verdict
from agentcat_laws.observe import Outcome, collect, outcome, show
from agentcat_laws.programs import Mark, errors
from agentcat_laws.scope import Scope
from agentcat_laws.suites._common import AnyAgent, examples, input_monoid

__all__ = ["ERRORS"]

SUITE = "errors"


def _examples(
    scope: Scope, names: tuple[str, ...], **more: st.SearchStrategy[Any]
) -> st.SearchStrategy[Example]:
    return examples(scope, names, fallible=True, extra=more)


def _kleisli(scope: Scope, left: AnyAgent, right: AnyAgent) -> AnyAgent:
    return scope.combinators.kleisli(left, right)


async def _failure_absorbs(scope: Scope, e: Example) -> Verdict:
    f, error, x = e["f"], e["e"], e["x"]
    counted_f, calls = counted(f)
    left = await outcome(lambda: _kleisli(scope, scope.combinators.fail(error), counted_f), x)
    unchanged = isinstance(left.value, Failure) and left.value.failure() is error
    details = (("calls of f", f"{calls.count} (must be 0)"),)
    return Verdict(unchanged and calls.count == 0, left, Outcome(Failure(error)), details)


async def _failure_skips(scope: Scope, e: Example) -> Verdict:
    f, g, x = e["f"], e["g"], e["x"]
    counted_f, f_calls = counted(f)
    counted_g, g_calls = counted(g)
    left = await outcome(lambda: _kleisli(scope, counted_f, counted_g), x)
    if left.failed or not f_calls.outputs:
        return Verdict(False, left, "a Result", (("calls of f", str(f_calls.count)),))
    first = f_calls.outputs[0]
    if isinstance(first, Failure):
        calls = ("calls of g", f"{g_calls.count} (must be 0: f failed)")
        holds = left.value is first and g_calls.count == 0
        return Verdict(holds, left, Outcome(first), (("f(x)", show(first)), calls))
    if not isinstance(first, Success):
        return Verdict(False, left, "f(x) to be a Result", (("f(x)", show(first)),))
    right = await outcome(g, first.unwrap())
    calls = ("calls of g", f"{g_calls.count} (must be 1: f succeeded)")
    holds = left == right and g_calls.count == 1
    return Verdict(holds, left, right, (("f(x)", show(first)), calls))


async def _partial_output(scope: Scope, e: Example) -> Verdict:
    x, error, count = e["x"], e["e"], e["after"]
    if scope.generated:
        stage = e["f"]
    elif scope.kind == "transducer":
        stage = scope.combinators.compose(
            emitting(e["chunking"], input_monoid(scope, x)), scope.subject
        )
    else:
        stage = scope.subject
    failing = scope.combinators.compose(stage, FailAfter(count, error))
    stream = await failing.invoke(x)
    found, raised = await collect(stream)
    deltas = [chunk.delta for chunk in found if isinstance(chunk, Chunk)]
    monoid = scope.output_monoid or (monoid_of_value(deltas[0]) if deltas else None)
    expected = monoid.concat(deltas) if monoid is not None else None
    accumulated = stream.accumulated if deltas else expected
    listing = ("deltas before the failure", show(deltas))
    if raised is not error or accumulated != expected:
        left = (f"raised {raised!r}", accumulated)
        return Verdict(False, Outcome(left), Outcome((f"raised {error!r}", expected)), (listing,))
    retried = await scope.combinators.retry(failing, 2).invoke(x)
    _, raised = await collect(retried)
    if deltas:
        holds = (
            isinstance(raised, StreamingError)
            and raised.partial == expected
            and raised.__cause__ is error
        )
        partial = raised.partial if isinstance(raised, StreamingError) else None
        left = (f"raised {raised!r}", partial)
        right = (f"StreamingError from {error!r}", expected)
    else:
        holds, left, right = raised is error, (f"raised {raised!r}", None), (repr(error), None)
    return Verdict(holds, Outcome(left), Outcome(right), (listing, ("retried", "with_retry(2)")))


async def _recover_success(scope: Scope, e: Example) -> Verdict:
    f, x = e["f"], e["x"]
    counted_f, f_calls = counted(f)
    handler, h_calls = counted(Mark("h"))
    left = await outcome(lambda: scope.combinators.recover(counted_f, handler), x)
    if left.failed or not f_calls.outputs:
        return Verdict(False, left, "f's success value, or h(error)", ())
    first = f_calls.outputs[0]
    if isinstance(first, Success):
        calls = ("calls of h", f"{h_calls.count} (must be 0: f succeeded)")
        right = Outcome(first.unwrap())
        return Verdict(left == right and h_calls.count == 0, left, right, (calls,))
    calls = ("calls of h", f"{h_calls.count} (must be 1: f failed)")
    right = Outcome(("h", first.failure()))
    holds = left == right and h_calls.count == 1
    return Verdict(holds, left, right, (("f(x)", show(first)), calls))


def _streaming_examples(scope: Scope) -> st.SearchStrategy[Example]:
    return examples(
        scope,
        ("f",) if scope.generated else (),
        extra={"after": st.integers(0, 4), "e": errors()},
        chunking=scope.kind == "transducer",
    )


def _fallible_laws(scope: Scope) -> bool:
    return not scope.streaming


def _recoverable(scope: Scope) -> bool:
    if scope.streaming:
        return False
    return scope.generated or scope.kind == "agent" or hasattr(scope.subject, "recover")


ERRORS = LawSuite(
    name=SUITE,
    title="error laws",
    kinds=frozenset({"agent", "fallible", "streaming", "transducer", "combinators"}),
    laws=(
        Law(
            "E1",
            "failure absorbs",
            "fail(e) >> f ≡ fail(e), and f is never invoked",
            SUITE,
            lambda scope: _examples(scope, ("f",), e=errors()),
            _failure_absorbs,
            sides=("(fail(e) >> f)(x)", "Failure(e)"),
            applies=_fallible_laws,
        ),
        Law(
            "E2",
            "failure short-circuits",
            "a failure of f in f >> g skips g and surfaces unchanged (the same object); "
            "on success, g runs once on f's value",
            SUITE,
            lambda scope: _examples(scope, ("f", "g")),
            _failure_skips,
            sides=("(f >> g)(x)", "f(x) if it failed, else g(value)"),
            applies=_fallible_laws,
        ),
        Law(
            "E3",
            "partial output",
            "a stream failing after chunks s reports partial output q(s), for every chunking; "
            "the error surfaces unchanged, and with_retry raises StreamingError(partial=q(s))",
            SUITE,
            _streaming_examples,
            _partial_output,
            sides=("(error, accumulated)", "(e, q(s))"),
            applies=lambda scope: scope.streaming,
        ),
        Law(
            "E4",
            "recovering a success",
            "f.recover(h) ≡ f on a success (h never invoked); on a failure it is h(error)",
            SUITE,
            lambda scope: _examples(scope, ("f",)),
            _recover_success,
            sides=("f.recover(h)(x)", "f's value, or h(error)"),
            applies=_recoverable,
        ),
    ),
)
