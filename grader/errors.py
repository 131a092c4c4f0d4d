"""Exceptions of the grading side.

Two families, kept apart on purpose:

* ``GraderError`` and its subclasses are problems with the grader, a course's
  configuration or the command line. They stop the run: exit status 2 for a
  usage or configuration problem, 3 for ``GraderFault``, the grader's own bug.
* ``CheckFailed`` is how a check says a submission is wrong. It becomes a
  ``failed`` result; it is never a crash. ``NotChecked`` is the failure of a
  property check whose function does not work yet.

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


class GraderFault(GraderError):
    """The grader itself failed: a bug in it or in a course's checks (exit status 3).

    Its text blames nobody's work and names no check, because it may reach a
    student (Gradescope shows it); ``details`` holds what course staff need.
    """

    def __init__(self, details: str) -> None:
        super().__init__(details)
        self.details = details

    def __str__(self) -> str:
        return ("the grader itself failed (an internal error); this is not a fault of the work being graded. "
                "Course staff can find the details in the grader's log.")


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


class NotChecked(CheckFailed):
    """A property (inputs unchanged, errors on bad shapes, dtype kept, memory shared) was not checked.

    Raised when the function does not return correct values on the check's
    valid inputs: a property of a function that does not work yet is worth
    nothing, or a stub that computes nothing would earn it.
    """

    def __init__(self, function: str, details: str = "") -> None:
        super().__init__(f"Not checked: {function} does not yet return correct values.", details)
        self.function = function
