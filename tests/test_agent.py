"""Agents (``agentcat.agent``): ``agent()``, ``Id``, what an agent says of itself."""

from __future__ import annotations

from typing import Any

import pytest

from agentcat import Agent, CompositionError, Id, agent
from agentcat.agent import FunctionAgent, Identity

pytestmark = pytest.mark.anyio


@agent
def shout(text: str) -> str:
    return text.upper()


@agent
async def later(text: str) -> int:
    return len(text)


async def test_agent_makes_an_agent_of_a_plain_or_async_function() -> None:
    assert isinstance(shout, FunctionAgent)
    assert await shout.invoke("a") == "A"
    assert await later.invoke("abc") == 3


def test_an_agent_says_its_name_and_types() -> None:
    assert (shout.name, shout.input_type, shout.output_type) == ("shout", str, str)
    assert (later.name, later.input_type, later.output_type) == ("later", str, int)
    assert repr(shout) == "shout"


def test_a_lambda_is_an_agent_without_types() -> None:
    double: Agent[Any, Any] = agent(lambda x: x * 2)
    assert (double.input_type, double.output_type) == (None, None)
    assert double.name == "<lambda>"


def test_agent_takes_a_function() -> None:
    with pytest.raises(CompositionError, match="takes a function of one argument, not 3"):
        agent(3)  # type: ignore[call-overload]


async def test_id_is_the_identity_and_the_only_one() -> None:
    assert isinstance(Id, Identity)
    assert await Id.invoke(x := object()) is x
    assert repr(Id) == "Id"
    with pytest.raises(CompositionError, match=r"agentcat\.Id"):
        Identity()


def test_a_function_agent_is_built_by_agent_only() -> None:
    with pytest.raises(CompositionError, match="write @agent"):
        FunctionAgent(len)


class Shorten(Agent[int, str]):
    """A subclass: the documented way to write an agent with state."""

    async def invoke(self, value: int, /) -> str:
        return "x" * value


async def test_a_subclass_is_an_agent_with_every_operator() -> None:
    shorten = Shorten()
    assert await (shorten >> shout).invoke(2) == "XX"
    assert await (shorten & shorten).invoke(1) == ("x", "x")
    assert await (shorten * shout).invoke((1, "a")) == ("x", "A")
    assert await shorten.with_retry(2).invoke(3) == "xxx"
    assert repr(shorten >> shout) == "Shorten >> shout"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: agent(lambda a, b: a), r"<lambda>\(a, b\) cannot be called with one"),  # type: ignore[misc, arg-type]
        (lambda: agent(3), "takes a function of one argument, not 3"),  # type: ignore[call-overload]
        (lambda: 3 >> shout, "3 >> shout: the left operand is not an Agent"),  # type: ignore[operator]
        (lambda: len >> shout, r"not an Agent \(decorate it with @agent"),  # type: ignore[operator]
        (lambda: "x" & shout, "'x' & shout: the left operand is not an Agent"),  # type: ignore[operator]
        (lambda: 2 * shout, r"2 \* shout: the left operand is not an Agent"),  # type: ignore[operator]
    ],
    ids=["two-arguments", "not-callable", "int-left", "function-left", "str-and", "int-times"],
)
def test_a_mistake_is_named_where_it_is_made(build: Any, message: str) -> None:
    with pytest.raises(CompositionError, match=message):
        build()


class Unhashable:
    """A callable object that cannot be hashed (it defines ``__eq__`` and no ``__hash__``)."""

    def __eq__(self, other: object) -> bool:
        return self is other

    def __call__(self, text: str) -> str:
        return text + "?"


async def test_an_unhashable_callable_is_an_agent_like_any_other() -> None:
    asking = agent(Unhashable())
    assert asking.input_type is str
    assert await (asking >> shout).invoke("a") == "A?"
