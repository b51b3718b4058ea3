"""Pipelines that type-check, each with the exact type mypy must infer for it (``assert_type``).

No line here may be rejected: a type that changes is an ``assert_type`` error, and a composition
that stops type-checking is an error of its own.
"""

from typing import NoReturn, assert_type

from returns.result import Result

from agentcat import Agent, Fallible, FanOut, Id, agent, fail


@agent
def parse(text: str) -> int:
    return int(text)


@agent
async def render(number: int) -> str:
    return str(number)


@agent
def shout(text: str) -> str:
    return text.upper()


@agent
def halve(number: float) -> float:
    return number / 2


@agent
def on_error(error: Exception) -> int:
    return 0


class Summarize(Agent[str, list[str]]):
    async def invoke(self, value: str, /) -> list[str]:
        return value.split()


assert_type(parse, Agent[str, int])
assert_type(render, Agent[int, str])
assert_type(Summarize(), Summarize)

# sequence
assert_type(parse >> render, Agent[str, str])
assert_type(parse >> render >> shout, Agent[str, str])
assert_type(shout >> Summarize(), Agent[str, list[str]])
assert_type(parse >> halve, Agent[str, float])  # an int may flow where a float is expected

# identity
assert_type(Id >> parse, Agent[str, int])
assert_type(parse >> Id, Agent[str, int])
assert_type(Id >> parse >> Id >> render, Agent[str, str])

# products
assert_type(parse & shout, FanOut[str, int, str])
assert_type(parse & shout & Summarize(), FanOut[str, int, str, list[str]])
assert_type(parse & (shout & Summarize()), FanOut[str, int, tuple[str, list[str]]])
assert_type((parse & shout) >> (render * parse), Agent[str, tuple[str, int]])
assert_type(parse * render, Agent[tuple[str, int], tuple[int, str]])
assert_type((parse * render) >> (render * parse), Agent[tuple[str, int], tuple[str, int]])
flat: FanOut[str, int, str, list[str]] = parse & shout & Summarize()

# errors as values
assert_type(parse.as_result(), Fallible[str, int, Exception])
assert_type(parse.as_result(ValueError), Fallible[str, int, ValueError])
assert_type(parse.as_result(ValueError, KeyError), Fallible[str, int, ValueError | KeyError])
assert_type(fail(ValueError("no")), Fallible[object, NoReturn, ValueError])
assert_type(
    shout.as_result() >> parse.as_result(ValueError), Fallible[str, int, Exception | ValueError]
)
assert_type(
    shout.as_result() >> parse.as_result() >> render.as_result(KeyError),
    Fallible[str, str, Exception | KeyError],
)
assert_type(
    fail(KeyError("k")) >> parse.as_result(ValueError), Fallible[object, int, KeyError | ValueError]
)
assert_type(parse.as_result() >> Id, Fallible[str, int, Exception])
assert_type(parse.as_result().recover(on_error), Agent[str, int])
fallible: Fallible[str, int, Exception] = parse.as_result()
plain: Agent[str, Result[int, Exception]] = fallible
never: Fallible[object, NoReturn, ValueError] = fail(ValueError())

# resilience
assert_type(parse.with_retry(3), Agent[str, int])
assert_type(parse.with_fallback(parse, parse), Agent[str, int])
assert_type((parse >> render).with_retry(2).with_fallback(shout), Agent[str, str])


async def run() -> None:
    assert_type(await (parse >> render).invoke("1"), str)
    assert_type(await (parse & shout).invoke("1"), tuple[int, str])
    assert_type(await (parse * render).invoke(("1", 2)), tuple[int, str])
    assert_type(await parse.as_result().invoke("1"), Result[int, Exception])
