"""agentcat-ray: a stage, or a whole pipeline, on a Ray cluster, with its token stream, its
cancellation, its errors and its laws intact.

``on_ray(agent)`` gives back an agent of the same kind that runs in a Ray actor: compose it with
``>>``, ``&`` and ``*`` like any other. ``ray.init()`` stays the caller's::

    import ray
    from agentcat_ray import on_ray

    ray.init(num_cpus=2)
    summarize = on_ray(model >> lower >> split_sentences, num_cpus=1)
    pipeline = agent(str.strip) >> summarize >> map_deltas(str.upper)
"""

from __future__ import annotations

from typing import Any, TypeVar, overload

from agentcat import Agent, CompositionError, Fallible, StreamingAgent
from agentcat._meta import create
from agentcat.fallible import FallibleStream
from agentcat_ray._stage import Actor, RemoteAgent, RemoteStage
from agentcat_ray.errors import RayNotStartedError, RemoteError

__all__ = ["RayNotStartedError", "RemoteAgent", "RemoteError", "RemoteStage", "on_ray"]

X = TypeVar("X")
Y = TypeVar("Y")


@overload
def on_ray(
    agent: StreamingAgent[X, Y], /, *, max_batch: int = 64, **options: Any
) -> StreamingAgent[X, Y]: ...
@overload
def on_ray(agent: Agent[X, Y], /, *, max_batch: int = 64, **options: Any) -> Agent[X, Y]: ...
def on_ray(agent: Agent[Any, Any], /, *, max_batch: int = 64, **options: Any) -> Agent[Any, Any]:
    """``agent``, run in a Ray actor of its own, as an agent of the same kind.

    A plain agent stays plain: each ``invoke`` is one remote call. A streaming stage streams
    from the actor: a whole-input one (a model, a streaming pipeline) on its whole input, a
    transducer fed delta by delta, exactly lock-step with its upstream. ``repr`` writes
    ``on_ray(...)`` around the agent, and ``>>`` checks types as before.

    The actor starts at the stage's first call, in the cluster ``ray.init()`` joined, and
    serves every call and stream of the stage, concurrently; it stops when the stage is
    collected. ``options`` are Ray's actor options (``num_cpus``, ``num_gpus``,
    ``max_restarts``, ``runtime_env``...). A remote producer runs ahead of its reader by at
    most ``2 * max_batch + 1`` deltas (deltas waiting while the reader is behind travel
    together, up to ``max_batch`` in one Ray object, which costs about half a millisecond;
    at LLM token rates every delta travels alone, at once). Locally, nothing runs ahead.

    Raises:
        CompositionError: ``agent`` is not an agent, is fallible (put ``as_result`` outside:
            ``on_ray(agent).as_result(...)``), or cannot be pickled; ``max_batch`` is not a
            positive int; or Ray refuses ``options``.
    """
    if isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1:
        raise CompositionError(f"on_ray(max_batch={max_batch!r}): give a positive int")
    if isinstance(agent, Fallible | FallibleStream):
        raise CompositionError(
            f"on_ray({agent!r}): a fallible agent's errors are values made on the driver; "
            "put the remote part inside: on_ray(agent).as_result(...)"
        )
    if not isinstance(agent, Agent):
        raise CompositionError(
            f"on_ray() takes an agent, not {agent!r}: decorate functions with @agent"
        )
    if isinstance(agent, RemoteAgent | RemoteStage):
        raise CompositionError(f"on_ray({agent!r}): the agent runs on Ray already")
    actor = Actor(agent, options)
    if isinstance(agent, StreamingAgent):
        return create(RemoteStage, agent, actor, max_batch)
    return create(RemoteAgent, agent, actor)
