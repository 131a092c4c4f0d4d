"""--format json: the JSON report (schema version 1)."""

from __future__ import annotations

from grader.model import SubmissionReport
from grader.report import jsonreport
from grader.report.formats import Destination, OutputFormat, write_document


def _write(report: SubmissionReport, destination: Destination) -> bool:
    return write_document(jsonreport.dumps(report), destination)


FORMAT = OutputFormat("json", "", _write, order=1)
