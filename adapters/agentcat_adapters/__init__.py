"""agentcat-adapters: messengers of real LLM backends, each on its provider's official SDK.

Each messenger is a streaming agent from a :class:`agentcat.Conversation` to
:class:`agentcat.Reply` deltas, so ``>>``, fan-out, ``with_retry``, ``with_fallback`` and the
laws apply to it as to any agent. Importing this package imports no SDK: a messenger's SDK is
imported when its class is first named, and a missing one says which extra to install.

- :class:`ClaudeMessenger` (:mod:`agentcat_adapters.claude`): Anthropic, ``anthropic`` SDK;
- :class:`GeminiMessenger` (:mod:`agentcat_adapters.gemini`): Google's Gemini API,
  ``google-genai`` SDK;
- :class:`OpenAIMessenger` (:mod:`agentcat_adapters.openai`): OpenAI's Chat Completions, and
  servers that speak it, ``openai`` SDK;
- :class:`OllamaMessenger` (:mod:`agentcat_adapters.ollama`): a local Ollama server, ``ollama``
  SDK;
- :class:`WebSocketMessenger` (:mod:`agentcat_adapters.websocket`): a model behind a WebSocket,
  on agentcat's JSON frame protocol, ``websockets`` library; :func:`serve_messenger` puts any
  messenger behind one;
- :mod:`agentcat_adapters.testing`: loopback servers that speak each provider's wire format,
  for testing pipelines offline through the real SDKs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentcat_adapters.claude import ClaudeMessenger
    from agentcat_adapters.gemini import GeminiMessenger
    from agentcat_adapters.ollama import OllamaMessenger
    from agentcat_adapters.openai import OpenAIMessenger
    from agentcat_adapters.websocket import WebSocketMessenger, serve_messenger

__all__ = [
    "ClaudeMessenger",
    "GeminiMessenger",
    "OllamaMessenger",
    "OpenAIMessenger",
    "WebSocketMessenger",
    "serve_messenger",
]

_HOMES = {
    "ClaudeMessenger": "agentcat_adapters.claude",
    "GeminiMessenger": "agentcat_adapters.gemini",
    "OllamaMessenger": "agentcat_adapters.ollama",
    "OpenAIMessenger": "agentcat_adapters.openai",
    "WebSocketMessenger": "agentcat_adapters.websocket",
    "serve_messenger": "agentcat_adapters.websocket",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'agentcat_adapters' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
