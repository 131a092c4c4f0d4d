"""Running a batch: which students need grading, where, and what gets written.

Per student, written atomically as soon as they are graded: <id>.json (the
same schema as grade --json), <id>.md and <id>.html (feedback). When the batch
ends: grades.csv and summary/ (Markdown, HTML with plots, JSON). A state file
records each graded student's fingerprint, so an interrupted batch resumes
where it stopped and a re-run grades only new or changed submissions (or
everyone after the checks change).
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from grader.batch import executors, lms, similarity, summary, work
from grader.batch.gradebook import grades_csv
from grader.batch.students import Student, assignment_fingerprint, discover, fingerprint
from grader.course import Assignment, load_assignment
from grader.errors import UsageError
from grader.finder import Wanted, find, opened
from grader.model import SubmissionReport
from grader.names import printable
from grader.report import html, jsonreport, markdown, notebook
from grader.report.jsonreport import write_atomic
from grader.sandbox.session import Limits
from grader.submission import read

STATE = ".grade-batch.jsonl"  # one line per graded student; the last line about a student wins


@dataclass(frozen=True)
class BatchOptions:
    assignment: str
    submissions: Path
    out: Path
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)
    force: bool = False
    seed: int | None = None
    device: str = "auto"
    executor: str = "local"
    scheduler: str | None = None
    limits: Limits | None = None  # instead of the assignment's (tests use short timeouts)
    roster: Path | None = None  # a Canvas gradebook export, to fill in Canvas's identifiers
    lms_column: str | None = None  # the assignment's name in the LMS (default: its title)


@dataclass(frozen=True)
class BatchTotals:
    students: int
    graded: int
    skipped: int
    grader_errors: int
    seconds: float
    mean: float
    max_score: float
    unmatched: tuple[str, ...] = ()  # students the roster does not list
    no_submission: int = 0
    reasons: tuple[tuple[str, str], ...] = ()  # (student, why) for those with no submission or a grader error


class Progress:
    """A progress bar with counts and ETA on a terminal; a line per tenth of the work otherwise."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.total = self.done = self.errors = 0
        self.started = time.monotonic()
        self._last_tenth = -1

    def start(self, total: int, skipped: int) -> None:
        self.total, self.started = total, time.monotonic()
        note = f" ({skipped} unchanged, skipped)" if skipped else ""
        self.stream.write(f"Grading {_count(total, 'submission')}{note}\n")
        self.stream.flush()

    def advance(self, outcome: work.Done) -> None:
        self.done += 1
        self.errors += outcome.status == "grader-error"
        elapsed = time.monotonic() - self.started
        remaining = (self.total - self.done) * elapsed / self.done
        errors = f", {_count(self.errors, 'grader error')}" if self.errors else ""
        line = f"{self.done}/{self.total} graded{errors}, ETA {int(remaining) // 60}:{int(remaining) % 60:02d}"
        if self.live:
            width = 30
            filled = width * self.done // max(1, self.total)
            self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {line}   ")
        elif self.done * 10 // max(1, self.total) != self._last_tenth:
            self._last_tenth = self.done * 10 // max(1, self.total)
            self.stream.write(line + "\n")
        self.stream.flush()

    def finish(self, totals: BatchTotals, out: Path) -> None:
        if self.live and self.total:
            self.stream.write("\n")
        errors = f", {_count(totals.grader_errors, 'grader error')}" if totals.grader_errors else ""
        missing = f", {totals.no_submission} with nothing to grade" if totals.no_submission else ""
        self.stream.write(
            f"{_count(totals.students, 'student')}: {totals.graded} graded, {totals.skipped} unchanged{missing}"
            f"{errors} in {totals.seconds:.1f} s; mean score {totals.mean:.4g}/{totals.max_score:.4g}. "
            f"Gradebook: {out / 'grades.csv'}; for an LMS: {out / 'lms'}\n")
        for student, reason in totals.reasons:  # ids and file names are students' choice: printable already
            self.stream.write(f"  {student}: {reason}\n")
        if totals.unmatched:
            self.stream.write(f"Not in the roster, so not in lms/canvas.csv: {', '.join(totals.unmatched)}\n")
        self.stream.flush()

    def interrupted(self) -> None:
        if self.live and self.done:
            self.stream.write("\n")
        self.stream.write(f"Stopped after {self.done} of {_count(self.total, 'submission')}: the graded ones are "
                          "kept, and the same command grades the rest.\n")
        self.stream.flush()


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _journal(out: Path) -> TextIO:
    """The journal, opened to append; a last line cut short by an earlier interruption is ended
    first, so that it stays one unreadable line rather than spoiling the next one too."""
    try:
        with open(out / STATE, "rb") as existing:
            existing.seek(-1, os.SEEK_END)
            cut_short = existing.read(1) != b"\n"
    except OSError:  # no journal yet, or an empty one
        cut_short = False
    journal = open(out / STATE, "a", encoding="utf-8")
    if cut_short:
        journal.write("\n")
    return journal


def _read_state(out: Path, assignment: str) -> dict[str, dict]:
    """What earlier runs recorded for this assignment, student by student.

    The journal is appended to, one line per graded student, so recording a
    student costs the same in a class of 30 as in one of 3000; a line cut short
    by an interruption is ignored (that student is graded again).
    """
    state: dict[str, dict] = {}
    try:
        lines = (out / STATE).read_text(encoding="utf-8").splitlines()
    except OSError:
        return state
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("assignment") == assignment and isinstance(entry.get("id"), str):
            state[entry["id"]] = entry
    return state


def _record(journal: TextIO, assignment: str, student: str, entry: dict) -> None:
    journal.write(json.dumps({"assignment": assignment, "id": student, **entry}) + "\n")
    journal.flush()


def _write_student(out: Path, outcome: work.Done, submissions: Path) -> None:
    if outcome.report is None:
        write_atomic(out / f"{outcome.student}.error.txt", outcome.problem + "\n")
        return
    jsonreport.write(outcome.report, out / f"{outcome.student}.json")
    write_atomic(out / f"{outcome.student}.md", markdown.render(outcome.report))
    page = out / f"{outcome.student}.html"
    annotated = notebook.write_beside(outcome.report, submissions / outcome.report.submission, page)
    write_atomic(page, html.render(outcome.report, notebook=annotated.name if annotated else None))
    (out / f"{outcome.student}.error.txt").unlink(missing_ok=True)


def _source(student: Student, wanted: Wanted) -> str:
    """The student's code as text, for the similarity search (read, never run)."""
    try:
        found = find(student.entries, wanted)
        with opened(found) as path:
            return "\n".join(unit.source for unit in read(path).units)
    except Exception:  # nothing readable to compare: the student's row says why
        return ""


def run_batch(course: Path, options: BatchOptions, progress: Progress | None = None) -> BatchTotals:
    started = time.monotonic()
    assignment = load_assignment(course, options.assignment)
    if options.roster is not None:
        lms.read_roster(options.roster)  # a bad roster stops the run now, not after grading everyone
    out = options.out.resolve()
    students = discover(options.submissions, exclude=(out,))  # no one to grade: stop before making anything
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot make the results folder {out}: {exc.strerror}") from None
    context = assignment_fingerprint([assignment.folder] + ([assignment.reference] if assignment.reference else []),
                                     f"seed={options.seed};device={options.device}")
    state = _read_state(out, assignment.name)
    prints = {s.id: fingerprint(s, context) for s in students}
    todo = [s for s in students if options.force or state.get(s.id, {}).get("fingerprint") != prints[s.id]
            or not (out / f"{s.id}.json").exists()]
    progress = progress or Progress()
    jobs = [work.Job(str(course), assignment.name, s.id, tuple(str(p) for p in s.entries), options.seed,
                     options.device, (str(options.submissions.resolve()), str(out)), options.limits) for s in todo]
    executor = executors.make(options.executor, options.jobs, options.scheduler)
    fresh: dict[str, SubmissionReport] = {}  # reports of this run, kept rather than read back at the end
    try:
        outcomes = executor.map(jobs)  # the grading processes start now, while this one checks the course
        check_names = [c.name for c in assignment.checks()]
        progress.start(len(todo), len(students) - len(todo))
        with _journal(out) as journal:
            for outcome in outcomes:
                _write_student(out, outcome, options.submissions)
                if outcome.report is not None:
                    fresh[outcome.student] = outcome.report
                entry = {"status": outcome.status, "seconds": round(outcome.seconds, 3)}
                if outcome.problem:
                    entry["problem"] = outcome.problem
                if outcome.status != "grader-error":
                    entry["fingerprint"] = prints[outcome.student]
                state[outcome.student] = entry
                _record(journal, assignment.name, outcome.student, entry)
                progress.advance(outcome)
    except KeyboardInterrupt:
        progress.interrupted()
        raise
    finally:
        executor.close()
    totals = _finish(assignment, students, state, fresh, out, check_names, len(todo), started, options)
    progress.finish(totals, out)
    return totals


def _finish(assignment: Assignment, students: list[Student], state: dict[str, dict],
            fresh: dict[str, SubmissionReport], out: Path, check_names: list[str], graded: int, started: float,
            options: BatchOptions) -> BatchTotals:
    reports: dict[str, SubmissionReport] = {}
    statuses: dict[str, str] = {}
    problems: dict[str, str] = {}
    reasons: dict[str, str] = {}
    for student in students:
        entry = state.get(student.id, {})
        statuses[student.id] = entry.get("status", "grader-error")
        reasons[student.id] = entry.get("problem", "not graded" if statuses[student.id] == "grader-error" else "")
        if statuses[student.id] == "grader-error":
            problems[student.id] = reasons[student.id]
        elif student.id in fresh:
            reports[student.id] = fresh[student.id]
        elif (out / f"{student.id}.json").exists():  # graded by an earlier run and unchanged since
            reports[student.id] = jsonreport.load(out / f"{student.id}.json")
    rows = [(s.id, statuses[s.id], reports.get(s.id), reasons[s.id]) for s in students]
    write_atomic(out / "grades.csv", grades_csv(rows, check_names))
    template = _template_source(assignment)
    wanted = Wanted(assignment.name, assignment.functions, assignment.folder)
    groups = similarity.near_identical({s.id: _source(s, wanted) for s in students}, template)
    overview = summary.compute(assignment.name, reports, statuses, problems, groups)
    write_atomic(out / "summary" / "summary.md", summary.to_markdown(overview))
    write_atomic(out / "summary" / "index.html", summary.to_html(overview))
    write_atomic(out / "summary" / "summary.json", summary.to_json(overview))
    unmatched = _write_lms(out, assignment, {s.id: reports[s.id].score if s.id in reports else None
                                             for s in students}, overview.max_score, options)
    missing = [s.id for s in students if statuses[s.id] == "no-submission"]
    return BatchTotals(
        students=len(students), graded=graded, skipped=len(students) - graded, grader_errors=len(problems),
        seconds=round(time.monotonic() - started, 2), mean=overview.mean, max_score=overview.max_score,
        unmatched=unmatched, no_submission=len(missing),
        reasons=tuple((s.id, printable(reasons[s.id].splitlines()[0] if reasons[s.id] else "", 300))
                      for s in students if statuses[s.id] in ("no-submission", "grader-error")))


def _write_lms(out: Path, assignment: Assignment, scores: dict[str, float | None], max_score: float,
               options: BatchOptions) -> tuple[str, ...]:
    column = options.lms_column or assignment.title or assignment.name
    canvas = lms.canvas_csv(scores, column, max_score, options.roster)
    write_atomic(out / "lms" / "canvas.csv", canvas.text)
    write_atomic(out / "lms" / "moodle.csv", lms.moodle_csv(scores, column).text)
    return canvas.unmatched


def _template_source(assignment: Assignment) -> str:
    template = assignment.folder / f"{assignment.name}.py"
    return template.read_text(encoding="utf-8") if template.is_file() else ""
