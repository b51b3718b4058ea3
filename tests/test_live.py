"""``show`` outside a notebook: the text written as it arrives, then the status line; a fan-out
written whole at its end; a failure or a cancellation shown, raised, and every producer
stopped. (In a real Jupyter kernel, where it is a display updated in place: test_notebooks.)
Also what IPython's pretty printer says of a bare stream, with IPython's own printer."""

from __future__ import annotations

import contextlib
import io
from collections.abc import AsyncIterator

import anyio
import pytest
from IPython.lib.pretty import pretty

import agentcat
from agentcat import (
    EmbeddedModel,
    MessengerAgent,
    StreamScopeError,
    agent,
    map_deltas,
    show,
    streaming,
    text_of,
)
from tests.streams import Tokens

pytestmark = pytest.mark.anyio


@agent
def words(text: str) -> list[str]:
    return text.split()


async def test_the_text_is_written_as_it_arrives_then_the_status_line() -> None:
    out = io.StringIO()
    seen: list[str] = []

    @streaming
    async def told(prompt: str) -> AsyncIterator[str]:
        for token in ["Hel", "lo", " world"]:
            seen.append(out.getvalue())  # what the reader had shown before this token
            yield token

    with contextlib.redirect_stdout(out):
        whole = await show(told.stream("x"), every=0)
    assert whole == "Hello world"
    assert seen == ["", "Hel", "Hello"]
    text, status, end = out.getvalue().split("\n")
    assert (text, end) == ("Hello world", "")
    assert status.startswith("[done (~"), status
    assert "~3 tokens in " in status, status


async def test_a_reply_stream_shows_its_text_and_the_models_count_of_tokens() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        reply = await show(EmbeddedModel(pace=0).invoke("laws"))
    text, status = out.getvalue().rstrip("\n").split("\n")
    assert text == reply.text
    assert text.startswith("Laws are checked")
    # the usage the model reported, not a count of chunks; and the model it named
    assert f"| {reply.usage.output_tokens} tokens in " in status
    assert status.endswith("| model: embedded:model]")


async def test_a_fan_out_is_written_whole_at_its_end_branch_by_branch() -> None:
    model = EmbeddedModel(pace=0) >> map_deltas(text_of)
    fan = model >> (map_deltas(str.upper) & words)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        loud, split = await show(fan.stream("laws"))
    lines = out.getvalue().splitlines()
    assert lines[0] == "[map_deltas(upper)]"
    assert lines[1] == f"  {loud}"
    assert loud.startswith("LAWS ARE CHECKED")
    assert lines[2] == "[lift(words)]"
    assert "'Laws'" in lines[3]
    assert len(split) > 5
    assert lines[-1].startswith("[done (~")
    assert " chunks in " in lines[-1]


async def test_a_failure_is_shown_then_raised_and_the_producer_is_stopped() -> None:
    tokens = Tokens(["a", "b", "c"], error=KeyError("mine"), fail_after=2)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(KeyError, match="mine"):
        await show(tokens.stream("x"))
    text, status = out.getvalue().rstrip("\n").split("\n")
    assert text == "ab"
    assert status.startswith("[failed: KeyError: 'mine' | ~2 tokens in ")
    assert tokens.record.running == 0


async def test_a_cancelled_show_says_so_and_stops_every_producer() -> None:
    scope = anyio.CancelScope()

    @streaming
    async def cancelling(prompt: str) -> AsyncIterator[str]:
        yield "one "
        scope.cancel()  # the scope around show: it is cancelled where it reads
        await anyio.sleep_forever()

    other = Tokens(["a ", "b "], forever=True)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), scope:
        await show((cancelling & other).stream("x"))  # the branches run in tasks
    assert scope.cancelled_caught
    status = out.getvalue().splitlines()[-1]
    assert status.startswith("[cancelled | "), status
    assert other.record.running == 0
    assert other.record.closed


async def test_show_takes_an_invocation_and_refuses_what_is_not_a_stream() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert await show(Tokens(["a", "b"]).invoke("x")) == "ab"
    with pytest.raises(TypeError, match=r"show\(\) reads a stream, agent.stream\(x\)"):
        await show(words)  # type: ignore[call-overload]
    session = MessengerAgent(EmbeddedModel(pace=0))
    session.send("laws")
    with pytest.raises(TypeError, match=r"async for message in session.receive\(\): await show"):
        await show(session.receive())  # type: ignore[call-overload]
    with pytest.raises(ValueError, match=r"show\(every=\) is a number of seconds"):
        await show(Tokens(["a"]).stream("x"), every=-1)


async def test_a_stream_shown_bare_says_how_to_watch_it_and_runs_nothing() -> None:
    tokens = Tokens(["a", "b"])
    stream = tokens.stream("x")
    said = pretty(stream)  # IPython's pretty printer: what a cell's last expression shows
    assert "unread: `await agentcat.show(stream)` shows it here as it streams" in said
    assert pretty(tokens.invoke("x")) == said  # a call shows as its stream
    assert tokens.record.produced == []
    assert await stream == "ab"
    assert pretty(stream) == repr(stream) == "<ChunkStream of tokens>"


async def test_outside_a_kernel_a_scope_error_gives_no_notebook_hint() -> None:
    with pytest.raises(StreamScopeError) as caught:
        async for _ in (Tokens(["a"]) & Tokens(["b"])).stream("x"):
            pass
    said = str(caught.value)
    assert "as in `async with agent.stream(x) as stream:`, then `async for chunk in" in said
    assert "in a notebook" not in said
    assert agentcat.show is show
