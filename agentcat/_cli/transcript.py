"""How the commands write a turn as it streams (plain text; richer views come with ``rich``)."""

from __future__ import annotations

from typing import TextIO

from agentcat import MessengerAgent, Reply, Text, Thinking, ToolCall

__all__ = ["Transcript", "status"]


def status(session: MessengerAgent) -> str:
    """The status line of the latest turn: how fast it streamed, and from which model."""
    metrics = session.metrics
    if metrics is None:
        return f"waiting | model: {session.messenger.name}"
    rate, first = metrics.tokens_per_second, metrics.latency_first_token_ms
    rate_said = "-" if rate is None else f"{rate:.0f}"
    first_said = "-" if first is None else f"{first:.1f}"
    counted = "estimated" if metrics.estimated else "reported"
    state = "done" if metrics.complete else "streaming"
    return (
        f"{state} ({rate_said} tokens/sec) | first token {first_said} ms | "
        f"{metrics.tokens_generated} token{'' if metrics.tokens_generated == 1 else 's'} "
        f"({counted}) | model: {session.messenger.name}"
    )


class Transcript:
    """Writes a turn as it streams: thinking, text, tool calls with their arguments as they
    come, tool results once the session has them, and the reviewer's remarks."""

    def __init__(self, out: TextIO, session: MessengerAgent) -> None:
        self.out = out
        self.session = session
        self.seen = len(session.conversation)
        self.showing: type | None = None  # the kind of fragment being written
        self.interrupted = False  # by a remark, in the middle of the text
        self.begun = False  # whether the run being written has shown a character yet

    def show(self, reply: Reply, remark: str) -> None:
        self._results()
        for fragment in reply.fragments:
            if type(fragment) is not self.showing:
                self._close()
                self.interrupted = self.begun = False
                self.showing = type(fragment)
                if isinstance(fragment, Thinking):
                    self.out.write("\nassistant thinks: ")
                elif isinstance(fragment, Text):
                    self.out.write("\nassistant: ")
            if isinstance(fragment, Thinking | Text):
                text = fragment.text if self.begun else fragment.text.lstrip()
                if text and self.interrupted:  # the text goes on under where it began
                    text = "\n" + " " * len("assistant: ") + text.lstrip()
                    self.interrupted = False
                self.begun = self.begun or bool(text)
                self.out.write(text)
            elif isinstance(fragment, ToolCall):
                if fragment.name:
                    self.out.write(f"\n  -> {fragment.name}(")
                self.out.write(fragment.arguments)
        if reply.stop is not None:
            self._close()
        if remark:
            self.out.write(f"\n    [reviewer, while it streams] {remark}")
            self.interrupted = True
        self.out.flush()

    def _close(self) -> None:
        if self.showing is ToolCall:
            self.out.write(")")
        if self.showing is not None:
            self.showing = None

    def _results(self) -> None:
        """The tool results the session has added since they were last looked for."""
        messages = self.session.conversation.messages
        for message in messages[self.seen :]:
            for result in message.tool_results:
                marked = " (failed)" if result.is_error else ""
                self.out.write(f"\n  <- {result.content}{marked}")
        self.seen = len(messages)
