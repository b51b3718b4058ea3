"""`MessengerAgent`: a chat session over a messenger, a streaming agent from the conversation
so far to the reply (``StreamingAgent[Conversation, Reply]``).

Providers are stateless, so a messenger is given the whole conversation each turn; the session
holds it, one immutable value after another: :meth:`MessengerAgent.send` adds the user's
message, :meth:`MessengerAgent.receive` streams the replies, each added once complete, so the
next turn sees it. With a store, every message is kept as it is added, and a reply as it
streams (see :mod:`agentcat.messenger.store`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio

from agentcat.agent import agent
from agentcat.messenger.conversation import Conversation
from agentcat.messenger.message import Message
from agentcat.messenger.promises import MessagePromise, MessageSequencePromise
from agentcat.messenger.reply import Reply, as_reply
from agentcat.messenger.store import ConversationStore
from agentcat.streaming import StreamingAgent
from agentcat.transducers import map_deltas

__all__ = ["MessengerAgent", "conversation_prompt", "text_messenger"]


def conversation_prompt(conversation: Conversation) -> str:
    """The conversation as one prompt, for a model of text: each visible message on its own
    line, said by its role."""
    return "\n".join(f"{m.role}: {m.content}" for m in conversation.visible())


def text_messenger(model: StreamingAgent[str, str]) -> StreamingAgent[Conversation, Reply]:
    """A messenger made of a model of text (the embedded model, say): the conversation as a
    prompt, then the model, its text deltas as replies. It is a composition like any other:
    ``agent(conversation_prompt) >> model >> map_deltas(as_reply)``."""
    prompt = agent(conversation_prompt)
    return prompt >> model >> map_deltas(as_reply)


class MessengerAgent:
    """A chat session: the conversation so far, and the messenger that answers it.

    ``MessengerAgent(messenger)`` starts a new conversation; ``conversation=`` goes on with
    one (reopened from a store, say). ``store=`` keeps every message as it is added, and
    each reply as it streams, so that a reply cut short is kept marked ``interrupted``.

    Raises:
        TypeError: ``messenger`` is not a streaming agent, or ``conversation`` not a
            :class:`Conversation`.
    """

    def __init__(
        self,
        messenger: StreamingAgent[Conversation, Reply],
        *,
        conversation: Conversation | None = None,
        store: ConversationStore | None = None,
    ) -> None:
        if not isinstance(messenger, StreamingAgent):
            raise TypeError(
                f"a MessengerAgent answers with a streaming agent from a Conversation to a "
                f"Reply, not {messenger!r}"
            )
        if conversation is not None and not isinstance(conversation, Conversation):
            raise TypeError(f"conversation= takes a Conversation, not {conversation!r}")
        self.messenger = messenger
        self._conversation = conversation if conversation is not None else Conversation()
        self._store = store
        self._unanswered = 0

    def __repr__(self) -> str:
        return f"MessengerAgent({self.messenger!r}, {len(self._conversation)} messages)"

    @property
    def conversation(self) -> Conversation:
        """The conversation so far: every message sent, every reply complete."""
        return self._conversation

    async def send(self, content: str | Message) -> Message:
        """Add the user's message (a ``Message`` as it is, text as a ``user`` message) to the
        conversation, and keep it in the store; it is answered by the next :meth:`receive`.

        Raises:
            TypeError: ``content`` is neither text nor a message.
        """
        if isinstance(content, str):
            message = Message(content, "user")
        elif isinstance(content, Message):
            message = content
        else:
            raise TypeError(f"send() takes text or a Message, not {content!r}")
        await self._add(message)
        self._unanswered += 1
        return message

    def receive(self) -> MessageSequencePromise:
        """The replies to the messages sent since the last ``receive``, one per message, in
        order, each streaming as it comes; each is added to the conversation once complete,
        before the next is asked for, so it sees it. ``await`` it for the replies whole."""
        count, self._unanswered = self._unanswered, 0
        return MessageSequencePromise(self._replies(count))

    async def _replies(self, count: int) -> AsyncIterator[MessagePromise]:
        for _ in range(count):
            conversation = self._conversation
            stream = self.messenger.stream(conversation)
            promise = MessagePromise(stream)
            pending = None
            if self._store is not None:
                pending = await self._store.begin(conversation, promise.draft)
            yield promise
            try:
                reply = await promise
            except BaseException:
                if pending is not None:
                    with anyio.CancelScope(shield=True):  # what came is kept, even if cancelled
                        await pending.update(promise.draft)
                raise
            self._conversation = self._conversation.append(reply)
            if pending is not None:
                await pending.finish(reply)

    async def _add(self, message: Message) -> None:
        self._conversation = self._conversation.append(message)
        if self._store is not None:
            await self._store.append(self._conversation, message)
