"""Tools are agents (``agentcat.messenger.tools``): schemas from input annotations, and calls
answered by results, a failing one marked as an error."""

from __future__ import annotations

from typing import Literal, TypedDict

import pytest
from attrs import frozen

from agentcat import ToolCallPart, ToolResultPart, agent, tool
from agentcat.messenger import ToolSpec, json_schema

pytestmark = pytest.mark.anyio


def test_schemas_of_the_common_types() -> None:
    assert json_schema(str) == {"type": "string"}
    assert json_schema(list[int]) == {"type": "array", "items": {"type": "integer"}}
    assert json_schema(dict[str, float]) == {
        "type": "object",
        "additionalProperties": {"type": "number"},
    }
    assert json_schema(Literal["c", "f"]) == {"enum": ["c", "f"]}
    assert json_schema(bool | None) == {"anyOf": [{"type": "boolean"}, {"type": "null"}]}
    with pytest.raises(TypeError, match="no JSON schema is known for <class 'complex'>"):
        json_schema(complex)


class Where(TypedDict):
    city: str
    unit: Literal["c", "f"]


@frozen
class Sum:
    numbers: list[int]
    start: int = 0


@agent
def weather(where: Where) -> dict[str, object]:
    """The weather in a city."""
    return {"city": where["city"], "degrees": 12 if where["unit"] == "c" else 54}


@agent
def total(request: Sum) -> int:
    """Add numbers up."""
    return request.start + sum(request.numbers)


@agent
def shout(text: str) -> str:
    """Say it louder."""
    return text.upper()


def test_a_tool_is_named_and_described_by_its_agent_and_typed_by_its_input() -> None:
    made = tool(weather)
    assert (made.name, made.description) == ("weather", "The weather in a city.")
    assert made.parameters() == {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
        "required": ["city", "unit"],
    }
    assert made.spec == ToolSpec("weather", "The weather in a city.", made.parameters())
    assert tool(total).parameters()["required"] == ["numbers"]  # `start` has a default
    assert tool(shout).parameters() == {
        "type": "object",
        "properties": {"text": {"type": "string"}},
        "required": ["text"],
    }


async def test_a_call_is_answered_by_the_agents_output() -> None:
    assert await tool(weather).run(
        ToolCallPart(0, "c1", "weather", '{"city": "Oslo", "unit": "c"}')
    ) == ToolResultPart("c1", '{"city": "Oslo", "degrees": 12}')
    assert await tool(total).run(
        ToolCallPart(0, "c2", "total", '{"numbers": [1, 2], "start": 3}')
    ) == ToolResultPart("c2", "6")
    assert await tool(shout).run(ToolCallPart(0, "c3", "shout", '{"text": "hi"}')) == (
        ToolResultPart("c3", "HI")
    )


async def test_a_failing_call_is_a_result_marked_as_an_error() -> None:
    cut = await tool(shout).run(ToolCallPart(0, "c", "shout", '{"text": "hi'))
    assert cut.is_error
    assert cut.content.startswith("ToolArgumentsError: the arguments of tool call 'shout'")
    missing = await tool(total).run(ToolCallPart(0, "c", "total", "{}"))
    assert missing.is_error
    assert "numbers" in missing.content

    @agent
    def broken(text: str) -> str:
        raise RuntimeError("the tool is down")

    down = await tool(broken).run(ToolCallPart(0, "c", "broken", '{"text": "x"}'))
    assert down == ToolResultPart("c", "RuntimeError: the tool is down", is_error=True)


def test_a_tool_needs_an_agent_and_a_schema() -> None:
    with pytest.raises(TypeError, match="a tool is an agent"):
        tool(len)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="no input annotation"):
        tool(agent(lambda value: value))
    given = tool(agent(lambda value: value), schema={"properties": {"q": {"type": "string"}}})
    assert given.parameters()["properties"] == {"q": {"type": "string"}}
