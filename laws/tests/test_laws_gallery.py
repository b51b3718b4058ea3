"""The gallery: each broken implementation in ``laws_gallery`` is caught by the law it breaks,
with a small shrunk counterexample.

"Small" is asserted case by case, on the counterexample Hypothesis shrank to: inputs of at
most 2 characters (at most 2 UTF-8 sequences, 4 bytes, for the decoder), chunkings of at most
2 deltas, generated programs of at most 2 operations. Each case runs only the suite of the law
it breaks, to keep the gallery fast; ``test_only_the_expected_laws_break`` runs every suite on
two of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import laws_gallery as gallery
import pytest
from agentcat_laws import Counterexample, Program, check_laws, texts
from attrs import field, frozen
from laws_settings import FAST, SHRINK

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
@pytest.mark.parametrize(
    "subject",
    [gallery.decode_incrementally, gallery.WELL_MADE],
    ids=["incremental decoder", "well-made chunk source"],
)
async def test_the_fixed_versions_pass(subject: Any) -> None:
    report = await check_laws(subject, settings=FAST)
    assert report.passed, str(report)
