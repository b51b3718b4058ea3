"""No false green on a word the laws have never seen: a subject's default inputs are made of
the string constants of its own code, so a per-chunk censor of any word breaks S3 while one
that holds back a possible start of the word passes; the report says how the inputs were
drawn; and what counts as a subject's constants."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from agentcat_laws import check_laws_sync
from agentcat_laws.constants import constants_of
from agentcat_laws.strategies import texts, utf8_bytes
from hypothesis import given, settings
from laws_settings import FAST, SHRINK

from agentcat import StreamingAgent, Transducer, agent, lift, map_deltas, transducer

UNSEEN = ["frell", "gorram", "smeg", "zarquon"]
"""Words that appear nowhere in agentcat or its laws."""

MASK = "#"


def per_chunk(word: str) -> Transducer[str, str]:
    """A censor of ``word`` that looks at each chunk alone (a word cut in two gets through)."""

    @transducer
    async def censor(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
        async for delta in deltas:
            yield delta.replace(word, MASK * len(word))

    return censor


def holding_back(word: str) -> Transducer[str, str]:
    """A censor of ``word`` that holds back the end of what it has seen while that end could
    still be the start of the word: sound, however its input is cut."""

    @transducer
    async def censor(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
        pending = ""
        async for delta in deltas:
            pending = (pending + delta).replace(word, MASK * len(word))
            keep = next(
                (
                    n
                    for n in range(min(len(pending), len(word) - 1), 0, -1)
                    if word.startswith(pending[-n:])
                ),
                0,
            )
            ready, pending = pending[: len(pending) - keep], pending[len(pending) - keep :]
            if ready:
                yield ready
        if pending:
            yield pending

    return censor


@pytest.mark.parametrize("word", UNSEEN)
def test_a_per_chunk_censor_of_an_unseen_word_breaks_s3(word: str) -> None:
    report = check_laws_sync(per_chunk(word), laws=["S3"], settings=SHRINK)
    assert not report.passed
    found = report["S3"].counterexample
    assert found is not None
    assert word in found.example["x"]  # the shrunk input holds the word, cut by the chunking
    assert len(found.example["chunking"]) > 1


@pytest.mark.parametrize("word", UNSEEN)
def test_a_censor_that_holds_back_passes_every_law(word: str) -> None:
    report = check_laws_sync(holding_back(word), settings=FAST)
    assert report.passed, str(report)


def test_the_report_says_how_the_inputs_were_drawn() -> None:
    report = check_laws_sync(per_chunk("frell"), laws=["C1"], settings=FAST)
    assert str(report).splitlines()[1] == (
        "inputs: texts(), half of them made of its constants 'frell', '#' and pieces of them"
    )
    given_inputs = check_laws_sync(per_chunk("frell"), inputs=texts(), laws=["C1"], settings=FAST)
    assert str(given_inputs).splitlines()[1] == "inputs: as given (inputs=)"


def test_the_command_line_finds_it_too(tmp_path: Path) -> None:
    (tmp_path / "naive.py").write_text(
        textwrap.dedent(
            """
            from collections.abc import AsyncIterator
            from agentcat import transducer

            BANNED = "frell"

            @transducer
            async def censor(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
                async for delta in deltas:
                    yield delta.replace(BANNED, "*****")
            """
        )
    )
    command = [sys.executable, "-m", "agentcat_laws", "naive:censor", "--laws", "S3"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAIL  S3" in done.stdout
    assert "'frell'" in done.stdout


WORD = "flarp"


def _helper(text: str) -> str:
    return text.replace("wibble", "w*")


class Scrubber(StreamingAgent[str, str]):
    """A user's own streaming agent, whose words are in its method."""

    async def open(self, value: str, /) -> AsyncIterator[str]:
        yield value.replace("glorp", "g*")


def test_constants_are_found_in_literals_closures_globals_helpers_and_methods() -> None:
    held = "quux"

    @agent
    def closure_and_global(text: str) -> str:
        """A docstring is not a word a stage looks for."""
        return _helper(text.replace(held, "").replace(WORD, "").replace("zonk", ""))

    found = constants_of(lift(closure_and_global) >> map_deltas(lambda d: d + "!?"))
    assert set(found) >= {"quux", "flarp", "zonk", "wibble", "w*", "!?"}
    assert not any("docstring" in word for word in found if isinstance(word, str))
    assert constants_of(Scrubber()) == ("glorp", "g*")


def test_agentcats_own_words_are_not_taken_for_the_subjects() -> None:
    assert constants_of(map_deltas(str.upper)) == ()
    assert constants_of(lift(agent(len))) == ()


def test_long_literals_are_messages_not_words() -> None:
    message = "this is a long message that no censor is looking for, surely"

    @agent
    def shout(text: str) -> str:
        if not text:
            raise ValueError(message)
        return text.upper()

    assert constants_of(shout) == ()


def test_texts_near_a_word_draw_it_about_half_the_time() -> None:
    seen: list[str] = []

    @settings(max_examples=300, database=None, derandomize=True)
    @given(texts(near=["frell"]))
    def draw(text: str) -> None:
        seen.append(text)

    draw()
    holding = sum("frell" in text for text in seen)
    starting = sum(any(text.endswith("frell"[:n]) for n in range(2, 5)) for text in seen)
    assert holding > len(seen) // 10, holding
    assert starting > len(seen) // 20, starting


def test_bytes_near_words_are_encoded_and_valid() -> None:
    seen: list[bytes] = []

    @settings(max_examples=100, database=None, derandomize=True)
    @given(utf8_bytes(near=["frell", b"\xce\xbb"]))
    def draw(data: bytes) -> None:
        seen.append(data)

    draw()
    assert any(b"frell" in data for data in seen)
    assert any(b"\xce\xbb" in data for data in seen)
