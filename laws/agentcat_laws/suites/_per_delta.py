"""Chains of per-delta stages, for the laws that check them delta by delta: a chain is a list
of links, each a generated :class:`~agentcat_laws.programs.Step` (built with the scope's
combinators) or the subject, a declared per-delta stage; :func:`model` runs it by the plain
functions, :func:`traced` runs it fed by an instrumented source."""

from __future__ import annotations

from typing import Any

from agentcat.transducers import FilterDeltas, Forward, MapDeltas
from agentcat_laws.instruments import Each, Life, Source, monoid_of_value
from agentcat_laws.law import Example
from agentcat_laws.observe import collect
from agentcat_laws.programs import DROPPED, Step
from agentcat_laws.scope import Scope
from agentcat_laws.suites._common import AnyAgent, input_monoid

__all__ = [
    "Link",
    "Trace",
    "compose_chain",
    "empty",
    "model",
    "per_delta",
    "stage",
    "streamed_combinators",
    "through",
    "traced",
]

Link = Any
"""A stage of a per-delta chain: a generated :class:`Step`, or the subject."""


def per_delta(scope: Scope) -> bool:
    """Whether the subject is a declared per-delta stage: a map, a filter, or ``forward``."""
    return isinstance(scope.subject, MapDeltas | FilterDeltas | Forward)


def streamed_combinators(scope: Scope) -> bool:
    """Whether the subject is a set of combinators checked on streaming agents."""
    return scope.generated and scope.combinators.streaming


def stage(scope: Scope, link: Link) -> AnyAgent:
    """The agent of a link: a step made with the scope's combinators, or the subject."""
    if not isinstance(link, Step):
        return link  # type: ignore[no-any-return]
    made = scope.combinators
    if link.kind == "map":
        return made.map_deltas(link.op)
    if link.kind == "filter":
        return made.filter_deltas(link.keep)
    if link.kind == "each":
        return Each(link.op)
    return made.lift(made.identity, None)  # the streaming identity, a forwarder


def through(link: Link, delta: Any) -> Any:
    """What a link does to one delta, by its plain function (:data:`DROPPED`: filtered out)."""
    if isinstance(link, Step):
        return link.apply(delta)
    if isinstance(link, MapDeltas):
        return link.function(delta)
    if isinstance(link, FilterDeltas):
        return delta if link.keep(delta) else DROPPED
    return delta


def empty(value: Any) -> bool:
    """Whether ``value`` is an empty delta, which a stream passes over."""
    return not value and monoid_of_value(value).is_empty(value)


Trace = tuple[list[tuple[int, Any]], BaseException | None]
"""A stream's non-empty deltas, each with a position (the input delta it was made of, or how
many deltas the source had made when it arrived), and the error that ended it."""


def compose_chain(scope: Scope, chain: list[Link]) -> AnyAgent:
    """The links composed with the scope's ``>>``, from the left: ``(a >> b) >> c``, so that
    adjacent per-delta stages meet (and are fused) before a source is put in front."""
    composed = stage(scope, chain[0])
    for link in chain[1:]:
        composed = scope.combinators.compose(composed, stage(scope, link))
    return composed


def model(chain: list[Link], chunking: list[Any]) -> Trace:
    """The chain by its plain functions: each input delta through every link, in order."""
    made: list[tuple[int, Any]] = []
    for index, delta in enumerate(chunking):
        value = delta
        try:
            for link in chain:
                value = through(link, value)
                if value is DROPPED:
                    break
        except Exception as error:
            return made, error
        if value is not DROPPED and not empty(value):
            made.append((index, value))
    return made, None


async def traced(scope: Scope, e: Example) -> Trace:
    """The chain fed the chunking by a source, each delta with how far the source had got."""
    chain, x = e["chain"], e["x"]
    life = Life()
    combinators = scope.combinators
    source = combinators.lift(Source(tuple(e["chunking"]), life), input_monoid(scope, x))
    arrivals: list[tuple[int, Any]] = []

    def arrived(chunk: Any) -> None:
        if not empty(chunk.delta):
            arrivals.append((life.produced, chunk.delta))

    try:
        stream = await combinators.compose(source, compose_chain(scope, chain)).invoke(x)
    except Exception as failure:
        return arrivals, failure
    _, error = await collect(stream, arrived)
    return arrivals, error
