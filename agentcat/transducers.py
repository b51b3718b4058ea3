"""Transducers: streaming stages that take their input a piece at a time, and built-in ones."""

from __future__ import annotations

import functools
import re
import typing
from abc import abstractmethod
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar, final, overload

from attrs import field, frozen

from agentcat._annotations import hints_of
from agentcat._functions import check_function, name_of
from agentcat._meta import NoPublicConstructor, create
from agentcat._runtime import DeltaStep, given, stepped
from agentcat._structure import Node
from agentcat.monoids import Monoid, monoid_for
from agentcat.streaming import StreamingAgent

__all__ = [
    "FilterDeltas",
    "Forward",
    "FunctionTransducer",
    "MapDeltas",
    "SplitSentences",
    "Transducer",
    "filter_deltas",
    "forward",
    "map_deltas",
    "split_sentences",
    "transducer",
]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)
T = TypeVar("T")
X = TypeVar("X")
Y = TypeVar("Y")


class Transducer(StreamingAgent[In, Out]):
    """A streaming stage that passes pieces on as they arrive: define :meth:`transduce`.

    Fed a whole value, it sees a stream of one delta. It is *sound* when its output accumulates
    to the same value however its input is chunked (law S3); ``agentcat-laws`` checks that.
    """

    __slots__ = ()

    @abstractmethod
    def transduce(self, source: AsyncIterator[In], /) -> AsyncIterator[Out]:
        """The output deltas, produced while the input deltas arrive from ``source``."""

    @property
    def needs_whole_input(self) -> bool:
        return False

    def open(self, value: In, /) -> AsyncIterator[Out]:
        return self.transduce(given(value))


@final
@frozen(repr=False)
class FunctionTransducer(Transducer[In, Out], metaclass=NoPublicConstructor):
    """A transducer made of an ``async`` generator function (see :func:`transducer`)."""

    _built_by = "@transducer"

    function: Callable[[AsyncIterator[In]], AsyncIterator[Out]]
    given_monoid: Monoid[Out] | None = field(default=None, alias="monoid")

    def transduce(self, source: AsyncIterator[In], /) -> AsyncIterator[Out]:
        return self.function(source)

    @property
    def name(self) -> str:
        return name_of(self.function)

    @property
    def input_type(self) -> object | None:
        return _element(hints_of(self.function)[0])

    @property
    def element_type(self) -> object | None:
        return _element(hints_of(self.function)[1])

    @functools.cached_property
    def monoid(self) -> Monoid[Out] | None:
        return self.given_monoid or monoid_for(self.element_type)


def _element(annotation: object | None) -> object | None:
    args = typing.get_args(annotation)
    return args[0] if args else None


@overload
def transducer(
    function: Callable[[AsyncIterator[X]], AsyncIterator[Y]],
    /,
    *,
    monoid: Monoid[Y] | None = None,
) -> Transducer[X, Y]: ...
@overload
def transducer(
    *, monoid: Monoid[Y]
) -> Callable[[Callable[[AsyncIterator[X]], AsyncIterator[Y]]], Transducer[X, Y]]: ...
def transducer(function: Any = None, /, *, monoid: Any = None) -> Any:
    """Make a transducer of an ``async`` generator function from an iterator of input deltas
    to output deltas: ``async def shout(deltas: AsyncIterator[str]) -> AsyncIterator[str]``.
    ``@transducer(monoid=...)`` says how its output deltas accumulate when the annotation does
    not.

    Raises:
        CompositionError: ``function`` is not an async generator function of one argument.
    """
    if function is None and monoid is not None:
        return lambda inner: transducer(inner, monoid=monoid)
    check_function("@transducer", function, "async generator")
    return create(FunctionTransducer, function, monoid)


@final
@frozen(repr=False)
class MapDeltas(Transducer[In, Out], metaclass=NoPublicConstructor):
    """``map_deltas(f)``: ``f`` applied to every delta as it passes.

    Sound exactly when ``f`` is a monoid homomorphism (``f(e) = e``, ``f(x + y) = f(x) + f(y)``,
    like ``str.upper``); consecutive maps are fused into one step.
    """

    _built_by = "map_deltas(function)"

    function: Callable[[In], Out]
    given_monoid: Monoid[Out] | None = field(default=None, alias="monoid")

    def transduce(self, source: AsyncIterator[In], /) -> AsyncIterator[Out]:
        return stepped([self._delta_step], source)

    @functools.cached_property
    def _delta_step(self) -> DeltaStep:  # type: ignore[override]
        return DeltaStep(False, self.function)

    @functools.cached_property
    def monoid(self) -> Monoid[Out] | None:
        return self.given_monoid or monoid_for(self.element_type)

    def monoid_after(self, upstream: Monoid[Any] | None, /) -> Monoid[Out] | None:
        """Without an annotation or ``monoid=``, the map is taken to keep the delta type (as
        ``str.upper`` does)."""
        if self.monoid is not None or self.element_type is not None:
            return self.monoid
        return upstream

    @property
    def name(self) -> str:
        return f"map_deltas({name_of(self.function)})"

    @property
    def input_type(self) -> object | None:
        return hints_of(self.function)[0]

    @property
    def element_type(self) -> object | None:
        return hints_of(self.function)[1]


def map_deltas(
    function: Callable[[X], Y], /, *, monoid: Monoid[Y] | None = None
) -> MapDeltas[X, Y]:
    """A transducer that maps each delta with ``function`` (a homomorphism, for soundness);
    ``monoid`` says how the mapped deltas accumulate when ``function`` is not annotated and
    changes the type.

    Raises:
        CompositionError: ``function`` is not a function of one delta.
    """
    check_function("map_deltas()", function)
    return create(MapDeltas, function, monoid)


@final
@frozen(repr=False)
class Forward(Transducer[Any, Any], metaclass=NoPublicConstructor):
    """The forwarding transducer: every delta passes on unchanged, at once."""

    _built_by = "agentcat.forward, the one forwarder"
    _forwards = True

    async def transduce(self, source: AsyncIterator[Any], /) -> AsyncIterator[Any]:
        async for delta in source:
            yield delta

    def monoid_after(self, upstream: Monoid[Any] | None, /) -> Monoid[Any] | None:
        return upstream

    def describe(self) -> Node:
        return Node("agent", "forward")


forward = create(Forward)
"""The streaming identity: every delta passes on unchanged, at once."""


@final
@frozen(repr=False)
class FilterDeltas(Transducer[T, T], metaclass=NoPublicConstructor):
    """``filter_deltas(keep)``: only the deltas for which ``keep`` is true pass on.

    Depends on how its input is chunked unless ``keep`` looks at something chunking preserves.
    """

    _built_by = "filter_deltas(keep)"

    keep: Callable[[T], bool]

    def transduce(self, source: AsyncIterator[T], /) -> AsyncIterator[T]:
        return stepped([self._delta_step], source)

    @functools.cached_property
    def _delta_step(self) -> DeltaStep:  # type: ignore[override]
        return DeltaStep(True, self.keep)

    def monoid_after(self, upstream: Monoid[Any] | None, /) -> Monoid[T] | None:
        return upstream

    @property
    def name(self) -> str:
        return f"filter_deltas({name_of(self.keep)})"


def filter_deltas(keep: Callable[[X], bool], /) -> FilterDeltas[X]:
    """A transducer that passes on only the deltas ``keep`` accepts.

    Raises:
        CompositionError: ``keep`` is not a predicate of one delta.
    """
    check_function("filter_deltas()", keep)
    return create(FilterDeltas, keep)


_ENDS = ".!?\u2026"
"""Punctuation that ends a sentence where white space follows it."""
_FULL_WIDTH_ENDS = "\u3002\uff01\uff1f"
"""Full-width punctuation that ends a sentence by itself (。！？: CJK writes no space after)."""
_CLOSERS = "\"'\u201d\u2019)]\u300d\u300f\uff09"
"""What may close a sentence after its punctuation: quotes and brackets (」』） too)."""
_SENTENCE_END = re.compile(
    f"[{re.escape(_ENDS)}]+[{re.escape(_CLOSERS)}]*\\s+"
    f"|[{re.escape(_FULL_WIDTH_ENDS)}]+[{re.escape(_CLOSERS)}]*\\s*"
)


def _open_end(text: str) -> int:
    """Where an end of sentence may still be growing at the end of ``text`` (its punctuation,
    closers and white space so far), or ``len(text)`` if none is: the next delta is searched
    from there, so no text is searched twice."""
    index = len(text)
    while index and text[index - 1].isspace():
        index -= 1
    while index and text[index - 1] in _CLOSERS:
        index -= 1
    start = index
    while start and text[start - 1] in _ENDS + _FULL_WIDTH_ENDS:
        start -= 1
    return start if start < index else len(text)


@final
@frozen(repr=False)
class SplitSentences(Transducer[str, str], metaclass=NoPublicConstructor):
    """Text in, one delta per complete sentence out (with its trailing white space), each
    passed on as soon as its end is certain: the white space after its final punctuation, or
    for full-width punctuation (。！？) the next character that is not a closer. The rest of the
    text comes last. Sound: the output adds up to the input for every chunking. Linear in its
    input: each character is searched once."""

    _built_by = "agentcat.split_sentences"

    async def transduce(self, source: AsyncIterator[str], /) -> AsyncIterator[str]:
        pending = ""  # the text not passed on yet
        searched = 0  # no end of sentence starts in pending[:searched] any more
        async for delta in source:
            pending += delta
            start = 0
            for end in _SENTENCE_END.finditer(pending, searched):
                if end.end() == len(pending):  # it may still grow with the next delta
                    break
                yield pending[start : end.end()]
                start = end.end()
            pending = pending[start:]
            searched = _open_end(pending)
        if pending:
            yield pending

    @property
    def element_type(self) -> object | None:
        return str

    def describe(self) -> Node:
        return Node("agent", "split_sentences")


split_sentences = create(SplitSentences)
"""Text in, one delta per complete sentence out (see :class:`SplitSentences`)."""
