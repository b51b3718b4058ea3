"""Fallback and retry: bounded attempts, call counts, backoff delays, the error that surfaces."""

from __future__ import annotations

import anyio
import pytest
from agentcat_laws import LawError, Program, programs, texts
from agentcat_laws.instruments import Raising
from attrs import field, frozen
from hypothesis import given
from hypothesis import strategies as st

from agentcat import Backoff, Fallback, Retry
from tests.helpers import Counted, Scripted

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


def test_fallback_needs_alternatives_of_the_same_agent() -> None:
    f, g = Program(()), Program(())
    fallback = f.with_fallback(g)
    assert fallback == Fallback((f, g), (Exception,))
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
    assert f.with_retry(3, backoff=backoff) == Retry(f, 3, backoff, (Exception,))
    assert f.with_retry(3).input_type is str


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
