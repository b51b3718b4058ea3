"""`GeminiMessenger`: Google's Gemini API (``streamGenerateContent``), streamed through the
``google-genai`` SDK.

The SDK makes the request: its URL (``{base}/{version}/models/{model}:streamGenerateContent``
``?alt=sse``), its headers (``x-goog-api-key``), its retries before the first byte and its errors
of status.
The body, data-only server-sent events of ``GenerateContentResponse`` JSON with no ``[DONE]``,
is read here, as the other adapters read theirs: the SDK's own reading leaves its nest of
generators unclosed when a stream fails (trio warns when they are collected), and on this
version would follow continuation tokens and rebuild each chunk into its types, dropping what it
does not know. So the request goes through the SDK's client (``client.aio._api_client``, its
``_build_request`` and ``_async_request``, what its ``generate_content_stream`` calls).

Gemini sends a part whole: text and thought text in pieces, one part per chunk, and a function
call with its arguments as an object, rendered here as JSON. Consecutive pieces of text (or of
thought) are one part; each function call is a part of its own, parallel calls too. A thought
signature belongs to the part it comes on: on a thought, it is that thought's signature; on text
or a function call, it is a :class:`~agentcat.Thinking` fragment of its own, with no text, right
after it, and a replay puts it back on that part. Usage comes as running totals in every chunk;
output tokens count the thoughts too (as Claude and OpenAI count them), and
``reasoning_tokens`` says how many of them were thoughts. The stop reason is ``finishReason``:
``end_turn`` (``tool_use`` when the reply calls a function), ``max_tokens``, or Gemini's own
reason in lower case (``safety``...).
"""

from __future__ import annotations

import copy
import importlib
import json
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, ClassVar, final

from agentcat import Conversation, Message, Reply, Text, Thinking, ToolCall, Usage
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
from agentcat_adapters._http import read_body
from agentcat_adapters._sse import Frame, server_sent_events

try:
    from google import genai
    from google.genai import _transformers, types
    from google.genai import errors as genai_errors
except ImportError as missing:  # pragma: no cover - the extra is installed in the suite
    raise ImportError(
        "GeminiMessenger needs the google-genai SDK: pip install 'agentcat-adapters[gemini]'"
    ) from missing

__all__ = ["GeminiMessenger"]

API_VERSION = "v1beta"
"""The API version of the clients the messenger makes (google-genai's own default is now
``v1``): the one whose reference documents every field a request here carries
(``systemInstruction``, ``tools`` with ``parametersJsonSchema``, ``thoughtSignature``)."""


@final
class GeminiMessenger(WireMessenger):
    """A messenger of Google's Gemini models.

    ``GeminiMessenger(model, client=...)`` streams through a ``google.genai.Client`` that the
    caller owns (and closes); with ``base_url=`` and ``api_key=`` instead (each defaulting to
    the SDK's environment variables, ``GOOGLE_GEMINI_BASE_URL`` and ``GEMINI_API_KEY``), the
    messenger makes a client for each stream, on API version ``v1beta``, and closes it, in the
    event loop that used it, when the stream ends. The SDK's own async client keeps a pool per
    asyncio loop and fails under trio unless it is given a transport, so a caller's client must
    have one there: ``http_options=HttpOptions(async_client_args={"transport":
    httpx2.AsyncHTTPTransport()})`` (the messenger's clients do).

    ``max_tokens`` and ``temperature`` pass through (as ``generationConfig``'s
    ``maxOutputTokens`` and ``temperature``), and so does any other field of the request body
    in ``settings``, in the API's own names (``{"generationConfig": {"thinkingConfig":
    {"includeThoughts": True}}, "safetySettings": [...]}``; a ``generationConfig`` is merged
    over those two). The SDK's retries (``max_retries``; google-genai makes none by default)
    happen before the first byte, all within ``start_within`` seconds (``None``: no bound).

    Raises:
        TypeError: ``client`` is given with ``base_url`` or ``api_key``, or is not a
            ``google.genai.Client``.
    """

    provider: ClassVar[str] = "gemini"

    client_type: ClassVar[type] = genai.Client
    continues: ClassVar[bool] = True  # (some models: the others answer with a 400)

    def __init__(
        self,
        model: str,
        *,
        client: genai.Client | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        max_retries: int = 2,
        start_within: float | None = 120.0,
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        given = dict(settings or {})
        generation = {"maxOutputTokens": max_tokens, "temperature": temperature}
        generation = {name: value for name, value in generation.items() if value is not None}
        generation.update(given.pop("generationConfig", None) or {})
        if generation:
            given["generationConfig"] = generation
        super().__init__(
            model,
            client=client,
            base_url=base_url,
            api_key=api_key,
            max_retries=max_retries,
            start_within=start_within,
            settings=given,
        )

    def _make_client(self, api_key: str | None) -> genai.Client:
        options = types.HttpOptions(
            base_url=self._base_url,
            api_version=API_VERSION,
            async_client_args={"transport": _transport()},
            retry_options=types.HttpRetryOptions(attempts=self._max_retries + 1),
        )
        return genai.Client(api_key=api_key, http_options=options)

    async def _close_client(self, client: genai.Client) -> None:
        await client.aio.aclose()
        client.close()  # (its synchronous client, made alongside, never used here)

    def _request(self, conversation: Conversation) -> dict[str, Any]:
        system = "\n\n".join(m.content for m in conversation.visible() if m.role == "system")
        request: dict[str, Any] = {"contents": _contents(conversation), **self._settings}
        if system:
            request["systemInstruction"] = {"parts": [{"text": system}]}
        if conversation.tools:
            declarations = [
                {
                    "name": spec.name,
                    "description": spec.description,
                    "parametersJsonSchema": spec.input_schema(),
                }
                for spec in conversation.tools
            ]
            request["tools"] = [{"functionDeclarations": declarations}]
        return request

    @asynccontextmanager
    async def _events(self, request: dict[str, Any]) -> AsyncIterator[AsyncIterator[Any]]:
        async with self._connected() as client:
            api = client.aio._api_client
            path = f"{_transformers.t_model(api, self.model)}:streamGenerateContent?alt=sse"
            sent = api._build_request("post", path, copy.deepcopy(request), None)
            response = (await api._async_request(http_request=sent, stream=True)).response_stream
            if not hasattr(response, "aiter_bytes"):  # (aiohttp's, when the SDK chose it)
                response.close()
                raise TypeError(
                    "GeminiMessenger reads the body through httpx2: give the client a transport, "
                    "http_options=HttpOptions(async_client_args={'transport': "
                    "httpx2.AsyncHTTPTransport()})"
                )
            async with read_body(response) as body:
                frames = server_sent_events(body)
                try:
                    yield frames
                finally:
                    await frames.aclose()

    def _decoder(self) -> Decoder:
        return _GeminiDecoder()

    def _classify(self, error: BaseException) -> ProviderError | None:
        for cause in causes(error):
            if isinstance(cause, genai_errors.APIError):
                return _status_error(cause)
            if is_transport(cause):
                return ConnectionLostError(
                    f"the connection to Gemini failed: {cause}", provider=self.provider
                )
        return None


def _transport() -> Any:
    """An async transport of the SDK's HTTP library (httpx2; httpx in google-genai before it)."""
    try:
        library = importlib.import_module("httpx2")
    except ImportError:  # pragma: no cover - google-genai here depends on httpx2
        library = importlib.import_module("httpx")
    return library.AsyncHTTPTransport()


def _status_error(error: genai_errors.APIError) -> ProviderError:
    body = error.details if isinstance(error.details, dict) else {}
    inner = body.get("error")
    detail: dict[str, Any] = inner if isinstance(inner, dict) else body
    headers = getattr(error.response, "headers", None)
    retry_after = seconds(headers.get("retry-after")) if headers is not None else None
    if retry_after is None:
        retry_after = _retry_delay(detail.get("details"))
    return _error(error.code, error.status, error.message or str(error), retry_after)


def _retry_delay(details: Any) -> float | None:
    """The seconds a ``google.rpc.RetryInfo`` among an error's ``details`` asks to wait
    (``"retryDelay": "37s"``): how Gemini says ``retry-after``."""
    for detail in details if isinstance(details, list) else ():
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith(".RetryInfo"):
            delay = detail.get("retryDelay")
            if isinstance(delay, str) and delay.endswith("s"):
                return seconds(delay[:-1])
    return None


def _error(
    status: int | None, kind: str | None, said: str, retry_after: float | None
) -> ProviderError:
    return provider_error(
        "gemini",
        said,
        status=status,
        kind=kind,
        retry_after=retry_after,
        limiting=frozenset({"RESOURCE_EXHAUSTED"}),
        overloaded=frozenset({"UNAVAILABLE", "INTERNAL", "DEADLINE_EXCEEDED"}),
    )


_NOTHING_NEW = Usage(reported=True)


class _GeminiDecoder(Decoder):
    """``GenerateContentResponse`` chunks (JSON, as sent) to deltas, a delta per chunk; fields
    and parts of a kind not known are passed over."""

    def __init__(self) -> None:
        self.totals = Totals()
        self.reported = False  # usage reported once
        self.described = False  # the response's model and id given
        self.stopped = False  # a finishReason (or a blocked prompt) seen
        self.called = False  # a function call seen
        self.keys = 0  # the parts' keys given so far
        self.run: tuple[type, int] | None = None  # the part that more text (or thought) extends

    def feed(self, frame: Frame) -> Iterator[Reply]:
        try:
            chunk = json.loads(frame.data)
        except json.JSONDecodeError:
            chunk = None
        if not isinstance(chunk, dict):
            raise ProviderError(
                f"Gemini sent a frame that is not a response: {frame.data[:200]!r}",
                provider="gemini",
            )
        if "error" in chunk:
            raise _in_stream(chunk["error"])
        meta: dict[str, Any] = {}
        if not self.described:
            self.described = True
            names = {"modelVersion": "model", "responseId": "id"}
            meta = {name: chunk[key] for key, name in names.items() if chunk.get(key)}
        fragments: list[Text | Thinking | ToolCall] = []
        candidate = _first(chunk.get("candidates"))
        parts = (candidate.get("content") or {}).get("parts")
        for part in parts if isinstance(parts, list) else ():
            if isinstance(part, dict):
                fragments += self._part(part)
        stop = None
        reason = candidate.get("finishReason") or (chunk.get("promptFeedback") or {}).get(
            "blockReason"  # (a prompt refused: no candidate at all)
        )
        if isinstance(reason, str) and reason and not self.stopped:
            self.stopped = True
            stop = _stop(reason, self.called)
        reply = Reply(fragments, self._usage(chunk.get("usageMetadata")), stop, meta)
        if reply:
            yield reply

    def _part(self, part: dict[str, Any]) -> list[Text | Thinking | ToolCall]:
        signature = part.get("thoughtSignature") or ""
        text = part.get("text")
        made: list[Text | Thinking | ToolCall] = []
        call = part.get("functionCall")
        if isinstance(call, dict):  # whole, arguments and all: a part of its own
            self.run, self.called = None, True
            arguments = json.dumps(call.get("args") or {}, ensure_ascii=False)
            made.append(
                ToolCall(self._key(), call.get("id") or "", call.get("name") or "", arguments)
            )
        elif part.get("thought"):
            made.append(Thinking(self._extend(Thinking), text or "", signature))
            if signature:
                self.run = None  # (a signature ends its thought)
            return made
        elif isinstance(text, str):
            if text:
                made.append(Text(self._extend(Text), text))
        else:  # a part of a kind not known (inline data, code...)
            self.run = None
        if signature:  # the signature of the part just made, right after it
            made.append(Thinking(self._key(), signature=signature))
            self.run = None  # (what comes next is another part, as it was sent)
        return made

    def _key(self) -> int:
        self.keys += 1
        return self.keys - 1

    def _extend(self, kind: type) -> int:
        """The key of the part of ``kind`` being sent, or of a new one."""
        if self.run is None or self.run[0] is not kind:
            self.run = (kind, self._key())
        return self.run[1]

    def _usage(self, usage: Any) -> Usage:
        if not isinstance(usage, dict):
            return Usage()
        candidates, thoughts = usage.get("candidatesTokenCount"), usage.get("thoughtsTokenCount")
        output = None
        if candidates is not None or thoughts is not None:
            output = (candidates or 0) + (thoughts or 0)
        added = self.totals.increment(
            input_tokens=usage.get("promptTokenCount"),
            output_tokens=output,
            cache_read_tokens=usage.get("cachedContentTokenCount"),
            reasoning_tokens=thoughts,
        )
        if added == _NOTHING_NEW and self.reported:
            return Usage()
        self.reported = True
        return added

    def finish(self) -> Iterator[Reply]:
        if not self.stopped:
            raise ConnectionLostError(
                "Gemini's reply ended with no finishReason", provider="gemini"
            )
        return iter(())


def _stop(reason: str, called: bool) -> str:
    """``finishReason`` as the other providers say it; Gemini's others in lower case."""
    if reason == "STOP":
        return "tool_use" if called else "end_turn"
    return "max_tokens" if reason == "MAX_TOKENS" else reason.lower()


def _first(candidates: Any) -> dict[str, Any]:
    """The reply's candidate (the first; a request here asks for one)."""
    for candidate in candidates if isinstance(candidates, list) else ():
        if isinstance(candidate, dict) and candidate.get("index", 0) == 0:
            return candidate
    return {}


def _in_stream(error: Any) -> ProviderError:
    """An error frame in a stream that began with status 200, told by its code and status."""
    detail: dict[str, Any] = error if isinstance(error, dict) else {}
    code = detail.get("code")
    return _error(
        code if isinstance(code, int) else None,
        detail.get("status"),
        detail.get("message") or str(error),
        _retry_delay(detail.get("details")),
    )


def _contents(conversation: Conversation) -> list[dict[str, Any]]:
    """The conversation's messages as the API takes them: the assistant's as the model's, tool
    results as the user's, and messages of one role in a row as one."""
    out: list[dict[str, Any]] = []
    named: dict[str, str] = {}  # a call's id -> its function's name
    asked: tuple[ToolCallPart, ...] = ()  # the calls of the model's last message
    for message in conversation.visible():
        if message.role == "system":
            continue
        if message.role == "assistant":
            role, parts = "model", _model_parts(message)
            asked = message.tool_calls
            named.update((call.id, call.name) for call in asked if call.id)
        else:
            role, parts = "user", _user_parts(message, named, asked)
        if not parts:
            continue
        if out and out[-1]["role"] == role:
            out[-1]["parts"].extend(parts)
        else:
            out.append({"role": role, "parts": parts})
    return out


def _model_parts(message: Message) -> list[dict[str, Any]]:
    """A reply's parts as Gemini sent them: a signature with no thought goes back on the text
    or function call before it."""
    if not message.parts:
        return [{"text": message.content}] if message.content else []
    out: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, TextPart) and part.text:
            out.append({"text": part.text})
        elif isinstance(part, ThinkingPart) and part.text:
            thought: dict[str, Any] = {"text": part.text, "thought": True}
            if part.signature:
                thought["thoughtSignature"] = part.signature
            out.append(thought)
        elif isinstance(part, ThinkingPart) and part.signature:
            if out and "thought" not in out[-1] and "thoughtSignature" not in out[-1]:
                out[-1]["thoughtSignature"] = part.signature
            else:
                out.append({"text": "", "thoughtSignature": part.signature})
        elif isinstance(part, ToolCallPart):
            call: dict[str, Any] = {"name": part.name, "args": _args(part)}
            if part.id:
                call["id"] = part.id
            out.append({"functionCall": call})
    return out


def _user_parts(
    message: Message, named: Mapping[str, str], asked: tuple[ToolCallPart, ...]
) -> list[dict[str, Any]]:
    """A user's or a tool's message: each tool result a ``functionResponse``, named by the
    call it answers (by its id, or, when Gemini gave the calls none, by its place)."""
    if not message.parts:
        return [{"text": message.content}] if message.content else []
    out: list[dict[str, Any]] = []
    results = [part for part in message.parts if isinstance(part, ToolResultPart)]
    for place, result in enumerate(results):
        name = named.get(result.call_id) if result.call_id else None
        if name is None:
            name = asked[place].name if place < len(asked) else ""
        answer: dict[str, Any] = {
            "name": name,
            "response": {"error" if result.is_error else "output": result.content},
        }
        if result.call_id:
            answer["id"] = result.call_id
        out.append({"functionResponse": answer})
    out += [{"text": p.text} for p in message.parts if isinstance(p, TextPart) and p.text]
    return out


def _args(call: ToolCallPart) -> dict[str, Any]:
    """A call's arguments as the API takes them back, an object; not one (a call of another
    provider, cut short), the raw text under one key, so that nothing is lost."""
    try:
        value = call.arguments()
    except ValueError:
        value = None
    return value if isinstance(value, dict) else {"_raw_arguments": call.arguments_json}
