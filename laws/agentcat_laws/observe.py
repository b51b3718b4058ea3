"""Observing agents: what one side of a law gives, compared "up to chunk boundaries".

Two sides of a law are equal when they give equal values, or fail with exceptions of the same
type (messages are not compared: they often carry positions that depend on chunking). A
stream is observed by its accumulated value, never by its chunks, so equality ignores where the
chunk boundaries fall; a ``Result`` is observed by its variant and content, exceptions in it by
type and arguments (two failures made by two runs are different objects, yet the same failure).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from attrs import frozen
from returns.result import Failure, Success

from agentcat import Agent, Chunk, ChunkStream, StreamedPromise

__all__ = ["Outcome", "collect", "comparable", "outcome", "resolve", "show"]

_WIDTH = 160


def show(value: object, width: int = _WIDTH) -> str:
    """``repr(value)``, shortened in the middle beyond ``width`` characters."""
    text = repr(value)
    if len(text) <= width:
        return text
    half = (width - 5) // 2
    return f"{text[:half]} ... {text[-half:]}"


def comparable(value: object) -> object:
    """``value`` in the form compared by the laws: results and exceptions by content."""
    if isinstance(value, Success):
        return ("Success", comparable(value.unwrap()))
    if isinstance(value, Failure):
        return ("Failure", comparable(value.failure()))
    if isinstance(value, BaseException):
        return (type(value), tuple(comparable(arg) for arg in value.args))
    if isinstance(value, tuple):
        return tuple(comparable(item) for item in value)
    if isinstance(value, list):
        return [comparable(item) for item in value]
    return value


@frozen(eq=False, repr=False)
class Outcome:
    """What one side of a law gave: a value, or the exception it raised."""

    value: Any = None
    error: BaseException | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Outcome):
            return NotImplemented
        if self.error is not None or other.error is not None:
            return type(self.error) is type(other.error)
        try:
            return bool(comparable(self.value) == comparable(other.value))
        except Exception:
            return False

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        if self.error is not None:
            return f"raised {type(self.error).__name__}: {self.error}"
        return show(self.value)


async def resolve(output: Any) -> Any:
    """The value an agent's output stands for: a stream's accumulated value (awaited, or read
    off the last chunk of any other async iterator of chunks), else the output itself."""
    if isinstance(output, ChunkStream):
        return await output
    if isinstance(output, AsyncIterator):
        last: Any = None
        async for piece in output:
            last = piece
        return last.accumulated if isinstance(last, Chunk) else last
    return output


async def outcome(agent: Agent[Any, Any] | Callable[[], Agent[Any, Any]], value: Any) -> Outcome:
    """Invoke ``agent`` on ``value`` and resolve its output; an exception is the outcome too.

    ``agent`` may be a function that builds the agent: an exception while building it (``>>``
    refusing two agents whose types disagree, say) is then the outcome as well.
    """
    try:
        built = agent if isinstance(agent, Agent) else agent()
        return Outcome(await resolve(await built.invoke(value)))
    except Exception as error:
        return Outcome(error=error)


async def collect(
    stream: AsyncIterator[Any], arrived: Callable[[Any], None] | None = None
) -> tuple[list[Any], BaseException | None]:
    """Every chunk of ``stream``, and the exception that ended it (``None`` if it ended);
    ``arrived`` is called with each chunk as it arrives. An agentcat stream is read inside
    ``async with``, as a stream that runs tasks must be."""
    found: list[Any] = []
    try:
        if isinstance(stream, StreamedPromise):
            async with stream:
                async for chunk in stream:
                    found.append(chunk)
                    if arrived is not None:
                        arrived(chunk)
        else:
            async for chunk in stream:
                found.append(chunk)
                if arrived is not None:
                    arrived(chunk)
    except Exception as error:
        return found, error
    return found, None
