"""Streaming agents: ``lift(f)`` is an ``Agent[A, AsyncIterator[Chunk[B]]]``, and streaming
pipelines type-check, each with the exact type mypy must infer for it (``assert_type``); the
lines that end with ``# type: ignore[code]`` must be rejected with that error code.

A plain operand next to a streaming one is lifted, whatever the order, and the result streams:
the mixed cases pin that for ``>>``, ``&``, ``*``, ``with_fallback`` and ``with_retry``.
"""

from collections.abc import AsyncIterator
from typing import assert_type

from agentcat import (
    Agent,
    Chunk,
    StreamingAgent,
    StreamingFanOut,
    agent,
    forward,
    lift,
    map_deltas,
    streaming,
    transducer,
)


@agent
def parse(text: str) -> int:
    return int(text)


@agent
def render(number: int) -> str:
    return str(number)


@agent
async def tokens(prompt: str) -> AsyncIterator[str]:
    yield prompt


@transducer
async def shout(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
    async for delta in deltas:
        yield delta.upper()


def upper(delta: str) -> str:
    return delta.upper()


lifted: Agent[str, AsyncIterator[Chunk[int]]] = lift(parse)
assert_type(lift(parse), StreamingAgent[str, int])
assert_type(lift(tokens), StreamingAgent[str, str])
assert_type(lift(parse) >> lift(render), StreamingAgent[str, str])
assert_type(lift(tokens) >> shout >> map_deltas(upper), StreamingAgent[str, str])
assert_type(parse >> lift(render), StreamingAgent[str, str])
assert_type(lift(tokens) & lift(parse), StreamingFanOut[str, str, int])
assert_type(lift(tokens) & shout & lift(parse), StreamingFanOut[str, str, str, int])
assert_type(lift(tokens) * lift(render), StreamingAgent[tuple[str, int], tuple[str, str]])
assert_type(lift(tokens).with_fallback(shout), StreamingAgent[str, str])
text: StreamingAgent[str, str] = forward

lift(parse) >> lift(parse)  # type: ignore[arg-type]
lift(tokens) >> lift(render)  # type: ignore[operator]
lift(parse) >> shout  # type: ignore[operator]
lift(tokens) & lift(render)  # type: ignore[operator]
wrong: Agent[str, AsyncIterator[Chunk[str]]] = lift(parse)  # type: ignore[arg-type]


# Mixed operands: a plain agent next to a streaming one is lifted, on either side.
@agent
def up(text: str) -> str:
    return text.upper()


@agent
def count(number: int) -> int:
    return number + 1


@streaming
async def model(prompt: str) -> AsyncIterator[str]:
    yield prompt


echo = lift(up)  # a streaming agent made by `lift` rather than `@streaming`
counter = lift(count)

assert_type(model, StreamingAgent[str, str])
assert_type(echo, StreamingAgent[str, str])
assert_type(counter, StreamingAgent[int, int])

# sequence
assert_type(up >> model, StreamingAgent[str, str])
assert_type(model >> up, StreamingAgent[str, str])
assert_type(up >> echo, StreamingAgent[str, str])
assert_type(echo >> up, StreamingAgent[str, str])

# fan-out
assert_type(model & up, StreamingFanOut[str, str, str])
assert_type(up & model, StreamingFanOut[str, str, str])
assert_type(echo & up, StreamingFanOut[str, str, str])
assert_type(up & echo, StreamingFanOut[str, str, str])
assert_type(model & up & parse, StreamingFanOut[str, str, str, int])
assert_type((up & parse) & model, StreamingFanOut[str, str, int, str])

# parallel
assert_type(model * up, StreamingAgent[tuple[str, str], tuple[str, str]])
assert_type(up * model, StreamingAgent[tuple[str, str], tuple[str, str]])

# resilience
assert_type(up.with_fallback(model), StreamingAgent[str, str])
assert_type(model.with_fallback(up), StreamingAgent[str, str])
assert_type(up.with_fallback(up, model), StreamingAgent[str, str])
assert_type(up.with_fallback(model, up), StreamingAgent[str, str])
assert_type(up.with_fallback(up, up), Agent[str, str])
assert_type(model.with_retry(2), StreamingAgent[str, str])

# mismatches are still rejected in mixed form
model >> count  # type: ignore[operator]
count >> model  # type: ignore[operator]
model & count  # type: ignore[operator]
count & model  # type: ignore[operator]
(up & parse) & counter  # type: ignore[operator]
model.with_fallback(count)  # type: ignore[arg-type]
up.with_fallback(counter)  # type: ignore[arg-type]
