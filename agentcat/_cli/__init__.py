"""The ``agentcat`` command."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sqlite3
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TypeVar

import anyio
from anyio.abc import TaskStatus

from agentcat import SQLiteStore, StreamingMetrics
from agentcat._cli.chat import messenger_of, run_chat
from agentcat._cli.demo import QUESTION, run_demo

__all__ = ["main"]

T = TypeVar("T")

_STORE = Path(tempfile.gettempdir()) / "agentcat" / "conversations.db"
"""Where the commands keep their conversations unless told."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``agentcat`` command; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="agentcat", description="Typed, lawful, streaming composition of LLM agents."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="a conversation on the embedded model: a tool call, a streamed answer, a second "
        "agent reviewing it as it arrives (offline, no keys)",
    )
    demo.add_argument("question", nargs="?", default=QUESTION)
    chat = commands.add_parser(
        "chat", help="a plain terminal chat on the embedded model, kept in a store"
    )
    chat.add_argument("--resume", metavar="ID", help="go on with the kept conversation ID")
    chat.add_argument(
        "--model",
        default="embedded",
        help="embedded (offline, the default), or claude:, gemini:, openai: or ollama:MODEL "
        "(agentcat-adapters; the key from ANTHROPIC_API_KEY, GEMINI_API_KEY or OPENAI_API_KEY, "
        "Ollama's host from OLLAMA_HOST)",
    )
    for command in (demo, chat):
        command.add_argument("--pace", type=float, default=0.02, help="seconds per token")
        command.add_argument("--tokens", type=int, default=200, help="tokens per reply at most")
        command.add_argument(
            "--store", type=Path, default=_STORE, help="the SQLite file to keep it in"
        )
        command.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    args = parser.parse_args(argv)
    if args.pace < 0 or args.tokens < 1:
        parser.error("--pace must be at least 0 and --tokens at least 1")
    try:
        args.store.parent.mkdir(parents=True, exist_ok=True)
        store = SQLiteStore(args.store)
    except (OSError, ValueError, sqlite3.Error) as error:
        print(f"agentcat: cannot keep conversations in {args.store}: {error}", file=sys.stderr)
        return 2
    job: Callable[[], Awaitable[StreamingMetrics | int | None]]
    if args.command == "demo":
        job = partial(run_demo, sys.stdout, store, args.question, args.pace, args.tokens)
    else:
        try:
            messenger = messenger_of(args.model, args.pace, args.tokens)
        except ValueError as error:
            print(f"agentcat chat: {error}", file=sys.stderr)
            return 2
        job = partial(run_chat, sys.stdout, store, messenger, args.resume)
    try:
        outcome = anyio.run(_interruptible, job, backend=args.backend)
    except BrokenPipeError:  # the reader went away (``agentcat demo | head``): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except BaseException as error:
        if not _interrupted(error):
            raise
        print("\ninterrupted: every producer has stopped", file=sys.stderr)
        return 130
    if isinstance(outcome, _Interrupted):
        print("\ninterrupted: every producer has stopped", file=sys.stderr)
        return 130
    if isinstance(outcome, int):
        return outcome
    if outcome is not None:
        print(f"metrics: {_said(outcome)}")
    return 0


def _said(metrics: StreamingMetrics) -> str:
    first, rate = metrics.latency_first_token_ms, metrics.tokens_per_second
    counted = "estimated" if metrics.estimated else "as the model reported them"
    return (
        f"first token after {first or 0:.1f} ms, {metrics.tokens_generated} tokens ({counted}) "
        f"in {(metrics.latency_total_ms or 0) / 1000:.2f} s, {rate or 0:.1f} tokens/s, "
        f"{metrics.chunks_received} chunks"
    )


class _Interrupted:
    """What a job cut by Ctrl-C gives back."""


_INTERRUPTED = _Interrupted()


async def _interruptible(job: Callable[[], Awaitable[T]]) -> T | _Interrupted:
    """``job()``, or ``_INTERRUPTED`` if Ctrl-C came first: Ctrl-C cancels the job.

    Left to itself, trio raises ``KeyboardInterrupt`` wherever the main thread is when the
    signal comes, which may be the middle of a cancel scope's exit: trio then reports its
    nursery stack corrupted. Cancelling delivers Ctrl-C at the job's next checkpoint instead,
    where every producer is stopped in order, on both backends. (Where signals cannot be
    received so, on Windows, Ctrl-C stays a ``KeyboardInterrupt``.)
    """
    interrupted = False
    outcome: T | _Interrupted = _INTERRUPTED

    async def watch(*, task_status: TaskStatus[None]) -> None:
        nonlocal interrupted
        with anyio.open_signal_receiver(signal.SIGINT) as signals:
            task_status.started()
            async for _ in signals:
                interrupted = True
                group.cancel_scope.cancel()

    async with anyio.create_task_group() as group:
        with contextlib.suppress(NotImplementedError):  # no signals so (Windows)
            await group.start(watch)
        outcome = await job()
        group.cancel_scope.cancel()
    return _INTERRUPTED if interrupted else outcome


def _interrupted(error: BaseException) -> bool:
    """Whether ``error`` is Ctrl-C, as it is or inside the exception group of a task group."""
    if isinstance(error, KeyboardInterrupt):
        return True
    return isinstance(error, BaseExceptionGroup) and error.subgroup(KeyboardInterrupt) is not None
