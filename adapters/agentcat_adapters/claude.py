"""`ClaudeMessenger`: Anthropic's Messages API, streamed through the ``anthropic`` SDK.

The SDK makes the request (``messages.with_streaming_response.create(stream=True)``: its
headers, its retries before the first byte, its errors of status); the server-sent events are
read here as JSON and told apart by their ``type`` strings, and those of a type not known,
pings among them, are passed over. A block's ``index`` is its part's key; tool arguments arrive
as ``input_json_delta`` fragments (the first may be empty) and thinking as ``thinking_delta``,
then its ``signature_delta``. Usage comes as running totals, in ``message_start`` and in each
``message_delta``. An ``error`` event inside a stream that began with status 200 is told by
Claude's type of error (``overloaded_error``...), as a status would be.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, ClassVar, final

from agentcat import Conversation, Message, Reply, Text, Thinking, ToolCall
from agentcat.errors import ConnectionLostError, ProviderError
from agentcat.messenger import TextPart, ThinkingPart, ToolCallPart, ToolResultPart
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
    import anthropic
except ImportError as missing:  # pragma: no cover - the extra is installed in the suite
    raise ImportError(
        "ClaudeMessenger needs the anthropic SDK: pip install 'agentcat-adapters[anthropic]'"
    ) from missing

__all__ = ["ClaudeMessenger"]


@final
class ClaudeMessenger(WireMessenger):
    """A messenger of Anthropic's Claude models.

    ``ClaudeMessenger(model, client=...)`` streams through an ``anthropic.AsyncAnthropic``
    client that the caller owns (and closes); with ``base_url=`` and ``api_key=`` instead (each
    defaulting to the SDK's environment variables), the messenger makes a client for each
    stream and closes it, in the event loop that used it, when the stream ends. ``max_tokens``
    and ``temperature`` pass through, and so does any other argument of ``messages.create`` in
    ``settings``. The SDK's own retries (``max_retries``) happen before the first byte, all
    within ``start_within`` seconds (``None``: no bound).

    Raises:
        TypeError: ``client`` is given with ``base_url`` or ``api_key``, or is not an
            ``AsyncAnthropic``.
    """

    provider: ClassVar[str] = "claude"

    client_type: ClassVar[type] = anthropic.AsyncAnthropic
    continues: ClassVar[bool] = True  # (models up to 4.5, without extended thinking)

    def __init__(
        self,
        model: str,
        *,
        client: anthropic.AsyncAnthropic | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        max_tokens: int = 1024,
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

    def supports_continuation(self) -> bool:
        """Whether the model continues a reply sent back as the last message: not with
        extended thinking on (Anthropic allows no prefill then), nor once it has refused one
        (Claude 4.6 and later answer a prefill with a 400)."""
        enabled = (self._settings.get("thinking") or {}).get("type") == "enabled"
        return super().supports_continuation() and not enabled

    def _request(self, conversation: Conversation) -> dict[str, Any]:
        system = "\n\n".join(m.content for m in conversation.visible() if m.role == "system")
        request: dict[str, Any] = {
            "model": self.model,
            "messages": _messages(conversation),
            **self._settings,
        }
        if system:
            request["system"] = system
        if conversation.tools:
            request["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.input_schema()}
                for t in conversation.tools
            ]
        return request

    @asynccontextmanager
    async def _events(self, request: dict[str, Any]) -> AsyncIterator[AsyncIterator[Any]]:
        # The SDK makes the request (headers, retries, errors before the first byte); the
        # events are read here, as plain JSON, from a body closed on exit: the SDK's own nest of
        # generators is not closed with its stream (trio warns when they are collected), and it
        # builds an event of a type it does not know wrongly.
        async with self._connected() as client:
            calling = client.messages.with_streaming_response.create(stream=True, **request)
            async with frames_of(calling) as frames:
                yield frames

    def _decoder(self) -> Decoder:
        return _ClaudeDecoder()

    def _classify(self, error: BaseException) -> ProviderError | None:
        for cause in causes(error):
            if isinstance(cause, anthropic.APIStatusError):
                return _status_error(cause)
            if isinstance(cause, anthropic.APIConnectionError) or is_transport(cause):
                return ConnectionLostError(
                    f"the connection to Claude was lost: {cause}", provider=self.provider
                )
        return None


def _status_error(error: anthropic.APIStatusError) -> ProviderError:
    body: dict[str, Any] = error.body if isinstance(error.body, dict) else {}
    inner = body.get("error")
    detail: dict[str, Any] = inner if isinstance(inner, dict) else body
    retry_after = seconds(error.response.headers.get("retry-after"))
    said = detail.get("message") or str(error)
    return _error(error.status_code, detail.get("type"), said, retry_after)


def _error(
    status: int | None, kind: str | None, said: str, retry_after: float | None
) -> ProviderError:
    return provider_error(
        "claude",
        said,
        status=status,
        kind=kind,
        retry_after=retry_after,
        limiting=frozenset({"rate_limit_error"}),
        overloaded=frozenset({"overloaded_error", "api_error"}),
    )


class _ClaudeDecoder(Decoder):
    """Claude's events (JSON, as sent) to deltas, by their ``type`` strings."""

    def __init__(self) -> None:
        self.totals = Totals()
        self.stopped = False

    def feed(self, frame: Frame) -> Iterator[Reply]:
        event = frame.json()
        kind = event.get("type")
        if kind == "message_start":
            message = event.get("message", {})
            usage = self.totals.increment(**_usage(message.get("usage", {})))
            meta = {key: message[key] for key in ("model", "id") if key in message}
            yield Reply(usage=usage, meta=meta)
        elif kind == "content_block_start":
            index, block = event["index"], event.get("content_block", {})
            if block.get("type") == "tool_use":
                yield Reply((ToolCall(index, block.get("id", ""), block.get("name", "")),))
            elif block.get("type") == "text" and block.get("text"):
                yield Reply((Text(index, block["text"]),))
        elif kind == "content_block_delta":
            yield from _delta(event["index"], event.get("delta", {}))
        elif kind == "message_delta":
            usage = self.totals.increment(**_usage(event.get("usage", {})))
            yield Reply(usage=usage, stop=event.get("delta", {}).get("stop_reason"))
        elif kind == "message_stop":
            self.stopped = True
        elif kind == "error":
            raise _in_stream(event.get("error", {}))

    def finish(self) -> Iterator[Reply]:
        if not self.stopped:
            raise ConnectionLostError(
                "Claude's reply ended before its last event (message_stop)", provider="claude"
            )
        return iter(())


def _delta(index: int, delta: dict[str, Any]) -> Iterator[Reply]:
    kind = delta.get("type")
    if kind == "text_delta" and delta.get("text"):
        yield Reply((Text(index, delta["text"]),))
    elif kind == "input_json_delta" and delta.get("partial_json"):
        yield Reply((ToolCall(index, arguments=delta["partial_json"]),))
    elif kind == "thinking_delta" and delta.get("thinking"):
        yield Reply((Thinking(index, delta["thinking"]),))
    elif kind == "signature_delta" and delta.get("signature"):
        yield Reply((Thinking(index, signature=delta["signature"]),))


def _usage(usage: dict[str, Any]) -> dict[str, int | None]:
    return {
        "input_tokens": usage.get("input_tokens"),
        "output_tokens": usage.get("output_tokens"),
        "cache_read_tokens": usage.get("cache_read_input_tokens"),
        "cache_write_tokens": usage.get("cache_creation_input_tokens"),
    }


def _in_stream(error: dict[str, Any]) -> ProviderError:
    """An ``error`` event in a stream that began with status 200, by its type."""
    return _error(200, error.get("type"), error.get("message") or "an error event", None)


def _messages(conversation: Conversation) -> list[dict[str, Any]]:
    """The conversation's messages as the API takes them: tool results are the user's, and
    messages of one role in a row are one message."""
    out: list[dict[str, Any]] = []
    for message in conversation.visible():
        if message.role == "system":
            continue
        role = "assistant" if message.role == "assistant" else "user"
        blocks = _blocks(message)
        if not blocks:
            continue
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    return out


def _blocks(message: Message) -> list[dict[str, Any]]:
    if not message.parts:
        return [{"type": "text", "text": message.content}] if message.content else []
    blocks: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, TextPart) and part.text:
            blocks.append({"type": "text", "text": part.text})
        elif isinstance(part, ThinkingPart):
            blocks.append({"type": "thinking", "thinking": part.text, "signature": part.signature})
        elif isinstance(part, ToolCallPart):
            blocks.append(
                {"type": "tool_use", "id": part.id, "name": part.name, "input": _input(part)}
            )
        elif isinstance(part, ToolResultPart):
            blocks.append(
                {
                    "type": "tool_result",
                    "tool_use_id": part.call_id,
                    "content": part.content,
                    "is_error": part.is_error,
                }
            )
    return blocks


def _input(call: ToolCallPart) -> Any:
    """A call's arguments as the API takes them back: parsed; cut short (a reply that ran out of
    tokens), the raw text under one key, so that nothing is lost."""
    try:
        return call.arguments()
    except ValueError:
        return {"_raw_arguments": call.arguments_json}
