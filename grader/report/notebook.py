"""The feedback notebook: a student's own notebook as HTML, each function's results right after its cell.

For notebook submissions (<id>.notebook.html beside <id>.html). The notebook is
the student's, with its outputs removed (they were made on the student's
machine, not by grading, and may hold any HTML); after the cell that defines a
function (the last one, as Jupyter's Run All leaves it) comes a cell with that
function's checks: visible ones in full, hidden ones in brief, as on the
feedback page. nbconvert renders it (``pip install dl-grader[notebooks]``).

The student's Markdown is shown with raw HTML as text, and the page carries no
script: nbconvert's own (MathJax, require.js) are left out, so it works offline.
"""

from __future__ import annotations

import ast
import copy
import re
from html import escape
from pathlib import Path
from typing import Any

from grader.model import CheckResult, SubmissionReport
from grader.report import markdown
from grader.report.feedback import STATUS_WORDS, points, view

_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S | re.I)
_STYLE = """<style>.grader-result{border-left:4px solid #0969da;background:#f6f8fa;padding:.2em 1em;margin:.4em 0}
.jp-RenderedMarkdown table{font-size:.95em}</style>"""


def available() -> bool:
    try:
        import nbconvert  # noqa: F401
    except ImportError:
        return False
    return True


def annotated(report: SubmissionReport, notebook: Any) -> Any:
    """A copy of notebook without outputs, with the results as Markdown cells after their functions."""
    import nbformat

    copied = copy.deepcopy(notebook)
    page = view(report)
    owners = _defining_cells(copied)
    placed: dict[int, list[str]] = {}
    elsewhere: list[str] = []
    for result in (*page.visible, *(r for r in report.results if r.visibility == "hidden")):
        name = result.functions[0].split(".")[0] if result.functions else ""
        lines = _result_lines(result, page.problem)
        if name in owners:
            placed.setdefault(owners[name], []).extend(lines)
        else:
            elsewhere.extend(lines)
    cells = [nbformat.v4.new_markdown_cell(_overview(report, page))]
    for index, cell in enumerate(copied.cells):
        if cell.get("cell_type") == "code":
            cell.outputs, cell.execution_count = [], None
        elif cell.get("cell_type") == "markdown":
            cell.source = _as_text(str(cell.source))
        cells.append(cell)
        if index in placed:
            cells.append(_results_cell(placed[index]))
    if elsewhere:
        cells.append(_results_cell(["**Checks of functions not defined in any cell:**", ""] + elsewhere))
    copied.cells = cells
    return copied


def render(report: SubmissionReport, notebook: Any, back: str | None = None) -> str:
    """The feedback notebook as one self-contained HTML page."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(annotated(report, notebook))
    body = _SCRIPT.sub("", body).replace("</head>", _STYLE + "</head>", 1)
    if back:
        link = f'<nav style="margin:1em 2em"><a href="{escape(back)}">&larr; Feedback page</a></nav>'
        body = re.sub(r"(<body\b[^>]*>)", lambda m: m.group(1) + link, body, count=1)
    return body


def _defining_cells(notebook: Any) -> dict[str, int]:
    """Each top-level function or class name, with the index of the last code cell defining it."""
    owners: dict[str, int] = {}
    for index, cell in enumerate(notebook.cells):
        if cell.get("cell_type") != "code":
            continue
        try:
            tree = ast.parse(_python(str(cell.source)))
        except (SyntaxError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                owners[node.name] = index
    return owners


def _python(source: str) -> str:
    from grader.notebooks import cell_to_python

    return cell_to_python(source)[0]


def _as_text(source: str) -> str:
    """Markdown whose raw HTML shows as text: a student's cell cannot add scripts or frames to the page."""
    return source.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _overview(report: SubmissionReport, page: Any) -> str:
    lines = [f"## {markdown.escape(page.heading)}", "", f"**{markdown.escape(page.total)}**", "",
             "Your notebook as it was graded (outputs removed); each function's checks follow the cell that "
             "defines it.", ""]
    if page.problem:
        lines += [markdown.message(page.problem), ""]
    if page.notes:
        lines += ["Notes on loading your notebook:", ""] + [f"- {markdown.message(n)}" for n in page.notes]
    if page.hidden_line:
        lines += ["", markdown.escape(page.hidden_line)]
    return "\n".join(lines)


def _result_lines(result: CheckResult, problem: str) -> list[str]:
    hidden = " (hidden)" if result.visibility == "hidden" else ""
    head = f"- **{STATUS_WORDS[result.status]}** {points(result)} {markdown.message(result.title, True)}{hidden}"
    lines = [head]
    if not result.passed and result.message and result.message != problem:
        lines[0] += "\\"  # a line break inside the item
        lines.append("  " + markdown.message(result.message).replace("\n", "\n  "))
    if result.diagnosis and result.visibility == "visible":
        lines += [""] + markdown.diagnosis_table(result.diagnosis) + [""]  # a table is not read inside a list
    return lines


def _results_cell(lines: list[str]) -> Any:
    import nbformat

    return nbformat.v4.new_markdown_cell("\n".join(["<div class=\"grader-result\">", "", *lines, "", "</div>"]))


def write_beside(report: SubmissionReport, submission: Path, page: Path) -> Path | None:
    """For a notebook submission, write its feedback notebook next to page (<id>.html); return its path.

    Nothing is written for other submissions, where nbconvert is not installed,
    or where the notebook cannot be read (the feedback page says why).
    """
    if submission.suffix.lower() != ".ipynb" or not available():
        return None
    import nbformat

    from grader.report.jsonreport import write_atomic
    from grader.submission import MAX_NOTEBOOK_BYTES, read_limited

    try:  # as the grader read it to grade it: no link followed, no more than a notebook may hold
        notebook = nbformat.reads(read_limited(submission, MAX_NOTEBOOK_BYTES).decode("utf-8"), as_version=4)
    except Exception:  # unreadable or not a notebook: the report already says so
        return None
    target = page.with_name(page.stem + ".notebook.html")
    write_atomic(target, render(report, notebook, back=page.name))
    return target
