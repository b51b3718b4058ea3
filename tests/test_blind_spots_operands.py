"""Blind spots of the suite (issue 13 §2): composites as operands (their types, and run as
branches fed from a stream), the run-time check of streaming compositions, where
``split_sentences`` cuts, and messages that keep their own metadata and their whole text."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import pytest
from agentcat_laws.strategies import EACH, WHOLE, ChunkPlan, chunk_plans, texts
from hypothesis import example, given
from hypothesis import strategies as st
from returns.result import Success

from agentcat import (
    Agent,
    Chunk,
    ChunkStream,
    CompositionError,
    Message,
    MessagePromise,
    MessageSequencePromise,
    Reply,
    StreamingAgent,
    Text,
    ToolCall,
    ToolCallPart,
    Usage,
    agent,
    forward,
    lift,
    map_deltas,
    split_sentences,
    streaming,
    transducer,
)
from tests.streams import Recorder, Tokens, chunked

pytestmark = pytest.mark.anyio


# --- the plain functions, each from one type to another, and their agents ----------------------


def size(text: str) -> int:
    return len(text)


def digits_of(number: int) -> list[int]:
    return [int(digit) for digit in str(number)]


def render_of(items: list[int]) -> str:
    return "-".join(str(item) for item in items)


def shout_of(text: str) -> str:
    return text.upper() + "!"


def halve(number: int) -> float:
    return number / 2


def sizes_of(delta: str) -> list[int]:
    return [len(delta), len(delta.split())]


def marks_of(items: list[int]) -> str:
    return "".join(f"<{item}>" for item in items)


length = agent(size)
digits = agent(digits_of)
render = agent(render_of)
shout = agent(shout_of)


@transducer
async def sizes(deltas: AsyncIterator[str]) -> AsyncIterator[list[int]]:
    """``sizes_of`` of each delta, as it comes."""
    async for delta in deltas:
        yield sizes_of(delta)


@transducer
async def marks(deltas: AsyncIterator[list[int]]) -> AsyncIterator[str]:
    """``marks_of`` of each delta, as it comes."""
    async for delta in deltas:
        yield marks_of(delta)


def whole_model(text: str) -> str:
    """The model of ``length >> digits >> render``."""
    return render_of(digits_of(size(text)))


def per_delta_model(deltas: list[str]) -> str:
    """The model of ``sizes >> marks`` fed ``deltas``."""
    return "".join(marks_of(sizes_of(delta)) for delta in deltas)


def upstream(deltas: list[str]) -> StreamingAgent[str, str]:
    return Tokens(deltas, Recorder())


DELTAS = st.lists(texts().filter(bool), max_size=5)
"""What an upstream stage streams: non-empty deltas."""
PINNED_DELTAS = [["ab ", "cde ", "f"], ["One. ", "two", " three"]]


def pinned_deltas(test: Any) -> Any:
    for deltas in PINNED_DELTAS:
        test = example(deltas=deltas)(test)
    return test


# --- 1. composites report their types, and compose by them -------------------------------------

Built = Callable[[], Agent[Any, Any]]
"""A composite, built when the test runs (a ``>>`` that refuses it fails that test alone)."""

REPORTED: dict[str, tuple[Built, object, object]] = {
    "g >> h": (lambda: digits >> render, int, str),
    "f >> (g >> h)": (lambda: length >> (digits >> render), str, str),
    "(f >> g) >> h": (lambda: (length >> digits) >> render, str, str),
    "f & g": (lambda: length & shout, str, tuple[int, str]),
    "f * g": (lambda: length * digits, tuple[str, int], tuple[int, list[int]]),
    "(f >> g) * (g >> h)": (
        lambda: (length >> digits) * (digits >> render),
        tuple[str, int],
        tuple[list[int], str],
    ),
    "(f & e) * g": (
        lambda: (length & shout) * digits,
        tuple[str, int],
        tuple[tuple[int, str], list[int]],
    ),
    "f * (g & g')": (
        lambda: length * (digits & agent(halve)),
        tuple[str, int],
        tuple[int, tuple[list[int], float]],
    ),
    "retried g >> h": (lambda: (digits >> render).with_retry(2), int, str),
    "g >> h with a fallback": (
        lambda: (digits >> render).with_fallback(digits >> render),
        int,
        str,
    ),
}


@pytest.mark.parametrize("name", REPORTED)
def test_a_plain_composite_reports_the_types_of_its_ends(name: str) -> None:
    build, expected_input, expected_output = REPORTED[name]
    composite = build()
    assert composite.input_type == expected_input
    assert composite.output_type == expected_output


StreamingBuilt = Callable[[], StreamingAgent[Any, Any]]

STREAMING_REPORTED: dict[str, tuple[StreamingBuilt, object, object]] = {
    "t1 >> t2": (lambda: sizes >> marks, str, str),
    "lift(f) >> lift(g)": (lambda: lift(length) >> lift(digits), str, list[int]),
    "lift(f) >> (lift(g) >> lift(h))": (
        lambda: lift(length) >> (lift(digits) >> lift(render)),
        str,
        str,
    ),
    "lift(f >> g)": (lambda: lift(length >> digits), str, list[int]),
    "lift(f) * g": (lambda: lift(length) * digits, tuple[str, int], tuple[int, list[int]]),
    "g * t1": (lambda: digits * sizes, tuple[int, str], tuple[list[int], list[int]]),
    "(t1 >> t2) * lift(g >> h)": (
        lambda: (sizes >> marks) * lift(digits >> render),
        tuple[str, int],
        tuple[str, str],
    ),
    "(t1 >> t2) & f": (lambda: (sizes >> marks) & length, str, tuple[str, int]),
}


@pytest.mark.parametrize("name", STREAMING_REPORTED)
def test_a_streaming_composite_reports_the_types_of_its_ends(name: str) -> None:
    build, expected_input, element = STREAMING_REPORTED[name]
    composite = build()
    assert composite.input_type == expected_input
    assert composite.element_type == element
    assert composite.output_type == ChunkStream[element]  # type: ignore[valid-type]


WELL_TYPED: dict[str, tuple[Callable[[], Agent[str, Any]], Callable[[str], Any]]] = {
    "f >> (g >> h)": (lambda: length >> (digits >> render), whole_model),
    "f >> (g >> h) >> f'": (
        lambda: length >> (digits >> render) >> length,
        lambda x: size(whole_model(x)),
    ),
    "(e >> f) >> (g >> h)": (
        lambda: (shout >> length) >> (digits >> render),
        lambda x: whole_model(shout_of(x)),
    ),
    "(f & e) >> (g * f)": (
        lambda: (length & shout) >> (digits * length),
        lambda x: (digits_of(size(x)), size(shout_of(x))),
    ),
    "f >> ((g >> h) & g)": (
        lambda: length >> ((digits >> render) & digits),
        lambda x: (whole_model(x), digits_of(size(x))),
    ),
    "f >> retried (g >> h)": (lambda: length >> (digits >> render).with_retry(2), whole_model),
    "f? >> (g? >> h?)": (
        lambda: length.as_result() >> (digits.as_result() >> render.as_result()),
        lambda x: Success(whole_model(x)),
    ),
}


@pytest.mark.parametrize("name", WELL_TYPED)
@given(x=texts(30))
async def test_a_well_typed_plain_composite_on_the_right_composes_and_runs(
    name: str, x: str
) -> None:
    """``>>`` asks the composite on its right for its input type: the type of its first stage,
    not of its last."""
    build, model = WELL_TYPED[name]
    assert await build().invoke(x) == model(x)


STREAMING_WELL_TYPED: dict[str, tuple[Callable[[list[str]], StreamingAgent[Any, Any]], Any]] = {
    "up >> (t1 >> t2)": (lambda d: upstream(d) >> (sizes >> marks), per_delta_model),
    "up >> (f >> g >> h)": (
        lambda d: upstream(d) >> (length >> digits >> render),
        lambda d: whole_model("".join(d)),
    ),
    "up >> (lift(f) >> (lift(g) >> lift(h)))": (
        lambda d: upstream(d) >> (lift(length) >> (lift(digits) >> lift(render))),
        lambda d: whole_model("".join(d)),
    ),
    "lift(e) >> (f >> (g >> h))": (
        lambda d: lift(shout) >> (length >> (digits >> render)),
        lambda d: whole_model(shout_of(" seed ")),
    ),
    "up >> f >> (lift(g) >> lift(h))": (
        lambda d: upstream(d) >> length >> (lift(digits) >> lift(render)),
        lambda d: whole_model("".join(d)),
    ),
}


@pytest.mark.parametrize("name", STREAMING_WELL_TYPED)
@pinned_deltas
@given(deltas=DELTAS)
async def test_a_well_typed_streaming_composite_on_the_right_composes_and_runs(
    name: str, deltas: list[str]
) -> None:
    build, model = STREAMING_WELL_TYPED[name]
    pipeline = build(deltas)
    assert await pipeline.stream(" seed ") == model(deltas)


def branches_model(deltas: list[str]) -> tuple[Any, ...]:
    whole = "".join(deltas)
    return (
        per_delta_model(deltas),
        whole_model(whole),
        whole_model(whole),
        per_delta_model(deltas),
        marks_of(sizes_of(shout_of(whole))),
        size(per_delta_model(deltas)),
        shout_of(whole),
    )


@pinned_deltas
@given(deltas=DELTAS)
async def test_composites_as_fan_out_branches_fed_from_a_stream_run_their_stages_in_order(
    deltas: list[str],
) -> None:
    """``up >> ((t1 >> t2) & ...)``: each branch that is a pipeline runs its first stage first,
    as calling the functions directly does."""
    fan_out = (
        (sizes >> marks)
        & (lift(length) >> lift(digits) >> lift(render))
        & (length >> digits >> render)
        & (map_deltas(sizes_of) >> map_deltas(marks_of))
        & (lift(shout) >> sizes >> marks)
        & (sizes >> marks >> lift(length))
        & shout
    )
    pipeline = upstream(deltas) >> fan_out
    async with pipeline.stream("go") as stream:
        chunks = [chunk async for chunk in stream]
    assert chunks[-1].done
    assert chunks[-1].accumulated == branches_model(deltas)


@given(x=texts(30))
async def test_composites_as_fan_out_branches_opened_on_a_value_run_their_stages_in_order(
    x: str,
) -> None:
    fan_out = (
        (sizes >> marks >> split_sentences)
        & (lift(length) >> lift(digits) >> lift(render))
        & (length >> digits >> render)
    )
    assert await fan_out.stream(x) == (per_delta_model([x]), whole_model(x), whole_model(x))


@pinned_deltas
@given(deltas=DELTAS)
async def test_a_composite_in_a_nested_group_fed_from_a_stream_runs_in_order(
    deltas: list[str],
) -> None:
    pipeline = upstream(deltas) >> (shout & ((sizes >> marks) & (lift(length) >> lift(digits))))
    whole = "".join(deltas)
    assert await pipeline.stream("go") == (
        shout_of(whole),
        (per_delta_model(deltas), digits_of(size(whole))),
    )


@pinned_deltas
@given(deltas=DELTAS)
async def test_composites_as_the_sides_of_a_product_fed_from_a_fan_out_run_in_order(
    deltas: list[str],
) -> None:
    """``up >> (forward & forward) >> ((t1 >> t2) * (lift(f) >> lift(g) >> lift(h)))``."""
    product = (sizes >> marks) * (lift(length) >> lift(digits) >> lift(render))
    pipeline = upstream(deltas) >> (forward & forward) >> product
    assert product.input_type == tuple[str, str]
    whole = "".join(deltas)
    assert await pipeline.stream("go") == (per_delta_model(deltas), whole_model(whole))


@pinned_deltas
@given(deltas=DELTAS)
async def test_composites_of_other_types_as_the_sides_of_a_product_get_their_own_component(
    deltas: list[str],
) -> None:
    """``up >> (t1 & forward) >> ((t2 >> t3) * (lift(f) >> lift(g)))``: the first side takes
    the lists of numbers, the second the text."""
    product = (marks >> split_sentences) * (lift(length) >> lift(digits))
    pipeline = upstream(deltas) >> (sizes & forward) >> product
    assert product.input_type == tuple[list[int], str]
    whole = "".join(deltas)
    assert await pipeline.stream("go") == (per_delta_model(deltas), digits_of(size(whole)))


@pinned_deltas
@given(deltas=DELTAS)
async def test_composites_holding_products_as_branches_fed_from_a_stream_run_in_order(
    deltas: list[str],
) -> None:
    """A branch that is a pipeline ending in a fan-out, one that feeds a product, and a
    retried pipeline (which waits for its whole input, to start again from it)."""
    fan_out = (
        (sizes >> (marks & lift(render)))
        & ((sizes & forward) >> (marks * lift(length)))
        & (sizes >> marks).with_retry(2)
    )
    whole = "".join(deltas)
    numbers = [number for delta in deltas for number in sizes_of(delta)]
    async with (upstream(deltas) >> fan_out).stream("go") as stream:
        assert await stream == (
            (per_delta_model(deltas), render_of(numbers)),
            (per_delta_model(deltas), size(whole)),
            per_delta_model([whole]),  # fed its whole input, a transducer sees one delta
        )


async def test_composites_as_plain_operands_run_in_order() -> None:
    value = "a" * 12
    assert await ((length >> digits >> render) & (shout >> length)).invoke(value) == (
        whole_model(value),
        size(shout_of(value)),
    )
    assert await ((length >> digits) * (digits >> render)).invoke((value, 305)) == (
        [1, 2],
        "3-0-5",
    )


# --- 2. the run-time check of streaming compositions -------------------------------------------


@streaming
async def counts(text: str) -> AsyncIterator[list[int]]:
    """A streaming agent from text to lists of numbers."""
    for word in text.split():
        yield [len(word)]


class Spelled(StreamingAgent[int, str]):
    """A streaming agent from a number to its digits, one delta each."""

    async def open(self, value: int, /) -> AsyncIterator[str]:
        for digit in str(value):
            yield digit


class Title(str):
    """A kind of text: it may flow wherever text is expected."""


@agent
def titled(text: str) -> Title:
    return Title(text.title())


@agent
def summed(items: Sequence[int]) -> list[int]:
    return [sum(items)]


MISMATCHES: dict[str, tuple[Callable[[], Agent[Any, Any]], Callable[[], Agent[Any, Any]]]] = {
    # the right side streams
    "plain >> streaming agent": (lambda: shout, lambda: Spelled()),
    "plain >> Tokens": (lambda: length, lambda: Tokens(["x"])),
    "plain >> @streaming": (lambda: length, lambda: counts),
    "plain >> transducer": (lambda: length, lambda: sizes),
    "plain >> map_deltas": (lambda: length, lambda: map_deltas(sizes_of)),
    "plain >> split_sentences": (lambda: digits, lambda: split_sentences),
    "plain >> lifted": (lambda: shout, lambda: lift(digits)),
    "plain >> streaming pipeline": (lambda: length, lambda: sizes >> marks),
    "plain >> whole-input pipeline": (lambda: shout, lambda: lift(digits) >> lift(render)),
    "plain >> streaming fan-out": (lambda: length, lambda: sizes & shout),
    "plain >> streaming product": (lambda: shout, lambda: lift(length) * digits),
    "plain pipeline >> transducer": (lambda: shout >> length, lambda: sizes),
    "plain fan-out >> streaming product": (lambda: shout & length, lambda: lift(digits) * sizes),
    # the left side streams
    "streaming agent >> plain": (lambda: Tokens(["x"]), lambda: digits),
    "@streaming >> plain": (lambda: counts, lambda: length),
    "transducer >> plain": (lambda: sizes, lambda: length),
    "lifted >> plain pipeline": (lambda: lift(length), lambda: shout >> length),
    "streaming pipeline >> plain": (lambda: sizes >> marks, lambda: digits),
    "streaming fan-out >> lifted": (lambda: sizes & shout, lambda: lift(digits)),
    # both stream
    "lifted >> transducer": (lambda: lift(length), lambda: sizes),
    "transducer >> transducer": (lambda: marks, lambda: marks),
    "transducer >> lifted": (lambda: sizes, lambda: lift(length)),
    "streaming pipeline >> streaming pipeline": (lambda: sizes >> marks, lambda: marks >> sizes),
    "@streaming >> split_sentences": (lambda: counts, lambda: split_sentences),
}


def composed(left: Agent[Any, Any], right: Agent[Any, Any]) -> Agent[Any, Any]:
    return left >> right


@pytest.mark.parametrize("name", MISMATCHES)
def test_a_streaming_mismatch_is_refused_at_the_operator(name: str) -> None:
    left, right = (build() for build in MISMATCHES[name])
    with pytest.raises(CompositionError, match=r"cannot compose .* produces .* but .* expects"):
        composed(left, right)


X = "ab cd efgh ij"
"""The input of the well-typed compositions."""

MATCHES: dict[str, tuple[Callable[[], Agent[Any, Any]], Callable[[], Agent[Any, Any]], Any]] = {
    # the right side streams
    "plain >> streaming agent": (lambda: length, lambda: Spelled(), str(size(X))),
    "plain >> @streaming": (
        lambda: shout,
        lambda: counts,
        [len(word) for word in shout_of(X).split()],
    ),
    "plain >> transducer": (lambda: shout, lambda: sizes, sizes_of(shout_of(X))),
    "plain >> map_deltas": (lambda: shout, lambda: map_deltas(sizes_of), sizes_of(shout_of(X))),
    "a subclass >> split_sentences": (lambda: titled, lambda: split_sentences, X.title()),
    "plain >> lifted": (lambda: length, lambda: lift(digits), digits_of(size(X))),
    "plain >> lifted, a wider input": (
        lambda: agent(sizes_of),
        lambda: lift(summed),
        [sum(sizes_of(X))],
    ),
    "plain >> streaming pipeline": (
        lambda: shout,
        lambda: sizes >> marks,
        marks_of(sizes_of(shout_of(X))),
    ),
    "plain >> whole-input pipeline": (
        lambda: length,
        lambda: lift(digits) >> lift(render),
        whole_model(X),
    ),
    "plain >> streaming fan-out": (
        lambda: shout,
        lambda: sizes & length,
        (sizes_of(shout_of(X)), size(shout_of(X))),
    ),
    "plain >> streaming product": (
        lambda: length & shout,
        lambda: lift(digits) * sizes,
        (digits_of(size(X)), sizes_of(shout_of(X))),
    ),
    # the left side streams
    "streaming agent >> plain": (lambda: Tokens(["ab", "c"]), lambda: length, size("abc")),
    "@streaming >> plain": (
        lambda: counts,
        lambda: render,
        render_of([len(word) for word in X.split()]),
    ),
    "transducer >> plain": (lambda: sizes, lambda: render, render_of(sizes_of(X))),
    "lifted >> plain pipeline": (lambda: lift(length), lambda: digits >> render, whole_model(X)),
    "streaming pipeline >> plain": (
        lambda: sizes >> marks,
        lambda: length,
        size(marks_of(sizes_of(X))),
    ),
    # both stream
    "lifted >> transducer": (lambda: lift(shout), lambda: sizes, sizes_of(shout_of(X))),
    "transducer >> transducer": (lambda: sizes, lambda: marks, marks_of(sizes_of(X))),
    "transducer >> lifted": (lambda: sizes, lambda: lift(render), render_of(sizes_of(X))),
    "@streaming >> streaming pipeline": (
        lambda: counts,
        lambda: marks >> split_sentences,
        "".join(marks_of([len(word)]) for word in X.split()),
    ),
}


@pytest.mark.parametrize("name", MATCHES)
async def test_a_well_typed_streaming_composition_is_accepted_and_runs(name: str) -> None:
    left_build, right_build, expected = MATCHES[name]
    pipeline = composed(left_build(), right_build())
    assert isinstance(pipeline, StreamingAgent)
    assert await pipeline.stream(X) == expected


# --- 3. where split_sentences cuts --------------------------------------------------------------


async def sentences(text: str, plan: ChunkPlan) -> list[str]:
    """The deltas ``split_sentences`` gives for ``text`` cut by ``plan`` (the stream checked
    to end with one done chunk, holding the whole text)."""
    async with (chunked(plan) >> split_sentences).stream(text) as stream:
        chunks = [chunk async for chunk in stream]
    assert [chunk.done for chunk in chunks] == [False] * (len(chunks) - 1) + [True]
    assert chunks[-1].delta == ""
    assert chunks[-1].accumulated == text
    return [chunk.delta for chunk in chunks[:-1]]


CUTS: dict[str, tuple[str, list[str]]] = {
    "full stops": ("One two. Three four. Five", ["One two. ", "Three four. ", "Five"]),
    "marks": ("Stop! Really? Yes.", ["Stop! ", "Really? ", "Yes."]),
    "runs of marks": ("What?! No!!! Fine... ok", ["What?! ", "No!!! ", "Fine... ", "ok"]),
    "a newline after a mark": ("Line one.\nLine two!\n", ["Line one.\n", "Line two!\n"]),
    "blank lines": ("Hi.\n\n\nThere?\t ok", ["Hi.\n\n\n", "There?\t ", "ok"]),
    "a newline alone does not end a sentence": ("no mark\nat all\n", ["no mark\nat all\n"]),
    "a mark inside a word does not": ("Pi is 3.14 ok. e.g.x", ["Pi is 3.14 ok. ", "e.g.x"]),
    "a closer after the mark": (
        'He said "yes!" Then (left.) Done',
        ['He said "yes!" ', "Then (left.) ", "Done"],
    ),
    "a sentence end at the very end": ("All done. ", ["All done. "]),
    "no end at all": ("just words", ["just words"]),
    "white space only": (" \n ", [" \n "]),
    "nothing": ("", []),
}


@pytest.mark.parametrize("name", CUTS)
async def test_split_sentences_cuts_after_the_white_space_after_each_end(name: str) -> None:
    text, expected = CUTS[name]
    for plan in (WHOLE, EACH):
        assert await sentences(text, plan) == expected


PROSE = "One two. Three!\nFour? Five.\n\nSix seven"
PROSE_SENTENCES = ["One two. ", "Three!\n", "Four? ", "Five.\n\n", "Six seven"]


async def test_a_sentence_cut_across_chunks_at_any_one_position_is_the_same_sentence() -> None:
    for cut in range(1, len(PROSE)):
        assert await sentences(PROSE, ChunkPlan((cut,))) == PROSE_SENTENCES, cut


async def test_a_sentence_cut_at_any_two_positions_is_the_same_sentence() -> None:
    for first in range(1, len(PROSE)):
        for second in range(first + 1, len(PROSE)):
            plan = ChunkPlan((first, second))
            assert await sentences(PROSE, plan) == PROSE_SENTENCES, (first, second)


WORDS = st.lists(st.text("abcé3", min_size=1), min_size=1, max_size=3).map(".".join)
"""A word: letters, and maybe full stops between them (``e.g.x``, ``3.14``: no end)."""
BODIES = st.lists(st.tuples(WORDS, st.sampled_from([" ", "\n", ", "])), min_size=1, max_size=3).map(
    lambda pairs: "".join(word + gap for word, gap in pairs[:-1]) + pairs[-1][0]
)
"""The text of a sentence before its end: words, with no mark before white space."""
ENDS = st.tuples(
    st.text(".!?", min_size=1, max_size=3),
    st.sampled_from(["", '"', ")", "'"]),
    st.text(" \n\t", min_size=1, max_size=3),
).map("".join)
"""The end of a sentence: its marks, maybe a closer, and the white space after."""
TAILS = st.one_of(st.just(""), BODIES, st.tuples(BODIES, st.text(".!?", min_size=1)).map("".join))
"""What may come after the last complete sentence: nothing, words, or words and marks."""


@st.composite
def prose(draw: st.DrawFn) -> list[str]:
    """Text as the sentences it is made of, the rest last."""
    complete = draw(st.lists(st.tuples(BODIES, ENDS).map("".join), max_size=4))
    tail = draw(TAILS)
    return [*complete, tail] if tail else complete


@given(parts=prose(), c=chunk_plans())
@example(parts=["A. ", "B! ", "C"], c=EACH)
@example(parts=["A.  ", "B"], c=ChunkPlan((3,)))
@example(parts=["A.\n", "B?"], c=ChunkPlan((1, 2)))
async def test_split_sentences_gives_the_sentences_the_text_is_made_of(
    parts: list[str], c: ChunkPlan
) -> None:
    """However the text is cut, one delta per sentence (with its white space), then the rest."""
    assert await sentences("".join(parts), c) == parts


@given(x=texts(20), c=chunk_plans())
async def test_split_sentences_cuts_any_text_the_same_however_it_is_chunked(
    x: str, c: ChunkPlan
) -> None:
    assert await sentences(x, c) == await sentences(x, WHOLE)


async def test_split_sentences_passes_a_sentence_on_once_its_end_is_certain_and_the_rest_last() -> (
    None
):
    """A sentence comes out once the delta after its white space has; the rest once the input
    has ended, never before."""
    record = Recorder()
    producer = Tokens(["One. ", "Two.", " Three", " four"], record)
    seen: list[tuple[str, int, bool]] = []
    async with (producer >> split_sentences).stream("go") as stream:
        async for chunk in stream:
            seen.append((chunk.delta, len(record.produced), record.finished))
    assert seen == [
        ("One. ", 2, False),
        ("Two. ", 3, False),
        ("Three four", 4, True),
        ("", 4, True),
    ]


# --- 4. messages: their own metadata, their whole text ------------------------------------------


def caller_metadata() -> dict[str, Any]:
    return {
        "turn": 1,
        "tags": ["a", "b"],
        "source": {"url": "x", "seen": [1, 2]},
        "steps": [{"step": 1}],
    }


def meddle(metadata: dict[str, Any]) -> None:
    """What a caller may do to its dict after giving it to a message."""
    metadata["turn"] = 2
    metadata["added"] = True
    metadata["tags"].append("c")
    metadata["source"]["url"] = "y"
    metadata["source"]["seen"].append(3)
    metadata["source"]["new"] = "z"
    metadata["steps"][0]["step"] = 2
    metadata["steps"].append({"step": 3})


KEPT = {
    "turn": 1,
    "tags": ("a", "b"),
    "source": {"url": "x", "seen": (1, 2)},
    "steps": ({"step": 1},),
}


@streaming
async def replying(prompt: str) -> AsyncIterator[Reply]:
    yield Reply((Text(0, "Let me "),), meta={"model": "m"})
    yield Reply((ToolCall(1, "c1", "clock", "{}"),))
    yield Reply((Text(0, "look."),), usage=Usage(2, 3, reported=True), stop="tool_use")


async def built_directly(metadata: dict[str, Any]) -> tuple[Message, Callable[[], Any]]:
    message = Message("hi", "user", metadata=metadata)
    return message, lambda: message


async def built_of_a_reply(metadata: dict[str, Any]) -> tuple[Message, Callable[[], Any]]:
    reply = await replying.stream("time?")
    message = Message.of_reply(reply, metadata=metadata)
    return message, lambda: message


async def built_by_a_promise(metadata: dict[str, Any]) -> tuple[Message, Callable[[], Any]]:
    promise = MessagePromise(Tokens(["h", "i"]).stream(""), metadata=metadata)
    return await promise, lambda: promise.draft


async def built_by_a_reply_promise(
    metadata: dict[str, Any],
) -> tuple[Message, Callable[[], Any]]:
    promise = MessagePromise(replying.stream("time?"), metadata=metadata)
    return await promise, lambda: promise.draft


BUILDERS = {
    "Message(...)": built_directly,
    "Message.of_reply": built_of_a_reply,
    "MessagePromise of text": built_by_a_promise,
    "MessagePromise of replies": built_by_a_reply_promise,
}


@pytest.mark.parametrize("name", BUILDERS)
async def test_a_message_does_not_share_the_metadata_dict_it_was_given(name: str) -> None:
    given_dict = caller_metadata()
    message, again = await BUILDERS[name](given_dict)
    before = dict(message.metadata)
    hashed = hash(message)
    meddle(given_dict)
    assert dict(message.metadata) == before
    assert {key: message.metadata[key] for key in KEPT} == KEPT
    assert hash(message) == hashed
    assert {key: again().metadata[key] for key in KEPT} == KEPT


async def test_a_promise_fixes_its_metadata_when_it_is_made() -> None:
    given_dict = caller_metadata()
    promise = MessagePromise(Tokens(["h", "i"]).stream(""), metadata=given_dict)
    meddle(given_dict)  # before the message is complete
    assert dict(promise.draft.metadata) == KEPT
    assert dict((await promise).metadata) == KEPT


TEXT = ["Hel", "lo ", "wor", "ld", "."]


@given(read=st.integers(0, len(TEXT) + 1), own_place=st.booleans())
@example(read=len(TEXT) + 1, own_place=False)
@example(read=2, own_place=True)
async def test_a_message_of_a_stream_another_consumer_read_has_the_whole_text(
    read: int, own_place: bool
) -> None:
    """Another consumer reads ``read`` chunks first (through the stream's own place, with
    ``anext``, or an iterator of its own): the message still has every delta."""
    stream = Tokens(TEXT).stream("")
    reader = stream if own_place else aiter(stream)
    before = [(await anext(reader)).delta for _ in range(read)]
    promise = MessagePromise(stream, role="user")
    assert [chunk.delta async for chunk in promise] == [*TEXT, ""]
    assert (await promise).content == "Hello world."
    assert (await promise).role == "user"
    assert [*before, *await rest_of(reader)] == [*TEXT, ""]  # the other goes on where it was


async def rest_of(reader: AsyncIterator[Chunk[str]]) -> list[str]:
    """The deltas left at this place (``async for`` over a stream starts from its first)."""
    rest: list[str] = []
    while True:
        try:
            rest.append((await anext(reader)).delta)
        except StopAsyncIteration:
            return rest


async def test_a_message_of_a_stream_awaited_whole_first_has_the_whole_text() -> None:
    stream = (Tokens(["One. ", "Two", " three"]) >> split_sentences).stream("")
    assert await stream == "One. Two three"
    assert (await MessagePromise(stream)).content == "One. Two three"
    assert [m.content for m in await MessageSequencePromise("hi", stream)] == [
        "hi",
        "One. Two three",
    ]


async def test_a_message_of_a_reply_stream_another_consumer_read_has_the_whole_reply() -> None:
    stream = replying.stream("time?")
    first = await anext(stream)
    assert first.delta.text == "Let me "
    promise = MessagePromise(stream)
    assert [chunk.delta async for chunk in promise] == ["Let me ", "look.", ""]
    message = await promise
    assert message.content == "Let me look."
    assert message.tool_calls == (ToolCallPart(1, "c1", "clock", "{}"),)
    assert message.usage == Usage(2, 3, reported=True)


async def test_a_message_of_a_promise_another_consumer_read_has_the_whole_text() -> None:
    promise = MessagePromise(Tokens(TEXT).stream(""))
    assert (await anext(promise)).delta == "Hel"
    assert [chunk.delta async for chunk in promise] == [*TEXT, ""]
    again = MessagePromise(promise)
    assert (await again).content == "Hello world."
    sequence = MessageSequencePromise(promise, again)
    assert [m.content for m in await sequence] == ["Hello world.", "Hello world."]
