"""Exceptions of the grading side.

Two families, kept apart on purpose:

* ``GraderError`` and its subclasses are problems with the grader, a course's
  configuration or the command line. They stop the run (exit status 2).
* ``CheckFailed`` is how a check says a submission is wrong. It becomes a
  ``failed`` result; it is never a crash.

What student code does (raising, hanging, crashing) is neither: the sandbox
client raises ``grader.sandbox.faults.StudentFault`` for it and the runner turns
it into a result.
"""

from __future__ import annotations


class GraderError(Exception):
    """A problem with the grader or its setup, not with the submission."""


class UsageError(GraderError):
    """The command asked for something that cannot be done; says what to do instead."""


class SpecError(GraderError):
    """An assignment's configuration or checks are invalid (found when loading them)."""


class CheckFailed(Exception):
    """Raised by a check when the submission's answer is wrong.

    summary: what the student reads for any check; must not reveal inputs or
        expected values, so it can be shown for hidden checks too.
    details: the specifics (where, expected, actual); shown with the summary for
        visible checks and kept for staff only for hidden ones.
    diagnosis: the same specifics parameter by parameter
        (``grader.model.DiagnosisRow``), for a table in visible checks' feedback.
    """

    def __init__(self, summary: str, details: str = "", diagnosis: tuple = ()) -> None:
        super().__init__(summary)
        self.summary = summary
        self.details = details
        self.diagnosis = tuple(diagnosis)

    def __str__(self) -> str:
        return f"{self.summary} {self.details}".strip()
