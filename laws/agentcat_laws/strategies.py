"""Hypothesis strategies for streams: chunkings of a value, rechunkings of a stream, well-formed
chunk streams, and the default inputs of the laws.

"Equal up to chunk boundaries" quantifies over every way a value can be cut into deltas, so the
laws need chunkings that reach the cases where bugs hide: one chunk, one code point (or byte, or
item) per chunk, a cut inside a UTF-8 sequence, a chunk that is only white space. A chunking is
drawn as a :class:`ChunkPlan`, a small value independent of what it cuts, which shrinks towards
"one chunk" and prints as what it is. Every strategy here draws eagerly and mutates nothing
global; :mod:`agentcat_laws.hypothesis_setup` registers the ``st.from_type`` ones, once, through
Hypothesis' entry point.
"""

from __future__ import annotations

import itertools
import typing
from collections.abc import Sequence
from typing import Any, TypeVar

from attrs import frozen
from hypothesis import strategies as st

from agentcat import (
    BYTES,
    DICT,
    LIST,
    REPLY,
    STR,
    TUPLE,
    Chunk,
    ChunkStream,
    Monoid,
    Reply,
    Text,
    Thinking,
    ToolCall,
    Usage,
    monoid_for,
)
from agentcat.monoids import LAST, ProductMonoid

__all__ = [
    "ChunkPlan",
    "chunk_plans",
    "chunk_streams",
    "chunkings",
    "chunks",
    "chunks_from_type",
    "default_values",
    "rechunkings",
    "replies",
    "split",
    "stream_from_type",
    "texts",
    "utf8_bytes",
    "well_formed",
]

T = TypeVar("T")

_TEXT_ALPHABET = "ab é\n.!?ßİ\u00a0"


@frozen
class ChunkPlan:
    """How to cut a value into deltas, whatever the value turns out to be.

    ``cuts`` are raw offsets, taken modulo ``len(value) + 1``; offsets that land on an end or on
    another cut are ignored, so no delta is empty and the plan shrinks to ``whole`` (no cuts).
    ``each`` cuts between every two elements: one code point of a ``str``, one *byte* of a
    ``bytes`` (inside UTF-8 sequences), one item of a list, tuple or dict. A plan is drawn
    before the value it cuts is known (the output of an agent, say), and prints as itself.
    """

    cuts: tuple[int, ...] = ()
    each: bool = False

    def split(self, value: T) -> list[T]:
        """The deltas of ``value`` under this plan (see :func:`split`)."""
        return split(value, self)

    def __repr__(self) -> str:
        if self.each:
            return "each"
        return "whole" if not self.cuts else f"cuts{self.cuts!r}"


WHOLE = ChunkPlan()
EACH = ChunkPlan(each=True)


def split(value: T, plan: ChunkPlan) -> list[T]:
    """Cut ``value`` into the deltas ``plan`` says, in order, none of them empty.

    ``str``, ``bytes``, lists and tuples are sliced; a dict is cut between its items (the
    ``DICT`` monoid merges them back in order). Any other value cannot be cut: it is one delta.
    An empty value is the empty stream, ``[]``.
    """
    if isinstance(value, dict):
        items = list(value.items())
        return [dict(items[a:b]) for a, b in _bounds(len(items), plan)]  # type: ignore[misc]
    if isinstance(value, str | bytes | list | tuple):
        return [value[a:b] for a, b in _bounds(len(value), plan)]  # type: ignore[misc]
    return [value]


def _bounds(length: int, plan: ChunkPlan) -> list[tuple[int, int]]:
    if length == 0:
        return []
    if plan.each:
        offsets = list(range(length + 1))
    else:
        offsets = sorted({0, length} | {cut % (length + 1) for cut in plan.cuts})
    return list(itertools.pairwise(offsets))


def chunk_plans(max_cuts: int = 8) -> st.SearchStrategy[ChunkPlan]:
    """Chunk plans: a few cuts anywhere, or one element per chunk.

    Up to ``max_cuts`` cuts; the "one element per chunk" extreme is drawn about one time in
    four, so it is checked in every run of a law, whatever the number of examples. Plans
    shrink towards one chunk (no cuts), then towards few, early cuts.
    """
    return st.builds(_plan, st.lists(st.integers(0, 64), max_size=max_cuts), st.integers(0, 3))


def _plan(cuts: list[int], mode: int) -> ChunkPlan:
    return EACH if mode == 3 else ChunkPlan(tuple(cuts))


def chunkings(value: T, max_cuts: int = 8) -> st.SearchStrategy[list[T]]:
    """The ways to cut ``value`` into non-empty deltas, as lists of deltas (see :func:`split`).

    For text this reaches one chunk, one code point per chunk, and white-space-only deltas;
    for ``bytes`` it cuts inside UTF-8 sequences (``'é'.encode()`` into ``[b'\\xc3', b'\\xa9']``).
    """
    return chunk_plans(max_cuts).map(lambda plan: split(value, plan))


def rechunkings(
    deltas: Sequence[T], monoid: Monoid[T] | None = None, max_cuts: int = 8
) -> st.SearchStrategy[list[T]]:
    """Other chunkings of the stream ``deltas``: its accumulation cut again, boundaries moved,
    merged and split (the stream as it is included). ``monoid`` defaults to the one of the
    deltas' type."""
    parts = list(deltas)
    if monoid is None:
        if not parts:
            return st.just([])
        monoid = _monoid_of(parts[0])
    whole = parts[0] if len(parts) == 1 else monoid.concat(parts)
    return st.one_of(st.just(parts), chunkings(whole, max_cuts))


def texts(max_size: int = 10, *, near: Sequence[str] = ()) -> st.SearchStrategy[str]:
    """Short text that trips chunk-sensitive code: spaces, newlines, no-break spaces, sentence
    punctuation, letters that change length when their case does (``ß``, ``İ``), any code
    point now and then. Shrinks towards ``''``.

    With ``near`` (the words a subject looks for: :func:`agentcat_laws.constants.constants_of`
    finds those in its code), half of the texts are made of those words, of pieces of them and
    of a little text between, so that a word, or its start, is there for a chunking to cut
    through: random text alone almost never holds the word a censor looks for.
    """
    plain = st.text(st.sampled_from(_TEXT_ALPHABET), max_size=max_size) | st.text(max_size=4)
    words = [word for word in dict.fromkeys(near) if word]
    if not words:
        return plain
    return plain | _made_of(words, st.text(st.sampled_from(_TEXT_ALPHABET), max_size=2), "")


def utf8_bytes(max_size: int = 10, *, near: Sequence[str | bytes] = ()) -> st.SearchStrategy[bytes]:
    """Valid UTF-8 (encoded :func:`texts`): the input of a byte decoder, whose chunkings
    cut inside multi-byte sequences. With ``near``, as :func:`texts`: half of them made of
    those words (text words encoded) and pieces of them."""
    plain = texts(max_size).map(str.encode)
    words = [w.encode() if isinstance(w, str) else w for w in dict.fromkeys(near) if w]
    if not words:
        return plain
    return plain | _made_of(words, plain.map(lambda b: b[:2]), b"")


def _made_of(
    words: list[Any], filler: st.SearchStrategy[Any], empty: Any
) -> st.SearchStrategy[Any]:
    """Values made of ``words`` whole, pieces of them (a start, an end, a middle) and
    ``filler``, joined: a word cut by the value's own ends, or whole inside it."""
    word = st.sampled_from(words)
    piece = word.flatmap(
        lambda w: st.tuples(st.integers(0, len(w)), st.integers(0, len(w))).map(
            lambda ends: w[min(ends) : max(ends)]
        )
    )
    parts = st.lists(word | piece | filler, min_size=1, max_size=5)
    return parts.map(lambda drawn: empty.join(drawn))


def well_formed(
    deltas: Sequence[T], monoid: Monoid[T], *, last_delta_done: bool = False
) -> list[Chunk[T]]:
    """The chunks of the stream of ``deltas``, as agentcat makes them: prefix sums in
    ``accumulated``, then one terminal ``done`` chunk with an empty delta, or, with
    ``last_delta_done``, the last delta marked ``done`` itself (how a lifted plain agent ends).
    """
    result: list[Chunk[T]] = []
    accumulated = monoid.empty()
    for index, delta in enumerate(deltas):
        accumulated = monoid.combine(accumulated, delta)
        done = last_delta_done and index == len(deltas) - 1
        result.append(Chunk(delta, accumulated, done, index=index))
    if not result or not result[-1].done:
        result.append(Chunk(monoid.empty(), accumulated, True, index=len(result)))
    return result


def chunk_streams(
    values: st.SearchStrategy[T], monoid: Monoid[T] | None = None
) -> st.SearchStrategy[list[Chunk[T]]]:
    """Well-formed chunk streams (laws W1-W4 hold) of drawn values under drawn chunkings.

    ``monoid`` defaults to the one of each value's type.
    """

    @st.composite
    def build(draw: st.DrawFn) -> list[Chunk[T]]:
        value = draw(values)
        found = monoid or _monoid_of(value)
        deltas = draw(chunkings(value))
        ends_on_delta = bool(deltas) and draw(st.booleans())
        return well_formed(deltas, found, last_delta_done=ends_on_delta)

    return build()


def chunks(
    values: st.SearchStrategy[T], monoid: Monoid[T] | None = None
) -> st.SearchStrategy[Chunk[T]]:
    """Single chunks that could stand in a well-formed stream: ``accumulated`` is some
    earlier value combined with ``delta``."""

    @st.composite
    def build(draw: st.DrawFn) -> Chunk[T]:
        before, delta = draw(values), draw(values)
        found = monoid or _monoid_of(delta)
        done = draw(st.booleans())
        index = draw(st.integers(0, 20))
        return Chunk(delta, found.combine(before, delta), done, index=index)

    return build()


def replies(max_fragments: int = 4) -> st.SearchStrategy[Reply]:
    """Replies, or deltas of one, whose parts interleave: text, thinking and tool-call
    fragments drawn from three keys (so the fragments of one part meet at a junction often,
    and two parts of one kind alternate), now and then blank, with usage, a stop reason and
    metadata now and then. Shrinks towards the empty reply."""
    keys = st.integers(0, 2)
    bits = st.text(st.sampled_from('ab {}":,'), max_size=3)
    fragment = st.one_of(
        st.builds(Text, keys, bits),
        st.builds(Thinking, keys, bits, bits),
        st.builds(ToolCall, keys, bits, bits, bits),
    )
    usage = st.builds(Usage, st.integers(0, 5), st.integers(0, 5), reported=st.booleans())
    return st.builds(
        Reply,
        st.lists(fragment, max_size=max_fragments).map(tuple),
        st.just(Usage()) | usage,
        st.none() | st.sampled_from(["end_turn", "tool_use", "max_tokens"]),
        st.just({}) | st.dictionaries(st.sampled_from("mr"), st.integers(0, 2), max_size=2),
    )


def default_values(monoid: Monoid[Any]) -> st.SearchStrategy[Any] | None:
    """Values of a built-in monoid's type (``None`` for a monoid this module does not know)."""
    if isinstance(monoid, ProductMonoid):
        parts = [default_values(component) for component in monoid.components]
        if any(part is None for part in parts):
            return None
        return st.tuples(*typing.cast(list[st.SearchStrategy[Any]], parts))
    known: dict[str, st.SearchStrategy[Any]] = {
        STR.name: texts(),
        BYTES.name: utf8_bytes() | st.binary(max_size=6),
        LIST.name: st.lists(st.integers(-3, 3), max_size=5),
        TUPLE.name: st.lists(st.integers(-3, 3), max_size=5).map(tuple),
        DICT.name: st.dictionaries(st.sampled_from("abcd"), st.integers(-3, 3), max_size=4),
        LAST.name: st.none() | st.integers(-3, 3),
        REPLY.name: replies(),
    }
    for builtin in (STR, BYTES, LIST, TUPLE, DICT, LAST, REPLY):
        if monoid is builtin:
            return known[builtin.name]
    return None


def _monoid_of(value: object) -> Monoid[Any]:
    found = monoid_for(type(value))
    return found if found is not None else LAST


def _value_type(thing: object) -> object:
    args = typing.get_args(thing)
    return args[0] if args else str


def _values_of(kind: object) -> tuple[st.SearchStrategy[Any], Monoid[Any]]:
    monoid = monoid_for(kind)
    if monoid is None:
        raise TypeError(
            f"agentcat_laws cannot draw chunks of {kind!r}: it has no monoid (set "
            "__agentcat_monoid__ on the class, or use agentcat_laws.chunks(values, monoid))"
        )
    values = texts() if kind is str else default_values(monoid)
    return (values if values is not None else st.from_type(kind)), monoid  # type: ignore[arg-type]


def chunks_from_type(thing: type[Chunk[Any]]) -> st.SearchStrategy[Chunk[Any]]:
    """What ``st.from_type(Chunk[T])`` draws: a chunk whose ``accumulated`` ends with its
    ``delta`` in the sense of ``T``'s monoid (``Chunk`` alone means ``Chunk[str]``)."""
    values, monoid = _values_of(_value_type(thing))
    return chunks(values, monoid)


def stream_from_type(thing: type[ChunkStream[Any]]) -> st.SearchStrategy[ChunkStream[Any]]:
    """What ``st.from_type(ChunkStream[T])`` draws: a fresh, unread stream of drawn deltas,
    made by agentcat itself (so well-formed), named after its deltas."""
    values, monoid = _values_of(_value_type(thing))

    @st.composite
    def build(draw: st.DrawFn) -> ChunkStream[Any]:
        deltas = draw(chunkings(draw(values)))
        return ChunkStream.of(deltas, monoid)

    return build()
