"""--format text: the report for people (the default); with --output, to that file instead."""

from __future__ import annotations

from grader.model import SubmissionReport
from grader.report import text
from grader.report.formats import Destination, OutputFormat
from grader.report.jsonreport import write_atomic


def _write(report: SubmissionReport, destination: Destination) -> bool:
    if destination.output is None:
        return True  # the command prints it, in colour on a terminal
    write_atomic(destination.output, text.render(report, ascii_only=False))
    return False


FORMAT = OutputFormat("text", "default", _write, order=0)
