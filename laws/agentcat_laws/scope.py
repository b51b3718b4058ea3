"""The scope of a law check: the subject, what kind of thing it is, and what the laws draw.

Most laws have several agents in them (``f``, ``g``, ``h``); the subject takes one place and
generated *companions* take the others. Companions are programs when the subject maps text to
text (then the subject can stand anywhere in a chain), and marks otherwise (then it stands
first, and marks, which accept anything, follow it). Companions are of the subject's kind:
lifted next to a streaming subject, fallible next to a fallible one, so ``>>`` composes them as
it composes the subject. When the subject is a set of :class:`Combinators`, every place is a
generated program.
"""

from __future__ import annotations

import typing
from typing import Any, Literal

from attrs import frozen
from hypothesis import strategies as st
from returns.result import Result

from agentcat import STR, Agent, Fallible, Monoid, StreamingAgent, Transducer
from agentcat.transducers import MapDeltas
from agentcat_laws.instruments import Chunked
from agentcat_laws.programs import fallible_programs, marks, programs
from agentcat_laws.strategies import chunk_plans
from agentcat_laws.subjects import ChunkSource, Combinators, Consumer

__all__ = ["Kind", "Scope", "kind_of"]

Kind = Literal[
    "agent",
    "fallible",
    "streaming",
    "transducer",
    "monoid",
    "consumer",
    "chunk_source",
    "combinators",
]
"""What a subject is, which decides the suites that apply to it."""

AnyAgent = Agent[Any, Any]


def returns_result(agent: AnyAgent) -> bool:
    """Whether ``agent`` is annotated to return a ``returns`` ``Result``."""
    output = agent.output_type
    origin = typing.get_origin(output) or output
    return isinstance(origin, type) and issubclass(origin, Result)


def kind_of(subject: object) -> Kind:
    """The kind of ``subject``; :class:`TypeError` for something the laws cannot check."""
    if isinstance(subject, Combinators):
        return "combinators"
    if isinstance(subject, Monoid):
        return "monoid"
    if isinstance(subject, Consumer):
        return "consumer"
    if isinstance(subject, ChunkSource):
        return "chunk_source"
    if isinstance(subject, Transducer):
        return "transducer"
    if isinstance(subject, StreamingAgent):
        return "streaming"
    if isinstance(subject, Fallible):
        return "fallible"
    if isinstance(subject, Agent):
        return "fallible" if returns_result(subject) else "agent"
    raise TypeError(
        f"agentcat_laws cannot check the laws of {subject!r}: pass an Agent, a Monoid, "
        "Combinators, or a function wrapped with consumer() or chunk_source()"
    )


def _text_to_text(subject: object) -> bool:
    if isinstance(subject, StreamingAgent):
        return subject.input_type is str and subject.element_type is str
    if isinstance(subject, Agent):
        return subject.input_type is str and subject.output_type is str
    return False


@frozen
class Scope:
    """A subject and everything its laws draw from.

    ``inputs`` draws the subject's inputs; ``input_monoid`` is how a chunked input accumulates
    and ``output_monoid`` how the subject's output deltas do (``None``: found from the values'
    types at run time); ``timeout`` bounds the run of one example, in seconds; ``drawn`` says
    what the inputs are, for the report.
    """

    subject: Any
    kind: Kind
    inputs: st.SearchStrategy[Any]
    combinators: Combinators
    input_monoid: Monoid[Any] | None = None
    output_monoid: Monoid[Any] | None = None
    timeout: float = 10.0
    drawn: str = ""
    """What ``inputs`` are, as a report says it (how the inputs were drawn)."""

    @property
    def generated(self) -> bool:
        """Whether every agent of the laws is generated (the subject is the combinators)."""
        return self.kind == "combinators"

    @property
    def streaming(self) -> bool:
        """Whether the agents of the laws stream."""
        if self.generated:
            return self.combinators.streaming
        return self.kind in ("streaming", "transducer")

    @property
    def fallible(self) -> bool:
        """Whether the subject is a fallible agent (it returns a ``Result``)."""
        return self.kind == "fallible"

    @property
    def endomorphic(self) -> bool:
        """Whether the subject maps text to text, so it can stand anywhere in a chain."""
        return self.generated or _text_to_text(self.subject)

    @property
    def declared_homomorphism(self) -> bool:
        """Whether the subject declares itself a monoid homomorphism (a per-delta map)."""
        return isinstance(self.subject, MapDeltas)

    def adapt(self, agent: AnyAgent) -> AnyAgent:
        """A plain generated agent made of the scope's kind: lifted when the laws stream."""
        return self.combinators.lift(agent, None) if self.streaming else agent

    def primary(self) -> st.SearchStrategy[AnyAgent]:
        """The agent in the subject's place: the subject, or a generated program."""
        if not self.generated:
            return st.just(self.subject)
        if self.combinators.streaming:
            lift = self.combinators.lift
            return st.builds(lambda p, c: lift(Chunked(p, c), STR), programs(), chunk_plans())
        return programs()

    def companions(self) -> st.SearchStrategy[AnyAgent]:
        """Agents for the other places of a law (see the module's docstring)."""
        if self.generated:
            return self.primary()
        return self.plain_companions().map(self.adapt)

    def plain_companions(self) -> st.SearchStrategy[AnyAgent]:
        """The companions before they are made of the scope's kind: programs or marks."""
        return programs() if self.endomorphic else marks()

    def fallible_primary(self) -> st.SearchStrategy[AnyAgent]:
        """The fallible agent in the subject's place: the subject (a plain subject is made
        fallible with ``as_result``), or a generated one that succeeds or fails."""
        if self.generated:
            return fallible_programs()
        if self.fallible:
            return st.just(self.subject)
        return st.just(self.combinators.as_result(self.subject))

    def fallible_companions(self) -> st.SearchStrategy[AnyAgent]:
        """Fallible agents for the other places of the error laws."""
        if self.generated:
            return fallible_programs()
        base: st.SearchStrategy[AnyAgent] = programs() if self.endomorphic else marks()
        return base.map(self.combinators.as_result)

    def position(self, places: int) -> st.SearchStrategy[int]:
        """Where the subject stands among ``places`` agents in a chain."""
        return st.integers(0, places - 1) if self.endomorphic else st.just(0)

    def describe(self) -> str:
        """The subject, as the report names it."""
        return repr(self.subject)
