"""What can go wrong in student code, as the grading side sees it.

A fault is raised by the session when a request to student code does not come
back with a value. It carries facts (what was called, what happened) and says
them in words a first-year student understands. The runner turns an uncaught
fault into an ``error`` or ``timeout`` result; checks may catch ``StudentRaised``
when raising is the expected behaviour.
"""

from __future__ import annotations

import builtins
import signal
from typing import Literal

# The exception names a hidden check's message may show: Python's own. Any other name was chosen by
# the student's code, which could spell a hidden input with it.
BUILTIN_EXCEPTIONS = frozenset(name for name, value in vars(builtins).items()
                               if isinstance(value, type) and issubclass(value, BaseException))

_SIGNAL_WORDS = {
    "SIGSEGV": "a segmentation fault: the program touched memory it may not use",
    "SIGABRT": "an abort, usually a failed check inside a C library",
    "SIGBUS": "a bus error: the program touched memory in an invalid way",
    "SIGFPE": "an arithmetic error in C code",
    "SIGILL": "an illegal instruction",
    "SIGKILL": "a kill, often the system running out of memory",
}


class StudentFault(Exception):
    """Student code did not produce a value."""

    status: Literal["error", "timeout"] = "error"

    def __init__(self, function: str) -> None:
        super().__init__(function)
        self.function = function

    def explain(self) -> str:
        raise NotImplementedError

    def explain_briefly(self) -> str:
        """The explanation in the grader's own words and values only, for hidden checks.

        Nothing the student's code chose may appear: not its messages, not the
        names of its classes, not a line of its source or even a line number
        (code can be compiled to start at any line), not an exit status. A
        submission could otherwise spell a hidden input with any of them and
        read it in its feedback. Subclasses whose explain() holds only the
        grader's words may keep this default.
        """
        return self.explain()

    def __str__(self) -> str:
        return self.explain()


class StudentRaised(StudentFault):
    """Student code raised an exception."""

    def __init__(self, function: str, type_name: str, mro: list[str], message: str, frames: list[dict]) -> None:
        super().__init__(function)
        self.type_name = type_name
        self.mro = mro
        self.message = message
        self.frames = frames

    def is_a(self, *names: str) -> bool:
        return any(name in self.mro for name in names)

    def location(self) -> str:
        if not self.frames:
            return ""
        frame = self.frames[-1]
        code = f": {frame['code']}" if frame.get("code") else ""
        return f" (at {frame['where']}{code})"

    def explain(self) -> str:
        name = self.function
        if self.is_a("NotImplementedError"):
            return (f"{name} is not implemented yet: it raises NotImplementedError. "
                    "Replace the `raise NotImplementedError` line with your code.")
        if self.is_a("SystemExit"):
            return (f"{name} called exit() or sys.exit(){self.location()}. "
                    "A function should return its result; exiting stops the whole program.")
        if self.is_a("SandboxViolation"):
            return f"{name} tried something the grader does not allow: {self.message}{self.location()}."
        if self.is_a("MemoryError"):
            return f"{name} ran out of memory{self.location()}. Does it build a much larger array than needed?"
        if self.is_a("RecursionError"):
            return f"{name} called itself too many times (RecursionError){self.location()}."
        detail = f": {self.message}" if self.message else ""
        return f"{name} raised {self.type_name}{detail}{self.location()}."

    def explain_briefly(self) -> str:
        name = self.function
        if self.is_a("NotImplementedError"):
            return f"{name} is not implemented yet: it raises NotImplementedError."
        if self.is_a("SystemExit"):
            return f"{name} called exit() or sys.exit(). A function should return its result."
        if self.is_a("SandboxViolation"):
            return f"{name} tried something the grader does not allow."
        if self.is_a("MemoryError"):
            return f"{name} ran out of memory. Does it build a much larger array than needed?"
        if self.is_a("RecursionError"):
            return f"{name} called itself too many times (RecursionError)."
        if self.type_name in BUILTIN_EXCEPTIONS:
            return f"{name} raised {self.type_name}."
        return f"{name} raised an exception."


class StudentTimeout(StudentFault):
    status = "timeout"

    def __init__(self, function: str, seconds: float, earlier: bool = False) -> None:
        super().__init__(function)
        self.seconds = seconds
        self.earlier = earlier

    def explain(self) -> str:
        if self.earlier:
            return (f"Not run: {self.function} did not finish within {self.seconds:g} s in an earlier check, "
                    "so the grader did not wait for it again.")
        return (f"{self.function} did not finish within {self.seconds:g} s, so the grader stopped it. "
                "Is there a loop that never ends, or much more work than the exercise needs?")


class StudentCrashed(StudentFault):
    """The worker process ended while running student code."""

    def __init__(self, function: str, status: int | None) -> None:
        super().__init__(function)
        self.exit_status = status

    def cause(self) -> str:
        import os

        status = self.exit_status
        if status is None:
            return "The process running your code disappeared"
        if os.WIFSIGNALED(status):
            number = os.WTERMSIG(status)
            try:
                name = signal.Signals(number).name
            except ValueError:
                name = f"signal {number}"
            words = _SIGNAL_WORDS.get(name, "a signal")
            return f"The process running your code crashed ({name}, {words})"
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
        return f"The process running your code exited with status {code} (does your code call os._exit()?)"

    def explain(self) -> str:
        return f"{self.cause()} while running {self.function}. The grader carried on with a fresh process."

    def explain_briefly(self) -> str:
        return (f"The process running your code stopped unexpectedly while running {self.function}. "
                "The grader carried on with a fresh process.")


class StudentOutOfMemory(StudentFault):
    def __init__(self, function: str, limit_mb: int) -> None:
        super().__init__(function)
        self.limit_mb = limit_mb

    def explain(self) -> str:
        return (f"{self.function} used more than the {self.limit_mb} MB of memory allowed, so the grader "
                "stopped it. Does it build a much larger array than needed?")


class MissingName(StudentFault):
    def __init__(self, function: str, missing: str, suggestions: list[str], hint: str = "") -> None:
        super().__init__(function)
        self.missing = missing
        self.suggestions = suggestions
        self.hint = hint

    def explain(self) -> str:
        owner, _, _ = self.function.rpartition(".")
        if owner and self.missing != owner:
            text = f"{owner} has no attribute or method named {self.missing}."
        else:
            text = f"{self.missing} is not defined in your submission; the grader looks for exactly that name."
        if self.suggestions:
            text += " Did you mean " + " or ".join(self.suggestions) + "?"
        return f"{text} {self.hint}".strip()

    def explain_briefly(self) -> str:
        owner, _, _ = self.function.rpartition(".")
        if owner and self.missing != owner:
            return f"{owner} is missing an attribute or method the grader needs."
        return f"{self.function} is not defined in your submission; the grader looks for exactly that name."


class SubmissionBroken(StudentFault):
    """The submission could not be loaded at all; every check reports this."""

    def __init__(self, reason: str, status: Literal["error", "timeout"] = "error") -> None:
        super().__init__("")
        self.reason = reason
        self.status = status

    def explain(self) -> str:
        return self.reason


class ProtocolViolation(StudentFault):
    """The worker answered with something that is not a valid message.

    The text is fixed: what was wrong with the bytes (a length, a type) was
    chosen by the code that wrote them.
    """

    def explain(self) -> str:
        return (f"While running {self.function}, your code interfered with the grader's connection to it "
                "(it sent something that is not an answer the grader understands). "
                "The grader carried on with a fresh process.")


class Unsendable(StudentFault):
    """The call returned, but its value cannot travel as data (a tensor NumPy cannot hold, nesting too deep)."""

    def __init__(self, function: str, reason: str) -> None:
        super().__init__(function)
        self.reason = reason

    def explain(self) -> str:
        return f"{self.function} returned a value the grader could not read: {self.reason}."

    def explain_briefly(self) -> str:
        return f"{self.function} returned a value the grader could not read."


class StudentWroteTooMuch(StudentFault):
    def __init__(self, function: str, limit_mb: int) -> None:
        super().__init__(function)
        self.limit_mb = limit_mb

    def explain(self) -> str:
        return (f"{self.function} wrote more than the {self.limit_mb} MB of files allowed, so the grader "
                "stopped it. Does it save far more than the exercise needs?")


class LostObject(StudentFault):
    def __init__(self, function: str, type_name: str) -> None:
        super().__init__(function)
        self.type_name = type_name

    def explain(self) -> str:
        return (f"The {self.type_name} object used by {self.function} was lost when an earlier error "
                "stopped the process running your code.")

    def explain_briefly(self) -> str:
        return (f"An object used by {self.function} was lost when an earlier error stopped the process "
                "running your code.")
