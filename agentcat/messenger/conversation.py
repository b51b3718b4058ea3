"""`Conversation`: the messages of one chat so far, and the tools its model is offered, as an
immutable value.

Providers are stateless, so a messenger is given the whole conversation each turn: appending
makes a new value (the old one is unchanged, and safe to keep or share), and the JSON form is
exact, so a stored conversation reopens as it was. The tools offered (:class:`ToolSpec`, a
name, a description and a JSON schema) are part of it, as they are part of every request to a
provider, so a messenger stays a pure agent of its input.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from attrs import evolve, field, frozen, validators

from agentcat.messenger._frozen import exact_json, frozen_mapping, plain
from agentcat.messenger.message import Message, message_data, message_from_data
from agentcat.messenger.reply import ToolCallPart

__all__ = ["Conversation", "ToolSpec"]


def _messages(messages: Iterable[Message]) -> tuple[Message, ...]:
    kept = tuple(messages)
    for message in kept:
        if not isinstance(message, Message):
            raise TypeError(f"a conversation holds Message values, not {message!r}")
    return kept


@frozen
class ToolSpec:
    """A tool as a model is offered it: its ``name``, a ``description`` of what it does, and
    the JSON schema of its arguments (an object). :attr:`agentcat.Tool.spec` is one.

    Raises:
        TypeError: ``name`` is empty or not a string, or ``parameters`` not a mapping.
    """

    name: str = field(validator=validators.and_(validators.instance_of(str), validators.min_len(1)))
    description: str = ""
    parameters: Mapping[str, Any] = field(
        factory=lambda: {"type": "object", "properties": {}}, converter=frozen_mapping
    )

    def input_schema(self) -> dict[str, Any]:
        """The schema of the arguments as plain JSON values (dicts and lists), as an SDK
        takes it."""
        return plain(self.parameters)  # type: ignore[no-any-return]


def _tools(tools: Iterable[ToolSpec]) -> tuple[ToolSpec, ...]:
    kept = tuple(tools)
    names: set[str] = set()
    for spec in kept:
        if not isinstance(spec, ToolSpec):
            raise TypeError(f"a conversation offers ToolSpec values (Tool.spec), not {spec!r}")
        if spec.name in names:
            raise ValueError(f"two tools are named {spec.name!r}: a model calls them by name")
        names.add(spec.name)
    return kept


@frozen
class Conversation:
    """The messages of one chat, in order, with its ``id``, when it began, its metadata and
    the ``tools`` its model is offered. ``Conversation([message, ...])`` is enough: every
    other field has a default. Immutable and hashable; :meth:`append`, :meth:`extend` and
    :meth:`offering` give new conversations.

    Raises:
        TypeError: an item of ``messages`` is not a :class:`Message`, or of ``tools`` not a
            :class:`ToolSpec`.
        ValueError: two tools have one name.
    """

    messages: tuple[Message, ...] = field(default=(), converter=_messages)
    id: str = field(factory=lambda: uuid.uuid4().hex)
    created_at: datetime = field(factory=lambda: datetime.now(UTC))
    metadata: Mapping[str, Any] = field(factory=dict, converter=frozen_mapping)
    tools: tuple[ToolSpec, ...] = field(default=(), converter=_tools)

    @classmethod
    def of(cls, prompt: str | Conversation) -> Conversation:
        """``prompt`` as a conversation: text is one ``user`` message; a conversation is
        itself. What a messenger given a prompt answers.

        Raises:
            TypeError: ``prompt`` is neither text nor a conversation.
        """
        if isinstance(prompt, Conversation):
            return prompt
        if isinstance(prompt, str):
            return cls([Message(prompt, "user")])
        raise TypeError(f"a prompt is text or a Conversation, not {prompt!r}")

    def offering(self, tools: Iterable[ToolSpec]) -> Conversation:
        """This conversation with ``tools`` as the tools its model is offered.

        Raises:
            TypeError: an item is not a :class:`ToolSpec`.
            ValueError: two tools have one name.
        """
        return evolve(self, tools=tools)

    def append(self, message: Message) -> Conversation:
        """This conversation with ``message`` after its messages.

        Raises:
            TypeError: ``message`` is not a :class:`Message`.
        """
        return evolve(self, messages=(*self.messages, message))

    def extend(self, messages: Iterable[Message]) -> Conversation:
        """This conversation with ``messages`` after its messages, in order.

        Raises:
            TypeError: an item of ``messages`` is not a :class:`Message`.
        """
        return evolve(self, messages=(*self.messages, *messages))

    @property
    def last_message(self) -> Message | None:
        """The latest message, or ``None`` in a conversation that has none yet."""
        return self.messages[-1] if self.messages else None

    def visible(self) -> tuple[Message, ...]:
        """The messages to send to a model: all but those a later one supersedes (a retry of an
        interrupted reply says ``metadata={"supersedes": its_id}``; the log keeps both). Of an
        interrupted reply, the tool calls are left out (cut short, they were never made, and
        a provider refuses a call with no result), and so is the reply if nothing is left."""
        superseded = {m.metadata["supersedes"] for m in self.messages if "supersedes" in m.metadata}
        shown = []
        for message in self.messages:
            if message.id in superseded:
                continue
            if message.metadata.get("interrupted"):
                message = _without_calls(message)
                if not message.content and not message.parts:
                    continue
            shown.append(message)
        return tuple(shown)

    def __len__(self) -> int:
        return len(self.messages)

    def to_json(self) -> str:
        """The conversation as JSON, which :meth:`from_json` reads back to an equal one.

        Raises:
            TypeError: a metadata value or key (of the conversation or a message) has no exact
                JSON form.
        """
        data = {
            "id": self.id,
            "created_at": self.created_at.isoformat(),
            "metadata": self.metadata,
            "messages": [message_data(message) for message in self.messages],
            "tools": [tool_data(spec) for spec in self.tools],
        }
        return exact_json(data)

    @classmethod
    def from_json(cls, text: str | bytes) -> Conversation:
        """The conversation that :meth:`to_json` wrote.

        Raises:
            ValueError: the text is not the JSON of a conversation.
        """
        data = json.loads(text)
        try:
            return cls(
                [message_from_data(message) for message in data["messages"]],
                data["id"],
                datetime.fromisoformat(data["created_at"]),
                data["metadata"],
                [tool_from_data(spec) for spec in data.get("tools", ())],
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"not the JSON of a conversation ({error!r})") from error


def tool_data(spec: ToolSpec) -> dict[str, Any]:
    """``spec`` as plain JSON values."""
    return {"name": spec.name, "description": spec.description, "parameters": spec.parameters}


def tool_from_data(data: Mapping[str, Any]) -> ToolSpec:
    """The spec that :func:`tool_data` gave."""
    return ToolSpec(data["name"], data["description"], data["parameters"])


def _without_calls(message: Message) -> Message:
    if not message.tool_calls:
        return message
    return evolve(message, parts=[p for p in message.parts if not isinstance(p, ToolCallPart)])
