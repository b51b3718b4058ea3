"""Products (``agentcat.products``): fan-out ``f & g`` and parallel ``f * g``, plain and
streaming; laws P1-P5, concurrency, cancellation, and a streaming operand on either side."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest
from agentcat_laws import LawError, Program, programs, texts
from agentcat_laws.instruments import Raising
from attrs import define, field
from hypothesis import given

from agentcat import (
    STR,
    Agent,
    FanOut,
    Id,
    StreamingAgent,
    StreamingFanOut,
    agent,
    filter_deltas,
    forward,
    lift,
    map_deltas,
    transducer,
)
from agentcat.products import Parallel
from agentcat.streaming import Lifted
from tests.helpers import Counted, Rendezvous, fst, snd
from tests.strategies import text_pairs
from tests.streams import Tokens

# A generous bound for tests that would otherwise hang if branches ran one after the other;
# none of them sleeps, so they finish at once when the code is right.
DEADLOCK = 10


# --- semantics --------------------------------------------------------------------------------


@pytest.mark.anyio
@given(programs(), programs(), programs(), texts())
async def test_fan_out_is_flat_when_chained(f: Program, g: Program, h: Program, x: str) -> None:
    fan_out = f & g & h
    assert isinstance(fan_out, FanOut)
    assert fan_out.branches == (f, g, h)
    assert not fan_out.streams
    assert fan_out == (f & g) & h
    assert await fan_out.invoke(x) == (f.run(x), g.run(x), h.run(x))


@pytest.mark.anyio
@given(programs(), programs(), programs(), texts())
async def test_fan_out_nests_with_parentheses_on_the_right(
    f: Program, g: Program, h: Program, x: str
) -> None:
    nested = f & (g & h)
    assert nested.branches == (f, g & h)
    flat: object = f & g & h
    assert nested != flat
    assert await nested.invoke(x) == (f.run(x), (g.run(x), h.run(x)))


@pytest.mark.anyio
@given(programs(), programs(), text_pairs())
async def test_parallel_applies_each_agent_to_its_item(
    f: Program, g: Program, pair: tuple[str, str]
) -> None:
    assert await (f * g).invoke(pair) == (f.run(pair[0]), g.run(pair[1]))


@pytest.mark.anyio
@pytest.mark.parametrize("value", ["ab", ("a",), ("a", "b", "c"), ["a", "b"], None])
async def test_parallel_rejects_what_is_not_a_pair(value: object) -> None:
    f, g = Program(()), Program(())
    with pytest.raises(TypeError, match="takes a pair") as info:
        await (f * g).invoke(value)  # type: ignore[arg-type]
    assert repr(value) in str(info.value)
    assert repr(f * g) in str(info.value)


@pytest.mark.parametrize(
    "combine",
    [
        pytest.param(lambda f: f >> "g", id=">>"),
        pytest.param(lambda f: f & "g", id="&"),
        pytest.param(lambda f: f * "g", id="*"),
    ],
)
def test_operators_reject_what_is_not_an_agent(combine: Callable[[Any], object]) -> None:
    with pytest.raises(TypeError):
        combine(Program(()))


# --- laws -------------------------------------------------------------------------------------


@pytest.mark.anyio
@given(programs(), programs(), texts())
async def test_p1_projections_of_a_fan_out(f: Program, g: Program, x: str) -> None:
    counted_f, counted_g = Counted(f), Counted(g)
    assert await ((counted_f & counted_g) >> fst).invoke(x) == await f.invoke(x)
    assert counted_g.calls == 1, "the other branch still runs"
    assert await ((counted_f & counted_g) >> snd).invoke(x) == await g.invoke(x)
    assert counted_f.calls == 2


@pytest.mark.anyio
@given(text_pairs())
async def test_p2_parallel_of_identities_is_the_identity(pair: tuple[str, str]) -> None:
    assert await (Id * Id).invoke(pair) == await Id.invoke(pair) == pair


@pytest.mark.anyio
@given(programs(), programs(), programs(), programs(), text_pairs())
async def test_p3_interchange_of_parallel_and_sequence(
    f: Program, g: Program, h: Program, k: Program, pair: tuple[str, str]
) -> None:
    left = (f * g) >> (h * k)
    right = (f >> h) * (g >> k)
    expected = (h.run(f.run(pair[0])), k.run(g.run(pair[1])))
    assert await left.invoke(pair) == await right.invoke(pair) == expected


@pytest.mark.anyio
@given(programs(), programs(), programs(), programs(), texts())
async def test_p4_fan_out_then_parallel(
    f: Program, g: Program, h: Program, k: Program, x: str
) -> None:
    left = (f & g) >> (h * k)
    right = (f >> h) & (g >> k)
    expected = (h.run(f.run(x)), k.run(g.run(x)))
    assert await left.invoke(x) == await right.invoke(x) == expected


@pytest.mark.anyio
@given(programs(), programs(), programs(), texts())
async def test_p5_sequence_distributes_over_fan_out_in_value_only(
    h: Program, f: Program, g: Program, x: str
) -> None:
    counted_left, counted_right = Counted(h), Counted(h)
    left = counted_left >> (f & g)
    right = (counted_right >> f) & (counted_right >> g)
    expected = (f.run(h.run(x)), g.run(h.run(x)))
    assert await left.invoke(x) == await right.invoke(x) == expected
    assert counted_left.calls == 1
    assert counted_right.calls == 2


# --- concurrency and cancellation ------------------------------------------------------------


@pytest.mark.anyio
async def test_fan_out_branches_run_concurrently() -> None:
    # Each branch sets its event and then waits for the other's: run one after the other,
    # the first would wait forever.
    one, two = Rendezvous.pair("1", "2")
    with anyio.fail_after(DEADLOCK):
        assert await (one & two).invoke("x") == ("x1", "x2")
    assert one.finished
    assert two.finished


@pytest.mark.anyio
async def test_parallel_items_run_concurrently() -> None:
    one, two = Rendezvous.pair("1", "2")
    with anyio.fail_after(DEADLOCK):
        assert await (one * two).invoke(("a", "b")) == ("a1", "b2")


@define(eq=False, repr=False)
class FailWhenStarted(Agent[str, str]):
    """Waits until ``other`` has started, then raises ``error``."""

    other: Rendezvous
    error: Exception = field(factory=lambda: LawError(1))

    async def invoke(self, value: str, /) -> str:
        await self.other.mine.wait()
        raise self.error


@pytest.mark.anyio
@pytest.mark.parametrize("failing_first", [True, False], ids=["failing-left", "failing-right"])
async def test_a_failing_branch_cancels_the_others_and_surfaces_unchanged(
    failing_first: bool,
) -> None:
    blocked = Rendezvous("blocked")
    blocked.partner = anyio.Event()  # never set: only cancellation ends its wait
    failing = FailWhenStarted(blocked)
    fan_out = failing & blocked if failing_first else blocked & failing
    with anyio.fail_after(DEADLOCK), pytest.raises(LawError) as info:
        await fan_out.invoke("x")
    assert info.value is failing.error
    assert type(info.value) is LawError  # not wrapped in an exception group
    assert blocked.cancelled
    assert not blocked.finished


@pytest.mark.anyio
async def test_a_failing_item_of_a_parallel_cancels_the_other() -> None:
    blocked = Rendezvous("blocked")
    blocked.partner = anyio.Event()
    failing = FailWhenStarted(blocked)
    with anyio.fail_after(DEADLOCK), pytest.raises(LawError) as info:
        await (blocked * failing).invoke(("a", "b"))
    assert info.value is failing.error
    assert blocked.cancelled


@pytest.mark.anyio
async def test_a_failing_branch_surfaces_unchanged_through_pipelines() -> None:
    error = LawError(2)
    after = Counted(fst)
    agent = Program(()) >> (Program(()) & Raising(error)) >> after
    with pytest.raises(LawError) as info:
        await agent.invoke("x")
    assert info.value is error
    assert after.calls == 0


@define(eq=False, repr=False)
class FailTogether(Agent[str, str]):
    """Meets its partner in a shielded wait, then raises: both fail before either is cancelled."""

    mine: anyio.Event
    partner: anyio.Event
    error: Exception

    async def invoke(self, value: str, /) -> str:
        self.mine.set()
        with anyio.fail_after(DEADLOCK, shield=True):  # shielded: bound the wait here
            await self.partner.wait()
        raise self.error


@pytest.mark.anyio
async def test_branches_failing_on_their_own_are_all_reported() -> None:
    first, second = anyio.Event(), anyio.Event()
    one = FailTogether(first, second, LawError(1))
    two = FailTogether(second, first, LawError(2))
    with anyio.fail_after(DEADLOCK), pytest.raises(ExceptionGroup) as info:
        await (one & two).invoke("x")
    assert {id(error) for error in info.value.exceptions} == {id(one.error), id(two.error)}


# --- streaming products ------------------------------------------------------------------------

WORDS = ["The ", "cat ", "sat ", "on ", "the ", "mat."]


@transducer
async def shout(deltas: AsyncIterator[str]) -> AsyncIterator[str]:
    async for delta in deltas:
        yield delta.upper()


@pytest.mark.anyio
async def test_aclose_stops_the_producers_of_every_fan_out_branch() -> None:
    left, right = Tokens(WORDS, label="left"), Tokens(WORDS, label="right")
    async with (left & right).stream("") as stream:
        await anext(stream)
        await stream.aclose()
        assert left.record.running == right.record.running == 0
    assert not (left.record.finished and right.record.finished)


@pytest.mark.anyio
async def test_cancelling_the_consumer_stops_the_producers() -> None:
    left, right = Tokens(WORDS * 10), Tokens(WORDS * 10)
    pipeline = forward >> (left & (right >> shout))
    with anyio.CancelScope() as scope:
        async with pipeline.stream("") as stream:
            async for chunk in stream:
                if chunk.index == 3:
                    scope.cancel()
    assert scope.cancelled_caught
    assert left.record.running == right.record.running == 0
    assert left.record.closed
    assert right.record.closed


@pytest.mark.anyio
async def test_no_task_outlives_a_fan_out_stream() -> None:
    before = len(anyio.get_running_tasks())
    pipeline = Tokens(WORDS) >> (shout & forward & lift(agent(str.title)))
    async with pipeline.stream("") as stream:
        await anext(stream)
        assert len(anyio.get_running_tasks()) > before
    assert len(anyio.get_running_tasks()) == before
    whole = await pipeline.stream("")
    assert whole == (
        "THE CAT SAT ON THE MAT.",
        "The cat sat on the mat.",
        "The Cat Sat On The Mat.",
    )
    assert len(anyio.get_running_tasks()) == before


@pytest.mark.anyio
async def test_a_slow_consumer_slows_the_branches_of_a_fan_out() -> None:
    left, right = Tokens([f"{n} " for n in range(200)]), Tokens([f"{n} " for n in range(200)])
    consumed = 0
    async with (forward >> (left & right)).stream("") as stream:
        async for _ in stream:
            consumed += 1
            for _ in range(5):
                await anyio.lowlevel.checkpoint()
            # each branch holds at most the piece it is handing over and the one it made next
            assert len(left.record.produced) + len(right.record.produced) <= consumed + 4
            if consumed == 50:
                break


@pytest.mark.anyio
async def test_fan_out_deltas_interleave_tagged_by_branch() -> None:
    fan = Tokens(["a", "b", "c"], label="letters") & Tokens(["1", "2"], label="digits")
    async with fan.stream("") as stream:
        chunks = [chunk async for chunk in stream]
    letters = [chunk.delta[0] for chunk in chunks if chunk.delta[0]]
    digits = [chunk.delta[1] for chunk in chunks if chunk.delta[1]]
    assert letters == ["a", "b", "c"]
    assert digits == ["1", "2"]
    assert all(not (x and y) for x, y in (chunk.delta for chunk in chunks))
    assert chunks[-1].done
    assert chunks[-1].accumulated == ("abc", "12")


@pytest.mark.anyio
async def test_a_failing_branch_cancels_the_other_and_surfaces_unchanged() -> None:
    failure = RuntimeError("branch broke")
    healthy = Tokens(WORDS * 50)
    fan = Tokens(WORDS, error=failure, fail_after=2) & healthy
    with pytest.raises(RuntimeError) as caught:
        await fan.stream("")
    assert caught.value is failure
    assert healthy.record.running == 0
    assert not healthy.record.finished


@pytest.mark.anyio
async def test_a_whole_input_stage_waits_while_a_transducer_streams() -> None:
    seen_by_whole: list[str] = []

    @agent
    def record_whole(text: str) -> str:
        seen_by_whole.append(text)
        return f"{len(text)} characters"

    pipeline = Tokens(WORDS) >> (shout & lift(record_whole))
    async with pipeline.stream("") as stream:
        chunks = [chunk async for chunk in stream]
    texts = [chunk.delta[0] for chunk in chunks if chunk.delta[0]]
    assert texts == [w.upper() for w in WORDS]
    position = next(i for i, chunk in enumerate(chunks) if chunk.delta[1])
    assert position >= len(WORDS)  # the whole-input branch answered only after the last token
    assert seen_by_whole == ["The cat sat on the mat."]


@pytest.mark.anyio
async def test_parallel_fed_by_a_fan_out_streams_each_component() -> None:
    pipeline = (Tokens(["x", "y"]) & Tokens(["p", "q"])) >> (shout * forward)
    assert await pipeline.stream("") == ("XY", "pq")


# --- a streaming operand on either side: the product streams, the plain side lifted ----------


@agent
def up(text: str) -> str:
    return text.upper()


@agent
def size(text: str) -> int:
    return len(text)


@pytest.mark.anyio
async def test_a_fan_out_streams_whichever_branch_streams() -> None:
    model = Tokens(["a ", "b"], label="model")
    for fan in (model & up, up & model):
        assert isinstance(fan, StreamingFanOut)
        async with fan.stream("x") as stream:
            chunks = [chunk async for chunk in stream]
        assert chunks[-1].done
    assert await (model & up).stream("x") == ("a b", "X")
    assert await (up & model).stream("x") == ("X", "a b")


@pytest.mark.anyio
async def test_a_streaming_fan_out_extends_flat_on_the_left() -> None:
    model = Tokens(["a ", "b"], label="model")
    extended = (up & size) & model
    assert isinstance(extended, StreamingFanOut)
    assert isinstance(extended.agent, FanOut)
    assert len(extended.agent.branches) == 3
    assert extended == lift(up) & lift(size) & model
    assert await extended.stream("xy") == ("XY", 2, "a b")
    assert await (model & up & size).stream("xy") == ("a b", "XY", 2)
    nested = up & (size & model)
    assert await nested.stream("xy") == ("XY", (2, "a b"))


@pytest.mark.anyio
async def test_a_parallel_streams_whichever_side_streams() -> None:
    model = Tokens(["a ", "b"], label="model")
    for product in (model * up, up * model):
        assert isinstance(product, Lifted)
        assert isinstance(product.agent, Parallel)
        assert isinstance(product, StreamingAgent)
    assert await (model * up).stream(("x", "y")) == ("a b", "Y")
    assert await (up * model).stream(("x", "y")) == ("X", "a b")


@pytest.mark.anyio
async def test_a_streaming_product_invoked_plainly_gives_its_whole_value() -> None:
    model = Tokens(["a ", "b"], label="model")
    fan = model & forward
    assert isinstance(fan.agent, FanOut)
    assert fan.agent.streams
    assert await fan.agent.invoke("x") == ("a b", "x")


def test_products_are_built_by_their_operators_only() -> None:
    with pytest.raises(TypeError, match="write f & g"):
        FanOut((up, size))
    with pytest.raises(TypeError, match=r"write f \* g"):
        Parallel(up, size)


# --- scale: a fan-out nested a thousand deep -----------------------------------------------------


def nested(depth: int, branch: Agent[Any, Any]) -> Agent[Any, Any]:
    """``branch & (branch & (... & branch))``, ``depth`` levels."""
    built: Agent[Any, Any] = branch
    for _ in range(depth):
        built = branch & built
    return built


def innermost(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = value[1]
    return value


@pytest.mark.anyio
async def test_a_plain_fan_out_nested_a_thousand_deep_runs_and_prints() -> None:
    deep = nested(1000, up)
    assert repr(deep).startswith("up & (up & (up & ")
    assert repr(deep).count("(") == 999
    assert innermost(await deep.invoke("a"), 1000) == "A"
    assert deep.input_type is str


@pytest.mark.anyio
async def test_a_streaming_fan_out_nested_a_thousand_deep_runs_and_prints() -> None:
    deep = Tokens(["a", "b"]) >> nested(1000, forward)
    assert repr(deep).startswith("tokens >> (forward & (forward & ")
    async with deep.stream("") as stream:
        chunks = [chunk async for chunk in stream]
    assert innermost(chunks[-1].accumulated, 1000) == "ab"
    assert chunks[-1].accumulated[0] == "ab"


@pytest.mark.anyio
async def test_a_fan_out_of_per_delta_steps_runs_in_the_readers_task() -> None:
    """Maps, filters and forwarders need no task: such a fan-out is read with a plain
    `async for`, and each input delta reaches every branch before the next is asked for."""

    def odd(delta: str) -> bool:
        return int(delta) % 2 == 1

    fan = Tokens(["1", "2", "3"]) >> (forward & map_deltas(str.upper) & filter_deltas(odd))
    assert not fan.runs_tasks
    before = len(anyio.get_running_tasks())
    deltas = [chunk.delta async for chunk in fan.stream("")]
    assert len(anyio.get_running_tasks()) == before
    assert deltas[:-1] == [
        ("1", "", ""),
        ("", "1", ""),
        ("", "", "1"),
        ("2", "", ""),
        ("", "2", ""),
        ("3", "", ""),
        ("", "3", ""),
        ("", "", "3"),
    ]
    assert await fan.stream("") == ("123", "123", "13")


@pytest.mark.anyio
@pytest.mark.parametrize("second", ["one map", "two maps"])
async def test_a_fed_fan_out_keeps_what_every_branch_made_before_its_input_failed(
    second: str,
) -> None:
    # Found by law E5: a branch that runs in a task lost what it had received (under trio, every
    # branch did) when the input failed, cancelled by the failure before it could pass it on.
    @agent
    async def cut(text: str) -> AsyncIterator[str]:
        async def deltas() -> AsyncIterator[str]:
            yield "a"
            raise ValueError("connection reset")

        return deltas()

    up = map_deltas(str.upper)
    branch = up if second == "one map" else up >> map_deltas(str.upper)
    seen: list[Any] = []

    async def read() -> None:
        async with (lift(cut, monoid=STR) >> (up & branch)).stream("x") as stream:
            async for chunk in stream:
                seen.append(chunk.delta)

    with pytest.raises(ValueError, match=r"^connection reset$"):  # (once, not in a group)
        await read()
    assert sorted(seen) == [("", "A"), ("A", "")]
