"""The embedded default model: an offline, deterministic messenger that streams like a real one.

It is shaped like the provider adapters, a streaming agent from a conversation (or a prompt) to
:class:`agentcat.Reply` deltas, so pipelines, the demo and the tests run with no network and
no keys, and a real provider takes its place without changing the pipeline. It speaks the whole
protocol: it thinks before it answers (with a signature, as Claude does), calls an offered tool
when the prompt asks for what the tool provides (its JSON arguments streamed in fragments),
answers from the tool's result once it has it, and reports usage the way providers do, the
input tokens first and the output tokens with the stop reason.

Its answers are scripted from the prompt, not generated: the sentences of a small embedded text
that share the most words with the prompt, in the text's order. The same conversation and
``seed`` always give the same reply.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from functools import cache
from typing import Any, final

import anyio
import anyio.lowlevel
from attrs import field, frozen, validators

from agentcat._structure import Node
from agentcat.messenger.conversation import Conversation, ToolSpec
from agentcat.messenger.message import Message
from agentcat.messenger.reply import Reply, Text, Thinking, ToolCall, Usage
from agentcat.streaming import StreamingAgent

__all__ = ["EmbeddedModel"]

_KNOWLEDGE = """
A pipeline of agents is a chain of small steps, and each step turns one value into another.
Composition is the glue: the output of one agent becomes the input of the next.
A category asks only two things of composition: an identity that changes nothing, and
associativity, so that the grouping of the steps never matters.
Streaming keeps every token moving: a filter, a splitter or a forwarder passes each piece on at
once, and only a step that needs the whole text waits for it.
A functor maps agents to streaming agents and keeps composition intact, up to chunk boundaries.
Two streams are equal when they add up to the same text, however the text was cut into chunks.
A monoid says how the pieces of a stream add up: an empty value, and an associative way to join
two pieces.
Laws are checked by generating many pipelines and many chunkings, and a failure shrinks to a
small example that a person can read.
A tool is an agent too: the model asks for it by name, with JSON arguments, and reads its result.
A conversation is kept whole, so a reply cut short is never lost and can be tried again.
A good model answers quickly, streams steadily, and stops when it is asked to stop.
Backpressure means a slow reader slows the writer, so no buffer grows without bound.
Cancellation must reach every producer, so no task outlives the pipeline that started it.
Typed agents catch a mismatched pipeline before it runs, and a clear error names both sides.
"""

_UNSAID = """a an and are as at be but by can do does for from how i in is it its me my of on or
please tell that the then this to was what when where which who why will with would you your
about write short note give their they them there these those have has keep keeps what's"""
_STOP_WORDS = frozenset(_UNSAID.split())
"""Words that say nothing of what a question is about."""

_THINKING, _TEXT, _TOOL = 0, 1, 2
"""The keys of the reply's parts: its thinking, its text and its tool call."""


@cache
def _sentences() -> tuple[str, ...]:
    text = " ".join(_KNOWLEDGE.split())
    return tuple(re.findall(r"[^.]+\.", text))


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_][\w'-]*", text)  # (letters of any script)


def _stem(word: str) -> str:
    """A crude stem, enough to match "meaning" with "mean" and "streams" with "stream"."""
    word = word.lower()
    for suffix in ("ing", "es", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _topics(text: str) -> list[str]:
    """The words of ``text`` that say what it is about, in order, each once."""
    seen: dict[str, str] = {}
    for word in _words(text):
        if word.lower() not in _STOP_WORDS and len(word) > 2:
            seen.setdefault(_stem(word), word)
    return list(seen.values())


def _tokens(text: str) -> Iterator[str]:
    """``text`` cut as a model streams it: a word with the space before it, punctuation alone."""
    yield from re.findall(r"\s*[\w'-]+|\s*[^\s\w'-]", text)


def _count(text: str) -> int:
    return sum(1 for _ in _tokens(text))


@final
@frozen(repr=False)
class EmbeddedModel(StreamingAgent[Conversation | str, Reply]):
    """A messenger that answers offline: given a conversation (or a prompt, a one-message
    conversation) it streams a reply of at most ``max_tokens`` tokens, one every ``pace``
    seconds (``pace=0`` streams as fast as the consumer reads). It thinks first (unless
    ``thinking=False``), then calls an offered tool that fits the question, or answers.

    Use it where a provider's messenger goes (``MessengerAgent(EmbeddedModel())``), or as a
    model of text: ``EmbeddedModel() >> map_deltas(text_of)``.

    Raises:
        ValueError: ``pace`` is negative or ``max_tokens`` less than 1.
        TypeError: (when streamed) the input is neither text nor a conversation.
        ValueError: (when streamed) the conversation has no message to answer.
    """

    pace: float = field(default=0.02, validator=validators.ge(0))
    max_tokens: int = field(default=200, validator=validators.ge(1))
    seed: int = 0
    label: str = "model"
    thinking: bool = True

    @property
    def name(self) -> str:
        return self.label

    def describe(self) -> Node:
        """A model stage, called by its label."""
        return Node("model", self.label)

    def supports_tool_use(self) -> bool:
        """Whether it calls the tools a conversation offers (it does)."""
        return True

    async def open(self, value: Conversation | str, /) -> AsyncIterator[Reply]:
        conversation = Conversation.of(value)
        if not conversation.visible():
            raise ValueError(f"{self!r} was given an empty conversation: nothing to answer")
        prompt = " ".join(message.content for message in conversation.visible())
        yield Reply(usage=Usage(input_tokens=_count(prompt), reported=True), meta=self._meta())
        spent = 0
        stop = "end_turn"
        for delta, made_by_tool in _script(conversation, self.seed, self.thinking):
            if spent == self.max_tokens:
                stop = "max_tokens"
                break
            spent += 1
            stop = "tool_use" if made_by_tool else stop
            yield delta
            if self.pace:
                await anyio.sleep(self.pace)
            else:
                await anyio.lowlevel.checkpoint()
        yield Reply(usage=Usage(output_tokens=spent, reported=True), stop=stop)

    def _meta(self) -> Mapping[str, Any]:
        return {"model": f"embedded:{self.label}"}


def _script(conversation: Conversation, seed: int, thinks: bool) -> Iterator[tuple[Reply, bool]]:
    """The reply's deltas, a token each, and whether each belongs to a tool call."""
    messages = conversation.visible()
    last = messages[-1]
    question = _question(messages)
    call: tuple[str, str] | None = None
    if last.role == "tool":
        thought = f"The tool has answered; I can reply to: {question}"
        told = {word for spec in conversation.tools for word in _own_words(spec)}
        known = _answer(question, seed, 2, own=False, besides=told)
        answer = " ".join(filter(None, [_from_results(messages, question), known]))
    else:
        spec = _fitting(conversation.tools, question)
        if spec is not None:
            given = _arguments(spec, question)
            asked_for = ", ".join(str(value) for value in given.values()) or "this"
            thought = f"I need the {spec.name} tool for {asked_for}, so I call it first."
            answer = f"Let me ask the {spec.name} tool."
            call = (spec.name, json.dumps(given))
        else:
            thought = f"The question is about {', '.join(_topics(question)[:3]) or 'nothing'}."
            answer = _answer(question, seed)
    if thinks:
        for token in _tokens(thought):
            yield Reply((Thinking(_THINKING, token),)), False
        signature = hashlib.sha256(thought.encode()).hexdigest()[:32]
        yield Reply((Thinking(_THINKING, signature=signature),)), False
    for token in _tokens(answer):
        yield Reply((Text(_TEXT, token),)), False
    if call is not None:
        name, arguments = call
        made = f"{len(messages)}:{name}:{arguments}".encode()
        call_id = "call_" + hashlib.sha256(made).hexdigest()[:12]
        yield Reply((ToolCall(_TOOL, call_id, name),)), True
        for start in range(0, len(arguments), 6):
            yield Reply((ToolCall(_TOOL, arguments=arguments[start : start + 6]),)), True


def _question(messages: tuple[Message, ...]) -> str:
    """The latest thing the user said."""
    for message in reversed(messages):
        if message.role == "user":
            return message.content
    return ""


def _fitting(tools: tuple[ToolSpec, ...], question: str) -> ToolSpec | None:
    """The offered tool whose name and description share the most words with the question
    (none if no tool shares one)."""
    asked = {_stem(word) for word in _topics(question)}
    best, score = None, 0
    for spec in tools:
        shared = len(asked & _own_words(spec))
        if shared > score:
            best, score = spec, shared
    return best


def _own_words(spec: ToolSpec) -> set[str]:
    """The stems of the words of a tool's name and description."""
    return {_stem(word) for word in _topics(f"{spec.name.replace('_', ' ')} {spec.description}")}


def _arguments(spec: ToolSpec, question: str) -> dict[str, Any]:
    """Arguments for ``spec`` taken from the question: quoted text, or the first word the
    question is about that is not the tool's name or an argument's, for text; the numbers in
    it, for numbers."""
    properties: Mapping[str, Any] = spec.parameters.get("properties", {})
    own = {_stem(word) for word in _topics(" ".join([spec.name.replace("_", " "), *properties]))}
    quoted = re.findall(r"\"([^\"]+)\"|'([^']+)'", question)
    topics = [word for word in _topics(question) if _stem(word) not in own]
    described = _own_words(spec)  # a word of the description is what the tool is, not for
    subjects = [word for word in topics if _stem(word) not in described] or topics
    numbers = [float(n) if "." in n else int(n) for n in re.findall(r"-?\d+(?:\.\d+)?", question)]
    arguments: dict[str, Any] = {}
    for name, schema in properties.items():
        kind = schema.get("type")
        if "enum" in schema:
            mentioned = [v for v in schema["enum"] if str(v).lower() in question.lower()]
            arguments[name] = (mentioned or list(schema["enum"]))[0]
        elif kind in ("integer", "number"):
            arguments[name] = numbers.pop(0) if numbers else 1
        elif kind == "boolean":
            arguments[name] = True
        elif kind == "array":
            arguments[name] = numbers
        elif kind == "object":
            arguments[name] = {}
        elif quoted:
            arguments[name] = next(text for text in quoted.pop(0) if text)
        else:
            arguments[name] = subjects.pop(0) if subjects else question
    return arguments


def _from_results(messages: tuple[Message, ...], question: str) -> str:
    """An answer from the latest tool results: what each tool said (or that it failed)."""
    names = {
        call.id: call.name
        for message in messages
        if message.role == "assistant"
        for call in message.tool_calls
    }
    said = []
    for result in messages[-1].tool_results:
        name = names.get(result.call_id, "tool")
        if result.is_error:
            said.append(f"The {name} tool failed ({result.content}), so I cannot say more.")
        else:
            said.append(f"The {name} tool says: {result.content.rstrip('.')}.")
    return " ".join(said) or f"The tool said nothing about: {question}"


def _answer(
    question: str,
    seed: int,
    most: int = 3,
    *,
    own: bool = True,
    besides: frozenset[str] | set[str] = frozenset(),
) -> str:
    """Up to ``most`` sentences of what the model knows, the most relevant to the question (to
    its words ``besides`` those a tool has answered), in the order it knows them (ties broken
    by ``seed``); if none is relevant, one chosen by ``seed``, when the answer is its ``own``
    (not only adding to a tool's)."""
    asked = {_stem(word) for word in _topics(question)} - besides
    sentences = _sentences()
    rng = random.Random(seed)
    jitter = [rng.random() for _ in sentences]
    scored = [
        (_relevance(asked, sentence), jitter[index], index)
        for index, sentence in enumerate(sentences)
    ]
    ranked = sorted(scored, reverse=True)
    relevant = [index for score, _, index in ranked[:most] if score]
    if not relevant and own:
        relevant = [ranked[0][2]]
    chosen = sorted(relevant)
    return " ".join(sentences[index].strip() for index in chosen)


def _relevance(asked: set[str], sentence: str) -> int:
    """How much ``sentence`` says of the words ``asked``: one for each it shares, three more
    for each that is its subject (among its first three words)."""
    words = [_stem(word) for word in _words(sentence)]
    return len(asked & set(words)) + 3 * len(asked & set(words[:3]))
