"""The embedded model (``agentcat.models``): offline, deterministic, paced like a real one."""

from __future__ import annotations

import pytest

from agentcat import EmbeddedModel, StreamingAgent, map_deltas

pytestmark = pytest.mark.anyio


async def test_the_same_prompt_and_seed_give_the_same_text() -> None:
    model = EmbeddedModel(pace=0)
    first = await model.stream("tell me about streams")
    assert first == await model.stream("tell me about streams")
    assert first != await EmbeddedModel(pace=0, seed=1).stream("tell me about streams")
    assert first.strip()


async def test_it_streams_at_most_max_tokens_deltas() -> None:
    chunks = [chunk async for chunk in EmbeddedModel(pace=0, max_tokens=5).stream("laws")]
    assert 1 <= len(chunks) - 1 <= 5
    assert chunks[-1].done


async def test_it_is_a_streaming_agent_from_text_to_text() -> None:
    model = EmbeddedModel(pace=0, label="writer")
    assert isinstance(model, StreamingAgent)
    assert (model.input_type, model.element_type) == (str, str)
    assert repr(model >> map_deltas(str.upper)) == "writer >> map_deltas(upper)"


async def test_a_prompt_that_is_not_text_is_refused() -> None:
    with pytest.raises(TypeError, match="takes a prompt string, not int"):
        await EmbeddedModel(pace=0).stream(3)  # type: ignore[arg-type]


def test_its_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="pace"):
        EmbeddedModel(pace=-1)
    with pytest.raises(ValueError, match="max_tokens"):
        EmbeddedModel(max_tokens=0)
