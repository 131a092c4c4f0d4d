"""grades.csv: one row per student, ready for a spreadsheet or an LMS import.

Student ids are names students chose. A cell that starts like a formula (=, +, -, @, a tab or a
carriage return) is run by Excel, LibreOffice and Google Sheets when the file is opened, so such
cells are quoted with a leading apostrophe in every CSV the batch writes (see cell()).
"""

from __future__ import annotations

import csv
import io

from grader.model import SubmissionReport, format_points

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def cell(value: str) -> str:
    """value as a spreadsheet shows it, never as a formula it would run (OWASP's CSV injection advice)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def grades_csv(rows: list[tuple[str, str, SubmissionReport | None, str]], check_names: list[str]) -> str:
    """rows: (student id, status, report or None, reason); one column per check, in check order.

    submission: the file graded (as the report names it); reason: why a student has no score.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "score", "max_score", "status", "submission", "reason", *check_names])
    for student, status, report, reason in rows:
        if report is None:
            writer.writerow([cell(student), "", "", status, "", cell(reason), *([""] * len(check_names))])
            continue
        scores = {r.name: format_points(r.score) for r in report.results}
        graded = "" if status == "no-submission" else report.submission
        writer.writerow([cell(student), format_points(report.score), format_points(report.max_score), status,
                         cell(graded), cell(reason), *(scores.get(name, "") for name in check_names)])
    return out.getvalue()
