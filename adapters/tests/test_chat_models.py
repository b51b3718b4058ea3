"""``agentcat chat --model claude:...``, ``gemini:...``, ``openai:...`` and ``ollama:...``: the
main job on a real SDK, run as a person runs it, against a loopback server in the test's own
loop."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from subprocess import CompletedProcess

import anyio
import pytest
from agentcat_adapters.testing import anthropic as claude_wire
from agentcat_adapters.testing import gemini as gemini_wire
from agentcat_adapters.testing import loopback
from agentcat_adapters.testing import ollama as ollama_wire
from agentcat_adapters.testing import openai as openai_wire

pytestmark = pytest.mark.anyio


async def chat(model: str, env: dict[str, str], tmp_path: Path) -> CompletedProcess[bytes]:
    command = [sys.executable, "-m", "agentcat", "chat", "--model", model]
    command += ["--store", str(tmp_path / "chats.db")]
    keep = {
        k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL", "_HOST"))
    }
    return await anyio.run_process(command, input=b"Hi\n", env={**keep, **env}, check=False)


async def test_the_chat_talks_to_claude_through_its_sdk(tmp_path: Path) -> None:
    hello = claude_wire.reply(
        claude_wire.message_start(3),
        claude_wire.text_block(0, ["Hello ", "from Claude."]),
        claude_wire.message_delta("end_turn", 4),
        claude_wire.message_stop(),
    )
    async with loopback(lambda request: hello) as server:
        env = {"ANTHROPIC_API_KEY": "sk-test", "ANTHROPIC_BASE_URL": server.url}
        done = await chat("claude:claude-test", env, tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode()
    assert "agentcat chat on claude:claude-test" in out
    assert "assistant: Hello from Claude." in out
    assert "4 tokens (reported) | model: claude:claude-test]" in out
    assert server.requests[0].json()["tools"][0]["name"] == "define"


async def test_the_chat_talks_to_openai_through_its_sdk(tmp_path: Path) -> None:
    hello = openai_wire.reply(
        openai_wire.text(["Hello from GPT."]),
        openai_wire.finish(),
        openai_wire.usage(3, 4),
        openai_wire.done(),
    )
    async with loopback(lambda request: hello) as server:
        env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": f"{server.url}/v1"}
        done = await chat("openai:gpt-test", env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "assistant: Hello from GPT." in done.stdout.decode()


async def test_the_chat_talks_to_gemini_through_its_sdk(tmp_path: Path) -> None:
    hello = gemini_wire.reply(
        gemini_wire.text(["Hello ", "from Gemini."]),
        gemini_wire.finish("STOP", gemini_wire.usage(3, 4)),
    )
    async with loopback(lambda request: hello) as server:
        env = {"GEMINI_API_KEY": "test-key", "GOOGLE_GEMINI_BASE_URL": server.url}
        done = await chat("gemini:gemini-test", env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "assistant: Hello from Gemini." in done.stdout.decode()
    assert server.requests[0].headers["x-goog-api-key"] == "test-key"


async def test_the_chat_talks_to_ollama_through_its_sdk_with_no_key(tmp_path: Path) -> None:
    hello = ollama_wire.reply(ollama_wire.text(["Hello ", "from Ollama."]), ollama_wire.done())
    async with loopback(lambda request: hello) as server:
        done = await chat("ollama:llama-test", {"OLLAMA_HOST": server.url}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "assistant: Hello from Ollama." in done.stdout.decode()
    assert server.requests[0].path == "/api/chat"


async def test_without_a_key_the_chat_names_the_variable_to_set(tmp_path: Path) -> None:
    done = await chat("claude:claude-test", {}, tmp_path)
    assert done.returncode == 2
    said = done.stderr.decode()
    assert (
        said.strip()
        == "agentcat chat: --model claude:claude-test needs the key of claude in $ANTHROPIC_API_KEY"
    )
    unknown = await chat("cursor:x", {}, tmp_path)
    assert (
        "--model is embedded, claude:MODEL, gemini:MODEL, openai:MODEL, ollama:MODEL"
        in unknown.stderr.decode()
    )
    gemini = await chat("gemini:g", {}, tmp_path)
    assert "needs the key of gemini in $GEMINI_API_KEY or $GOOGLE_API_KEY" in gemini.stderr.decode()
