"""`Message`: one immutable chat message."""

from __future__ import annotations

import types
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from attrs import field, frozen

__all__ = ["Message"]


def _frozen_mapping(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return types.MappingProxyType(dict(value))


@frozen
class Message:
    """An immutable chat message: its text, who says it, and when."""

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
