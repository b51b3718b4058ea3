"""Messages and their promises (``agentcat.messenger``): a message's text is a chunk stream that
resolves to the message, and a sequence flattens any nesting of content."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import anyio
import pytest

from agentcat import (
    Chunk,
    ChunkStream,
    Message,
    MessagePromise,
    MessageSequencePromise,
    StreamedPromise,
    StreamScopeError,
)
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
