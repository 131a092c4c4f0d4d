"""Classroom 50's result.json (schema ``classroom50/result/v1``) and release body, from a report.

Classroom 50 counts whole points only. When every check's points are whole
they are copied unchanged. Otherwise every score and maximum is multiplied by
the smallest of 10, 100 or 1000 that makes all the checks' maxima whole (1000
when none does, rounding each check to the nearest unit), so 1.5 of 2.5
points becomes 15 of 25. The release body says so whenever it happens; the
totals are the sums of the checks' scaled points, so they equal the report's
totals times the factor.

Test names are one line each (any line break, a bare ``\r`` included,
becomes a space). The identity fields come from the variables Classroom 50's runner sets for an
autograder (CLASSROOM, ASSIGNMENT, SUBMISSION_TAG, OWNER, the *_URL ones);
the runner checks them and stamps owner, assignment type and time itself.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from grader.model import SubmissionReport, format_points
from grader.report import markdown

SCHEMA = "classroom50/result/v1"
_FACTORS = (1, 10, 100, 1000)
_EPSILON = 1e-6


def scale_factor(report: SubmissionReport) -> int:
    """What every point is multiplied by so that each check's points are whole."""
    for factor in _FACTORS:
        if all(abs(r.max_score * factor - round(r.max_score * factor)) < _EPSILON
               and abs(r.score * factor - round(r.score * factor)) < _EPSILON for r in report.results):
            return factor
    return _FACTORS[-1]


def _scaled(value: float, factor: int) -> int:
    return int(round(value * factor))


def result(report: SubmissionReport, env: Mapping[str, str], now: dt.datetime | None = None) -> dict[str, Any]:
    factor = scale_factor(report)
    tests = []
    for r in report.results:
        maximum = _scaled(r.max_score, factor)
        tests.append({"test-name": " ".join(r.title.split()), "passed": r.passed,
                      "score": min(_scaled(r.score, factor), maximum), "max-score": maximum})
    when = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    commit = env.get("COMMIT_URL", "")
    return {
        "schema": SCHEMA,
        "classroom": env.get("CLASSROOM", ""),
        "assignment": env.get("ASSIGNMENT") or report.assignment,
        "assignment_type": env.get("ASSIGNMENT_TYPE") or "individual",
        "owner": env.get("OWNER") or env.get("USERNAME", ""),
        "submission": env.get("SUBMISSION_TAG", ""),
        "commit": commit,
        "release": env.get("RELEASE_URL", ""),
        "review": env.get("REVIEW_URL") or commit,
        "datetime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "score": sum(t["score"] for t in tests),
        "max-score": sum(t["max-score"] for t in tests),
        "tests": tests,
    }


def dumps(report: SubmissionReport, env: Mapping[str, str], now: dt.datetime | None = None) -> str:
    return json.dumps(result(report, env, now), indent=2, ensure_ascii=False) + "\n"


def release_body(report: SubmissionReport) -> str:
    """The Markdown the student reads on the submission's release page."""
    factor = scale_factor(report)
    body = markdown.render(report)
    if factor == 1:
        return body
    return body + (f"\n_Classroom 50 counts whole points, so every score here is multiplied by {factor}: "
                   f"{format_points(report.score)}/{format_points(report.max_score)} is shown as "
                   f"{_scaled(report.score, factor)}/{_scaled(report.max_score, factor)}._\n")
