"""Messages and their promises (``agentcat.messenger``): a message's text is a chunk stream that
resolves to the message, and a sequence flattens any nesting of content."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest

from agentcat import (
    REPLY,
    Chunk,
    ChunkStream,
    Conversation,
    Message,
    MessagePromise,
    MessageSequencePromise,
    Reply,
    StreamedPromise,
    StreamScopeError,
    Text,
    Thinking,
    ToolCall,
    ToolCallPart,
    ToolResultPart,
    Usage,
)
from agentcat.messenger import TextPart, ThinkingPart, ToolSpec
from tests.streams import Tokens

pytestmark = pytest.mark.anyio


async def tokens(*parts: str) -> AsyncIterator[str]:
    for part in parts:
        yield part


async def test_a_message_promise_streams_chunks_and_resolves_to_one_fixed_message() -> None:
    promise = MessagePromise(tokens("Hel", "lo"), role="user", metadata={"k": 1})
    assert isinstance(promise, ChunkStream)
    chunks = [chunk async for chunk in promise]
    assert chunks == [Chunk("Hel", "Hel"), Chunk("lo", "Hello"), Chunk("", "Hello", True)]
    message = await promise
    assert (message.content, message.role, dict(message.metadata)) == ("Hello", "user", {"k": 1})
    assert await promise is message
    assert promise.accumulated == "Hello"
    assert [chunk.delta async for chunk in promise.replay()] == ["Hel", "lo", ""]


async def test_a_message_of_a_stream_leaves_the_stream_whole_for_its_other_readers() -> None:
    stream = Tokens(["streamed ", "text"]).stream("")
    promise = MessagePromise(stream, role="assistant")
    assert (await promise).content == "streamed text"
    assert [chunk.delta async for chunk in stream.replay()] == ["streamed ", "text", ""]
    assert await stream == "streamed text"


def test_messages_are_immutable() -> None:
    message = Message("hi", metadata={"a": 1})
    with pytest.raises(AttributeError):
        message.content = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        message.metadata["a"] = 2  # type: ignore[index]


async def test_every_kind_of_nesting_flattens_in_order() -> None:
    async def later() -> str:
        return "awaited"

    def generated() -> Iterator[object]:
        yield "from a generator"
        yield ["in a list inside it"]

    async def agenerated() -> AsyncIterator[object]:
        yield "from an async generator"
        yield MessageSequencePromise("nested sequence")

    stream = Tokens(["streamed ", "text"]).stream("")
    sequence = MessageSequencePromise(
        "plain",
        Message("a message", role="user"),
        MessagePromise(tokens("a ", "promise")),
        [("tuple in list",)],
        generated(),
        agenerated(),
        later(),
        stream,
    )
    messages = await sequence
    assert [m.content for m in messages] == [
        "plain",
        "a message",
        "a promise",
        "tuple in list",
        "from a generator",
        "in a list inside it",
        "from an async generator",
        "nested sequence",
        "awaited",
        "streamed text",
    ]
    assert messages[1].role == "user"


async def test_an_exception_in_the_content_is_raised_at_its_position() -> None:
    failure = LookupError("no such message")
    sequence = MessageSequencePromise("first", failure, "never")
    seen: list[str] = []
    with pytest.raises(LookupError) as caught:
        await _read(sequence, seen)
    assert caught.value is failure
    assert seen == ["first"]


async def _read(sequence: MessageSequencePromise, into: list[str]) -> None:
    async for promise in sequence:
        into.append((await promise).content)


async def test_content_that_is_not_a_message_is_named() -> None:
    with pytest.raises(TypeError, match="cannot make a message of 42"):
        await MessageSequencePromise("ok", 42)


async def test_a_message_is_passed_on_before_its_tokens_are_all_there() -> None:
    release = anyio.Event()

    async def slow_tokens() -> AsyncIterator[str]:
        yield "first "
        await release.wait()
        yield "second"

    sequence = MessageSequencePromise(MessagePromise(slow_tokens()), "after")
    with anyio.fail_after(5):  # a deadlock, not a duration, is what fails here
        promise = await anext(sequence)
        assert (await anext(promise)).delta == "first "
        release.set()
        assert (await promise).content == "first second"
        assert (await (await anext(sequence))).content == "after"
        await sequence.aclose()


def test_a_message_is_hashable_and_frozen_all_the_way_down() -> None:
    tags = ["a", "b"]
    nested = {"tags": tags, "source": {"url": "x", "seen": {1, 2}}}
    message = Message("hi", metadata=nested)
    assert hash(message) == hash(Message("hi", "assistant", message.id, message.timestamp, nested))
    tags.append("changed by the caller")
    assert message.metadata["tags"] == ("a", "b")  # a copy, not the caller's list
    with pytest.raises(TypeError):
        message.metadata["source"]["url"] = "y"
    assert message.metadata == {"tags": ("a", "b"), "source": {"url": "x", "seen": {1, 2}}}
    assert str(message) == "hi"


async def test_a_promise_in_two_sequences_gives_its_whole_text_to_both() -> None:
    shared = MessagePromise(tokens("sha", "red"))
    first, second = MessageSequencePromise("a", shared), MessageSequencePromise(shared, "b")
    assert [m.content for m in await first] == ["a", "shared"]
    assert [m.content for m in await second] == ["shared", "b"]


async def test_a_failing_content_settles_once() -> None:
    async def fails() -> str:
        raise LookupError("gone")

    sequence = MessageSequencePromise(fails())
    with pytest.raises(LookupError) as first:
        await sequence
    with pytest.raises(LookupError) as second:
        await sequence
    assert first.value is second.value


async def test_a_plain_promise_in_two_sequences_gives_every_piece_to_both() -> None:
    shared: StreamedPromise[str, tuple[str, ...]] = StreamedPromise(tokens("one", "two"))
    first, second = MessageSequencePromise(shared), MessageSequencePromise(shared)
    assert [m.content for m in await first] == ["one", "two"]
    assert [m.content for m in await second] == ["one", "two"]


async def test_independent_replies_are_produced_at_once_in_a_concurrent_sequence() -> None:
    """Two replies, each waiting for the other to start: produced one after the other, the
    first would wait for ever; produced concurrently, both finish."""
    started = [anyio.Event(), anyio.Event()]

    def reply(mine: int) -> MessagePromise:
        async def text() -> AsyncIterator[str]:
            started[mine].set()
            await started[1 - mine].wait()
            yield f"reply {mine}"

        return MessagePromise(text())

    sequence = MessageSequencePromise(reply(0), reply(1), concurrently=True)
    with anyio.fail_after(5):  # a deadlock, not a duration, is what fails here
        async with sequence:
            contents = [(await promise).content async for promise in sequence]
    assert contents == ["reply 0", "reply 1"]


async def test_a_concurrent_sequence_is_read_in_a_scope() -> None:
    sequence = MessageSequencePromise("a", "b", concurrently=True)
    with pytest.raises(StreamScopeError, match="async with sequence"):
        await anext(sequence)
    assert [m.content for m in await sequence] == ["a", "b"]  # await opens the scope itself


async def test_leaving_a_concurrent_sequence_cancels_its_producers() -> None:
    running: list[str] = []

    async def endless() -> AsyncIterator[str]:
        running.append("started")
        try:
            yield "x"
            await anyio.Event().wait()
        finally:
            running.remove("started")

    async with MessageSequencePromise(
        MessagePromise(endless()), "after", concurrently=True
    ) as sequence:
        first = await anext(sequence)
        assert (await anext(first)).delta == "x"
    assert running == []


async def test_a_message_promise_of_a_stream_that_runs_tasks_is_read_in_its_scope() -> None:
    from agentcat import agent

    @agent
    def join(pair: tuple[str, str]) -> str:
        return " | ".join(pair)

    both = (Tokens(["Hel", "lo"]) & Tokens(["world"])) >> join
    before = len(anyio.get_running_tasks())
    unscoped = MessagePromise(both.stream(""))
    with pytest.raises(StreamScopeError, match=r"read it inside `async with promise:`"):
        await anext(unscoped)
    async with unscoped:  # nothing ran: it can still be read, in a scope
        assert [chunk.delta async for chunk in unscoped] == ["Hello | world", ""]
    assert (await unscoped).content == "Hello | world"
    assert (await MessagePromise(both.stream(""))).content == "Hello | world"
    assert len(anyio.get_running_tasks()) == before  # the scope's tasks ended with it


async def test_concurrent_awaits_of_a_promise_give_the_one_same_message() -> None:
    async def slowly(*parts: str) -> AsyncIterator[str]:
        for part in parts:
            await anyio.lowlevel.checkpoint()
            yield part

    promise = MessagePromise(slowly("Hel", "lo"))
    got: list[Message] = []

    async def wait() -> None:
        got.append(await promise)

    async with anyio.create_task_group() as group:
        group.start_soon(wait)
        group.start_soon(wait)
    assert got[0] is got[1]
    assert await promise is got[0]


async def test_leaving_a_concurrent_sequence_does_not_wait_for_a_slow_reply() -> None:
    never = anyio.Event()

    async def slow() -> str:
        await never.wait()  # a reply that never comes
        return "late"

    sequence = MessageSequencePromise("hi", slow(), concurrently=True)
    with anyio.fail_after(10):  # a guard: without the fix, leaving waits for the reply
        async with sequence:
            async for message in sequence:
                assert (await message).content == "hi"
                break
    assert not never.is_set()


def test_a_message_of_a_reply_keeps_its_parts_in_order_and_its_usage() -> None:
    reply = REPLY.concat(
        [
            Reply((Thinking(0, "hm", "sig"), Text(1, "Let me look.")), meta={"model": "m"}),
            Reply(
                (ToolCall(2, "c1", "weather", '{"city": "Oslo"}'),),
                usage=Usage(3, 9, reported=True),
            ),
            Reply(stop="tool_use"),
        ]
    )
    message = Message.of_reply(reply)
    assert (message.content, message.role) == ("Let me look.", "assistant")
    assert message.parts == (
        ThinkingPart("hm", "sig"),
        TextPart("Let me look."),
        ToolCallPart(2, "c1", "weather", '{"city": "Oslo"}'),
    )
    assert message.tool_calls[0].arguments() == {"city": "Oslo"}
    assert message.usage == Usage(3, 9, reported=True)
    assert dict(message.metadata) == {"model": "m", "stop": "tool_use"}
    answer = Message("", "tool", parts=(ToolResultPart("c1", "12 degrees"),))
    assert answer.tool_results == (ToolResultPart("c1", "12 degrees"),)
    assert Message("hi").parts == ()  # a message of its content alone, as before
    with pytest.raises(TypeError, match="parts are TextPart"):
        Message("hi", parts=("hi",))  # type: ignore[arg-type]


def test_a_message_and_a_conversation_round_trip_through_json_exactly() -> None:
    reply = Reply((Text(0, "naïve ☕"), ToolCall(1, "c", "f", "{}")), usage=Usage(1, 2))
    messages = [
        Message("hi", "user", metadata={"tags": ["a", {"b": 1}]}),
        Message.of_reply(reply),
        Message("", "tool", parts=(ToolResultPart("c", "boom", is_error=True),)),
    ]
    for message in messages:
        again = Message.from_json(message.to_json())
        assert again == message
        assert hash(again) == hash(message)
    weather = ToolSpec("weather", "The weather in a city", {"type": "object"})
    conversation = Conversation(messages, metadata={"topic": "weather"}, tools=(weather,))
    assert Conversation.from_json(conversation.to_json()) == conversation
    with pytest.raises(TypeError, match="has no exact JSON form"):
        Message("hi", metadata={"when": {1, 2}}).to_json()
    with pytest.raises(ValueError, match="not the JSON of a message"):
        Message.from_json('{"id": "x"}')


def test_a_conversation_is_an_immutable_value_that_appends_into_a_new_one() -> None:
    empty = Conversation()
    assert (len(empty), empty.last_message) == (0, None)
    hello = Message("hello", "user")
    one = empty.append(hello)
    assert (len(empty), len(one), one.last_message) == (0, 1, hello)
    assert one.id == empty.id  # the same conversation, one message on
    two = one.extend([Message("hi"), Message("how are you?", "user")])
    assert [message.content for message in two.messages] == ["hello", "hi", "how are you?"]
    assert hash(two) == hash(Conversation(two.messages, two.id, two.created_at))
    with pytest.raises(TypeError, match="holds Message values, not 'hi'"):
        one.append("hi")  # type: ignore[arg-type]


def test_a_conversation_offers_its_model_tools_by_unique_name_and_is_made_of_a_prompt() -> None:
    clock, weather = ToolSpec("clock"), ToolSpec("weather", "The weather in a city")
    asked = Conversation.of("What time is it?")
    assert [(m.role, m.content) for m in asked.messages] == [("user", "What time is it?")]
    assert Conversation.of(asked) is asked
    offered = asked.offering([clock, weather])
    assert (asked.tools, offered.tools) == ((), (clock, weather))
    assert offered.messages == asked.messages
    assert dict(clock.parameters) == {"type": "object", "properties": {}}
    with pytest.raises(ValueError, match="two tools are named 'clock'"):
        asked.offering([clock, ToolSpec("clock", "another")])
    with pytest.raises(TypeError, match="offers ToolSpec values"):
        asked.offering(["clock"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="a prompt is text or a Conversation"):
        Conversation.of(42)  # type: ignore[arg-type]


async def test_a_message_promise_of_a_reply_stream_streams_its_text_and_resolves_to_it_all() -> (
    None
):
    from agentcat import streaming

    @streaming
    async def model(prompt: str) -> AsyncIterator[Reply]:
        yield Reply(meta={"model": "embedded"})
        yield Reply((Text(0, "Let me "),))
        yield Reply((ToolCall(1, "c1", "clock", "{}"),))
        yield Reply((Text(0, "look."),), usage=Usage(2, 3, reported=True), stop="tool_use")

    stream = model.stream("time?")
    promise = MessagePromise(stream, metadata={"turn": 1})
    assert [chunk.delta async for chunk in promise] == ["Let me ", "look.", ""]
    message = await promise
    assert message.content == "Let me look."
    assert message.tool_calls == (ToolCallPart(1, "c1", "clock", "{}"),)
    assert message.usage == Usage(2, 3, reported=True)
    assert dict(message.metadata) == {"model": "embedded", "stop": "tool_use", "turn": 1}
    assert (await stream).stop == "tool_use"  # the reply stream stays whole for its readers
    sequence = MessageSequencePromise("hi", model.stream("again?"))
    assert [m.tool_calls for m in await sequence] == [(), (ToolCallPart(1, "c1", "clock", "{}"),)]


def test_what_json_cannot_hold_exactly_is_refused_not_changed() -> None:
    refused: list[dict[Any, Any]] = [{1: "a"}, {"f": {None: (1,)}}, {"x": float("nan")}, {"s": {1}}]
    for metadata in refused:
        with pytest.raises(TypeError, match="no exact JSON form"):
            Message("x", metadata=metadata).to_json()
    with pytest.raises(TypeError, match="metadata is a mapping"):
        Message("x", metadata=[("a", 1)])  # type: ignore[arg-type]
