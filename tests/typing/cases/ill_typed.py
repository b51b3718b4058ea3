"""Compositions that must not type-check: each line marked ``# error`` gets at least one error."""

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
parse >> parse  # error
parse >> shout  # error
parse >> render >> render  # error
shout >> (render >> parse)  # error
parse >> 3  # error
shout >> (lambda text: text)  # error

# fan-out: the branches take different inputs
parse & render  # error
parse & shout & render  # error
parse & 3  # error

# parallel: a pair in, a pair out
parse * 3  # error
(parse * render) >> (shout * render)  # error

# errors as values
shout.as_result() >> render.as_result()  # error
fail(ValueError()) >> render  # error
parse.as_result().recover(shout)  # error
parse.as_result(3)  # error

# resilience: the alternatives compute the same thing
parse.with_fallback(render)  # error
parse.with_retry("3")  # error


async def run() -> None:
    await parse.invoke(1)  # error
    await (parse >> render).invoke(1)  # error
    await (parse * render).invoke("1")  # error
    number: int = await shout.invoke("a")  # error
    del number
