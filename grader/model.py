"""The result model: what grading a submission produced.

Everything here is frozen and derived values (totals, pass/fail) are computed,
never stored. Writers (terminal, JSON, platform formats) read these objects and
never change them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from grader.untrusted import clean_name, clean_text

SCHEMA_VERSION = 1

Status = Literal["passed", "failed", "error", "timeout"]
Visibility = Literal["visible", "hidden"]

STATUSES: tuple[Status, ...] = ("passed", "failed", "error", "timeout")


@dataclass(frozen=True)
class Curve:
    """A series a check wants people to see, such as a loss per epoch.

    x_label: what the horizontal axis counts ("epoch"); x_step: how much of it
    lies between two values, the first value being at 0.
    """

    label: str
    values: tuple[float, ...]
    x_label: str = ""
    x_step: float = 1.0


@dataclass(frozen=True)
class DiagnosisRow:
    """One parameter of a wrong answer, compared with what was expected.

    expected, actual: the values as shown to people (already formatted, short).
    relative_error: |actual - expected| / |expected|; None when it cannot be
        computed (a missing value, a wrong shape).
    mistake: the likely mistake behind the difference, or "" when none fits.
    """

    parameter: str
    expected: str
    actual: str
    relative_error: float | None
    mistake: str = ""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check against one submission.

    name: stable check id, unique within the assignment (``"naive_add/values"``).
    title: one line saying what the check verifies, for people.
    functions: the student-facing names the check exercises.
    status: passed, failed (wrong answer), error (the code raised, crashed, is
        missing, ...) or timeout.
    score, max_score: points earned and available.
    message: what the student reads; already safe for the check's visibility
        (a hidden check's message never shows hidden inputs or expected values).
    visibility: whether students see the check in full.
    details: what only course staff read (hidden inputs, full diffs, tracebacks
        of grader frames); empty when there is nothing beyond the message.
    output: what the student's code printed during the check, truncated; kept
        for visible checks only, since printing a hidden input would leak it.
    seconds: wall time the check took, grading overhead included.
    curves: series to draw beside each other (the student's loss and the
        reference's); kept for visible checks only.
    diagnosis: the wrong parameters one by one, when the check compared
        several (a table in the feedback); kept for visible checks only, since
        it shows expected values. The message then holds only the summary.
    """

    name: str
    title: str
    functions: tuple[str, ...]
    status: Status
    score: float
    max_score: float
    message: str
    visibility: Visibility
    details: str = ""
    output: str = ""
    seconds: float = 0.0
    curves: tuple[Curve, ...] = ()
    diagnosis: tuple[DiagnosisRow, ...] = ()

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        if not 0 <= self.score <= self.max_score:
            raise ValueError(f"score {self.score} outside [0, {self.max_score}] for {self.name}")
        # Where text enters the result model: whatever part of it student code chose, every writer may
        # assume it holds no control sequences and has a bounded length.
        _clean(self, message=MESSAGE_CHARS, details=DETAILS_CHARS, output=OUTPUT_CHARS)

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def shown_seconds(self) -> float:
        """The time students may see: none for a hidden check, whose code could take as long as its input says."""
        return self.seconds if self.visibility == "visible" else 0.0


@dataclass(frozen=True)
class LoadNote:
    """Something worth telling the student about how their file was loaded.

    kind: ``dropped`` (an IPython magic or shell line that was not run),
        ``syntax_error``, ``exception`` (a top-level statement or cell raised),
        ``fatal`` (loading could not finish: timeout, crash, exit),
        ``file`` (the file itself could not be read or was not what we expected).
    where: a place in the file, such as ``"cell 3, line 2"`` or ``"line 14"``.
    text: one or two sentences for the student.
    """

    kind: Literal["dropped", "syntax_error", "exception", "fatal", "file"]
    where: str
    text: str

    def __post_init__(self) -> None:
        _clean(self, where=-300, text=MESSAGE_CHARS)


@dataclass(frozen=True)
class IsolationLayer:
    """One layer that stood between the student's code and everything else, as the worker measured it.

    name: ``user``, ``capabilities``, ``namespaces``, ``landlock``, ``seccomp``,
        ``limits`` or ``audit hook``.
    active: whether it was in force for this submission.
    detail: what it was here, in a line ("runs as nobody (uid 65534)").
    stops: what it stops, in a line.
    """

    name: str
    active: bool
    detail: str
    stops: str


@dataclass(frozen=True)
class SubmissionReport:
    """All results for one submission; the single input of every writer."""

    assignment: str
    submission: str
    results: tuple[CheckResult, ...]
    seed: int
    device: str
    hidden_not_run: int = 0
    hidden_points_not_run: float = 0.0
    notes: tuple[LoadNote, ...] = ()
    seconds: float = 0.0
    isolation: tuple[IsolationLayer, ...] = ()
    schema_version: int = field(default=SCHEMA_VERSION)

    def __post_init__(self) -> None:
        _clean(self, submission=-300)  # a file or folder name, which a student chose

    @property
    def score(self) -> float:
        return _points(r.score for r in self.results)

    @property
    def max_score(self) -> float:
        return _points(r.max_score for r in self.results)

    @property
    def all_passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def shown_seconds(self) -> float:
        """The time students may see: that of the visible checks alone (see CheckResult.shown_seconds)."""
        return round(math.fsum(r.shown_seconds for r in self.results), 3)

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)


MESSAGE_CHARS = 4000
DETAILS_CHARS = 20000
OUTPUT_CHARS = 4000


def _clean(result: object, **limits: int) -> None:
    """Clean the named text fields of a frozen result in place (a negative limit: one line)."""
    for name, limit in limits.items():
        value = getattr(result, name)
        cleaned = clean_text(value, limit) if limit > 0 else clean_name(value, -limit)
        if cleaned != value:
            object.__setattr__(result, name, cleaned)


def _points(values: Iterable[float]) -> float:
    # fsum and rounding keep 0.1 + 0.2 style noise out of gradebooks.
    return round(math.fsum(values), 6)


def format_points(value: float) -> str:
    """Points as people write them: 2, 1.5, 0.25."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.6g}"
