"""`Message`: one immutable chat message."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Set
from datetime import UTC, datetime
from typing import Any

from attrs import field, frozen

__all__ = ["Message"]


class _FrozenMapping(Mapping[str, Any]):
    """A read-only mapping that can be hashed: what a message keeps of the metadata given."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, Any]) -> None:
        self._items = dict(items)

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __eq__(self, other: object) -> bool:
        return self._items == other if isinstance(other, Mapping) else NotImplemented

    def __repr__(self) -> str:
        return repr(self._items)


def _frozen(value: Any) -> Any:
    """``value`` made immutable all the way down (a copy: nothing is shared with the caller):
    mappings become read-only mappings, lists and tuples tuples, sets frozen sets."""
    if isinstance(value, Mapping):
        return _FrozenMapping({key: _frozen(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, Set):
        return frozenset(_frozen(item) for item in value)
    return value


def _frozen_mapping(value: Mapping[str, Any]) -> Mapping[str, Any]:
    frozen_value: Mapping[str, Any] = _frozen(value)
    return frozen_value


@frozen
class Message:
    """An immutable chat message: its text, who says it, and when. Hashable, and immutable all
    the way down: the metadata is copied and frozen (mappings read-only, lists as tuples)."""

    content: str
    """The text of the message."""
    role: str = "assistant"
    """Who says it: ``"user"``, ``"assistant"``, ``"system"`` or ``"tool"``."""
    id: str = field(factory=lambda: uuid.uuid4().hex)
    """A unique identifier, made when the message is."""
    timestamp: datetime = field(factory=lambda: datetime.now(UTC))
    """When the message was made (UTC)."""
    metadata: Mapping[str, Any] = field(factory=dict, converter=_frozen_mapping)
    """Anything else worth keeping with the message, read-only."""

    def __str__(self) -> str:
        return self.content
