"""Loopback servers that speak the providers' wire formats, for testing messengers through their
real SDKs without a network: :func:`loopback` (:mod:`agentcat_adapters.testing.server`), and a
module per wire format that renders replies to its bytes (:mod:`~.anthropic`, :mod:`~.gemini`,
:mod:`~.openai`, :mod:`~.ollama`, :mod:`~.websocket`); and :func:`deltas_until_failure`, to
see what a failing stream kept. Nothing here imports an SDK (:mod:`~.websocket` needs the
``websocket`` extra)."""

from agentcat_adapters.testing.server import (
    AwaitHangup,
    Drop,
    Loopback,
    Pause,
    Request,
    Reset,
    Response,
    in_turn,
    loopback,
    rechunked,
)
from agentcat_adapters.testing.streams import deltas_until_failure

__all__ = [
    "AwaitHangup",
    "Drop",
    "Loopback",
    "Pause",
    "Request",
    "Reset",
    "Response",
    "deltas_until_failure",
    "in_turn",
    "loopback",
    "rechunked",
]
