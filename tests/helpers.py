"""Hand-written agents for the tests: counting, scripted failures, projections, and agents that
meet. An agent that always raises is :class:`agentcat_laws.instruments.Raising`."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import TypeVar

import anyio
from attrs import define, field

from agentcat import Agent, agent

__all__ = ["Counted", "Rendezvous", "Scripted", "fst", "killed_once_streaming", "snd"]

T = TypeVar("T")
U = TypeVar("U")


@agent
def fst(pair: tuple[str, str]) -> str:
    """The first projection of a pair."""
    return pair[0]


@agent
def snd(pair: tuple[str, str]) -> str:
    """The second projection of a pair."""
    return pair[1]


@define(eq=False, repr=False)
class Counted(Agent[T, U]):
    """Wraps an agent and counts its invocations (and records their inputs)."""

    inner: Agent[T, U]
    inputs: list[object] = field(factory=list)

    @property
    def calls(self) -> int:
        return len(self.inputs)

    async def invoke(self, value: T, /) -> U:
        self.inputs.append(value)
        return await self.inner.invoke(value)

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def input_type(self) -> object | None:
        return self.inner.input_type

    @property
    def output_type(self) -> object | None:
        return self.inner.output_type


@define(eq=False, repr=False)
class Scripted(Agent[str, str]):
    """Fails with the given exceptions on its first invocations, then answers ``value + "!"``."""

    failures: list[Exception]
    calls: int = 0

    async def invoke(self, value: str, /) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return value + "!"

    @property
    def name(self) -> str:
        return "scripted"


@define(eq=False, repr=False)
class Rendezvous(Agent[str, str]):
    """Sets its own event, then waits for its partner's: two of them can only both finish when
    they run concurrently. Records whether it was cancelled while waiting. Make them inside
    the event loop (an ``anyio.Event`` needs one)."""

    label: str
    mine: anyio.Event = field(factory=anyio.Event)
    partner: anyio.Event | None = None
    cancelled: bool = False
    finished: bool = False

    async def invoke(self, value: str, /) -> str:
        assert self.partner is not None, "pair the agents with `meet` first"
        self.mine.set()
        try:
            await self.partner.wait()
        except anyio.get_cancelled_exc_class():
            self.cancelled = True
            raise
        self.finished = True
        return value + self.label

    @property
    def name(self) -> str:
        return self.label

    @staticmethod
    def pair(first: str, second: str) -> tuple[Rendezvous, Rendezvous]:
        """Two agents, each waiting for the other."""
        one, two = Rendezvous(first), Rendezvous(second)
        one.partner, two.partner = two.mine, one.mine
        return one, two


async def killed_once_streaming(script: str, path: Path) -> None:
    """Run ``script`` (Python source) on the database ``path`` in a process of its own, and
    kill it with SIGKILL as soon as it prints ``streaming``: in the middle of a reply, with no
    chance to clean up."""
    async with await anyio.open_process([sys.executable, "-c", script, str(path)]) as process:
        assert process.stdout is not None
        said = b""
        while not said.endswith(b"\n"):
            said += await process.stdout.receive()
        assert said == b"streaming\n"
        process.send_signal(signal.SIGKILL)
        assert await process.wait() == -signal.SIGKILL
