"""agentcat's own core satisfies its laws: every combinator (checked on generated programs,
plain and streaming), every built-in transducer and monoid, and agents of every kind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from agentcat_laws import AGENTCAT, LawReport, check_laws, texts
from hypothesis import strategies as st
from laws_settings import FAST

from agentcat import (
    BYTES,
    DICT,
    LIST,
    STR,
    TUPLE,
    Agent,
    Monoid,
    agent,
    filter_deltas,
    forward,
    map_deltas,
    split_sentences,
    streaming,
)
from agentcat.monoids import LAST, ProductMonoid

pytestmark = pytest.mark.anyio

asyncio_only = pytest.mark.parametrize("anyio_backend", ["asyncio"])
"""For the many subjects checked under asyncio only: the combinators and a streaming agent are
checked under both event loops, which is where the backend matters; the whole run stays short."""


def assert_all_hold(report: LawReport, expected: set[str] | None = None) -> None:
    __tracebackhide__ = True
    assert report.passed, str(report)
    if expected is not None:
        assert {r.law.name for r in report.results} == expected


async def test_the_combinators_satisfy_every_law() -> None:
    report = await check_laws(AGENTCAT, settings=FAST)
    assert_all_hold(report)
    assert {"C0", "C3", "C4", "S0", "S2", "W6", "P1", "P5", "P6", "P7", "E1", "E2", "E4"} <= {
        r.law.name for r in report.results
    }


async def test_the_streaming_combinators_satisfy_every_law() -> None:
    report = await check_laws(AGENTCAT.streamed(), settings=FAST)
    assert_all_hold(report)
    assert {
        "C3",
        "C4",
        "W1",
        "P4",
        "P6",
        "SP1",
        "SP2",
        "S5",
        "S6",
        "S7",
        "S8",
        "E3",
        "E5",
        "E6",
    } <= {r.law.name for r in report.results}


def upper(delta: str) -> str:
    """A homomorphism of text: upper-casing commutes with concatenation."""
    return delta.upper()


def non_empty(delta: str) -> bool:
    return bool(delta)


TRANSDUCERS: dict[str, Agent[Any, Any]] = {
    "forward": forward,
    "map_deltas(upper)": map_deltas(upper),
    "split_sentences": split_sentences,
    "filter_deltas(non_empty)": filter_deltas(non_empty),
}


PER_DELTA_LAWS = {
    "forward": {"S7", "S8"},
    "map_deltas(upper)": {"S5", "S7", "S8"},
    "split_sentences": set(),
    "filter_deltas(non_empty)": {"S6", "S7", "S8"},
}


@pytest.mark.parametrize("name", TRANSDUCERS)
@asyncio_only
async def test_built_in_transducers_satisfy_their_laws(name: str) -> None:
    report = await check_laws(TRANSDUCERS[name], inputs=texts(), settings=FAST)
    assert not report.broken, str(report)
    names = {r.law.name for r in report.results}
    assert {"S3", "C4", "P6", "E5", "E6"} | PER_DELTA_LAWS[name] <= names
    assert names & {"S5", "S6", "S7", "S8"} == PER_DELTA_LAWS[name]


MONOIDS: dict[str, tuple[Monoid[Any], st.SearchStrategy[Any] | None]] = {
    "STR": (STR, None),
    "BYTES": (BYTES, None),
    "LIST": (LIST, None),
    "TUPLE": (TUPLE, None),
    "DICT": (DICT, None),
    "LAST": (LAST, None),
    "product": (
        ProductMonoid.of_components([STR, LIST]),
        st.tuples(texts(), st.lists(st.integers(), max_size=3)),
    ),
}


@pytest.mark.parametrize("name", MONOIDS)
@asyncio_only
async def test_built_in_monoids_satisfy_m1_to_m3(name: str) -> None:
    monoid, inputs = MONOIDS[name]
    report = await check_laws(monoid, inputs=inputs, settings=FAST)
    assert_all_hold(report, {"M1", "M2", "M3"})


@agent
async def shout(text: str) -> str:
    return text.upper() + "!"


@agent
async def parse(text: str) -> int:
    return int(text)  # raises on most inputs: laws compare failures too


@streaming
async def words(text: str) -> AsyncIterator[str]:
    for word in text.split(" "):
        yield word + " "


@asyncio_only
async def test_a_plain_agent_satisfies_its_laws() -> None:
    assert_all_hold(await check_laws(shout, settings=FAST))


@asyncio_only
async def test_an_agent_that_raises_satisfies_its_laws() -> None:
    report = await check_laws(parse, inputs=st.sampled_from(["1", "x", ""]), settings=FAST)
    assert_all_hold(report)


@asyncio_only
async def test_a_fallible_agent_satisfies_its_laws() -> None:
    report = await check_laws(parse.as_result(ValueError), inputs=texts(), settings=FAST)
    assert_all_hold(report)
    assert {"E1", "E2", "E4", "C0"} <= {r.law.name for r in report.results}


async def test_a_streaming_agent_satisfies_its_laws() -> None:
    report = await check_laws(words, inputs=texts(), settings=FAST)
    assert_all_hold(report)
    assert {"S4", "W1", "SP1", "E3"} <= {r.law.name for r in report.results}
