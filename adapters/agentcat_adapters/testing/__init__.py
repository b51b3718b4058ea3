"""Loopback servers that speak the providers' wire formats, for testing messengers through their
real SDKs without a network: :func:`loopback` (:mod:`agentcat_adapters.testing.server`), and a
module per wire format that renders replies to its bytes (:mod:`~.anthropic`, :mod:`~.gemini`,
:mod:`~.openai`, :mod:`~.ollama`). Nothing here imports an SDK."""

from agentcat_adapters.testing.server import (
    AwaitHangup,
    Drop,
    Loopback,
    Pause,
    Request,
    Response,
    in_turn,
    loopback,
    rechunked,
)

__all__ = [
    "AwaitHangup",
    "Drop",
    "Loopback",
    "Pause",
    "Request",
    "Response",
    "in_turn",
    "loopback",
    "rechunked",
]
