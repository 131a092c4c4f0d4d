"""Gradescope's results.json, from a report.

Follows Gradescope's autograder specification (gradescope-autograders.readthedocs.io,
"Autograder Specifications"): a top-level score, execution time and output,
and one entry per check with its score, maximum, pass/fail status, output and
visibility. What students see, and when, follows from what that page says:

- a test is shown from its ``visibility`` on: ``visible`` always,
  ``after_due_date`` once the (late) due date has passed, ``after_published``
  once the instructor publishes grades, ``hidden`` never;
- while any test is not shown, students do not see their total score;
- the top-level ``output`` is no test, and nothing in the specification holds
  it back: it is shown to students at once;
- what ``run_autograder`` prints goes to instructors only
  (``stdout_visibility: hidden``).

So public checks are ``visible``; hidden checks take the course's choice
(``--hidden-visibility``, ``after_published`` by default) and carry their
title, points and short message only. While they are not shown, the top-level
output says how the public checks went and when the rest follows, and nothing
about the hidden checks. A hidden check's internal name never appears in the
file, nor any of its staff-only details, inputs or expected values; hidden
checks are numbered after the public ones, so the public numbers have no gaps
that would tell where hidden checks sit. Gradescope wants Unix line breaks,
so ``\\r\\n`` and a bare ``\\r`` are written as ``\\n``.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

import grader
from grader.model import CheckResult, SubmissionReport, format_points
from grader.report.feedback import check_text, overview_text

GradescopeVisibility = Literal["visible", "hidden", "after_due_date", "after_published"]
VISIBILITIES: tuple[str, ...] = ("visible", "hidden", "after_due_date", "after_published")

# What a student is told about when the rest follows, per visibility of the hidden checks.
_LATER = {
    "after_due_date": "Your total score and the rest of your results appear after the due date "
                      "(the late due date, if late work is allowed).",
    "after_published": "Your total score and the rest of your results appear when your instructor "
                       "publishes the grades.",
    "hidden": "Your total score appears when your instructor publishes the grades.",
}
_LINE_BREAK = re.compile(r"\r\n?")


def _lines(text: str) -> str:
    return _LINE_BREAK.sub("\n", text)


def _public_overview(report: SubmissionReport, later: str) -> str:
    """What every student sees at once while hidden checks are held back: public checks only."""
    public = [r for r in report.results if r.visibility == "visible"]
    earned = sum(r.score for r in public)
    available = sum(r.max_score for r in public)
    lines = [f"Public checks: {sum(r.passed for r in public)} of {len(public)} passed, "
             f"{format_points(earned)}/{format_points(available)} points."]
    if report.notes:
        lines += ["", "Notes on loading your file:"] + [f"- {n.where}: {n.text}" for n in report.notes]
    lines += ["", later]
    return "\n".join(lines)


def _test(result: CheckResult, number: int, assignment: str, hidden_visibility: str) -> dict[str, Any]:
    hidden = result.visibility == "hidden"
    test = {
        "name": _lines(result.title),
        "number": str(number),
        "score": result.score,
        "max_score": result.max_score,
        "status": "passed" if result.passed else "failed",
        "output": _lines(check_text(result, assignment)),
        "output_format": "text",
        "tags": list(result.functions),
        "visibility": hidden_visibility if hidden else "visible",
    }
    if not hidden:  # a hidden check's internal name is not the students' to read, whenever they see the test
        test["extra_data"] = {"check": result.name, "outcome": result.status}
    return test


def results(report: SubmissionReport, *, hidden_visibility: GradescopeVisibility = "after_published",
            stdout_visibility: GradescopeVisibility = "hidden") -> dict[str, Any]:
    if hidden_visibility not in VISIBILITIES or stdout_visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}")
    public = [r for r in report.results if r.visibility == "visible"]
    hidden = [r for r in report.results if r.visibility == "hidden"]
    tests = [_test(r, number, report.assignment, hidden_visibility)
             for number, r in enumerate(public + hidden, start=1)]
    if hidden and hidden_visibility != "visible":
        output = _public_overview(report, _LATER[hidden_visibility])
    else:
        output = overview_text(report)
    return {
        "score": report.score,
        "execution_time": report.shown_seconds,  # always shown: how long hidden checks took is not
        "output": _lines(output),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": stdout_visibility,
        # Nothing here that counts hidden checks (their points are part of the total's maximum).
        "extra_data": {"grader_version": grader.__version__, "seed": report.seed, "device": report.device},
        "tests": tests,
    }


def dumps(report: SubmissionReport, **options: Any) -> str:
    return json.dumps(results(report, **options), indent=2, ensure_ascii=False) + "\n"


def failure(problem: str) -> str:
    """results.json for a run that could not grade at all (a broken autograder, not a broken submission)."""
    return json.dumps({
        "score": 0,
        "output": "The autograder could not grade this submission. This is a problem with the autograder, "
                  "not with your work: please tell course staff, who can regrade it once it is fixed.\n\n"
                  + _lines(problem),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [],
    }, indent=2, ensure_ascii=False) + "\n"
