"""The chat: a plain terminal loop on a messenger session (the embedded model by default)."""

from __future__ import annotations

import sys
from typing import TextIO

import anyio
import anyio.to_thread

from agentcat import Conversation, EmbeddedModel, MessengerAgent, Reply, SQLiteStore, tool
from agentcat._cli.demo import define
from agentcat._cli.transcript import Transcript, status

__all__ = ["run_chat"]


async def run_chat(
    out: TextIO,
    store: SQLiteStore,
    resume: str | None = None,
    pace: float = 0.02,
    tokens: int = 200,
    lines: TextIO | None = None,
) -> int:
    """Read a message a line at a time from ``lines`` (standard input by default), stream each
    answer to ``out`` with a status line after it, until the end of the input or ``/quit``;
    the conversation is kept in ``store``, and ``resume`` goes on with a kept one.
    Returns the exit status (2 when there is no conversation ``resume`` to go on with)."""
    conversation: Conversation | None = None
    if resume is not None:
        conversation = await store.load(resume)
        if conversation is None:
            print(f"agentcat chat: no conversation {resume!r} in {store.path}", file=sys.stderr)
            return 2
    model = EmbeddedModel(pace=pace, max_tokens=tokens, label="embedded")
    session = MessengerAgent(model, conversation=conversation, tools=[tool(define)], store=store)
    out.write(
        f"agentcat chat on {model.name} ({len(session.conversation)} messages so far); "
        f"tools: {', '.join(t.name for t in session.tools)}; /quit or end of input to leave\n"
        f"conversation {session.conversation.id}, kept in {store.path}\n"
    )
    source = lines if lines is not None else sys.stdin
    while True:
        out.write("\nyou> ")
        out.flush()
        line = await anyio.to_thread.run_sync(source.readline)
        if not line or line.strip() == "/quit":
            out.write("\n")
            return 0
        if not line.strip():
            continue
        transcript = Transcript(out, session)
        async for chunk in session.invoke(line.strip()):
            transcript.show(chunk.delta, "")
        transcript.show(Reply(), "")
        out.write(f"\n[{status(session)}]\n")
