"""The class at a glance: scores, per-check pass rates, common failures, slow submissions, look-alikes.

compute() turns the batch's outcomes into a Summary; the writers turn a
Summary into Markdown, HTML (with a histogram and pass-rate chart) and JSON.
Only messages are aggregated, never hidden inputs: hidden checks' messages are
already the short ones.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from dataclasses import asdict, dataclass
from html import escape

from grader.batch.similarity import Group
from grader.model import SubmissionReport, format_points
from grader.report import markdown, svg
from grader.report.html import page

_BINS = 10


@dataclass(frozen=True)
class CheckRate:
    name: str
    title: str
    passed: int
    graded: int


@dataclass(frozen=True)
class Summary:
    assignment: str
    students: int
    statuses: dict[str, int]
    max_score: float
    mean: float
    median: float
    histogram: list[tuple[str, int]]
    checks: list[CheckRate]
    failures: list[tuple[int, str, str]]  # (students, functions, message)
    slowest: list[tuple[str, float]]
    similar: list[Group]
    grader_errors: list[tuple[str, str]]


def compute(assignment: str, reports: dict[str, SubmissionReport], statuses: dict[str, str],
            problems: dict[str, str], similar: list[Group]) -> Summary:
    scores = [r.score for r in reports.values()]
    max_score = max((r.max_score for r in reports.values()), default=0.0)
    histogram = [0] * _BINS
    for score in scores:
        fraction = score / max_score if max_score else 0.0
        histogram[min(_BINS - 1, int(fraction * _BINS))] += 1
    labels = [f"{10 * i}-{10 * (i + 1)}%" for i in range(_BINS)]
    rates: dict[str, list[int]] = {}
    titles: dict[str, str] = {}
    failed_by: dict[str, set[str]] = {}  # message -> students
    functions_of: dict[str, set[str]] = {}  # message -> the functions it was about
    for student, report in reports.items():
        for result in report.results:
            rate = rates.setdefault(result.name, [0, 0])
            rate[0] += result.passed
            rate[1] += 1
            titles[result.name] = result.title
            if not result.passed:
                failed_by.setdefault(result.message, set()).add(student)
                functions_of.setdefault(result.message, set()).update(result.functions)
    failures = sorted(((len(students), ", ".join(sorted(functions_of[message])), message)
                       for message, students in failed_by.items()), key=lambda f: (-f[0], f[2]))[:10]
    return Summary(
        assignment=assignment,
        students=len(statuses),
        statuses=dict(Counter(statuses.values())),
        max_score=max_score,
        mean=round(statistics.fmean(scores), 3) if scores else 0.0,
        median=round(statistics.median(scores), 3) if scores else 0.0,
        histogram=list(zip(labels, histogram)),
        checks=[CheckRate(name, titles[name], passed, graded) for name, (passed, graded) in rates.items()],
        failures=failures,
        slowest=sorted(((student, r.seconds) for student, r in reports.items()), key=lambda s: -s[1])[:5],
        similar=similar,
        grader_errors=sorted(problems.items()),
    )


def _status_line(summary: Summary) -> str:
    parts = ", ".join(f"{count} {status}" for status, count in sorted(summary.statuses.items()))
    return (f"{summary.students} students ({parts}); mean {format_points(summary.mean)}, median "
            f"{format_points(summary.median)} of {format_points(summary.max_score)} points.")


def to_markdown(summary: Summary) -> str:
    esc = markdown.escape
    lines = [f"# {esc(summary.assignment)}: class summary", "", esc(_status_line(summary)), "",
             "## Scores", "", "| Score | Students |", "| --- | --- |"]
    lines += [f"| {label} | {'█' * count} {count} |" for label, count in summary.histogram]
    lines += ["", "## Checks", "", "| Check | Passed |", "| --- | --- |"]
    lines += [f"| {esc(c.title)} | {c.passed}/{c.graded} ({100 * c.passed / max(1, c.graded):.0f}%) |"
              for c in summary.checks]
    lines += ["", "## Most frequent failures", "", "| Students | Function | Message |", "| --- | --- | --- |"]
    lines += [f"| {count} | {esc(functions)} | {esc(message)} |" for count, functions, message in summary.failures]
    lines += ["", "## Slowest submissions", "", "| Student | Seconds |", "| --- | --- |"]
    lines += [f"| {esc(student)} | {seconds:.2f} |" for student, seconds in summary.slowest]
    lines += ["", "## Near-identical submissions", "",
              "Groups whose own code (beyond the template) overlaps by 80% or more, token by token. "
              "A reason to look, not a verdict.", ""]
    lines += [f"- {', '.join(esc(s) for s in g.students)} (overlap {g.similarity:.0%})" for g in summary.similar]
    if not summary.similar:
        lines.append("None found.")
    if summary.grader_errors:
        lines += ["", "## Grader errors", "", "These students could not be graded; re-run after fixing the cause.", ""]
        lines += [f"- {esc(student)}: {esc(problem)}" for student, problem in summary.grader_errors]
    return "\n".join(lines) + "\n"


def to_html(summary: Summary) -> str:
    body = [f"<h1>{escape(summary.assignment)}: class summary</h1>", f"<p>{escape(_status_line(summary))}</p>",
            "<h2>Scores</h2>", svg.bar_chart(summary.histogram, y_label="students"),
            "<h2>Checks</h2>",
            svg.bar_chart([(c.name, 100 * c.passed / max(1, c.graded)) for c in summary.checks], width=720,
                          y_label="% passed"),
            "<table><tr><th>Check</th><th>Passed</th></tr>"
            + "".join(f"<tr><td>{escape(c.title)}</td><td>{c.passed}/{c.graded}</td></tr>" for c in summary.checks)
            + "</table>",
            "<h2>Most frequent failures</h2><table><tr><th>Students</th><th>Function</th><th>Message</th></tr>"
            + "".join(f"<tr><td>{n}</td><td>{escape(t)}</td><td>{escape(m)}</td></tr>" for n, t, m in summary.failures)
            + "</table>",
            "<h2>Slowest submissions</h2><table><tr><th>Student</th><th>Seconds</th></tr>"
            + "".join(f"<tr><td>{escape(s)}</td><td>{t:.2f}</td></tr>" for s, t in summary.slowest) + "</table>",
            "<h2>Near-identical submissions</h2><p>A reason to look, not a verdict.</p><ul>"
            + ("".join(f"<li>{escape(', '.join(g.students))} (overlap {g.similarity:.0%})</li>" for g in summary.similar)
               or "<li>None found.</li>") + "</ul>"]
    if summary.grader_errors:
        body.append("<h2>Grader errors</h2><ul>" + "".join(
            f"<li>{escape(s)}: {escape(p)}</li>" for s, p in summary.grader_errors) + "</ul>")
    return page(f"{summary.assignment}: class summary", body)


def to_json(summary: Summary) -> str:
    data = asdict(summary)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
