"""Checks of the functions users hand to agentcat (``@agent``, ``@streaming``, ``@transducer``,
``map_deltas``...), made where the function is given, so that a mistake is named there and not
when a stream runs."""

from __future__ import annotations

import inspect
from typing import Any, Literal

from agentcat.errors import CompositionError

__all__ = ["check_function"]

Kind = Literal["any", "async generator"]


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
    name = getattr(function, "__name__", repr(function))
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
    if kind == "async generator" and inspect.isfunction(function):
        if inspect.isgeneratorfunction(function):
            raise CompositionError(
                f"{where} takes an async generator function, but {name} is a plain "
                "generator: write it `async def`, so that its deltas can be awaited"
            )
        if not inspect.isasyncgenfunction(function):
            plain = "an async function" if inspect.iscoroutinefunction(function) else "a function"
            raise CompositionError(
                f"{where} takes an async generator function (an `async def` that yields its "
                f"deltas), but {name} is {plain} that returns its whole output: make it yield, "
                "or use @agent (and lift, where a stream is needed)"
            )
