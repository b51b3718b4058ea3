"""`MessengerAgent`: a chat session over a messenger, a streaming agent from the conversation
so far to the reply (``StreamingAgent[Conversation, Reply]``), with the tools it may call.

Providers are stateless, so a messenger is given the whole conversation each turn; the session
holds it, one immutable value after another. A turn answers one user message: the messenger's
reply streams; if it calls tools, the session runs them (concurrently, each as an agent whose
failure is a result marked as an error), adds their results and asks again, until the reply
calls none or ``max_rounds`` is reached. Every reply of a turn streams, and each message is
added to the conversation once complete, so the next request sees it. With a store, every
message is kept as it is added, and a reply while it streams (at each sentence's end), so a
reply cut short is kept marked ``interrupted`` with what it had said.

The session is itself a streaming agent, of a user message to the assistant's reply over the
whole turn (``session.invoke(message)``), so it composes with ``>>``; it is a stateful one,
and the laws hold of its messenger, not of it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from contextlib import aclosing
from functools import partial

import anyio

from agentcat._runtime import HOST, gather
from agentcat._structure import Node
from agentcat.agent import agent
from agentcat.errors import ToolRoundsError
from agentcat.messenger.conversation import Conversation
from agentcat.messenger.message import Message
from agentcat.messenger.metrics import StreamingMetrics, _Tally
from agentcat.messenger.promises import MessagePromise, MessageSequencePromise
from agentcat.messenger.reply import (
    REPLY,
    Reply,
    Text,
    ToolCallPart,
    ToolResultPart,
    as_reply,
)
from agentcat.messenger.store import ConversationStore, Pending, interrupted
from agentcat.messenger.tools import Tool
from agentcat.streaming import StreamingAgent
from agentcat.transducers import Transducer, map_deltas, transducer

__all__ = ["MessengerAgent", "conversation_prompt", "text_messenger"]


def conversation_prompt(conversation: Conversation) -> str:
    """The conversation as one prompt, for a model of text: each visible message on its own
    line, said by its role."""
    return "\n".join(f"{m.role}: {m.content}" for m in conversation.visible())


def text_messenger(model: StreamingAgent[str, str]) -> StreamingAgent[Conversation, Reply]:
    """A messenger made of a model of text: the conversation as a prompt, then the model, its
    text deltas as replies. It is a composition like any other:
    ``agent(conversation_prompt) >> model >> map_deltas(as_reply)``."""
    prompt = agent(conversation_prompt)
    return prompt >> model >> map_deltas(as_reply)


class MessengerAgent(StreamingAgent[str | Message, Reply]):
    """A chat session: the conversation so far, the messenger that answers it, and the tools
    the messenger may call.

    ``MessengerAgent(messenger)`` starts a new conversation; ``conversation=`` goes on with
    one (reopened from a store, say). ``tools=`` are offered to the model (the conversation
    holds their specs) and run when it calls them; ``max_rounds`` bounds the rounds of tool
    calls run in one turn (a model that asks for more gets its calls answered as errors).
    ``store=`` keeps every message as it is added, and each reply as it streams.

    Two ways to talk: ``async for chunk in session.invoke(message)`` streams the turn's
    replies as one reply, and ``await session.stream(message)`` is that reply whole (as for
    every streaming agent, ``await session.invoke(message)`` is the stream, which runs only
    when it is read); :meth:`send` and :meth:`receive` give each message of the turn (replies
    and tool results) as its own :class:`MessagePromise`.

    In the turn's stream, each reply's text begins a new paragraph (``"\n\n"`` is added
    between two replies' text when the first does not end in white space).

    A session has one turn at a time. A turn left early (``break`` or an exception in
    ``async with``, a cancellation) is settled at once: its producer stops, what the reply had
    said is added marked ``interrupted`` (and kept), and tool calls it made are answered as
    errors; a turn whose stream was dropped unread is settled so when the next turn begins.

    Raises:
        TypeError: ``messenger`` is not a streaming agent, ``conversation`` not a
            :class:`Conversation`, or an item of ``tools`` not a :class:`agentcat.Tool`.
        ValueError: ``max_rounds`` is less than 0, or two tools have one name.
    """

    def __init__(
        self,
        messenger: StreamingAgent[Conversation, Reply],
        *,
        conversation: Conversation | None = None,
        tools: Iterable[Tool] = (),
        store: ConversationStore | None = None,
        max_rounds: int = 8,
    ) -> None:
        if not isinstance(messenger, StreamingAgent):
            raise TypeError(
                f"a MessengerAgent answers with a streaming agent from a Conversation to a "
                f"Reply, not {messenger!r}"
            )
        if conversation is not None and not isinstance(conversation, Conversation):
            raise TypeError(f"conversation= takes a Conversation, not {conversation!r}")
        if not isinstance(max_rounds, int) or max_rounds < 0:
            raise ValueError(f"max_rounds is an int of 0 or more, not {max_rounds!r}")
        offered = tuple(tools)
        for item in offered:
            if not isinstance(item, Tool):
                raise TypeError(f"tools= takes tools (agentcat.tool(an_agent)), not {item!r}")
        self.messenger = messenger
        self.max_rounds = max_rounds
        self._tools = {item.name: item for item in offered}
        started = conversation if conversation is not None else Conversation()
        # The model is offered what the session can run: a reopened conversation's tools are
        # replaced by these (none, if none are given).
        self._conversation = started.offering(item.spec for item in offered)
        self._store = store
        self._outbox: list[Message] = []
        self._watch: _Watch | None = None
        self._current: AsyncGenerator[MessagePromise, None] | None = None  # the latest turn
        self._turn_task: int | None = None  # the task in the middle of a turn, if one is

    def __repr__(self) -> str:
        return f"MessengerAgent({self.messenger!r}, {len(self._conversation)} messages)"

    @property
    def name(self) -> str:
        return f"MessengerAgent({self.messenger.name})"

    def describe(self) -> Node:
        """A model stage (in a pipeline, a session is where the model answers)."""
        return Node("model", self.name)

    @property
    def runs_tasks(self) -> bool:
        return self.messenger.runs_tasks

    @property
    def conversation(self) -> Conversation:
        """The conversation so far: every message answered, every reply complete."""
        return self._conversation

    @property
    def metrics(self) -> StreamingMetrics | None:
        """How the latest turn went, or is going (live, while it streams): time to its first
        token, its time so far, and the tokens its replies reported; ``None`` before the
        first turn."""
        return None if self._watch is None else self._watch.metrics()

    @property
    def tools(self) -> tuple[Tool, ...]:
        """The tools the model may call."""
        return tuple(self._tools.values())

    def send(self, content: str | Message) -> Message:
        """The user's message (a ``Message`` as it is, text as a ``user`` message), at once:
        it is added to the conversation, and kept in the store, when :meth:`receive` answers
        it, in the order sent.

        Raises:
            TypeError: ``content`` is neither text nor a message.
        """
        message = _message(content)
        self._outbox.append(message)
        return message

    def receive(self) -> MessageSequencePromise:
        """The turns that answer the messages sent so far, in order: for each, its replies and
        tool results, each streaming as it comes and added to the conversation once complete,
        before the next is asked for. ``await`` it for the messages whole. A message leaves
        the outbox when its turn begins: if the sequence is left early, the messages not yet
        answered wait for the next ``receive``.

        Raises (when read):
            ToolRoundsError: a turn's model was still calling tools after ``max_rounds``.
            RuntimeError: another task is in the middle of a turn of this session.
        """
        return MessageSequencePromise(self._turns(len(self._outbox)))

    def retry(self) -> MessageSequencePromise:
        """A new turn in the place of the reply that was cut short, the conversation's last
        message: its first reply ``supersedes`` the cut one, which the model no longer sees
        (:meth:`Conversation.visible`), while the conversation and the store keep both.

        Raises:
            ValueError: the last message is not a reply cut short (marked ``interrupted``).
            RuntimeError: (when read) another task is in the middle of a turn of this session.
        """
        last = self._conversation.last_message
        if last is None or not last.metadata.get("interrupted"):
            raise ValueError(
                "retry() answers again in the place of a reply cut short, and the last "
                f"message is not one (it is {last!r})"
            )
        return MessageSequencePromise(self._turn(None, supersedes=last.id))

    def open(self, value: str | Message, /) -> AsyncIterator[Reply]:
        """The turn that answers ``value``: the deltas of each reply in it, in order (the
        tool results are in :attr:`conversation`).

        Raises:
            TypeError: ``value`` is neither text nor a message.
            ToolRoundsError: (when read) the model was still calling tools after
                ``max_rounds``.
            RuntimeError: (when read) another task is in the middle of a turn of this session.
        """
        return self._said(self._turn(_message(value)))

    async def _said(self, turn: AsyncGenerator[MessagePromise, None]) -> AsyncIterator[Reply]:
        """What the assistant says in ``turn``: the deltas of its replies."""
        last: Text | None = None  # the text said last, to part the next reply from it
        async with aclosing(turn):
            async for promise in turn:
                stream = promise._of
                if stream is None:  # tool results: not said by the assistant
                    continue
                host = HOST.get()
                if host is not None:
                    stream._host(host)  # a messenger that runs tasks runs them in our scope
                parted = last is None or last.text[-1:].isspace()
                async for chunk in stream.replay():
                    delta = chunk.delta
                    if not delta:
                        continue
                    if not parted and last is not None and delta.text:
                        yield Reply((Text(last.key, "\n\n"),))  # a reply per paragraph
                        parted = True
                    yield delta
                said = stream.accumulated.fragments  # (the reply, whole)
                last = next((f for f in reversed(said) if type(f) is Text and f.text), last)

    async def _turns(self, count: int) -> AsyncIterator[MessagePromise]:
        for _ in range(count):
            if not self._outbox:  # answered by another `receive` meanwhile
                return
            async with aclosing(self._turn(None, sent=True)) as turn:
                async for promise in turn:
                    yield promise

    def _turn(
        self, message: Message | None, supersedes: str | None = None, *, sent: bool = False
    ) -> AsyncGenerator[MessagePromise, None]:
        """The rounds that answer ``message`` (the next in the outbox if ``sent``; or, of a
        retry, the message before the reply that ``supersedes`` names): each reply, and the
        results of the tools it calls."""
        itself: list[AsyncGenerator[MessagePromise, None]] = []
        turn = self._rounds(message, supersedes, sent, itself)
        itself.append(turn)  # (so that it can take the session's turn when it begins)
        return turn

    async def _rounds(
        self,
        message: Message | None,
        supersedes: str | None,
        sent: bool,
        itself: list[AsyncGenerator[MessagePromise, None]],
    ) -> AsyncGenerator[MessagePromise, None]:
        await self._begin_turn(itself[0])
        watch = self._watch = _Watch()
        answered = False  # the turn came to its end (not cut by a failure or its reader)
        try:
            if sent:
                message = self._outbox.pop(0)
            if message is not None:
                await self._add(message)
            for round in range(self.max_rounds + 1):
                promise, pending = await self._reply(watch, supersedes if round == 0 else None)
                try:
                    yield promise
                except BaseException:  # the turn is left, by its reader, or cancelled
                    with anyio.move_on_after(_SETTLING, shield=True):
                        reply = await self._left(promise, pending)
                        if reply is not None and reply.tool_calls:
                            await self._answered(reply.tool_calls, "the turn was left first")
                    raise
                reply = await self._settled(promise, pending)
                if not reply.tool_calls:
                    answered = True
                    return
                if round == self.max_rounds:
                    await self._answered(
                        reply.tool_calls, f"the limit of {self.max_rounds} rounds was reached"
                    )
                    raise ToolRoundsError(
                        f"the model was still calling tools after {self.max_rounds} rounds of "
                        f"them (max_rounds={self.max_rounds}); its last calls were answered as "
                        "errors that say so",
                        rounds=self.max_rounds,
                    )
                try:
                    results = await gather([partial(self._run, c) for c in reply.tool_calls])
                except BaseException:  # cancelled while the tools ran: each call is answered
                    with anyio.move_on_after(_SETTLING, shield=True):
                        await self._answered(reply.tool_calls, "the turn was cancelled")
                    raise
                yield MessagePromise.resolved(await self._add_results(results))
        finally:
            watch.end(cut=not answered)
            self._turn_task = None

    async def _begin_turn(self, turn: AsyncGenerator[MessagePromise, None]) -> None:
        """Take the session's one turn: settle the previous turn if this task left it
        unfinished (its stream dropped, say).

        Raises:
            RuntimeError: another task is in the middle of a turn.
        """
        task = anyio.get_current_task().id
        if self._turn_task is not None and self._turn_task != task:
            raise RuntimeError(
                "a MessengerAgent answers one turn at a time, and another task is in the "
                "middle of one: read it to its end (or leave its `async with`) first"
            )
        previous, self._current = self._current, turn
        if previous is not None:
            await previous.aclose()  # (nothing to do if it has ended)
        self._turn_task = task

    async def _reply(
        self, watch: _Watch, supersedes: str | None
    ) -> tuple[MessagePromise, Pending | None]:
        """The promise of the next reply, watched as it streams, and its place in the store,
        where it is begun."""
        conversation = self._conversation
        said = {} if supersedes is None else {"supersedes": supersedes}
        stamp = Message("", "assistant", metadata=said)
        pending = None if self._store is None else await self._store.begin(conversation, stamp)
        watched = self.messenger >> watch.stage(pending, stamp)
        return MessagePromise._stamped(watched.stream(conversation), stamp), pending

    async def _settled(self, promise: MessagePromise, pending: Pending | None) -> Message:
        """The whole reply, added to the conversation and finished in the store; or, if it
        fails, what it had said added marked ``interrupted`` and kept (even when cancelled),
        and the failure raised."""
        try:
            reply = await promise
        except BaseException:
            partial = interrupted(promise.draft)
            self._conversation = self._conversation.append(partial)
            if pending is not None:
                with anyio.move_on_after(_SETTLING, shield=True):
                    await pending.update(partial)
            raise
        self._conversation = self._conversation.append(reply)
        if pending is not None:
            await pending.finish(reply)
        return reply

    async def _left(self, promise: MessagePromise, pending: Pending | None) -> Message | None:
        """Settle a reply whose turn is left while it may still stream: the reply whole, if it
        has come whole (and is given back); else its producer stopped, and what it had said
        added and kept, marked ``interrupted``."""
        if promise._finished and promise._error is None:
            return await self._settled(promise, pending)
        await promise.aclose()
        if promise._of is not None:
            await promise._of.aclose()  # the producer stops, for every reader
        partial = interrupted(promise.draft)
        self._conversation = self._conversation.append(partial)
        if pending is not None:
            await pending.update(partial)
        return None

    async def _answered(self, calls: Iterable[ToolCallPart], why: str) -> None:
        """Answer ``calls`` without running them, each with a result marked as an error that
        says ``why``: a provider refuses a conversation with a call left unanswered."""
        await self._add_results(
            [ToolResultPart(c.id, f"not run: {why}", is_error=True) for c in calls]
        )

    async def _add_results(self, results: Iterable[ToolResultPart]) -> Message:
        parts = tuple(results)
        message = Message("\n".join(part.content for part in parts), "tool", parts=parts)
        await self._add(message)
        return message

    async def _run(self, call: ToolCallPart) -> ToolResultPart:
        found = self._tools.get(call.name)
        if found is None:
            offered = ", ".join(self._tools) or "none"
            return ToolResultPart(
                call.id, f"no tool is named {call.name!r} (offered: {offered})", is_error=True
            )
        return await found.run(call)

    async def _add(self, message: Message) -> None:
        self._conversation = self._conversation.append(message)
        if self._store is not None:
            await self._store.append(self._conversation, message)


def _message(content: object) -> Message:
    if isinstance(content, str):
        return Message(content, "user")
    if isinstance(content, Message):
        return content
    raise TypeError(f"a MessengerAgent is sent text or a Message, not {content!r}")


_SENTENCE_ENDS = (".", "!", "?", "\n")

_SETTLING = 10.0
"""Seconds that settling a turn left early (stopping the reply, keeping what it said) may take
shielded from the cancellation that left it."""


class _Watch:
    """What a session sees of one turn as its replies pass: the metrics of the turn so far
    (times from its start, tokens summed over its replies), and the reply so far, kept in the
    store at the end of each sentence (and every 32 deltas), so that a process that dies
    mid-reply leaves what it had said."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.tally = _Tally()

    def now_ms(self) -> float:
        return (time.perf_counter() - self.start) * 1000

    def metrics(self) -> StreamingMetrics:
        return self.tally.metrics(None if self.tally.complete else self.now_ms())

    def end(self, *, cut: bool) -> None:
        if not self.tally.complete:
            self.tally.count(self.now_ms(), True, "")
            self.tally.cut = cut

    def stage(self, pending: Pending | None, stamp: Message) -> Transducer[Reply, Reply]:
        """The stage a reply passes through: each delta on at once, then counted and kept."""

        @transducer
        async def watched(deltas: AsyncIterator[Reply]) -> AsyncIterator[Reply]:
            so_far: list[Reply] = []
            async for delta in deltas:
                self.tally.count(self.now_ms(), False, delta)  # as it comes, not once read
                yield delta
                if pending is None:
                    continue
                so_far.append(delta)
                if delta.text.endswith(_SENTENCE_ENDS) or len(so_far) % 32 == 0:
                    partial = REPLY.concat(so_far)
                    await pending.update(
                        Message.of_reply(partial, id=stamp.id, timestamp=stamp.timestamp)
                    )

        return watched
