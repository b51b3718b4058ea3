"""Streaming agents: ``lift(f)`` is an ``Agent[A, AsyncIterator[Chunk[B]]]``, and streaming
pipelines type-check (revealed types are pinned); the lines marked ``# error`` must not."""

from collections.abc import AsyncIterator

from agentcat import Agent, Chunk, StreamingAgent, agent, forward, lift, map_deltas, transducer


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
reveal_type(lift(parse))
reveal_type(lift(tokens))
reveal_type(lift(parse) >> lift(render))
reveal_type(lift(tokens) >> shout >> map_deltas(upper))
reveal_type(parse >> lift(render))
reveal_type(lift(tokens) & lift(parse))
reveal_type(lift(tokens) & shout & lift(parse))
reveal_type(lift(tokens) * lift(render))
reveal_type(lift(tokens).with_fallback(shout))
text: StreamingAgent[str, str] = forward

lift(parse) >> lift(parse)  # error
lift(tokens) >> lift(render)  # error
lift(parse) >> shout  # error
lift(tokens) & lift(render)  # error
wrong: Agent[str, AsyncIterator[Chunk[str]]] = lift(parse)  # error
