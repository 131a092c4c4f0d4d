"""Running checks: capture what happened, then classify it.

``capture`` runs one check and records only what happened (returned, failed,
or a fault of student code) with its duration and printed output. ``classify``
is the one place that decides status, points and message. ``loop_gates`` turns
the evidence of whole-array arithmetic into the rule "no points for that
function". The runner never formats reports; writers read the results.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from grader.checks import CheckSpec
from grader.errors import CheckFailed, GraderError, GraderFault
from grader.model import CheckResult, Curve
from grader.sandbox.faults import StudentFault
from grader.sandbox.protocol import (
    AUTOGRAD_RAN,
    AUTOGRAD_SKIPPED,
    ESCAPE_REASON_END,
    LINES_HIDDEN,
    TAMPERED,
    TRACING_REASON,
)
from grader.sandbox.session import Session

_OUTPUT_LINES = 30
_OUTPUT_CHARS = 3000


class CheckCrashed(GraderFault):
    """A check itself raised: a bug in the course's checks, not in the submission.

    Its text for people is GraderFault's (no check named, nobody's work
    blamed); ``details`` names the check and the exception for course staff.
    """


class Evidence:
    """What a check hands to the report besides its verdict (the ``evidence`` fixture)."""

    def __init__(self, session: Session | None = None) -> None:
        self.curves: list[Curve] = []
        self._session = session
        self._heard: list[tuple[str, int]] = []

    def curve(self, label: str, values, *, x_label: str = "", x_step: float = 1.0) -> None:
        """A series to draw beside the check's other curves, on one scale.

        x_label, x_step: what the horizontal axis counts ("epoch") and how much
        of it lies between two values (a loss every 10 epochs: 10).
        """
        self.curves.append(Curve(label, tuple(float(v) for v in values), x_label, float(x_step)))

    @contextlib.contextmanager
    def grader_calls(self) -> Iterator[None]:
        """Calls made in this block only draw evidence: what they print is not the student's output.

        A loss curve needs the student's train called again and again; the
        lines it prints then come from the grader's calls, and showing them
        under "Your code printed" would mislead.
        """
        if self._session is None:
            yield
            return
        self._heard.append(self._session.take_output())
        try:
            yield
        finally:
            self._session.take_output()

    def output(self) -> tuple[str, int]:
        """What the student's own calls printed during the check, and its size in bytes."""
        rest = self._session.take_output() if self._session is not None else ("", 0)
        parts = [*self._heard, rest]
        return "".join(text for text, _ in parts), sum(total for _, total in parts)


@dataclass(frozen=True)
class Outcome:
    failure: CheckFailed | None = None
    fault: StudentFault | None = None
    seconds: float = 0.0
    output: str = ""
    output_bytes: int = 0
    curves: tuple[Curve, ...] = ()


@dataclass(frozen=True)
class Gate:
    """Why a function earns no points, whatever its checks found.

    message: for visible checks, with the evidence a student can act on; brief:
    for hidden ones, the grader's words alone (what was seen while hidden inputs
    ran, and how often, could spell those inputs); details: all of it, for staff.
    hidden_only: the rule was broken on hidden inputs alone, so only hidden
    checks lose their points: otherwise a submission could choose, by what it
    does on hidden inputs, whether its visible checks pass, and read one bit of
    those inputs per function in its visible feedback.
    """

    function: str
    message: str
    details: str
    brief: str = ""
    hidden_only: bool = False


def capture(spec: CheckSpec, fixtures: dict[str, Callable[[], Any]], session: Session | None) -> Outcome:
    started = time.perf_counter()
    failure = fault = None
    evidence = Evidence(session)
    fixtures = {**fixtures, "evidence": lambda: evidence}
    try:
        spec.run(**{name: fixtures[name]() for name in spec.fixtures})
    except CheckFailed as exc:
        failure = exc
    except StudentFault as exc:
        fault = exc
    except GraderError:
        raise
    except Exception as exc:
        raise CheckCrashed(f"check {spec.name} ({spec.origin}) crashed: {type(exc).__name__}: {exc}") from exc
    seconds = time.perf_counter() - started
    output, total = evidence.output()
    return Outcome(failure, fault, seconds, output, total, tuple(evidence.curves))


# Between a rule's words and the check's own, where the check failed as well: what the check found still shows.
BESIDES = " Besides that: "


def classify(spec: CheckSpec, outcome: Outcome, gates: dict[str, Gate]) -> CheckResult:
    visible = spec.visibility == "visible"
    details = ""
    if outcome.fault is not None:
        status = outcome.fault.status
        message = outcome.fault.explain() if visible else outcome.fault.explain_briefly()
        if not visible and outcome.fault.explain() != message:
            details = outcome.fault.explain()
    elif outcome.failure is not None:
        status = "failed"
        if visible and outcome.failure.diagnosis:  # the rows go into a table, not the message
            message = outcome.failure.summary
        elif visible:
            message = f"{outcome.failure.summary} {outcome.failure.details}".strip()
        else:
            message, details = outcome.failure.summary, outcome.failure.details
    else:
        status, message = "passed", ""
    for function in spec.functions:
        gate = gates.get(function)
        if gate is None or (gate.hidden_only and visible):
            continue
        said = gate.message if visible else gate.brief or gate.message
        if status == "passed":
            status, message = "failed", said
        else:
            message = f"{said}{BESIDES}{message}"
        details = f"{details}\n{gate.details}".strip()
    return CheckResult(
        name=spec.name,
        title=spec.title,
        functions=spec.functions,
        status=status,
        score=spec.points if status == "passed" else 0.0,
        max_score=spec.points,
        message=message,
        visibility=spec.visibility,
        details=details,
        output=_shown_output(outcome) if visible else "",
        seconds=round(outcome.seconds, 4),
        curves=outcome.curves if visible else (),
        diagnosis=outcome.failure.diagnosis if visible and outcome.failure is not None else (),
    )


def _shown_output(outcome: Outcome) -> str:
    if not outcome.output_bytes:
        return ""
    lines = outcome.output.splitlines()
    shown = "\n".join(lines[:_OUTPUT_LINES])[:_OUTPUT_CHARS]
    if len(lines) > _OUTPUT_LINES or len(shown) < len("\n".join(lines)) or outcome.output_bytes > len(
            outcome.output.encode()):
        shown += f"\n... (printed {outcome.output_bytes} bytes in all; the rest is not shown)"
    return shown


_RULE_WORDS = {
    "loops": (
        "it computes with whole arrays instead of looping over single elements (逐元素), which is what this "
        "exercise asks",
        "Use for-loops and work on one element at a time, such as x[i, j].",
        "whole-array operations: ",
    ),
    "autograd": (
        "it uses automatic differentiation (or lets a library derive for it), but this exercise asks you to derive "
        "the backward pass by hand",
        "Compute each partial derivative with the chain rule, as in the derivation in the README.",
        "",
    ),
}


def rule_gates(rules: dict[str, tuple[str, ...]], findings: dict[str, dict[str, list[dict]]],
               traces: dict[str, dict[str, Counter]],
               hidden_traces: dict[str, dict[str, Counter]] | None = None) -> dict[str, Gate]:
    """A gate for each function that broke its rule, with the evidence found.

    findings come from reading the source before it ran; traces from watching
    it run in visible checks, hidden_traces in hidden ones. Any is enough, but
    what hidden calls did is named only in the details, for staff.
    """
    gates = {}
    for rule, functions in rules.items():
        for function in functions:
            static = findings.get(rule, {}).get(function, [])
            dynamic = traces.get(rule, {}).get(function, Counter())
            unseen = (hidden_traces or {}).get(rule, {}).get(function, Counter())
            if not static and not dynamic and not unseen:
                continue
            reaching = [f for f in static if str(f.get("reason", "")).endswith(ESCAPE_REASON_END)]
            if TAMPERED not in dynamic and TAMPERED not in unseen and rule in _MEASURED_RULES:
                # assignment 5's rules; code that reaches past its work is not cleared by what was measured
                # (the count of lines switched off has words of its own, which say more)
                counted = rule == "vectorised" and any(f["reason"] == TRACING_REASON for f in static)
                gate = (_reaching_gate(function, reaching) if reaching and not counted
                        else _MEASURED_RULES[rule](function, static, dynamic, unseen))
                if gate is not None:
                    gates[function] = gate
                continue
            problem, advice, lead = _RULE_WORDS.get(rule, _RULE_WORDS["autograd"])
            if TAMPERED in dynamic or TAMPERED in unseen:
                message = (f"No points for {function}: while it ran, the grader's own code that watches it had been "
                           "changed. Graded code may not reach into the grader.")
                gates[function] = Gate(function, message, f"Evidence: {rule} trace reports {TAMPERED}", message)
                continue
            evidence = [_quoted(f) if f.get("code") else str(f.get("reason")) for f in static]
            watched = []
            if dynamic:
                watched.append(f"while it ran it used {lead}{_operations(dynamic)}")
            if unseen and not evidence and not watched:
                gates[function] = _hidden_only(function, problem, advice,
                                               [f"on hidden inputs it used {lead}{_operations(unseen)}"])
                continue
            # What was seen running always shows; the reading's finds, up to two of them.
            shown = "; ".join(evidence[:2] + (["..."] if len(evidence) > 2 else []) + watched)
            evidence += watched
            message = f"No points for {function}: {problem}. Found: {shown}. {advice}"
            staff = evidence + ([f"on hidden inputs it used {lead}{_operations(unseen)}"] if unseen else [])
            gates[function] = Gate(function, message, "Evidence: " + "; ".join(staff),
                                   f"No points for {function}: {problem}. {advice}")
    return gates


def _quoted(finding: dict) -> str:
    """A finding of the static reading as the student reads it: the code, where it is, and why it counts."""
    return f"`{finding['code']}` at {finding['where']} ({finding['reason']})"


def _operations(counts: Counter) -> str:
    return ", ".join(f"{name.replace('numpy.', 'np.')} ({count}x)" for name, count in counts.most_common())


# --- assignment 5: rules judged from what each call did, not from whether anything forbidden was seen ------------

def _shown(static: list[dict]) -> str:
    more = f" (and {len(static) - 2} more)" if len(static) > 2 else ""
    return "; ".join(_quoted(f) for f in static[:2]) + more


def _reaching_gate(function: str, reaching: list[dict]) -> Gate:
    """Code that reaches past its own work could forge what assignment 5's rules measure: no points."""
    brief = (f"No points for {function}: the file reaches past its own work, so what this exercise watches while "
             "it runs cannot be trusted. Remove that code: graded code may only compute.")
    return Gate(function, f"{brief} Found: {_shown(reaching)}.",
                "Evidence: " + "; ".join(_quoted(f) for f in reaching), brief)


def _hidden_only(function: str, problem: str, advice: str, staff: list[str]) -> Gate:
    """Broken on hidden inputs alone: only the hidden checks lose their points, and the student is told no more."""
    brief = f"No points for {function} on hidden checks: {problem}. {advice}"
    return Gate(function, brief, "Evidence: " + "; ".join(staff), brief, hidden_only=True)


def _requires_autograd_gate(function: str, static: list[dict], dynamic: Counter, unseen: Counter) -> Gate | None:
    """No points where a call returned without autograd deriving anything, or where the code names no autograd and
    no call showed it running (a function that never returned is left to its checks)."""
    skipped, ran = dynamic[AUTOGRAD_SKIPPED], dynamic[AUTOGRAD_RAN] + unseen[AUTOGRAD_RAN]
    hidden_skipped = unseen[AUTOGRAD_SKIPPED]
    if not skipped and not hidden_skipped and (not static or ran):
        return None
    problem = ("this exercise asks for the gradient from PyTorch's autograd (自动求梯度), but it comes from "
               "somewhere else")
    advice = ("Let autograd derive it: give the input requires_grad=True, compute the output from it, call "
              ".backward() on the output and return the input's .grad.")
    if hidden_skipped and not skipped and not static:
        return _hidden_only(function, problem, advice,
                            [f"{hidden_skipped} calls on hidden inputs returned without a backward pass"])
    seen = []
    if skipped:
        seen.append(f"{skipped} of its {skipped + dynamic[AUTOGRAD_RAN]} calls returned without autograd running a "
                    "backward pass")
    shown = "; ".join(part for part in (_shown(static), *seen) if part)
    staff = [_quoted(f) for f in static] + seen
    if hidden_skipped:
        staff.append(f"{hidden_skipped} calls on hidden inputs returned without a backward pass")
    return Gate(function, f"No points for {function}: {problem}. Found: {shown}. {advice}",
                "Evidence: " + "; ".join(staff), f"No points for {function}: {problem}. {advice}")


_GROWTH = 4  # calls given at least this many times more data are compared
_LINES = 8  # ... and a count that grows by more than this and at least doubles is a loop over the data


def _vectorised_gate(function: str, static: list[dict], dynamic: Counter, unseen: Counter) -> Gate | None:
    """No points where the lines run grow with the data between two calls (a Python loop over it), or where
    the reading finds a loop over the data and no two calls of different sizes say otherwise."""
    def calls(counts: Counter) -> list[tuple[int, int]]:
        pairs = [key.split(":") for key in counts]
        return [(int(v), int(n)) for v, n in pairs if v.isdigit() and n.isdigit()]

    def growth(measured: list[tuple[int, int]]) -> tuple[tuple[int, int], tuple[int, int]] | None:
        apart = [(a, b) for a in measured for b in measured if b[0] >= _GROWTH * max(a[0], 1)]
        grown = [(a, b) for a, b in apart if b[1] >= 2 * a[1] and b[1] - a[1] > _LINES]
        return max(grown, key=lambda pair: pair[1][1] - pair[0][1]) if grown else None

    if LINES_HIDDEN in dynamic or LINES_HIDDEN in unseen or any(f["reason"] == TRACING_REASON for f in static):
        message = (f"No points for {function}: it reaches Python's tracing (sys.settrace), which hides how many lines "
                   "it runs; this exercise counts them to see whether it loops over the samples.")
        return Gate(function, message, "Evidence: " + "; ".join(
            [_quoted(f) for f in static if f["reason"] == TRACING_REASON] +
            ([f"vectorised trace reports {LINES_HIDDEN}"] if LINES_HIDDEN in dynamic or LINES_HIDDEN in unseen
             else [])), message)
    seen, hidden = calls(dynamic), calls(unseen)
    grew, hidden_grew = growth(seen), growth(seen + hidden)
    measured = any(b[0] >= _GROWTH * max(a[0], 1) for a in seen + hidden for b in seen + hidden)
    if not grew and not hidden_grew and (not static or measured):
        return None
    problem = ("it loops in Python over the data (向量化: vectorise it), but this exercise asks for whole-array "
               "operations over all m samples at once")
    advice = ("Replace the loop with matrix products and element-wise operations on whole arrays, such as "
              "np.dot(w.T, X).")
    if hidden_grew and not grew and not static:
        (small, few), (large, many) = hidden_grew
        return _hidden_only(function, problem, advice,
                            [f"on hidden inputs: given {small} numbers it ran {few} lines, "
                             f"given {large} it ran {many}"])
    said = []
    if grew:
        (small, few), (large, many) = grew
        said.append(f"given {small} numbers it ran {few} lines of your code, given {large} it ran {many}: the work in "
                    "Python grows with the data")
    shown = "; ".join(part for part in (_shown(static), *said) if part)
    staff = [_quoted(f) for f in static] + said
    if hidden_grew and not grew:
        (small, few), (large, many) = hidden_grew
        staff.append(f"given {small} numbers it ran {few} lines, given {large} it ran {many}")
    return Gate(function, f"No points for {function}: {problem}. Found: {shown}. {advice}",
                "Evidence: " + "; ".join(staff), f"No points for {function}: {problem}. {advice}")


_MEASURED_RULES = {"requires_autograd": _requires_autograd_gate, "vectorised": _vectorised_gate}
