"""Checks of the functions users hand to agentcat (``@agent``, ``@streaming``, ``@transducer``,
``map_deltas``...), made where the function is given, so that a mistake is named there and not
when a stream runs."""

from __future__ import annotations

import functools
import inspect
from typing import Any, Literal

from agentcat.errors import CompositionError

__all__ = ["check_function", "name_of"]

Kind = Literal["any", "async generator"]


def name_of(function: Any) -> str:
    """What a function is called in a name or a message: its ``__name__``, else its ``repr``."""
    return getattr(function, "__name__", None) or repr(function)


def _underlying(function: Any) -> Any:
    """The function a bound method, a ``functools.partial`` or a wrapper calls in the end."""
    while True:
        if isinstance(function, functools.partial):
            function = function.func
        elif inspect.ismethod(function):
            function = function.__func__
        elif hasattr(function, "__wrapped__"):
            function = inspect.unwrap(function)
        else:
            return function


def check_function(where: str, function: Any, kind: Kind = "any") -> None:
    """Check that ``function`` can be called with one argument and, for ``"async generator"``,
    that it is an ``async def`` that ``yield``\\ s. Callables that do not show their signature
    (built-ins, some extension types) pass.

    Raises:
        CompositionError: ``function`` is not callable, takes another number of arguments, or
            is not of the kind ``where`` needs; the message says what to write instead.
    """
    if not callable(function):
        raise CompositionError(f"{where} takes a function of one argument, not {function!r}")
    name = name_of(function)
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        signature = None
    if signature is not None:
        try:
            signature.bind(object())
        except TypeError:
            raise CompositionError(
                f"{where} takes a function of one argument, but {name}{signature} cannot be "
                "called with one"
            ) from None
    underlying = _underlying(function)
    if kind == "async generator" and inspect.isfunction(underlying):
        if inspect.isgeneratorfunction(underlying):
            raise CompositionError(
                f"{where} takes an async generator function, but {name} is a plain "
                "generator: write it `async def`, so that its deltas can be awaited"
            )
        if not inspect.isasyncgenfunction(underlying):
            plain = "an async function" if inspect.iscoroutinefunction(underlying) else "a function"
            raise CompositionError(
                f"{where} takes an async generator function (an `async def` that yields its "
                f"deltas), but {name} is {plain} that returns its whole output: make it yield, "
                "or use @agent (and lift, where a stream is needed)"
            )
