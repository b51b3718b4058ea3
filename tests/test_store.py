"""Conversations kept in SQLite (``agentcat.messenger.store``): exact reopening, replies kept as
they stream, a process killed mid-reply, and concurrent writers."""

from __future__ import annotations

import contextlib
import sqlite3
import textwrap
from pathlib import Path

import anyio
import pytest

from agentcat import Conversation, Message, Reply, SQLiteStore, Text, ToolCall, Usage
from agentcat.messenger import ToolSpec
from tests.helpers import killed_once_streaming

pytestmark = pytest.mark.anyio


async def test_a_conversation_reopens_exactly_as_it_was_written(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "chats.db")
    weather = ToolSpec("weather", "The weather in a city", {"type": "object", "required": ["city"]})
    conversation = Conversation(metadata={"topic": "weather"}, tools=(weather,))
    messages = [
        Message("Weather in Oslo?", "user", metadata={"tags": ["a", {"b": 1}]}),
        Message.of_reply(
            Reply((Text(0, "Looking."), ToolCall(1, "c", "weather", "{}")), usage=Usage(3, 4))
        ),
    ]
    for message in messages:
        conversation = conversation.append(message)
        await store.append(conversation, message)
    reopened = await SQLiteStore(tmp_path / "chats.db").load(conversation.id)
    assert reopened == conversation
    assert await store.load("no such conversation") is None


async def test_a_reply_is_kept_as_it_streams_and_replaced_when_whole(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "chats.db")
    question = Message("Hi?", "user")
    conversation = Conversation([question])
    await store.append(conversation, question)
    reply = Message("", "assistant")
    pending = await store.begin(conversation, reply)
    await pending.update(Message("Hel", reply.role, reply.id, reply.timestamp))
    kept = await store.load(conversation.id)
    assert kept is not None
    assert [(m.content, m.metadata.get("interrupted")) for m in kept.messages] == [
        ("Hi?", None),
        ("Hel", True),
    ]
    whole = Message("Hello.", reply.role, reply.id, reply.timestamp)
    await pending.finish(whole)
    kept = await store.load(conversation.id)
    assert kept is not None
    assert kept.messages == (question, whole)


def test_a_retry_supersedes_an_interrupted_reply_in_what_a_model_sees() -> None:
    cut = Message("Hel", metadata={"interrupted": True})
    retried = Message("Hello.", metadata={"supersedes": cut.id})
    conversation = Conversation([Message("Hi?", "user"), cut, retried])
    assert [m.content for m in conversation.visible()] == ["Hi?", "Hello."]
    assert len(conversation) == 3  # the log keeps both


WRITER = textwrap.dedent(
    """
    import sys
    import anyio
    from agentcat import Conversation, Message, SQLiteStore

    async def main(path):
        store = SQLiteStore(path)
        conversation = Conversation(id="killed")
        for content, role in [("Tell me a story.", "user"), ("Once upon a time.", "assistant")]:
            message = Message(content, role, id=content)
            conversation = conversation.append(message)
            await store.append(conversation, message)
        reply = Message("", id="the reply cut short")
        pending = await store.begin(conversation, reply)
        await pending.update(Message("And then", reply.role, reply.id, reply.timestamp))
        print("streaming", flush=True)
        await anyio.sleep_forever()

    anyio.run(main, sys.argv[1])
    """
)


async def test_a_process_killed_mid_reply_leaves_its_history_intact_and_the_reply_marked(
    tmp_path: Path,
) -> None:
    path = tmp_path / "chats.db"
    await killed_once_streaming(WRITER, path)
    kept = await SQLiteStore(path).load("killed")
    assert kept is not None
    assert [(m.id, m.content, m.metadata.get("interrupted")) for m in kept.messages] == [
        ("Tell me a story.", "Tell me a story.", None),
        ("Once upon a time.", "Once upon a time.", None),
        ("the reply cut short", "And then", True),
    ]


async def test_concurrent_writers_of_different_conversations_keep_each_intact(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "chats.db")
    conversations = [Conversation(id=f"chat {n}") for n in range(6)]

    async def write(conversation: Conversation) -> None:
        for index in range(15):
            message = Message(f"{conversation.id}: {index}", "user")
            conversation = conversation.append(message)
            await store.append(conversation, message)

    async with anyio.create_task_group() as group:
        for conversation in conversations:
            group.start_soon(write, conversation)
    for conversation in conversations:
        kept = await store.load(conversation.id)
        assert kept is not None
        assert [m.content for m in kept.messages] == [
            f"{conversation.id}: {index}" for index in range(15)
        ]


async def test_the_store_keeps_a_message_once_and_the_conversation_as_it_now_is(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "chats.db")
    message = Message("hi", "user")
    conversation = Conversation([message], metadata={"title": "a"})
    await store.append(conversation, message)
    renamed = Conversation(
        conversation.messages, conversation.id, conversation.created_at, {"title": "b"}
    )
    await store.append(renamed, message)  # again, as a retry after a cancellation would
    kept = await store.load(conversation.id)
    assert kept == renamed


async def test_a_pending_reply_is_finished_once_and_only_by_itself(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "chats.db")
    reply = Message("")
    pending = await store.begin(Conversation(), reply)
    with pytest.raises(ValueError, match="cannot be replaced by message"):
        await pending.finish(Message("another"))
    await pending.finish(Message("done", reply.role, reply.id, reply.timestamp))
    with pytest.raises(RuntimeError, match="was finished already"):
        await pending.update(Message("late", reply.role, reply.id, reply.timestamp))
    with pytest.raises(ValueError, match="needs a database file"):
        SQLiteStore(":memory:")


async def test_a_file_written_before_conversations_kept_tools_opens_and_gains_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    with contextlib.closing(sqlite3.connect(path)) as connection, connection:
        connection.executescript(
            """
            CREATE TABLE conversations (id TEXT PRIMARY KEY, created_at TEXT NOT NULL,
                                        metadata TEXT NOT NULL);
            CREATE TABLE messages (seq INTEGER PRIMARY KEY AUTOINCREMENT,
                conversation_id TEXT NOT NULL REFERENCES conversations (id),
                message_id TEXT NOT NULL, complete INTEGER NOT NULL, body TEXT NOT NULL,
                UNIQUE (conversation_id, message_id));
            INSERT INTO conversations VALUES ('old', '2026-11-30T10:00:00+00:00', '{}');
            """
        )
    store = SQLiteStore(path)
    old = await store.load("old")
    assert old is not None
    assert (old.messages, old.tools) == ((), ())
    offered = old.offering([ToolSpec("clock")])
    message = Message("What time is it?", "user")
    await store.append(offered.append(message), message)
    assert await store.load("old") == offered.append(message)
