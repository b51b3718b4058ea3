"""Chat sessions (``agentcat.messenger.session``): a MessengerAgent keeps the conversation across
turns, streams its replies, runs the tools they call until the model stops, keeps every message
in a store (a reply while it streams), retries a reply cut short, and measures its turns."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from agentcat import (
    ChunkStream,
    Conversation,
    EmbeddedModel,
    Message,
    MessagePromise,
    MessageSequencePromise,
    MessengerAgent,
    Reply,
    SQLiteStore,
    StreamingAgent,
    StreamScopeError,
    Text,
    ToolCall,
    ToolRoundsError,
    Usage,
    agent,
    map_deltas,
    split_sentences,
    streaming,
    text_messenger,
    text_of,
    tool,
)
from tests.helpers import killed_once_streaming

pytestmark = pytest.mark.anyio


@streaming
async def counting(conversation: Conversation) -> AsyncIterator[Reply]:
    """Says how many messages it was given, in two deltas: what it saw is what it answers."""
    yield Reply((Text(0, "You sent "),))
    yield Reply((Text(0, f"{len(conversation)}."),), usage=Usage(len(conversation), 2))


async def test_a_session_keeps_the_conversation_across_turns() -> None:
    session = MessengerAgent(counting)
    sent = session.send("Hello")
    assert (sent.role, sent.content) == ("user", "Hello")
    assert len(session.conversation) == 0  # it is added when it is answered
    first = [chunk.delta async for reply in session.receive() async for chunk in reply]
    assert first == ["You sent ", "1.", ""]
    assert session.conversation.messages[0] == sent
    session.send("And now?")
    (second,) = await session.receive()
    assert second.content == "You sent 3."  # it saw its own first reply
    assert [m.role for m in session.conversation.messages] == ["user", "assistant"] * 2
    assert session.conversation.last_message == second
    assert second.usage == Usage(3, 2)


async def test_messages_sent_together_are_answered_each_in_its_turn() -> None:
    session = MessengerAgent(counting)
    session.send("one")
    session.send("two")
    replies = await session.receive()
    assert [reply.content for reply in replies] == ["You sent 1.", "You sent 3."]
    assert [m.content for m in session.conversation.messages] == [
        "one",
        "You sent 1.",
        "two",
        "You sent 3.",
    ]
    assert await session.receive() == ()  # nothing left to answer


async def test_invoke_streams_the_turn_and_composes() -> None:
    session = MessengerAgent(counting)
    deltas = [chunk.delta async for chunk in session.invoke("Hello")]
    assert [d.text for d in deltas] == ["You sent ", "1.", ""]
    stream = await session.invoke("Again")  # awaiting the call gives the stream, as ever
    assert isinstance(stream, ChunkStream)
    whole = await stream
    assert (whole.text, whole.usage) == ("You sent 3.", Usage(3, 2))
    assert [chunk.delta.text async for chunk in stream] == ["You sent ", "3.", ""]  # replayed
    shout = session >> map_deltas(text_of) >> map_deltas(str.upper)
    assert await shout.stream(Message("Once more", "user")) == "YOU SENT 5."
    assert len(session.conversation) == 6


async def test_a_messenger_that_runs_tasks_runs_them_in_the_scope_of_the_turns_reader() -> None:
    @agent
    def first(pair: tuple[Reply, Reply]) -> Reply:
        return pair[0]

    session = MessengerAgent((counting & counting) >> first)
    assert session.runs_tasks
    with pytest.raises(StreamScopeError, match="async with stream:"):
        [chunk async for chunk in session.invoke("Hello")]
    async with session.invoke("Hello") as stream:
        assert [chunk.delta.text async for chunk in stream] == ["You sent 1.", ""]
    session.send("Again")
    async with session.receive() as replies:
        async for reply in replies:
            async with reply:
                assert [chunk.delta async for chunk in reply] == ["You sent 3.", ""]
    assert len(session.conversation) == 4  # the refused read ran nothing, added nothing


def endless(closed: list[str]) -> StreamingAgent[Conversation, Reply]:
    """A messenger that says one sentence after another until it is stopped, and notes that
    it was, under the last user message's content."""

    @streaming
    async def messenger(conversation: Conversation) -> AsyncIterator[Reply]:
        try:
            for count in range(1_000):
                yield Reply((Text(0, f"S{count}. "),))
        finally:
            closed.append(conversation.messages[-1].content)

    return messenger


async def test_a_turn_left_early_stops_its_producer_and_keeps_what_it_said(
    tmp_path: Path,
) -> None:
    closed: list[str] = []
    store = SQLiteStore(tmp_path / "chats.db")
    session = MessengerAgent(endless(closed), store=store)
    async with session.invoke("one") as stream:
        async for chunk in stream:
            if chunk.index == 2:
                break
    assert closed == ["one"]  # stopped when the block was left, not later
    session.send("two")
    async with session.receive() as replies:
        async for reply in replies:
            async for text in reply:
                if text.index == 1:
                    break
            break
    assert closed == ["one", "two"]
    cut = [(m.content, m.metadata.get("interrupted")) for m in session.conversation.messages]
    assert cut == [("one", None), ("S0. S1. S2. ", True), ("two", None), ("S0. S1. ", True)]
    assert await store.load(session.conversation.id) == session.conversation


async def test_a_turn_left_unfinished_is_settled_when_the_next_begins() -> None:
    closed: list[str] = []
    session = MessengerAgent(endless(closed))
    dropped = session.invoke("one")
    with anyio.CancelScope() as scope:
        async for chunk in dropped:  # no `async with`: the stream stays open when left
            if chunk.index == 1:
                scope.cancel()
                await anyio.lowlevel.checkpoint()
    assert closed == []
    assert len(session.conversation) == 1
    async with session.invoke("two") as stream:
        first = await anext(aiter(stream))
    assert first.delta.text == "S0. "
    assert closed == ["one", "two"]  # the first turn's producer stopped before the second ran
    assert [m.content for m in session.conversation.messages] == ["one", "S0. S1. ", "two", "S0. "]
    await dropped.stream.aclose()  # (what trio asks of an iterator left unfinished)


# The tool loop ---------------------------------------------------------------------------


def calling(*calls: tuple[str, str]) -> StreamingAgent[Conversation, Reply]:
    """A messenger that asks for ``calls`` (name, JSON arguments) while the last message is not
    a tool result, each call's arguments in two fragments, then answers with what the tools
    said."""

    @streaming
    async def messenger(conversation: Conversation) -> AsyncIterator[Reply]:
        last = conversation.messages[-1]
        if last.role == "tool":
            said = "; ".join(result.content for result in last.tool_results)
            yield Reply((Text(0, f"They said: {said}"),), usage=Usage(10, 4), stop="end_turn")
            return
        yield Reply((Text(0, "Let me see."),), usage=Usage(5, 0))
        for key, (name, arguments) in enumerate(calls, start=1):
            half = len(arguments) // 2
            yield Reply((ToolCall(key, f"call {key}", name, arguments[:half]),))
            yield Reply((ToolCall(key, arguments=arguments[half:]),))
        yield Reply(usage=Usage(0, 6), stop="tool_use")

    return messenger


@agent
def weather(city: str) -> str:
    """The weather in a city."""
    return f"12 degrees in {city}"


@agent
def fails(city: str) -> str:
    """A tool that fails."""
    raise LookupError(f"no station in {city}")


async def test_a_reply_that_calls_tools_is_answered_with_their_results_and_goes_on() -> None:
    messenger = calling(("weather", '{"city": "Oslo"}'), ("fails", '{"city": "Rome"}'))
    session = MessengerAgent(messenger, tools=[tool(weather), tool(fails)])
    assert [spec.name for spec in session.conversation.tools] == ["weather", "fails"]
    session.send("Weather in Oslo and Rome?")
    roles, texts = [], []
    async for promise in session.receive():
        roles.append((await promise).role)
        texts.append("".join([chunk.delta async for chunk in promise]))
    assert roles == ["assistant", "tool", "assistant"]
    assert texts[2] == "They said: 12 degrees in Oslo; LookupError: no station in Rome"
    asked, answered = session.conversation.messages[1:3]
    assert [call.arguments() for call in asked.tool_calls] == [{"city": "Oslo"}, {"city": "Rome"}]
    assert [(r.call_id, r.is_error) for r in answered.tool_results] == [
        ("call 1", False),
        ("call 2", True),  # a failing tool is a result marked as an error, not a crash
    ]
    assert asked.usage == Usage(5, 6)


async def test_the_tools_of_one_reply_run_concurrently() -> None:
    both_started = anyio.Event()
    started = 0

    @agent
    async def meet(name: str) -> str:
        """Waits until the other call has started too."""
        nonlocal started
        started += 1
        if started == 2:
            both_started.set()
        await both_started.wait()
        return f"{name} met"

    messenger = calling(("meet", '{"name": "a"}'), ("meet", '{"name": "b"}'))
    session = MessengerAgent(messenger, tools=[tool(meet)])
    session.send("Meet?")
    with anyio.fail_after(10):  # one after the other, the first would wait for ever
        replies = await session.receive()
    assert replies[-1].content == "They said: a met; b met"


async def test_a_call_of_a_tool_not_offered_is_answered_as_an_error() -> None:
    session = MessengerAgent(calling(("rain", "{}")), tools=[tool(weather)])
    session.send("Rain?")
    _, results, answer = await session.receive()
    assert results.tool_results[0].is_error
    assert results.content == "no tool is named 'rain' (offered: weather)"
    assert answer.content.startswith("They said: no tool is named 'rain'")


async def test_a_model_that_keeps_calling_tools_is_stopped_with_the_conversation_whole() -> None:
    runs = 0

    @agent
    def counted(city: str) -> str:
        """Counts its runs."""
        nonlocal runs
        runs += 1
        return "12 degrees"

    @streaming
    async def insistent(conversation: Conversation) -> AsyncIterator[Reply]:
        yield Reply((ToolCall(0, f"call {len(conversation)}", "counted", '{"city": "Oslo"}'),))

    session = MessengerAgent(insistent, tools=[tool(counted)], max_rounds=2)
    session.send("Weather?")
    with pytest.raises(ToolRoundsError, match="after 2 rounds") as raised:
        await session.receive()
    assert (raised.value.rounds, runs) == (2, 2)  # two rounds of tools ran; the third did not
    roles = [m.role for m in session.conversation.messages]
    assert roles == ["user", *["assistant", "tool"] * 3]
    last = session.conversation.messages[-1].tool_results[0]
    assert last.is_error
    assert "limit of 2 rounds" in last.content  # every call has its answer
    none = MessengerAgent(insistent, tools=[tool(counted)], max_rounds=0)
    with pytest.raises(ToolRoundsError):
        await none.stream("Weather?")
    assert runs == 2


async def test_a_turn_left_after_a_reply_that_calls_tools_answers_every_call() -> None:
    session = MessengerAgent(calling(("weather", '{"city": "Oslo"}')), tools=[tool(weather)])
    session.send("Weather?")
    async with session.receive() as messages:
        async for message in messages:
            await message  # the reply, whole, with its call
            break
    asked, answered = session.conversation.messages[1:]
    assert asked.tool_calls[0].id == answered.tool_results[0].call_id
    assert answered.tool_results[0].content == "not run: the turn was left first"

    started = anyio.Event()

    @agent
    async def slow(city: str) -> str:
        """Never done."""
        started.set()
        await anyio.sleep_forever()
        return city

    stalled = MessengerAgent(calling(("slow", '{"city": "Oslo"}')), tools=[tool(slow)])

    async def ask() -> None:
        await stalled.stream("Weather?")

    async with anyio.create_task_group() as group:
        group.start_soon(ask)
        await started.wait()
        group.cancel_scope.cancel()
    result = stalled.conversation.messages[-1].tool_results[0]
    assert (result.content, result.is_error) == ("not run: the turn was cancelled", True)


async def test_messages_not_yet_answered_wait_for_the_next_receive() -> None:
    session = MessengerAgent(counting)
    session.send("one")
    session.send("two")
    async with session.receive() as replies:
        async for reply in replies:
            await reply
            break
    assert [m.content for m in session.conversation.messages] == ["one", "You sent 1."]
    (later,) = await session.receive()
    assert later.content == "You sent 3."


async def test_a_session_has_one_turn_at_a_time() -> None:
    gate = anyio.Event()

    @streaming
    async def held(conversation: Conversation) -> AsyncIterator[Reply]:
        yield Reply((Text(0, "Wait. "),))
        await gate.wait()
        yield Reply((Text(0, "Done."),))

    session = MessengerAgent(held)
    async with session.invoke("first") as first:
        reading = aiter(first)
        assert (await anext(reading)).delta.text == "Wait. "
        async with anyio.create_task_group() as group:

            async def second() -> None:
                with pytest.raises(RuntimeError, match="one turn at a time"):
                    await session.stream("second")
                gate.set()

            group.start_soon(second)
        assert [chunk.delta.text async for chunk in reading] == ["Done.", ""]
    assert [m.content for m in session.conversation.messages] == ["first", "Wait. Done."]


async def test_the_call_of_a_streaming_agent_is_content_for_a_message_sequence() -> None:
    model = EmbeddedModel(pace=0) >> map_deltas(text_of)
    (message,) = await MessageSequencePromise(model.invoke("Laws?"))
    assert message.content.startswith("Laws are checked")
    assert (await MessagePromise(EmbeddedModel(pace=0).invoke("Laws?"))).parts


async def test_live_metrics_count_a_token_when_it_comes() -> None:
    session = MessengerAgent(counting)
    async with session.invoke("Hello") as stream:
        async for _chunk in stream:
            metrics = session.metrics
            assert metrics is not None
            assert metrics.latency_first_token_ms is not None  # at the first token already
            assert not metrics.complete
            break


async def test_the_embedded_model_in_a_session_calls_a_tool_and_answers_from_it() -> None:
    session = MessengerAgent(EmbeddedModel(pace=0), tools=[tool(weather)])
    reply = await session.invoke("What is the weather in Paris?")
    whole = await reply
    assert whole.text == (  # each reply's text a paragraph of the turn's
        "Let me ask the weather tool.\n\nThe weather tool says: 12 degrees in Paris."
    )
    asked, told = session.conversation.messages[1].usage, session.conversation.messages[3].usage
    assert asked is not None
    assert told is not None
    assert whole.usage == asked + told  # two requests add up
    assert [m.role for m in session.conversation.messages] == [
        "user",
        "assistant",
        "tool",
        "assistant",
    ]
    metrics = session.metrics
    assert metrics is not None
    assert metrics.complete
    assert not metrics.estimated
    assert metrics.tokens_generated == whole.usage.output_tokens


# Persistence -----------------------------------------------------------------------------


async def test_a_session_with_a_store_reopens_where_it_was(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "chats.db")
    session = MessengerAgent(counting, tools=[tool(weather)], store=store)
    session.send("Hello")
    await session.receive()
    kept = await store.load(session.conversation.id)
    assert kept == session.conversation
    again = MessengerAgent(counting, conversation=kept, tools=[tool(weather)], store=store)
    assert again.conversation.tools == session.conversation.tools
    bare = MessengerAgent(counting, conversation=kept)
    assert bare.conversation.tools == ()  # the model is offered what the session can run
    again.send("Still there?")
    (reply,) = await again.receive()
    assert reply.content == "You sent 3."


async def test_a_reply_is_kept_at_each_sentence_while_it_streams(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "chats.db")
    seen: list[str] = []

    @streaming
    async def telling(conversation: Conversation) -> AsyncIterator[Reply]:
        for piece in ["Once upon ", "a time.", " There was ", "a fox."]:
            yield Reply((Text(0, piece),))
            # When the next piece is asked for, what the store holds is what was kept so far.
            kept = await store.load(conversation.id)
            assert kept is not None
            seen.append(kept.messages[-1].content)

    session = MessengerAgent(telling, store=store)
    await session.stream("A story?")
    assert seen == [
        "",
        "Once upon a time.",
        "Once upon a time.",
        "Once upon a time. There was a fox.",
    ]
    kept = await store.load(session.conversation.id)
    assert kept == session.conversation
    assert "interrupted" not in kept.messages[-1].metadata


async def test_a_reply_cut_short_is_kept_marked_and_can_be_retried(tmp_path: Path) -> None:
    calls = 0

    @streaming
    async def flaky(conversation: Conversation) -> AsyncIterator[Reply]:
        nonlocal calls
        calls += 1
        yield Reply((Text(0, "Half a "),))
        if calls == 1:
            raise ConnectionError("connection reset")
        yield Reply((Text(0, "story, whole."),))

    store = SQLiteStore(tmp_path / "chats.db")
    session = MessengerAgent(flaky, store=store)
    session.send("Tell me")
    with pytest.raises(ConnectionError, match="connection reset"):
        await session.receive()
    cut = session.conversation.last_message
    assert cut is not None
    assert (cut.content, cut.metadata["interrupted"]) == ("Half a ", True)
    assert await store.load(session.conversation.id) == session.conversation
    with pytest.raises(ValueError, match="the last message is not one"):
        MessengerAgent(flaky).retry()
    reopened = await store.load(session.conversation.id)
    assert reopened is not None
    again = MessengerAgent(flaky, conversation=reopened, store=store)
    (retried,) = await again.retry()
    assert retried.content == "Half a story, whole."
    assert retried.metadata["supersedes"] == cut.id
    assert [m.content for m in again.conversation.visible()] == ["Tell me", "Half a story, whole."]
    kept = await store.load(session.conversation.id)
    assert kept is not None
    assert len(kept) == 3  # the store is append-only: the cut reply stays in the log


KILLED = textwrap.dedent(
    """
    import sys
    from collections.abc import AsyncIterator
    import anyio
    from agentcat import Conversation, MessengerAgent, Reply, SQLiteStore, Text, streaming

    @streaming
    async def telling(conversation: Conversation) -> AsyncIterator[Reply]:
        if len(conversation) == 1:
            yield Reply((Text(0, "Once upon a time."),))
            return
        yield Reply((Text(0, "Then a fox came."),))
        yield Reply((Text(0, " And then"),))
        print("streaming", flush=True)
        await anyio.sleep_forever()

    async def main(path):
        session = MessengerAgent(
            telling, conversation=Conversation(id="killed"), store=SQLiteStore(path)
        )
        await session.stream("Tell me a story.")
        await session.stream("Go on.")

    anyio.run(main, sys.argv[1])
    """
)


async def test_a_session_killed_mid_reply_leaves_what_it_had_said_marked(tmp_path: Path) -> None:
    path = tmp_path / "chats.db"
    await killed_once_streaming(KILLED, path)
    kept = await SQLiteStore(path).load("killed")
    assert kept is not None
    assert [(m.role, m.content, m.metadata.get("interrupted")) for m in kept.messages] == [
        ("user", "Tell me a story.", None),
        ("assistant", "Once upon a time.", None),
        ("user", "Go on.", None),
        ("assistant", "Then a fox came.", True),  # kept at its last sentence's end
    ]


# The session as an agent, and its bad arguments -------------------------------------------


async def test_the_embedded_model_of_text_is_a_messenger_by_composition() -> None:
    model = EmbeddedModel(pace=0) >> map_deltas(text_of)
    messenger = text_messenger(model)
    assert repr(messenger) == (
        "lift(conversation_prompt) >> model >> map_deltas(text_of) >> map_deltas(as_reply)"
    )
    session = MessengerAgent(messenger)
    reply = await (session >> map_deltas(text_of) >> split_sentences).stream("About laws?")
    assert reply.startswith("Laws are checked")


def test_bad_arguments_are_named() -> None:
    with pytest.raises(TypeError, match="streaming agent from a Conversation"):
        MessengerAgent(len)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="takes a Conversation"):
        MessengerAgent(counting, conversation=[])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="tools= takes tools"):
        MessengerAgent(counting, tools=[weather])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="max_rounds is an int of 0 or more"):
        MessengerAgent(counting, max_rounds=-1)
    with pytest.raises(TypeError, match="is sent text or a Message, not 3"):
        MessengerAgent(counting).send(3)  # type: ignore[arg-type]


async def test_a_reply_cut_short_in_a_tool_call_does_not_show_the_call_to_the_model() -> None:
    @streaming
    async def cut(conversation: Conversation) -> AsyncIterator[Reply]:
        if len(conversation) > 1:
            yield Reply((Text(0, f"Seen: {[m.role for m in conversation.visible()]}"),))
            return
        yield Reply((Text(0, "Let me look."),))
        yield Reply((ToolCall(1, "call 1", "weather", '{"ci'),))
        raise ConnectionError("cut")

    session = MessengerAgent(cut, tools=[tool(weather)])
    with pytest.raises(ConnectionError):
        await session.stream("Weather?")
    cut_reply = session.conversation.messages[-1]
    assert cut_reply.metadata["interrupted"]
    assert cut_reply.tool_calls  # kept in the log, as it came
    shown = session.conversation.visible()[-1]
    assert (shown.content, shown.tool_calls) == ("Let me look.", ())
    reply = await session.stream("And now?")
    assert reply.text == "Seen: ['user', 'assistant', 'user']"


async def test_a_streaming_agent_is_a_tool_too() -> None:
    @streaming
    async def spell(word: str) -> AsyncIterator[str]:
        """Spell a word out."""
        for letter in word:
            yield letter + " "

    made = tool(spell)
    assert (made.description, made.parameters()["required"]) == ("Spell a word out.", ["word"])
    session = MessengerAgent(calling(("spell", '{"word": "cat"}')), tools=[made])
    assert (await session.stream("Spell cat")).text.endswith("They said: c a t ")


async def test_the_metrics_of_a_turn_left_early_count_what_came() -> None:
    closed: list[str] = []
    session = MessengerAgent(endless(closed))
    async with session.invoke("one") as stream:
        async for chunk in stream:
            if chunk.index == 4:
                break
    metrics = session.metrics
    assert metrics is not None
    assert metrics.complete
    assert metrics.estimated  # the turn was cut: no count of the provider's covers it
    assert metrics.tokens_generated == 5
