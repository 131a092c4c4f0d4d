"""Markdown feedback for one student (what batch grading writes as <id>.md).

Text that student code can influence (exception messages, printed output) is
escaped or fenced, so a submission cannot inject links, images or HTML into
the page a TA or a platform renders.
"""

from __future__ import annotations

import re

from grader.model import SubmissionReport
from grader.report import text
from grader.report.feedback import STATUS_WORDS, points, view

# Characters that can make text into markup anywhere (links, images, emphasis,
# code, HTML, table cells), and those that do only at the start of a line.
_SPECIAL = re.compile(r"([\\`*_\[\]<>&|!~])")
_LINE_START = re.compile(r"^(\s*)([#>+\-=]|\d+[.)])", re.MULTILINE)


def escape(value: str) -> str:
    return _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), _SPECIAL.sub(r"\\\1", value))


def fenced(value: str, language: str = "text") -> str:
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{value}\n{fence}"


def render(report: SubmissionReport) -> str:
    page = view(report)
    lines = [f"# {escape(page.heading)}", "", f"**{escape(page.total)}**", ""]
    if page.notes:
        lines += ["Notes on loading your file:", ""] + [f"- {escape(note)}" for note in page.notes] + [""]
    if page.visible:
        lines += ["| Result | Points | Check |", "| --- | --- | --- |"]
        lines += [f"| {STATUS_WORDS[r.status]} | {points(r)} | {escape(r.title)} |" for r in page.visible] + [""]
    problems = [r for r in page.visible if not r.passed or r.curves]
    if problems:
        lines += ["## Details", ""]
    for result in problems:
        lines += [f"### {escape(result.title)} ({points(result)})", ""]
        if not result.passed:
            lines += [escape(result.message), ""]
        if result.output:
            lines += ["Your code printed:", "", fenced(result.output), ""]
        if result.curves:
            lines += [fenced("\n".join(line.strip() for line in text.curve_lines(result.curves, 80, "", False))), ""]
    if page.hidden_line:
        lines += ["## Hidden checks", "", escape(page.hidden_line), ""]
        lines += [f"- {escape(title)}: {escape(message)}" for title, message in page.hidden_failures]
        if page.hidden_failures:
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
