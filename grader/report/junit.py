"""JUnit XML, the test-result format most CI systems read (GitLab, Jenkins, Azure, CircleCI, ...).

One testsuite per assignment, one testcase per check; a failed check is a
<failure>, a check the code raised or timed out in is an <error>. Points
travel as properties, since JUnit has no notion of them. Hidden checks carry
their short message only.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from grader.model import SubmissionReport, format_points
from grader.report.feedback import check_text

# Characters XML 1.0 cannot hold at all; student output may contain any of them.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def render(report: SubmissionReport) -> str:
    failures = sum(1 for r in report.results if r.status == "failed")
    errors = sum(1 for r in report.results if r.status in ("error", "timeout"))
    suites = ET.Element("testsuites", name=_clean(report.assignment), tests=str(len(report.results)),
                        failures=str(failures), errors=str(errors), time=f"{report.seconds:.3f}")
    suite = ET.SubElement(suites, "testsuite", name=_clean(report.assignment), tests=str(len(report.results)),
                          failures=str(failures), errors=str(errors), skipped="0", time=f"{report.seconds:.3f}")
    properties = ET.SubElement(suite, "properties")
    for name, value in (("submission", report.submission), ("score", format_points(report.score)),
                        ("max_score", format_points(report.max_score)), ("seed", str(report.seed)),
                        ("device", report.device), ("hidden_not_run", str(report.hidden_not_run))):
        ET.SubElement(properties, "property", name=name, value=_clean(value))
    for result in report.results:
        function = result.functions[0] if result.functions else "checks"
        case = ET.SubElement(suite, "testcase", name=_clean(result.name),
                             classname=_clean(f"{report.assignment}.{function}"), time=f"{result.seconds:.3f}")
        case_properties = ET.SubElement(case, "properties")
        for name, value in (("title", result.title), ("score", format_points(result.score)),
                            ("max_score", format_points(result.max_score)), ("visibility", result.visibility)):
            ET.SubElement(case_properties, "property", name=name, value=_clean(value))
        if not result.passed:
            tag = "failure" if result.status == "failed" else "error"
            problem = ET.SubElement(case, tag, message=_clean(result.message.splitlines()[0] if result.message else
                                                              result.status), type=result.status)
            problem.text = _clean(check_text(result, report.assignment))
        if result.output:
            ET.SubElement(case, "system-out").text = _clean(result.output)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
