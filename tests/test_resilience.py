"""Fallback and retry (``agentcat.resilience``), plain and streaming: bounded attempts, call
counts, backoff delays, the error that surfaces, and the switch only before the first delta."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from agentcat_laws import LawError, Program, programs, texts
from agentcat_laws.instruments import Raising
from attrs import define, field, frozen
from hypothesis import given
from hypothesis import strategies as st

from agentcat import (
    Agent,
    Backoff,
    CompositionError,
    MonoidError,
    Node,
    StreamingAgent,
    StreamingError,
    StreamScopeError,
    agent,
    lift,
    split_sentences,
    streaming,
)
from agentcat.resilience import Fallback, Retry
from agentcat.streaming import Lifted
from tests.helpers import Counted, Scripted
from tests.streams import Tokens


@agent
def up(text: str) -> str:
    return text.upper()


@agent
def down(text: str) -> str:
    return text.lower()


@define(eq=False, repr=False)
class Flaky(StreamingAgent[str, str]):
    """Streams ``tokens``, but its first ``failures`` opens fail with ``ConnectionError`` after
    ``fail_after`` tokens; counts its opens."""

    tokens: Sequence[str]
    failures: int = 1
    fail_after: int = 0
    label: str = "flaky"
    opens: int = 0

    async def open(self, value: str, /) -> AsyncIterator[str]:
        self.opens += 1
        failing = self.opens <= self.failures
        for index, token in enumerate(self.tokens):
            if failing and index == self.fail_after:
                raise ConnectionError(f"open {self.opens} failed")
            await anyio.lowlevel.checkpoint()
            yield token

    @property
    def name(self) -> str:
        return self.label


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
    message = rf"up\.with_retry\({attempts}\): attempts must be at least 1, not {attempts}"
    with pytest.raises(ValueError, match=message):
        up.with_retry(attempts)


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
    ("build", "message"),
    [
        (lambda f: f.with_retry("3"), r"program\(\)\.with_retry\('3'\): attempts must be an int"),
        (lambda f: f.with_retry(True), "attempts must be an int, not True"),
        (lambda f: f.with_retry(2, backoff=0.5), "backoff must be a Backoff, not 0.5"),
        (lambda f: f.with_retry(2, on=ValueError), "on= takes a tuple of exception classes"),
        (lambda f: f.with_fallback(f, on=(ValueError, "x")), "tuple of exception classes"),
        (lambda f: f.with_fallback(len), "is not an Agent"),
    ],
    ids=["attempts", "attempts-bool", "backoff", "retry-on", "fallback-on", "alternative"],
)
def test_bad_arguments_are_refused_when_the_agent_is_built(
    build: Callable[[Program], object], message: str
) -> None:
    """Each is a :class:`CompositionError` (a ``TypeError``) naming the agent."""
    with pytest.raises(CompositionError, match=message) as caught:
        build(Program(()))
    assert "program()" in str(caught.value)


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
    flaky = Flaky(WORDS, failures=2)
    retry = flaky.with_retry(3, backoff=Backoff(initial=0))
    assert isinstance(retry, Lifted)
    assert isinstance(retry.agent, Retry)
    assert await retry.stream("") == "one two three"
    assert flaky.opens == 3


@pytest.mark.anyio
async def test_empty_deltas_before_a_failure_are_no_output_and_it_is_retried() -> None:
    flaky = Tokens(["", ""], error=ConnectionError("reset"), fail_after=2)
    healthy = Tokens(WORDS)
    assert await flaky.with_fallback(healthy).stream("") == "one two three"  # not StreamingError


@pytest.mark.anyio
async def test_retry_gives_up_after_its_attempts() -> None:
    always = Tokens(WORDS, error=ConnectionError("down"), fail_after=0)
    with pytest.raises(ConnectionError, match="down") as caught:
        await always.with_retry(2).stream("")
    assert "failed on all 2 attempts" in "".join(caught.value.__notes__)


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


# --- a retried or fallen-back stream that runs tasks ------------------------------------------


@streaming
async def echo(text: str) -> AsyncIterator[str]:
    yield text


@pytest.mark.anyio
@pytest.mark.parametrize(
    "build",
    [lambda: (echo & echo).with_retry(2), lambda: (echo & echo).with_fallback(echo & echo)],
    ids=["retry", "fallback"],
)
async def test_a_retried_or_fallen_back_fan_out_streams_in_its_scope(
    build: Callable[[], StreamingAgent[str, tuple[str, str]]],
) -> None:
    stream = build().stream("x")
    async with stream:
        chunks = [chunk async for chunk in stream]
    assert chunks[-1].accumulated == ("x", "x")
    assert await build().stream("x") == ("x", "x")  # whole: it hosts its tasks itself


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["retry", "fallback"])
async def test_a_fan_out_whose_first_attempt_fails_runs_the_next_in_tasks_and_stops_them(
    kind: str,
) -> None:
    flaky = Flaky(WORDS)  # fails at once: the steady branch has passed nothing on by then
    steady = Tokens(WORDS, label="steady", forever=True)
    both = flaky & steady
    stream = (both.with_retry(2) if kind == "retry" else both.with_fallback(both)).stream("")
    async with stream:
        seen = 0
        async for _ in stream:
            seen += 1
            if seen == 2 * len(WORDS):
                break
        assert stream.accumulated == ("one two three", "one two three")
        assert steady.record.running == 1  # the second attempt's branch, waiting for ever
        await stream.aclose()
        assert steady.record.running == 0  # closing the stream stopped the attempt's tasks
        assert steady.record.closed
    assert flaky.opens == 2


# --- what is not retried: agentcat's own mistakes ---------------------------------------------


@streaming
async def miscounted(text: str) -> AsyncIterator[str]:
    """Says it streams text, and yields a number: a MonoidError where its stream is read."""
    yield len(text)  # type: ignore[misc]


@define(eq=False, repr=False)
class Reader(Agent[str, str]):
    """Reads the whole stream of ``source`` for its answer, counting its calls."""

    source: StreamingAgent[str, str]
    calls: int = 0

    async def invoke(self, value: str, /) -> str:
        self.calls += 1
        return await self.source.stream(value)


@pytest.mark.anyio
@pytest.mark.parametrize("streams", [False, True], ids=["plain", "streaming"])
@pytest.mark.parametrize("kind", ["retry", "fallback"])
async def test_a_mistake_in_a_stream_is_not_retried(streams: bool, kind: str) -> None:
    reader, backup = Reader(miscounted), Counted(up)
    stage: Agent[str, Any] = lift(reader) if streams else reader
    made = stage.with_retry(3) if kind == "retry" else stage.with_fallback(backup)
    outcome = made.stream("x") if isinstance(made, StreamingAgent) else made.invoke("x")
    with pytest.raises(MonoidError, match="miscounted produced 1"):
        await outcome
    assert reader.calls == 1
    assert backup.calls == 0


@pytest.mark.anyio
async def test_a_mistake_named_in_on_is_retried() -> None:
    reader = Reader(miscounted)
    with pytest.raises(MonoidError) as caught:
        await reader.with_retry(3, on=(MonoidError,)).invoke("x")
    assert reader.calls == 3
    assert "failed on all 3 attempts" in "".join(caught.value.__notes__)


MISTAKES: list[Callable[[], Exception]] = [
    lambda: RecursionError("too deep"),
    lambda: StreamScopeError("read outside its scope"),
    lambda: CompositionError("a bad composition"),
]


@pytest.mark.anyio
@pytest.mark.parametrize("make", MISTAKES, ids=["recursion", "scope", "composition"])
async def test_mistakes_pass_through_unless_on_names_their_class(
    make: Callable[[], Exception],
) -> None:
    error = make()
    raising = Counted(Raising(error))
    with pytest.raises(type(error)) as caught:
        await raising.with_retry(3).with_fallback(up).invoke("x")
    assert caught.value is error
    assert raising.calls == 1
    assert not getattr(error, "__notes__", [])

    named = Counted(Raising(make()))
    with pytest.raises(type(error)):
        await named.with_retry(3, on=(type(error),)).invoke("x")
    assert named.calls == 3


@pytest.mark.anyio
async def test_a_nested_streams_failure_after_output_is_retried() -> None:
    """A StreamingError is the failure of an agent's stream, not a mistake: here the inner
    stream fails after a delta, which ``up`` took in whole, so the outer one had passed nothing
    on and tries again."""
    flaky = Flaky(WORDS, fail_after=1)
    outer = (flaky.with_retry(1) >> up).with_retry(2)
    assert await outer.stream("") == "ONE TWO THREE"
    assert flaky.opens == 2


# --- the plan is worked out an attempt at a time ----------------------------------------------


@pytest.mark.anyio
async def test_a_long_retry_works_out_no_delay_it_does_not_need() -> None:
    assert await Scripted([]).with_retry(1100, backoff=Backoff()).invoke("x") == "x!"
    backoff = RecordingBackoff()
    assert await Scripted([LawError(1)]).with_retry(1100, backoff=backoff).invoke("x") == "x!"
    assert backoff.asked == [0]


@pytest.mark.parametrize("retry", [1100, 10**6, 10**18])
def test_backoff_stops_growing_at_its_maximum(retry: int) -> None:
    assert Backoff().delay(retry) == 30.0
    assert Backoff(initial=1, factor=3, maximum=5).delay(retry) == 5.0  # ints: no exact power
    assert Backoff(initial=0, factor=10).delay(retry) == 0.0
    assert Backoff(factor=1).delay(retry) == 0.1
    assert 15.0 <= Backoff(jitter=0.5).delay(retry) <= 45.0


# --- rendered only when shown, or when everything failed ---------------------------------------


@define(eq=False, repr=False)
class Described(Agent[str, str]):
    """Answers ``value + "!"``, counting how often its structure is described: every ``repr``
    of an agent made of it describes it."""

    descriptions: int = 0

    async def invoke(self, value: str, /) -> str:
        return value + "!"

    def describe(self) -> Node:
        self.descriptions += 1
        return super().describe()


@pytest.mark.anyio
async def test_building_and_a_successful_call_render_nothing() -> None:
    described = Described()
    plain: Agent[str, str] = described
    for _ in range(3):
        plain = plain.with_retry(2, on=(LawError,)).with_fallback(described, on=(LawError,))
    streamed = lift(described).with_retry(2, backoff=Backoff()).with_fallback(described)
    assert await plain.invoke("x") == "x!"
    assert await Raising(LawError(1)).with_fallback(described).invoke("x") == "x!"
    assert await streamed.stream("x") == "x!"
    assert described.descriptions == 0
    shown = repr(plain)
    assert described.descriptions == shown.count("Described") == 4  # a repr is counted


@frozen
class TaggedBackoff(Backoff):
    """A backoff whose repr holds braces (of a dict)."""

    tags: dict[str, int] = field(factory=dict)


tokens = Tokens(WORDS)


@pytest.mark.parametrize(
    ("build", "written"),
    [
        (lambda: up.with_retry(3), "up.with_retry(3)"),
        (lambda: up.with_retry(3, backoff=Backoff(initial=0)), "up.with_retry(3)"),
        (lambda: up.with_retry(3, on=(ValueError,)), "up.with_retry(3, on=(ValueError,))"),
        (
            lambda: up.with_retry(2, backoff=Backoff(initial=1.0), on=(ValueError, KeyError)),
            "up.with_retry(2, backoff=Backoff(initial=1.0, factor=2.0, maximum=30.0, jitter=0.0),"
            " on=(ValueError, KeyError))",
        ),
        (
            lambda: up.with_retry(2, backoff=TaggedBackoff(tags={"slow": 1})),
            "up.with_retry(2, backoff=TaggedBackoff(initial=0.1, factor=2.0, maximum=30.0, "
            "jitter=0.0, tags={'slow': 1}))",
        ),
        (lambda: up.with_fallback(down), "up.with_fallback(down)"),
        (lambda: up.with_fallback(down, on=(LawError,)), "up.with_fallback(down, on=(LawError,))"),
        (lambda: up.with_fallback(on=(LawError,)), "up.with_fallback(on=(LawError,))"),
        (
            lambda: tokens.with_retry(2, on=(ConnectionError,)),
            "tokens.with_retry(2, on=(ConnectionError,))",
        ),
    ],
)
def test_the_repr_writes_the_arguments_that_are_not_the_defaults(
    build: Callable[[], Agent[str, Any]], written: str
) -> None:
    made = build()
    assert repr(made) == written
    names = {
        "up": up,
        "down": down,
        "tokens": tokens,
        "Backoff": Backoff,
        "TaggedBackoff": TaggedBackoff,
        "LawError": LawError,
    }
    assert eval(written, names) == made  # it reads back as the same agent


# --- the partial output, exactly, however long ------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("passed", [1, 63, 64, 65, 64 * 64, 64 * 64 + 65])
async def test_a_failure_after_many_deltas_reports_exactly_the_partial_output(passed: int) -> None:
    words = [f"{n} " for n in range(passed + 2)]
    flaky = Flaky(words, fail_after=passed)
    with pytest.raises(StreamingError, match=f"failed after {passed} deltas") as caught:
        await flaky.with_retry(2).stream("")
    assert caught.value.partial == "".join(words[:passed])
    assert caught.value.recoverable
    assert flaky.opens == 1


# --- a retried transducer waits for its whole input -------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    "build",
    [lambda: split_sentences.with_retry(2), lambda: split_sentences.with_fallback(split_sentences)],
    ids=["retry", "fallback"],
)
async def test_a_retried_transducer_waits_for_its_whole_input(
    build: Callable[[], StreamingAgent[str, str]],
) -> None:
    assert not split_sentences.needs_whole_input
    retried = build()
    assert retried.needs_whole_input  # another attempt must start from the first input delta
    source = Tokens(["One. Tw", "o. Three."])
    stream = (source >> retried).stream("")
    first = await anext(aiter(stream))
    assert source.record.finished  # the whole input was read before the first output
    assert first.delta == "One. "
    assert await stream == "One. Two. Three."
