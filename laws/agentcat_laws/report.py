"""Rendering a :class:`LawReport` as text: one line per law that held; for a broken law, what it
states, the shrunk counterexample and what each side gave."""

from __future__ import annotations

from agentcat_laws.law import LawReport, LawResult
from agentcat_laws.observe import show

__all__ = ["render", "render_result"]

_INDENT = "      "


def render_result(result: LawResult) -> str:
    """One law's result: a line when it held, the whole story when it did not."""
    law = result.law
    head = f"{'PASS' if result.passed else 'FAIL'}  {law.name:<4} {law.title}: {law.statement}"
    if result.passed:
        return head
    lines = [head]
    if result.error is not None:
        lines.append(f"{_INDENT}could not be checked: {result.error}")
        return "\n".join(lines)
    found = result.counterexample
    if found is None:  # pragma: no cover - a failed result has one or the other
        return head
    lines.append(f"{_INDENT}counterexample (shrunk):")
    width = max((len(name) for name in found.example), default=0)
    for name, value in found.example.items():
        lines.append(f"{_INDENT}  {name:<{width}} = {show(value)}")
    left, right = law.sides
    side_width = max(len(left), len(right))
    lines.append(f"{_INDENT}{left:<{side_width}} -> {_value(found.left)}")
    lines.append(f"{_INDENT}{right:<{side_width}} -> {_value(found.right)}")
    for name, text in found.details:
        lines.append(f"{_INDENT}{name}: {text}")
    if found.flaky:
        again = "the example did not break the law again when rerun"
        lines.append(f"{_INDENT}flaky: {again} (is the subject deterministic?)")
    return "\n".join(lines)


def _value(value: object) -> str:
    return value if isinstance(value, str) else show(value)


def render(report: LawReport) -> str:
    """The whole report: a title, each law, and a summary line."""
    lines = [f"agentcat-laws: {report.subject} ({report.kind})"]
    if report.inputs:
        lines.append(f"inputs: {report.inputs}")
    lines.extend(render_result(result) for result in report.results)
    broken = report.broken
    names = ", ".join(result.law.name for result in broken)
    held = len(report.results) - len(broken)
    count = len(report.results)
    summary = f"{count} law{'' if count == 1 else 's'}: {held} held, {len(broken)} broken"
    lines.append(summary + (f" ({names})" if broken else ""))
    return "\n".join(lines)
