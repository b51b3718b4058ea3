"""The law suites, one module per family. :data:`SUITES` lists them in the order reports show
them; :func:`agentcat_laws.check_laws` picks the ones that apply to what it is given."""

from __future__ import annotations

from agentcat_laws.law import LawSuite
from agentcat_laws.suites.category import CATEGORY
from agentcat_laws.suites.chunking import CHUNKING
from agentcat_laws.suites.errors import ERRORS
from agentcat_laws.suites.functor import FUNCTOR
from agentcat_laws.suites.monoid import MONOID
from agentcat_laws.suites.products import PRODUCTS
from agentcat_laws.suites.resilience import RESILIENCE
from agentcat_laws.suites.wellformed import WELL_FORMED

__all__ = [
    "CATEGORY",
    "CHUNKING",
    "ERRORS",
    "FUNCTOR",
    "MONOID",
    "PRODUCTS",
    "RESILIENCE",
    "SUITES",
    "WELL_FORMED",
]

SUITES: tuple[LawSuite, ...] = (
    CATEGORY,
    FUNCTOR,
    CHUNKING,
    WELL_FORMED,
    MONOID,
    PRODUCTS,
    ERRORS,
    RESILIENCE,
)
"""Every suite: category (C0-C4), streaming functor (S0-S2), chunk-wise input (S3, S3a, S3b,
S4, S5-S8), well-formedness (W1-W6), monoid (M1-M3), products (P1-P7, SP1, SP2), errors
(E1-E6), resilience (R1-R3)."""
