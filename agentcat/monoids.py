"""Monoids: how the deltas of a stream add up to its accumulated value.

A public namespace, like ``attrs.validators``: :class:`Monoid` and the built-in monoids
(:data:`STR`, :data:`BYTES`, :data:`LIST`, :data:`TUPLE`, :data:`DICT`), :data:`LAST` and
:data:`INFERRED` for values that are replaced or whose type is known only at run time,
:class:`ProductMonoid` for the tuples of a fan-out, and :func:`monoid_for` / :func:`monoid_of`,
which find the monoid of a type or a value; :func:`name_constants` makes a module's own monoid
constants pickle by reference, as the built-in ones do.
"""

from __future__ import annotations

import functools
import importlib
import itertools
import operator
import typing
from collections.abc import Callable, Sequence
from typing import Any, Generic, SupportsIndex, TypeVar

from attrs import field, frozen

from agentcat._structure import Walk, walk
from agentcat.errors import MonoidError

T = TypeVar("T")

__all__ = [
    "BYTES",
    "DICT",
    "INFERRED",
    "LAST",
    "LIST",
    "STR",
    "TUPLE",
    "Monoid",
    "ProductMonoid",
    "monoid_for",
    "monoid_of",
    "name_constants",
]


@frozen
class Monoid(Generic[T]):
    """An associative ``combine`` with an identity ``empty()``, plus ``concat``, a linear-time
    fold of many parts (``"".join`` for text), so accumulating n deltas costs O(n), not O(n²).

    Not assumed commutative. A user type gets one by setting ``__agentcat_monoid__`` on the
    class, or by passing ``monoid=`` where a stream is made; nothing global is registered.
    """

    name: str
    """What the monoid is called in messages."""
    empty: Callable[[], T]
    """The identity: ``combine(empty(), x) == combine(x, empty()) == x``."""
    combine: Callable[[T, T], T]
    """The associative operation."""
    concat: Callable[[Sequence[T]], T]
    """The combination of many values at once, in linear time."""
    kind: type | None = field(default=None, kw_only=True)
    """The class of the values, when they have one: a stream checks its deltas against it, so a
    stage that yields the wrong type is named where it does."""

    def is_empty(self, value: T) -> bool:
        """Whether ``value`` is the identity."""
        return bool(value == self.empty())

    def __repr__(self) -> str:
        return f"Monoid({self.name})"

    def __reduce_ex__(self, protocol: SupportsIndex) -> str | tuple[Any, ...]:
        # A named constant (STR, INFERRED, REPLY...) pickles as its name, so that a copy made
        # in another process (a Ray actor) is the constant itself: `is INFERRED` still holds
        # there, and functions held by value (INFERRED's lambdas) are not compared by identity.
        named = _NAMED.get(id(self))
        if named is not None:
            return (_named, named)
        return super().__reduce_ex__(protocol)


_NAMED: dict[int, tuple[str, str]] = {}
"""The monoids that are module constants, by ``id`` (a constant lives as long as its module,
so its ``id`` is never another's): each maps to its module and name."""


def _named(module: str, name: str) -> Monoid[Any]:
    constant: Monoid[Any] = getattr(importlib.import_module(module), name)
    return constant


def name_constants(module: str, *names: str) -> None:
    """Make the monoid constants ``names`` of ``module`` pickle by reference, as the built-in
    ones do: a copy unpickled in another process (a Ray actor) is then the constant itself.
    Call it at the end of the module that defines them: ``name_constants(__name__, "CSV")``.

    Raises:
        KeyError: ``module`` has no attribute of one of the ``names``.
    """
    namespace = vars(importlib.import_module(module))
    for name in names:
        _NAMED[id(namespace[name])] = (module, name)


def _merge(parts: Sequence[dict[Any, Any]]) -> dict[Any, Any]:
    merged: dict[Any, Any] = {}
    for part in parts:
        merged.update(part)
    return merged


STR: Monoid[str] = Monoid("str", str, operator.add, "".join, kind=str)
BYTES: Monoid[bytes] = Monoid("bytes", bytes, operator.add, b"".join, kind=bytes)
LIST: Monoid[list[Any]] = Monoid(
    "list",
    list,
    operator.add,
    lambda parts: list(itertools.chain.from_iterable(parts)),
    kind=list,
)
TUPLE: Monoid[tuple[Any, ...]] = Monoid(
    "tuple",
    tuple,
    operator.add,
    lambda parts: tuple(itertools.chain.from_iterable(parts)),
    kind=tuple,
)
DICT: Monoid[dict[Any, Any]] = Monoid("dict", dict, operator.or_, _merge, kind=dict)


def _last(parts: Sequence[Any]) -> Any:
    return next((part for part in reversed(parts) if part is not None), None)


LAST: Monoid[Any] = Monoid("last", lambda: None, lambda a, b: a if b is None else b, _last)
"""The latest value wins (identity ``None``): for a value that is replaced, not extended."""


def _inferred_combine(left: Any, right: Any) -> Any:
    if left is None:
        return right
    if right is None:
        return left
    return monoid_of(left).combine(left, right)


def _inferred_concat(parts: Sequence[Any]) -> Any:
    present = [part for part in parts if part is not None]
    if len(present) <= 1:
        return present[0] if present else None
    return monoid_of(present[0]).concat(present)


INFERRED: Monoid[Any] = Monoid("inferred", lambda: None, _inferred_combine, _inferred_concat)
"""The monoid of deltas whose type is known only when they arrive (identity ``None``): they
combine with the monoid of their own type, and a single delta of a type that has none (an
``int`` from a plain agent) is its own accumulation; a second one is a :class:`MonoidError`.
It is what a stage whose output type is unknown accumulates with."""

name_constants(__name__, "STR", "BYTES", "LIST", "TUPLE", "DICT", "LAST", "INFERRED")

_BUILT_IN: tuple[tuple[type, Monoid[Any]], ...] = (
    (str, STR),
    (bytes, BYTES),
    (list, LIST),
    (tuple, TUPLE),
    (dict, DICT),
)


@frozen(repr=False)
class ProductMonoid(Monoid[tuple[Any, ...]]):
    """The monoid of tuples of independent streams, one component per branch of a fan-out.

    A branch's delta is *injected* as a tuple holding it at the branch's index and the empty
    value elsewhere, so the position of a delta tells which branch it came from. A component
    may be a product itself (a fan-out inside a fan-out): the operations walk such nesting with
    an explicit stack, so its depth does not meet Python's recursion limit.
    """

    components: tuple[Monoid[Any], ...] = ()
    shared_empty: tuple[Any, ...] | None = field(default=None, kw_only=True)
    """The empty value, made once, when no component's empty value can be changed in place
    (so it is safe to share): a delta of one branch carries it for all the others."""

    @classmethod
    def of_components(cls, components: Sequence[Monoid[Any]]) -> ProductMonoid:
        """The product of ``components``, in order."""
        parts = tuple(components)
        shared = _shared_empty(parts)
        return cls(
            name="(" + ", ".join(c.name for c in parts) + ")",
            empty=functools.partial(_product_empty, parts)
            if shared is None
            else functools.partial(_shared, shared),
            combine=functools.partial(_product_combine, parts),
            concat=functools.partial(_product_concat, parts),
            components=parts,
            kind=tuple,
            shared_empty=shared,
        )

    def inject(self, index: int, delta: Any) -> tuple[Any, ...]:
        """The product delta that carries ``delta`` for branch ``index`` only."""
        shared = self.shared_empty
        if shared is not None:
            return (*shared[:index], delta, *shared[index + 1 :])
        return tuple(
            delta if i == index else walk(_empty(c)) for i, c in enumerate(self.components)
        )

    def is_empty(self, value: tuple[Any, ...]) -> bool:
        return walk(_is_empty(self, value))


_IMMUTABLE = (str, bytes, int, float, complex, bool, type(None), frozenset)


def _shared_empty(parts: tuple[Monoid[Any], ...]) -> tuple[Any, ...] | None:
    """The empty value of the product of ``parts``, if no part of it can change in place."""
    values: list[Any] = []
    for part in parts:
        if isinstance(part, ProductMonoid):
            value: Any = part.shared_empty
            if value is None:
                return None
        else:
            value = part.empty()
            immutable = isinstance(value, _IMMUTABLE) or (
                type(value) is tuple and all(isinstance(item, _IMMUTABLE) for item in value)
            )
            if not immutable:
                return None
        values.append(value)
    return tuple(values)


def _shared(value: tuple[Any, ...]) -> tuple[Any, ...]:
    return value


def _product_empty(parts: tuple[Monoid[Any], ...]) -> tuple[Any, ...]:
    return walk(_empties(parts))


def _product_combine(
    parts: tuple[Monoid[Any], ...], left: tuple[Any, ...], right: tuple[Any, ...]
) -> tuple[Any, ...]:
    return walk(_combined(parts, left, right))


def _product_concat(
    parts: tuple[Monoid[Any], ...], items: Sequence[tuple[Any, ...]]
) -> tuple[Any, ...]:
    return walk(_concatenated(parts, items))


def _empty(monoid: Monoid[Any]) -> Walk[Any] | Any:
    if not isinstance(monoid, ProductMonoid):
        return monoid.empty()
    return monoid.shared_empty if monoid.shared_empty is not None else _empties(monoid.components)


def _empties(parts: tuple[Monoid[Any], ...]) -> Walk[tuple[Any, ...]]:
    values: list[Any] = []
    for part in parts:
        values.append((yield _empty(part)))
    return tuple(values)


def _combined(
    parts: tuple[Monoid[Any], ...], left: tuple[Any, ...], right: tuple[Any, ...]
) -> Walk[tuple[Any, ...]]:
    values: list[Any] = []
    for part, x, y in zip(parts, left, right, strict=True):
        if isinstance(part, ProductMonoid):
            values.append((yield _combined(part.components, x, y)))
        else:
            values.append(part.combine(x, y))
    return tuple(values)


def _concatenated(
    parts: tuple[Monoid[Any], ...], items: Sequence[tuple[Any, ...]]
) -> Walk[tuple[Any, ...]]:
    values: list[Any] = []
    for index, part in enumerate(parts):
        column = [item[index] for item in items]
        if isinstance(part, ProductMonoid):
            values.append((yield _concatenated(part.components, column)))
        else:
            values.append(part.concat(column))
    return tuple(values)


def _is_empty(monoid: Monoid[Any], value: Any) -> Walk[bool]:
    if not isinstance(monoid, ProductMonoid):
        return monoid.is_empty(value)
    if not isinstance(value, tuple) or len(value) != len(monoid.components):
        return False
    for part, item in zip(monoid.components, value, strict=True):
        if not (yield _is_empty(part, item)):
            return False
    return True


_EXACT: dict[type, Monoid[Any]] = dict(_BUILT_IN)


def monoid_for(annotation: object) -> Monoid[Any] | None:
    """The monoid of an annotated type, or ``None`` when the annotation names none.

    Raises:
        MonoidError: the class sets ``__agentcat_monoid__`` to something that is not a
            :class:`Monoid` (a mistake that would otherwise pass unnoticed).
    """
    exact = _EXACT.get(annotation) if isinstance(annotation, type) else None
    if exact is not None:  # the built-in classes themselves (no class attribute can change them)
        return exact
    origin = typing.get_origin(annotation) or annotation
    if not isinstance(origin, type):
        return None
    declared = getattr(origin, "__agentcat_monoid__", None)
    if isinstance(declared, Monoid):
        return declared
    if declared is not None:
        raise MonoidError(
            f"{origin.__qualname__}.__agentcat_monoid__ is {declared!r}, not a Monoid: "
            "set it to Monoid(name, empty, combine, concat)"
        )
    for kind, monoid in _BUILT_IN:
        if issubclass(origin, kind):
            return monoid
    return None


def monoid_of(value: object) -> Monoid[Any]:
    """The monoid of ``value``'s type.

    Raises:
        MonoidError: no monoid is known for the type (the message names it and the fix).
    """
    monoid = monoid_for(type(value))
    if monoid is None:
        raise MonoidError(
            f"no monoid is known for {type(value).__qualname__}: set __agentcat_monoid__ on the "
            "class or pass monoid= to say how its deltas accumulate"
        )
    return monoid
