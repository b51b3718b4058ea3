"""A gallery of broken implementations, each one mistake that a law must catch.

Each entry is small and plausible: the kind of bug a user (or agentcat itself) could ship.
``tests/test_laws_gallery.py`` checks that the laws catch each with a small counterexample;
correct versions of some are here too, and must pass.

Entries 10-17 are caught only by the laws that compare with a reference built from the plain
functions, or that look beyond values (chunk counts, lock-step, closing, error position): every
law that compares a thing with itself passes them. They replace one combinator of agentcat's
(the core cannot be broken from here), so they are checked as ``Combinators``.
"""

from __future__ import annotations

import codecs
from collections.abc import AsyncIterator
from typing import Any

from agentcat_laws import AGENTCAT, Combinators, chunk_source
from attrs import frozen
from returns.result import Failure, Result, Success

from agentcat import (
    STR,
    Agent,
    Chunk,
    Id,
    Monoid,
    StreamingAgent,
    agent,
    filter_deltas,
    lift,
    map_deltas,
    transducer,
)
from agentcat.transducers import MapDeltas

AnyAgent = Agent[Any, Any]


# 1. Composition in the wrong order: ``f >> g`` runs g first.
def _backwards(f: AnyAgent, g: AnyAgent) -> AnyAgent:
    return g >> f


WRONG_ORDER = Combinators("composition in the wrong order", compose=_backwards)


# 2. Chunk-wise feeding of a non-homomorphic stage: doubling each delta doubles each chunk,
#    which is not doubling the text ("ab" -> "abab", but "a", "b" -> "aabb").
def double(delta: str) -> str:
    return delta + delta


DOUBLE_EACH_DELTA = map_deltas(double)


# 3-5. Hand-made chunk streams (an adapter of a provider's stream, say).
async def _chunks_of(
    text: str, *, drop: int | None = None, final_twice: bool = False, first_done: bool = False
) -> AsyncIterator[Chunk[str]]:
    accumulated = ""
    index = 0
    for position, character in enumerate(text):
        accumulated += character
        if position == drop:
            continue  # the delta is lost, but it still counts in accumulated
        yield Chunk(character, accumulated, first_done and position == 0, index=index)
        index += 1
    final = Chunk("", accumulated, True, index=index)
    yield final
    if final_twice:
        yield final


async def drops_a_delta(text: str) -> AsyncIterator[Chunk[str]]:
    async for chunk in _chunks_of(text, drop=1):
        yield chunk


async def repeats_the_final_chunk(text: str) -> AsyncIterator[Chunk[str]]:
    async for chunk in _chunks_of(text, final_twice=True):
        yield chunk


async def done_too_early(text: str) -> AsyncIterator[Chunk[str]]:
    async for chunk in _chunks_of(text, first_done=True):
        yield chunk


async def well_made(text: str) -> AsyncIterator[Chunk[str]]:
    async for chunk in _chunks_of(text):
        yield chunk


DROPPED_DELTA = chunk_source(drops_a_delta, monoid=STR)
DUPLICATED_FINAL = chunk_source(repeats_the_final_chunk, monoid=STR)
DONE_NOT_LAST = chunk_source(done_too_early, monoid=STR)
WELL_MADE = chunk_source(well_made, monoid=STR)


# 6. An accumulation that strips white space (to "clean up" model output as it arrives).
def _strip_join(parts: Any) -> str:
    return "".join(parts).strip()


STRIPPING = Monoid[str]("stripped str", str, lambda a, b: (a + b).strip(), _strip_join)


# 7. A fan-out that runs a branch twice (say, a retry that re-runs a branch that succeeded).
class RunsFirstBranchTwice(Agent[Any, tuple[Any, Any]]):
    __slots__ = ("first", "second")

    def __init__(self, first: AnyAgent, second: AnyAgent) -> None:
        self.first, self.second = first, second

    async def invoke(self, value: Any, /) -> tuple[Any, Any]:
        await self.first.invoke(value)
        return await self.first.invoke(value), await self.second.invoke(value)


def _fan_out_twice(f: AnyAgent, g: AnyAgent) -> AnyAgent:
    return RunsFirstBranchTwice(f, g)


BRANCH_TWICE = Combinators("fan-out that runs a branch twice", fan_out=_fan_out_twice)


# 8. A failure that still invokes the next stage: an agent that returns a Result but is a
#    plain agent (not made with as_result), so ``>>`` hands its Failure to the next stage.
@agent
async def parse_number(text: str) -> Result[int, ValueError]:
    if text.isdigit():
        return Success(int(text))
    return Failure(ValueError(f"not a number: {text!r}"))


# 9. A byte transducer that splits UTF-8 sequences: it decodes each chunk on its own.
@transducer
async def decode_each_chunk(chunks: AsyncIterator[bytes]) -> AsyncIterator[str]:
    async for chunk in chunks:
        yield chunk.decode("utf-8", errors="replace")


# The correct decoder keeps the bytes of an unfinished sequence for the next chunk.
@transducer
async def decode_incrementally(chunks: AsyncIterator[bytes]) -> AsyncIterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    async for chunk in chunks:
        if text := decoder.decode(chunk):
            yield text
    if rest := decoder.decode(b"", final=True):
        yield rest


# 10. A ``>>`` that runs a chain of three or more stages backwards (a "flattening" that builds
#     the list of stages in the wrong order). Two stages run in order, so C0 holds; every
#     bracketing of four is the same reversed chain, so C3 holds.
@frozen(repr=False)
class Chain(Agent[Any, Any]):
    stages: tuple[AnyAgent, ...]

    async def invoke(self, value: Any, /) -> Any:
        order = reversed(self.stages) if len(self.stages) >= 3 else self.stages
        for stage in order:
            value = await stage.invoke(value)
        return value


def _stages(agent: AnyAgent) -> tuple[AnyAgent, ...]:
    return agent.stages if isinstance(agent, Chain) else (agent,)


def _reversing(f: AnyAgent, g: AnyAgent) -> AnyAgent:
    if f is Id or g is Id:
        return g if f is Id else f
    if isinstance(f, StreamingAgent) or isinstance(g, StreamingAgent):
        return f >> g
    return Chain(_stages(f) + _stages(g))


REVERSED_CHAINS = Combinators("a >> that reverses chains of three", compose=_reversing)


# 11. A fan-out of three or more branches that swaps the first two outputs (a flat fan-out
#     built by extending a tuple, with an off-by-one). Two branches are right, so P1-P5 hold.
@frozen(repr=False)
class Fan(Agent[Any, Any]):
    branches: tuple[AnyAgent, ...]

    async def invoke(self, value: Any, /) -> Any:
        outputs = [await branch.invoke(value) for branch in self.branches]
        if len(outputs) >= 3:
            outputs[0], outputs[1] = outputs[1], outputs[0]
        return tuple(outputs)


def _swapping(f: AnyAgent, g: AnyAgent) -> AnyAgent:
    if isinstance(f, StreamingAgent) or isinstance(g, StreamingAgent):
        return f & g
    return Fan((*(f.branches if isinstance(f, Fan) else (f,)), g))


SWAPPED_FAN_OUT = Combinators("a fan-out that swaps two of three outputs", fan_out=_swapping)


# 12. An inverted filter: filter_deltas(p) passes the deltas p rejects. Fed any chunking, it
#     gives the same for the same input, so it is sound (S3) whatever p is.
def _inverted(keep: Any) -> AnyAgent:
    def rejected(delta: str) -> bool:
        return not keep(delta)

    return filter_deltas(rejected)


INVERTED_FILTER = Combinators("an inverted filter", filter_deltas=_inverted, streaming=True)


# 13. A map_deltas that reads one delta ahead (to know which delta is the last, say): every
#     delta is right and in order, but each waits for the next one to arrive.
_NOTHING: Any = object()


def _reading_ahead(function: Any) -> AnyAgent:
    @transducer
    async def ahead(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
        held = _NOTHING
        async for delta in deltas:
            if held is not _NOTHING:
                yield function(held)
            held = delta
        if held is not _NOTHING:
            yield function(held)

    return ahead


READS_AHEAD = Combinators(
    "a map that reads one delta ahead", map_deltas=_reading_ahead, streaming=True
)


# 14. A >> that fuses two adjacent maps in the wrong order: map(f) >> map(g) as map(f ∘ g).
def _fusing_backwards(f: AnyAgent, g: AnyAgent) -> AnyAgent:
    if isinstance(f, MapDeltas) and isinstance(g, MapDeltas):
        first, then = f.function, g.function

        def fused(delta: str) -> str:
            done: str = first(then(delta))  # g's function first: the wrong way round
            return done

        return map_deltas(fused)
    return f >> g


FUSED_BACKWARDS = Combinators(
    "a fusion of maps in the wrong order", compose=_fusing_backwards, streaming=True
)


# 15-17. Lifts that wrap the agent's output: a plain agent's value as a one-delta stream (so a
#     whole-input stage ends with an empty terminal chunk after its delta), a stream in an
#     iterator without aclose (so closing the stream cannot reach its source), a stream that
#     ends quietly where its source fails (a dropped connection taken for the end).
@frozen(repr=False)
class Wrapped(Agent[Any, Any]):
    agent: AnyAgent
    wrap: Any

    async def invoke(self, value: Any, /) -> Any:
        return self.wrap(await self.agent.invoke(value))

    @property
    def name(self) -> str:
        return self.agent.name


async def _one_delta(value: Any) -> AsyncIterator[Any]:
    yield value


class NoClose(AsyncIterator[Any]):
    """An iterator over another, without aclose."""

    __slots__ = ("_inner",)

    def __init__(self, inner: AsyncIterator[Any]) -> None:
        self._inner = inner

    async def __anext__(self) -> Any:
        return await anext(self._inner)


async def _until_failure(inner: Any) -> AsyncIterator[Any]:
    try:
        async for delta in inner:
            yield delta
    except Exception:
        return
    finally:
        await inner.aclose()


def _streams(output: Any) -> bool:
    return isinstance(output, AsyncIterator)


def _lifting(wrap: Any) -> Any:
    def lifted(agent: AnyAgent, monoid: Monoid[Any] | None) -> StreamingAgent[Any, Any]:
        if isinstance(agent, StreamingAgent) or agent is Id:
            return AGENTCAT.lift(agent, monoid)
        return lift(Wrapped(agent, wrap), monoid=monoid)

    return lifted


TWO_CHUNKS = Combinators(
    "a lift that ends a plain value with an empty chunk",
    lift=_lifting(lambda output: output if _streams(output) else _one_delta(output)),
)
UNCLOSED_SOURCE = Combinators(
    "a stream that does not close its source",
    lift=_lifting(lambda output: NoClose(output) if _streams(output) else output),
    streaming=True,
)
QUIET_FAILURE = Combinators(
    "a stream that ends quietly where its source fails",
    lift=_lifting(lambda output: _until_failure(output) if _streams(output) else output),
    streaming=True,
)
