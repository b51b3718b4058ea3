"""A gallery of broken implementations, each one mistake that a law must catch.

Each entry is small and plausible: the kind of bug a user (or agentcat itself) could ship.
``tests/test_laws_gallery.py`` checks that the laws catch each with a small counterexample;
``FIXED`` holds correct versions of some, which must pass.
"""

from __future__ import annotations

import codecs
from collections.abc import AsyncIterator
from typing import Any

from agentcat_laws import Combinators, chunk_source
from returns.result import Failure, Result, Success

from agentcat import STR, Agent, Chunk, Monoid, agent, map_deltas, transducer

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
