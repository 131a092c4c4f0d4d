"""HTML feedback for one student (<id>.html): the Markdown page's content, with plots.

Self-contained (inline CSS and SVG, no scripts), and everything is escaped.
"""

from __future__ import annotations

from html import escape

from grader.model import SubmissionReport
from grader.report import svg
from grader.report.feedback import STATUS_WORDS, points, view

_STYLE = """body{font-family:sans-serif;max-width:52em;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse}td,th{padding:.2em .6em;border-bottom:1px solid #ddd;text-align:left}
.passed{color:#1a7f37}.failed,.error{color:#cf222e}.timeout{color:#9a6700}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto}"""


def page(title: str, body: list[str]) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def render(report: SubmissionReport) -> str:
    view_ = view(report)
    body = [f"<h1>{escape(view_.heading)}</h1>", f"<p><strong>{escape(view_.total)}</strong></p>"]
    if view_.notes:
        body.append("<p>Notes on loading your file:</p><ul>"
                    + "".join(f"<li>{escape(note)}</li>" for note in view_.notes) + "</ul>")
    if view_.visible:
        rows = "".join(f'<tr><td class="{r.status}">{STATUS_WORDS[r.status]}</td><td>{points(r)}</td>'
                       f"<td>{escape(r.title)}</td></tr>" for r in view_.visible)
        body.append(f"<table><tr><th>Result</th><th>Points</th><th>Check</th></tr>{rows}</table>")
    for result in view_.visible:
        if result.passed and not result.curves:
            continue
        body.append(f"<h3>{escape(result.title)} ({points(result)})</h3>")
        if not result.passed:
            body.append(f"<p>{escape(result.message)}</p>")
        if result.output:
            body.append(f"<p>Your code printed:</p><pre>{escape(result.output)}</pre>")
        if result.curves:
            body.append(svg.line_chart([(c.label, list(c.values)) for c in result.curves], x_label="training"))
    if view_.hidden_line:
        body.append(f"<h2>Hidden checks</h2><p>{escape(view_.hidden_line)}</p>")
        if view_.hidden_failures:
            body.append("<ul>" + "".join(f"<li>{escape(title)}: {escape(message)}</li>"
                                         for title, message in view_.hidden_failures) + "</ul>")
    return page(view_.heading, body)
