"""The ``agentcat`` command."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from functools import partial

import anyio

from agentcat._cli.demo import run_demo

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``agentcat`` command; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="agentcat", description="Typed, lawful, streaming composition of LLM agents."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="stream a multi-agent pipeline on the embedded model (offline, no keys)"
    )
    demo.add_argument("topic", nargs="?", default="streaming agents and their laws")
    demo.add_argument("--pace", type=float, default=0.02, help="seconds per token (0: no wait)")
    demo.add_argument("--tokens", type=int, default=60, help="tokens the writer produces at most")
    demo.add_argument("--backend", choices=("asyncio", "trio"), default="asyncio")
    args = parser.parse_args(argv)
    if args.pace < 0 or args.tokens < 1:
        parser.error("--pace must be at least 0 and --tokens at least 1")
    try:
        report = anyio.run(
            partial(run_demo, args.topic, sys.stdout, args.pace, args.tokens),
            backend=args.backend,
        )
    except BrokenPipeError:  # the reader went away (``agentcat demo | head``): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except BaseException as error:
        if not _interrupted(error):
            raise
        print("\ninterrupted: every producer has stopped", file=sys.stderr)
        return 130
    print(
        f"\n\ntime to first token: {report.time_to_first_token * 1000:.1f} ms, "
        f"{report.tokens} tokens in {report.duration:.2f} s "
        f"({report.tokens_per_second:.1f} tokens/s)"
    )
    return 0


def _interrupted(error: BaseException) -> bool:
    """Whether ``error`` is Ctrl-C, as it is or inside the exception group of a task group."""
    if isinstance(error, KeyboardInterrupt):
        return True
    return isinstance(error, BaseExceptionGroup) and error.subgroup(KeyboardInterrupt) is not None
