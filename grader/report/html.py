"""HTML feedback for one student (<id>.html): the Markdown page's content, with plots.

Self-contained (inline CSS and SVG, no scripts), readable on a phone, and
everything is escaped. Code that a message quotes between backticks is shown
in code style; a carriage return counts as a line break, as it does in <pre>.
"""

from __future__ import annotations

import re
from html import escape as _escape

from grader.model import CheckResult, DiagnosisRow, SubmissionReport
from grader.report import svg
from grader.report.feedback import STATUS_WORDS, points, spans, view

STYLE = """*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;line-height:1.45;max-width:60em;margin:1.5em auto;padding:0 1em;color:#1f2328}
h1{font-size:1.6em;overflow-wrap:anywhere}h2{margin-top:1.6em}h3{margin-top:1.4em}
nav{font-size:.95em;margin-bottom:.5em}a{color:#0969da}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.3em .6em;border-bottom:1px solid #d0d7de;text-align:left;
vertical-align:top}td{overflow-wrap:anywhere}th{background:#f6f8fa}td code{overflow-wrap:normal}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.passed{color:#1a7f37;font-weight:600}.failed,.error{color:#cf222e;font-weight:600}.timeout{color:#9a6700;font-weight:600}
.passed,.failed,.error,.timeout{white-space:nowrap}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;background:#eff1f3;
padding:.1em .3em;border-radius:4px;overflow-wrap:anywhere}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;white-space:pre}
pre code{background:none;padding:0}
.problem{border-left:4px solid #cf222e;padding:.4em .8em;background:#fff5f5}
figure{margin:.8em 0}svg.chart{display:block}"""


def escape(value: str) -> str:
    """HTML-escaped text; a carriage return becomes the line break browsers make of it."""
    return _escape(value.replace("\r\n", "\n").replace("\r", "\n"))


def message(value: str) -> str:
    """A message with its `code` in code style, everything escaped, line breaks kept."""
    rendered = "".join(f"<code>{escape(piece)}</code>" if is_code else escape(piece) for piece, is_code in spans(value))
    return rendered.replace("\n", "<br>\n")


def page(title: str, body: list[str], *, style: str = "", script: str = "") -> str:
    extra = f"<script>{script}</script>" if script else ""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(title)}</title><style>{STYLE}{style}</style></head><body>\n"
            + "\n".join(body) + f"\n{extra}</body></html>\n")


def table(head: list[str], rows: list[list[str]], numeric: tuple[int, ...] = ()) -> str:
    """A table in a box that scrolls sideways on a narrow screen; cells are HTML already."""
    def cells(tag: str, values: list[str]) -> str:
        return "".join(f'<{tag}{" class=num" if i in numeric else ""}>{v}</{tag}>' for i, v in enumerate(values))
    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    return f'<div class="scroll"><table><thead><tr>{cells("th", head)}</tr></thead><tbody>{body}</tbody></table></div>'


def diagnosis_table(rows: tuple[DiagnosisRow, ...]) -> str:
    return table(["Parameter", "Expected", "Yours", "Relative error", "Likely mistake"], [
        [f"<code>{escape(r.parameter)}</code>", f"<code>{escape(r.expected)}</code>",
         f"<code>{escape(r.actual)}</code>",
         "" if r.relative_error is None else f"{r.relative_error:.3g}", message(r.mistake)] for r in rows],
        numeric=(3,))


def curves_chart(result: CheckResult) -> str:
    curves = result.curves
    x_label = next((c.x_label for c in curves if c.x_label), "") or "step"
    chart = svg.line_chart([(c.label, list(c.values)) for c in curves], x_label=x_label, y_label="loss",
                           x_step=curves[0].x_step)
    return f"<figure>{chart}</figure>" if chart else ""


def render(report: SubmissionReport, back: str | None = "summary/index.html", notebook: str | None = None) -> str:
    """The student's page.

    back: where the link back (to the class summary) points, or None for no link;
    notebook: the feedback notebook's page (results beside the student's cells), if there is one.
    """
    body = [f'<nav><a href="{escape(back)}">&larr; Class summary</a></nav>'] if back else []
    return page(view(report).heading, body + _content(report, notebook))


SCOPE = "grader-report"


def fragment(report: SubmissionReport) -> str:
    """The student's page as a block inside another page (a notebook's output, for %grade): the same
    content, with its style confined to the block so that it restyles nothing around it."""
    # The class thrice: a notebook's own rules for output tables (JupyterLab's right-aligns every cell with
    # a selector worth two classes) must not win over the report's.
    scope = f".{SCOPE}" * 3
    style = scoped(STYLE, scope) + f"{scope}{{margin:0;background:#fff;max-width:60em}}"
    return f'<div class="{SCOPE}"><style>{style}</style>\n' + "\n".join(_content(report, None)) + "\n</div>\n"


def scoped(css: str, scope: str) -> str:
    """css with every selector confined to what scope selects (body becomes the scope itself)."""
    rules = []
    for selectors, declarations in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        if selectors.strip().startswith("@"):
            raise ValueError(f"scoped() takes plain rules, not {selectors.strip()}")
        confined = [scope if s.strip() == "body" else f"{scope} {s.strip()}" for s in selectors.split(",")]
        rules.append(f"{','.join(confined)}{{{declarations}}}")
    return "".join(rules)


def _content(report: SubmissionReport, notebook: str | None) -> list[str]:
    view_ = view(report)
    body = [f"<h1>{escape(view_.heading)}</h1>", f"<p><strong>{escape(view_.total)}</strong></p>"]
    if notebook:
        body.append(f'<p><a href="{escape(notebook)}">Your notebook with these results beside its cells</a></p>')
    if view_.problem:
        body.append(f'<p class="problem">{message(view_.problem)}</p>')
    if view_.notes:
        body.append("<p>Notes on loading your file:</p><ul>"
                    + "".join(f"<li>{message(note)}</li>" for note in view_.notes) + "</ul>")
    if view_.visible:
        body.append(table(["Result", "Points", "Check"], [
            [f'<span class="{r.status}">{STATUS_WORDS[r.status]}</span>', points(r), message(r.title)]
            for r in view_.visible], numeric=(1,)))
    if view_.details:
        body.append("<h2>Details</h2>")
    for detail in view_.details:
        result = detail.result
        body.append(f"<h3>{message(result.title)} ({points(result)})</h3>")
        if detail.message:
            body.append(f"<p>{message(detail.message)}</p>")
        if result.diagnosis and detail.message:
            body.append(diagnosis_table(result.diagnosis))
        if result.output:
            body.append(f"<p>Your code printed:</p><pre>{escape(result.output)}</pre>")
        if result.curves:
            body.append(curves_chart(result))
    if view_.hidden_line:
        body.append(f"<h2>Hidden checks</h2><p>{escape(view_.hidden_line)}</p>")
        if view_.hidden_failures:
            body.append("<ul>" + "".join(f"<li>{message(title)}: {message(text)}</li>"
                                         for title, text in view_.hidden_failures) + "</ul>")
    return body
