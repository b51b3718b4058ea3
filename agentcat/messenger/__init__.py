"""The messenger layer: messages and their promises, on the one stream of chunks.

- :class:`Message` (:mod:`agentcat.messenger.message`): one immutable chat message, with its
  parts (text, thinking, tool calls and results) and its exact JSON form;
- :class:`Conversation` (:mod:`agentcat.messenger.conversation`): the messages of one chat and
  the tools (:class:`ToolSpec`) its model is offered, as an immutable value;
- :class:`Meter` and :class:`StreamingMetrics` (:mod:`agentcat.messenger.metrics`): a stream
  read as timed :class:`MessageChunk` values, and how fast it came;
- :class:`MessagePromise`, :class:`MessageSequencePromise`
  (:mod:`agentcat.messenger.promises`): a message whose text is still streaming, and an ordered
  stream of them;
- :class:`ConversationStore` and :class:`SQLiteStore` (:mod:`agentcat.messenger.store`): where
  conversations are kept, whole messages, a reply cut short marked as interrupted;
- :class:`MessengerAgent` (:mod:`agentcat.messenger.session`): a chat session over a
  messenger (a ``StreamingAgent[Conversation, Reply]``), which runs the tools its replies call;
  :func:`text_messenger` makes a messenger of a model of text;
- :func:`tool` (:mod:`agentcat.messenger.tools`): an agent as a tool a model can call, its JSON
  schema from its input annotation;
- :class:`Reply` (:mod:`agentcat.messenger.reply`): a streamed assistant reply, text, thinking,
  tool calls, usage and stop reason, whose deltas :data:`REPLY` adds up.
"""

from agentcat.messenger.conversation import Conversation, ToolSpec
from agentcat.messenger.message import Message
from agentcat.messenger.metrics import MessageChunk, Meter, StreamingMetrics, with_errors
from agentcat.messenger.promises import MessagePromise, MessageSequencePromise
from agentcat.messenger.reply import (
    REPLY,
    Fragment,
    Part,
    Reply,
    Text,
    TextPart,
    Thinking,
    ThinkingPart,
    ToolCall,
    ToolCallPart,
    ToolResultPart,
    Usage,
    as_reply,
    text_of,
)
from agentcat.messenger.session import MessengerAgent, text_messenger
from agentcat.messenger.store import ConversationStore, Pending, SQLiteStore
from agentcat.messenger.tools import Tool, json_schema, tool

__all__ = [
    "REPLY",
    "Conversation",
    "ConversationStore",
    "Fragment",
    "Message",
    "MessageChunk",
    "MessagePromise",
    "MessageSequencePromise",
    "MessengerAgent",
    "Meter",
    "Part",
    "Pending",
    "Reply",
    "SQLiteStore",
    "Text",
    "TextPart",
    "Thinking",
    "ThinkingPart",
    "Tool",
    "ToolCall",
    "ToolCallPart",
    "ToolResultPart",
    "ToolSpec",
    "StreamingMetrics",
    "Usage",
    "as_reply",
    "json_schema",
    "text_messenger",
    "text_of",
    "tool",
    "with_errors",
]
