"""Type variables shared by the modules of the package."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, TypeVarTuple

if TYPE_CHECKING:
    from agentcat.agent import Agent

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)
Err = TypeVar("Err", covariant=True)
T = TypeVar("T")
U = TypeVar("U")
X = TypeVar("X")
Y = TypeVar("Y")
Z = TypeVar("Z")
W = TypeVar("W")
E = TypeVar("E")
F = TypeVar("F")
Ex = TypeVar("Ex", bound=Exception)
Ex2 = TypeVar("Ex2", bound=Exception)
Ts = TypeVarTuple("Ts")
AnyAgent = TypeVar("AnyAgent", bound="Agent[Any, Any]")
