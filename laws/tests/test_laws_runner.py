"""The runner: check_laws under asyncio and trio, from synchronous code, the report, the
choice of laws, timeouts, consumers, and settings left as the user had them."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from html.parser import HTMLParser

import anyio
import anyio.lowlevel
import pytest
from agentcat_laws import (
    AGENTCAT,
    LawsBroken,
    assert_laws,
    check_laws,
    check_laws_sync,
    consumer,
    kind_of,
    plan_laws,
    texts,
)
from agentcat_laws.runner import engine_settings
from hypothesis import Phase, settings
from hypothesis import strategies as st
from laws_gallery import STRIPPING
from laws_settings import FAST, SHRINK

from agentcat import STR, Chunk, agent, transducer

anyio_test = pytest.mark.anyio


@agent
async def exclaim(text: str) -> str:
    await anyio.lowlevel.checkpoint()  # a real task switch, under either event loop
    return text + "!"


@anyio_test
async def test_check_laws_runs_under_the_running_event_loop(anyio_backend: str) -> None:
    seen: list[str] = []

    @agent
    async def which_loop(text: str) -> str:
        import sniffio

        seen.append(sniffio.current_async_library())
        return text

    report = await check_laws(which_loop, laws=["C1"], settings=FAST)
    assert report.passed
    assert set(seen) == {anyio_backend}


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_check_laws_sync_runs_an_event_loop_of_its_own(backend: str) -> None:
    report = check_laws_sync(exclaim, backend=backend, laws=["category"], settings=FAST)  # type: ignore[arg-type]
    assert report.passed
    assert [r.law.name for r in report.results] == ["C0", "C1", "C2", "C3", "C4"]
    assert all(r.examples > 0 for r in report.results)


def test_the_report_shows_the_law_and_the_shrunk_counterexample() -> None:
    report = check_laws_sync(STRIPPING, inputs=texts(), laws=["M1", "M3"], settings=SHRINK)
    assert str(report) == "\n".join(
        [
            "agentcat-laws: Monoid(stripped str) (monoid)",
            "inputs: as given (inputs=)",
            "FAIL  M1   identity: e ⊕ x = x = x ⊕ e",
            "      counterexample (shrunk):",
            "        x = ' '",
            "      e ⊕ x (or x ⊕ e) -> ''",
            "      x                -> ' '",
            "      side: e ⊕ x",
            "FAIL  M3   fold: q(s ++ t) = q(s) ⊕ q(t), q([]) = e, q([x]) = x, where q is concat",
            "      counterexample (shrunk):",
            "        s = []",
            "        t = [' ']",
            "      left side of the case  -> ''",
            "      right side of the case -> ' '",
            "      case: q([x]) = x",
            "2 laws: 0 held, 2 broken (M1, M3)",
        ]
    )
    assert not report.passed
    assert [r.law.name for r in report.broken] == ["M1", "M3"]


@transducer
async def untag(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
    async for delta in deltas:  # each chunk on its own: a tag cut in two gets through
        yield delta.replace("<b>", "")


class Page(HTMLParser):
    """The rows of an HTML table, each a list of its cells' text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.cell = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.rows[-1].append("")
            self.cell = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self.cell = False

    def handle_data(self, data: str) -> None:
        if self.cell:
            self.rows[-1][-1] += data


def test_the_report_as_html_is_a_table_of_the_laws_with_every_value_escaped() -> None:
    tags = st.lists(st.sampled_from(["<b>", "<", "b>", "x"]), max_size=4).map("".join)
    report = check_laws_sync(untag, inputs=tags, laws=["S3", "C1"], settings=SHRINK)
    html = report._repr_html_()
    assert "'<b>'" not in html  # the counterexample's markup is text, not markup
    head, identity, soundness = Page(html).rows
    assert head == ["law", "statement", "verdict", "counterexample"]
    assert identity == [
        "C1left identity",
        "Id >> f ≡ f",
        f"held{report['C1'].examples} examples",
        "",
    ]
    assert soundness[2].startswith("broken")
    told = [line.removeprefix("      ") for line in str(report["S3"]).splitlines()[1:]]
    assert (
        soundness[3].splitlines()
        == told
        == [
            "counterexample (shrunk):",
            "  x        = '<b>'",
            "  chunking = ['<', 'b>']",
            "q((chunking >> t)(x)) -> '<b>'",
            "q(t(x))               -> ''",
        ]
    )
    assert Page(report["S3"]._repr_html_()).rows[1] == soundness


@anyio_test
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_assert_laws_raises_with_the_report() -> None:
    with pytest.raises(LawsBroken) as raised:
        await assert_laws(STRIPPING, inputs=texts(), laws=["M1"], settings=SHRINK)
    assert "FAIL  M1" in str(raised.value)
    assert raised.value.report["M1"].counterexample is not None
    assert isinstance(raised.value, AssertionError)
    report = await assert_laws(STR, laws=["M1"], settings=FAST)
    assert report.passed


def test_laws_and_suites_can_be_chosen() -> None:
    check = plan_laws(exclaim, laws=["C3", "products"])
    assert [law.name for law in check.laws] == ["C3", "P1", "P2", "P3", "P4", "P5", "P6", "P7"]
    with pytest.raises(ValueError, match="S3"):
        plan_laws(exclaim, laws=["S3"])  # a transducer law, not an agent's


def test_the_suites_follow_the_kind_of_subject() -> None:
    assert kind_of(exclaim) == "agent"
    assert kind_of(exclaim.as_result()) == "fallible"
    assert kind_of(STR) == "monoid"
    assert kind_of(AGENTCAT) == "combinators"
    names = {law.name for law in plan_laws(STR).laws}
    assert names == {"M1", "M2", "M3"}
    with pytest.raises(TypeError, match="cannot check"):
        kind_of(42)


def test_inputs_are_found_from_annotations_or_asked_for() -> None:
    @agent
    async def untyped(text):  # type: ignore[no-untyped-def]
        return text

    with pytest.raises(TypeError, match="inputs="):
        plan_laws(untyped)
    assert plan_laws(untyped, inputs=st.integers()).laws


@transducer
async def stalls(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
    count = 0
    async for delta in deltas:
        count += 1
        if count > 1:
            await anyio.sleep_forever()
        yield delta


def test_a_stage_that_never_ends_is_reported_not_waited_for() -> None:
    report = check_laws_sync(stalls, laws=["S3"], example_timeout=0.2, settings=SHRINK)
    found = report["S3"].counterexample
    assert found is not None
    assert found.left == "timed out"
    assert len(found.example["chunking"]) == 2


@consumer(monoid=STR)
async def count_letters(stream: AsyncIterator[Chunk[str]]) -> int:
    return sum([sum(c.isalpha() for c in chunk.delta) async for chunk in stream])


@consumer(monoid=STR)
async def count_chunks(stream: AsyncIterator[Chunk[str]]) -> int:
    return len([chunk async for chunk in stream])


def test_a_chunk_agnostic_consumer_passes_s4_and_a_chunk_counter_does_not() -> None:
    assert check_laws_sync(count_letters, settings=FAST).passed
    report = check_laws_sync(count_chunks, settings=SHRINK)
    found = report["S4"].counterexample
    assert found is not None
    assert len(found.example["x"]) == 2
    assert len(found.example["chunking"]) == 2


def test_settings_are_left_as_the_user_had_them() -> None:
    before = settings.default
    mine = settings(max_examples=7, deadline=1000)
    used = engine_settings(mine)
    assert used.max_examples == 7
    assert used.deadline is None
    assert not used.report_multiple_bugs
    assert Phase.explain not in used.phases
    assert mine.deadline is not None  # the user's object is not changed
    check_laws_sync(exclaim, laws=["C1"], settings=mine)
    assert settings.default is before


def test_a_nondeterministic_subject_is_reported_as_flaky() -> None:
    calls = itertools.count()

    @agent
    async def moody(text: str) -> str:
        return text if next(calls) % 7 else text + "?"

    report = check_laws_sync(moody, laws=["C1"], settings=SHRINK)
    found = report["C1"].counterexample
    assert found is not None
    assert found.flaky
    assert "flaky" in str(report)
