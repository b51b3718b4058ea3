"""A stage on Ray streams as it does locally: the same chunks (law RT1), the same kind, the
same ``repr`` and type checks, and an ordinary stream on the driver (replay, ``await``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from agentcat_ray import RemoteAgent, RemoteStage, on_ray
from ray_cluster import chunks_of

from agentcat import (
    CompositionError,
    EmbeddedModel,
    MessengerAgent,
    StreamingAgent,
    agent,
    lift,
    map_deltas,
    split_sentences,
    streaming,
    text_of,
    transducer,
)

pytestmark = pytest.mark.anyio


@agent
def strip(text: str) -> str:
    return text.strip()


@agent
def length(text: str) -> int:
    return len(text)


@streaming
async def words(text: str) -> AsyncIterator[str]:
    for word in text.split():
        yield word + " "


@streaming
async def nothing(text: str) -> AsyncIterator[str]:
    for _ in ():
        yield text


@transducer
async def lower(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
    async for delta in deltas:
        yield delta.lower()


LOCAL: dict[str, Any] = {
    "plain": strip,
    "plain int": length,
    "whole-input": words,
    "empty": nothing,
    "transducer": lower,
    "pipeline": words >> lower >> split_sentences,
    "model": EmbeddedModel(pace=0) >> map_deltas(text_of),
}
REMOTE = {name: on_ray(subject) for name, subject in LOCAL.items()}
TEXT = "Hello World. Streams stay streams. "


@pytest.mark.parametrize("name", LOCAL)
async def test_a_remote_stage_gives_the_chunks_of_the_local_one(name: str) -> None:
    local, remote = lift(LOCAL[name]), lift(REMOTE[name])
    expected = await chunks_of(local.stream(TEXT))
    assert await chunks_of(remote.stream(TEXT)) == expected
    assert expected  # (an empty stream is its one terminal chunk)


async def test_a_remote_fan_out_gives_each_branch_its_local_deltas() -> None:
    fan = words & lower
    local = await chunks_of(fan.stream(TEXT))
    remote = await chunks_of(on_ray(fan).stream(TEXT))
    for side in (0, 1):  # the branches interleave as the actor's loop runs them
        assert [d[side] for d, _ in remote if d[side]] == [d[side] for d, _ in local if d[side]]
    assert remote[-1][1]
    assert sum(done for _, done in remote) == 1


async def test_a_remote_transducer_in_a_pipeline_passes_each_delta_on() -> None:
    pipeline = words >> REMOTE["transducer"] >> map_deltas(str.upper)
    assert await chunks_of(pipeline.stream("A b C")) == [
        ("A ", False),
        ("B ", False),
        ("C ", False),
        ("", True),
    ]


def test_the_kind_never_changes() -> None:
    kinds = type(REMOTE["plain"]).__mro__
    assert RemoteAgent in kinds
    assert StreamingAgent not in kinds
    for name in ("whole-input", "transducer", "pipeline", "model"):
        assert isinstance(REMOTE[name], RemoteStage)
        assert REMOTE[name].needs_whole_input == LOCAL[name].needs_whole_input
    assert not REMOTE["transducer"].needs_whole_input
    assert REMOTE["whole-input"].needs_whole_input


def test_repr_writes_on_ray_around_the_structure() -> None:
    pipeline = strip >> on_ray(words >> lower >> split_sentences) >> map_deltas(str.upper)
    assert repr(pipeline) == (
        "lift(strip) >> on_ray(words >> lower >> split_sentences) >> map_deltas(upper)"
    )
    assert repr(on_ray(strip & length)) == "on_ray(strip & length)"


def test_composition_checks_the_types_as_before() -> None:
    with pytest.raises(CompositionError, match="int"):
        REMOTE["plain int"] >> strip
    assert (REMOTE["plain"] >> length).output_type is int
    assert REMOTE["whole-input"].element_type is str


async def test_a_plain_remote_agent_is_one_call() -> None:
    assert await REMOTE["plain"].invoke("  padded  ") == "padded"
    assert await (REMOTE["plain"] >> length).invoke("  four  ") == 4


async def test_the_driver_stream_replays_and_awaits() -> None:
    stream = REMOTE["pipeline"].stream(TEXT)
    first = await chunks_of(stream)
    assert [chunk async for chunk in stream] == [chunk async for chunk in stream]
    assert [(c.delta, c.done) async for c in stream] == first
    assert await stream == "hello world. streams stay streams. "
    assert await REMOTE["whole-input"].stream("a b") == "a b "


async def test_a_session_talks_to_a_remote_model_with_its_metrics() -> None:
    session = MessengerAgent(on_ray(EmbeddedModel(pace=0)))
    session.send("Tell me about streams.")
    messages = await session.receive()
    assert messages[-1].content.strip()
    assert session.metrics is not None
    assert session.metrics.complete
    assert session.metrics.tokens_generated > 0
