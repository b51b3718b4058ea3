"""`Conversation`: the messages of one chat so far, as an immutable value.

Providers are stateless, so a messenger is given the whole conversation each turn: appending
makes a new value (the old one is unchanged, and safe to keep or share), and the JSON form is
exact, so a stored conversation reopens as it was.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from attrs import evolve, field, frozen

from agentcat.messenger._frozen import frozen_mapping
from agentcat.messenger.message import Message, exact_json, message_data, message_from_data

__all__ = ["Conversation"]


def _messages(messages: Iterable[Message]) -> tuple[Message, ...]:
    kept = tuple(messages)
    for message in kept:
        if not isinstance(message, Message):
            raise TypeError(f"a conversation holds Message values, not {message!r}")
    return kept


@frozen
class Conversation:
    """The messages of one chat, in order, with its ``id``, when it began and its metadata.
    ``Conversation([message, ...])`` is enough: every other field has a default. Immutable and
    hashable; :meth:`append` and :meth:`extend` give new conversations.

    Raises:
        TypeError: an item of ``messages`` is not a :class:`Message`.
    """

    messages: tuple[Message, ...] = field(default=(), converter=_messages)
    id: str = field(factory=lambda: uuid.uuid4().hex)
    created_at: datetime = field(factory=lambda: datetime.now(UTC))
    metadata: Mapping[str, Any] = field(factory=dict, converter=frozen_mapping)

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
        interrupted reply says ``metadata={"supersedes": its_id}``; the log keeps both)."""
        superseded = {m.metadata["supersedes"] for m in self.messages if "supersedes" in m.metadata}
        return tuple(m for m in self.messages if m.id not in superseded)

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
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"not the JSON of a conversation ({error!r})") from error
