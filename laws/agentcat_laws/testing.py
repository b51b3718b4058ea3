"""``laws_of``: the laws of a subject as a pytest test, one test case per law.

Assign the result to a name starting with ``test`` in a test module::

    test_shout_laws = laws_of(shout, inputs=st.text())

pytest collects one case per law (``test_shout_laws[S3]``), each an ``async`` test run by
anyio's pytest plugin under the ``anyio_backend`` your project configures (asyncio by
default; parametrise the fixture to add trio), marked ``agentcat_laws`` so that ``pytest -m
agentcat_laws`` selects them. A broken law fails its case with the shrunk counterexample.
Nothing is registered anywhere: the test is an ordinary module attribute, so collection is the
same in every pytest-xdist worker. pytest is imported only when ``laws_of`` is called.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from agentcat_laws.law import Law
from agentcat_laws.runner import LawCheck, LawsBroken, check_law, plan_laws

__all__ = ["laws_of"]


def laws_of(subject: object, **options: Any) -> Callable[[Law], Awaitable[None]]:
    """A pytest test function checking every law that applies to ``subject``, one case per
    law. ``options`` are those of :func:`agentcat_laws.check_laws` (``inputs=``, ``laws=``,
    ``settings=``, ...). The function's ``agentcat_laws`` attribute is the planned
    :class:`~agentcat_laws.runner.LawCheck`, which the ``agentcat-laws`` command also accepts.
    """
    import pytest

    check = plan_laws(subject, **options)

    async def test_laws(law: Law) -> None:
        __tracebackhide__ = True
        result = await check_law(check, law)
        if not result.passed:
            raise LawsBroken(check.report([result]))

    parametrize = pytest.mark.parametrize("law", check.laws, ids=[law.name for law in check.laws])
    test = pytest.mark.agentcat_laws(pytest.mark.anyio(parametrize(test_laws)))
    test.agentcat_laws = check  # type: ignore[attr-defined]
    return test


def check_of(target: object) -> LawCheck | None:
    """The planned check a ``laws_of`` test carries, or ``target`` itself if it is one."""
    if isinstance(target, LawCheck):
        return target
    found = getattr(target, "agentcat_laws", None)
    return found if isinstance(found, LawCheck) else None
