"""Every error agentcat raises, under one base, :class:`AgentcatError`.

Each one but :class:`StreamingError` and the :class:`ProviderError` family also subclasses the
built-in exception a caller would already catch for that kind of mistake, so ``except
TypeError`` around a composition keeps working, and ``except agentcat.AgentcatError`` catches
everything agentcat itself raises. Failures of your own agents are never wrapped into these:
they surface as they are (a stream adds its position to them only through
:class:`StreamingError`, when they happen after output was passed on). A provider's failures
are told by kind (:class:`RateLimitedError`, :class:`OverloadedError`,
:class:`ConnectionLostError`), whatever the SDK raised.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AgentcatError",
    "CompositionError",
    "ConnectionLostError",
    "MonoidError",
    "OverloadedError",
    "ProviderError",
    "RateLimitedError",
    "StreamClosedError",
    "StreamScopeError",
    "StreamingError",
    "ToolArgumentsError",
    "ToolRoundsError",
]


class AgentcatError(Exception):
    """The base of every error agentcat raises."""


class CompositionError(AgentcatError, TypeError):
    """Agents that cannot be built or combined: ``f >> g`` where ``f``'s output cannot be
    ``g``'s input (the message names both sides and both types); an operand of ``>>``, ``&``,
    ``*`` or a resilience combinator that is not an agent; a function of the wrong shape for
    ``@agent``, ``@streaming``, ``@transducer``, ``map_deltas`` or ``filter_deltas``; a monoid
    ``lift`` cannot give; something other than exception classes for ``on=`` or ``as_result``.

    Raised when the expression is built, not when it runs.
    """


class MonoidError(AgentcatError, TypeError):
    """Deltas that cannot be accumulated: no monoid is known for their type (or a class's
    ``__agentcat_monoid__`` is not a :class:`agentcat.Monoid`), or a stage yielded a delta of
    another type than its stream's; the message names the stage."""


class StreamClosedError(AgentcatError, RuntimeError):
    """The stream was closed, or its producer cancelled, before it had produced everything."""


class StreamScopeError(AgentcatError, RuntimeError):
    """A stream that runs tasks (a fan-out or a parallel product inside it) was read outside a
    scope that owns them: read it inside ``async with stream:``, or ``await`` it whole.

    Raised at the first read, before anything runs, so the same stream can still be read
    properly; a plain ``async for`` over a stream of sequential stages never raises it.
    """


class StreamingError(AgentcatError):
    """A stream failed after it had passed deltas on, so it could not be retried or replaced
    without repeating them.

    ``partial`` is the value accumulated from the deltas it had produced; ``recoverable`` tells
    whether an attempt or alternative was left that would have taken over before the first delta,
    so a caller may restart the whole stream; ``resumable``, whether the stream can instead go on
    from where it stopped without repeating a delta (a messenger's ``with_resume`` does so for a
    reply of text, on a model that continues a reply). The original failure is ``__cause__``.

    It does not subclass a built-in error: the failure underneath may be of any type, and only
    ``__cause__`` says which.
    """

    def __init__(
        self, message: str, *, partial: Any, recoverable: bool, resumable: bool = False
    ) -> None:
        super().__init__(message)
        self.partial = partial
        self.recoverable = recoverable
        self.resumable = resumable

    # The Messenger Protocol's names for the same facts.

    @property
    def error_type(self) -> str:
        """The class name of the failure underneath (``__cause__``), or of this error."""
        cause = self.__cause__
        return type(cause if cause is not None else self).__name__

    @property
    def message(self) -> str:
        """What went wrong, in words."""
        return str(self)

    @property
    def partial_output(self) -> Any:
        """:attr:`partial`: the value accumulated before the failure."""
        return self.partial

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only fields: pickling must call the constructor with them by name.
        fields = (str(self), self.partial, self.recoverable, self.resumable)
        return (_streaming_error, fields, self.__dict__)


def _streaming_error(
    message: str, partial: Any, recoverable: bool, resumable: bool = False
) -> StreamingError:
    return StreamingError(message, partial=partial, recoverable=recoverable, resumable=resumable)


class ToolArgumentsError(AgentcatError, ValueError):
    """The arguments a model gave a tool call are not valid JSON: still streaming, or cut short
    (a reply that ran out of ``max_tokens``). ``raw`` is the text as it is. Like
    :class:`StreamingError`, it is the model's failure, not the program's: retry and fallback
    catch it as any other failure."""

    def __init__(self, message: str, *, raw: str) -> None:
        super().__init__(message)
        self.raw = raw

    def __reduce__(self) -> tuple[Any, ...]:
        return (_tool_arguments_error, (str(self), self.raw), self.__dict__)


def _tool_arguments_error(message: str, raw: str) -> ToolArgumentsError:
    return ToolArgumentsError(message, raw=raw)


class ToolRoundsError(AgentcatError, RuntimeError):
    """A model kept calling tools past the bound a :class:`agentcat.MessengerAgent` sets
    (``max_rounds``). The calls it asked for last were answered, each with a result marked as
    an error that says so, so the conversation is whole and can go on. ``rounds`` is the
    bound."""

    def __init__(self, message: str, *, rounds: int) -> None:
        super().__init__(message)
        self.rounds = rounds

    def __reduce__(self) -> tuple[Any, ...]:
        return (_tool_rounds_error, (str(self), self.rounds), self.__dict__)


def _tool_rounds_error(message: str, rounds: int) -> ToolRoundsError:
    return ToolRoundsError(message, rounds=rounds)


class ProviderError(AgentcatError):
    """A model provider refused or failed a request before its reply began (after the first
    delta the failure is a :class:`StreamingError`, with this error as its ``__cause__``).

    ``provider`` names the backend; ``status`` is the HTTP status, when there was one;
    ``provider_type`` the provider's own name of the error (``"overloaded_error"``...);
    ``retry_after`` the seconds the provider asked to wait, when it said; ``transient``
    whether trying again later may succeed (``with_retry(on=(ProviderError,))`` retries every
    kind; a caller may look at ``transient`` first).
    """

    transient = False

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        provider_type: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.status = status
        self.provider_type = provider_type
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[Any, ...]:
        fields = (self.provider, self.status, self.provider_type, self.retry_after)
        return (_provider_error, (type(self), str(self), *fields), self.__dict__)


def _provider_error(
    kind: type[ProviderError],
    message: str,
    provider: str,
    status: int | None,
    provider_type: str | None,
    retry_after: float | None,
) -> ProviderError:
    return kind(
        message,
        provider=provider,
        status=status,
        provider_type=provider_type,
        retry_after=retry_after,
    )


class RateLimitedError(ProviderError):
    """The provider is limiting the rate of requests (HTTP 429): wait ``retry_after`` seconds
    when it says how long."""

    transient = True


class OverloadedError(ProviderError):
    """The provider is overloaded or unavailable for now (529, 503, an ``overloaded_error``
    event in the stream)."""

    transient = True


class ConnectionLostError(ProviderError):
    """The connection to the provider was lost, or its reply ended without its last event."""

    transient = True
