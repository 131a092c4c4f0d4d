"""--format junit: JUnit XML, which GitLab, Jenkins, Azure Pipelines and most CI systems display."""

from __future__ import annotations

from grader.model import SubmissionReport
from grader.report import junit
from grader.report.formats import Destination, OutputFormat, write_document


def _write(report: SubmissionReport, destination: Destination) -> bool:
    return write_document(junit.render(report), destination)


FORMAT = OutputFormat("junit", "JUnit XML for CI systems", _write, order=5)
