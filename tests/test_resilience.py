"""Fallback and retry (``agentcat.resilience``), plain and streaming: bounded attempts, call
counts, backoff delays, the error that surfaces, and the switch only before the first delta."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import pytest
from agentcat_laws import LawError, Program, programs, texts
from agentcat_laws.instruments import Raising
from attrs import field, frozen
from hypothesis import given
from hypothesis import strategies as st

from agentcat import Backoff, StreamingAgent, StreamingError, agent
from agentcat.resilience import Fallback, Retry
from agentcat.streaming import Lifted
from tests.helpers import Counted, Scripted
from tests.streams import Tokens

# --- fallback ---------------------------------------------------------------------------------


@pytest.mark.anyio
@given(programs(), programs(), texts())
async def test_fallback_answers_with_the_first_that_succeeds(
    f: Program, g: Program, x: str
) -> None:
    counted_g = Counted(g)
    assert await f.with_fallback(counted_g).invoke(x) == f.run(x)
    assert counted_g.calls == 0


@pytest.mark.anyio
@given(programs(), texts())
async def test_fallback_tries_each_alternative_in_turn(g: Program, x: str) -> None:
    first, second, third = Counted(Raising(LawError(1))), Counted(Raising(LawError(2))), Counted(g)
    assert await first.with_fallback(second, third).invoke(x) == g.run(x)
    assert (first.calls, second.calls, third.calls) == (1, 1, 1)


@pytest.mark.anyio
async def test_fallback_raises_the_last_failure_naming_the_earlier_ones() -> None:
    errors = [LawError(1), ValueError("second went wrong"), LawError(3)]
    agents = [Counted(Raising(error)) for error in errors]
    fallback = agents[0].with_fallback(*agents[1:])
    with pytest.raises(LawError) as info:
        await fallback.invoke("x")
    assert info.value is errors[-1]
    assert [agent.calls for agent in agents] == [1, 1, 1]
    (note,) = info.value.__notes__
    assert "every alternative of" in note
    assert repr(fallback) in note
    assert f"LawError: {errors[0]}" in note
    assert "ValueError: second went wrong" in note


@pytest.mark.anyio
async def test_fallback_chains_the_earlier_failures_as_documented() -> None:
    """``Agent.with_fallback`` says the earlier failures are the ``__context__`` of the last."""
    first, last = LawError(1), LawError(2)
    with pytest.raises(LawError) as info:
        await Raising(first).with_fallback(Raising(last)).invoke("x")
    assert info.value is last
    assert info.value.__context__ is first


@pytest.mark.anyio
async def test_fallback_lets_other_errors_through_at_once() -> None:
    error = KeyError("not handled")
    second = Counted(Program(()))
    with pytest.raises(KeyError) as info:
        await Raising(error).with_fallback(second, on=(LawError,)).invoke("x")
    assert info.value is error
    assert second.calls == 0
    assert not getattr(error, "__notes__", [])


def test_fallback_is_a_value() -> None:
    f, g = Program(()), Program(())
    fallback = f.with_fallback(g)
    assert isinstance(fallback, Fallback)
    assert (fallback.alternatives, fallback.on) == ((f, g), (Exception,))
    assert fallback == f.with_fallback(g)
    assert fallback.input_type is str
    assert fallback.output_type is str


# --- retry ------------------------------------------------------------------------------------


@pytest.mark.anyio
@given(st.integers(0, 4), st.integers(1, 6))
async def test_retry_invokes_until_success_within_the_bound(failures: int, attempts: int) -> None:
    scripted = Scripted([LawError(n) for n in range(failures)])
    retried = scripted.with_retry(attempts)
    if failures < attempts:
        assert await retried.invoke("x") == "x!"
        assert scripted.calls == failures + 1
    else:
        with pytest.raises(LawError):
            await retried.invoke("x")
        assert scripted.calls == attempts


@pytest.mark.anyio
async def test_retry_raises_the_last_failure_naming_the_earlier_ones() -> None:
    errors = [LawError(1), ValueError("bad"), LawError(3)]
    scripted = Scripted(list(errors))
    retried = scripted.with_retry(3)
    with pytest.raises(LawError) as info:
        await retried.invoke("x")
    assert info.value is errors[-1]
    assert scripted.calls == 3
    (note,) = info.value.__notes__
    assert f"{retried!r} failed on all 3 attempts" in note
    assert f"LawError: {errors[0]}" in note
    assert "ValueError: bad" in note


@pytest.mark.anyio
async def test_a_single_attempt_adds_no_earlier_failures() -> None:
    error = LawError(1)
    with pytest.raises(LawError) as info:
        await Raising(error).with_retry(1).invoke("x")
    assert info.value is error
    assert info.value.__notes__ == ["raising(LawError(1)).with_retry(1) failed on all 1 attempts"]


@pytest.mark.anyio
async def test_retry_lets_other_errors_through_at_once() -> None:
    scripted = Scripted([KeyError("k"), KeyError("k")])
    with pytest.raises(KeyError):
        await scripted.with_retry(5, on=(LawError,)).invoke("x")
    assert scripted.calls == 1


@pytest.mark.anyio
async def test_retry_does_not_retry_cancellation() -> None:
    counted = Counted(Program(()))  # passes through the event loop once: cancelled there
    with anyio.CancelScope() as scope:
        scope.cancel()
        await counted.with_retry(5).invoke("x")
    assert scope.cancelled_caught
    assert counted.calls == 1


@pytest.mark.parametrize("attempts", [0, -1])
def test_retry_needs_at_least_one_attempt(attempts: int) -> None:
    with pytest.raises(ValueError, match="attempts"):
        Program(()).with_retry(attempts)


@frozen
class RecordingBackoff(Backoff):
    """Records which delays a retry asks for, and makes it sleep for none of them."""

    asked: list[int] = field(factory=list)

    def delay(self, retry: int) -> float:
        self.asked.append(retry)
        return 0.0


@pytest.mark.anyio
async def test_retry_sleeps_by_the_backoff_between_attempts_only() -> None:
    backoff = RecordingBackoff()
    scripted = Scripted([LawError(1), LawError(2), LawError(3)])
    assert await scripted.with_retry(4, backoff=backoff).invoke("x") == "x!"
    assert backoff.asked == [0, 1, 2]

    backoff.asked.clear()
    with pytest.raises(LawError):
        await Scripted([LawError(n) for n in range(9)]).with_retry(3, backoff=backoff).invoke("x")
    assert backoff.asked == [0, 1]  # no sleep after the last attempt


@pytest.mark.anyio
async def test_retry_with_zero_backoff() -> None:
    scripted = Scripted([LawError(1)])
    assert await scripted.with_retry(2, backoff=Backoff(initial=0)).invoke("x") == "x!"


def test_retry_is_a_value() -> None:
    f = Program(())
    backoff = Backoff(initial=0)
    retry = f.with_retry(3, backoff=backoff)
    assert isinstance(retry, Retry)
    assert (retry.agent, retry.attempts, retry.backoff, retry.on) == (f, 3, backoff, (Exception,))
    assert retry == f.with_retry(3, backoff=backoff)
    assert f.with_retry(3).input_type is str


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda f: f.with_retry("3"), TypeError, "attempts must be an int"),
        (lambda f: f.with_retry(2, backoff=0.5), TypeError, "backoff must be a Backoff"),
        (lambda f: f.with_retry(2, on=ValueError), TypeError, "tuple of exception classes"),
        (lambda f: f.with_fallback(f, on=(ValueError, "x")), TypeError, "exception classes"),
        (lambda f: f.with_fallback(len), TypeError, "is not an Agent"),
    ],
    ids=["attempts", "backoff", "retry-on", "fallback-on", "alternative"],
)
def test_bad_arguments_are_refused_when_the_agent_is_built(
    build: Callable[[Program], object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        build(Program(()))


def test_the_classes_are_built_by_the_methods_only() -> None:
    f = Program(())
    with pytest.raises(TypeError, match=r"write agent\.with_retry"):
        Retry(f, 3, None, (Exception,))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"write agent\.with_fallback"):
        Fallback((f, f), (Exception,))


# --- backoff ----------------------------------------------------------------------------------


def test_backoff_is_exponential_up_to_the_maximum() -> None:
    backoff = Backoff(initial=1.0, factor=2.0, maximum=5.0)
    assert [backoff.delay(n) for n in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_backoff_defaults() -> None:
    backoff = Backoff()
    assert [backoff.delay(n) for n in range(3)] == pytest.approx([0.1, 0.2, 0.4])
    assert Backoff(initial=0).delay(10) == 0.0
    assert Backoff(initial=3.0, factor=1.0).delay(7) == 3.0


@given(
    st.floats(0, 10),
    st.floats(1, 4),
    st.floats(0, 60),
    st.floats(0, 1),
    st.integers(0, 20),
)
def test_backoff_jitter_stays_within_its_fraction(
    initial: float, factor: float, maximum: float, jitter: float, retry: int
) -> None:
    backoff = Backoff(initial, factor, maximum, jitter)
    base = min(initial * factor**retry, maximum)
    delay = backoff.delay(retry)
    assert base * (1 - jitter) - 1e-9 <= delay <= base * (1 + jitter) + 1e-9
    assert delay >= 0


@pytest.mark.parametrize(
    "arguments",
    [
        {"initial": -0.1},
        {"factor": 0.5},
        {"maximum": -1.0},
        {"jitter": -0.1},
        {"jitter": 1.5},
    ],
)
def test_backoff_validates_its_fields(arguments: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(arguments))):
        Backoff(**arguments)


# --- streaming: transparent before the first delta, explicit after it -------------------------

WORDS = ["one ", "two ", "three"]


@pytest.mark.anyio
async def test_a_failure_before_the_first_delta_falls_back_transparently() -> None:
    broken = Tokens(WORDS, error=ConnectionError("refused"), fail_after=0, label="primary")
    backup = Tokens(WORDS, label="backup")
    chunks = [chunk async for chunk in broken.with_fallback(backup).stream("")]
    assert [chunk.delta for chunk in chunks] == [*WORDS, ""]
    assert chunks[-1].accumulated == "one two three"


@pytest.mark.anyio
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


@pytest.mark.anyio
async def test_a_failure_after_output_on_the_last_alternative_is_not_recoverable() -> None:
    flaky = Tokens(WORDS, error=ConnectionError("reset"), fail_after=1)
    with pytest.raises(StreamingError) as caught:
        await flaky.with_retry(1).stream("")
    assert caught.value.partial == "one "
    assert not caught.value.recoverable


@pytest.mark.anyio
async def test_every_alternative_failing_raises_the_last_with_the_others_noted() -> None:
    first = Tokens(WORDS, error=TimeoutError("first"), fail_after=0)
    second = Tokens(WORDS, error=ConnectionError("second"), fail_after=0)
    with pytest.raises(ConnectionError, match="second") as caught:
        await first.with_fallback(second).stream("")
    assert "TimeoutError: first" in "".join(caught.value.__notes__)


@pytest.mark.anyio
async def test_errors_outside_on_are_not_caught() -> None:
    broken = Tokens(WORDS, error=KeyError("bug"), fail_after=0)
    backup = Tokens(WORDS)
    with pytest.raises(KeyError):
        await broken.with_fallback(backup, on=(ConnectionError,)).stream("")
    assert backup.record.produced == []


@pytest.mark.anyio
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
    assert isinstance(retry, Lifted)
    assert isinstance(retry.agent, Retry)
    assert await retry.stream("") == "one two three"
    assert len(attempts) == 3


@pytest.mark.anyio
async def test_retry_gives_up_after_its_attempts() -> None:
    always = Tokens(WORDS, error=ConnectionError("down"), fail_after=0)
    with pytest.raises(ConnectionError, match="down") as caught:
        await always.with_retry(2).stream("")
    assert "failed on all 2 attempts" in "".join(caught.value.__notes__)


@agent
def up(text: str) -> str:
    return text.upper()


@pytest.mark.anyio
async def test_a_plain_and_a_streaming_alternative_stream_in_either_order() -> None:
    broken = Tokens(WORDS, error=ConnectionError("refused"), fail_after=0, label="primary")
    for fallback in (broken.with_fallback(up), up.with_fallback(broken)):
        assert isinstance(fallback, StreamingAgent)
        assert isinstance(fallback, Lifted)
        assert isinstance(fallback.agent, Fallback)
    assert await broken.with_fallback(up).stream("x") == "X"
    assert await up.with_fallback(broken).stream("x") == "X"
    assert repr(up.with_fallback(broken)) == "lift(up).with_fallback(primary)"


@pytest.mark.anyio
async def test_a_streaming_retry_invoked_plainly_gives_its_whole_value() -> None:
    retry = Tokens(WORDS).with_retry(2)
    assert isinstance(retry, Lifted)
    assert isinstance(retry.agent, Retry)
    assert await retry.agent.invoke("") == "one two three"
