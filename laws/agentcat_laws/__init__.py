"""agentcat-laws: check the laws of agentcat agents, transducers and monoids with Hypothesis.

Point it at what you built and it either passes or shows a minimal counterexample::

    report = await check_laws(shout, inputs=st.text())   # under asyncio or trio
    print(report)

- :func:`check_laws` (async), :func:`check_laws_sync`, :func:`assert_laws`: pick the suites
  that apply to the subject, run them, report each law with its shrunk counterexample.
- :func:`laws_of`: the same as a pytest test, one case per law (the ``agentcat_laws`` pytest
  plugin registers its marker and the ``agentcat-ci`` / ``agentcat-nightly`` profiles).
- ``agentcat-laws module:object`` on the command line, exit status 1 on a broken law.
- Laws as values (:class:`Law`, :class:`LawSuite`, :data:`SUITES`) and the strategies they use
  (chunkings, rechunkings, chunk streams, generated programs), public for your own tests.

Importing the package imports none of that: each name is imported from its module the first
time it is asked for (``from agentcat_laws import check_laws`` costs what it did; ``import
agentcat_laws`` alone, which Hypothesis' entry point does in every process that imports
Hypothesis, costs next to nothing). Submodules (``agentcat_laws.strategies``) load the same way.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any

    from agentcat_laws.law import (
        Counterexample,
        Example,
        Law,
        LawReport,
        LawResult,
        LawSuite,
        Verdict,
    )
    from agentcat_laws.observe import Outcome
    from agentcat_laws.profiles import CI, NIGHTLY, register_profiles
    from agentcat_laws.programs import (
        LawError,
        Mark,
        Op,
        Program,
        errors,
        fallible_programs,
        marks,
        ops,
        programs,
    )
    from agentcat_laws.runner import (
        LawCheck,
        LawsBroken,
        assert_laws,
        check_law,
        check_laws,
        check_laws_sync,
        plan_laws,
    )
    from agentcat_laws.scope import Kind, Scope, kind_of
    from agentcat_laws.strategies import (
        ChunkPlan,
        chunk_plans,
        chunk_streams,
        chunkings,
        chunks,
        rechunkings,
        split,
        texts,
        utf8_bytes,
        well_formed,
    )
    from agentcat_laws.subjects import (
        AGENTCAT,
        ChunkSource,
        Combinators,
        Consumer,
        chunk_source,
        consumer,
    )
    from agentcat_laws.suites import (
        CATEGORY,
        CHUNKING,
        ERRORS,
        FUNCTOR,
        MONOID,
        PRODUCTS,
        RESILIENCE,
        SUITES,
        WELL_FORMED,
    )
    from agentcat_laws.testing import laws_of

__all__ = [
    "AGENTCAT",
    "CATEGORY",
    "CHUNKING",
    "CI",
    "ERRORS",
    "FUNCTOR",
    "MONOID",
    "NIGHTLY",
    "PRODUCTS",
    "RESILIENCE",
    "SUITES",
    "WELL_FORMED",
    "ChunkPlan",
    "ChunkSource",
    "Combinators",
    "Consumer",
    "Counterexample",
    "Example",
    "Kind",
    "Law",
    "LawCheck",
    "LawError",
    "LawReport",
    "LawResult",
    "LawSuite",
    "LawsBroken",
    "Mark",
    "Op",
    "Outcome",
    "Program",
    "Scope",
    "Verdict",
    "assert_laws",
    "check_law",
    "check_laws",
    "check_laws_sync",
    "chunk_plans",
    "chunk_source",
    "chunk_streams",
    "chunkings",
    "chunks",
    "consumer",
    "errors",
    "fallible_programs",
    "kind_of",
    "laws_of",
    "marks",
    "ops",
    "plan_laws",
    "programs",
    "rechunkings",
    "register_profiles",
    "split",
    "texts",
    "utf8_bytes",
    "well_formed",
]

_EXPORTS: dict[str, tuple[str, ...]] = {
    "law": ("Counterexample", "Example", "Law", "LawReport", "LawResult", "LawSuite", "Verdict"),
    "observe": ("Outcome",),
    "profiles": ("CI", "NIGHTLY", "register_profiles"),
    "programs": (
        "LawError",
        "Mark",
        "Op",
        "Program",
        "errors",
        "fallible_programs",
        "marks",
        "ops",
        "programs",
    ),
    "runner": (
        "LawCheck",
        "LawsBroken",
        "assert_laws",
        "check_law",
        "check_laws",
        "check_laws_sync",
        "plan_laws",
    ),
    "scope": ("Kind", "Scope", "kind_of"),
    "strategies": (
        "ChunkPlan",
        "chunk_plans",
        "chunk_streams",
        "chunkings",
        "chunks",
        "rechunkings",
        "split",
        "texts",
        "utf8_bytes",
        "well_formed",
    ),
    "subjects": ("AGENTCAT", "ChunkSource", "Combinators", "Consumer", "chunk_source", "consumer"),
    "suites": (
        "CATEGORY",
        "CHUNKING",
        "ERRORS",
        "FUNCTOR",
        "MONOID",
        "PRODUCTS",
        "RESILIENCE",
        "SUITES",
        "WELL_FORMED",
    ),
    "testing": ("laws_of",),
}
"""The module each name of ``__all__`` is imported from, on first use (the imports above are
the same table, for type checkers)."""

_HOME = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str) -> Any:
    """A name of ``__all__``, imported from its module, or a submodule, imported."""
    from importlib import import_module

    home = _HOME.get(name)
    if home is not None:
        value = getattr(import_module(f"{__name__}.{home}"), name)
        globals()[name] = value  # found directly from now on
        return value
    if not name.startswith("_"):  # never ``__main__`` (the command) nor what tools probe for
        try:
            return import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Package(type(sys)):  # type: ignore[misc]  # types.ModuleType, types not imported
    """The package's module type: importing ``agentcat_laws.programs`` binds the package's
    ``programs`` to the module (the import system does that for every submodule), which would
    hide the function ``programs`` exported under the same name; this binds the function, as
    the eager ``from agentcat_laws.programs import programs`` used to."""

    def __setattr__(self, name: str, value: object) -> None:
        if _HOME.get(name) == name and getattr(value, "__name__", None) == f"{__name__}.{name}":
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
