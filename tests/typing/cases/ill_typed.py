"""Compositions that must not type-check: each ends with ``# type: ignore[code]``, the code of
the error mypy must report on that line. Should one become accepted, mypy reports the ignore as
unused; should it fail with another code, mypy reports that error."""

from agentcat import agent, fail


@agent
def parse(text: str) -> int:
    return int(text)


@agent
async def render(number: int) -> str:
    return str(number)


@agent
def shout(text: str) -> str:
    return text.upper()


# sequence: the output of the left agent is not the input of the right one
parse >> parse  # type: ignore[operator]
parse >> shout  # type: ignore[operator]
parse >> render >> render  # type: ignore[operator]
shout >> (render >> parse)  # type: ignore[operator]
parse >> 3  # type: ignore[operator]
shout >> (lambda text: text)  # type: ignore[operator]

# fan-out: the branches take different inputs
parse & render  # type: ignore[operator]
parse & shout & render  # type: ignore[operator]
parse & 3  # type: ignore[operator]

# parallel: a pair in, a pair out
parse * 3  # type: ignore[operator]
(parse * render) >> (shout * render)  # type: ignore[operator]

# errors as values
shout.as_result() >> render.as_result()  # type: ignore[operator]
fail(ValueError()) >> render  # type: ignore[operator]
parse.as_result().recover(shout)  # type: ignore[arg-type]
parse.as_result(3)  # type: ignore[call-overload]

# resilience: the alternatives compute the same thing
parse.with_fallback(render)  # type: ignore[arg-type]
parse.with_retry("3")  # type: ignore[arg-type]


async def run() -> None:
    await parse.invoke(1)  # type: ignore[arg-type]
    await (parse >> render).invoke(1)  # type: ignore[arg-type]
    await (parse * render).invoke("1")  # type: ignore[arg-type]
    number: int = await shout.invoke("a")  # type: ignore[assignment]
    del number
