"""--format gradescope: Gradescope's results.json."""

from __future__ import annotations

from grader.model import SubmissionReport
from grader.report import gradescope
from grader.report.formats import Destination, OutputFormat, write_document


def _write(report: SubmissionReport, destination: Destination) -> bool:
    return write_document(gradescope.dumps(report, hidden_visibility=destination.hidden_visibility), destination)


FORMAT = OutputFormat("gradescope", "results.json", _write, platform=True, order=2)
