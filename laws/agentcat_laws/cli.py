"""``agentcat-laws module:object``: check the laws of an object from the command line.

The object is a subject (an agent, a transducer, a monoid, Combinators, a consumer or chunk
source), or a test made by :func:`agentcat_laws.laws_of` (its inputs and options are used);
the module is a module name or the path of a ``.py`` file, imported with the current directory
on ``sys.path``. The ``agentcat-ci`` profile is used unless ``--profile`` says otherwise.
Prints the report of each; exits with status 1 when a law is broken, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Literal, cast

from hypothesis import settings

from agentcat_laws.profiles import register_profiles
from agentcat_laws.runner import LawCheck, plan_laws, run_check_sync
from agentcat_laws.testing import check_of

__all__ = ["main"]


def _load(target: str) -> object:
    module_name, _, attribute = target.rpartition(":")
    if not module_name or not attribute:
        raise ValueError(f"{target!r} is not of the form module:object or path.py:object")
    found: object = _module(module_name)
    for part in attribute.split("."):
        found = getattr(found, part)
    return found


def _module(name: str) -> ModuleType:
    if not name.endswith(".py"):
        return importlib.import_module(name)
    path = Path(name).resolve()
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {name}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentcat-laws",
        description="Check the laws of agentcat agents, transducers and monoids.",
    )
    parser.add_argument("targets", nargs="+", metavar="module:object")
    parser.add_argument("--backend", choices=["asyncio", "trio"], default="asyncio")
    parser.add_argument(
        "--profile",
        default="agentcat-ci",
        help="Hypothesis profile (agentcat-ci, agentcat-nightly, or one you registered)",
    )
    parser.add_argument("--max-examples", type=int, help="examples per law (overrides profile)")
    parser.add_argument("--laws", help="comma-separated laws or suites to keep, e.g. S3,W2")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    arguments = _parser().parse_args(argv)
    register_profiles()
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        chosen = settings.get_profile(arguments.profile)
    except Exception as error:
        print(f"agentcat-laws: {error}", file=sys.stderr)
        return 2
    if arguments.max_examples is not None:
        chosen = settings(chosen, max_examples=arguments.max_examples)
    wanted = arguments.laws.split(",") if arguments.laws else None
    backend = cast(Literal["asyncio", "trio"], arguments.backend)
    status = 0
    for target in arguments.targets:
        try:
            check = _plan(_load(target), wanted, chosen)
        except (ImportError, AttributeError, TypeError, ValueError) as error:
            print(f"agentcat-laws: {target}: {error}", file=sys.stderr)
            return 2
        report = run_check_sync(check, backend=backend)
        print(report)
        status = status or (0 if report.passed else 1)
    return status


def _plan(target: object, wanted: list[str] | None, chosen: settings) -> LawCheck:
    planned = check_of(target)
    if planned is None:
        return plan_laws(target, laws=wanted, settings=chosen)
    laws = planned.laws
    if wanted is not None:
        laws = tuple(law for law in laws if law.name in wanted or law.suite in wanted)
    return LawCheck(planned.scope, laws, planned.settings or chosen)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
