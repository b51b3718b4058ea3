"""Products: fan-out ``f & g`` and parallel ``f * g``; laws P1-P5, concurrency, cancellation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pytest
from agentcat_laws import LawError, Program, programs, texts
from agentcat_laws.instruments import Raising
from attrs import define, field
from hypothesis import given

from agentcat import Agent, FanOut, Id
from tests.helpers import Counted, Rendezvous, fst, snd
from tests.strategies import text_pairs

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
