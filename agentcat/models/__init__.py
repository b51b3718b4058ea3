"""Models inside the core: :class:`EmbeddedModel`, the deterministic offline model that the
demo, the notebooks and the tests stream from. Adapters of real providers live in the
``agentcat-adapters`` workspace member."""

from agentcat.models.embedded import EmbeddedModel

__all__ = ["EmbeddedModel"]
