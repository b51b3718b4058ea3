"""The embedded model (``agentcat.models``): an offline, deterministic messenger that thinks,
answers from the prompt, calls an offered tool with streamed JSON arguments, answers from the
tool's result, and reports usage as providers do."""

from __future__ import annotations

from typing import Literal, TypedDict

import pytest
from agentcat_laws import check_laws
from hypothesis import settings
from hypothesis import strategies as st

from agentcat import (
    Conversation,
    EmbeddedModel,
    Message,
    Reply,
    StreamingAgent,
    Text,
    Thinking,
    ToolCall,
    ToolResultPart,
    Usage,
    agent,
    map_deltas,
    split_sentences,
    text_of,
    tool,
)
from agentcat.messenger import ThinkingPart

pytestmark = pytest.mark.anyio

FAST = settings(max_examples=10, database=None)


class Where(TypedDict):
    city: str
    unit: Literal["c", "f"]


@agent
def weather(where: Where) -> str:
    """The current weather in a city."""
    return f"12 degrees in {where['city']}"


@agent
def add(numbers: list[int]) -> int:
    """Add numbers up (a sum)."""
    return sum(numbers)


async def test_it_thinks_then_answers_from_what_it_knows_with_usage_and_a_stop() -> None:
    model = EmbeddedModel(pace=0)
    deltas = [chunk.delta async for chunk in model.stream("Tell me about cancellation.")]
    reply = await model.stream("Tell me about cancellation.")
    assert reply.thinking == "The question is about cancellation."
    assert reply.text == (
        "Cancellation must reach every producer, so no task outlives the pipeline that started it."
    )
    assert reply.stop == "end_turn"
    assert reply.meta["model"] == "embedded:model"
    # Usage as providers send it: the input first, the output with the stop reason.
    assert deltas[0] == Reply(usage=Usage(input_tokens=5, reported=True), meta=reply.meta)
    content = [d for d in deltas if d.fragments]
    assert reply.usage == Usage(5, len(content), reported=True)
    assert all(len(d.fragments) == 1 for d in content)  # a token a delta
    assert isinstance(content[0].fragments[0], Thinking)
    assert content[-1].fragments[0] == Text(1, ".")
    thought = reply.parts()[0]
    assert isinstance(thought, ThinkingPart)
    assert len(thought.signature) == 32  # signed, as Claude signs its thinking


async def test_the_same_conversation_and_seed_give_the_same_reply() -> None:
    model = EmbeddedModel(pace=0)
    asked = "What makes a stream lawful and a pipeline typed?"
    assert await model.stream(asked) == await model.stream(Conversation.of(asked))
    assert (await model.stream(asked)).text == (await EmbeddedModel(pace=0).stream(asked)).text
    unknown = "Zebras?"  # nothing it knows is relevant: the seed chooses what it says
    said = {(await EmbeddedModel(pace=0, seed=seed).stream(unknown)).text for seed in range(6)}
    assert len(said) > 1


async def test_it_calls_the_tool_that_fits_with_arguments_streamed_in_fragments() -> None:
    model = EmbeddedModel(pace=0, thinking=False)
    asked = Conversation.of("What is the weather in Paris, in c?").offering(
        [tool(add).spec, tool(weather).spec]
    )
    deltas = [chunk.delta async for chunk in model.stream(asked)]
    reply = await model.stream(asked)
    (call,) = reply.tool_calls
    assert (call.name, call.arguments()) == ("weather", {"city": "Paris", "unit": "c"})
    assert call.id.startswith("call_")
    assert reply.text == "Let me ask the weather tool."
    assert reply.stop == "tool_use"
    fragments = [d.fragments[0] for d in deltas if d.fragments and d.tool_calls]
    assert fragments[0] == ToolCall(2, call.id, "weather", "")  # the name first, then pieces
    assert len(fragments) > 3
    assert "".join(f.arguments for f in fragments) == call.arguments_json  # type: ignore[union-attr]
    summed = await model.stream(
        Conversation.of("Add 2 and 40, the sum please").offering([tool(add).spec])
    )
    assert summed.tool_calls[0].arguments() == {"numbers": [2, 40]}


async def test_it_answers_from_a_tools_result_or_says_the_tool_failed() -> None:
    model = EmbeddedModel(pace=0)
    offered = Conversation.of("What is the weather in Oslo?").offering([tool(weather).spec])
    asking = Message.of_reply(await model.stream(offered))
    (call,) = asking.tool_calls
    answered = offered.append(asking).append(
        Message("12 degrees", "tool", parts=(ToolResultPart(call.id, "12 degrees"),))
    )
    reply = await model.stream(answered)
    assert reply.text.startswith("The weather tool says: 12 degrees.")
    assert reply.stop == "end_turn"
    assert not reply.tool_calls  # it has its answer: it does not ask again
    failed = offered.append(asking).append(
        Message("", "tool", parts=(ToolResultPart(call.id, "no network", is_error=True),))
    )
    assert (await model.stream(failed)).text.startswith(
        "The weather tool failed (no network), so I cannot say more."
    )


async def test_a_reply_cut_by_max_tokens_says_so_and_leaves_its_arguments_truncated() -> None:
    asked = Conversation.of("What is the weather in Paris, in c?").offering([tool(weather).spec])
    whole = await EmbeddedModel(pace=0, thinking=False).stream(asked)
    cut = await EmbeddedModel(pace=0, thinking=False, max_tokens=12).stream(asked)
    assert cut.stop == "max_tokens"
    assert cut.usage.output_tokens == 12
    assert whole.tool_calls[0].arguments_json.startswith(cut.tool_calls[0].arguments_json)
    with pytest.raises(ValueError, match="not valid JSON"):
        cut.tool_calls[0].arguments()


async def test_as_a_model_of_text_it_composes_with_text_transducers() -> None:
    text = EmbeddedModel(pace=0, label="writer") >> map_deltas(text_of)
    assert repr(text >> split_sentences) == "writer >> map_deltas(text_of) >> split_sentences"
    sentences = [chunk.delta async for chunk in (text >> split_sentences).stream("Laws?")]
    assert sentences[0].startswith("Laws are checked")
    report = await check_laws(
        text, inputs=st.sampled_from(["laws", "Streams and agents?"]), settings=FAST
    )
    assert report.passed, report


def test_it_is_a_messenger_of_conversations_and_prompts() -> None:
    model = EmbeddedModel(pace=0)
    assert isinstance(model, StreamingAgent)
    assert (model.input_type, model.element_type) == (Conversation | str, Reply)
    assert model.supports_tool_use()


async def test_an_input_that_is_neither_text_nor_a_conversation_is_refused() -> None:
    with pytest.raises(TypeError, match="a prompt is text or a Conversation, not 3"):
        await EmbeddedModel(pace=0).stream(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="an empty conversation: nothing to answer"):
        await EmbeddedModel(pace=0).stream(Conversation())


def test_its_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="pace"):
        EmbeddedModel(pace=-1)
    with pytest.raises(ValueError, match="max_tokens"):
        EmbeddedModel(max_tokens=0)
