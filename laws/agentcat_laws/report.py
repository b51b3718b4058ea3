"""Rendering a :class:`LawReport`: as text, one line per law that held and, for a broken law,
what it states, the shrunk counterexample and what each side gave; as an HTML table (law,
statement, verdict, counterexample), which is how a notebook shows a report."""

from __future__ import annotations

from html import escape

from agentcat_laws.law import LawReport, LawResult
from agentcat_laws.observe import show

__all__ = ["render", "render_html", "render_result", "render_result_html"]

_INDENT = "      "


def render_result(result: LawResult) -> str:
    """One law's result: a line when it held, the whole story when it did not."""
    law = result.law
    head = f"{'PASS' if result.passed else 'FAIL'}  {law.name:<4} {law.title}: {law.statement}"
    return "\n".join([head, *(f"{_INDENT}{line}" for line in _story(result))])


def _story(result: LawResult) -> list[str]:
    """What a broken law's result says beyond its statement (nothing for a law that held)."""
    if result.passed:
        return []
    if result.error is not None:
        return [f"could not be checked: {result.error}"]
    found = result.counterexample
    if found is None:  # pragma: no cover - a failed result has one or the other
        return []
    lines = ["counterexample (shrunk):"]
    width = max((len(name) for name in found.example), default=0)
    for name, value in found.example.items():
        lines.append(f"  {name:<{width}} = {show(value)}")
    left, right = result.law.sides
    side_width = max(len(left), len(right))
    lines.append(f"{left:<{side_width}} -> {_value(found.left)}")
    lines.append(f"{right:<{side_width}} -> {_value(found.right)}")
    for name, text in found.details:
        lines.append(f"{name}: {text}")
    if found.flaky:
        again = "the example did not break the law again when rerun"
        lines.append(f"flaky: {again} (is the subject deterministic?)")
    return lines


def _value(value: object) -> str:
    return value if isinstance(value, str) else show(value)


def _title(report: LawReport) -> str:
    return f"agentcat-laws: {report.subject} ({report.kind})"


def _summary(report: LawReport) -> str:
    broken = report.broken
    names = ", ".join(result.law.name for result in broken)
    held = len(report.results) - len(broken)
    count = len(report.results)
    summary = f"{count} law{'' if count == 1 else 's'}: {held} held, {len(broken)} broken"
    return summary + (f" ({names})" if broken else "")


def render(report: LawReport) -> str:
    """The whole report: a title, each law, and a summary line."""
    lines = [_title(report)]
    if report.inputs:
        lines.append(f"inputs: {report.inputs}")
    lines.extend(render_result(result) for result in report.results)
    lines.append(_summary(report))
    return "\n".join(lines)


_CELL = "text-align: left; vertical-align: top; padding: 4px 8px"
_HELD = "color: var(--jp-success-color1, #2e7d32); font-weight: bold"
_BROKEN = "color: var(--jp-error-color1, #c62828); font-weight: bold"
_PRE = "margin: 0; white-space: pre; word-break: normal; font-size: 12px"


def _head() -> str:
    names = ("law", "statement", "verdict", "counterexample")
    cells = "".join(f'<th style="{_CELL}">{name}</th>' for name in names)
    return f"<thead><tr>{cells}</tr></thead>"


def _row(result: LawResult) -> str:
    law = result.law
    if result.passed:
        verdict = f'<span style="{_HELD}">held</span>'
    elif result.error is not None:
        verdict = f'<span style="{_BROKEN}">not checked</span>'
    else:
        verdict = f'<span style="{_BROKEN}">broken</span>'
    examples = f"<br><small>{result.examples} examples</small>" if result.examples else ""
    story = _story(result)
    found = f'<pre style="{_PRE}">{escape(chr(10).join(story))}</pre>' if story else ""
    return (
        f'<tr><td style="{_CELL}"><b>{escape(law.name)}</b><br>{escape(law.title)}</td>'
        f'<td style="{_CELL}">{escape(law.statement)}</td>'
        f'<td style="{_CELL}; white-space: nowrap">{verdict}{examples}</td>'
        f'<td style="{_CELL}">{found}</td></tr>'
    )


def _table(rows: str, caption: str) -> str:
    return (
        '<table class="agentcat-laws" style="border-collapse: collapse">'
        f'<caption style="text-align: left; padding: 4px 0">{caption}</caption>'
        f"{_head()}<tbody>{rows}</tbody></table>"
    )


def render_html(report: LawReport) -> str:
    """The whole report as an HTML table, every value escaped: a row per law (law, statement,
    verdict, and for a broken law its counterexample), its subject and inputs above, the
    summary below."""
    caption = f"<b>{escape(_title(report))}</b>"
    if report.inputs:
        caption += f"<br>inputs: {escape(report.inputs)}"
    rows = "".join(_row(result) for result in report.results)
    verdict = _HELD if report.passed else _BROKEN
    summary = f'<p style="{verdict}">{escape(_summary(report))}</p>'
    return f"<div>{_table(rows, caption)}{summary}</div>"


def render_result_html(result: LawResult) -> str:
    """One law's result as a table of one row."""
    return _table(_row(result), f"<b>{escape(result.law.name)}</b>")
