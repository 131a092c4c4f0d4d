"""--format classroom50: result.json and release-body.md, into --output (a folder) or here."""

from __future__ import annotations

from pathlib import Path

from grader.model import SubmissionReport
from grader.report import classroom50
from grader.report.formats import Destination, OutputFormat
from grader.report.jsonreport import write_atomic


def _write(report: SubmissionReport, destination: Destination) -> bool:
    folder = destination.output or Path.cwd()
    write_atomic(folder / "result.json", classroom50.dumps(report, destination.environ))
    write_atomic(folder / "release-body.md", classroom50.release_body(report))
    return True


FORMAT = OutputFormat("classroom50", "result.json and release-body.md", _write, platform=True, job_log=True, order=3)
