"""Where conversations are kept: :class:`ConversationStore`, and :class:`SQLiteStore`, its
default, on the standard library's ``sqlite3``.

Whole messages are kept, never tokens: a message sent is appended when it is sent, a reply
when it is complete. A reply still streaming is written as it goes (:meth:`begin` and the
:class:`Pending` it gives), so that if the process dies in the middle, reopening finds the
reply there, with the text it had, marked ``interrupted`` in its metadata; every message
written before is intact. The log is append-only: a retry of an interrupted reply is a new
message that says what it supersedes (``metadata={"supersedes": id}``), and
:meth:`Conversation.visible` leaves the superseded one out of what is sent to a model.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol, TypeVar

import anyio.to_thread
from attrs import evolve

from agentcat.messenger.conversation import Conversation
from agentcat.messenger.message import Message, json_default, message_data, message_from_data

__all__ = ["ConversationStore", "Pending", "SQLiteStore"]

T = TypeVar("T")


class ConversationStore(Protocol):
    """What a messenger keeps its conversations in."""

    async def load(self, conversation_id: str) -> Conversation | None:
        """The conversation of that id as it was written, or ``None`` if there is none."""
        ...

    async def append(self, conversation: Conversation, message: Message) -> None:
        """Keep ``message`` after the messages kept of ``conversation``."""
        ...

    async def begin(self, conversation: Conversation, message: Message) -> Pending:
        """Keep ``message``, a reply still streaming, as interrupted until it is finished."""
        ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    metadata TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    message_id TEXT NOT NULL,
    complete INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_of ON messages (conversation_id, seq);
"""


class SQLiteStore:
    """Conversations in one SQLite file at ``path`` (made if missing), in WAL mode so that
    readers never block the writer and a killed process loses at most what it was writing.
    Each operation runs in a worker thread, off the event loop, on a connection of its own;
    writers of different conversations, in one process or several, do not disturb each other.
    An operation that has started completes even if its caller is cancelled: nothing is half
    written.

    Raises:
        sqlite3.Error: the file cannot be opened as a database.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        with self._connect() as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(_SCHEMA)

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=30)
        connection.execute("PRAGMA busy_timeout=30000")
        return connection

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        def in_thread() -> T:
            connection = self._connect()
            try:
                with connection:  # one transaction: all of it, or none
                    return work(connection)
            finally:
                connection.close()

        return await anyio.to_thread.run_sync(in_thread)

    async def load(self, conversation_id: str) -> Conversation | None:
        """The conversation of that id as it was written, a reply that was still streaming
        marked ``interrupted``; ``None`` if there is none."""
        return await self._run(functools.partial(_load, conversation_id=conversation_id))

    async def append(self, conversation: Conversation, message: Message) -> None:
        """Keep ``message`` after the messages kept of ``conversation``.

        Raises:
            TypeError: ``message`` has metadata with no exact JSON form.
        """
        body = _body(message)
        await self._run(functools.partial(_insert, conversation, message.id, body, True))

    async def begin(self, conversation: Conversation, message: Message) -> Pending:
        """Keep ``message``, a reply that has begun to stream, as interrupted until
        :meth:`Pending.finish` replaces it with the whole reply; :meth:`Pending.update` keeps
        the text so far.

        Raises:
            TypeError: ``message`` has metadata with no exact JSON form.
        """
        body = _body(_interrupted(message))
        seq = await self._run(functools.partial(_insert, conversation, message.id, body, False))
        return Pending(self, seq)

    async def _replace(self, seq: int, message: Message, complete: bool) -> None:
        body = _body(message if complete else _interrupted(message))

        def replace(connection: sqlite3.Connection) -> None:
            connection.execute(
                "UPDATE messages SET body = ?, complete = ? WHERE seq = ? AND complete = 0",
                (body, int(complete), seq),
            )

        await self._run(replace)


class Pending:
    """A reply being kept while it streams (see :meth:`SQLiteStore.begin`)."""

    def __init__(self, store: SQLiteStore, seq: int) -> None:
        self._store, self._seq = store, seq

    async def update(self, partial: Message) -> None:
        """Keep ``partial``, the reply so far, still marked interrupted."""
        await self._store._replace(self._seq, partial, complete=False)

    async def finish(self, message: Message) -> None:
        """Keep ``message``, the whole reply, in the place of the one that was streaming."""
        await self._store._replace(self._seq, message, complete=True)


def _interrupted(message: Message) -> Message:
    return evolve(message, metadata={**message.metadata, "interrupted": True})


def _body(message: Message) -> str:
    return json.dumps(message_data(message), ensure_ascii=False, default=json_default)


def _insert(
    conversation: Conversation,
    message_id: str,
    body: str,
    complete: bool,
    connection: sqlite3.Connection,
) -> int:
    header = json.dumps(dict(conversation.metadata), ensure_ascii=False, default=json_default)
    connection.execute(
        "INSERT OR IGNORE INTO conversations (id, created_at, metadata) VALUES (?, ?, ?)",
        (conversation.id, conversation.created_at.isoformat(), header),
    )
    cursor = connection.execute(
        "INSERT INTO messages (conversation_id, message_id, complete, body) VALUES (?, ?, ?, ?)",
        (conversation.id, message_id, int(complete), body),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _load(connection: sqlite3.Connection, conversation_id: str) -> Conversation | None:
    header = connection.execute(
        "SELECT created_at, metadata FROM conversations WHERE id = ?", (conversation_id,)
    ).fetchone()
    if header is None:
        return None
    rows = connection.execute(
        "SELECT body FROM messages WHERE conversation_id = ? ORDER BY seq", (conversation_id,)
    ).fetchall()
    messages = [message_from_data(json.loads(body)) for (body,) in rows]
    created_at, metadata = header
    when = datetime.fromisoformat(created_at)
    return Conversation(messages, conversation_id, when, json.loads(metadata))
