"""The generated agents are what the laws need: printable, order-sensitive, non-idempotent."""

from __future__ import annotations

import pytest
from agentcat_laws import Op, Program, programs, texts
from agentcat_laws.programs import OpKind
from hypothesis import find, given, settings
from hypothesis import strategies as st


def test_repr_shows_the_program() -> None:
    program = Program((Op("append", "a"), Op("reverse"), Op("drop_first")))
    assert repr(program) == "program(append('a'), reverse, drop_first)"
    assert repr(program >> Program(())) == (
        "program(append('a'), reverse, drop_first) >> program()"
    )


def test_each_operation_computes_what_it_says() -> None:
    cases: dict[OpKind, str] = {
        "append": "aBcz",
        "prepend": "zaBc",
        "reverse": "cBa",
        "duplicate": "aBcaBc",
        "drop_first": "Bc",
        "swap_case": "AbC",
    }
    for kind, expected in cases.items():
        assert Op(kind, "z")("aBc") == expected, kind


@pytest.mark.parametrize(
    "kind", ["append", "prepend", "reverse", "duplicate", "drop_first", "swap_case"]
)
def test_no_operation_is_idempotent(kind: OpKind) -> None:
    op = Op(kind, "z")
    assert op(op("aB")) != op("aB")


def test_programs_do_not_commute() -> None:
    """A ``>>`` that ran its stages in the opposite order is caught."""
    f, g, x = find(
        st.tuples(programs(), programs(), texts()),
        lambda found: found[1].run(found[0].run(found[2])) != found[0].run(found[1].run(found[2])),
        settings=settings(database=None, derandomize=True),
    )
    assert g.run(f.run(x)) != f.run(g.run(x))


def test_programs_are_not_idempotent() -> None:
    """A ``>>`` that ran a stage twice is caught."""
    f, x = find(
        st.tuples(programs(), texts()),
        lambda found: found[0].run(found[0].run(found[1])) != found[0].run(found[1]),
        settings=settings(database=None, derandomize=True),
    )
    assert f.run(f.run(x)) != f.run(x)


@given(programs(), texts())
def test_a_program_is_its_operations_in_order(program: Program, text: str) -> None:
    expected = text
    for op in program.ops:
        expected = op(expected)
    assert program.run(text) == expected
