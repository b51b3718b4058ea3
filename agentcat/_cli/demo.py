"""The demo: a short conversation on the embedded model, in which the assistant calls a tool and
streams its answer, and a second agent reviews each sentence while the answer is still arriving.

The pipeline is ``session >> (forward & (map_deltas(text_of) >> split_sentences >> reviewer))``:
one branch passes the assistant's reply on as it comes (thinking, text, tool calls), the other
projects it to text, cuts it into sentences and reviews each one, every stage a transducer, so
the review of a sentence is printed while the next one streams.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import TextIO

from agentcat import (
    EmbeddedModel,
    Message,
    MessengerAgent,
    Reply,
    SQLiteStore,
    StreamingAgent,
    StreamingMetrics,
    agent,
    forward,
    map_deltas,
    split_sentences,
    text_of,
    tool,
    transducer,
)
from agentcat._cli.transcript import Transcript

__all__ = ["QUESTION", "build_pipeline", "run_demo"]

QUESTION = 'What does "functor" mean, and how do streams keep their laws?'

_GLOSSARY = {
    "functor": "a map from one category to another that keeps identities and composition",
    "monoid": "a way to add pieces up, with an empty piece, where the grouping never matters",
    "transducer": "a stage that turns each piece of a stream into pieces of another, at once",
}

_TERMS = re.compile(
    r"\b(agents?|functors?|category|categories|composition|stream\w*|laws?|tools?|monoids?)\b",
    re.IGNORECASE,
)


@agent
def define(term: str) -> str:
    """The meaning of a term of the trade (functor, monoid, transducer)."""
    meaning = _GLOSSARY.get(term.lower().strip())
    if meaning is None:
        raise KeyError(f"the glossary has no entry for {term!r}")
    return meaning


@transducer
async def reviewer(sentences: AsyncIterator[str]) -> AsyncIterator[str]:
    """A second agent that reads the answer a sentence at a time, as it streams, and says what
    each one covers."""
    count = 0
    async for sentence in sentences:
        count += 1
        terms = sorted({term.lower() for term in _TERMS.findall(sentence)})
        covered = f"names {', '.join(terms)}" if terms else "names no term of the trade"
        yield f"sentence {count}: {len(sentence.split())} words, {covered}"


def build_pipeline(
    session: MessengerAgent,
) -> StreamingAgent[str | Message, tuple[Reply, str]]:
    """The session's turn, and beside it, its text reviewed sentence by sentence."""
    review = map_deltas(text_of) >> split_sentences >> reviewer
    return session >> (forward & review)


async def run_demo(
    out: TextIO,
    store: SQLiteStore,
    question: str = QUESTION,
    pace: float = 0.02,
    tokens: int = 200,
) -> StreamingMetrics | None:
    """Ask ``question`` of an assistant on the embedded model with the glossary tool, keep the
    conversation in ``store``, and write the transcript to ``out`` as it streams; the
    metrics of the turn are returned."""
    model = EmbeddedModel(pace=pace, max_tokens=tokens, label="assistant")
    session = MessengerAgent(model, tools=[tool(define)], store=store)
    pipeline = build_pipeline(session)
    out.write(f"pipeline: {pipeline!r}\n")
    out.write(f"tools:    {', '.join(t.name for t in session.tools)}\n\nuser: {question}\n")
    transcript = Transcript(out, session)
    async with pipeline.stream(question) as stream:
        async for chunk in stream:
            reply, remark = chunk.delta
            transcript.show(reply, remark)
    transcript.show(Reply(), "")
    out.write(f"\n\nconversation {session.conversation.id}: ")
    out.write(f"{len(session.conversation)} messages kept in {store.path}\n")
    return session.metrics
