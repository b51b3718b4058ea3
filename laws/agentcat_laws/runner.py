"""Running laws: pick the suites that apply to a subject, run each law's property with
Hypothesis, and collect a :class:`LawReport`.

Hypothesis drives a property from synchronous code, while the subject must run on an event
loop. :func:`check_laws` runs the Hypothesis engine in a worker thread and every example's
check back on the caller's event loop (``anyio.from_thread.run``), so it works under asyncio
and trio alike and the subject sees the loop it will run on in production.
:func:`check_laws_sync` does the same from synchronous code, with an event loop of its own.
Hypothesis shrinks a failing example to a minimal one; the report shows that one.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Iterable
from typing import Any, Literal

import anyio
import anyio.from_thread
import anyio.to_thread
from attrs import evolve, frozen
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as Settings
from hypothesis import strategies as st

from agentcat import Agent, AgentcatError, Monoid
from agentcat_laws.constants import constants_of
from agentcat_laws.law import Counterexample, Example, Law, LawReport, LawResult, Verdict
from agentcat_laws.observe import Outcome
from agentcat_laws.scope import Kind, Scope, kind_of
from agentcat_laws.strategies import default_values, texts, utf8_bytes
from agentcat_laws.subjects import AGENTCAT, ChunkSource, Combinators, Consumer
from agentcat_laws.suites import SUITES

__all__ = [
    "LawCheck",
    "LawsBroken",
    "assert_laws",
    "check_law",
    "check_laws",
    "check_laws_sync",
    "engine_settings",
    "plan_laws",
]

Call = Callable[..., Any]
"""Runs ``await function(*args)`` on the event loop and returns its result."""


class LawsBroken(AgentcatError, AssertionError):
    """Raised by :func:`assert_laws` (and the pytest tests of :func:`agentcat_laws.laws_of`)
    when a law does not hold; its message is the rendered report, ``report`` the report."""

    def __init__(self, report: LawReport) -> None:
        super().__init__(str(report))
        self.report = report


@frozen
class LawCheck:
    """What to check: the scope of a subject, the laws that apply to it, and the Hypothesis
    settings to use (``None``: the current profile). Made by :func:`plan_laws`."""

    scope: Scope
    laws: tuple[Law, ...]
    settings: Settings | None = None

    def report(self, results: Iterable[LawResult]) -> LawReport:
        """The report of ``results`` about this check's subject."""
        return LawReport(
            self.scope.describe(), self.scope.kind, tuple(results), inputs=self.scope.drawn
        )


def _default_inputs(subject: object, kind: Kind) -> tuple[st.SearchStrategy[Any], str]:
    """The inputs the laws draw for ``subject`` when it is given none, and what to call them
    in a report: by its input type, text and bytes made of its own constants too."""
    if kind == "combinators":
        return texts(), "texts()"
    words = constants_of(subject.function if isinstance(subject, Consumer) else subject)
    found: st.SearchStrategy[Any] | type | None
    if kind == "monoid":
        assert isinstance(subject, Monoid)
        found = default_values(subject)
    elif kind == "consumer":
        assert isinstance(subject, Consumer)
        found = default_values(subject.monoid) if subject.monoid is not None else str
    elif isinstance(subject, ChunkSource):
        found = _strategy_for(_first_parameter(subject.function))
    else:
        declared = subject.input_type if isinstance(subject, Agent) else None
        found = _strategy_for(declared)
    if isinstance(found, type):
        return _near(found, words)
    if found is None:
        raise TypeError(
            f"agentcat_laws cannot tell what inputs {subject!r} takes: pass inputs=, "
            "a Hypothesis strategy of them"
        )
    return found, "values of its type" if kind == "monoid" else _shown(found)


def _near(kind: type, words: tuple[str | bytes, ...]) -> tuple[st.SearchStrategy[Any], str]:
    """Text (or UTF-8 bytes) made of ``words`` (a subject's constants) as well as random."""
    made: st.SearchStrategy[Any]
    if kind is str:
        strings = tuple(w for w in words if isinstance(w, str))
        made, name, words = texts(near=strings), "texts()", strings
    else:  # (text constants are encoded)
        made, name = utf8_bytes(near=words), "utf8_bytes()"
    if not words:
        return made, name
    shown = ", ".join(repr(w) for w in words[:6]) + (", ..." if len(words) > 6 else "")
    return made, f"{name}, half of them made of its constants {shown} and pieces of them"


def _shown(inputs: st.SearchStrategy[Any]) -> str:
    """A strategy, as a report names it: its ``repr`` when short."""
    text = repr(inputs)
    return text if len(text) <= 60 else "a strategy of their type"


def _first_parameter(function: Callable[..., Any]) -> object | None:
    """The annotation of ``function``'s first parameter, or ``None`` when it has none."""
    try:
        hints = typing.get_type_hints(function)
        first = next(iter(inspect.signature(function).parameters), None)
    except (NameError, TypeError, ValueError):
        return None
    return hints.get(first) if first is not None else None


def _strategy_for(declared: object) -> st.SearchStrategy[Any] | type | None:
    """The strategy of a declared input type: ``str`` or ``bytes`` as they are (their inputs
    are made with the subject's constants), ``None`` when Hypothesis has none."""
    if declared is str or declared is bytes:
        return declared
    if declared is None:
        return None
    try:
        strategy: st.SearchStrategy[Any] = st.from_type(declared)  # type: ignore[arg-type]
        return strategy
    except Exception:
        return None


def plan_laws(
    subject: object,
    *,
    inputs: st.SearchStrategy[Any] | None = None,
    laws: Iterable[str] | None = None,
    monoid: Monoid[Any] | None = None,
    output_monoid: Monoid[Any] | None = None,
    combinators: Combinators = AGENTCAT,
    example_timeout: float = 10.0,
    settings: Settings | None = None,
) -> LawCheck:
    """Decide which laws apply to ``subject`` and what they draw (see :func:`check_laws`)."""
    kind = kind_of(subject)
    if isinstance(subject, Combinators):
        combinators = subject
    if inputs is None:
        drawn, shown = _default_inputs(subject, kind)
    else:
        drawn, shown = inputs, "as given (inputs=)"
    scope = Scope(
        subject=subject,
        kind=kind,
        inputs=drawn,
        drawn=shown,
        combinators=combinators,
        input_monoid=monoid,
        output_monoid=output_monoid,
        timeout=example_timeout,
    )
    chosen = [law for suite in SUITES for law in suite.for_scope(scope)]
    if laws is not None:
        wanted = set(laws)
        known = {law.name for law in chosen} | {law.suite for law in chosen}
        unknown = wanted - known - {suite.name for suite in SUITES}
        if unknown:
            raise ValueError(
                f"no law or suite called {', '.join(sorted(unknown))} applies to {subject!r}"
            )
        chosen = [law for law in chosen if law.name in wanted or law.suite in wanted]
    return LawCheck(scope, tuple(chosen), settings)


def engine_settings(base: Settings | None = None) -> Settings:
    """``base`` (by default the current Hypothesis profile), as the laws run it: no deadline
    (each example goes through an event loop), one failure per law, no ``explain`` phase
    (the report shows the counterexample itself), no ``too_slow`` health check."""
    base = base if base is not None else Settings()
    suppressed = list(base.suppress_health_check)
    if HealthCheck.too_slow not in suppressed:
        suppressed.append(HealthCheck.too_slow)
    return Settings(
        base,
        deadline=None,
        report_multiple_bugs=False,
        phases=[phase for phase in base.phases if phase is not Phase.explain],
        suppress_health_check=suppressed,
    )


class _Broken(Exception):
    """A law's example did not hold (raised inside the property, caught by the runner)."""

    def __init__(self, example: Example, verdict: Verdict) -> None:
        super().__init__(example, verdict)
        self.example = example
        self.verdict = verdict


async def _checked(law: Law, scope: Scope, example: Example) -> Verdict:
    try:
        with anyio.fail_after(scope.timeout):
            return await law.check(scope, example)
    except TimeoutError:
        message = f"no verdict within {scope.timeout} s (a stage that never ends?)"
        return Verdict(False, "timed out", "a verdict", (("timeout", message),))
    except Exception as error:
        crashed = Outcome(error=error)
        return Verdict(False, crashed, "the check to run", (("the check raised", repr(crashed)),))


def _find_broken(error: BaseException) -> _Broken | None:
    if isinstance(error, _Broken):
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            found = _find_broken(inner)
            if found is not None:
                return found
    cause = error.__cause__ or error.__context__
    return _find_broken(cause) if cause is not None else None


def run_law(law: Law, scope: Scope, settings: Settings | None, call: Call) -> LawResult:
    """Run one law with Hypothesis; ``call`` runs each example's check on the event loop."""
    count = 0

    def holds(example: Example) -> None:
        nonlocal count
        count += 1
        verdict: Verdict = call(_checked, law, scope, example)
        if not verdict.holds:
            raise _Broken(example, verdict)

    # Hypothesis keys its example database by the test function: make the key of each law
    # and subject its own, so that a failure found once is replayed first next time.
    key = f"agentcat-laws:{law.suite}:{law.name}:{scope.describe()}"
    holds._hypothesis_internal_add_digest = key.encode()  # type: ignore[attr-defined]
    test = engine_settings(settings)(given(law.draw(scope))(holds))
    try:
        test()
    except Exception as error:
        broken = _find_broken(error)
        if broken is None:
            return LawResult(law, False, error=f"{type(error).__name__}: {error}", examples=count)
        flaky = broken is not error
        counterexample = Counterexample(
            broken.example,
            broken.verdict.left,
            broken.verdict.right,
            broken.verdict.details,
            flaky=flaky,
        )
        return LawResult(law, False, counterexample, examples=count)
    return LawResult(law, True, examples=count)


def run_check(check: LawCheck, call: Call, laws: Iterable[Law] | None = None) -> LawReport:
    """Run the laws of ``check`` (or only ``laws``), one after the other."""
    chosen = check.laws if laws is None else tuple(laws)
    return check.report(run_law(law, check.scope, check.settings, call) for law in chosen)


def _resolved(check: LawCheck) -> LawCheck:
    """``check`` with its settings resolved here, in the caller's thread (the current profile
    is the caller's), before the engine moves to a worker thread."""
    return evolve(check, settings=engine_settings(check.settings))


async def check_law(check: LawCheck, law: Law) -> LawResult:
    """Run one law of ``check`` under the running event loop (asyncio or trio)."""
    check = _resolved(check)
    work = functools.partial(run_law, law, check.scope, check.settings, anyio.from_thread.run)
    return await anyio.to_thread.run_sync(work)


async def check_laws(
    subject: object,
    *,
    inputs: st.SearchStrategy[Any] | None = None,
    laws: Iterable[str] | None = None,
    monoid: Monoid[Any] | None = None,
    output_monoid: Monoid[Any] | None = None,
    combinators: Combinators = AGENTCAT,
    example_timeout: float = 10.0,
    settings: Settings | None = None,
) -> LawReport:
    """Check every law that applies to ``subject`` and report each one.

    ``subject`` is an agent (plain, fallible, streaming, a transducer), a monoid, a
    :class:`Consumer`, a :class:`ChunkSource`, or :class:`Combinators`. ``inputs`` draws its
    inputs (by default from its input annotation: text for ``str``); ``laws`` keeps only the
    laws or suites named (``["S3", "category"]``); ``monoid`` is how chunked inputs
    accumulate and ``output_monoid`` how its output does (both found from the values' types
    by default); ``example_timeout`` bounds the check of one example, in seconds (a stage
    that never ends is reported, not waited for); ``settings`` are the Hypothesis
    settings (by default the current profile; see :mod:`agentcat_laws.profiles`).

    Runs under the running event loop (asyncio or trio); never raises for a broken law: see
    the report's ``passed``, or use :func:`assert_laws`.
    """
    check = plan_laws(
        subject,
        inputs=inputs,
        laws=laws,
        monoid=monoid,
        output_monoid=output_monoid,
        combinators=combinators,
        example_timeout=example_timeout,
        settings=settings,
    )
    work = functools.partial(run_check, _resolved(check), anyio.from_thread.run)
    return await anyio.to_thread.run_sync(work)


async def assert_laws(subject: object, **options: Any) -> LawReport:
    """:func:`check_laws`, raising :class:`LawsBroken` (an ``AssertionError`` whose message is
    the report) when a law does not hold."""
    __tracebackhide__ = True
    report = await check_laws(subject, **options)
    if not report.passed:
        raise LawsBroken(report)
    return report


def check_laws_sync(
    subject: object, *, backend: Literal["asyncio", "trio"] = "asyncio", **options: Any
) -> LawReport:
    """:func:`check_laws` from synchronous code: the subject runs on an event loop of
    ``backend`` in a thread of its own, Hypothesis in the calling thread."""
    check = plan_laws(subject, **options)
    return run_check_sync(check, backend=backend)


def run_check_sync(
    check: LawCheck,
    *,
    backend: Literal["asyncio", "trio"] = "asyncio",
    laws: Iterable[Law] | None = None,
) -> LawReport:
    """Run a planned check from synchronous code (see :func:`check_laws_sync`)."""
    with anyio.from_thread.start_blocking_portal(backend) as portal:
        return run_check(check, portal.call, laws)
