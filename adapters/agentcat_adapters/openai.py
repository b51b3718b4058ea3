"""`OpenAIMessenger`: OpenAI's Chat Completions API (and servers that speak it), streamed
through the ``openai`` SDK.

The SDK makes the request (``chat.completions.with_streaming_response.create(stream=True)``,
with ``stream_options={"include_usage": True}``); the server-sent events, data-only frames
ending with ``data: [DONE]``, are read here as JSON. Reasoning (``reasoning_content``, which
compatible servers such as DeepSeek's and vLLM's send) is part 0, text part 1; each tool call
is a part of its own from 2, found by its ``index`` and told apart from another at the same
index by its ``id`` (a server may give two calls one index in its first chunk). A server may
send a call's name and id once, in fragments, or again in every chunk: a repeat of what came
is not appended twice. Usage comes once, in a chunk with no choices before ``[DONE]``; the
stop reason is ``finish_reason``, said as the other providers say it (``end_turn``,
``tool_use``, ``max_tokens``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, ClassVar, final

from agentcat import Conversation, Message, Reply, Text, Thinking, ToolCall
from agentcat.errors import ConnectionLostError, ProviderError
from agentcat.messenger import ToolResultPart
from agentcat_adapters._base import (
    Decoder,
    Totals,
    WireMessenger,
    causes,
    is_transport,
    provider_error,
    seconds,
)
from agentcat_adapters._http import frames_of
from agentcat_adapters._sse import Frame

try:
    import openai
except ImportError as missing:  # pragma: no cover - the extra is installed in the suite
    raise ImportError(
        "OpenAIMessenger needs the openai SDK: pip install 'agentcat-adapters[openai]'"
    ) from missing

__all__ = ["OpenAIMessenger"]

_STOPS = {
    "stop": "end_turn",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "length": "max_tokens",
}


@final
class OpenAIMessenger(WireMessenger):
    """A messenger of OpenAI's chat models, or of any server that speaks Chat Completions.

    ``OpenAIMessenger(model, client=...)`` streams through an ``openai.AsyncOpenAI`` client
    that the caller owns (and closes); with ``base_url=`` and ``api_key=`` instead (each
    defaulting to the SDK's environment variables), the messenger makes a client for each
    stream and closes it, in the event loop that used it, when the stream ends.
    ``max_tokens`` and ``temperature`` pass through, and so does any other argument of
    ``chat.completions.create`` in ``settings``. The SDK's own retries (``max_retries``)
    happen before the first byte, all within ``start_within`` seconds (``None``: no bound).

    Raises:
        TypeError: ``client`` is given with ``base_url`` or ``api_key``, or is not an
            ``AsyncOpenAI``.
    """

    provider: ClassVar[str] = "openai"

    client_type: ClassVar[type] = openai.AsyncOpenAI

    def __init__(
        self,
        model: str,
        *,
        client: openai.AsyncOpenAI | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        max_retries: int = 2,
        start_within: float | None = 120.0,
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        given = {"max_tokens": max_tokens, "temperature": temperature, **(settings or {})}
        super().__init__(
            model,
            client=client,
            base_url=base_url,
            api_key=api_key,
            max_retries=max_retries,
            start_within=start_within,
            settings=given,
        )

    def _request(self, conversation: Conversation) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self.model,
            "messages": [m for message in conversation.visible() for m in _messages(message)],
            "stream_options": {"include_usage": True},
            **self._settings,
        }
        if conversation.tools:
            request["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": spec.name,
                        "description": spec.description,
                        "parameters": spec.input_schema(),
                    },
                }
                for spec in conversation.tools
            ]
        return request

    @asynccontextmanager
    async def _events(self, request: dict[str, Any]) -> AsyncIterator[AsyncIterator[Any]]:
        async with self._connected() as client:
            completions = client.chat.completions.with_streaming_response
            async with frames_of(completions.create(stream=True, **request)) as frames:
                yield frames

    def _decoder(self) -> Decoder:
        return _OpenAIDecoder()

    def _classify(self, error: BaseException) -> ProviderError | None:
        for cause in causes(error):
            if isinstance(cause, openai.APIStatusError):
                body = cause.body if isinstance(cause.body, dict) else {}
                inner = body.get("error")
                detail: dict[str, Any] = inner if isinstance(inner, dict) else body
                said = detail.get("message") or str(cause)
                retry_after = seconds(cause.response.headers.get("retry-after"))
                return _error(cause.status_code, detail.get("type"), said, retry_after)
            if isinstance(cause, openai.APIConnectionError) or is_transport(cause):
                return ConnectionLostError(
                    f"the connection to OpenAI was lost: {cause}", provider=self.provider
                )
        return None


def _error(
    status: int | None, kind: str | None, said: str, retry_after: float | None
) -> ProviderError:
    return provider_error(
        "openai",
        said,
        status=status,
        kind=kind,
        retry_after=retry_after,
        limiting=frozenset({"rate_limit_exceeded", "rate_limit_error"}),
        overloaded=frozenset({"server_error", "overloaded_error"}),
    )


class _OpenAIDecoder(Decoder):
    """Chat-completion chunks to deltas."""

    def __init__(self) -> None:
        self.totals = Totals()
        self.described = False  # the response's model and id given
        self.stopped = False  # a finish_reason seen
        self.done = False  # [DONE] seen
        self.keys: dict[int, int] = {}  # a tool call's index -> its part's key
        self.ids: dict[int, str] = {}  # a part's key -> the id it came with
        self.names: dict[int, str] = {}  # a part's key -> its name so far

    def feed(self, frame: Frame) -> Iterator[Reply]:
        if frame.data.strip() == "[DONE]":
            self.done = True
            return
        chunk = frame.json()
        if "error" in chunk:
            detail = chunk["error"] if isinstance(chunk["error"], dict) else {}
            said = detail.get("message") or str(chunk["error"])
            raise _error(None, detail.get("type") or detail.get("code"), said, None)
        if not self.described:
            self.described = True
            meta = {key: chunk[key] for key in ("model", "id") if chunk.get(key)}
            if meta:
                yield Reply(meta=meta)
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            thought = delta.get("reasoning_content") or delta.get("reasoning")
            if isinstance(thought, str) and thought:
                yield Reply((Thinking(0, thought),))
            if delta.get("content"):
                yield Reply((Text(1, delta["content"]),))
            for call in delta.get("tool_calls") or ():
                yield from self._call(call)
            if choice.get("finish_reason"):
                self.stopped = True
                reason = choice["finish_reason"]
                yield Reply(stop=_STOPS.get(reason, reason))
        usage = chunk.get("usage")
        if usage:
            cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
            yield Reply(
                usage=self.totals.increment(
                    input_tokens=usage.get("prompt_tokens"),
                    output_tokens=usage.get("completion_tokens"),
                    cache_read_tokens=cached,
                )
            )

    def _call(self, call: dict[str, Any]) -> Iterator[Reply]:
        index = call.get("index", 0)
        function = call.get("function") or {}
        given_id, name = call.get("id") or "", function.get("name") or ""
        key = self.keys.get(index)
        if key is None or (given_id and self.ids.get(key) not in ("", None, given_id)):
            key = self.keys[index] = 2 + len(self.ids)  # a new call (even at an index seen)
            self.ids[key], self.names[key] = "", ""
        new_id = _new(self.ids[key], given_id)
        new_name = _new(self.names[key], name)
        self.ids[key] += new_id
        self.names[key] += new_name
        arguments = function.get("arguments") or ""
        if new_id or new_name or arguments:
            yield Reply((ToolCall(key, new_id, new_name, arguments),))

    def finish(self) -> Iterator[Reply]:
        if not self.stopped:
            cut = "after [DONE]" if self.done else "before [DONE]"
            raise ConnectionLostError(
                f"OpenAI's reply ended with no finish_reason ({cut})", provider="openai"
            )
        return iter(())


def _new(so_far: str, given: str) -> str:
    """What ``given`` adds to ``so_far``: nothing if it is a repeat of it (a server that sends
    the name in every chunk), the rest if it is it grown (a running total), else all of it (a
    fragment)."""
    if not given or given == so_far:
        return ""
    if so_far and given.startswith(so_far):
        return given[len(so_far) :]
    return given


def _messages(message: Message) -> list[dict[str, Any]]:
    """``message`` as the API takes it: a tool message gives one message per result."""
    if message.role == "tool":
        return [
            {"role": "tool", "tool_call_id": part.call_id, "content": part.content}
            for part in message.parts
            if isinstance(part, ToolResultPart)
        ]
    if message.role != "assistant" or not message.tool_calls:
        return [{"role": message.role, "content": message.content}]
    calls = [
        {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments_json},
        }
        for call in message.tool_calls
    ]
    return [{"role": "assistant", "content": message.content or None, "tool_calls": calls}]
