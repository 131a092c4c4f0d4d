"""grades.csv: one row per student, ready for a spreadsheet or an LMS import."""

from __future__ import annotations

import csv
import io

from grader.model import SubmissionReport, format_points


def grades_csv(rows: list[tuple[str, str, SubmissionReport | None]], check_names: list[str]) -> str:
    """rows: (student id, status, report or None); one column per check, in check order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "score", "max_score", "status", *check_names])
    for student, status, report in rows:
        if report is None:
            writer.writerow([student, "", "", status, *([""] * len(check_names))])
            continue
        scores = {r.name: format_points(r.score) for r in report.results}
        writer.writerow([student, format_points(report.score), format_points(report.max_score), status,
                         *(scores.get(name, "") for name in check_names)])
    return out.getvalue()
