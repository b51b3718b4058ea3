"""Error laws (E1-E6): failures as values short-circuit, surface unchanged, keep the partial
output of a stream, and recovering a success changes nothing; a stream that fails or is closed
midway ends where it should.

E1, E2 and E4 are about fallible agents (those returning ``returns``' ``Result``): a plain
subject is made fallible with ``as_result``. An agent annotated to return a ``Result`` that is
not a :class:`agentcat.Fallible` composes with ``>>`` as a plain agent, so the next stage
receives the ``Failure`` as its input: E1 and E2 catch exactly that.

E3 compares a failing stream's partial output with the deltas the same stream gave. E5 says
which deltas those must be: a source failing after k deltas gives exactly those k (through the
per-delta stages after it, their images; for any other subject, the first k of its own
output), and ``with_retry``'s :class:`agentcat.StreamingError` has their sum for partial. E6 is
about the other early end: closing a stream midway stops every producer in it, so an
instrumented source that started has run its ``finally`` by the time closing returns.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from returns.result import Failure, Success

from agentcat import STR, Chunk, ChunkStream, StreamedPromise, StreamingError
from agentcat_laws.instruments import (
    FailAfter,
    Life,
    Seen,
    Source,
    counted,
    emitting,
    monoid_of_value,
)
from agentcat_laws.law import Example, Law, LawSuite, Verdict
from agentcat_laws.observe import Outcome, collect, outcome, show
from agentcat_laws.programs import Mark, errors, steps
from agentcat_laws.scope import Scope
from agentcat_laws.strategies import chunk_plans, split
from agentcat_laws.suites._common import AnyAgent, examples, input_monoid
from agentcat_laws.suites._per_delta import (
    compose_chain,
    empty,
    model,
    per_delta,
    stage,
    streamed_combinators,
)

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


Sides = tuple[list[Any], ...]
"""The deltas of a stream, by side: one list for a chain, one per branch for a fan-out."""


async def _failing(scope: Scope, e: Example) -> tuple[AnyAgent, Sides] | None:
    """The stream of E5 and the deltas it must give, by side, before the error; ``None`` when
    that is not known (the subject failed on its own)."""
    x, error, after = e["x"], e["e"], e["after"]
    combinators = scope.combinators
    if scope.generated or per_delta(scope):
        chain = e["steps"] if scope.generated else [scope.subject]
        chunking = e["chunking"]
        source = Source(tuple(chunking), error=error, after=after)
        failing: AnyAgent = combinators.lift(source, input_monoid(scope, x))
        for link in chain:  # stage by stage, after the source
            failing = combinators.compose(failing, stage(scope, link))
        branches: tuple[list[Any], ...] | None = e.get("fan_out")
        if branches is not None:
            fan = combinators.fan_out(*(compose_chain(scope, branch) for branch in branches))
            failing = combinators.compose(failing, fan)
        expected: list[list[Any]] = []
        for branch in branches if branches is not None else ([],):
            made, raised = model([*chain, *branch], chunking[:after])
            if raised is not None:
                return None
            expected.append([value for _, value in made])
        return failing, tuple(expected)
    clean: AnyAgent = scope.subject
    if scope.kind == "transducer":
        clean = combinators.compose(emitting(e["chunking"], input_monoid(scope, x)), clean)
    seen = Seen()
    _, raised = await collect(await combinators.compose(clean, seen).invoke(x))
    if raised is not None:
        return None
    deltas = [delta for delta in seen.deltas[:after] if not empty(delta)]
    return combinators.compose(clean, FailAfter(after, error)), (deltas,)


def _by_side(deltas: list[Any], count: int) -> Sides:
    """A stream's deltas by side: as they are, or split by branch (a fan-out's deltas are
    tuples, each holding one branch's delta; the branches interleave as they run)."""
    if count == 1:
        return (deltas,)
    return tuple([delta[i] for delta in deltas if not empty(delta[i])] for i in range(count))


def _ended(error: BaseException | None) -> str:
    return "ended" if error is None else f"raised {error!r}"


async def _error_position(scope: Scope, e: Example) -> Verdict:
    error = e["e"]
    found = await _failing(scope, e)
    if found is None:
        return Verdict(True, None, None)
    failing, expected = found
    stream = await failing.invoke(e["x"])
    chunks, raised = await collect(stream)
    deltas = _by_side([chunk.delta for chunk in chunks if not empty(chunk.delta)], len(expected))
    left: tuple[Any, ...] = (deltas, _ended(raised))
    right: tuple[Any, ...] = (expected, _ended(error))
    if deltas != expected or raised is not error:
        return Verdict(False, Outcome(left), Outcome(right))
    retried = await scope.combinators.retry(failing, 2).invoke(e["x"])
    _, raised = await collect(retried)
    if not any(expected):
        right = (_ended(error), None)
        return Verdict(raised is error, Outcome((_ended(raised), None)), Outcome(right))
    total = _total(scope, stream, expected)
    partial = raised.partial if isinstance(raised, StreamingError) else None
    holds = isinstance(raised, StreamingError) and partial == total and raised.__cause__ is error
    left = (_ended(raised), partial)
    right = (f"StreamingError from {error!r}", total)
    details = (("deltas before the failure", show(expected)), ("retried", "with_retry(2)"))
    return Verdict(holds, Outcome(left), Outcome(right), details)


def _total(scope: Scope, stream: object, expected: Sides) -> Any:
    """The sum of the deltas before the failure: of each branch, for a fan-out (of text)."""
    if len(expected) > 1:
        return tuple(STR.concat(side) for side in expected)
    monoid = scope.output_monoid or (
        stream.monoid if isinstance(stream, ChunkStream) and stream.monoid else None
    )
    return (monoid or monoid_of_value(expected[0][0])).concat(expected[0])


def _position_examples(scope: Scope) -> st.SearchStrategy[Example]:
    extra: dict[str, st.SearchStrategy[Any]] = {"after": st.integers(0, 4), "e": errors()}
    if not scope.generated:
        return examples(scope, extra=extra, chunking=scope.kind == "transducer")
    chains = st.lists(steps(), min_size=1, max_size=2)
    extra.update(steps=st.lists(steps(), max_size=2), fan_out=st.none() | st.tuples(chains, chains))
    return examples(scope, extra=extra, chunking=True).map(_without_none)


def _without_none(e: Example) -> Example:
    return {name: value for name, value in e.items() if value is not None}


SHAPES = ("a", "a >> step", "a >> (step & step2)", "a >> b", "a & b", "a * b")
"""What E6 closes, for the combinators: sources ``a`` and ``b``, and per-delta steps."""


def _closing_examples(scope: Scope) -> st.SearchStrategy[Example]:
    extra: dict[str, st.SearchStrategy[Any]] = {"read": st.integers(1, 3)}
    if not scope.generated:
        return examples(scope, extra=extra, chunking=True)
    extra.update(shape=st.sampled_from(SHAPES), step=steps(), step2=steps(), b=chunk_plans())
    return examples(scope, extra=extra, chunking=True).map(_used)


def _used(e: Example) -> Example:
    """The example without the values its shape does not use (they would only be shown)."""
    shape = e["shape"]
    unused = {"step"} if "step" not in shape else set()
    unused |= {"step2"} if "step2" not in shape else set()
    unused |= {"b"} if " b" not in shape else set()
    return {name: value for name, value in e.items() if name not in unused}


def _closed(scope: Scope, e: Example, life: Life) -> tuple[AnyAgent, object]:
    """The agent E6 reads and closes, and its input: its sources record their life in
    ``life``."""
    x, combinators = e["x"], scope.combinators
    monoid = input_monoid(scope, x)
    a = combinators.lift(Source(tuple(e["chunking"]), life), monoid)
    if scope.kind == "transducer":
        return combinators.compose(a, scope.subject), x
    if scope.kind == "streaming":
        return combinators.fan_out(scope.subject, a), x
    shape = e["shape"]
    if shape == "a":
        return a, x
    if shape == "a >> step":
        return combinators.compose(a, stage(scope, e["step"])), x
    if shape == "a >> (step & step2)":
        fan = combinators.fan_out(stage(scope, e["step"]), stage(scope, e["step2"]))
        return combinators.compose(a, fan), x
    b = combinators.lift(Source(tuple(split(x, e["b"])), life), monoid)
    if shape == "a >> b":
        return combinators.compose(a, b), x
    if shape == "a & b":
        return combinators.fan_out(a, b), x
    return combinators.parallel(a, b), (x, x)


async def _read_then_close(stream: Any, count: int) -> int:
    """Read ``count`` chunks of ``stream`` (fewer if it ends or fails first), then close it;
    how many were read."""
    read = 0
    try:
        if isinstance(stream, StreamedPromise):
            async with stream:
                while read < count:
                    await anext(stream)
                    read += 1
        else:
            while read < count:
                await anext(stream)
                read += 1
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
    except (Exception, StopAsyncIteration):
        pass  # a failure ends the stream too: what is checked is that nothing is left running
    return read


async def _closing(scope: Scope, e: Example) -> Verdict:
    agent, x = _closed(scope, e, Life())
    found, _ = await collect(await agent.invoke(x))  # how many chunks there are: close before
    life = Life()
    agent, x = _closed(scope, e, life)
    read = await _read_then_close(await agent.invoke(x), min(e["read"], len(found) - 1))
    left = Outcome(f"{life.started} started, {life.stopped} stopped")
    right = Outcome(f"{life.started} started, {life.started} stopped")
    details = (("chunks read before closing", str(read)), ("sources", repr(life)))
    return Verdict(life.stopped == life.started, left, right, details)


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
        Law(
            "E5",
            "error position",
            "a source failing after k deltas gives exactly those k (through the per-delta "
            "stages after it: a chain, or each branch of a fan-out), then the error unchanged; "
            "with_retry raises StreamingError(partial = their sum)",
            SUITE,
            _position_examples,
            _error_position,
            sides=("(deltas, error)", "(the first k deltas, e)"),
            applies=lambda scope: scope.streaming,
        ),
        Law(
            "E6",
            "closing stops producers",
            "closing a stream before its end, after any number of its chunks, stops every "
            "producer in it: each source that started has run its finally when closing returns",
            SUITE,
            _closing_examples,
            _closing,
            sides=("sources", "every one started, stopped"),
            applies=lambda scope: (
                streamed_combinators(scope) or scope.kind in ("streaming", "transducer")
            ),
        ),
    ),
)
