"""Monoids (``agentcat.monoids``): the built-in ones, the ones a type declares, and the errors
that name a type without one. Their laws (M1-M3) are checked in ``laws/tests``."""

from __future__ import annotations

from typing import Any

import pytest
from attrs import frozen

from agentcat import BYTES, DICT, LIST, STR, TUPLE, Monoid, MonoidError, monoid_for, monoid_of
from agentcat.monoids import INFERRED, LAST, ProductMonoid


@pytest.mark.parametrize(
    ("annotation", "monoid"),
    [(str, STR), (bytes, BYTES), (list[int], LIST), (tuple[int, ...], TUPLE), (dict, DICT)],
)
def test_built_in_types_have_their_monoid(annotation: object, monoid: Monoid[Any]) -> None:
    assert monoid_for(annotation) is monoid


def test_types_without_a_monoid_have_none_and_the_error_names_them() -> None:
    assert monoid_for(int) is None
    assert monoid_for(None) is None
    with pytest.raises(MonoidError, match="no monoid is known for int: set __agentcat_monoid__"):
        monoid_of(3)


@frozen
class Tally:
    count: int


TALLY: Monoid[Tally] = Monoid(
    "tally", lambda: Tally(0), lambda a, b: Tally(a.count + b.count), lambda ps: Tally(len(ps))
)


class Counted:
    __agentcat_monoid__ = TALLY


class Mistaken:
    __agentcat_monoid__ = "concatenate"


def test_a_type_declares_its_monoid() -> None:
    assert monoid_for(Counted) is TALLY
    assert monoid_of(Counted()) is TALLY


def test_a_declared_monoid_that_is_not_one_is_an_error_not_ignored() -> None:
    with pytest.raises(MonoidError, match=r"Mistaken.__agentcat_monoid__ is 'concatenate'"):
        monoid_for(Mistaken)


def test_concat_is_the_fold_of_combine() -> None:
    parts = ["ab", "", "c"]
    assert STR.concat(parts) == "abc"
    assert LIST.concat([[1], [2, 3]]) == [1, 2, 3]
    assert DICT.concat([{"a": 1}, {"a": 2, "b": 3}]) == {"a": 2, "b": 3}
    assert STR.is_empty("")
    assert not STR.is_empty(" ")


def test_last_and_inferred_take_values_that_are_replaced_or_typed_late() -> None:
    assert LAST.concat([1, None, 3, None]) == 3
    assert LAST.combine(2, None) == 2
    assert INFERRED.concat(["a", None, "b"]) == "ab"
    assert INFERRED.concat([7]) == 7
    with pytest.raises(MonoidError):
        INFERRED.concat([1, 2])


def test_a_product_injects_a_branch_delta_at_its_index() -> None:
    product = ProductMonoid.of_components([STR, LIST])
    assert product.inject(1, [5]) == ("", [5])
    assert product.concat([("a", []), ("", [1]), ("b", [2])]) == ("ab", [1, 2])
    assert product.empty() == ("", [])
    assert repr(product) == "Monoid((str, list))"
