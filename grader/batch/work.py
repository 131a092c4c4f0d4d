"""Grading one student: the unit of work every executor runs.

A job is plain data, so it can travel to a process pool or a Dask worker. The
process that runs it keeps one fork server per assignment for all the jobs it
gets, so a submission costs a fork, not an interpreter and a torch import.
Whatever goes wrong with one student becomes that student's outcome.
"""

from __future__ import annotations

import atexit
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from grader.api import grade, report_without_submission
from grader.course import Assignment, load_assignment
from grader.errors import GraderError
from grader.finder import NothingToGrade, Wanted, find, opened
from grader.model import LoadNote, SubmissionReport
from grader.sandbox import hooks
from grader.sandbox.client import Affinity, ForkServer
from grader.sandbox.session import Limits

Status = Literal["passed", "failed", "no-submission", "grader-error"]


@dataclass(frozen=True)
class Job:
    course: str
    assignment: str
    student: str
    entries: tuple[str, ...]  # the submissions folder's entries named after the student
    seed: int | None = None
    device: str = "auto"
    protected: tuple[str, ...] = ()
    limits: Limits | None = None  # instead of the assignment's


@dataclass(frozen=True)
class Done:
    """problem: why there is no submission, or what failed in the grader (empty when graded)."""

    student: str
    status: Status
    report: SubmissionReport | None
    problem: str = ""
    seconds: float = 0.0


_prepared: dict[tuple[str, str], tuple[Assignment, ForkServer]] = {}
_single_threaded = False
_affinity: Affinity | None = None  # set when this grading process was pinned to a CPU


def pin(cpu: int, cpus: tuple[int, ...]) -> None:
    """Start-up of a local grading process: run on cpu, one of the CPUs (cpus) the whole run uses."""
    global _affinity
    try:
        os.sched_setaffinity(0, {cpu})
    except OSError:  # not ours to use after all: let the scheduler place this process
        return
    _affinity = Affinity(cpu, frozenset(cpus))


def _prepare(job: Job) -> tuple[Assignment, ForkServer]:
    global _single_threaded
    key = (job.course, job.assignment)
    if not _single_threaded:
        # Students are graded side by side, one per grading process: PyTorch's own threads would only
        # compete with the other processes (and spin between the small operations checks do).
        hooks.when_imported("torch", _one_thread)
        _single_threaded = True
    if key not in _prepared:
        assignment = load_assignment(Path(job.course), job.assignment)
        server = ForkServer(assignment.preload, assignment.threads, _affinity, many=True)
        atexit.register(server.close)
        _prepared[key] = (assignment, server)
    return _prepared[key]


def _one_thread() -> None:
    sys.modules["torch"].set_num_threads(1)


def run(job: Job) -> Done:
    started = time.perf_counter()
    try:
        assignment, server = _prepare(job)
        wanted = Wanted(assignment.name, assignment.functions, assignment.folder)
        try:
            found = find([Path(entry) for entry in job.entries], wanted)
        except NothingToGrade as exc:
            report = report_without_submission(assignment, f"No submission to grade: {exc}", seed=job.seed,
                                               device=job.device, shown_as=job.student)
            return Done(job.student, "no-submission", report, str(exc), time.perf_counter() - started)
        notes = (LoadNote("file", found.shown, found.remark),) if found.remark else ()
        with opened(found) as path:
            report = grade(assignment, path, seed=job.seed, device=job.device, server=server,
                           protected=tuple(Path(p) for p in job.protected), shown_as=found.shown, notes=notes,
                           limits=job.limits)
        status: Status = "passed" if report.all_passed else "failed"
        return Done(job.student, status, report, seconds=time.perf_counter() - started)
    except GraderError as exc:
        # The grader (a check, the sandbox) failed on this student: say so, start afresh for the next.
        _forget(job)
        return Done(job.student, "grader-error", None, f"{type(exc).__name__}: {exc}", time.perf_counter() - started)


def _forget(job: Job) -> None:
    prepared = _prepared.pop((job.course, job.assignment), None)
    if prepared is not None:
        prepared[1].close()


def close_all() -> None:
    """Close every fork server this process started (their zygotes kill their workers)."""
    while _prepared:
        _, (_, server) = _prepared.popitem()
        server.close()
