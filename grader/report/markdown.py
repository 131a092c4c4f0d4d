"""Markdown feedback for one student (what batch grading writes as <id>.md).

Text that student code can influence (exception messages, printed output) is
escaped or fenced, so a submission cannot inject links, images or HTML into
the page a TA or a platform renders. A carriage return counts as a line break
(CommonMark reads it as one), so it cannot start a heading or a list unseen.
Code that a message quotes between backticks is shown as code: a code span
renders its content literally, so it needs no escaping, only a fence longer
than any backtick run inside.
"""

from __future__ import annotations

import re

from grader.model import DiagnosisRow, SubmissionReport
from grader.report import text
from grader.report.feedback import STATUS_WORDS, points, spans, view

# Characters that can make text into markup anywhere (links, images, emphasis,
# code, HTML, table cells), and those that do only at the start of a line.
_SPECIAL = re.compile(r"([\\`*_\[\]<>&|!~])")
_LINE_START = re.compile(r"^(\s*)([#>+\-=]|\d+[.)])", re.MULTILINE)


def _lines(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n")


def escape(value: str) -> str:
    value = _lines(value)
    return _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), _SPECIAL.sub(r"\\\1", value))


def fenced(value: str, language: str = "text") -> str:
    value = _lines(value)
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{value}\n{fence}"


def code(value: str, in_table: bool = False) -> str:
    """value as an inline code span (one line)."""
    value = _lines(value).replace("\n", " ")
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    padded = f" {value} " if value.startswith("`") or value.endswith("`") else value
    if in_table:  # GFM splits cells at a pipe even inside code; an escaped one stays in the cell
        padded = padded.replace("|", "\\|")
    return f"{fence}{padded}{fence}"


def message(value: str, in_table: bool = False) -> str:
    """A message with its `code` as code and everything else escaped; line breaks kept."""
    rendered = "".join(code(piece, in_table) if is_code else escape(piece) for piece, is_code in spans(value))
    if in_table:
        return rendered.replace("\n", " ")
    return "\\\n".join(line.rstrip() for line in rendered.split("\n"))  # a backslash ends a line in CommonMark


def diagnosis_table(rows: tuple[DiagnosisRow, ...]) -> list[str]:
    lines = ["| Parameter | Expected | Yours | Relative error | Likely mistake |", "| --- | --- | --- | --- | --- |"]
    for row in rows:
        error = "" if row.relative_error is None else f"{row.relative_error:.3g}"
        lines.append(f"| {code(row.parameter, True)} | {code(row.expected, True)} | {code(row.actual, True)} | "
                     f"{error} | {message(row.mistake, True)} |")
    return lines


def render(report: SubmissionReport) -> str:
    page = view(report)
    lines = [f"# {escape(page.heading)}", "", f"**{escape(page.total)}**", ""]
    if page.problem:
        lines += [message(page.problem), ""]
    if page.notes:
        lines += ["Notes on loading your file:", ""] + [f"- {message(note)}" for note in page.notes] + [""]
    if page.visible:
        lines += ["| Result | Points | Check |", "| --- | --- | --- |"]
        lines += [f"| {STATUS_WORDS[r.status]} | {points(r)} | {message(r.title, True)} |" for r in page.visible]
        lines.append("")
    if page.details:
        lines += ["## Details", ""]
    for detail in page.details:
        result = detail.result
        lines += [f"### {message(result.title, True)} ({points(result)})", ""]
        if detail.message:
            lines += [message(detail.message), ""]
        if result.diagnosis and detail.message:
            lines += diagnosis_table(result.diagnosis) + [""]
        if result.output:
            lines += ["Your code printed:", "", fenced(result.output), ""]
        if result.curves:
            lines += [fenced("\n".join(line.strip() for line in text.curve_lines(result.curves, 80, "", False))), ""]
    if page.hidden_line:
        lines += ["## Hidden checks", "", escape(page.hidden_line), ""]
        lines += [f"- {message(title, True)}: {message(text_)}" for title, text_ in page.hidden_failures]
        if page.hidden_failures:
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
