"""The ``agentcat`` command (``agentcat._cli``): the demo, a conversation with a tool call and a
live reviewer, and the chat, kept in a store and resumed; both offline."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from agentcat import Conversation, Message, SQLiteStore


def run(*arguments: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentcat", *arguments],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_the_demo_is_a_conversation_with_a_tool_call_and_a_live_reviewer(
    backend: str, tmp_path: Path
) -> None:
    store = tmp_path / "chats.db"
    done = run("demo", "--pace", "0", "--store", str(store), "--backend", backend)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[0] == (
        "pipeline: MessengerAgent(assistant) >> "
        "(forward & (map_deltas(text_of) >> split_sentences >> reviewer))"
    )
    assert lines[1] == "tools:    define"
    assert 'user: What does "functor" mean, and how do streams keep their laws?' in lines
    assert "assistant thinks: I need the define tool for functor, so I call it first." in lines
    assert '  -> define({"term": "functor"})' in lines
    assert "  <- a map from one category to another that keeps identities and composition" in lines
    # The reviewer runs alongside: its remark on a sentence comes while the answer still streams.
    remarks = [n for n, line in enumerate(lines) if "[reviewer, while it streams]" in line]
    assert len(remarks) == 4  # the sentence said before the tool call, and three after it
    assert lines[remarks[1] + 1].startswith("           ")  # the answer goes on after it
    assert "sentence 2: 16 words, names category, composition, tool" in lines[remarks[1]]
    assert lines[-1].startswith("metrics: first token after ")
    assert "tokens (as the model reported them)" in lines[-1]
    conversation_id = re.fullmatch(r"conversation (\w+): 4 messages kept in (.+)", lines[-2])
    assert conversation_id is not None
    assert conversation_id[2] == str(store)
    kept = anyio.run(SQLiteStore(store).load, conversation_id[1])
    assert kept is not None
    assert [m.role for m in kept.messages] == ["user", "assistant", "tool", "assistant"]
    assert kept.messages[1].tool_calls[0].arguments() == {"term": "functor"}
    assert [spec.name for spec in kept.tools] == ["define"]


def test_the_chat_answers_each_line_keeps_it_and_goes_on_with_it(tmp_path: Path) -> None:
    store = tmp_path / "chats.db"
    first = run("chat", "--pace", "0", "--store", str(store), stdin="What does monoid mean?\n")
    assert first.returncode == 0, first.stderr
    assert '  -> define({"term": "monoid"})' in first.stdout
    assert "The define tool says: a way to add pieces up" in first.stdout
    status = [line for line in first.stdout.splitlines() if line.startswith("[done (")]
    assert len(status) == 1
    assert "tokens (reported) | model: embedded]" in status[0]
    found = re.search(r"conversation (\w+), kept in", first.stdout)
    assert found is not None
    again = run(
        "chat", "--pace", "0", "--store", str(store), "--resume", found[1],
        stdin="Tell me about cancellation.\n/quit\n",
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "(4 messages so far)" in again.stdout
    assert "Cancellation must reach every producer" in again.stdout
    kept = anyio.run(SQLiteStore(store).load, found[1])
    assert kept is not None
    assert len(kept) == 6
    missing = run("chat", "--store", str(store), "--resume", "nope", stdin="")
    assert missing.returncode == 2
    assert "no conversation 'nope'" in missing.stderr
    (tmp_path / "not a database").write_text("hello")
    for where in [tmp_path, tmp_path / "not a database"]:
        refused = run("chat", "--store", str(where), stdin="")
        assert refused.returncode == 2
        assert refused.stderr.startswith(f"agentcat: cannot keep conversations in {where}: ")
        assert "Traceback" not in refused.stderr


def test_bad_settings_are_refused() -> None:
    done = run("demo", "--tokens", "0")
    assert done.returncode == 2
    assert "--tokens at least 1" in done.stderr


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_ctrl_c_during_the_demo_says_one_line(backend: str) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "agentcat", "demo", "--pace", "0.5", "--backend", backend],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().startswith("pipeline: ")  # it is streaming now
    process.send_signal(signal.SIGINT)
    _, error = process.communicate(timeout=60)
    assert process.returncode == 130, error
    assert error.strip().splitlines() == ["interrupted: every producer has stopped"]


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_ctrl_c_at_the_chat_prompt_leaves_at_once(backend: str, tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agentcat",
            "chat",
            "--backend",
            backend,
            "--store",
            str(tmp_path / "c.db"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    shown = ""
    while not shown.endswith("you> "):  # waiting for a line that never comes
        shown += process.stdout.read(1)
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)  # with standard input still open: the reading is abandoned
    _, error = process.communicate()
    assert process.returncode == 130, error
    assert error.strip().splitlines() == ["interrupted: every producer has stopped"]


def test_the_chat_resumes_where_it_was_left_and_retries_a_reply_cut_short(
    tmp_path: Path,
) -> None:
    store = tmp_path / "chats.db"
    question = Message("Tell me about cancellation.", "user")
    cut = Message("Cancellation must", metadata={"interrupted": True})
    conversation = Conversation([question, cut], id="cut")

    async def keep() -> None:
        kept = SQLiteStore(store)
        await kept.append(Conversation([question], id="cut"), question)
        await kept.append(conversation, cut)

    anyio.run(keep)
    done = run(
        "chat", "--pace", "0", "--store", str(store), "--resume", "cut",
        stdin="/retry\n/retry\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "  (assistant: Cancellation must)" in out
    assert "the last reply was cut short: /retry answers again in its place" in out
    assert "assistant: Cancellation must reach every producer" in out
    assert "nothing to retry: the last reply was not cut short" in out
    reopened = anyio.run(SQLiteStore(store).load, "cut")
    assert reopened is not None
    retried = reopened.messages[-1]
    assert (len(reopened), retried.metadata["supersedes"]) == (3, cut.id)
