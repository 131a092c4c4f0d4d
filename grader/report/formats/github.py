"""--format github: the grading reporter's step output, one variable per check, and the job summary.

Each goes to the file the runner names ($GITHUB_OUTPUT, $GITHUB_ENV,
$GITHUB_STEP_SUMMARY); outside Actions, what the step would hand on is shown.
"""

from __future__ import annotations

from grader.model import SubmissionReport
from grader.report import github
from grader.report.formats import Destination, OutputFormat


def _write(report: SubmissionReport, destination: Destination) -> bool:
    files = github.step_files(report)
    for variable, content in (("GITHUB_OUTPUT", files.output), ("GITHUB_ENV", files.env),
                              ("GITHUB_STEP_SUMMARY", files.summary)):
        target = destination.environ.get(variable)
        if target:
            with open(target, "a", encoding="utf-8") as sink:
                sink.write(content)
        elif variable != "GITHUB_STEP_SUMMARY":
            destination.stdout.write(content)
    return True


FORMAT = OutputFormat("github", "the grading reporter's step output and a job summary", _write, platform=True,
                      job_log=True, order=4)
