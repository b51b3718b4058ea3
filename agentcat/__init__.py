"""agentcat: LLM agents as typed morphisms, composed lawfully, streaming all the way through."""

from agentcat.agent import Agent, FunctionAgent, Id, Identity, agent
from agentcat.compose import Pipeline
from agentcat.products import FanOut, Parallel
from agentcat.resilience import Backoff, Fallback, Retry
from agentcat.results import Fallible, FallibleSequence, fail
from agentcat.structure import Node

__all__ = [
    "Agent",
    "Backoff",
    "Fallback",
    "Fallible",
    "FallibleSequence",
    "FanOut",
    "FunctionAgent",
    "Id",
    "Identity",
    "Node",
    "Parallel",
    "Pipeline",
    "Retry",
    "agent",
    "fail",
]
