"""GitHub Actions: the grading reporter's payload, the job summary, and a log students cannot hijack.

``payload`` is the JSON the classroom-resources autograding-grading-reporter
action reads from a step output (base64-encoded): version, status,
max_score and one test per check with its status, score and message.

Student code's text (exception messages, what it printed) reaches the job log
in two ways, and neither may turn into a workflow command such as
``::add-mask::`` or ``::error::``: what ``grade`` prints itself is wrapped in
``::stop-commands::`` with a token generated per run; messages that the
reporter prints later have any line that could start a command defused.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from typing import Any

from grader.model import SubmissionReport
from grader.report.feedback import check_text

_STATUS = {"passed": "pass", "failed": "fail", "error": "error", "timeout": "error"}
# The runner reads a command from a line that starts, after spaces, with "::" (or the older "##[").
_COMMAND_LINE = re.compile(r"^(\s*)(::|##\[)", re.MULTILINE)
# A full-width colon or number sign looks the same to a reader and means nothing to the runner.
_INERT = {"::": "\uff1a:", "##[": "#\uff03["}


def defuse(text: str) -> str:
    """text with every line that the runner could read as a workflow command made inert."""
    return _COMMAND_LINE.sub(lambda m: m.group(1) + _INERT[m.group(2)], text)


def payload(report: SubmissionReport) -> dict[str, Any]:
    tests = [{
        "name": result.title,
        "status": _STATUS[result.status],
        "score": result.score,
        "max_score": result.max_score,
        "message": defuse(check_text(result, report.assignment)),
        "test_code": f"grade {report.assignment} --only {result.name}" if result.visibility == "visible" else "",
        "filename": "",
        "line_no": 0,
        "execution_time": f"{result.seconds:.2f}s",
    } for result in report.results]
    return {
        "version": 1,
        "status": "pass" if report.all_passed else "fail",
        "max_score": report.max_score,
        "tests": tests,
    }


def encoded(report: SubmissionReport) -> str:
    """The step output value: the payload as compact JSON, base64-encoded (one line, nothing to escape)."""
    data = json.dumps(payload(report), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.b64encode(data).decode("ascii")


def guarded_log(text: str, token: str | None = None) -> str:
    """text for the job log with workflow commands switched off around it."""
    token = token or secrets.token_hex(16)
    return f"::stop-commands::{token}\n{defuse(text).rstrip(chr(10))}\n::{token}::\n"
