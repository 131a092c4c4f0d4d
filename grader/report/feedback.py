"""What a student's feedback page shows: everything visible in full, hidden checks only in brief.

Both feedback writers (Markdown, HTML) render this one view, so they cannot
disagree about what a student may see. Hidden checks contribute counts, points
and their short messages (which never carry hidden inputs or expected values);
their details and printed output are never part of the view.

A problem shared by several checks (no submission, a syntax error, a function
that is not written yet) is said once: where every failed check has the same
message the view holds it as ``problem`` and no check repeats it, and a message
seen earlier on the page becomes "Same problem as above.".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from grader.model import CheckResult, SubmissionReport, format_points
from grader.report import text
from grader.report.text import by_function, curve_lines, diagnosis_lines

STATUS_WORDS = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "timeout": "TIMEOUT"}
SAME_AS_ABOVE = "Same problem as above."

# `code` in a message: a backtick pair on one line, with something between.
_CODE = re.compile(r"`([^`\r\n]+)`")


@dataclass(frozen=True)
class Detail:
    """One visible check worth a section: it lost points, printed something or drew curves."""

    result: CheckResult
    message: str  # the check's message, SAME_AS_ABOVE, or "" when the page's problem says it


@dataclass(frozen=True)
class Feedback:
    heading: str
    total: str
    problem: str  # the one message of every failed check, said once; "" when they differ
    notes: tuple[str, ...]
    visible: tuple[CheckResult, ...]
    details: tuple[Detail, ...]
    hidden_line: str
    hidden_failures: tuple[tuple[str, str], ...]


def points(result: CheckResult) -> str:
    return f"{format_points(result.score)}/{format_points(result.max_score)}"


def spans(text: str) -> list[tuple[str, bool]]:
    """text cut into (piece, is_code) pieces: messages write code between backticks."""
    pieces, start = [], 0
    for match in _CODE.finditer(text):
        if match.start() > start:
            pieces.append((text[start:match.start()], False))
        pieces.append((match.group(1), True))
        start = match.end()
    if start < len(text):
        pieces.append((text[start:], False))
    return pieces


def shared_problem(results: tuple[CheckResult, ...]) -> str:
    """The message every failed check gives, when there are several and they all give the same."""
    messages = {r.message for r in results if not r.passed}
    failed = sum(not r.passed for r in results)
    return messages.pop() if failed > 1 and len(messages) == 1 else ""


def view(report: SubmissionReport) -> Feedback:
    visible = tuple(r for r in by_function(report.results) if r.visibility == "visible")
    hidden = [r for r in report.results if r.visibility == "hidden"]
    problem = shared_problem(report.results)
    if hidden:
        earned = sum(r.score for r in hidden)
        available = sum(r.max_score for r in hidden)
        passed = sum(r.passed for r in hidden)
        hidden_line = (f"{_count(len(hidden), 'hidden check')}: {passed} passed, {format_points(earned)}/"
                       f"{format_points(available)} points.")
    elif report.hidden_not_run:
        hidden_line = (f"{_count(report.hidden_not_run, 'hidden check')} "
                       f"({format_points(report.hidden_points_not_run)} points) "
                       f"{'were' if report.hidden_not_run != 1 else 'was'} not run here; "
                       "they run when your work is graded.")
    else:
        hidden_line = ""
    said: set[str] = set()
    details = []
    for result in visible:
        if result.passed and not result.curves:
            continue
        message = result.message
        if result.passed or message == problem:
            message = ""
        elif message in said:
            message = SAME_AS_ABOVE
        said.add(result.message)
        if message or result.output or result.curves:
            details.append(Detail(result, message))
    return Feedback(
        heading=f"{report.assignment}: {report.submission}",
        total=text.total_line(report),
        problem=problem,
        # A note that only repeats the problem (the file that could not be graded) is left out.
        notes=tuple(f"{n.where}: {n.text}" for n in report.notes if not problem or problem not in n.text),
        visible=visible,
        details=tuple(details),
        hidden_line=hidden_line,
        hidden_failures=tuple((r.title, r.message) for r in hidden if not r.passed and r.message != problem),
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def check_text(result: CheckResult, assignment: str = "") -> str:
    """One check as plain text for a platform's per-test box: what went wrong, what the code printed.

    Hidden checks carry only their message (results keep no output, curves or
    diagnosis for them). Visible ones say how to rerun just that check.
    """
    parts = [f"{STATUS_WORDS[result.status]} {points(result)}"]
    if result.message:
        parts.append(result.message)
    if result.diagnosis:
        parts.append("\n".join(diagnosis_lines(result.diagnosis)))
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
    if page.problem:
        lines += ["", page.problem]
    if page.notes:
        lines += ["", "Notes on loading your file:"] + [f"- {note}" for note in page.notes]
    if page.hidden_line:
        lines += ["", page.hidden_line]
    return "\n".join(lines)
