"""`OllamaMessenger`: Ollama's chat API (``POST /api/chat``), on a local server or on Ollama's
cloud, through the ``ollama`` SDK's client.

The SDK's ``AsyncClient`` holds the connection: its host (``OLLAMA_HOST``, by default
``http://127.0.0.1:11434``), its headers (the key as a bearer header, or ``OLLAMA_API_KEY``) and
its timeouts. The request goes out through the httpx client it made, not through
``chat(stream=True)``: that one reads the body in a generator of its own, and leaving it early
leaves httpx's generators under it to be collected (trio warns of each of them), so the body is
read here, and closed on exit, as the other adapters read theirs. The request body is the API's
JSON, not the SDK's ``ChatRequest``: its tool model drops what it does not know of a schema
(nested ``properties``, ``anyOf``, ``additionalProperties``: ollama-python#429, #724).

The reply is NDJSON, one JSON object a line, each with a piece of the assistant's ``message``
(``content``, ``thinking``, and ``tool_calls`` whole, their arguments an object), the last with
``"done": true``, its ``done_reason`` and its counts. Thinking is part 0, text part 1, and each
tool call a part of its own from 2 (calls have no index, so none is merged with another). An
``{"error": ...}`` line is a failure the server met after the reply began: it answers one met
before with its status, 500 unless it says another, so it is an ``OverloadedError`` here. Ollama
never retries.
"""

from __future__ import annotations

import codecs
import json
import secrets
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, ClassVar, final

from agentcat import Conversation, Reply, Text, Thinking, ToolCall, Usage
from agentcat.errors import ConnectionLostError, OverloadedError, ProviderError
from agentcat.messenger import ThinkingPart, ToolCallPart
from agentcat_adapters._base import (
    Decoder,
    Totals,
    WireMessenger,
    causes,
    is_transport,
    json_object,
    provider_error,
    seconds,
)
from agentcat_adapters._http import read_body

try:
    import httpx
    import ollama
except ImportError as missing:  # pragma: no cover - the extra is installed in the suite
    raise ImportError(
        "OllamaMessenger needs the ollama SDK: pip install 'agentcat-adapters[ollama]'"
    ) from missing

__all__ = ["OllamaMessenger"]

_STOPS = {"stop": "end_turn", "length": "max_tokens"}

_UNREACHED = (httpx.NetworkError, httpx.TimeoutException)
"""httpx's failures to reach the server or hear from it (refused, reset, timed out)."""


@final
class OllamaMessenger(WireMessenger):
    """A messenger of the models an Ollama server runs (or Ollama's cloud).

    ``OllamaMessenger(model, client=...)`` streams through an ``ollama.AsyncClient`` that the
    caller owns (and closes); with ``base_url=`` (the host) and ``api_key=`` (sent as a bearer
    header) instead, each defaulting to the SDK's environment variables, the messenger makes a
    client for each stream and closes it, in the event loop that used it, when the stream ends.
    ``max_tokens`` is sent as the ``num_predict`` option and ``temperature`` as the
    ``temperature`` one; any other argument of ``chat`` (``think``, ``format``, ``keep_alive``,
    ``options``...) passes through in ``settings``, so thinking is asked for with
    ``settings={"think": True}``. Ollama does not retry. A reply that has not begun within
    ``start_within`` seconds (``None``: no bound) is an ``OverloadedError``; the server loads
    the model before its first byte, and a large model loaded cold may need a longer bound.

    Raises:
        TypeError: ``client`` is given with ``base_url`` or ``api_key``, or is not an
            ``ollama.AsyncClient``.
    """

    provider: ClassVar[str] = "ollama"

    client_type: ClassVar[type] = ollama.AsyncClient
    continues: ClassVar[bool] = True  # (as the model's chat template allows)

    def __init__(
        self,
        model: str,
        *,
        client: ollama.AsyncClient | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        start_within: float | None = 120.0,
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        given = dict(settings or {})
        options = {
            "num_predict": max_tokens,
            "temperature": temperature,
            **(given.pop("options", None) or {}),
        }
        given["options"] = {k: v for k, v in options.items() if v is not None} or None
        super().__init__(
            model,
            client=client,
            base_url=base_url,
            api_key=api_key,
            max_retries=0,
            start_within=start_within,
            settings=given,
        )

    def _make_client(self, api_key: str | None) -> ollama.AsyncClient:
        """The SDK's client takes a host and headers: ``base_url``, and the key as a bearer
        header (Ollama itself has none; a proxy in front of it may ask for one)."""
        headers = {} if api_key is None else {"authorization": f"Bearer {api_key}"}
        return ollama.AsyncClient(host=self._base_url, headers=headers)

    def _request(self, conversation: Conversation) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self.model,
            "messages": _messages(conversation),
            **self._settings,
            "stream": True,
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
        # The SDK's httpx client sends the request (its host, headers and key), as its own
        # chat() would; the body is read here, from a response closed on exit.
        async with (
            self._connected() as client,
            client._client.stream("POST", "/api/chat", json=request) as response,
        ):
            if not response.is_success:
                await response.aread()
                raise _refused(response)
            async with read_body(response) as body:
                lines = _json_lines(body)
                try:
                    yield lines
                finally:
                    await lines.aclose()

    def _decoder(self) -> Decoder:
        return _OllamaDecoder(calls=f"call_{secrets.token_hex(4)}_")

    def _classify(self, error: BaseException) -> ProviderError | None:
        for cause in causes(error):
            if isinstance(cause, _UNREACHED) or is_transport(cause):
                return ConnectionLostError(
                    f"the connection to Ollama was lost: {cause}", provider=self.provider
                )
        return None


def _refused(response: httpx.Response) -> ProviderError:
    """The error of a status answered before any byte of a reply, its message read as the SDK
    reads it (the ``error`` of a JSON body, or the body)."""
    refused = ollama.ResponseError(response.text, response.status_code)
    retry_after = seconds(response.headers.get("retry-after"))
    return _error(response.status_code, str(refused.error), retry_after)


def _error(status: int | None, said: str, retry_after: float | None) -> ProviderError:
    """The agentcat error of a failure Ollama reported: by its status, or (``None``) inside a
    reply that had begun, an ``OverloadedError`` whose status is the 200 the reply began with.
    Ollama names no kinds of error."""
    if status is None:
        return OverloadedError(
            f"ollama failed during its reply: {said}", provider="ollama", status=200
        )
    return provider_error(
        "ollama",
        said,
        status=status,
        kind=None,
        retry_after=retry_after,
        limiting=frozenset(),
        overloaded=frozenset(),
    )


async def _json_lines(body: AsyncIterator[bytes]) -> AsyncGenerator[str, None]:
    """The lines of an NDJSON ``body``, in order, blank ones passed over (the body may be cut
    anywhere, inside a UTF-8 sequence too); the last one may lack its newline."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    pending = ""
    async for chunk in body:
        pending += decoder.decode(chunk)
        *lines, pending = pending.split("\n")
        for line in lines:
            if line.strip():
                yield line
    pending += decoder.decode(b"", final=True)
    if pending.strip():
        yield pending


class _OllamaDecoder(Decoder):
    """Ollama's lines (JSON objects, as sent) to deltas. A tool call that comes without an
    ``id`` (the SDK's model of a call has none) is given ``calls`` and its part's key; the
    messenger makes ``calls`` afresh for each stream, so that the calls of a conversation's
    replies stay told apart."""

    def __init__(self, calls: str = "call_") -> None:
        self.calls = calls
        self.totals = Totals()
        self.described = False  # the response's model given
        self.called = 0  # tool calls so far
        self.done = False  # the last line ("done": true) seen

    def feed(self, line: str) -> Iterator[Reply]:
        chunk = json_object(line, "ollama", "line")
        if chunk.get("error"):
            raise _error(None, str(chunk["error"]), None)
        if not self.described and chunk.get("model"):
            self.described = True
            yield Reply(meta={"model": chunk["model"]})
        message = chunk.get("message") or {}
        if message.get("thinking"):
            yield Reply((Thinking(0, message["thinking"]),))
        if message.get("content"):
            yield Reply((Text(1, message["content"]),))
        for call in message.get("tool_calls") or ():
            yield self._call(call)
        if chunk.get("done"):
            self.done = True
            yield self._last(chunk)

    def _call(self, call: dict[str, Any]) -> Reply:
        key = 2 + self.called
        self.called += 1
        function = call.get("function") or {}
        arguments = function.get("arguments")
        if arguments is None:
            arguments_json = ""
        elif isinstance(arguments, str):  # (a server that sends them as text, as OpenAI does)
            arguments_json = arguments
        else:
            arguments_json = json.dumps(arguments, ensure_ascii=False)
        given_id = call.get("id") or f"{self.calls}{key}"
        return Reply((ToolCall(key, given_id, function.get("name") or "", arguments_json),))

    def _last(self, chunk: dict[str, Any]) -> Reply:
        reason = chunk.get("done_reason") or "stop"
        stop = _STOPS.get(reason, reason)
        if stop == "end_turn" and self.called:
            stop = "tool_use"
        counts = {
            "input_tokens": chunk.get("prompt_eval_count"),
            "output_tokens": chunk.get("eval_count"),
        }
        reported = any(count is not None for count in counts.values())
        return Reply(usage=self.totals.increment(**counts) if reported else Usage(), stop=stop)

    def finish(self) -> Iterator[Reply]:
        if not self.done:
            raise ConnectionLostError(
                "Ollama's reply ended before its last line (done: true)", provider="ollama"
            )
        return iter(())


def _messages(conversation: Conversation) -> list[dict[str, Any]]:
    """The conversation's messages as the API takes them: a tool message gives one message per
    result, named by the tool whose call it answers (``tool_name``: the API's messages carry no
    call ids, so a result is known by its tool and its place)."""
    out: list[dict[str, Any]] = []
    names: dict[str, str] = {}  # a call's id -> its tool's name, from the calls so far
    for message in conversation.visible():
        if message.role == "tool" and message.tool_results:
            for result in message.tool_results:
                answer = {"role": "tool", "content": result.content}
                if result.call_id in names:
                    answer["tool_name"] = names[result.call_id]
                out.append(answer)
            continue
        entry: dict[str, Any] = {"role": message.role, "content": message.content}
        if message.role == "assistant":
            thought = "".join(p.text for p in message.parts if isinstance(p, ThinkingPart))
            if thought:
                entry["thinking"] = thought
            if message.tool_calls:
                names.update({call.id: call.name for call in message.tool_calls})
                entry["tool_calls"] = [
                    {"function": {"name": call.name, "arguments": _arguments(call)}}
                    for call in message.tool_calls
                ]
        out.append(entry)
    return out


def _arguments(call: ToolCallPart) -> Any:
    """A call's arguments as the API takes them back: an object; cut short (a reply that ran
    out of tokens), or not an object, the text or the value under one key, so that nothing is
    lost."""
    try:
        parsed = call.arguments()
    except ValueError:
        return {"_raw_arguments": call.arguments_json}
    return parsed if isinstance(parsed, dict) else {"_value": parsed}
