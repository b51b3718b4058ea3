"""What a subject's own code knows: the string and bytes constants that its functions hold.

Random text almost never contains the word a censor looks for, let alone cut inside it, so a
law checked on random text passes a transducer that is broken exactly there. The words that
matter to a subject are usually written in its code: literals of its functions, values its
closures hold, module constants its code names. :func:`constants_of` finds them, so that the
default inputs of the laws (:func:`agentcat_laws.strategies.texts` with ``near=``) are made of
them and of pieces of them, and the chunkings cut through them.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Iterator
from typing import Any

from agentcat import Agent, Monoid, StreamingAgent

__all__ = ["constants_of"]

_LONGEST = 40
"""Longer literals are messages and docs, not the words a stage looks for."""

_MOST = 12
"""Enough for the words of a stage; of a long pipeline, its first ones."""

_DEPTH = 12
"""How deep into an agent's structure to look (a pipeline of fan-outs of lifted functions...)."""


def constants_of(subject: object) -> tuple[str | bytes, ...]:
    """The string and bytes constants of ``subject``'s code, in the order found, each once:
    the literals of its functions (and of the functions nested in them, or called by name in
    their module), the values their closures hold, and the module globals they name; of an
    agent, those of every function it is built from (the stages of a pipeline, the branches of
    a fan-out...). Blank ones, docstrings and ones over 40 characters are left out; 12 at most.
    """
    found: dict[str | bytes, None] = {}
    for value in _walk(subject, _DEPTH, set()):
        if len(found) == _MOST:
            break
        found.setdefault(value, None)
    return tuple(found)


def _walk(thing: object, depth: int, seen: set[int], names: bool = False) -> Iterator[str | bytes]:
    """The constants in ``thing``; ``names``: its strings are agentcat's names for things
    (held, directly or in a container, by one of agentcat's objects), not words."""
    if depth == 0 or id(thing) in seen:
        return
    seen.add(id(thing))
    if isinstance(thing, str | bytes):
        if _word(thing) and not names:
            yield thing
    elif isinstance(thing, types.FunctionType):
        if not _is_agentcat_module(thing.__module__):  # (agentcat's own words are not the user's)
            yield from _function(thing, depth, seen)
    elif isinstance(thing, types.MethodType):
        yield from _walk(thing.__func__, depth, seen)
    elif isinstance(thing, functools.partial):
        for part in (thing.func, *thing.args, *thing.keywords.values()):
            yield from _walk(part, depth - 1, seen)
    elif isinstance(thing, tuple | list | frozenset | set):
        for item in thing:
            yield from _walk(item, depth - 1, seen, names)
    elif isinstance(thing, dict):
        for item in (*thing.keys(), *thing.values()):
            yield from _walk(item, depth - 1, seen, names)
    elif _is_agentcat(thing):
        for value in _fields(thing):
            yield from _walk(value, depth - 1, seen, names=True)
        for kind in type(thing).__mro__:  # the methods a user's own agent class defines
            if _is_agentcat_module(kind.__module__):
                continue
            for value in vars(kind).values():
                if isinstance(value, types.FunctionType) and value.__module__ == kind.__module__:
                    yield from _walk(value, depth - 1, seen)


def _function(function: types.FunctionType, depth: int, seen: set[int]) -> Iterator[str | bytes]:
    code = function.__code__
    yield from _code(code, function.__doc__)
    for cell in function.__closure__ or ():
        try:
            held = cell.cell_contents
        except ValueError:  # (a cell not yet filled)
            continue
        yield from _walk(held, depth - 1, seen)
    for name in _names(code):
        named = function.__globals__.get(name)
        if isinstance(named, str | bytes):
            yield from _walk(named, depth - 1, seen)
        elif isinstance(named, types.FunctionType) and named.__module__ == function.__module__:
            yield from _walk(named, depth - 1, seen)  # (a helper of its own module)


def _code(code: types.CodeType, doc: str | None) -> Iterator[str | bytes]:
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _code(constant, None)
        elif isinstance(constant, str | bytes) and constant != doc and _word(constant):
            yield constant


def _word(constant: str | bytes) -> bool:
    """Whether a constant may be a word a stage looks for: not blank, not a long message."""
    return bool(constant.strip()) and len(constant) <= _LONGEST


def _names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _names(constant)


def _is_agentcat(thing: object) -> bool:
    """Whether ``thing`` is an agent, or another object of agentcat's (a monoid, a stage)."""
    return isinstance(thing, Agent | StreamingAgent | Monoid) or _is_agentcat_module(
        type(thing).__module__
    )


def _is_agentcat_module(name: str | None) -> bool:
    return (name or "").split(".")[0] in ("agentcat", "agentcat_laws")


def _fields(thing: object) -> Iterator[Any]:
    """The values an agentcat object holds: its ``__dict__`` and every slot of its classes."""
    yield from getattr(thing, "__dict__", {}).values()
    for kind in type(thing).__mro__:
        slots = getattr(kind, "__slots__", ())
        for slot in (slots,) if isinstance(slots, str) else slots:
            if slot != "__weakref__" and hasattr(thing, slot):
                yield getattr(thing, slot)
