"""The messenger layer: messages and their promises, on the one stream of chunks.

- :class:`Message` (:mod:`agentcat.messenger.message`): one immutable chat message;
- :class:`MessagePromise`, :class:`MessageSequencePromise`
  (:mod:`agentcat.messenger.promises`): a message whose text is still streaming, and an ordered
  stream of them.
"""

from agentcat.messenger.message import Message
from agentcat.messenger.promises import MessagePromise, MessageSequencePromise

__all__ = ["Message", "MessagePromise", "MessageSequencePromise"]
