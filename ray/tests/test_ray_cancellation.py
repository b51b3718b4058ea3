"""Cancellation reaches the remote producer on every way out (law RT2), and a slow reader bounds
a remote producer: at most ``4 * max_batch + 1`` deltas ahead.

Each test reads :data:`ray_cluster.numbers` on Ray, whose producer reports every delta and its
close to a tally actor, and asks the tally afterwards: when closing a stream returns, the
remote producer has run its ``finally``.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from agentcat_ray import on_ray
from ray_cluster import chunks_of, count, numbers, read, wait

from agentcat import ChunkStream, map_deltas, transducer

pytestmark = pytest.mark.anyio

MAX_BATCH = 4
REMOTE = on_ray(numbers, max_batch=MAX_BATCH)
BOUND = 4 * MAX_BATCH + 1
FAN = on_ray(numbers & numbers)


async def leave_after(stream: ChunkStream[Any], index: int) -> None:
    """Read ``stream`` inside ``async with`` up to chunk ``index``, then leave with ``break``."""
    async with stream:
        async for chunk in stream:
            if chunk.index == index:
                break


async def test_leaving_async_with_stops_the_remote_producer() -> None:
    request, name = count(10_000)
    await leave_after(REMOTE.stream(request), 2)
    pulled, closed = await read(name)
    assert closed == 1
    assert 3 <= pulled <= 3 + BOUND


async def test_aclose_stops_the_remote_producer() -> None:
    request, name = count(10_000)
    stream = REMOTE.stream(request)
    assert (await anext(aiter(stream))).delta == "0 "
    await stream.aclose()
    assert (await read(name))[1] == 1


async def test_a_timeout_around_the_reader_stops_the_remote_producer() -> None:
    request, name = count(10_000, pause=0.001)
    with anyio.move_on_after(0.05) as scope:
        async with REMOTE.stream(request) as stream:
            async for _ in stream:
                pass
    assert scope.cancelled_caught
    pulled, closed = await read(name)
    assert closed == 1
    assert pulled < 10_000


async def test_cancelling_the_reading_task_stops_the_remote_producer() -> None:
    request, name = count(10_000, pause=0.001)
    read_two = anyio.Event()

    async def reader() -> None:
        async with REMOTE.stream(request) as stream:
            async for chunk in stream:
                if chunk.index == 1:
                    read_two.set()

    async with anyio.create_task_group() as group:
        group.start_soon(reader)
        await read_two.wait()
        group.cancel_scope.cancel()
    assert (await read(name))[1] == 1


async def test_an_error_downstream_stops_the_remote_producer() -> None:
    request, name = count(10_000)

    @transducer
    async def fails_at_three(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
        async for delta in deltas:
            if delta == "3 ":
                raise LookupError("downstream")
            yield delta

    stream = (REMOTE >> fails_at_three >> map_deltas(str.upper)).stream(request)
    with pytest.raises(LookupError, match="downstream"):
        await chunks_of(stream)
    assert (await read(name))[1] == 1


async def test_a_remote_fan_out_left_early_closes_both_branches() -> None:
    request, name = count(10_000)
    await leave_after(FAN.stream(request), 3)
    pulled, closed = await read(name)
    assert closed == 2  # both branches read `numbers` under the same key
    assert pulled < 20_000


async def test_a_stream_dropped_unread_to_the_end_stops_its_producer() -> None:
    request, name = count(10**9, pause=0.001)  # (Ray, left alone, would run it to its end)
    stream = REMOTE.stream(request)
    assert (await anext(aiter(stream))).delta == "0 "
    del stream
    gc.collect()
    assert (await wait(name, closed=1))[1] == 1  # (waits for the close: the deadline bounds it)


async def test_a_slow_reader_bounds_the_remote_producer() -> None:
    request, name = count(100_000)
    async with REMOTE.stream(request) as stream:
        reader = aiter(stream)
        for read_so_far in range(1, 6):
            await anext(reader)
            # The producer has all the time it needs to run ahead: without a bound it would
            # make thousands of deltas meanwhile. (No timing is asserted: the bound holds
            # whenever it is looked at.)
            await anyio.sleep(0.05)
            pulled, _ = await read(name)
            assert read_so_far <= pulled <= read_so_far + BOUND
        pulled, _ = await wait(name, pulled=5 + MAX_BATCH)  # and it does run ahead
    assert pulled >= 5 + MAX_BATCH
