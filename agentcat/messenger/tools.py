"""Tools are agents: :func:`tool` gives an agent the name, description and JSON schema a model
needs to call it, and :meth:`Tool.run` answers a model's tool call with a tool result.

The schema comes from the agent's input annotation for the common cases (``str``, ``int``,
``float``, ``bool``, lists, dicts, ``Literal``, optional values, ``TypedDict`` and attrs
classes), or is given. Providers take an object of named arguments: an agent whose input is a
``TypedDict`` or an attrs class is given them as that; any other input is the one argument,
named after the function's parameter. A call that fails (arguments that are not valid JSON, or
not what the schema says, or a tool that raises) is answered by a result marked as an error,
so a tool loop goes on: errors as values, never a crash.
"""

from __future__ import annotations

import inspect
import json
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, get_args, get_origin, is_typeddict

import attrs
from attrs import field, frozen

from agentcat.agent import Agent, FunctionAgent
from agentcat.messenger._frozen import frozen_mapping
from agentcat.messenger.conversation import ToolSpec
from agentcat.messenger.reply import ToolCallPart, ToolResultPart
from agentcat.streaming import Lifted, StreamingAgent

__all__ = ["Tool", "json_schema", "tool"]

_SCALARS: dict[type, str] = {str: "string", bool: "boolean", int: "integer", float: "number"}


def json_schema(annotation: object) -> dict[str, Any]:
    """The JSON schema of values of ``annotation``.

    Raises:
        TypeError: there is no schema for it here (give one to :func:`tool`); the message
            names the type.
    """
    if annotation in _SCALARS:
        return {"type": _SCALARS[annotation]}
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return {"enum": list(args)}
    if origin in (typing.Union, types.UnionType):
        kept = [arg for arg in args if arg is not type(None)]
        schemas = [json_schema(arg) for arg in kept]
        if len(kept) < len(args):
            schemas.append({"type": "null"})
        return schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
    if origin in (list, tuple) or annotation in (list, tuple):
        of_one = origin is list or (len(args) == 2 and args[1] is Ellipsis)
        items = {"items": json_schema(args[0])} if args and of_one else {}
        return {"type": "array", **items}
    if origin is dict or annotation is dict:
        values = args[1] if len(args) == 2 else None
        extra = {"additionalProperties": json_schema(values)} if values is not None else {}
        return {"type": "object", **extra}
    if isinstance(annotation, type) and (is_typeddict(annotation) or attrs.has(annotation)):
        return _object_schema(annotation)
    raise TypeError(f"no JSON schema is known for {annotation!r}: give one with tool(schema=...)")


def _object_schema(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    if attrs.has(cls):
        names = [a.name for a in attrs.fields(cls)]
        required = [a.name for a in attrs.fields(cls) if a.default is attrs.NOTHING]
    else:
        names = list(hints)
        required = sorted(getattr(cls, "__required_keys__", names))
    return {
        "type": "object",
        "properties": {name: json_schema(hints[name]) for name in names},
        "required": required,
    }


@frozen
class Tool:
    """An agent a model can call: its ``name``, ``description`` and the JSON ``schema`` of
    its arguments (an object). Made by :func:`tool`."""

    agent: Agent[Any, Any]
    name: str
    description: str
    schema: Mapping[str, Any] = field(converter=frozen_mapping)
    _argument: str | None = None
    """The name the one argument goes by, when the agent's input is not an object."""
    _input: type | None = None
    """The attrs class the arguments are made into, if it is one."""

    @property
    def spec(self) -> ToolSpec:
        """The tool as a model is offered it (what a :class:`agentcat.Conversation` holds)."""
        return ToolSpec(self.name, self.description, self.schema)

    def parameters(self) -> dict[str, Any]:
        """The schema as plain JSON values (dicts and lists), as an SDK takes it."""
        return self.spec.input_schema()

    async def run(self, call: ToolCallPart) -> ToolResultPart:
        """The result of ``call``: the agent's output as text (JSON unless it is text), or,
        if the arguments are not valid JSON or not what the agent takes, or the agent raises,
        the error in words, marked as one. Cancellation is raised."""
        try:
            arguments = call.arguments()
            if not isinstance(arguments, dict):
                raise TypeError(f"the arguments are an object, not {arguments!r}")
            if self._argument is not None:
                value: Any = arguments[self._argument]
            elif self._input is not None:
                value = self._input(**arguments)
            else:
                value = arguments
            if isinstance(self.agent, StreamingAgent):
                output = await self.agent.stream(value)  # its whole output
            else:
                output = await self.agent.invoke(value)
        except Exception as error:
            return ToolResultPart(call.id, f"{type(error).__name__}: {error}", is_error=True)
        text = output if isinstance(output, str) else json.dumps(output, default=str)
        return ToolResultPart(call.id, text)


def tool(
    agent: Agent[Any, Any],
    *,
    name: str | None = None,
    description: str | None = None,
    schema: Mapping[str, Any] | None = None,
) -> Tool:
    """``agent`` as a tool: named after the agent, described by its function's docstring,
    its schema from its input annotation unless given.

    Raises:
        TypeError: ``agent`` is not an agent, or its input has no known schema and none is
            given.
    """
    if not isinstance(agent, Agent):
        raise TypeError(f"a tool is an agent (decorate it with @agent), not {agent!r}")
    function = _function_of(agent)
    described = description if description is not None else inspect.getdoc(function) or ""
    declared = agent.input_type
    argument = None
    made = declared if isinstance(declared, type) and attrs.has(declared) else None
    is_object = isinstance(declared, type) and (is_typeddict(declared) or attrs.has(declared))
    if schema is not None:
        properties = schema.get("properties", {})
        takes_a_mapping = declared is dict or get_origin(declared) is dict
        if not is_object and not takes_a_mapping and len(properties) == 1:
            (argument,) = properties  # the one argument, by the name the schema gives it
    elif is_object:
        schema = _object_schema(declared)  # type: ignore[arg-type]
    elif declared is None:
        raise TypeError(
            f"{agent!r} has no input annotation to make a schema of: annotate it, or give "
            "one with tool(schema=...)"
        )
    else:
        argument = _parameter_name(function) or "input"
        schema = {
            "type": "object",
            "properties": {argument: json_schema(declared)},
            "required": [argument],
        }
    return Tool(agent, name or agent.name, described, schema, argument, made)


def _function_of(agent: Agent[Any, Any]) -> Any:
    """The function an agent was made of (``@agent``, or ``@streaming`` around one), if any."""
    while isinstance(agent, Lifted):
        agent = agent.agent
    return agent.function if isinstance(agent, FunctionAgent) else None


def _parameter_name(function: Any) -> str | None:
    if function is None:
        return None
    try:
        parameters = list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return None
    return parameters[0] if parameters else None
