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

import contextlib
import functools
import json
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol, TypeVar

import anyio.to_thread
from attrs import evolve

from agentcat.messenger._frozen import exact_json
from agentcat.messenger.conversation import Conversation, tool_data, tool_from_data
from agentcat.messenger.message import Message, message_data, message_from_data

__all__ = ["ConversationStore", "Pending", "SQLiteStore", "interrupted"]

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


class Pending(Protocol):
    """A reply being kept while it streams (what :meth:`ConversationStore.begin` gives)."""

    async def update(self, partial: Message) -> None:
        """Keep ``partial``, the reply so far, still marked interrupted."""
        ...

    async def finish(self, message: Message) -> None:
        """Keep ``message``, the whole reply, in the place of the one that was streaming."""
        ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    metadata TEXT NOT NULL,
    tools TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    message_id TEXT NOT NULL,
    complete INTEGER NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (conversation_id, message_id)
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
        ValueError: ``path`` is not a file (``":memory:"``: each operation has a connection of
            its own, so a database in memory would be a new one each time).
        sqlite3.Error: the file cannot be opened as a database.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        with contextlib.closing(self._connect()) as connection:
            (mode,) = connection.execute("PRAGMA journal_mode=WAL").fetchone()
            if mode != "wal":
                raise ValueError(f"{self!r} needs a database file, not {str(path)!r}")
            connection.executescript(_SCHEMA)
            columns = {row[1] for row in connection.execute("PRAGMA table_info(conversations)")}
            if "tools" not in columns:  # a file of an agentcat that kept no tools: add them
                connection.execute(
                    "ALTER TABLE conversations ADD COLUMN tools TEXT NOT NULL DEFAULT '[]'"
                )

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)  # how long to wait for another writer

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
        marked ``interrupted``; ``None`` if there is none.

        Raises:
            ValueError: a stored message is not readable (the file was changed by hand).
        """
        return await self._run(functools.partial(_load, conversation_id=conversation_id))

    async def append(self, conversation: Conversation, message: Message) -> None:
        """Keep ``message`` after the messages kept of ``conversation`` (and the
        conversation's metadata as it now is). Keeping a message already kept (a retry after a
        cancellation, say) keeps it once.

        Raises:
            TypeError: ``message`` or the conversation has metadata with no exact JSON form.
        """
        body = _body(message)
        await self._run(functools.partial(_insert, conversation, message.id, body, True))

    async def begin(self, conversation: Conversation, message: Message) -> Pending:
        """Keep ``message``, a reply that has begun to stream, as interrupted until
        :meth:`Pending.finish` replaces it with the whole reply; :meth:`Pending.update` keeps
        the text so far.

        Raises:
            TypeError: ``message`` or the conversation has metadata with no exact JSON form.
        """
        body = _body(interrupted(message))
        await self._run(functools.partial(_insert, conversation, message.id, body, False))
        return _SQLitePending(self, conversation.id, message.id)

    async def _replace(
        self, conversation_id: str, message_id: str, message: Message, complete: bool
    ) -> None:
        if message.id != message_id:
            raise ValueError(
                f"the reply kept as {message_id!r} cannot be replaced by message {message.id!r}"
            )
        body = _body(message if complete else interrupted(message))

        def replace(connection: sqlite3.Connection) -> int:
            return connection.execute(
                "UPDATE messages SET body = ?, complete = ? "
                "WHERE conversation_id = ? AND message_id = ? AND complete = 0",
                (body, int(complete), conversation_id, message_id),
            ).rowcount

        if not await self._run(replace):
            raise RuntimeError(f"the reply {message_id!r} was finished already")


class _SQLitePending:
    """A reply kept in an :class:`SQLiteStore` while it streams."""

    def __init__(self, store: SQLiteStore, conversation_id: str, message_id: str) -> None:
        self._store, self._conversation_id, self._message_id = store, conversation_id, message_id

    async def update(self, partial: Message) -> None:
        """Keep ``partial``, the reply so far, still marked interrupted.

        Raises:
            ValueError: ``partial`` is not the reply begun (another id).
            RuntimeError: the reply was finished already.
            TypeError: ``partial`` has metadata with no exact JSON form.
        """
        await self._store._replace(self._conversation_id, self._message_id, partial, False)

    async def finish(self, message: Message) -> None:
        """Keep ``message``, the whole reply, in the place of the one that was streaming.

        Raises:
            ValueError: ``message`` is not the reply begun (another id).
            RuntimeError: the reply was finished already.
            TypeError: ``message`` has metadata with no exact JSON form.
        """
        await self._store._replace(self._conversation_id, self._message_id, message, True)


def interrupted(message: Message) -> Message:
    """``message``, a reply cut short, marked as one (``metadata["interrupted"]``)."""
    return evolve(message, metadata={**message.metadata, "interrupted": True})


def _body(message: Message) -> str:
    return exact_json(message_data(message))


def _insert(
    conversation: Conversation,
    message_id: str,
    body: str,
    complete: bool,
    connection: sqlite3.Connection,
) -> None:
    header = exact_json(conversation.metadata)
    tools = exact_json([tool_data(spec) for spec in conversation.tools])
    connection.execute(
        "INSERT INTO conversations (id, created_at, metadata, tools) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET metadata = excluded.metadata, tools = excluded.tools",
        (conversation.id, conversation.created_at.isoformat(), header, tools),
    )
    connection.execute(
        "INSERT INTO messages (conversation_id, message_id, complete, body) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (conversation_id, message_id) DO NOTHING",
        (conversation.id, message_id, int(complete), body),
    )


def _load(connection: sqlite3.Connection, conversation_id: str) -> Conversation | None:
    header = connection.execute(
        "SELECT created_at, metadata, tools FROM conversations WHERE id = ?", (conversation_id,)
    ).fetchone()
    if header is None:
        return None
    rows = connection.execute(
        "SELECT body FROM messages WHERE conversation_id = ? ORDER BY seq", (conversation_id,)
    ).fetchall()
    messages = [message_from_data(json.loads(body)) for (body,) in rows]
    created_at, metadata, tools = header
    when = datetime.fromisoformat(created_at)
    offered = [tool_from_data(spec) for spec in json.loads(tools)]
    return Conversation(messages, conversation_id, when, json.loads(metadata), offered)
