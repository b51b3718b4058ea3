"""Pipelines that type-check, with the types mypy infers for them (no error is expected here)."""

from typing import NoReturn, reveal_type

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


reveal_type(parse)
reveal_type(render)
reveal_type(Summarize())

# sequence
reveal_type(parse >> render)
reveal_type(parse >> render >> shout)
reveal_type(shout >> Summarize())
reveal_type(parse >> halve)  # an int may flow where a float is expected

# identity
reveal_type(Id >> parse)
reveal_type(parse >> Id)
reveal_type(Id >> parse >> Id >> render)

# products
reveal_type(parse & shout)
reveal_type(parse & shout & Summarize())
reveal_type(parse & (shout & Summarize()))
reveal_type((parse & shout) >> (render * parse))
reveal_type(parse * render)
reveal_type((parse * render) >> (render * parse))
flat: FanOut[str, int, str, list[str]] = parse & shout & Summarize()

# errors as values
reveal_type(parse.as_result())
reveal_type(parse.as_result(ValueError))
reveal_type(parse.as_result(ValueError, KeyError))
reveal_type(fail(ValueError("no")))
reveal_type(shout.as_result() >> parse.as_result(ValueError))
reveal_type(shout.as_result() >> parse.as_result() >> render.as_result(KeyError))
reveal_type(fail(KeyError("k")) >> parse.as_result(ValueError))
reveal_type(parse.as_result() >> Id)
reveal_type(parse.as_result().recover(on_error))
fallible: Fallible[str, int, Exception] = parse.as_result()
plain: Agent[str, Result[int, Exception]] = fallible
never: Fallible[object, NoReturn, ValueError] = fail(ValueError())

# resilience
reveal_type(parse.with_retry(3))
reveal_type(parse.with_fallback(parse, parse))
reveal_type((parse >> render).with_retry(2).with_fallback(shout))


async def run() -> None:
    reveal_type(await (parse >> render).invoke("1"))
    reveal_type(await (parse & shout).invoke("1"))
    reveal_type(await (parse * render).invoke(("1", 2)))
    reveal_type(await parse.as_result().invoke("1"))
