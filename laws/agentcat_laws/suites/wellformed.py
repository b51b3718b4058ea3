"""Chunk well-formedness (W1-W6), checked on every stream a subject produces.

agentcat's choice, which these laws check: every stream ends with exactly one ``done`` chunk,
its last; the chunks before it carry one non-empty delta each; a plain agent lifted gives
exactly one chunk, ``done``, whose delta is its whole output; an empty stream is one terminal
chunk with an empty delta. A stream that fails says nothing about well-formedness (the error
laws cover it): such an example holds vacuously.

W1-W5 allow a lifted plain agent to end with an empty terminal chunk after its one delta; W6
counts the chunks of whole-input composites (``lift(f)``, ``lift(f) >> lift(g)``, ``lift(f >>
g)``, ``lift(f) >> g``, ``lift(f & g)``): exactly one, ``done``, whose delta and accumulated
value are what the plain agents compute.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from hypothesis import strategies as st

from agentcat import Chunk, ChunkStream, Monoid, StreamingAgent
from agentcat_laws.instruments import monoid_of_value
from agentcat_laws.law import Example, Law, LawSuite, Verdict
from agentcat_laws.observe import Outcome, collect, show
from agentcat_laws.scope import Scope
from agentcat_laws.suites._common import AnyAgent, examples, plain_examples

__all__ = ["WELL_FORMED"]

SUITE = "chunk well-formedness"


def _examples(scope: Scope) -> st.SearchStrategy[Example]:
    return examples(scope, ("f",) if scope.generated else ())


async def _stream(scope: Scope, e: Example) -> tuple[AsyncIterator[Any], Monoid[Any] | None]:
    x = e["x"]
    if scope.kind == "chunk_source":
        return scope.subject.function(x), scope.subject.monoid
    agent = e["f"] if scope.generated else scope.subject
    streaming: StreamingAgent[Any, Any] = scope.combinators.lift(agent, scope.output_monoid)
    stream = await streaming.invoke(x)
    return stream, scope.output_monoid or (
        stream.monoid if isinstance(stream, ChunkStream) else None
    )


async def _chunks(scope: Scope, e: Example) -> tuple[list[Any], Monoid[Any]] | None:
    stream, monoid = await _stream(scope, e)
    found, error = await collect(stream)
    if error is not None:
        return None
    if monoid is None:
        first = next((c.delta for c in found if isinstance(c, Chunk) and not c.done), None)
        monoid = monoid_of_value(first if first is not None else found[-1].delta)
    return found, monoid


def _listing(found: list[Any]) -> tuple[str, str]:
    return ("chunks", show(found, width=400))


async def _prefix_sums(scope: Scope, e: Example) -> Verdict:
    got = await _chunks(scope, e)
    if got is None:
        return Verdict(True, None, None)
    found, monoid = got
    before = monoid.empty()
    for index, chunk in enumerate(found):
        expected = monoid.combine(before, chunk.delta)
        if chunk.accumulated != expected:
            at = ("at chunk", str(index))
            return Verdict(
                False, Outcome(chunk.accumulated), Outcome(expected), (at, _listing(found))
            )
        before = chunk.accumulated
    return Verdict(True, None, None)


async def _one_done_last(scope: Scope, e: Example) -> Verdict:
    got = await _chunks(scope, e)
    if got is None:
        return Verdict(True, None, None)
    found, _ = got
    done = [index for index, chunk in enumerate(found) if chunk.done]
    expected = [len(found) - 1]
    return Verdict(done == expected, done, expected, (_listing(found),))


async def _final_is_fold(scope: Scope, e: Example) -> Verdict:
    got = await _chunks(scope, e)
    if got is None or not got[0]:
        return Verdict(True, None, None)
    found, monoid = got
    folded = monoid.concat([chunk.delta for chunk in found])
    final = found[-1].accumulated
    return Verdict(final == folded, Outcome(final), Outcome(folded), (_listing(found),))


async def _no_empty_deltas(scope: Scope, e: Example) -> Verdict:
    got = await _chunks(scope, e)
    if got is None:
        return Verdict(True, None, None)
    found, monoid = got
    empty = [
        index
        for index, chunk in enumerate(found)
        if monoid.is_empty(chunk.delta) and not (chunk.done and index == len(found) - 1)
    ]
    return Verdict(not empty, empty, [], (_listing(found),))


async def _metadata_ignored(scope: Scope, e: Example) -> Verdict:
    got = await _chunks(scope, e)
    if got is None:
        return Verdict(True, None, None)
    found, _ = got
    for index, chunk in enumerate(found):
        if not isinstance(chunk, Chunk):
            return Verdict(False, type(chunk).__name__, "Chunk", (("at chunk", str(index)),))
        moved = Chunk(chunk.delta, chunk.accumulated, chunk.done, index=index + 7)
        bare = Chunk(chunk.delta, chunk.accumulated, chunk.done)
        if not (moved == chunk == bare and hash(moved) == hash(chunk) == hash(bare)):
            return Verdict(False, chunk, moved, (("at chunk", str(index)),))
    return Verdict(True, None, None)


WHOLE_INPUT: dict[str, Any] = {
    "lift(f)": lambda c, f, g: c.lift(f, None),
    "lift(f) >> lift(g)": lambda c, f, g: c.compose(c.lift(f, None), c.lift(g, None)),
    "lift(f >> g)": lambda c, f, g: c.lift(c.compose(f, g), None),
    "lift(f) >> g": lambda c, f, g: c.compose(c.lift(f, None), g),
    "lift(f & g)": lambda c, f, g: c.lift(c.fan_out(f, g), None),
}
"""Whole-input composites of plain agents ``f`` and ``g``, built with combinators ``c``."""


async def _plain_whole(shape: str, f: AnyAgent, g: AnyAgent, x: object) -> Outcome | None:
    """What the plain agents compute for ``shape``; ``None`` when ``f`` streams by itself
    (an agent returning an async iterator is lifted a delta per item, not as one)."""
    try:
        first = await f.invoke(x)
        if isinstance(first, AsyncIterator):
            return None
        if shape == "lift(f)":
            return Outcome(first)
        if shape == "lift(f & g)":
            return Outcome((first, await g.invoke(x)))
        return Outcome(await g.invoke(first))
    except Exception as error:
        return Outcome(error=error)


async def _one_chunk(scope: Scope, e: Example) -> Verdict:
    f, g, x, shape = e["f"], e["g"], e["x"], e["shape"]
    expected = await _plain_whole(shape, f, g, x)
    if expected is None:
        return Verdict(True, None, None)
    try:
        stream = await WHOLE_INPUT[shape](scope.combinators, f, g).invoke(x)
        found, error = await collect(stream)
    except Exception as raised:
        found, error = [], raised
    if expected.failed or error is not None:
        return Verdict(
            type(error) is type(expected.error), Outcome(error=error), expected, (_listing(found),)
        )
    left = Outcome([(chunk.delta, chunk.accumulated, chunk.done) for chunk in found])
    right = Outcome([(expected.value, expected.value, True)])
    return Verdict(left == right, left, right)


def _whole_input(scope: Scope) -> bool:
    return scope.kind == "agent" or (scope.generated and not scope.combinators.streaming)


WELL_FORMED = LawSuite(
    name=SUITE,
    title="well-formedness of every chunk stream",
    kinds=frozenset({"agent", "streaming", "transducer", "chunk_source", "combinators"}),
    laws=(
        Law(
            "W1",
            "prefix sums",
            "chunk[i].accumulated == chunk[i-1].accumulated ⊕ chunk[i].delta",
            SUITE,
            _examples,
            _prefix_sums,
            sides=("accumulated", "previous accumulated ⊕ delta"),
        ),
        Law(
            "W2",
            "one done, last",
            "exactly one chunk has done=True, and it is the last",
            SUITE,
            _examples,
            _one_done_last,
            sides=("positions of done chunks", "expected"),
        ),
        Law(
            "W3",
            "final value",
            "the last chunk's accumulated == the fold of all deltas",
            SUITE,
            _examples,
            _final_is_fold,
            sides=("last accumulated", "fold of the deltas"),
        ),
        Law(
            "W4",
            "no empty deltas",
            "no chunk has an empty delta, except a terminal done chunk",
            SUITE,
            _examples,
            _no_empty_deltas,
            sides=("positions of empty deltas", "expected"),
        ),
        Law(
            "W5",
            "metadata ignored",
            "chunk equality and hashing ignore the metadata (the index)",
            SUITE,
            _examples,
            _metadata_ignored,
            sides=("chunk", "the chunk with other metadata"),
        ),
        Law(
            "W6",
            "one chunk",
            "a whole-input composite (lift(f), lift(f) >> lift(g), lift(f >> g), lift(f) >> g, "
            "lift(f & g)) gives exactly one chunk, done, whose delta is what the plain agents "
            "compute",
            SUITE,
            lambda scope: plain_examples(
                scope, ("f", "g"), extra={"shape": st.sampled_from(list(WHOLE_INPUT))}
            ),
            _one_chunk,
            sides=("(delta, accumulated, done) of each chunk", "[(v, v, True)]"),
            applies=_whole_input,
        ),
    ),
)
