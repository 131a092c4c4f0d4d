"""What a student's feedback page shows: everything visible in full, hidden checks only in brief.

Both feedback writers (Markdown, HTML) render this one view, so they cannot
disagree about what a student may see. Hidden checks contribute counts, points
and their short messages (which never carry hidden inputs or expected values);
their details and printed output are never part of the view.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.model import CheckResult, SubmissionReport, format_points
from grader.report.text import by_function, curve_lines

STATUS_WORDS = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "timeout": "TIMEOUT"}


@dataclass(frozen=True)
class Feedback:
    heading: str
    total: str
    notes: tuple[str, ...]
    visible: tuple[CheckResult, ...]
    hidden_line: str
    hidden_failures: tuple[tuple[str, str], ...]


def points(result: CheckResult) -> str:
    return f"{format_points(result.score)}/{format_points(result.max_score)}"


def view(report: SubmissionReport) -> Feedback:
    visible = tuple(r for r in by_function(report.results) if r.visibility == "visible")
    hidden = [r for r in report.results if r.visibility == "hidden"]
    if hidden:
        earned = sum(r.score for r in hidden)
        available = sum(r.max_score for r in hidden)
        passed = sum(r.passed for r in hidden)
        hidden_line = (f"{len(hidden)} hidden checks: {passed} passed, {format_points(earned)}/"
                       f"{format_points(available)} points.")
    elif report.hidden_not_run:
        hidden_line = (f"{report.hidden_not_run} hidden checks ({format_points(report.hidden_points_not_run)} "
                       "points) were not run here; they run when your work is graded.")
    else:
        hidden_line = ""
    counts = ", ".join(f"{report.count(s)} {w}" for s, w in (("passed", "passed"), ("failed", "failed"),
                                                              ("error", "errors"), ("timeout", "timed out"))
                       if report.count(s))
    return Feedback(
        heading=f"{report.assignment}: {report.submission}",
        total=f"Score: {format_points(report.score)}/{format_points(report.max_score)} ({counts})",
        notes=tuple(f"{n.where}: {n.text}" for n in report.notes),
        visible=visible,
        hidden_line=hidden_line,
        hidden_failures=tuple((r.title, r.message) for r in hidden if not r.passed),
    )


def check_text(result: CheckResult, assignment: str = "") -> str:
    """One check as plain text for a platform's per-test box: what went wrong, what the code printed.

    Hidden checks carry only their message (results keep no output or curves
    for them). Visible ones say how to rerun just that check.
    """
    parts = [f"{STATUS_WORDS[result.status]} {points(result)}"]
    if result.message:
        parts.append(result.message)
    if result.output:
        parts.append("Your code printed:\n" + result.output.rstrip("\n"))
    if result.curves:
        parts.append("\n".join(line.strip() for line in curve_lines(result.curves, 80, "", True)))
    if assignment and result.visibility == "visible":
        parts.append(f"Run this check alone: grade {assignment} --only {result.name}")
    return "\n\n".join(parts)


def overview_text(report: SubmissionReport) -> str:
    """The lines a platform shows above the checks: total, loading notes, hidden checks not run."""
    page = view(report)
    lines = [page.total]
    if page.notes:
        lines += ["", "Notes on loading your file:"] + [f"- {note}" for note in page.notes]
    if page.hidden_line:
        lines += ["", page.hidden_line]
    return "\n".join(lines)
