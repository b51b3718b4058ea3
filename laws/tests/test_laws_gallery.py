"""The gallery: each broken implementation in ``laws_gallery`` is caught by the law it breaks,
with a small shrunk counterexample.

"Small" is asserted case by case, on the counterexample Hypothesis shrank to: inputs of at
most 2 characters (at most 2 UTF-8 sequences, 4 bytes, for the decoder), chunkings of at most
2 deltas, generated programs of at most 2 operations, chains of at most 2 steps. Each case runs
only the suite of the law it breaks, to keep the gallery fast; ``test_only_the_expected_laws_break``
runs every suite on two of them, and ``test_the_laws_that_compare_a_thing_with_itself_miss_it``
runs every other law on the faults that only the laws against a reference (or beyond values)
catch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import laws_gallery as gallery
import pytest
from agentcat_laws import Counterexample, Program, check_laws, plan_laws, texts
from attrs import field, frozen
from laws_settings import FAST, GLANCE, SHRINK

pytestmark = pytest.mark.anyio


@frozen
class Case:
    subject: Any
    law: str
    small: Callable[[Counterexample], bool]
    suite: str
    options: dict[str, Any] = field(factory=dict)


def short(limit: int, name: str = "x") -> Callable[[Counterexample], bool]:
    return lambda found: len(found.example[name]) <= limit


def programs_short(found: Counterexample) -> bool:
    agents = [v for v in found.example.values() if isinstance(v, Program)]
    return bool(agents) and all(len(p.ops) <= 2 for p in agents) and len(found.example["x"]) <= 2


def cut_once(found: Counterexample) -> bool:
    return len(found.example["x"]) <= 2 and len(found.example["chunking"]) == 2


def cut_inside_a_sequence(found: Counterexample) -> bool:
    x, chunking = found.example["x"], found.example["chunking"]
    inside = any(not piece.decode("utf-8", errors="ignore") for piece in chunking)
    return len(x) <= 4 and len(chunking) <= 2 and inside


def chain_short(found: Counterexample) -> bool:
    e = found.example
    return len(e["chain"]) <= 2 and len(e["x"]) <= 2 and len(e["chunking"]) <= 2


def one_delta(found: Counterexample) -> bool:
    return len(found.example["x"]) <= 1 and len(found.example["chunking"]) <= 1


def closed_early(found: Counterexample) -> bool:
    return found.example["read"] == 1 and len(found.example["x"]) == 1


NEW_CASES: dict[str, Case] = {
    "a >> that reverses chains of three": Case(gallery.REVERSED_CHAINS, "C4", programs_short, "C4"),
    "a fan-out that swaps two of three outputs": Case(
        gallery.SWAPPED_FAN_OUT, "P6", programs_short, "P6"
    ),
    "an inverted filter": Case(gallery.INVERTED_FILTER, "S6", one_delta, "S6"),
    "a fusion of maps in the wrong order": Case(gallery.FUSED_BACKWARDS, "S7", chain_short, "S7"),
    "a map that reads one delta ahead": Case(gallery.READS_AHEAD, "S8", chain_short, "S8"),
    "a lift that ends a plain value with an empty chunk": Case(
        gallery.TWO_CHUNKS, "W6", programs_short, "W6"
    ),
    "a stream that ends quietly where its source fails": Case(
        gallery.QUIET_FAILURE, "E5", short(0), "E5"
    ),
    "a stream that does not close its source": Case(
        gallery.UNCLOSED_SOURCE, "E6", closed_early, "E6"
    ),
}
"""Faults that only the laws against a reference, or beyond values, catch."""

NEW_LAWS = {"C4", "P6", "P7", "S5", "S6", "S7", "S8", "W6", "E5", "E6"}

CASES: dict[str, Case] = {
    "composition in the wrong order": Case(gallery.WRONG_ORDER, "C0", programs_short, "C0"),
    "chunk-wise feeding of a non-homomorphic stage": Case(
        gallery.DOUBLE_EACH_DELTA, "S3", cut_once, "S3", {"inputs": texts()}
    ),
    "a dropped delta": Case(gallery.DROPPED_DELTA, "W1", short(2), "chunk well-formedness"),
    "a duplicated final chunk": Case(
        gallery.DUPLICATED_FINAL, "W2", short(0), "chunk well-formedness"
    ),
    "a done that is not last": Case(gallery.DONE_NOT_LAST, "W2", short(1), "chunk well-formedness"),
    "an accumulation that strips white space": Case(
        gallery.STRIPPING, "M1", short(1), "monoid", {"inputs": texts()}
    ),
    "a fan-out that runs a branch twice": Case(gallery.BRANCH_TWICE, "P1", programs_short, "P1"),
    "a failure that still invokes the next stage": Case(
        gallery.parse_number, "E2", short(1), "errors"
    ),
    "a byte transducer that splits UTF-8 sequences": Case(
        gallery.decode_each_chunk, "S3", cut_inside_a_sequence, "S3"
    ),
    **NEW_CASES,
}


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("name", CASES)
async def test_the_broken_law_is_caught_with_a_small_counterexample(name: str) -> None:
    case = CASES[name]
    report = await check_laws(case.subject, laws=[case.suite], settings=SHRINK, **case.options)
    result = report[case.law]
    assert not result.passed, str(report)
    found = result.counterexample
    assert found is not None, str(report)
    assert case.small(found), str(report)


async def test_gallery_cases_are_caught_under_every_backend() -> None:
    report = await check_laws(gallery.decode_each_chunk, laws=["S3"], settings=SHRINK)
    found = report["S3"].counterexample
    assert found is not None
    assert found.left != found.right


def test_a_non_homomorphic_map_breaks_the_homomorphism_law_too() -> None:
    from agentcat_laws import check_laws_sync

    report = check_laws_sync(
        gallery.DOUBLE_EACH_DELTA, inputs=texts(), laws=["S3b"], settings=SHRINK
    )
    found = report["S3b"].counterexample
    assert found is not None
    assert len(found.example["x"]) + len(found.example["y"]) <= 2


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_only_the_expected_laws_break() -> None:
    report = await check_laws(gallery.decode_each_chunk, settings=FAST)
    assert {r.law.name for r in report.broken} == {"S3"}, str(report)
    report = await check_laws(gallery.parse_number, inputs=texts(), settings=FAST)
    assert {"E1", "E2"} <= {r.law.name for r in report.broken}, str(report)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("name", NEW_CASES)
async def test_the_laws_that_compare_a_thing_with_itself_miss_it(name: str) -> None:
    """Every law that applies, but those against a reference or beyond values, passes."""
    subject = NEW_CASES[name].subject
    old = [law.name for law in plan_laws(subject).laws if law.name not in NEW_LAWS]
    report = await check_laws(subject, laws=old, settings=GLANCE)
    assert report.passed, str(report)
    assert {"C0", "C3"} <= set(old)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_an_inverted_filter_is_sound() -> None:
    """As a transducer subject, the inverted filter_deltas(non_empty) passes S3 (it keeps
    nothing, however the input is cut), and S6, which can only take its predicate from it: the
    predicate meant is known where the filter is made, so S6 checks the combinators'
    filter_deltas with predicates of its own."""
    inverted = gallery.INVERTED_FILTER.filter_deltas(non_empty)
    report = await check_laws(inverted, inputs=texts(), laws=["S3", "S6"], settings=FAST)
    assert report.passed, str(report)


def non_empty(delta: str) -> bool:
    return bool(delta)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize(
    "subject",
    [gallery.decode_incrementally, gallery.WELL_MADE],
    ids=["incremental decoder", "well-made chunk source"],
)
async def test_the_fixed_versions_pass(subject: Any) -> None:
    report = await check_laws(subject, settings=FAST)
    assert report.passed, str(report)
