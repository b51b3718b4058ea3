"""Resuming a reply cut short mid-stream, by continuation: what ``messenger.with_resume()``
makes (see :meth:`agentcat_adapters._base.WireMessenger.with_resume`).

No provider resumes a broken stream of Messages, GenerateContent or a chat (OpenAI's Responses
API in background mode is the one that does, and is not an adapter here). What some models do
is continue a reply of text sent back as the last, assistant, message: a new request, a new
sample, conditioned on what was said. So a text-only partial reply is sent back, its trailing
whitespace held back (Anthropic refuses a continuation that ends in whitespace; one rule for
every provider), and the continuation is mended at the seam: the whitespace held back is
dropped from its start where it repeats it, and its parts are re-keyed, its first text part
going on with the last one shown. Usage adds up across the requests, as both are billed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import attrs

from agentcat import (
    REPLY,
    Conversation,
    Message,
    Node,
    ProviderError,
    Reply,
    StreamingAgent,
    StreamingError,
    Text,
)

if TYPE_CHECKING:
    from agentcat_adapters._base import WireMessenger

__all__ = ["Resumed", "continuable"]


def continuable(partial: Reply) -> bool:
    """Whether ``partial`` can be continued: text only (a half tool call cannot be sent back,
    nor, by Anthropic's rule, a continuation with thinking)."""
    return all(isinstance(fragment, Text) for fragment in partial.fragments)


class Resumed(StreamingAgent[Conversation | str, Reply]):
    """``messenger`` whose replies, cut short after ``attempts`` failures at most, are continued
    where the model supports it."""

    def __init__(self, messenger: WireMessenger, attempts: int) -> None:
        if not isinstance(attempts, int) or attempts < 1:
            raise ValueError(f"with_resume(attempts=) takes an int of 1 or more, not {attempts!r}")
        self.messenger = messenger
        """The messenger whose replies are resumed."""
        self.attempts = attempts
        """How many continuations one reply may take."""

    def __repr__(self) -> str:
        return f"{self.messenger!r}.with_resume({self.attempts})"

    @property
    def name(self) -> str:
        return f"{self.messenger.name} (resumed)"

    def describe(self) -> Node:
        """A model stage, called as its messenger is, marked ``(resumed)``."""
        return Node("model", self.name)

    def supports_tool_use(self) -> bool:
        """Whether the model is offered the conversation's tools, and may call them."""
        return self.messenger.supports_tool_use()

    async def open(self, value: Conversation | str, /) -> AsyncIterator[Reply]:
        conversation = Conversation.of(value)
        shown: list[Reply] = []  # every delta passed on, across the requests
        request, seam = conversation, _Seam()
        continuations = 0
        first: tuple[BaseException | None, bool] = (None, False)  # the failure that cut it
        while True:
            failure: StreamingError | ProviderError
            try:
                async with self.messenger.stream(request) as stream:
                    async for chunk in stream:
                        mended = seam.mend(chunk.delta)
                        if mended:
                            shown.append(mended)
                            yield mended
                return
            except StreamingError as error:
                failure, cause, transient = error, error.__cause__, error.recoverable
            except ProviderError as error:
                if not shown:
                    raise  # (the first request, before any delta: nothing to resume)
                failure, cause, transient = error, error, error.transient
                if continuations and error.status == 400:
                    self.messenger.refuse_continuation()  # the model does not continue replies
                    cause, transient = first  # (the failure that cut the reply says it all)
            partial = REPLY.concat(shown)
            resumable = self.messenger.supports_continuation() and continuable(partial)
            if not (transient and resumable and continuations < self.attempts):
                if isinstance(failure, StreamingError) and not continuations:
                    failure.resumable = False  # (as it was raised: its partial is all shown)
                    raise failure
                raise StreamingError(
                    f"{self.name} failed after {len(shown)} deltas and {continuations} "
                    f"continuations: {cause}",
                    partial=partial,
                    recoverable=transient,
                    resumable=False,
                ) from cause
            if not continuations:
                first = (cause, transient)
            continuations += 1
            request, seam = _continuation(conversation, partial)


def _continuation(conversation: Conversation, partial: Reply) -> tuple[Conversation, _Seam]:
    """The request that continues ``partial``, and the seam to mend its deltas at."""
    text = partial.text
    sent = text.rstrip()
    request = conversation.append(Message(sent, role="assistant")) if sent else conversation
    keys = [fragment.key for fragment in partial.fragments]
    last = partial.fragments[-1].key if partial.fragments else 0
    return request, _Seam(held=text[len(sent) :], last=last, offset=max(keys, default=-1) + 1)


class _Seam:
    """Mends a continuation's deltas: drops from its start the whitespace ``held`` back (the
    reader has it), gives its first text part the key ``last`` (the part shown last goes on),
    and moves its other parts past the keys shown (``offset``). With no arguments: the first
    request's seam, which changes nothing."""

    def __init__(self, held: str = "", last: int | None = None, offset: int = 0) -> None:
        self.held = held
        self.last = last
        self.offset = offset
        self.first: int | None = None  # the continuation's first text key, once seen

    def mend(self, delta: Reply) -> Reply:
        if self.last is None:
            return delta
        fragments = []
        for fragment in delta.fragments:
            if isinstance(fragment, Text) and self.first is None:
                self.first = fragment.key
            key = self.last if fragment.key == self.first else fragment.key + self.offset
            if isinstance(fragment, Text) and self.held:
                kept = self._unheld(fragment.text)
                if not kept:
                    continue
                fragment = attrs.evolve(fragment, text=kept)
            fragments.append(attrs.evolve(fragment, key=key))
        return attrs.evolve(delta, fragments=tuple(fragments))

    def _unheld(self, text: str) -> str:
        """``text`` without its start where it repeats the whitespace held back; the first
        other character ends the holding."""
        same = 0
        while same < min(len(text), len(self.held)) and text[same] == self.held[same]:
            same += 1
        self.held = self.held[same:] if same == len(text) else ""
        return text[same:]
