"""`NoPublicConstructor`: the metaclass of the classes that agentcat's operators build, and
`create`, the one way to build them."""

from __future__ import annotations

from abc import ABCMeta
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, cast

from agentcat.errors import CompositionError

__all__ = ["NoPublicConstructor", "create"]

T = TypeVar("T")
P = ParamSpec("P")


class NoPublicConstructor(ABCMeta):
    """Instances are made by agentcat's operators and functions, never by calling the class.

    A combinator's rules (flattening, the type check at each junction, validated arguments) live
    in the operator that builds it (``>>``, ``&``, ``with_retry``...), so calling the class
    directly would skip them. The class stays importable, for ``isinstance`` and annotations;
    calling it raises a :class:`agentcat.CompositionError` (a ``TypeError``) that names the way
    to build one. (trio does the same
    for the classes only its functions make.) Its ``_built_by`` says what to write instead.
    """

    _built_by: str

    # Annotated to return Any so that type checkers keep reading the signature of __init__,
    # which `create` checks.
    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        raise CompositionError(
            f"{cls.__qualname__} is not built by calling it: write {cls._built_by}, which "
            "checks what the class alone would not"
        )


def create(cls: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Build an instance of a class with no public constructor (for agentcat's own operators)."""
    return cast(T, type.__call__(cls, *args, **kwargs))  # type: ignore[arg-type]
