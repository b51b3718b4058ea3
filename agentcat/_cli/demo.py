"""The demo pipeline: two embedded models, a transducer, a fan-out and a whole-input stage."""

from __future__ import annotations

import re
import time
from typing import TextIO

from attrs import frozen

from agentcat import Agent, EmbeddedModel, StreamingAgent, agent, forward, map_deltas

__all__ = ["DemoReport", "build_pipeline", "run_demo"]

_TERMS = re.compile(r"\b(agents?|functor|category|composition|streams?|laws?)\b", re.IGNORECASE)


def highlight(token: str) -> str:
    """Upper-case the words of the trade (a per-token map: a homomorphism at token level)."""
    return _TERMS.sub(lambda match: match.group(0).upper(), token)


def brief(topic: str) -> str:
    """Turn a topic into the writer's prompt."""
    return f"Write a short note about {topic}."


def statistics(text: str) -> str:
    """A whole-input stage: it can only count once the text is complete."""
    words = len(re.findall(r"[A-Za-z']+", text))
    sentences = len(re.findall(r"[.!?]", text))
    return f"{words} words, {sentences} sentences"


def build_pipeline(
    pace: float = 0.02, tokens: int = 60
) -> StreamingAgent[str, tuple[str, str, str]]:
    """``brief >> writer >> map_deltas(highlight) >> (forward & critic & statistics)``: the
    plain ``brief`` and ``statistics`` take part as whole-input stages."""
    writer = EmbeddedModel(pace=pace, max_tokens=tokens, label="writer")
    critic = EmbeddedModel(pace=pace, max_tokens=max(1, tokens // 2), seed=1, label="critic")
    text: StreamingAgent[str, str] = forward
    stats: Agent[str, str] = agent(statistics)
    return agent(brief) >> writer >> map_deltas(highlight) >> (text & critic & stats)


@frozen
class DemoReport:
    """What a demo run measured."""

    tokens: int
    time_to_first_token: float
    duration: float

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.duration if self.duration else 0.0


async def run_demo(topic: str, out: TextIO, pace: float = 0.02, tokens: int = 60) -> DemoReport:
    """Run the pipeline on ``topic``, writing every token to ``out`` as it arrives."""
    pipeline = build_pipeline(pace, tokens)
    out.write(f"pipeline: {pipeline!r}\n\nwriter: ")
    started = time.perf_counter()
    first: float | None = None
    count = 0
    critic_started = False
    async with pipeline.stream(topic) as stream:
        async for chunk in stream:
            text, critique, stats = chunk.delta
            if text or critique:
                count += 1
                first = first if first is not None else time.perf_counter() - started
            if critique and not critic_started:
                critic_started = True
                out.write("\n\ncritic: ")
            out.write(text + critique)
            if stats:
                out.write(f"\n\n[statistics, once the text was whole: {stats}]")
            out.flush()
    duration = time.perf_counter() - started
    return DemoReport(count, first if first is not None else duration, duration)
