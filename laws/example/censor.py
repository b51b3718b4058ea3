"""A streaming stage that censors a word in text as it streams by.

The word may arrive split across chunks (``"da"``, ``"rn"``), so the stage holds back the end of
what it has seen while that end could still be the start of the word.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from agentcat import transducer

WORD = "darn"


def _held_back(text: str) -> int:
    """How many characters at the end of ``text`` could be the start of ``WORD``."""
    for size in range(min(len(text), len(WORD) - 1), 0, -1):
        if WORD.startswith(text[-size:]):
            return size
    return 0


@transducer
async def censor(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
    pending = ""
    async for delta in deltas:
        pending = (pending + delta).replace(WORD, "*" * len(WORD))
        keep = _held_back(pending)
        ready, pending = pending[: len(pending) - keep], pending[len(pending) - keep :]
        if ready:
            yield ready
    if pending:
        yield pending
