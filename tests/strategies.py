"""Hypothesis strategies of the root tests that :mod:`agentcat_laws` does not publish.

The generated agents come from :mod:`agentcat_laws.programs`: ``Program`` (a short list of
order-sensitive operations on text, printable and shrinkable, whose ``run`` is the plain function
it computes), ``programs``, ``ops``, ``LawError`` and ``errors``; inputs are
``agentcat_laws.texts``. This module pairs them with their *models*, so that a composite can be
compared with the composition of the functions, not only with itself:

- :func:`fallible_agents`: fallible agents, each paired with the program it runs or the error it
  fails with; :func:`kleisli_model`: what such agents in sequence return;
- :func:`composite_agents`: agents built with ``>>``, retry, fallback and recover, each paired
  with one program that computes the same function;
- :func:`text_pairs`: the inputs of ``f * g``.

Every strategy draws eagerly (no ``st.functions``), so they are safe in ``async`` tests.
"""

from __future__ import annotations

from agentcat_laws import LawError, Program, errors, programs, texts
from hypothesis import strategies as st
from returns.result import Failure, Result, Success

from agentcat import Agent, Fallible, fail

__all__ = [
    "Modelled",
    "ModelledFallible",
    "composite_agents",
    "fallible_agents",
    "kleisli_model",
    "text_pairs",
]


def text_pairs() -> st.SearchStrategy[tuple[str, str]]:
    """Pairs of :func:`agentcat_laws.texts`, the inputs of ``f * g``."""
    return st.tuples(texts(), texts())


ModelledFallible = tuple[Fallible[str, str, Exception], Program | LawError]
"""A generated fallible agent and its model: the program it runs, or the error it fails with."""


def fallible_agents(max_ops: int = 3) -> st.SearchStrategy[ModelledFallible]:
    """Fallible agents that succeed (``program.as_result()``) or always fail (``fail(error)``),
    each paired with its model."""
    return st.one_of(programs(max_ops).map(_succeeding), errors().map(_failing))


def _succeeding(program: Program) -> ModelledFallible:
    return program.as_result(), program


def _failing(error: LawError) -> ModelledFallible:
    return fail(error), error


def kleisli_model(models: list[Program | LawError], text: str) -> Result[str, Exception]:
    """What fallible agents in sequence return, from their models: the first failure, or else
    the success of the programs run one after the other."""
    for model in models:
        if isinstance(model, LawError):
            return Failure(model)
        text = model.run(text)
    return Success(text)


Modelled = tuple[Agent[str, str], Program]
"""A generated agent and the program that is its model."""


def composite_agents(max_leaves: int = 4) -> st.SearchStrategy[Modelled]:
    """Agents from ``str`` to ``str`` built with ``>>``, retry, fallback and recover over
    programs, each paired with one program that computes the same function (its model)."""

    def extend(inner: st.SearchStrategy[Modelled]) -> st.SearchStrategy[Modelled]:
        return st.one_of(
            st.builds(_sequence, inner, inner),
            st.builds(_retried, inner),
            st.builds(_with_fallback, inner, inner),
            st.builds(_recovered, inner, inner),
        )

    leaves = programs().map(lambda program: (program, program))
    return st.recursive(leaves, extend, max_leaves=max_leaves)


def _sequence(first: Modelled, second: Modelled) -> Modelled:
    return first[0] >> second[0], Program(first[1].ops + second[1].ops)


def _retried(inner: Modelled) -> Modelled:
    return inner[0].with_retry(2), inner[1]


def _with_fallback(inner: Modelled, other: Modelled) -> Modelled:
    # `inner` never fails, so `other` is never invoked.
    return inner[0].with_fallback(other[0]), inner[1]


def _recovered(inner: Modelled, handler: Modelled) -> Modelled:
    # `inner` never fails, so `handler` is never invoked.
    return inner[0].as_result().recover(handler[0]), inner[1]
