"""The chat: a plain terminal loop on a messenger session (the embedded model by default)."""

from __future__ import annotations

import codecs
import importlib
import os
import stat
import sys
from typing import TextIO

import anyio
import anyio.to_thread
from attrs import frozen

from agentcat import (
    Conversation,
    EmbeddedModel,
    MessengerAgent,
    Reply,
    SQLiteStore,
    StreamingAgent,
    Text,
    tool,
)
from agentcat._cli.demo import define
from agentcat._cli.transcript import Transcript, status

__all__ = ["messenger_of", "run_chat"]


@frozen
class _Provider:
    """A provider ``--model`` can name: its messenger in ``agentcat_adapters``, the extra that
    installs its SDK, and the environment variables its SDK reads its key from (any one of
    them; none for a local server)."""

    messenger: str
    extra: str
    keys: tuple[str, ...]


_PROVIDERS = {
    "claude": _Provider("ClaudeMessenger", "anthropic", ("ANTHROPIC_API_KEY",)),
    "gemini": _Provider("GeminiMessenger", "gemini", ("GEMINI_API_KEY", "GOOGLE_API_KEY")),
    "openai": _Provider("OpenAIMessenger", "openai", ("OPENAI_API_KEY",)),
    "ollama": _Provider("OllamaMessenger", "ollama", ()),
}


def messenger_of(spec: str, pace: float, tokens: int) -> StreamingAgent[Conversation, Reply]:
    """The messenger ``--model`` names: ``embedded`` (offline), or ``claude:MODEL``,
    ``gemini:MODEL``, ``openai:MODEL`` or ``ollama:MODEL`` through ``agentcat-adapters`` and
    the SDK's usual environment variables (its key; a base URL or host, if set).

    Raises:
        ValueError: the spec names no messenger known here, its key is not set, or its
            adapter is not installed (the message says what to do).
    """
    if spec == "embedded":
        return EmbeddedModel(pace=pace, max_tokens=tokens, label="embedded")
    name, _, model = spec.partition(":")
    provider = _PROVIDERS.get(name)
    if provider is None or not model:
        known = ", ".join(f"{name}:MODEL" for name in _PROVIDERS)
        raise ValueError(f"--model is embedded, {known}; not {spec!r}")
    if provider.keys and not any(os.environ.get(key) for key in provider.keys):
        where = " or ".join(f"${key}" for key in provider.keys)
        raise ValueError(f"--model {spec} needs the key of {name} in {where}")
    try:
        kind = getattr(importlib.import_module("agentcat_adapters"), provider.messenger)
    except ImportError as missing:
        raise ValueError(
            f"--model {spec} needs agentcat-adapters: pip install "
            f"'agentcat-adapters[{provider.extra}]' ({missing})"
        ) from missing
    return kind(model, max_tokens=tokens)  # type: ignore[no-any-return]


async def run_chat(
    out: TextIO,
    store: SQLiteStore,
    messenger: StreamingAgent[Conversation, Reply],
    resume: str | None = None,
) -> int:
    """Read a message a line at a time from standard input, stream each
    answer of ``messenger`` to ``out`` with a status line after it, until the end of the input
    or ``/quit``; the conversation is kept in ``store``, and ``resume`` goes on with a kept
    one. Returns the exit status (2 when there is no conversation ``resume`` to go on with)."""
    conversation: Conversation | None = None
    if resume is not None:
        conversation = await store.load(resume)
        if conversation is None:
            print(f"agentcat chat: no conversation {resume!r} in {store.path}", file=sys.stderr)
            return 2
    session = MessengerAgent(
        messenger, conversation=conversation, tools=[tool(define)], store=store
    )
    out.write(
        f"agentcat chat on {messenger.name} ({len(session.conversation)} messages so far); "
        f"tools: {', '.join(t.name for t in session.tools)}; /quit or end of input to leave\n"
        f"conversation {session.conversation.id}, kept in {store.path}\n"
    )
    for message in session.conversation.visible()[-4:]:  # where it was left
        out.write(f"  ({message.role}: {_glimpse(message.content)})\n")
    if _cut(session):
        out.write("the last reply was cut short: /retry answers again in its place\n")
    lines = _Lines(sys.stdin)
    while True:
        out.write("\nyou> ")
        out.flush()
        read = await lines.next()
        line = read.strip()
        if not read or line.lower() == "/quit":  # the end of the input, or asked to leave
            out.write("\n")
            return 0
        if not line:
            continue
        transcript = Transcript(out, session)
        if line.lower() == "/retry":
            if not _cut(session):
                out.write("nothing to retry: the last reply was not cut short\n")
                continue
            async for promise in session.retry():  # its replies' text (tool results shown apart)
                if promise.draft.role == "assistant":
                    async for text in promise:
                        transcript.show(Reply((Text(0, text.delta),)), "")
        else:
            async for chunk in session.invoke(line):
                transcript.show(chunk.delta, "")
        transcript.show(Reply(), "")
        out.write(f"\n[{status(session)}]\n")


class _Lines:
    """The lines of ``source``, read so that Ctrl-C (a cancellation) stops the wait for one.

    Where ``source`` is a pipe or a terminal on a POSIX system, the event loop waits until it
    is readable, and the bytes are split here (Python's own buffer would hide a second pasted
    line from that wait). Elsewhere a worker thread reads, abandoned if cancelled; asyncio
    joins such a thread when the program ends, so that is only the fallback.
    """

    def __init__(self, source: TextIO) -> None:
        self._source = source
        self._fd = _waitable(source)
        self._decoder = codecs.getincrementaldecoder(source.encoding or "utf-8")("replace")
        self._pending = ""
        self._ended = False

    async def next(self) -> str:
        """The next line with its end of line; ``""`` at the end of the input."""
        if self._fd is None:
            return await anyio.to_thread.run_sync(self._source.readline, abandon_on_cancel=True)
        while "\n" not in self._pending and not self._ended:
            await anyio.wait_readable(self._fd)
            read = os.read(self._fd, 1 << 16)
            self._ended = not read
            self._pending += self._decoder.decode(read, final=self._ended)
        line, end, self._pending = self._pending.partition("\n")
        return line + end


def _waitable(source: TextIO) -> int | None:
    """The file descriptor of ``source`` if the event loop can wait for it to be readable."""
    if sys.platform == "win32":
        return None
    try:
        fd = source.fileno()
        return None if stat.S_ISREG(os.fstat(fd).st_mode) else fd  # (a file is always ready)
    except (OSError, ValueError):
        return None


def _cut(session: MessengerAgent) -> bool:
    last = session.conversation.last_message
    return last is not None and bool(last.metadata.get("interrupted"))


def _glimpse(text: str, width: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
