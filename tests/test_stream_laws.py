"""Laws S0-S3 and W1-W3 of the streaming runtime, over arbitrary chunkings.

``chunked(plan)`` is the streaming identity that cuts its input the way ``plan`` says, so
``lift(f) >> chunked(c)`` is ``S_c(f)``: ``f`` lifted under the chunking policy ``c``. Every
stream a test produces is also checked for well-formedness. The extremes are pinned: the empty
text, one chunk, one code point per chunk, non-ASCII text and white-space-only deltas.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from agentcat_laws import ChunkPlan, Op, Program, chunk_plans, programs, split
from agentcat_laws.strategies import EACH, WHOLE
from attrs import frozen
from hypothesis import example, given
from hypothesis import strategies as st

from agentcat import (
    STR,
    Chunk,
    Monoid,
    StreamingAgent,
    filter_deltas,
    forward,
    lift,
    map_deltas,
    split_sentences,
)

pytestmark = pytest.mark.anyio

TEXT = st.text(max_size=12)
NON_ASCII = "naïve café ☕ ok. Ünïcode! \U0001d4b3"
WHITESPACE = "  \n\t  \n"


@frozen(repr=False)
class Chunked(StreamingAgent[str, str]):
    """The streaming identity under a chunking policy: its input, cut as ``plan`` says."""

    plan: ChunkPlan

    async def open(self, value: str, /) -> AsyncIterator[str]:
        for delta in split(value, self.plan):
            yield delta

    @property
    def element_type(self) -> object:
        return str

    @property
    def name(self) -> str:
        return f"chunked({self.plan!r})"


def chunked(plan: ChunkPlan) -> StreamingAgent[str, str]:
    return Chunked(plan)


def assert_well_formed(chunks: list[Chunk[Any]], monoid: Monoid[Any]) -> None:
    """W1 prefix sums, W2 exactly one ``done`` and it is last, W3 the final value is the fold."""
    assert chunks, "a stream has at least its terminal chunk"
    assert [chunk.done for chunk in chunks] == [False] * (len(chunks) - 1) + [True]  # W2
    total = monoid.empty()
    for chunk in chunks:
        total = monoid.combine(total, chunk.delta)
        assert chunk.accumulated == total  # W1
    assert chunks[-1].accumulated == monoid.concat([chunk.delta for chunk in chunks])  # W3


async def accumulate(agent: StreamingAgent[str, str], value: str) -> str:
    """q: the accumulated output, after checking the stream is well formed."""
    chunks = [chunk async for chunk in agent.stream(value)]
    assert_well_formed(chunks, STR)
    return chunks[-1].accumulated


PINNED = [
    ("", WHOLE),
    (NON_ASCII, WHOLE),
    (NON_ASCII, EACH),
    (WHITESPACE, EACH),
    (NON_ASCII, ChunkPlan((3, 4, 11))),
]


def pinned(test: Any, **others: Any) -> Any:
    """Pin the extremes of ``x`` and its chunking ``c`` (``others`` fixes the other arguments)."""
    for x, plan in PINNED:
        test = example(x=x, c=plan, **others)(test)
    return test


REVERSE_THEN_APPEND = Program((Op("reverse"), Op("append", "é")))


@functools.partial(pinned, f=REVERSE_THEN_APPEND)
@given(f=programs(), x=TEXT, c=chunk_plans())
async def test_s0_soundness(f: Program, x: str, c: ChunkPlan) -> None:
    """q ∘ S_c(f) ≡ f for every chunking policy c."""
    assert await accumulate(lift(f) >> chunked(c), x) == await f.invoke(x)


@pinned
@given(x=TEXT, c=chunk_plans())
async def test_s1_identity(x: str, c: ChunkPlan) -> None:
    """q ∘ S_c(Id) ≡ Id."""
    assert await accumulate(chunked(c), x) == x


@functools.partial(pinned, f=REVERSE_THEN_APPEND, g=REVERSE_THEN_APPEND, c2=EACH, c3=WHOLE)
@given(f=programs(), g=programs(), x=TEXT, c=chunk_plans(), c2=chunk_plans(), c3=chunk_plans())
async def test_s2_composition(
    f: Program, g: Program, x: str, c: ChunkPlan, c2: ChunkPlan, c3: ChunkPlan
) -> None:
    """q ∘ S_c1(f >> g) ≡ q ∘ (S_c2(f) >=> S_c3(g)), the chunkings drawn independently."""
    left = lift(f >> g) >> chunked(c)
    right = (lift(f) >> chunked(c2)) >> (lift(g) >> chunked(c3))
    assert await accumulate(left, x) == await accumulate(right, x)


def keep(delta: str) -> bool:
    return bool(delta)


SOUND_TRANSDUCERS: dict[str, StreamingAgent[str, str]] = {
    "forward": forward,
    "map_deltas(upper)": map_deltas(str.upper),
    "split_sentences": split_sentences,
    "filter_deltas(keep)": filter_deltas(keep),
    "twenty stages": forward >> split_sentences >> map_deltas(str.upper) >> forward,
}


@pytest.mark.parametrize("name", SOUND_TRANSDUCERS)
@pinned
@given(x=TEXT | st.sampled_from(["A b. C d? E! f", "x.\ny. ", "Mr. Smith. Hi"]), c=chunk_plans())
async def test_s3_built_in_transducers_are_sound(name: str, x: str, c: ChunkPlan) -> None:
    """Fed any chunking of x, a transducer's output adds up to its output for x whole."""
    transducer = SOUND_TRANSDUCERS[name]
    assert await accumulate(chunked(c) >> transducer, x) == await accumulate(transducer, x)


def twice(delta: str) -> str:
    return delta * 2


async def test_s3_a_non_homomorphic_map_fed_chunk_wise_is_caught() -> None:
    """The notes' example: duplicating each delta is sound only for one chunk."""
    double = map_deltas(twice)
    whole = await accumulate(chunked(WHOLE) >> double, "a ")
    cut = await accumulate(chunked(ChunkPlan((1,))) >> double, "a ")
    assert (whole, cut) == ("a a ", "aa  ")
