"""The class at a glance: every student, scores, per-check pass rates, common failures, slow submissions, look-alikes.

compute() turns the batch's outcomes into a Summary; the writers turn a
Summary into Markdown, HTML (summary/index.html: a sortable list of students
linking to their pages, a score histogram and pass-rate bars) and JSON.
Only messages are aggregated, never hidden inputs: hidden checks' messages are
already the short ones. A hidden check's fuller wording (kept for staff) is
used only to recognise that it failed the same way as a public check, so one
failure is one row, under the public check's message.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from dataclasses import asdict, dataclass
from urllib.parse import quote

from grader.batch.similarity import Group
from grader.model import CheckResult, SubmissionReport, format_points
from grader.report import markdown, svg
from grader.report.html import escape, message, page, table

_BINS = 10


@dataclass(frozen=True)
class StudentRow:
    """One student of the class: what the summary lists and links to.

    page: the student's feedback page, relative to the results folder ("" when there is none).
    """

    id: str
    status: str
    score: float | None
    max_score: float | None
    page: str


@dataclass(frozen=True)
class CheckRate:
    name: str
    title: str
    passed: int
    graded: int


@dataclass(frozen=True)
class LayerRow:
    """One isolation layer as it stood across the class: in force, how, and for how many students."""

    layer: str
    active: bool
    detail: str
    students: int


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
    roster: list[StudentRow]
    isolation: list[LayerRow]


def compute(assignment: str, reports: dict[str, SubmissionReport], statuses: dict[str, str],
            problems: dict[str, str], similar: list[Group]) -> Summary:
    scores = [r.score for r in reports.values()]
    max_score = max((r.max_score for r in reports.values()), default=0.0)
    histogram = [0] * _BINS
    for report in reports.values():
        fraction = report.score / report.max_score if report.max_score else 0.0
        histogram[min(_BINS - 1, int(fraction * _BINS))] += 1
    labels = [f"{10 * i}-{10 * (i + 1)}%" for i in range(_BINS)]
    rates: dict[str, list[int]] = {}
    titles: dict[str, str] = {}
    for report in reports.values():
        for result in report.results:
            rate = rates.setdefault(result.name, [0, 0])
            rate[0] += result.passed
            rate[1] += 1
            titles[result.name] = result.title
    roster = [StudentRow(student, status, reports[student].score if student in reports else None,
                         reports[student].max_score if student in reports else None,
                         f"{student}.html" if student in reports else f"{student}.error.txt" if student in problems
                         else "")
              for student, status in sorted(statuses.items())]
    return Summary(
        assignment=assignment,
        students=len(statuses),
        statuses=dict(Counter(statuses.values())),
        max_score=max_score,
        mean=round(statistics.fmean(scores), 3) if scores else 0.0,
        median=round(statistics.median(scores), 3) if scores else 0.0,
        histogram=list(zip(labels, histogram)),
        checks=[CheckRate(name, titles[name], passed, graded) for name, (passed, graded) in rates.items()],
        failures=_failures(reports),
        slowest=sorted(((student, r.seconds) for student, r in reports.items()), key=lambda s: -s[1])[:5],
        similar=similar,
        grader_errors=sorted(problems.items()),
        roster=roster,
        isolation=_isolation(reports),
    )


def _isolation(reports: dict[str, SubmissionReport]) -> list[LayerRow]:
    """What protected the class's runs, layer by layer; a layer that differed between students shows each way."""
    seen: Counter[tuple[str, bool, str]] = Counter()
    order: dict[str, int] = {}
    for report in reports.values():
        for layer in report.isolation:
            order.setdefault(layer.name, len(order))
            seen[(layer.name, layer.active, layer.detail)] += 1
    return [LayerRow(name, active, detail, count)
            for (name, active, detail), count in sorted(seen.items(), key=lambda item: (order[item[0][0]], -item[1]))]


def _isolation_line(summary: Summary, graded: int) -> str:
    off = sorted({row.layer for row in summary.isolation if not row.active})
    if not summary.isolation:
        return "No isolation layers were reported."
    if off:
        return f"Some layers were not in force: {', '.join(off)} (run grade doctor on this machine)."
    varied = {row.layer for row in summary.isolation if row.students != graded}
    return ("Every layer was in force for every graded student." if not varied else
            f"Every layer was in force; {', '.join(sorted(varied))} differed between students.")


def _failures(reports: dict[str, SubmissionReport], limit: int = 10) -> list[tuple[int, str, str]]:
    """The most frequent failure messages: (students, functions, message), most students first.

    A hidden check that failed the way a public check did (its staff-only
    wording is that public message) counts under the public message.
    """
    failed = [(student, r) for student, report in reports.items() for r in report.results if not r.passed]
    public = {r.message for _, r in failed if r.visibility == "visible"}
    students: dict[str, set[str]] = {}
    functions: dict[str, set[str]] = {}
    for student, result in failed:
        key = _same_as_public(result, public)
        students.setdefault(key, set()).add(student)
        functions.setdefault(key, set()).update(result.functions)
    rows = [(len(who), ", ".join(sorted(functions[key])), key) for key, who in students.items()]
    return sorted(rows, key=lambda f: (-f[0], f[2]))[:limit]


def _same_as_public(result: CheckResult, public: set[str]) -> str:
    if result.visibility == "visible":
        return result.message
    # The runner keeps a hidden fault's full explanation as details, and a hidden
    # wrong answer's specifics as details after its summary.
    for fuller in (result.details, f"{result.message} {result.details}".strip()):
        if fuller in public:
            return fuller
    return result.message


def _status_line(summary: Summary) -> str:
    parts = ", ".join(f"{count} {status}" for status, count in sorted(summary.statuses.items()))
    students = f"{summary.students} student{'' if summary.students == 1 else 's'}"
    return (f"{students} ({parts}); mean {format_points(summary.mean)}, median "
            f"{format_points(summary.median)} of {format_points(summary.max_score)} points.")


def _percent(part: float, whole: float) -> float:
    return 100 * part / whole if whole else 0.0


def _score_text(row: StudentRow) -> str:
    if row.score is None or row.max_score is None:
        return "–"
    return f"{format_points(row.score)}/{format_points(row.max_score)}"


def to_markdown(summary: Summary) -> str:
    esc = markdown.escape
    lines = [f"# {esc(summary.assignment)}: class summary", "", esc(_status_line(summary)), "",
             "## Students", "", "| Student | Score | Status |", "| --- | --- | --- |"]
    for row in summary.roster:
        name = f"[{esc(row.id)}](../{quote(row.page)})" if row.page else esc(row.id)
        lines.append(f"| {name} | {_score_text(row)} | {esc(row.status)} |")
    lines += ["", "## Scores", "", "| Score | Students |", "| --- | --- |"]
    lines += [f"| {label} | {'█' * count} {count} |" for label, count in summary.histogram]
    lines += ["", "## Checks", "", "| Check | Passed |", "| --- | --- |"]
    lines += [f"| {markdown.message(c.title, True)} | {c.passed}/{c.graded} ({_percent(c.passed, c.graded):.0f}%) |"
              for c in summary.checks]
    lines += ["", "## Most frequent failures", "", "| Students | Function | Message |", "| --- | --- | --- |"]
    lines += [f"| {count} | {esc(functions)} | {markdown.message(text, True)} |"
              for count, functions, text in summary.failures]
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
    graded = sum(1 for row in summary.roster if row.score is not None)
    lines += ["", "## Isolation", "", esc(_isolation_line(summary, graded)), "",
              "| Layer | In force | How | Students |", "| --- | --- | --- | --- |"]
    lines += [f"| {esc(row.layer)} | {'yes' if row.active else 'NO'} | {esc(row.detail)} | {row.students} |"
              for row in summary.isolation]
    return "\n".join(lines) + "\n"


_SUMMARY_STYLE = """
.bars{display:grid;grid-template-columns:minmax(8em,2fr) minmax(8em,3fr) auto;gap:.35em .8em;align-items:center;
margin:.6em 0}
.bars .label{overflow-wrap:anywhere}.bars .track{background:#eef1f4;height:1.1em;border-radius:3px;position:relative}
.bars .fill{background:#1f77b4;height:100%;border-radius:3px}.bars .value{font-variant-numeric:tabular-nums;
white-space:nowrap;text-align:right}
.bars .axis{display:flex;justify-content:space-between;font-size:.8em;color:#555}
th button{font:inherit;font-weight:600;background:none;border:0;padding:0;cursor:pointer;color:#0969da}
th[aria-sort] button::after{content:" \\2195"}th[aria-sort=ascending] button::after{content:" \\2191"}
th[aria-sort=descending] button::after{content:" \\2193"}
@media (max-width:640px){.bars{grid-template-columns:1fr auto}.bars .label{grid-column:1 / -1;margin-top:.3em}
.bars .axis-gap{display:none}}"""

# Sorting the students' table: progressive enhancement (the table is complete and
# in id order without it). Each sortable cell carries its key in data-sort.
_SORT_SCRIPT = """
document.querySelectorAll("table[data-sortable]").forEach(function (table) {
  table.querySelectorAll("th[data-type]").forEach(function (th, column) {
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = th.textContent;
    th.textContent = "";
    th.appendChild(button);
    th.setAttribute("aria-sort", "none");
    button.addEventListener("click", function () {
      var descending = th.getAttribute("aria-sort") !== "descending";
      var numeric = th.dataset.type === "number";
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var index = th.cellIndex;
      rows.sort(function (a, b) {
        var x = a.cells[index].dataset.sort, y = b.cells[index].dataset.sort;
        var order = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
        return descending ? -order : order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
      table.querySelectorAll("th[data-type]").forEach(function (other) { other.setAttribute("aria-sort", "none"); });
      th.setAttribute("aria-sort", descending ? "descending" : "ascending");
    });
  });
});
"""


def _students_table(summary: Summary) -> str:
    rows = []
    for row in summary.roster:
        link = f'<a href="../{escape(quote(row.page))}">{escape(row.id)}</a>' if row.page else escape(row.id)
        fraction = _percent(row.score, row.max_score) if row.score is not None and row.max_score else -1.0
        shown = _score_text(row) + (f" ({fraction:.0f}%)" if fraction >= 0 else "")
        rows.append(f'<tr><td data-sort="{escape(row.id)}">{link}</td>'
                    f'<td class="num" data-sort="{fraction:.4f}">{escape(shown)}</td>'
                    f'<td data-sort="{escape(row.status)}">{escape(row.status)}</td></tr>')
    return ('<div class="scroll"><table data-sortable id="students"><thead><tr>'
            '<th data-type="text">Student</th><th class="num" data-type="number">Score</th>'
            '<th data-type="text">Status</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table></div>")


def _pass_rate_bars(summary: Summary) -> str:
    rows = ['<div class="bars" role="list">',
            '<span class="axis-gap"></span><div class="axis" aria-hidden="true"><span>0%</span><span>50%</span>'
            '<span>100%</span></div><span class="axis-gap"></span>']
    for check in summary.checks:
        rate = _percent(check.passed, check.graded)
        rows.append(f'<span class="label" role="listitem">{message(check.title)}</span>'
                    f'<div class="track" title="{escape(check.name)}"><div class="fill" style="width:{rate:.1f}%">'
                    f'</div></div><span class="value">{check.passed}/{check.graded} ({rate:.0f}%)</span>')
    rows.append("</div>")
    return "".join(rows)


def to_html(summary: Summary) -> str:
    body = [f"<h1>{escape(summary.assignment)}: class summary</h1>", f"<p>{escape(_status_line(summary))}</p>",
            "<h2>Students</h2>",
            "<p>Each name links to the student's feedback page. Sort by a column with its heading.</p>",
            _students_table(summary),
            "<h2>Scores</h2>",
            f"<figure>{svg.histogram([count for _, count in summary.histogram])}</figure>",
            "<h2>Checks</h2><p>Share of the class that passed each check.</p>",
            _pass_rate_bars(summary),
            "<h2>Most frequent failures</h2>",
            table(["Students", "Function", "Message"],
                  [[str(n), escape(f), message(m)] for n, f, m in summary.failures], numeric=(0,)),
            "<h2>Slowest submissions</h2>",
            table(["Student", "Seconds"], [[escape(s), f"{t:.2f}"] for s, t in summary.slowest], numeric=(1,)),
            "<h2>Near-identical submissions</h2><p>A reason to look, not a verdict.</p><ul>"
            + ("".join(f"<li>{escape(', '.join(g.students))} (overlap {g.similarity:.0%})</li>"
                       for g in summary.similar)
               or "<li>None found.</li>") + "</ul>"]
    if summary.grader_errors:
        body.append("<h2>Grader errors</h2><ul>" + "".join(
            f"<li>{escape(s)}: {escape(p)}</li>" for s, p in summary.grader_errors) + "</ul>")
    graded = sum(1 for row in summary.roster if row.score is not None)
    body += ["<h2>Isolation</h2>", f"<p>{escape(_isolation_line(summary, graded))}</p>",
             table(["Layer", "In force", "How", "Students"],
                   [[escape(row.layer), "yes" if row.active else "<strong>NO</strong>", escape(row.detail),
                     str(row.students)] for row in summary.isolation], numeric=(3,))]
    return page(f"{summary.assignment}: class summary", body, style=_SUMMARY_STYLE, script=_SORT_SCRIPT)


def to_json(summary: Summary) -> str:
    data = asdict(summary)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
