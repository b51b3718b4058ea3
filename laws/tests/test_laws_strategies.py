"""The public strategies: chunkings add up to what they cut and reach the extremes; chunk
streams are well-formed; ``st.from_type`` knows agentcat's stream types; programs are
printable and order-sensitive."""

from __future__ import annotations

from typing import Any

import pytest
from agentcat_laws import (
    ChunkPlan,
    Mark,
    Op,
    Program,
    chunk_plans,
    chunk_streams,
    chunkings,
    chunks,
    programs,
    rechunkings,
    split,
    texts,
    utf8_bytes,
    well_formed,
)
from agentcat_laws.strategies import EACH, WHOLE
from hypothesis import find, given, settings
from hypothesis import strategies as st

from agentcat import LIST, STR, Chunk, ChunkStream


@given(texts(), chunk_plans())
def test_a_chunking_adds_up_to_the_text_and_has_no_empty_delta(text: str, plan: ChunkPlan) -> None:
    deltas = split(text, plan)
    assert "".join(deltas) == text
    assert all(deltas)


@given(st.data())
def test_chunkings_of_lists_bytes_and_dicts_add_up(data: st.DataObject) -> None:
    items = data.draw(st.lists(st.integers(), max_size=6))
    assert LIST.concat(data.draw(chunkings(items))) == items
    raw = data.draw(utf8_bytes())
    assert b"".join(data.draw(chunkings(raw))) == raw
    mapping = data.draw(st.dictionaries(st.text(max_size=2), st.integers(), max_size=4))
    merged: dict[str, int] = {}
    for part in data.draw(chunkings(mapping)):
        merged |= part
    assert merged == mapping
    assert list(merged) == list(mapping)


def test_the_extremes() -> None:
    assert split("", WHOLE) == [] == split("", EACH)
    assert split("héllo", WHOLE) == ["héllo"]
    assert split("héllo", EACH) == ["h", "é", "l", "l", "o"]
    assert split("é".encode(), EACH) == [b"\xc3", b"\xa9"]  # inside the UTF-8 sequence
    assert split(42, EACH) == [42]  # a value that cannot be cut is one delta
    assert split("abc", ChunkPlan((1, 1, 4, 0, 3))) == ["a", "bc"]  # 4 % 4 = 0, an end


def test_chunkings_shrink_to_one_chunk_and_reach_one_code_point_per_chunk() -> None:
    assert find(chunkings("a b"), lambda deltas: True) == ["a b"]
    assert find(chunkings("a b"), lambda deltas: len(deltas) == 3) == ["a", " ", "b"]
    cut = find(chunkings("é".encode()), lambda deltas: len(deltas) > 1)
    assert cut == [b"\xc3", b"\xa9"]


@given(st.lists(texts(), max_size=4).flatmap(lambda s: st.tuples(st.just(s), rechunkings(s))))
def test_rechunkings_keep_the_accumulation(pair: tuple[list[str], list[str]]) -> None:
    stream, again = pair
    assert "".join(again) == "".join(stream)


def well_formed_laws_hold(stream: list[Chunk[Any]], monoid: Any) -> None:
    before = monoid.empty()
    for chunk in stream:
        assert chunk.accumulated == monoid.combine(before, chunk.delta)  # W1
        before = chunk.accumulated
    assert [c.done for c in stream].count(True) == 1  # W2
    assert stream[-1].done
    assert stream[-1].accumulated == monoid.concat([c.delta for c in stream])  # W3
    assert not any(monoid.is_empty(c.delta) for c in stream[:-1])  # W4


@given(chunk_streams(texts()))
def test_chunk_streams_are_well_formed(stream: list[Chunk[str]]) -> None:
    well_formed_laws_hold(stream, STR)


@given(chunk_streams(st.lists(st.integers(), max_size=4), LIST))
def test_chunk_streams_of_lists_are_well_formed(stream: list[Chunk[list[int]]]) -> None:
    well_formed_laws_hold(stream, LIST)


def test_well_formed_ends_as_agentcat_streams_do() -> None:
    assert well_formed([], STR) == [Chunk("", "", True)]
    assert well_formed(["a"], STR, last_delta_done=True) == [Chunk("a", "a", True)]
    assert well_formed(["a", "b"], STR)[-1] == Chunk("", "ab", True)


@given(chunks(texts()))
def test_a_chunk_ends_with_its_delta(chunk: Chunk[str]) -> None:
    assert chunk.accumulated.endswith(chunk.delta)


@given(st.from_type(Chunk[str]), st.from_type(Chunk[list[int]]))
def test_from_type_draws_consistent_chunks(text: Chunk[str], items: Chunk[list[int]]) -> None:
    # Registered through Hypothesis' entry point when agentcat-laws is installed.
    assert text.accumulated.endswith(text.delta)
    assert items.accumulated[len(items.accumulated) - len(items.delta) :] == items.delta


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@given(st.from_type(ChunkStream[str]))
async def test_from_type_draws_fresh_streams(stream: ChunkStream[str]) -> None:
    found = [chunk async for chunk in stream]
    well_formed_laws_hold(found, STR)
    assert await stream == found[-1].accumulated


def test_from_type_refuses_a_type_without_monoid() -> None:
    @given(st.from_type(Chunk[int]))
    def draw(chunk: Chunk[int]) -> None:
        raise AssertionError("unreachable")

    with pytest.raises(TypeError, match="no monoid"):
        draw()


def test_programs_print_as_themselves_and_compute_in_order() -> None:
    program = Program((Op("append", "a"), Op("reverse"), Op("drop_first")))
    assert repr(program) == "program(append('a'), reverse, drop_first)"
    assert program.run("xy") == "yx"
    later = Program((Op("reverse"), Op("append", "a")))
    assert later.run("xy") != Program((Op("append", "a"), Op("reverse"))).run("xy")
    assert repr(Mark("g")) == "mark('g')"


# Shrinking has a local minimum here: from (reverse, reverse, reverse) against one op, deleting
# one reverse leaves a pair that commutes, so about one random search in ten stops at four ops;
# an example database then replays it on every later run. A fixed seed and no database make the
# search the same every time.
DETERMINISTIC = settings(database=None, derandomize=True)


def test_programs_shrink_to_the_identity_and_differ_in_order() -> None:
    assert find(programs(), lambda p: True, settings=DETERMINISTIC) == Program(())
    found = find(
        st.tuples(programs(), programs()),
        lambda pair: pair[0].run(pair[1].run("ab")) != pair[1].run(pair[0].run("ab")),
        settings=DETERMINISTIC,
    )
    assert sum(len(p.ops) for p in found) == 2
