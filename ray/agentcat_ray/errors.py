"""The errors agentcat-ray adds to agentcat's own (:mod:`agentcat.errors`)."""

from __future__ import annotations

from agentcat import AgentcatError

__all__ = ["RayNotStartedError", "RemoteError"]


class RayNotStartedError(AgentcatError, RuntimeError):
    """A remote stage was run before ``ray.init()``. agentcat never starts Ray itself: a
    cluster started on the side takes every core and several seconds, and which cluster to
    join is the caller's choice."""


class RemoteError(AgentcatError):
    """A remote agent's failure, or output, that cannot cross to the driver as itself (it
    cannot be pickled): the message names the agent and gives the original's type, text and
    remote traceback."""
