"""agentcat: LLM agents as typed morphisms, composed lawfully, streaming all the way through.

This file is the map: every name a user writes is here. The package has three layers, each
importing only from the ones below it:

- the data plane: :mod:`agentcat.errors`, :mod:`agentcat.monoids` (how deltas add up) and
  :mod:`agentcat.chunks` (``Chunk`` and ``ChunkStream``, the one stream), with their private
  plumbing (``_promise``, ``_runtime``, ``_annotations``, ``_structure``, ``_meta``). It knows
  nothing of agents;
- the algebra: :mod:`agentcat.agent` (``Agent`` and its operators), :mod:`agentcat.streaming`
  (the lifted view and the base of combinators), and one module per combinator, each serving
  plain and streaming agents alike: :mod:`agentcat.sequence` (``>>``), :mod:`agentcat.products`
  (``&``, ``*``), :mod:`agentcat.resilience` (fallback, retry), :mod:`agentcat.fallible` (errors as
  values), :mod:`agentcat.transducers`;
- on top: :mod:`agentcat.messenger` (messages, the streamed ``Reply`` with its tool calls,
  conversations, tools, the ``MessengerAgent`` session, metrics and the store) and
  :mod:`agentcat.models` (the embedded model, a messenger), and :mod:`agentcat.live` (``show``,
  a stream watched as it arrives, live in a notebook);
  the ``agentcat`` command lives in the private ``_cli``.

Imported inside a Jupyter kernel, agentcat registers its notebook hints (``_kernel``): a cell
that pastes a script's ``anyio.run(main)`` is told to write ``await main()``.

The classes the operators build (``Pipeline``, ``Retry``, ``Lifted``...) stay in their modules,
for ``isinstance`` and annotations, and cannot be called directly; the root has those that
annotations name often (``FanOut``, ``StreamingFanOut``, ``Fallible``).
"""

from agentcat import errors, monoids
from agentcat._kernel import install_hints
from agentcat._promise import StreamedPromise
from agentcat._structure import Node
from agentcat.agent import Agent, Id, agent
from agentcat.chunks import Chunk, ChunkStream
from agentcat.errors import (
    AgentcatError,
    CompositionError,
    ConnectionLostError,
    MonoidError,
    OverloadedError,
    ProviderError,
    RateLimitedError,
    StreamClosedError,
    StreamingError,
    StreamScopeError,
    ToolArgumentsError,
    ToolRoundsError,
)
from agentcat.fallible import Fallible, fail
from agentcat.live import show
from agentcat.messenger import (
    REPLY,
    Conversation,
    ConversationStore,
    Message,
    MessageChunk,
    MessagePromise,
    MessageSequencePromise,
    MessengerAgent,
    Meter,
    Reply,
    SQLiteStore,
    StreamingMetrics,
    Text,
    Thinking,
    ToolCall,
    ToolCallPart,
    ToolResultPart,
    ToolSpec,
    Usage,
    as_reply,
    text_messenger,
    text_of,
    tool,
    with_errors,
)
from agentcat.models import EmbeddedModel
from agentcat.monoids import BYTES, DICT, LIST, STR, TUPLE, Monoid, monoid_for, monoid_of
from agentcat.products import FanOut, StreamingFanOut
from agentcat.resilience import Backoff
from agentcat.streaming import StreamingAgent, StreamingFunctor, lift, streaming
from agentcat.transducers import (
    Transducer,
    filter_deltas,
    forward,
    map_deltas,
    split_sentences,
    transducer,
)

__all__ = [
    # Agents and their operators: >>, &, *, with_fallback, with_retry, as_result are methods.
    "Agent",
    "agent",
    "Id",
    "FanOut",
    "Fallible",
    "fail",
    "Backoff",
    # Streaming and transducers.
    "StreamingAgent",
    "StreamingFanOut",
    "StreamingFunctor",
    "lift",
    "streaming",
    "Transducer",
    "transducer",
    "map_deltas",
    "filter_deltas",
    "forward",
    "split_sentences",
    # Chunks, streams and monoids (the rest of the monoids are in agentcat.monoids).
    "Chunk",
    "ChunkStream",
    "StreamedPromise",
    "show",
    "Monoid",
    "monoid_for",
    "monoid_of",
    "STR",
    "BYTES",
    "LIST",
    "TUPLE",
    "DICT",
    "monoids",
    # Messages.
    "Message",
    "MessagePromise",
    "MessageSequencePromise",
    "MessengerAgent",
    "text_messenger",
    "tool",
    "Conversation",
    "ConversationStore",
    "SQLiteStore",
    "MessageChunk",
    "Meter",
    "StreamingMetrics",
    "Reply",
    "Text",
    "Thinking",
    "ToolCall",
    "ToolCallPart",
    "ToolResultPart",
    "ToolSpec",
    "Usage",
    "REPLY",
    "text_of",
    "as_reply",
    "with_errors",
    # Errors (all in agentcat.errors).
    "AgentcatError",
    "CompositionError",
    "MonoidError",
    "ProviderError",
    "RateLimitedError",
    "OverloadedError",
    "ConnectionLostError",
    "StreamClosedError",
    "StreamScopeError",
    "StreamingError",
    "ToolArgumentsError",
    "ToolRoundsError",
    "errors",
    # Structure, for drawing: what agent.describe() returns.
    "Node",
    # The embedded model: offline, deterministic, the default model everywhere.
    "EmbeddedModel",
]

install_hints()
