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
"""

from __future__ import annotations

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
