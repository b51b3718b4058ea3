"""Streaming fallback and retry: transparent before the first delta, explicit after it."""

from __future__ import annotations

import pytest

from agentcat import Backoff, StreamingError, StreamingRetry
from tests.streams import Tokens

pytestmark = pytest.mark.anyio

WORDS = ["one ", "two ", "three"]


async def test_a_failure_before_the_first_delta_falls_back_transparently() -> None:
    broken = Tokens(WORDS, error=ConnectionError("refused"), fail_after=0, label="primary")
    backup = Tokens(WORDS, label="backup")
    chunks = [chunk async for chunk in broken.with_fallback(backup).stream("")]
    assert [chunk.delta for chunk in chunks] == [*WORDS, ""]
    assert chunks[-1].accumulated == "one two three"


async def test_a_failure_after_the_first_delta_is_an_error_with_the_partial_output() -> None:
    failure = ConnectionError("reset")
    flaky = Tokens(WORDS, error=failure, fail_after=2, label="primary")
    backup = Tokens(["never "], label="backup")
    stream = flaky.with_fallback(backup).stream("")
    with pytest.raises(StreamingError) as caught:
        await stream
    assert caught.value.partial == "one two "
    assert caught.value.recoverable  # the backup was left: a caller may restart from scratch
    assert caught.value.__cause__ is failure
    assert backup.record.produced == []  # no delta was duplicated by a silent switch
    assert stream.accumulated == "one two "


async def test_a_failure_after_output_on_the_last_alternative_is_not_recoverable() -> None:
    flaky = Tokens(WORDS, error=ConnectionError("reset"), fail_after=1)
    with pytest.raises(StreamingError) as caught:
        await flaky.with_retry(1).stream("")
    assert caught.value.partial == "one "
    assert not caught.value.recoverable


async def test_every_alternative_failing_raises_the_last_with_the_others_noted() -> None:
    first = Tokens(WORDS, error=TimeoutError("first"), fail_after=0)
    second = Tokens(WORDS, error=ConnectionError("second"), fail_after=0)
    with pytest.raises(ConnectionError, match="second") as caught:
        await first.with_fallback(second).stream("")
    assert "TimeoutError: first" in "".join(caught.value.__notes__)


async def test_errors_outside_on_are_not_caught() -> None:
    broken = Tokens(WORDS, error=KeyError("bug"), fail_after=0)
    backup = Tokens(WORDS)
    with pytest.raises(KeyError):
        await broken.with_fallback(backup, on=(ConnectionError,)).stream("")
    assert backup.record.produced == []


async def test_retry_restarts_only_before_the_first_delta_and_counts_attempts() -> None:
    attempts: list[int] = []

    class Flaky(Tokens):
        async def open(self, value: str, /):  # type: ignore[no-untyped-def]
            attempts.append(1)
            if len(attempts) < 3:
                raise ConnectionError("try again")
            async for token in super().open(value):
                yield token

    retry = Flaky(WORDS).with_retry(3, backoff=Backoff(initial=0))
    assert isinstance(retry, StreamingRetry)
    assert await retry.stream("") == "one two three"
    assert len(attempts) == 3


async def test_retry_gives_up_after_its_attempts() -> None:
    always = Tokens(WORDS, error=ConnectionError("down"), fail_after=0)
    with pytest.raises(ConnectionError, match="down") as caught:
        await always.with_retry(2).stream("")
    assert "failed on all 2 attempts" in "".join(caught.value.__notes__)
