"""Serving TCP connections in the caller's own event loop, for as long as a block runs: the
loopback servers of :mod:`agentcat_adapters.testing` and :func:`~agentcat_adapters.websocket.
serve_messenger` alike."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio
import anyio.abc


@asynccontextmanager
async def listening(
    serve: Callable[[anyio.abc.SocketStream], Awaitable[None]],
    host: str = "127.0.0.1",
    port: int = 0,
) -> AsyncIterator[int]:
    """Serve each connection to ``host``:``port`` with ``serve``, in a task group of the caller's
    loop, while the block runs; the block is given the port (``0``: a free one, chosen here).
    Leaving the block stops the listener and every connection.

    Raises:
        OSError: the address cannot be listened on.
    """
    listener = await anyio.create_tcp_listener(local_host=host, local_port=port)
    bound: int = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as group:
        group.start_soon(listener.serve, serve, group)
        try:
            yield bound
        finally:
            group.cancel_scope.cancel()
