"""Streaming agents and the functor ``lift`` (``agentcat.streaming``): laws S0-S2 over arbitrary
chunkings, the lifted view of plain agents and of combinators, and what a stage tells about its
deltas.

``chunked(plan)`` is the streaming identity that cuts its input the way ``plan`` says, so
``lift(f) >> chunked(c)`` is ``S_c(f)``: ``f`` lifted under the chunking policy ``c``. Every
stream a test produces is also checked for well-formedness. The extremes are pinned: the empty
text, one chunk, one code point per chunk, non-ASCII text and white-space-only deltas.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from typing import Any

import pytest
from agentcat_laws import ChunkPlan, Op, Program, chunk_plans, programs
from agentcat_laws.strategies import EACH, WHOLE
from hypothesis import given
from hypothesis import strategies as st

from agentcat import (
    STR,
    Chunk,
    CompositionError,
    Id,
    StreamingAgent,
    StreamScopeError,
    agent,
    forward,
    lift,
    streaming,
    transducer,
)
from agentcat.monoids import INFERRED, LAST
from agentcat.streaming import Lifted
from tests.streams import Tokens, accumulate, chunked, pinned

pytestmark = pytest.mark.anyio

TEXT = st.text(max_size=12)


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


WORDS = ["The ", "cat ", "sat ", "on ", "the ", "mat."]


@transducer
async def shout(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
    async for delta in deltas:
        yield delta.upper()


async def test_a_lifted_plain_agent_gives_exactly_one_final_chunk() -> None:
    @agent
    def count(text: str) -> int:
        return len(text.split())

    chunks = [chunk async for chunk in lift(count).stream("a b c")]
    assert chunks == [Chunk(3, 3, True)]


def test_the_monoid_of_a_text_stream_is_known_statically() -> None:
    stage: StreamingAgent[str, str] = Tokens(WORDS) >> shout
    assert stage.monoid is STR


async def test_an_agent_returning_an_async_iterator_is_lifted_a_delta_per_item() -> None:
    @agent
    async def spell(word: str) -> AsyncIterator[str]:
        for letter in word:
            yield letter

    chunks = [chunk async for chunk in lift(spell).stream("abc")]
    assert [chunk.delta for chunk in chunks] == ["a", "b", "c", ""]
    assert lift(spell).element_type is str


async def test_lift_of_a_streaming_agent_is_the_agent() -> None:
    model = Tokens(WORDS)
    assert lift(model) is model
    assert lift(lift(forward)) is forward


async def test_lift_takes_a_monoid_for_what_the_types_do_not_tell() -> None:
    @agent
    def latest(text: str):  # type: ignore[no-untyped-def]
        return text

    assert lift(latest).monoid is INFERRED
    relifted = lift(lift(latest), monoid=LAST)
    assert relifted.monoid is LAST
    assert await relifted.stream("x") == "x"
    with pytest.raises(CompositionError, match="says how its deltas accumulate"):
        lift(forward, monoid=STR)
    assert repr(lift(latest, monoid=LAST)) == "lift(latest, monoid=Monoid(last))"


async def test_lift_will_not_give_a_fan_out_or_a_fallible_stream_another_monoid() -> None:
    words = lift(agent(str.split))
    views: list[StreamingAgent[str, Any]] = [words & words, words.as_result(ValueError)]
    for view in views:
        with pytest.raises(CompositionError, match="streams already"):
            lift(view, monoid=STR)


async def test_the_lift_of_the_identity_passes_each_delta_on() -> None:
    identity: StreamingAgent[str, str] = lift(Id)
    assert not identity.needs_whole_input
    assert [chunk.delta async for chunk in identity.stream("x")] == ["x"]
    fed = [chunk.delta async for chunk in (Tokens(WORDS) >> identity).stream("")]
    assert fed == [*WORDS, ""]
    alone = [delta async for delta in identity.transduce(Tokens(WORDS).open(""))]
    assert alone == WORDS


async def test_a_lifted_agent_that_returns_an_async_iterable_streams_its_items() -> None:
    class Items:
        def __init__(self, items: list[str]) -> None:
            self.items = items

        async def __aiter__(self) -> AsyncIterator[str]:  # iterable, not an iterator
            for item in self.items:
                yield item

    @agent
    def spell(text: str) -> AsyncIterable[str]:
        return Items(list(text))

    chunks = [chunk async for chunk in lift(spell).stream("ab")]
    assert [chunk.delta for chunk in chunks] == ["a", "b", ""]


def test_streaming_looks_through_bound_methods_and_partials() -> None:
    class Shelf:
        def plain(self, text: str) -> str:
            return text

        async def words(self, text: str) -> AsyncIterator[str]:
            yield text

    with pytest.raises(CompositionError, match="plain is a function that returns its whole"):
        streaming(Shelf().plain)  # type: ignore[arg-type]
    with pytest.raises(CompositionError, match="returns its whole output"):
        streaming(functools.partial(lambda prefix, text: prefix + text, ">"))
    assert repr(streaming(Shelf().words)) == "words"


def test_lift_and_streaming_take_agents_and_functions_only() -> None:
    with pytest.raises(CompositionError, match="@agent"):
        lift(len)  # type: ignore[call-overload]
    with pytest.raises(CompositionError, match="streaming"):
        streaming(3)  # type: ignore[call-overload]


async def test_a_composite_opens_and_transduces_like_any_streaming_agent() -> None:
    """What a wrapper calls on the stage it wraps (``open``, ``transduce``) streams the parts'
    deltas and closes them."""
    model = Tokens(WORDS)
    pipeline = model >> shout
    assert [delta async for delta in pipeline.open("")] == [w.upper() for w in WORDS]
    assert model.record.finished

    async def fed() -> AsyncIterator[str]:
        for word in WORDS:
            yield word

    assert [delta async for delta in (forward >> shout).transduce(fed())] == [
        w.upper() for w in WORDS
    ]
    assert [delta async for delta in lift(agent(str.title)).transduce(fed())] == [
        "The Cat Sat On The Mat."
    ]


async def test_the_kind_of_a_composite_is_the_kind_of_its_first_stage() -> None:
    assert not (forward >> shout).needs_whole_input
    assert (Tokens(WORDS) >> shout).needs_whole_input
    assert (lift(agent(str.title)) >> shout).needs_whole_input
    assert not (forward & shout).needs_whole_input
    assert (forward & lift(agent(str.title))).needs_whole_input is False


def test_the_lifted_view_is_built_by_lift_only() -> None:
    with pytest.raises(TypeError, match="lift"):
        Lifted(agent(str.title))


def test_streaming_takes_an_async_generator_function() -> None:
    def generator(prompt: str) -> Iterator[str]:
        yield prompt

    async def whole(prompt: str) -> str:
        return prompt

    async def two(a: str, b: str) -> AsyncIterator[str]:
        yield a + b

    with pytest.raises(CompositionError, match="generator is a plain generator: write it `async"):
        streaming(generator)  # type: ignore[arg-type]
    with pytest.raises(CompositionError, match="whole is an async function that returns"):
        streaming(whole)  # type: ignore[arg-type]
    with pytest.raises(CompositionError, match="cannot be called with one"):
        streaming(two)  # type: ignore[arg-type]


async def test_streaming_takes_a_monoid_as_lift_does() -> None:
    @streaming(monoid=LAST)
    async def latest(prompt: str) -> AsyncIterator[int]:
        yield 1
        yield 2

    assert latest.monoid is LAST
    assert await latest.stream("x") == 2


# The call of a streaming agent: the Agent protocol's `await invoke` and the Messenger
# Protocol's `async for chunk in invoke(x)`, one object.


async def test_awaiting_invoke_gives_the_stream_and_reading_it_gives_the_chunks() -> None:
    @streaming
    async def words(text: str) -> AsyncIterator[str]:
        for word in text.split():
            yield word + " "

    pipeline = words >> forward
    stream = await pipeline.invoke("a b c")
    assert [chunk.delta async for chunk in stream] == ["a ", "b ", "c ", ""]
    assert await stream == "a b c "
    read = [chunk async for chunk in pipeline.invoke("a b c")]
    assert [chunk.delta for chunk in read] == ["a ", "b ", "c ", ""]
    assert read[-1].done
    assert read[-1].accumulated == "a b c "


async def test_an_invocation_that_runs_tasks_is_read_inside_its_scope() -> None:
    @streaming
    async def words(text: str) -> AsyncIterator[str]:
        for word in text.split():
            yield word

    fan = words & words
    with pytest.raises(StreamScopeError, match="async with"):
        [chunk async for chunk in fan.invoke("a b")]
    async with fan.invoke("a b") as stream:
        assert (await stream) == ("ab", "ab")
