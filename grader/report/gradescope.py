"""Gradescope's results.json, from a report.

Follows Gradescope's autograder specification: a top-level score, execution
time and output, and one entry per check with its score, maximum, pass/fail
status, output and visibility. Hidden checks are shown to students when the
course chooses (``after_published`` by default) and then only with their
short message; nothing in this file carries a hidden input, an expected value
or a check's staff-only details.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import grader
from grader.model import SubmissionReport
from grader.report.feedback import check_text, overview_text

GradescopeVisibility = Literal["visible", "hidden", "after_due_date", "after_published"]
VISIBILITIES: tuple[str, ...] = ("visible", "hidden", "after_due_date", "after_published")


def results(report: SubmissionReport, *, hidden_visibility: GradescopeVisibility = "after_published",
            stdout_visibility: GradescopeVisibility = "hidden") -> dict[str, Any]:
    if hidden_visibility not in VISIBILITIES or stdout_visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}")
    tests = []
    for number, result in enumerate(report.results, start=1):
        tests.append({
            "name": result.title,
            "number": str(number),
            "score": result.score,
            "max_score": result.max_score,
            "status": "passed" if result.passed else "failed",
            "output": check_text(result, report.assignment),
            "output_format": "text",
            "tags": list(result.functions),
            "visibility": "visible" if result.visibility == "visible" else hidden_visibility,
            "extra_data": {"check": result.name, "outcome": result.status},
        })
    return {
        "score": report.score,
        "execution_time": round(report.seconds, 3),
        "output": overview_text(report),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": stdout_visibility,
        "extra_data": {"grader_version": grader.__version__, "seed": report.seed, "device": report.device,
                       "max_score": report.max_score},
        "tests": tests,
    }


def dumps(report: SubmissionReport, **options: Any) -> str:
    return json.dumps(results(report, **options), indent=2, ensure_ascii=False) + "\n"


def failure(problem: str) -> str:
    """results.json for a run that could not grade at all (a broken autograder, not a broken submission)."""
    return json.dumps({
        "score": 0,
        "output": "The autograder could not grade this submission. This is a problem with the autograder, "
                  "not with your work: please tell course staff, who can regrade it once it is fixed.\n\n" + problem,
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [],
    }, indent=2, ensure_ascii=False) + "\n"
