"""Chat sessions (``agentcat.messenger.session``): a MessengerAgent keeps the conversation across
turns, streams its replies, and keeps every message in a store, a reply cut short marked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agentcat import (
    Conversation,
    EmbeddedModel,
    MessengerAgent,
    Reply,
    SQLiteStore,
    Text,
    Usage,
    streaming,
    text_messenger,
)

pytestmark = pytest.mark.anyio


@streaming
async def counting(conversation: Conversation) -> AsyncIterator[Reply]:
    """Says how many messages it was given, in two deltas: what it saw is what it answers."""
    yield Reply((Text(0, "You sent "),))
    yield Reply((Text(0, f"{len(conversation)}."),), usage=Usage(len(conversation), 2))


async def test_a_session_keeps_the_conversation_across_turns() -> None:
    session = MessengerAgent(counting)
    sent = await session.send("Hello")
    assert session.conversation.last_message == sent
    first = [chunk.delta async for reply in session.receive() async for chunk in reply]
    assert first == ["You sent ", "1.", ""]
    await session.send("And now?")
    (second,) = await session.receive()
    assert second.content == "You sent 3."  # it saw its own first reply
    assert [m.role for m in session.conversation.messages] == ["user", "assistant"] * 2
    assert session.conversation.last_message == second
    assert second.usage == Usage(3, 2)


async def test_messages_sent_together_are_answered_in_order() -> None:
    session = MessengerAgent(counting)
    await session.send("one")
    await session.send("two")
    replies = await session.receive()
    assert [reply.content for reply in replies] == ["You sent 2.", "You sent 3."]
    assert await session.receive() == ()  # nothing left to answer


async def test_a_session_with_a_store_reopens_where_it_was(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "chats.db")
    session = MessengerAgent(counting, store=store)
    await session.send("Hello")
    await session.receive()
    kept = await store.load(session.conversation.id)
    assert kept == session.conversation
    again = MessengerAgent(counting, conversation=kept, store=store)
    await again.send("Still there?")
    (reply,) = await again.receive()
    assert reply.content == "You sent 3."


async def test_a_reply_cut_short_is_kept_marked_and_not_added(tmp_path: Path) -> None:
    @streaming
    async def breaking(conversation: Conversation) -> AsyncIterator[Reply]:
        yield Reply((Text(0, "Half a "),))
        raise ConnectionError("connection reset")

    store = SQLiteStore(tmp_path / "chats.db")
    session = MessengerAgent(breaking, store=store)
    await session.send("Tell me")
    with pytest.raises(ConnectionError, match="connection reset"):
        await session.receive()
    assert [m.role for m in session.conversation.messages] == ["user"]
    kept = await store.load(session.conversation.id)
    assert kept is not None
    cut = kept.messages[-1]
    assert (cut.content, cut.metadata["interrupted"]) == ("Half a ", True)


async def test_the_embedded_model_is_a_messenger_by_composition() -> None:
    messenger = text_messenger(EmbeddedModel(pace=0, max_tokens=8))
    assert repr(messenger) == "lift(conversation_prompt) >> model >> map_deltas(as_reply)"
    session = MessengerAgent(messenger)
    await session.send("Tell me about streams.")
    (reply,) = await session.receive()
    assert reply.content
    assert reply.role == "assistant"


def test_bad_arguments_are_named() -> None:
    with pytest.raises(TypeError, match="streaming agent from a Conversation"):
        MessengerAgent(len)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="takes a Conversation"):
        MessengerAgent(counting, conversation=[])  # type: ignore[arg-type]
