"""Run-time compatibility of type annotations, for the check that ``>>`` makes where no type
checker runs (a Jupyter session, a script)."""

from __future__ import annotations

import collections.abc
import functools
import inspect
import re
import types
import typing
from typing import Any, TypeVar

from agentcat.errors import CompositionError

__all__ = ["awaited", "compatible", "hints_of", "mismatch"]

_CALLABLE: object = collections.abc.Callable
_PROMOTED: dict[type, tuple[type, ...]] = {float: (int,), complex: (int, float)}
"""The numeric promotions type checkers accept (PEP 484): an ``int`` where a ``float`` is
expected, an ``int`` or ``float`` where a ``complex`` is."""


def compatible(produced: object, expected: object) -> bool:
    """Whether a value annotated ``produced`` may flow where ``expected`` is annotated.

    The check errs one way only: it says ``False`` when the annotations certainly disagree and
    ``True`` whenever it cannot judge (type variables, protocols, callables, unknown forms), so a
    pipeline that a type checker would accept is never rejected. ``None`` means "not annotated".
    """
    if produced is None or expected is None:
        return True
    produced, expected = _normal(produced), _normal(expected)
    if expected is Any or expected is object or produced is Any:
        return True
    if isinstance(produced, TypeVar) or isinstance(expected, TypeVar):
        return True
    if _is_union(produced):
        return all(compatible(member, expected) for member in typing.get_args(produced))
    if _is_union(expected):
        return any(compatible(produced, member) for member in typing.get_args(expected))
    if typing.get_origin(produced) is typing.Literal:
        return all(compatible(type(v), expected) for v in typing.get_args(produced))
    if typing.get_origin(expected) is typing.Literal:
        return True
    return _compatible_classes(produced, expected)


def _compatible_classes(produced: object, expected: object) -> bool:
    p_origin = typing.get_origin(produced) or produced
    e_origin = typing.get_origin(expected) or expected
    if not (isinstance(p_origin, type) and isinstance(e_origin, type)):
        return True
    if p_origin in _PROMOTED.get(e_origin, ()):
        return True
    try:
        if not issubclass(p_origin, e_origin):
            return False
    except TypeError:  # protocols that are not runtime-checkable, and similar
        return True
    p_args, e_args = typing.get_args(produced), typing.get_args(expected)
    if not (p_args and e_args) or e_origin is _CALLABLE:
        return True
    if e_origin is tuple:
        return _compatible_tuples(p_args, e_args)
    if p_origin is not e_origin or len(p_args) != len(e_args):
        return True
    return all(compatible(p, e) for p, e in zip(p_args, e_args, strict=True))


def _compatible_tuples(produced: tuple[Any, ...], expected: tuple[Any, ...]) -> bool:
    if len(expected) == 2 and expected[1] is Ellipsis:
        items = produced[:1] if len(produced) == 2 and produced[1] is Ellipsis else produced
        return all(compatible(p, expected[0]) for p in items)
    if len(produced) == 2 and produced[1] is Ellipsis:
        return True
    return len(produced) == len(expected) and all(
        compatible(p, e) for p, e in zip(produced, expected, strict=True)
    )


def _normal(annotation: object) -> object:
    if annotation is None:
        return type(None)
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    supertype = getattr(annotation, "__supertype__", None)  # typing.NewType
    return annotation if supertype is None else _normal(supertype)


def _is_union(annotation: object) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def mismatch(left: str, produced: object, right: str, expected: object) -> CompositionError:
    """The error of ``left >> right`` (the operands as written) when the output of ``left``,
    annotated ``produced``, cannot be the input of ``right``, annotated ``expected``: it names
    both operands and both types."""
    return CompositionError(
        f"cannot compose {left} >> {right}: {left} produces {_spelled(produced)}, but {right} "
        f"expects {_spelled(expected)}"
    )


_MODULES = re.compile(
    r"\b(?:typing|collections\.abc|builtins|returns(?:\.\w+)*|agentcat(?:\.\w+)*)\."
)
"""Module paths that a message about annotations leaves out (``agentcat.chunks.ChunkStream``
reads ``ChunkStream``, ``returns.result.Result`` reads ``Result``)."""


def _spelled(annotation: object) -> str:
    """A short readable spelling of an annotation (a known one: unknown ones never disagree)."""
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__qualname__
    return _MODULES.sub("", repr(annotation))


def hints_of(function: object) -> tuple[object | None, object | None]:
    """The annotation of the first parameter and of the return value of ``function``.

    ``None`` for each one that is missing, ``Any``, or cannot be resolved (a forward reference
    to a name that does not exist yet), so such agents compose without the run-time check.
    Cached (streams ask at every start, and resolving annotations is slow), except for a
    callable object that cannot be hashed, which is read each time.
    """
    try:
        return _cached_hints(function)
    except TypeError:  # unhashable
        return _hints(function)


@functools.lru_cache(maxsize=4096)
def _cached_hints(function: object) -> tuple[object | None, object | None]:
    return _hints(function)


def _hints(function: object) -> tuple[object | None, object | None]:
    if not inspect.isroutine(function) and callable(function):
        function = type(function).__call__  # a callable object: its __call__ tells
    try:
        hints = typing.get_type_hints(function)
    except Exception:
        return None, None
    code = getattr(function, "__code__", None)
    names = code.co_varnames[: code.co_argcount] if code is not None else ()
    params = [name for name in names if name not in ("self", "cls")]
    first = hints.get(params[0]) if params else None
    return _known(first), _known(hints.get("return"))


def _known(annotation: object) -> object | None:
    """``None`` (unknown) for a missing annotation and for ``Any``, which says nothing."""
    return None if annotation is Any else annotation


def awaited(annotation: object | None) -> object | None:
    """What awaiting a value annotated ``annotation`` gives, for a plain function whose result
    ``invoke`` awaits: ``Awaitable[T]`` and ``Coroutine[A, B, T]`` give ``T``; another awaitable
    class (a promise, a stream) gives ``None``, unknown, since only its ``__await__`` tells;
    anything else is what it is."""
    origin = typing.get_origin(annotation) or annotation
    if origin in (collections.abc.Awaitable, collections.abc.Coroutine):
        arguments = typing.get_args(annotation)
        return _known(arguments[-1]) if arguments else None
    if isinstance(origin, type) and issubclass(origin, collections.abc.Awaitable):
        return None
    return annotation
