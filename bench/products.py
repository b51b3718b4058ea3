"""The product rows: one stream fanned out to three branches, ``model >> (t1 & t2 & t3)``.

The model is the benchmark's producer (``streaming(tokens)``), and the branches are a
pass-through, the ``shout`` map and a filter that keeps every token, written two ways: as
per-delta steps (``forward``, ``map_deltas(shout)``, ``filter_deltas(keep)``) and as
``@transducer`` generators (one user generator per branch). Each fan-out is measured per input
token next to the same three stages chained, ``model >> t1 >> t2 >> t3``, which does the same
work per token with one output delta instead of three; and, under asyncio, next to a fan-out
written by hand over bounded asyncio queues: a distributor task feeding one
``asyncio.Queue(maxsize=1)`` per branch, one task per branch applying the same function, and
one output queue (``maxsize=1`` too) that the consumer reads.

Every runner consumes its stream as the other contestants do, a delta at a time, touching each
branch's part of it; the checks add up how many deltas and characters came out.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from time import perf_counter

from agentcat import StreamingAgent, filter_deltas, forward, map_deltas, transducer
from bench.contestants import Backend, Runner, Sample, agentcat_runner, produce, shout_each
from bench.measure import OutputError, Plan, in_turns
from bench.workload import WORDS, expected_chars, keep, same, shout, tokens

__all__ = ["PRODUCTS", "Product", "ProductCell", "measure_products"]

BRANCHES = 3


@transducer
async def pass_each(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
    """The pass-through written as a transducer (never fused)."""
    async for delta in deltas:
        yield delta


@transducer
async def keep_each(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
    """The filter written as a transducer (never fused)."""
    async for delta in deltas:
        if keep(delta):
            yield delta


STEPS: tuple[StreamingAgent[str, str], ...] = (forward, map_deltas(shout), filter_deltas(keep))
"""The branches as per-delta steps, which agentcat may fuse or run side by side."""

TRANSDUCERS: tuple[StreamingAgent[str, str], ...] = (pass_each, shout_each, keep_each)
"""The same branches as user transducers: one generator each."""


@dataclass(frozen=True, slots=True)
class Product:
    """One way of running the three branches on one stream.

    ``build()`` makes the pipeline once and returns its runner; ``fans_out`` says whether its
    output is every branch's (three deltas per input token) or the chain's one.
    """

    key: str
    label: str
    fans_out: bool
    build: Callable[[], Runner]
    backends: tuple[Backend, ...] = ("asyncio", "trio")


@dataclass(frozen=True, slots=True)
class ProductCell:
    """The timed requests of one product, for one backend and stream length."""

    product: Product
    backend: Backend
    tokens: int
    samples: tuple[Sample, ...]

    @property
    def per_token(self) -> float:
        """Seconds per input token, for the fastest request."""
        return min(sample.elapsed for sample in self.samples) / self.tokens

    @property
    def rate(self) -> float:
        """Input tokens per second, for the fastest request."""
        return 1 / self.per_token


def _text(count: int) -> str:
    return "".join(WORDS[index & 63] for index in range(count))


def _chained(branches: Sequence[StreamingAgent[str, str]]) -> Callable[[], Runner]:
    def build() -> Runner:
        pipeline: StreamingAgent[int, str] = produce
        for branch in branches:
            pipeline = pipeline >> branch
        return agentcat_runner(pipeline)

    return build


def _fanned(branches: Sequence[StreamingAgent[str, str]]) -> Callable[[], Runner]:
    one, two, three = branches

    def build() -> Runner:
        pipeline = produce >> (one & two & three)

        async def run(count: int) -> Sample:
            first, seen, chars, head = 0.0, 0, 0, ""
            start = perf_counter()
            async with pipeline.stream(count) as stream:
                async for chunk in stream:
                    a, b, c = chunk.delta
                    size = len(a) + len(b) + len(c)
                    if size:  # every delta has one branch's token; the `done` chunk has none
                        chars += size
                        if not seen:
                            first, head = perf_counter(), a or b or c
                        seen += 1
            return Sample(first - start, perf_counter() - start, seen, head, chars)

        return run

    return build


async def _mapping(
    index: int,
    inbox: asyncio.Queue[str | None],
    outbox: asyncio.Queue[tuple[int, str] | None],
    function: Callable[[str], str],
) -> None:
    while (token := await inbox.get()) is not None:
        await outbox.put((index, function(token)))
    await outbox.put(None)


async def _filtering(
    index: int,
    inbox: asyncio.Queue[str | None],
    outbox: asyncio.Queue[tuple[int, str] | None],
    accept: Callable[[str], bool],
) -> None:
    while (token := await inbox.get()) is not None:
        if accept(token):
            await outbox.put((index, token))
    await outbox.put(None)


async def _distribute(count: int, inboxes: Sequence[asyncio.Queue[str | None]]) -> None:
    async for token in tokens(count):
        for inbox in inboxes:
            await inbox.put(token)
    for inbox in inboxes:
        await inbox.put(None)


def _by_hand() -> Runner:
    """The fan-out as one would write it with asyncio alone: bounded queues and a task each."""

    async def run(count: int) -> Sample:
        first, seen, chars, head = 0.0, 0, 0, ""
        start = perf_counter()
        inboxes = [asyncio.Queue[str | None](maxsize=1) for _ in range(BRANCHES)]
        outbox = asyncio.Queue[tuple[int, str] | None](maxsize=1)
        async with asyncio.TaskGroup() as group:
            group.create_task(_distribute(count, inboxes))
            group.create_task(_mapping(0, inboxes[0], outbox, same))
            group.create_task(_mapping(1, inboxes[1], outbox, shout))
            group.create_task(_filtering(2, inboxes[2], outbox, keep))
            ended = 0
            while ended < BRANCHES:
                item = await outbox.get()
                if item is None:
                    ended += 1
                    continue
                delta = item[1]
                chars += len(delta)
                if not seen:
                    first, head = perf_counter(), delta
                seen += 1
        return Sample(first - start, perf_counter() - start, seen, head, chars)

    return run


PRODUCTS: tuple[Product, ...] = (
    Product("steps-chain", "per-delta steps, chained", False, _chained(STEPS)),
    Product("steps-fan", "per-delta steps, fanned out", True, _fanned(STEPS)),
    Product("transducers-chain", "`@transducer` maps, chained", False, _chained(TRANSDUCERS)),
    Product("transducers-fan", "`@transducer` maps, fanned out", True, _fanned(TRANSDUCERS)),
    Product("hand-fan", "hand-written asyncio fan-out", True, _by_hand, ("asyncio",)),
)
"""Every product row, agentcat's first; ``hand-fan`` is the baseline of both fan-outs."""


def _check(product: Product, count: int, sample: Sample) -> None:
    copies = BRANCHES if product.fans_out else 1
    heads = (WORDS[0], shout(WORDS[0])) if product.fans_out else (shout(WORDS[0]),)
    want = (count * copies, expected_chars(count) * copies)
    got = (sample.count, sample.chars)
    if got != want or sample.head not in heads:
        raise OutputError(
            f"{product.label} streamed (deltas, characters) = {got} first {sample.head!r}, "
            f"not {want} first one of {heads}"
        )


async def _whole(product: Product, count: int) -> None:
    """Check what agentcat's pipelines accumulate to, once, outside the timings."""
    if product.key == "hand-fan":
        return
    branches = STEPS if product.key.startswith("steps") else TRANSDUCERS
    text = _text(count)
    if product.fans_out:
        one, two, three = branches
        async with (produce >> (one & two & three)).stream(count) as stream:
            whole: object = await stream
        want: object = (text, shout(text), text)
    else:
        pipeline: StreamingAgent[int, str] = produce
        for branch in branches:
            pipeline = pipeline >> branch
        async with pipeline.stream(count) as chained:
            whole = await chained
        want = shout(text)
    if whole != want:
        raise OutputError(f"{product.label} accumulated {whole!r}, not {want!r}")


async def _timed(product: Product, run: Runner, count: int) -> Sample:
    sample = await run(count)
    _check(product, count, sample)
    return sample


async def measure_products(
    plan: Plan, backend: Backend, *, progress: Callable[[str], None]
) -> list[ProductCell]:
    """Time every product row at ``plan.product_tokens`` tokens, in turns, like the cells."""
    chosen = [product for product in PRODUCTS if backend in product.backends]
    runs = [product.build() for product in chosen]
    for product, run in zip(chosen, runs, strict=True):
        await _whole(product, plan.warmup_tokens)
        await _timed(product, run, plan.warmup_tokens)
    count = plan.product_tokens
    jobs = [partial(_timed, product, run, count) for product, run in zip(chosen, runs, strict=True)]
    taken = await in_turns(
        jobs, repetitions=plan.repetitions, least=plan.min_repetitions, budget=plan.budget
    )
    cells = []
    for product, done in zip(chosen, taken, strict=True):
        cell = ProductCell(product, backend, count, tuple(done))
        cells.append(cell)
        progress(
            f"{backend:7} T={count:<7,} products {product.label:38} "
            f"{cell.per_token * 1e6:9.2f} us/token  x{len(done)}"
        )
    return cells
