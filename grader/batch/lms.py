"""Gradebook files that an LMS imports as they are: Canvas and Moodle.

Canvas's gradebook import reads the columns Student, ID, SIS User ID, SIS
Login ID and Section, then one column per assignment (named as the assignment
is in Canvas, or a new one is made), and accepts a "Points Possible" row under
the header. It finds each student by those identifier columns. Given a
roster, the CSV that Canvas's gradebook exports, every roster row is copied
with its identifiers and the score of the student whose id (the name of their
submission folder or file) equals the row's SIS Login ID, SIS User ID, ID or
the part of the login before "@". Without a roster the id is the SIS Login
ID. Students without a score get an empty cell, which Canvas leaves alone.

Moodle's "Import grades from CSV" lets staff map any column to the user; the
file has a Username column (the id) and one column for the grade item.

Cells that a spreadsheet would run as a formula are quoted.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from grader.batch.gradebook import cell
from grader.errors import UsageError
from grader.model import format_points

CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


@dataclass(frozen=True)
class Export:
    text: str
    unmatched: tuple[str, ...] = ()  # our students the roster does not list


def _score(value: float | None) -> str:
    return "" if value is None else format_points(value)


def canvas_csv(scores: dict[str, float | None], column: str, points_possible: float,
               roster: Path | None = None) -> Export:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CANVAS_IDENTITY, cell(column)])
    writer.writerow(["Points Possible", "", "", "", "", format_points(points_possible)])
    if roster is None:
        for student, score in scores.items():
            writer.writerow([cell(student), "", "", cell(student), "", _score(score)])
        return Export(out.getvalue())
    lookup = {student.lower(): student for student in scores}
    matched: set[str] = set()
    for row in read_roster(roster):
        student = next((lookup[key] for key in _keys(row) if key in lookup), None)
        if student is not None:
            matched.add(student)
        writer.writerow([cell(row.get(name, "")) for name in CANVAS_IDENTITY]
                        + [_score(scores[student]) if student is not None else ""])
    return Export(out.getvalue(), tuple(s for s in scores if s not in matched))


def moodle_csv(scores: dict[str, float | None], column: str) -> Export:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Username", cell(column)])
    for student, score in scores.items():
        writer.writerow([cell(student), _score(score)])
    return Export(out.getvalue())


def _keys(row: dict[str, str]) -> list[str]:
    login = row.get("SIS Login ID", "").strip().lower()
    keys = [login, row.get("SIS User ID", "").strip().lower(), row.get("ID", "").strip().lower()]
    if "@" in login:
        keys.append(login.split("@", 1)[0])
    return [k for k in keys if k]


def read_roster(roster: Path) -> list[dict[str, str]]:
    try:
        text = roster.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UsageError(f"cannot read the roster {roster}: {exc.strerror}") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [name for name in ("Student", "ID", "SIS Login ID") if name not in (reader.fieldnames or [])]
    if missing:
        names = missing[0] if len(missing) == 1 else ", ".join(missing[:-1]) + " or " + missing[-1]
        raise UsageError(f"{roster} is not a Canvas gradebook export: it has no {names} column. "
                         "Export it from Canvas: Grades, Export, Export Entire Gradebook.")
    rows = []
    for row in reader:
        name = (row.get("Student") or "").strip()
        if not name or name in ("Points Possible", "Student, Test") or not (row.get("ID") or "").strip():
            continue  # Canvas's own extra rows and its test student
        rows.append({k: (v or "") for k, v in row.items() if k is not None})
    return rows
