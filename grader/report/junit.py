"""JUnit XML, the test-result format most CI systems read (GitLab, Jenkins, Azure, CircleCI, ...).

One testsuite per assignment, one testcase per check; a failed check is a
<failure>, a check the code raised or timed out in is an <error>. The
structure is the one Jenkins' xUnit plugin validates against (its
junit-10.xsd), which the others read as well: a testcase holds only
failure, error, skipped and system-out/err, so JUnit's lack of points is made
up at two places that schema allows. The suite's <properties> carry the
totals and each check's points (``points.CHECK`` = "score/max"), and each
testcase's <system-out> starts with the check's title and points, for people
reading it in a CI's test view, before what the student's code printed.
Hidden checks carry their short message only. Every line break is written as
``\\n`` (a bare ``\\r`` included).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace

from grader.model import CheckResult, SubmissionReport, format_points
from grader.report.feedback import check_text

# Characters XML 1.0 cannot hold at all; student output may contain any of them.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_LINE_BREAK = re.compile(r"\r\n?")
# GitLab links the job artifact named by [[ATTACHMENT|path]] in a test case's output; a zero-width
# space between the brackets keeps a student's text from naming one.
_ATTACHMENT = re.compile(r"\[(?=\[ATTACHMENT\|)")


def _clean(text: str) -> str:
    return _ATTACHMENT.sub("[\u200b", _NOT_XML.sub("\ufffd", _LINE_BREAK.sub("\n", text)))


def _seconds(value: float) -> str:
    # junit-10.xsd's SUREFIRE_TIME: digits, at most three decimals, no exponent.
    return f"{max(value, 0.0):.3f}"


def _points(result: CheckResult) -> str:
    return f"{format_points(result.score)}/{format_points(result.max_score)}"


def _first_line(text: str) -> str:
    return _clean(text).split("\n", 1)[0]


def render(report: SubmissionReport) -> str:
    failures = report.count("failed")
    errors = report.count("error") + report.count("timeout")
    counts = {"tests": str(len(report.results)), "failures": str(failures), "errors": str(errors)}
    # Times as students may see them: a hidden check's code could take as long as its input says.
    suites = ET.Element("testsuites", name=_clean(report.assignment), **counts, time=_seconds(report.shown_seconds))
    suite = ET.SubElement(suites, "testsuite", name=_clean(report.assignment), **counts, skipped="0",
                          time=_seconds(report.shown_seconds))
    properties = ET.SubElement(suite, "properties")
    values = [("submission", report.submission), ("score", format_points(report.score)),
              ("max_score", format_points(report.max_score)), ("seed", str(report.seed)),
              ("device", report.device), ("hidden_not_run", str(report.hidden_not_run))]
    values += [(f"points.{result.name}", _points(result)) for result in report.results]
    for name, value in values:
        ET.SubElement(properties, "property", name=_clean(name), value=_clean(value))
    for result in report.results:
        function = result.functions[0] if result.functions else "checks"
        case = ET.SubElement(suite, "testcase", name=_clean(result.name),
                             classname=_clean(f"{report.assignment}.{function}"), time=_seconds(result.shown_seconds))
        if not result.passed:
            tag = "failure" if result.status == "failed" else "error"
            problem = ET.SubElement(case, tag, message=_first_line(result.message or result.status),
                                    type=result.status)
            # What the code printed goes to system-out only.
            problem.text = _clean(check_text(replace(result, output=""), report.assignment))
        shown = f"{result.title}\nPoints: {_points(result)}"
        if result.output:
            shown += "\n\nYour code printed:\n" + result.output
        ET.SubElement(case, "system-out").text = _clean(shown)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
