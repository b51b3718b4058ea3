"""Models inside the core: :class:`EmbeddedModel`, the deterministic offline messenger that the
demo, the notebooks and the tests talk to. Adapters of real providers live in the
``agentcat-adapters`` workspace member."""

from agentcat.models.embedded import EmbeddedModel

__all__ = ["EmbeddedModel"]
