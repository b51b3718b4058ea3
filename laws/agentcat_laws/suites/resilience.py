"""Laws of retry and fallback (R1-R3): they change nothing when the agent succeeds, and a
fallback answers for an agent that fails before producing anything."""

from __future__ import annotations

from hypothesis import strategies as st

from agentcat import StreamingAgent
from agentcat_laws.instruments import Raising, counted
from agentcat_laws.law import Example, Law, LawSuite, Verdict
from agentcat_laws.observe import outcome
from agentcat_laws.programs import errors
from agentcat_laws.scope import Scope
from agentcat_laws.suites._common import AnyAgent, equal, examples

__all__ = ["RESILIENCE"]

SUITE = "resilience"


def _examples(
    scope: Scope, names: tuple[str, ...], *, error: bool = False
) -> st.SearchStrategy[Example]:
    return examples(scope, names, extra={"e": errors()} if error else None)


async def _retry_success(scope: Scope, e: Example) -> Verdict:
    f, x = e["f"], e["x"]
    right = await outcome(f, x)
    if right.failed:  # R1 is about agents that succeed
        return Verdict(True, right, right)
    counted_f, calls = counted(f)
    left = await outcome(lambda: scope.combinators.retry(counted_f, 3), x)
    details = (("calls of f", f"{calls.count} (must be 1)"),)
    return Verdict(left == right and calls.count == 1, left, right, details)


async def _fallback_success(scope: Scope, e: Example) -> Verdict:
    f, g, x = e["f"], e["g"], e["x"]
    right = await outcome(f, x)
    if right.failed:
        return Verdict(True, right, right)
    counted_g, calls = counted(g)
    left = await outcome(lambda: scope.combinators.fallback(f, counted_g), x)
    details = (("calls of g", f"{calls.count} (must be 0)"),)
    return Verdict(left == right and calls.count == 0, left, right, details)


async def _fallback_failure(scope: Scope, e: Example) -> Verdict:
    g, x = e["g"], e["x"]
    failing: AnyAgent = Raising(e["e"])
    if isinstance(g, StreamingAgent):
        failing = scope.combinators.lift(failing, None)
    left = await outcome(lambda: scope.combinators.fallback(failing, g), x)
    return equal(left, await outcome(g, x))


RESILIENCE = LawSuite(
    name=SUITE,
    title="laws of retry and fallback",
    kinds=frozenset({"agent", "streaming", "transducer", "combinators"}),
    laws=(
        Law(
            "R1",
            "retrying a success",
            "f.with_retry(n) ≡ f when f succeeds, and f runs once",
            SUITE,
            lambda scope: _examples(scope, ("f",)),
            _retry_success,
            sides=("f.with_retry(3)(x)", "f(x)"),
        ),
        Law(
            "R2",
            "falling back from a success",
            "f.with_fallback(g) ≡ f when f succeeds, and g never runs",
            SUITE,
            lambda scope: _examples(scope, ("f", "g")),
            _fallback_success,
            sides=("f.with_fallback(g)(x)", "f(x)"),
        ),
        Law(
            "R3",
            "falling back from a failure",
            "raising(e).with_fallback(g) ≡ g",
            SUITE,
            lambda scope: _examples(scope, ("g",), error=True),
            _fallback_failure,
            sides=("raising(e).with_fallback(g)(x)", "g(x)"),
        ),
    ),
)
