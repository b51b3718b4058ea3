"""agentcat: LLM agents as typed morphisms, composed lawfully, streaming all the way through."""

from agentcat.agent import Agent, FunctionAgent, Id, Identity, agent
from agentcat.chunk import Chunk
from agentcat.compose import Pipeline
from agentcat.monoid import (
    BYTES,
    DICT,
    INFERRED,
    LAST,
    LIST,
    STR,
    TUPLE,
    Monoid,
    MonoidError,
    ProductMonoid,
)
from agentcat.products import FanOut, Parallel
from agentcat.promise import StreamClosedError, StreamedPromise
from agentcat.resilience import Backoff, Fallback, Retry
from agentcat.results import Fallible, FallibleSequence, fail
from agentcat.stream import ChunkStream
from agentcat.streaming import (
    Lifted,
    StreamingAgent,
    StreamingFunctor,
    StreamingPipeline,
    lift,
    streaming,
)
from agentcat.streaming_products import StreamingFanOut, StreamingParallel
from agentcat.streaming_resilience import StreamingError, StreamingFallback, StreamingRetry
from agentcat.structure import Node
from agentcat.transducers import (
    MapDeltas,
    Transducer,
    filter_deltas,
    forward,
    map_deltas,
    split_sentences,
    transducer,
)

__all__ = [
    "BYTES",
    "DICT",
    "INFERRED",
    "LAST",
    "LIST",
    "STR",
    "TUPLE",
    "Agent",
    "Backoff",
    "Chunk",
    "ChunkStream",
    "Fallback",
    "Fallible",
    "FallibleSequence",
    "FanOut",
    "FunctionAgent",
    "Id",
    "Identity",
    "Lifted",
    "MapDeltas",
    "Monoid",
    "MonoidError",
    "Node",
    "Parallel",
    "Pipeline",
    "ProductMonoid",
    "Retry",
    "StreamClosedError",
    "StreamedPromise",
    "StreamingAgent",
    "StreamingError",
    "StreamingFallback",
    "StreamingFanOut",
    "StreamingFunctor",
    "StreamingParallel",
    "StreamingPipeline",
    "StreamingRetry",
    "Transducer",
    "agent",
    "fail",
    "filter_deltas",
    "forward",
    "lift",
    "map_deltas",
    "split_sentences",
    "streaming",
    "transducer",
]
