"""Values frozen all the way down, for what messages and replies keep of what they are given,
and their exact JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Set
from typing import Any

from attrs import fields

__all__ = ["exact_json", "frozen_mapping", "plain", "thawed"]


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


def frozen_mapping(value: Mapping[str, Any]) -> Mapping[str, Any]:
    """``value`` copied into a hashable read-only mapping, its values frozen all the way down.

    Raises:
        TypeError: ``value`` is not a mapping.
    """
    if not isinstance(value, Mapping):
        raise TypeError(f"metadata is a mapping, not {value!r}")
    frozen_value: Mapping[str, Any] = _frozen(value)
    return frozen_value


def thawed(value: Any) -> Any:
    """A frozen mapping as the plain dict it holds (for JSON); anything else as it is."""
    return dict(value._items) if isinstance(value, _FrozenMapping) else value


def plain(value: Any) -> Any:
    """A frozen value as plain JSON values all the way down: mappings as dicts, tuples as
    lists (what an SDK expects of a JSON schema)."""
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [plain(item) for item in value]
    return value


def exact_json(data: Any) -> str:
    """``data`` as JSON that reads back to equal values.

    Raises:
        TypeError: a value has no exact JSON form: a set or another object, a mapping key that
            is not a string (JSON would make it one), a float that is not finite.
    """
    _check_keys(data)
    try:
        return json.dumps(data, ensure_ascii=False, allow_nan=False, default=_as_json)
    except ValueError as error:  # a NaN or an infinity
        raise TypeError(f"a value has no exact JSON form: {error}") from None


def _check_keys(value: Any) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"the key {key!r} has no exact JSON form (JSON keys are strings)")
            _check_keys(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_keys(item)


def _as_json(value: object) -> Any:
    found = thawed(value)
    if found is value:
        raise TypeError(f"{value!r} ({type(value).__qualname__}) has no exact JSON form")
    return found


def field_values(value: Any) -> dict[str, Any]:
    """The fields of an attrs instance by name (its JSON form, when they are JSON values)."""
    return {a.name: getattr(value, a.name) for a in fields(type(value))}
