"""The embedded default model: a deterministic, offline text model that streams tokens.

It is shaped like the provider adapters: a streaming agent from a prompt to text deltas, with
the pacing of a real model, so pipelines, the demo and the tests run with no network and no keys.
Its text comes from a small word-bigram chain over an embedded corpus, seeded by the prompt.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import re
from collections import defaultdict
from collections.abc import AsyncIterator
from functools import cache
from typing import final

import anyio
import anyio.lowlevel
from attrs import field, frozen, validators

from agentcat.streaming import StreamingAgent

__all__ = ["EmbeddedModel"]

_CORPUS = """
A pipeline of agents is a chain of small steps, and each step turns one value into another.
Composition is the glue: the output of one agent becomes the input of the next.
A category asks only two things of composition: an identity that changes nothing, and
associativity, so that the grouping of the steps never matters.
Streaming keeps every token moving: a filter, a splitter or a forwarder passes each piece on at
once, and only a step that needs the whole text waits for it.
A functor maps agents to streaming agents and keeps composition intact, up to chunk boundaries.
Two streams are equal when they add up to the same text, however the text was cut into chunks.
Laws are checked by generating many pipelines and many chunkings, and a failure shrinks to a
small example that a person can read.
A good model answers quickly, streams steadily, and stops when it is asked to stop.
Backpressure means a slow reader slows the writer, so no buffer grows without bound.
Cancellation must reach every producer, so no task outlives the pipeline that started it.
Typed agents catch a mismatched pipeline before it runs, and a clear error names both sides.
"""


@cache
def _chain() -> dict[str, tuple[str, ...]]:
    words = re.findall(r"[A-Za-z']+|[.,:!?]", _CORPUS)
    following: defaultdict[str, list[str]] = defaultdict(list)
    for word, after in itertools.pairwise(words):
        following[word.lower()].append(after)
    return {word: tuple(afters) for word, afters in following.items()}


_PUNCTUATION = frozenset(".,:!?")
_SENTENCE_END = frozenset(".!?")


def _token(word: str, previous: str | None) -> str:
    """How ``word`` is written after ``previous`` (``None`` at the start of the text)."""
    if word in _PUNCTUATION:
        return word
    if previous is None:
        return word.capitalize()
    return " " + (word.capitalize() if previous in _SENTENCE_END else word)


@final
@frozen(repr=False)
class EmbeddedModel(StreamingAgent[str, str]):
    """A streaming agent from a prompt to about ``max_tokens`` text deltas, one every ``pace``
    seconds (``pace=0`` streams as fast as the consumer reads). The same prompt and ``seed``
    always give the same text; words of the prompt that the model knows steer its start.

    Raises:
        ValueError: ``pace`` is negative or ``max_tokens`` less than 1.
        TypeError: (when streamed) the prompt is not a string.
    """

    pace: float = field(default=0.02, validator=validators.ge(0))
    max_tokens: int = field(default=60, validator=validators.ge(1))
    seed: int = 0
    label: str = "model"

    async def open(self, value: str, /) -> AsyncIterator[str]:
        if not isinstance(value, str):
            raise TypeError(f"{self!r} takes a prompt string, not {type(value).__qualname__}")
        chain = _chain()
        digest = hashlib.sha256(f"{self.seed}:{value}".encode()).digest()
        rng = random.Random(int.from_bytes(digest[:8], "big"))
        known = [w for w in re.findall(r"[a-z']+", value.lower()) if w in chain]
        word = rng.choice(known) if known else rng.choice(sorted(chain))
        previous: str | None = None
        for count in range(self.max_tokens):
            yield _token(word, previous)
            if self.pace:
                await anyio.sleep(self.pace)
            else:
                await anyio.lowlevel.checkpoint()
            if count >= self.max_tokens // 2 and word in _SENTENCE_END:
                return
            previous, word = word, rng.choice(chain.get(word.lower()) or sorted(chain))

    @property
    def name(self) -> str:
        return self.label
