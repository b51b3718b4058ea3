"""`Message`: one immutable chat message, its parts (text, thinking, tool calls and results)
in the order a faithful replay to a provider needs, and its exact JSON form."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from attrs import field, frozen, validators

from agentcat.messenger._frozen import exact_json, field_values, frozen_mapping
from agentcat.messenger.reply import (
    Part,
    Reply,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
    Usage,
)

__all__ = ["Message"]

_PARTS = (TextPart, ThinkingPart, ToolCallPart, ToolResultPart)


def _parts(parts: Iterable[Part]) -> tuple[Part, ...]:
    kept = tuple(parts)
    for part in kept:
        if not isinstance(part, _PARTS):
            raise TypeError(
                "a message's parts are TextPart, ThinkingPart, ToolCallPart and ToolResultPart "
                f"values, not {part!r}"
            )
    return kept


@frozen
class Message:
    """An immutable chat message: its text, who says it, and when, and its parts and usage for
    a model's reply. Immutable all the way down: the metadata is copied and frozen (mappings
    read-only, lists as tuples), so a message is hashable when its metadata values are.

    ``parts`` are the provider's parts, one per part of the reply, in the order each began;
    ``content`` is the text as it streamed (the two differ only when text parts interleave).

    Raises:
        TypeError: ``metadata`` is not a mapping, a part is not a part, ``usage`` not a
            :class:`Usage`.
    """

    content: str
    """The text of the message."""
    role: str = "assistant"
    """Who says it: ``"user"``, ``"assistant"``, ``"system"`` or ``"tool"``."""
    id: str = field(factory=lambda: uuid.uuid4().hex)
    """A unique identifier, made when the message is."""
    timestamp: datetime = field(factory=lambda: datetime.now(UTC))
    """When the message was made (UTC)."""
    metadata: Mapping[str, Any] = field(factory=dict, converter=frozen_mapping)
    """Anything else worth keeping with the message, read-only."""

    parts: tuple[Part, ...] = field(default=(), converter=_parts)
    """The message's parts in order (text, thinking, tool calls, tool results); none for a
    message that is its ``content`` only."""
    usage: Usage | None = field(
        default=None, validator=validators.optional(validators.instance_of(Usage))
    )
    """What the reply cost, for a model's reply that reported it."""

    def __str__(self) -> str:
        return self.content

    @property
    def tool_calls(self) -> tuple[ToolCallPart, ...]:
        """The tool calls the message makes (an assistant's), in order."""
        return tuple(part for part in self.parts if type(part) is ToolCallPart)

    @property
    def tool_results(self) -> tuple[ToolResultPart, ...]:
        """The tool results the message carries (a ``tool`` message's), in order."""
        return tuple(part for part in self.parts if type(part) is ToolResultPart)

    @classmethod
    def of_reply(
        cls,
        reply: Reply,
        role: str = "assistant",
        *,
        metadata: Mapping[str, Any] | None = None,
        **stamp: Any,
    ) -> Message:
        """The message of a whole reply: its text as the content, its parts, its usage (if the
        provider reported any), and in ``metadata`` its response metadata and stop reason,
        then the ``metadata`` given. ``stamp`` gives the other fields (``id``, ``timestamp``)."""
        stop = {} if reply.stop is None else {"stop": reply.stop}
        merged = {**reply.meta, **stop, **(metadata or {})}
        usage = None if reply.usage == Usage() else reply.usage
        return cls(reply.text, role, metadata=merged, parts=reply.parts(), usage=usage, **stamp)

    def to_json(self) -> str:
        """The message as JSON, which :meth:`from_json` reads back to an equal message.

        Raises:
            TypeError: a metadata value or key has no exact JSON form (a set, an object, an
                int key, a NaN).
        """
        return exact_json(message_data(self))

    @classmethod
    def from_json(cls, text: str | bytes) -> Message:
        """The message that :meth:`to_json` wrote.

        Raises:
            ValueError: the text is not the JSON of a message (the message says what is wrong).
        """
        return message_from_data(json.loads(text))


def message_data(message: Message) -> dict[str, Any]:
    """The message as JSON values (every field by name, parts tagged by kind)."""
    return {
        "id": message.id,
        "role": message.role,
        "content": message.content,
        "timestamp": message.timestamp.isoformat(),
        "metadata": message.metadata,
        "parts": [{"type": _KINDS[type(part)], **field_values(part)} for part in message.parts],
        "usage": None if message.usage is None else field_values(message.usage),
    }


_KINDS: dict[type, str] = {
    TextPart: "text",
    ThinkingPart: "thinking",
    ToolCallPart: "tool_call",
    ToolResultPart: "tool_result",
}
_BY_KIND = {kind: cls for cls, kind in _KINDS.items()}


def message_from_data(data: Any) -> Message:
    """The message of :func:`message_data`'s values, read back from JSON.

    Raises:
        ValueError: ``data`` is not the values of a message.
    """
    try:
        parts = tuple(
            _BY_KIND[part["type"]](**{k: v for k, v in part.items() if k != "type"})
            for part in data["parts"]
        )
        usage = None if data["usage"] is None else Usage(**data["usage"])
        return Message(
            data["content"],
            data["role"],
            data["id"],
            datetime.fromisoformat(data["timestamp"]),
            data["metadata"],
            parts,
            usage,
        )
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"not the JSON of a message ({error!r}): {data!r}"[:300]) from error
