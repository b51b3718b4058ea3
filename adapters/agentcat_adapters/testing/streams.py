"""Reading a stream in a test."""

from __future__ import annotations

from collections.abc import AsyncIterable

from agentcat import Chunk, Reply

__all__ = ["deltas_until_failure"]


async def deltas_until_failure(
    stream: AsyncIterable[Chunk[Reply]],
) -> tuple[list[Reply], Exception]:
    """The deltas ``stream`` passed on, and the error it then failed with: how a test sees that
    a failure keeps exactly the deltas before it (a ``StreamingError``'s ``partial`` is their
    sum), or that an error came before any delta.

    Raises:
        AssertionError: the stream did not fail.
    """
    seen: list[Reply] = []
    try:
        async for chunk in stream:
            if not chunk.done:
                seen.append(chunk.delta)
    except Exception as error:
        return seen, error
    raise AssertionError(f"the stream did not fail; its deltas were {seen!r}"[:500])
