"""Errors as values (``agentcat.fallible``): ``as_result``, ``fail``, Kleisli ``>>`` and
``recover``; laws E1, E2, E4."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from agentcat_laws import LawError, Program, errors, programs, texts
from agentcat_laws.instruments import Raising
from hypothesis import given
from hypothesis import strategies as st
from returns.result import Failure, Result, Success

from agentcat import CompositionError, Fallible, agent, fail, map_deltas, streaming
from agentcat.chunks import ResultStream
from agentcat.fallible import Catching, Failing, FallibleStream
from agentcat.sequence import FallibleSequence
from tests.helpers import Counted
from tests.strategies import ModelledFallible, fallible_agents, kleisli_model
from tests.streams import Tokens


@pytest.mark.anyio
@given(programs(), texts())
async def test_as_result_wraps_the_output_in_success(f: Program, x: str) -> None:
    assert await f.as_result().invoke(x) == Success(f.run(x))


@pytest.mark.anyio
@given(errors(), texts())
async def test_as_result_returns_the_raised_error_as_a_failure(error: LawError, x: str) -> None:
    result = await Raising(error).as_result().invoke(x)
    assert isinstance(result, Failure)
    assert result.failure() is error


@pytest.mark.anyio
async def test_as_result_catches_only_the_given_types() -> None:
    error = KeyError("k")
    assert (await Raising(error).as_result(KeyError, ValueError).invoke("x")).failure() is error
    with pytest.raises(KeyError) as info:
        await Raising(error).as_result(ValueError).invoke("x")
    assert info.value is error


@pytest.mark.anyio
@given(errors(), texts())
async def test_fail_always_fails_with_its_error(error: LawError, x: str) -> None:
    result = await fail(error).invoke(x)
    assert isinstance(result, Failure)
    assert result.failure() is error


# --- E1: fail(e) >> f is fail(e), and f is never invoked --------------------------------------


@pytest.mark.anyio
@given(errors(), fallible_agents(), texts())
async def test_e1_fail_then_anything_is_the_failure(
    error: LawError, modelled: ModelledFallible, x: str
) -> None:
    f, _ = modelled
    composed = fail(error) >> f
    assert isinstance(composed, FallibleSequence)
    result = await composed.invoke(x)
    assert isinstance(result, Failure)
    assert result.failure() is error


@pytest.mark.anyio
@given(errors(), programs(), texts())
async def test_e1_the_agent_after_a_failure_is_never_invoked(
    error: LawError, f: Program, x: str
) -> None:
    counted = Counted(f)
    result = await (fail(error) >> counted.as_result()).invoke(x)
    assert result.failure() is error
    assert counted.calls == 0


# --- E2: a failure in f of f >> g skips g and surfaces unchanged ------------------------------


@pytest.mark.anyio
@given(st.lists(fallible_agents(), min_size=1, max_size=4), errors(), programs(), texts())
async def test_e2_a_failure_skips_every_later_stage(
    before: list[ModelledFallible], error: LawError, g: Program, x: str
) -> None:
    counted = Counted(g)
    agent: Fallible[str, str, Exception] = before[0][0]
    for stage, _ in before[1:]:
        agent = agent >> stage
    agent = agent >> fail(error) >> counted.as_result()
    result = await agent.invoke(x)
    expected = kleisli_model([model for _, model in before], x)
    if isinstance(expected, Success):
        expected = Failure(error)
    assert isinstance(result, Failure)
    assert result.failure() is expected.failure()
    assert counted.calls == 0


@pytest.mark.anyio
@given(errors(), programs(), programs(), texts())
async def test_e2_a_raising_agent_skips_the_next_fallible_one(
    error: LawError, f: Program, g: Program, x: str
) -> None:
    counted = Counted(g)
    result = await ((f >> Raising(error)).as_result() >> counted.as_result()).invoke(x)
    assert result.failure() is error
    assert counted.calls == 0


@pytest.mark.anyio
@given(errors(), programs(), programs(), texts())
async def test_e2_a_raising_agent_in_a_pipeline_propagates_the_same_exception(
    error: LawError, f: Program, g: Program, x: str
) -> None:
    counted = Counted(g)
    with pytest.raises(LawError) as info:
        await (f >> Raising(error) >> counted).invoke(x)
    assert info.value is error
    assert counted.calls == 0


# --- E4: recovering a success is a no-op ---------------------------------------------------------


@pytest.mark.anyio
@given(programs(), programs(), texts())
async def test_e4_recovering_a_success_is_a_no_op(f: Program, handler: Program, x: str) -> None:
    counted = Counted(handler)
    assert await f.as_result().recover(counted).invoke(x) == await f.invoke(x)
    assert counted.calls == 0


@pytest.mark.anyio
@given(errors(), texts())
async def test_recover_hands_the_failure_to_the_handler(error: LawError, x: str) -> None:
    seen: list[object] = []

    async def handle(failure: Exception) -> str:
        seen.append(failure)
        return "recovered"

    recovered = Raising(error).as_result().recover(agent(handle))
    assert await recovered.invoke(x) == "recovered"
    assert seen == [error]
    assert seen[0] is error


def test_as_result_takes_exception_classes() -> None:
    with pytest.raises(TypeError, match="exception classes"):
        Program(()).as_result(3)  # type: ignore[call-overload]


def test_recover_takes_an_agent() -> None:
    with pytest.raises(TypeError, match="not an Agent"):
        Program(()).as_result().recover(len)  # type: ignore[arg-type]


def test_the_classes_are_built_by_the_functions_only() -> None:
    with pytest.raises(TypeError, match=r"as_result"):
        Catching(Program(()), (Exception,))
    with pytest.raises(TypeError, match=r"fail\(error\)"):
        Failing(ValueError())


# --- errors as values for streams: the chunks flow, the failure is the whole value ------------

WORDS = ["one ", "two ", "three"]


@pytest.mark.anyio
async def test_a_fallible_stream_keeps_its_chunks_and_resolves_to_the_failure() -> None:
    failure = ConnectionError("lost")
    fallible = Tokens(WORDS, error=failure, fail_after=2).as_result(ConnectionError)
    assert isinstance(fallible, FallibleStream)
    stream = fallible.stream("")
    assert isinstance(stream, ResultStream)
    deltas = [chunk.delta async for chunk in stream]  # no exception: the failure is a value
    assert deltas == ["one ", "two ", ""]
    result = await stream
    assert isinstance(result, Failure)
    assert result.failure() is failure
    assert stream.accumulated == "one two "  # the partial output is not lost
    assert await stream is result  # settled once


@pytest.mark.anyio
async def test_a_fallible_stream_that_succeeds_resolves_to_its_whole_value() -> None:
    stream = Tokens(WORDS).as_result().stream("")
    assert await stream == Success("one two three")


@pytest.mark.anyio
async def test_errors_outside_the_ones_given_are_raised() -> None:
    stream = (
        Tokens(WORDS, error=KeyError("bug"), fail_after=1).as_result(ConnectionError).stream("")
    )
    with pytest.raises(KeyError):
        await stream


@pytest.mark.anyio
async def test_a_fallible_stream_invoked_plainly_gives_the_result() -> None:
    fallible = Tokens(WORDS, error=ValueError("v"), fail_after=1).as_result(ValueError)
    catching = fallible.agent
    assert isinstance(catching, Catching)
    result = await catching.invoke("")
    assert isinstance(result, Failure)
    assert repr(fallible) == "tokens.as_result(ValueError)"


@pytest.mark.anyio
async def test_a_fallible_stream_in_a_pipeline_streams_as_its_agent() -> None:
    """As a stage, it streams as its agent does: as_result at the end catches for the whole."""
    failure = ValueError("mid-way")
    stage = Tokens(WORDS, error=failure, fail_after=2).as_result(ValueError)
    pipeline = stage >> map_deltas(str.upper)
    with pytest.raises(ValueError, match="mid-way"):
        await pipeline.stream("")
    whole = await pipeline.as_result(ValueError).stream("")
    assert isinstance(whole, Failure)
    assert whole.failure() is failure


class Measured(Fallible[str, int, ValueError]):
    """A fallible agent whose types are declared on its base only."""

    async def invoke(self, value: str, /) -> Result[int, ValueError]:
        return Success(len(value)) if value else Failure(ValueError("empty"))


def test_a_declared_fallible_agent_produces_the_result_of_its_declared_types() -> None:
    assert Measured().output_type == Result[int, ValueError]

    @agent
    def wrong(result: Result[str, ValueError]) -> str:
        return str(result)

    with pytest.raises(CompositionError, match=r"Result\[int, ValueError\]"):
        Measured() >> wrong  # type: ignore[operator]


@pytest.mark.anyio
async def test_a_declared_fallible_agent_meets_a_plain_agent_of_its_result() -> None:
    @agent
    def told(result: Result[int, ValueError]) -> str:
        return "ok" if isinstance(result, Success) else "failed"

    assert await (Measured() >> told).invoke("abc") == "ok"
    assert await (Measured() >> told).invoke("") == "failed"


def test_as_result_is_written_as_it_was_built_and_takes_exception_classes_only() -> None:
    measured = agent(len)
    assert repr(measured.as_result()) == "len.as_result()"
    assert repr(measured.as_result(ValueError, Exception)) == "len.as_result(ValueError, Exception)"
    with pytest.raises(CompositionError, match="takes exception classes, not 'oops'"):
        measured.as_result("oops")  # type: ignore[call-overload]


@pytest.mark.anyio
async def test_agentcats_own_mistakes_are_raised_unless_named() -> None:
    from agentcat import MonoidError

    @streaming
    async def model(prompt: str) -> AsyncIterator[str]:
        yield "fine "
        yield 3  # type: ignore[misc]

    with pytest.raises(MonoidError):  # a bug in the program, not the agent's failure
        await model.as_result().stream("")
    with pytest.raises(MonoidError):  # `TypeError` does not name it, though a MonoidError is one
        await model.as_result(TypeError).stream("")
    named = await model.as_result(MonoidError).stream("")
    assert isinstance(named, Failure)
    assert isinstance(named.failure(), MonoidError)

    @agent
    def composed(text: str) -> str:
        raise CompositionError("built wrong")

    with pytest.raises(CompositionError):
        await composed.as_result().invoke("")
    assert isinstance(await composed.as_result(CompositionError).invoke(""), Failure)


@pytest.mark.anyio
async def test_a_fallible_stream_failing_before_its_first_delta_reads_as_it_awaits() -> None:
    failure = ConnectionError("refused")

    @streaming
    async def model(prompt: str):  # type: ignore[no-untyped-def]  # its deltas' type unknown
        if prompt == "":
            raise failure
        yield prompt

    stream = model.as_result().stream("")
    chunks = [chunk async for chunk in stream]
    assert [(chunk.delta, chunk.done) for chunk in chunks] == [(None, True)]
    result = await stream
    assert isinstance(result, Failure)
    assert result.failure() is failure
    assert [chunk.delta async for chunk in model.as_result().stream("").replay()] == [None]


@pytest.mark.anyio
@given(
    st.lists(st.text(max_size=3), max_size=5),
    st.one_of(st.none(), st.integers(min_value=0, max_value=5)),
)
async def test_a_fallible_stream_awaits_to_what_its_agent_invoked_plainly_returns(
    tokens: list[str], fail_after: int | None
) -> None:
    """Soundness of ``as_result`` on streams: streamed and awaited, or invoked plainly, a
    fallible stream gives the same result, and the chunks it passed on add up to its partial
    output (nothing lost, nothing invented)."""
    failure = ConnectionError("lost")
    fallible = Tokens(tokens, error=failure, fail_after=fail_after).as_result(ConnectionError)
    stream = fallible.stream("")
    deltas = [chunk.delta async for chunk in stream]
    streamed, invoked = await stream, await fallible.agent.invoke("")  # its plain face
    failed = fail_after is not None and fail_after <= len(tokens)
    produced = "".join(tokens[:fail_after] if failed else tokens)
    assert "".join(deltas) == stream.accumulated == produced
    if failed:
        assert streamed == invoked == Failure(failure)
    else:
        assert streamed == invoked == Success(produced)
