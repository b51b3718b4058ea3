"""The token never waits: through 20 transducers, token k+1 exists only after token k arrived."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest

from agentcat import StreamingAgent, filter_deltas, forward, map_deltas, transducer
from tests.streams import Gate

pytestmark = pytest.mark.anyio


@transducer
async def tag(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
    async for delta in deltas:
        yield delta.upper()


@transducer
async def hoard(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
    """A stage that buffers: it emits deltas two at a time."""
    held: list[str] = []
    async for delta in deltas:
        held.append(delta)
        if len(held) == 2:
            yield "".join(held)
            held.clear()
    if held:
        yield "".join(held)


def twenty_stages(
    gate: Gate, middle: StreamingAgent[str, str] = forward
) -> StreamingAgent[str, str]:
    kinds: list[StreamingAgent[str, str]] = [
        forward,
        tag,
        map_deltas(str.lower),
        filter_deltas(bool),
    ]
    pipeline: StreamingAgent[str, str] = gate
    for index in range(20):
        pipeline = pipeline >> (middle if index == 10 else kinds[index % len(kinds)])
    return pipeline


async def run_in_lockstep(
    gate: Gate, pipeline: StreamingAgent[str, str], deadlock_after: float = 5
) -> list[str]:
    received: list[str] = []
    with anyio.fail_after(deadlock_after):  # a deadlock, not a duration, is what fails here
        async with pipeline.stream("go") as stream:
            async for chunk in stream:
                if chunk.delta:
                    received.append(chunk.delta)
                    gate.receive()
    return received


async def test_each_token_reaches_the_end_before_the_next_is_produced() -> None:
    gate = Gate(50)
    received = await run_in_lockstep(gate, twenty_stages(gate))
    assert received == [f"t{index} " for index in range(50)]


async def test_a_buffering_stage_breaks_the_lockstep() -> None:
    gate = Gate(50)
    with pytest.raises(TimeoutError):
        await run_in_lockstep(gate, twenty_stages(gate, middle=hoard), deadlock_after=0.5)


async def test_lockstep_holds_through_a_fan_out_of_transducers() -> None:
    gate = Gate(30)
    pipeline = gate >> forward >> (tag & map_deltas(str.lower)) >> forward
    received: list[str] = []
    with anyio.fail_after(5):
        async with pipeline.stream("go") as stream:
            async for chunk in stream:
                upper, lower = chunk.delta
                received.append(upper or lower)
                if lower:
                    gate.receive()
    assert [token for token in received if token.islower()] == [f"t{i} " for i in range(30)]
