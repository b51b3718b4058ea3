"""Errors (``agentcat.errors``): one base, each error also the built-in a caller already catches,
raised where the mistake is made."""

from __future__ import annotations

import pickle
from collections.abc import AsyncIterator, Callable

import pytest

import agentcat
from agentcat import (
    AgentcatError,
    ChunkStream,
    CompositionError,
    MonoidError,
    RateLimitedError,
    StreamClosedError,
    StreamingError,
    StreamScopeError,
    ToolArgumentsError,
    ToolRoundsError,
    agent,
    monoid_of,
    streaming,
)

BUILTINS: dict[type[AgentcatError], type[Exception]] = {
    CompositionError: TypeError,
    MonoidError: TypeError,
    StreamClosedError: RuntimeError,
    StreamScopeError: RuntimeError,
    ToolArgumentsError: ValueError,
    ToolRoundsError: RuntimeError,
}


@pytest.mark.parametrize("error", [*BUILTINS, StreamingError], ids=lambda e: e.__name__)
def test_every_error_is_an_agentcat_error(error: type[Exception]) -> None:
    assert issubclass(error, AgentcatError)
    assert error.__module__ == "agentcat.errors"


@pytest.mark.parametrize(("error", "builtin"), BUILTINS.items(), ids=lambda e: e.__name__)
def test_each_error_is_the_builtin_a_caller_would_catch(
    error: type[Exception], builtin: type[Exception]
) -> None:
    assert issubclass(error, builtin)


def test_the_errors_module_lists_every_error_and_the_root_has_them() -> None:
    assert set(agentcat.errors.__all__) == {
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
    }
    for name in agentcat.errors.__all__:
        assert getattr(agentcat, name) is getattr(agentcat.errors, name)


def test_a_streaming_error_survives_pickling() -> None:
    error = StreamingError(
        "model failed after 2 deltas", partial="one two ", recoverable=True, resumable=True
    )
    error.add_note("a note")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is StreamingError
    assert (str(copy), copy.partial, copy.recoverable, copy.resumable) == (
        "model failed after 2 deltas",
        "one two ",
        True,
        True,
    )
    assert copy.__notes__ == ["a note"]


def test_a_tool_arguments_error_survives_pickling_with_its_raw_text() -> None:
    copy = pickle.loads(pickle.dumps(ToolArgumentsError("bad", raw='{"a": ')))
    assert type(copy) is ToolArgumentsError
    assert (str(copy), copy.raw) == ("bad", '{"a": ')
    limited = RateLimitedError("slow down", provider="claude", status=429, retry_after=2.5)
    again = pickle.loads(pickle.dumps(limited))
    assert type(again) is RateLimitedError
    assert (str(again), again.provider, again.status, again.retry_after, again.transient) == (
        "slow down",
        "claude",
        429,
        2.5,
        True,
    )
    rounds = pickle.loads(pickle.dumps(ToolRoundsError("still calling", rounds=3)))
    assert (type(rounds), str(rounds), rounds.rounds) == (ToolRoundsError, "still calling", 3)


@agent
def shout(text: str) -> str:
    return text.upper()


@agent
def count(text: str) -> int:
    return len(text)


@streaming
async def words(prompt: str) -> AsyncIterator[str]:
    yield prompt


MISTAKES: list[tuple[Callable[[], object], type[AgentcatError]]] = [
    (lambda: count >> shout, CompositionError),  # type: ignore[operator]
    (lambda: words >> count >> shout, CompositionError),  # type: ignore[operator]
    (lambda: shout >> 3, CompositionError),  # type: ignore[operator]
    (lambda: shout & "x", CompositionError),  # type: ignore[operator]
    (lambda: words * None, CompositionError),  # type: ignore[operator]
    (lambda: agent(3), CompositionError),  # type: ignore[call-overload]
    (lambda: monoid_of(object()), MonoidError),
]


@pytest.mark.parametrize(("mistake", "error"), MISTAKES, ids=[str(n) for n in range(len(MISTAKES))])
def test_a_mistake_raises_its_error_where_it_is_made(
    mistake: Callable[[], object], error: type[AgentcatError]
) -> None:
    with pytest.raises(error):
        mistake()


@pytest.mark.anyio
async def test_reading_a_closed_stream_is_a_stream_closed_error() -> None:
    stream = ChunkStream.of(["a", "b"])
    await anext(stream)
    await stream.aclose()
    with pytest.raises(StreamClosedError, match="closed before its end"):
        await anext(stream)
    with pytest.raises(AgentcatError):
        await stream
