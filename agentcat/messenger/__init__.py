"""The messenger layer: messages and their promises, on the one stream of chunks.

- :class:`Message` (:mod:`agentcat.messenger.message`): one immutable chat message;
- :class:`MessagePromise`, :class:`MessageSequencePromise`
  (:mod:`agentcat.messenger.promises`): a message whose text is still streaming, and an ordered
  stream of them;
- :class:`Reply` (:mod:`agentcat.messenger.reply`): a streamed assistant reply, text, thinking,
  tool calls, usage and stop reason, whose deltas :data:`REPLY` adds up.
"""

from agentcat.messenger.message import Message
from agentcat.messenger.promises import MessagePromise, MessageSequencePromise
from agentcat.messenger.reply import (
    REPLY,
    Fragment,
    Reply,
    Text,
    Thinking,
    ToolCall,
    ToolCallPart,
    Usage,
    as_reply,
    text_of,
)

__all__ = [
    "REPLY",
    "Fragment",
    "Message",
    "MessagePromise",
    "MessageSequencePromise",
    "Reply",
    "Text",
    "Thinking",
    "ToolCall",
    "ToolCallPart",
    "Usage",
    "as_reply",
    "text_of",
]
