"""The run-time type check of ``>>`` (``agentcat._annotations``): ``compatible``, and the
:class:`agentcat.CompositionError` it gives, for plain and streaming compositions alike."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal, NewType, Optional, Protocol, TypeVar, Union

import pytest
from returns.result import Result

from agentcat import (
    Agent,
    ChunkStream,
    CompositionError,
    Id,
    StreamingAgent,
    agent,
    lift,
    map_deltas,
    streaming,
)
from agentcat._annotations import _spelled, compatible, mismatch

T = TypeVar("T")
UserId = NewType("UserId", int)


class Base:
    pass


class Derived(Base):
    pass


class Greeter(Protocol):
    def greet(self) -> str: ...


# (a, b, whether an `a` may flow where `b` is expected, and the converse)
CASES: list[tuple[object, object, bool, bool]] = [
    (int, int, True, True),
    (int, str, False, False),
    (bool, int, True, False),
    (Derived, Base, True, False),
    (int, object, True, False),
    (int, Any, True, True),
    (int, T, True, True),
    (None, int, True, True),  # None: not annotated, cannot judge
    # Optional and Union
    (int, Optional[int], True, False),  # noqa: UP045 (the spelling is the point)
    (type(None), Optional[int], True, False),  # noqa: UP045
    (Optional[int], int | None, True, True),  # noqa: UP045
    (int, int | str, True, False),
    (Union[int, str], str | int, True, True),  # noqa: UP007
    (int | str, int | bytes, False, False),
    (bool | int, int, True, True),
    (str | None, bytes | None, False, False),
    # tuples
    (tuple[int, str], tuple[int, str], True, True),
    (tuple[int, str], tuple[str, int], False, False),
    (tuple[int, str], tuple[int, str, str], False, False),
    (tuple[int, int], tuple[int, ...], True, True),  # a variadic tuple may be a pair
    (tuple[int, str], tuple[int, ...], False, True),
    (tuple[bool, ...], tuple[int, ...], True, False),
    (tuple[int, str], tuple, True, True),
    (tuple[tuple[int, str], str], tuple[tuple[int, int], str], False, False),
    # lists and other generics
    (list[int], list[int], True, True),
    (list[int], list[str], False, False),
    (list[int], Sequence[int], True, False),
    (list[int], Iterable[str], True, False),  # cannot judge list against Iterable[str]
    (list[int], tuple[int, ...], False, False),
    (dict[str, int], dict[str, str], False, False),
    (dict[str, int], Mapping[str, int], True, False),
    (list[Optional[int]], list[int], False, True),  # noqa: UP045
    # special forms
    (Literal["a", "b"], str, True, True),
    (Literal["a", 1], str, False, True),
    (Annotated[int, "meta"], int, True, True),
    (UserId, int, True, True),
    (Callable[[int], str], Callable[[str], str], True, True),
    (Greeter, Base, False, True),  # Base against a protocol that is not runtime-checkable
    # the numeric tower: a type checker accepts an int where a float or complex is expected
    (int, float, True, False),
    (float, complex, True, False),
    (int, complex, True, False),
    (int, float | None, True, False),
]


def _case_id(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "unannotated" if value is None else _spelled(value)


@pytest.mark.parametrize(("a", "b", "a_to_b", "b_to_a"), CASES, ids=_case_id)
def test_compatible(a: object, b: object, a_to_b: bool, b_to_a: bool) -> None:
    assert compatible(a, b) is a_to_b
    assert compatible(b, a) is b_to_a


# --- agents ------------------------------------------------------------------------------------


@agent
def count(text: str) -> int:
    return len(text)


@agent
def shout(text: str) -> str:
    return text.upper()


@agent
async def halve(number: float) -> float:
    return number / 2


@agent
def maybe(text: str) -> int | None:
    return len(text) or None


@agent
def unannotated(value):  # type: ignore[no-untyped-def]
    return value


def test_mismatched_sequence_names_both_agents_and_both_types() -> None:
    with pytest.raises(TypeError) as info:
        count >> shout  # type: ignore[operator]
    message = str(info.value)
    assert message == "cannot compose count >> shout: count produces int, but shout expects str"


def test_mismatch_inside_a_pipeline_names_the_pipeline() -> None:
    with pytest.raises(TypeError, match=r"shout >> count produces int, but shout expects str"):
        shout >> count >> shout  # type: ignore[operator]


def test_optional_output_into_a_plain_input_is_rejected() -> None:
    @agent
    def needs_int(number: int) -> str:
        return str(number)

    with pytest.raises(TypeError, match=r"maybe produces int \| None, but needs_int expects int"):
        maybe >> needs_int  # type: ignore[operator]


def test_matching_sequences_compose() -> None:
    assert (shout >> count).input_type is str
    assert (shout >> count).output_type is int


def test_an_int_may_flow_where_a_float_is_expected() -> None:
    """mypy accepts ``count >> halve`` (int is compatible with float), so ``>>`` must too."""
    assert (count >> halve).output_type is float


@pytest.mark.anyio
async def test_unannotated_agents_compose_with_anything() -> None:
    assert unannotated.input_type is None
    assert unannotated.output_type is None
    assert await (shout >> unannotated >> count).invoke("abc") == 3
    assert await (count >> unannotated).invoke("abcd") == 4
    double: Agent[Any, Any] = agent(lambda x: x * 2)
    assert await (shout >> double >> count).invoke("ab") == 4
    assert await (count >> double >> double).invoke("ab") == 8


def test_unresolvable_annotations_count_as_unknown() -> None:
    def later(value: DoesNotExistYet) -> DoesNotExistYet:  # type: ignore[name-defined]  # noqa: F821
        return value

    assert agent(later).input_type is None
    assert count >> agent(later) >> shout is not None


class Shorten(Agent[int, str]):
    async def invoke(self, value: int, /) -> str:
        return "x" * value


class ShortenMore(Shorten):
    pass


class FromInvoke(Agent[Any, Any]):
    async def invoke(self, value: str, /) -> int:
        return len(value)


class Generic_(Agent[T, T]):
    async def invoke(self, value: T, /) -> T:
        return value


@pytest.mark.parametrize(
    ("instance", "types"),
    [(Shorten(), (int, str)), (ShortenMore(), (int, str)), (FromInvoke(), (str, int))],
    ids=["subclass", "subclass-of-subclass", "from-invoke"],
)
def test_agent_classes_carry_their_types(
    instance: Agent[Any, Any], types: tuple[object, object]
) -> None:
    assert (instance.input_type, instance.output_type) == types


@pytest.mark.parametrize("instance", [Generic_[int](), Id], ids=["type-variables", "Id"])
def test_agents_with_type_variables_compose_with_anything(instance: Agent[Any, Any]) -> None:
    for known in (instance.input_type, instance.output_type):
        assert known is None or isinstance(known, TypeVar)
    assert count >> instance >> Shorten() is not None
    assert shout >> instance >> count is not None


@pytest.mark.anyio
async def test_subclass_agents_are_checked_by_sequence() -> None:
    assert await (count >> Shorten() >> shout).invoke("abc") == "XXX"
    with pytest.raises(TypeError, match="Shorten produces str, but ShortenMore expects int"):
        Shorten() >> ShortenMore()  # type: ignore[operator]
    with pytest.raises(TypeError, match="FromInvoke produces int, but FromInvoke expects str"):
        FromInvoke() >> FromInvoke()


def test_products_carry_types() -> None:
    assert (count & shout).output_type == tuple[int, str]
    assert (count & shout).input_type is str
    assert (count * shout).input_type == tuple[str, str]
    assert (count * shout).output_type == tuple[int, str]
    assert (count & unannotated).output_type is None


def test_products_are_checked_by_sequence() -> None:
    @agent
    def join(pair: tuple[str, str]) -> str:
        return "".join(pair)

    assert (shout & shout) >> join is not None
    with pytest.raises(TypeError, match=r"produces tuple\[int, str\], but join expects"):
        (count & shout) >> join  # type: ignore[operator]
    with pytest.raises(TypeError):
        (count * shout) >> join  # type: ignore[operator]


def test_fallible_sequences_are_checked() -> None:
    with pytest.raises(TypeError, match=r"count.as_result\(\) produces int, but"):
        count.as_result() >> shout.as_result()  # type: ignore[operator]
    assert shout.as_result() >> count.as_result() is not None


# --- streaming compositions are checked the same way, whichever side streams ------------------


@streaming
async def words(prompt: str) -> AsyncIterator[str]:
    for word in prompt.split():
        yield word + " "


@streaming
async def numbers(prompt: str) -> AsyncIterator[int]:
    yield len(prompt)


@agent
def increment(number: int) -> int:
    return number + 1


def upper(text: str) -> str:
    return text.upper()


STREAMING_MISMATCHES: list[tuple[Callable[[], object], str]] = [
    (lambda: words >> increment, "words produces str, but increment expects int"),  # type: ignore[operator]
    (lambda: numbers >> shout, "numbers produces int, but shout expects str"),  # type: ignore[operator]
    (lambda: count >> words, "count produces int, but words expects str"),  # type: ignore[operator]
    (lambda: lift(count) >> words, r"lift\(count\) produces int, but words expects str"),  # type: ignore[operator]
    (lambda: words >> lift(increment), r"str, but lift\(increment\) expects int"),  # type: ignore[operator]
    (lambda: numbers >> map_deltas(upper), r"int, but map_deltas\(upper\) expects str"),  # type: ignore[operator]
    (lambda: shout >> (words >> increment), "words produces str, but increment expects int"),  # type: ignore[operator]
    (lambda: (shout >> numbers) >> words, "numbers produces int, but words expects str"),  # type: ignore[operator]
    (
        lambda: (words & numbers) >> lift(increment),  # type: ignore[arg-type]
        r"^cannot compose \(words & numbers\) >> lift\(increment\): \(words & numbers\) "
        r"produces tuple\[str, int\], but lift\(increment\) expects int$",
    ),
]


@pytest.mark.parametrize(
    ("build", "message"),
    STREAMING_MISMATCHES,
    ids=[str(n) for n in range(len(STREAMING_MISMATCHES))],
)
def test_streaming_mismatches_are_refused_when_built(
    build: Callable[[], object], message: str
) -> None:
    with pytest.raises(CompositionError, match=message):
        build()


def test_streaming_compositions_carry_their_types() -> None:
    pipeline: StreamingAgent[str, int] = shout >> words >> lift(count)
    assert pipeline.input_type is str
    assert pipeline.element_type is int
    assert pipeline.output_type == ChunkStream[int]
    assert (words & numbers).element_type == tuple[str, int]
    assert (numbers * words).input_type == tuple[str, str]


def test_the_message_names_types_without_module_paths() -> None:
    """A stream's annotation reads ``ChunkStream[str]``, not ``agentcat.chunks.ChunkStream``."""
    error = mismatch("f", ChunkStream[str], "g", list[ChunkStream[int]])
    assert str(error).endswith("f produces ChunkStream[str], but g expects list[ChunkStream[int]]")
    assert "but g expects Result[int, str]" in str(mismatch("f", int, "g", Result[int, str]))

    @agent
    def needs_int(number: int) -> int:
        return number

    with pytest.raises(CompositionError) as info:
        agent(_streams_of_words) >> needs_int  # type: ignore[operator]
    assert "agentcat." not in str(info.value)
    assert "list[ChunkStream[str]]" in str(info.value)


def _streams_of_words(text: str) -> list[ChunkStream[str]]:
    return [words.stream(part) for part in text.split()]


def test_a_composition_error_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        words >> increment  # type: ignore[operator]


@pytest.mark.anyio
async def test_a_plain_function_returning_an_awaitable_is_typed_by_what_invoke_awaits() -> None:
    """``invoke`` awaits what a plain function returns, and mypy types the agent so: the
    run-time check must not reject what both accept."""

    async def later(text: str) -> int:
        return len(text)

    def deferred(text: str) -> Awaitable[int]:
        return later(text)

    def streamed(text: str) -> ChunkStream[str]:
        return words.stream(text)

    assert agent(deferred).output_type is int
    assert agent(streamed).output_type is None  # a promise: its __await__ tells, not its class
    assert await (agent(deferred) >> increment).invoke("abc") == 4
    assert await (agent(streamed) >> shout).invoke("a b") == "A B "
    with pytest.raises(CompositionError, match="deferred produces int, but shout expects str"):
        agent(deferred) >> shout  # type: ignore[operator]
