"""GitHub Actions: the grading reporter's input, the job summary, and a log students cannot hijack.

The reporter (classroom-resources/autograding-grading-reporter, v1) takes a
list of runner ids and, for each, reads the environment variable
``<ID>_RESULTS`` (the id upper-cased): base64 of a JSON object with version,
status, max_score and tests. For a runner's points it does not add the tests'
scores: it prints (tests with status "pass" / number of tests) x max_score,
and its table and total add those figures up. Only its closing annotation
adds ``tests[].score``. So every check is a runner of its own whose
max_score is the check's points, and then what the reporter prints is the
check's score:

- a check that passed or earned nothing is one test, passing or not;
- a check that earned part of its points is ``n`` equal parts of which ``k``
  pass, k/n being its share of the points (the smallest n up to
  ``MAX_PARTS``); a share that no such fraction gives exactly becomes the
  closest one that does, and the job summary says so.

The grading step hands the reporter the list as the step output ``runners``
and each runner's variable through ``$GITHUB_ENV``, so the workflow need not
name the checks.

Linux refuses to start a process when one ``NAME=value`` string of its
environment is over 131,072 bytes (MAX_ARG_STRLEN), and all of them together
must fit ARG_MAX beside the arguments; the reporter's process receives every
runner's variable at once. Each runner therefore gets a budget counted in
bytes after base64 encoding (``RUNNER_BYTES``, less when many checks share
``ALL_RUNNERS_BYTES``), and a message that would not fit is cut at a
character boundary (so its UTF-8 stays whole) with a note of what was cut;
the job summary names the checks whose messages were cut.

Student code's text (exception messages, what it printed) reaches the job log
in two ways, and neither may turn into a workflow command such as
``::add-mask::`` or ``::error::``: what ``grade`` prints itself is wrapped in
``::stop-commands::`` with a token generated per run; messages that the
reporter prints later have any line that could start a command defused. The
runner splits lines at ``\\r`` as well as ``\\n``, so both escapers treat a
bare carriage return as a line break.
"""

from __future__ import annotations

import base64
import json
import math
import re
import secrets
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from typing import Any

from grader.errors import GraderError
from grader.model import CheckResult, SubmissionReport
from grader.report import markdown
from grader.report.feedback import check_text

# One NAME=value string in a process's environment (Linux's MAX_ARG_STRLEN, 32 pages of 4 KiB).
VARIABLE_LIMIT = 131_072
# Bytes of base64 per runner, and for all runners together (the reporter's process gets them all):
# up to 16 checks get 16 KiB each, more share 256 KiB, and none gets less than 4 KiB (so more than
# 64 checks take 4 KiB each, still far below ARG_MAX's 2 MiB up to some hundreds of checks).
RUNNER_BYTES = 16 * 1024
ALL_RUNNERS_BYTES = 256 * 1024
MIN_RUNNER_BYTES = 4 * 1024
MAX_PARTS = 20
# GitHub refuses a step summary larger than 1 MiB (and then shows none of it).
SUMMARY_LIMIT = 1024 * 1024

_STATUS = {"passed": "pass", "failed": "fail", "error": "error", "timeout": "error"}
# The runner reads a command from a line that starts, after spaces, with "::" (or the older "##[").
_COMMAND_LINE = re.compile(r"^(\s*)(::|##\[)", re.MULTILINE)
# A full-width colon or number sign looks the same to a reader and means nothing to the runner.
_INERT = {"::": "\uff1a:", "##[": "#\uff03["}
_LINE_BREAK = re.compile(r"\r\n?")
# Control characters other than tab and newline, and lone surrogates (which UTF-8 cannot hold).
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_RUNNER_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Variables the runner keeps for itself or that change how the reporter's process runs.
_RESERVED_PREFIXES = ("GITHUB_", "RUNNER_", "ACTIONS_", "INPUT_", "NODE_")
_CUT_NOTE = ("\n\n[The rest of this message did not fit the grading reporter's input; "
             "the job summary shows this check in full.]")


def lines_of(text: str) -> str:
    """text with every line break the runner recognises (\\r\\n, \\r, \\n) written as \\n."""
    return _LINE_BREAK.sub("\n", text)


def defuse(text: str) -> str:
    """text with every line that the runner could read as a workflow command made inert."""
    return _COMMAND_LINE.sub(lambda m: m.group(1) + _INERT[m.group(2)], lines_of(text))


def _shown(text: str) -> str:
    """Text for the reporter's log: one kind of line break, no control characters, no commands."""
    return defuse(_UNPRINTABLE.sub("\ufffd", lines_of(text)))


def guarded_log(text: str, token: str | None = None) -> str:
    """text for the job log with workflow commands switched off around it."""
    token = token or secrets.token_hex(16)
    return f"::stop-commands::{token}\n{defuse(text).rstrip(chr(10))}\n::{token}::\n"


@dataclass(frozen=True)
class Runner:
    """One check as the reporter reads it.

    id: what the ``runners`` list names; the reporter reads ``<ID>_RESULTS``.
    results: the JSON object the variable carries (before encoding).
    value: the variable's value, base64.
    cut: characters of the message left out to fit the budget (0: none).
    parts, passed_parts: how the check's points are split (1 part unless it earned part of them).
    exact: whether the reporter's arithmetic gives the check's score exactly.
    """

    id: str
    title: str
    results: dict[str, Any]
    value: str
    cut: int
    parts: int
    passed_parts: int
    exact: bool

    @property
    def variable(self) -> str:
        return f"{self.id.upper()}_RESULTS"


def runner_ids(results: tuple[CheckResult, ...]) -> list[str]:
    """One id per check, unique whatever the case: a public check's name where it makes a usable variable
    name; a hidden check only its number among the hidden ones (its name is not the students' to read)."""
    ids: list[str] = []
    taken: set[str] = set()
    hidden = 0
    for result in results:
        if result.visibility == "hidden":
            hidden += 1
            base = f"hidden_check_{hidden}"
        else:
            base = result.name if _RUNNER_ID.fullmatch(result.name) else re.sub(r"[^A-Za-z0-9_]", "_", result.name)
        if not _RUNNER_ID.fullmatch(base) or base.upper().startswith(_RESERVED_PREFIXES):
            base = f"check_{base}"
        candidate, number = base, 1
        while candidate.upper() in taken:
            number += 1
            candidate = f"{base}_{number}"
        taken.add(candidate.upper())
        ids.append(candidate)
    return ids


def shares(score: float, maximum: float) -> tuple[int, int, bool]:
    """(passing parts, parts, exact): the fewest equal parts whose passing share is score/maximum."""
    if score >= maximum:
        return 1, 1, True
    if score <= 0:
        return 0, 1, True
    share = (Fraction(score) / Fraction(maximum)).limit_denominator(MAX_PARTS)
    if share.numerator == 0:  # less than half of the smallest part: still show that something was earned
        share = Fraction(1, MAX_PARTS)
    elif share.numerator == share.denominator:
        share = Fraction(MAX_PARTS - 1, MAX_PARTS)
    passed, parts = share.numerator, share.denominator
    return passed, parts, math.isclose(passed / parts * maximum, score, rel_tol=1e-12, abs_tol=1e-9)


def _budget(count: int) -> int:
    return max(MIN_RUNNER_BYTES, min(RUNNER_BYTES, ALL_RUNNERS_BYTES // max(count, 1)))


def _encoded_size(json_bytes: int) -> int:
    return 4 * math.ceil(json_bytes / 3)


def _json_bytes(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def _results(result: CheckResult, title: str, message: str, *, test_code: str) -> dict[str, Any]:
    passed, parts, _ = shares(result.score, result.max_score)
    first_failing = min(passed, parts - 1)  # or the only part: it holds the message and the check's status
    tests = []
    for index in range(parts):
        test: dict[str, Any] = {
            "name": title if index == 0 else f"[part {index + 1} of {parts}]",
            "status": "pass" if index < passed else (_STATUS[result.status] if index == first_failing else "fail"),
            "score": result.score if index == 0 else 0,  # the annotation adds these: the score sits on part 1
            "line_no": 0,  # the reporter prints " - line N" unless this is 0
        }
        if index == 0:
            if parts > 1:
                test["name"] = f"{title} [part 1 of {parts}]"
            test.update(max_score=result.max_score, test_code=test_code, filename="",
                        execution_time=f"{result.shown_seconds:.2f}s")
        if index == first_failing:
            test["message"] = message
        tests.append(test)
    return {"version": 1, "status": _STATUS[result.status], "max_score": result.max_score, "tests": tests}


def _cut_to(text: str, room: int) -> str:
    """The longest prefix of text whose JSON string body takes at most room bytes."""
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if _json_bytes(text[:middle]) - 2 <= room:
            low = middle
        else:
            high = middle - 1
    return text[:low]


def _fitted(title: str, message: str, build, budget: int) -> tuple[str, str, int]:
    """title and message cut so that the encoded results fit budget; and how many characters were left out."""
    limit = budget // 4 * 3  # JSON bytes whose base64 fits the budget
    skeleton = _json_bytes(build(title, ""))
    if skeleton + _json_bytes(message) - 2 <= limit:
        return title, message, 0
    room = limit - skeleton - (_json_bytes(_CUT_NOTE) - 2)
    if room < 0:  # not even the note fits beside the title: keep what of the title does (once per part)
        bare = build("", "")
        title = _cut_to(title, max((limit - _json_bytes(bare)) // len(bare["tests"]), 0))
        return title, "", len(message)
    kept = _cut_to(message, room)
    return title, kept + _CUT_NOTE, len(message) - len(kept)


def runners(report: SubmissionReport) -> tuple[Runner, ...]:
    """The reporter's input: one runner per check, each within its budget."""
    if not report.results:  # the reporter divides by the number of tests: give it one, worth nothing
        empty = {"version": 1, "status": "pass", "max_score": 0, "tests": [
            {"name": "no checks ran", "status": "pass", "score": 0, "max_score": 0, "message": "",
             "test_code": "", "filename": "", "line_no": 0, "execution_time": ""}]}
        return (Runner("grade", "no checks ran", empty, _encode(empty), 0, 1, 1, True),)
    budget = _budget(len(report.results))
    made = []
    for runner_id, result in zip(runner_ids(report.results), report.results):
        test_code = f"grade {report.assignment} --only {result.name}" if result.visibility == "visible" else ""

        build = partial(_results, result, test_code=test_code)
        title, message, cut = _fitted(_shown(result.title), _shown(check_text(result, report.assignment)),
                                      build, budget)
        results = build(title, message)
        value = _encode(results)
        if len(value) > budget:
            raise GraderError(f"the grading reporter's input for {result.name} is {len(value)} bytes, over its "
                              f"budget of {budget}: a bug in the grader")
        passed, parts, exact = shares(result.score, result.max_score)
        made.append(Runner(runner_id, result.title, results, value, cut, parts, passed, exact))
    return tuple(made)


def _encode(results: dict[str, Any]) -> str:
    data = json.dumps(results, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.b64encode(data).decode("ascii")


def step_summary(report: SubmissionReport, made: tuple[Runner, ...]) -> str:
    """The job summary: the student's feedback, after a word on anything the reporter's log shows differently."""
    notes = []
    cut = [r for r in made if r.cut]
    if cut:
        which = ("every check" if len(cut) == len(made) else
                 ", ".join(markdown.escape(r.title) for r in cut))
        notes.append(f"In the grading reporter's log the messages of {which} are cut short: its input travels in "
                     f"environment variables, which Linux limits in size, so each check gets at most "
                     f"{_budget(len(made)):,} bytes there. Everything is shown in full below.")
    split = [r for r in made if r.parts > 1]
    if split:
        notes.append("The grading reporter counts a check's points as all or nothing, so a check that earned part "
                     "of its points is listed there as equal parts, as many of them passing as its share: "
                     + ", ".join(f"{markdown.escape(r.title)} ({r.passed_parts} of {r.parts})" for r in split) + ".")
        rounded = [r for r in split if not r.exact]
        if rounded:
            notes.append(f"For {', '.join(markdown.escape(r.title) for r in rounded)} that share is the closest "
                         f"one of at most {MAX_PARTS} parts, so the reporter's points differ slightly from "
                         "the exact score here.")
    head = "".join(f"> {note}\n>\n" for note in notes)[:-2] + "\n" if notes else ""
    return _bounded(head + markdown.render(report), report.assignment)


def _bounded(page: str, assignment: str) -> str:
    """page cut, if need be, to what GitHub shows, at a character boundary, with any open code fence closed."""
    if len(page.encode("utf-8")) <= SUMMARY_LIMIT:
        return page
    tail = (f"\n\n_The rest of this summary is cut: GitHub shows at most {SUMMARY_LIMIT // 1024} KiB here. "
            f"`grade {assignment}` on your own machine shows everything._\n")
    room = SUMMARY_LIMIT - len(tail.encode("utf-8")) - 64  # 64: a closing fence, if one is needed
    kept = page.encode("utf-8")[:room].decode("utf-8", errors="ignore")
    fence = None
    for line in kept.split("\n"):
        if fence is None and re.fullmatch(r"(`{3,})\w*", line):
            fence = re.match(r"`+", line).group()
        elif fence is not None and line == fence:
            fence = None
    return kept + (f"\n{fence}" if fence else "") + tail


@dataclass(frozen=True)
class StepFiles:
    """What the grading step appends to the files the runner names in its variables."""

    output: str   # $GITHUB_OUTPUT: runners=<ids>
    env: str      # $GITHUB_ENV: <ID>_RESULTS=<base64> per check
    summary: str  # $GITHUB_STEP_SUMMARY


def step_files(report: SubmissionReport) -> StepFiles:
    made = runners(report)
    return StepFiles(
        output=f"runners={','.join(r.id for r in made)}\n",
        env="".join(f"{r.variable}={r.value}\n" for r in made),
        summary=step_summary(report, made),
    )
