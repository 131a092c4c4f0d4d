"""What each platform's own consumer makes of our files, written from that consumer's source or schema.

Not our schemas in ci/schemas/ (written from the same reading as the writers), but:

- the GitHub grading reporter (classroom-resources/autograding-grading-reporter, tag v1): how it
  reads its input (src/main.js) and the figures it prints (src/helpers/test-helpers.js,
  src/console-results.js, src/aggregate-results.js, src/notify-classroom.js), encoded below;
- Linux, which refuses to start a process whose environment holds one NAME=value string over
  131,072 bytes (MAX_ARG_STRLEN): the reporter's input travels in environment variables;
- Jenkins xUnit's junit-10.xsd (tests/data/junit-10.xsd, MIT-licensed, from jenkinsci/xunit-plugin,
  src/main/resources/org/jenkinsci/plugins/xunit/types/model/xsd/), junitparser, and the JUnit
  readers of GitLab (lib/gitlab/ci/parsers/test/junit.rb) and Azure Pipelines
  (azure-pipelines-agent, src/Agent.Worker/TestResults/JunitResultReader.cs);
- Gradescope's autograder specification (its "Controlling Test Case Visibility" section);
- Classroom 50's whole points.

The same submissions (the examples, and a chatty one that prints a megabyte of Chinese text and
emoji per call) must come out with grade's score on every platform.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import junitparser
import pytest
import xmlschema

from grader.api import grade
from grader.course import load_assignment
from grader.model import CheckResult, SubmissionReport
from grader.report import classroom50, github, gradescope, junit

from .conftest import COURSE, FIXTURES

CHATTY = FIXTURES / "assignment2" / "prints_cjk.py"
SUBMISSIONS = {
    "assignment1 full marks": ("assignment1", COURSE / "examples" / "assignment1" / "full_marks.py"),
    "assignment2 full marks": ("assignment2", COURSE / "examples" / "assignment2" / "full_marks.py"),
    "assignment2 common mistakes": ("assignment2", COURSE / "examples" / "assignment2" / "common_mistakes.py"),
    "assignment2 chatty": ("assignment2", CHATTY),
    "assignment3 full marks": ("assignment3", COURSE / "examples" / "assignment3" / "full_marks.py"),
    "assignment4 full marks": ("assignment4", COURSE / "examples" / "assignment4" / "full_marks.py"),
}
JUNIT_XSD = Path(__file__).parent / "data" / "junit-10.xsd"


@pytest.fixture(scope="module")
def graded():
    """Each submission graded once through grade's library entry point, on first use."""
    reports: dict[str, SubmissionReport] = {}

    def report(key: str) -> SubmissionReport:
        if key not in reports:
            name, path = SUBMISSIONS[key]
            reports[key] = grade(load_assignment(COURSE, name), path, device="cpu")
        return reports[key]

    return report


@pytest.fixture(scope="module")
def mistakes(graded):
    return graded("assignment2 common mistakes")


@pytest.fixture(scope="module")
def chatty(graded):
    return graded("assignment2 chatty")


# -- the grading reporter ----------------------------------------------------------------------------


def reporter_reads(files: github.StepFiles) -> list[tuple[str, dict]]:
    """What the reporter's src/main.js reads: `runners` split on ",", then for each runner
    process.env[`${runner.trim().toUpperCase()}_RESULTS`], base64-decoded as UTF-8 and JSON.parse'd.
    The runner ids come from the grading step's output, the variables from $GITHUB_ENV."""
    outputs = dict(line.split("=", 1) for line in files.output.splitlines())
    env = dict(line.split("=", 1) for line in files.env.splitlines())
    return [(runner, json.loads(base64.b64decode(env[f"{runner.strip().upper()}_RESULTS"]).decode("utf-8")))
            for runner in outputs["runners"].split(",")]


def reporter_prints(runs: list[tuple[str, dict]]) -> dict:
    """The figures the reporter prints, by its own formulas.

    - Per runner, src/helpers/test-helpers.js getTestScore: (tests whose status is "pass" /
      tests.length) * (max_score || 0); src/console-results.js prints it as
      "Total points for RUNNER: score.toFixed(2)/max_score" when max_score is not 0.
    - src/aggregate-results.js: a table row per runner and a total row, the sums of those scores
      and of the max_scores.
    - src/notify-classroom.js: the annotation "Points T/M", T the sum of tests[].score and M the
      sum of max_score over runners whose max_score is truthy.
    """
    lines, total, maximum = [], 0.0, 0.0
    notice_points, notice_max = 0.0, 0.0
    for runner, results in runs:
        runner_max = results["max_score"] or 0
        score = sum(1 for t in results["tests"] if t["status"] == "pass") / len(results["tests"]) * runner_max
        if runner_max != 0:
            lines.append(f"Total points for {runner}: {score:.2f}/{runner_max:g}")
        total += score
        maximum += runner_max
        if results["max_score"]:
            notice_max += results["max_score"]
            notice_points += sum(t["score"] for t in results["tests"])
    return {"lines": lines, "total": total, "max": maximum, "notice": (notice_points, notice_max),
            "failed": any(r["status"] in ("fail", "error") for _, r in runs)}


def _report(*results: CheckResult) -> SubmissionReport:
    return SubmissionReport("a9", "s.py", results, seed=1, device="cpu")


def _check(name, status="passed", score=1.0, maximum=1.0, message="", visibility="visible", output=""):
    return CheckResult(name, f"{name} title", ("f",), status, score, maximum, message, visibility, output=output)


def test_the_reporter_prints_the_checks_points_not_a_share_of_passing_tests(mistakes):
    printed = reporter_prints(reporter_reads(github.step_files(mistakes)))
    assert (printed["total"], printed["max"]) == (mistakes.score, mistakes.max_score)
    assert printed["notice"] == (mistakes.score, mistakes.max_score)
    assert printed["failed"] and len(printed["lines"]) == len(mistakes.results)
    # The reporter's old input (one runner, 29 tests, max_score the total) printed 20.97/38 for this 20/38.
    passed = sum(r.passed for r in mistakes.results)
    assert passed / len(mistakes.results) * mistakes.max_score != mistakes.score


def test_partial_points_are_parts_whose_share_the_reporter_prints_exactly():
    report = _report(_check("half", "failed", 1.5, 2.5), _check("third", "failed", 1.0, 3.0),
                     _check("whole", "passed", 2.0, 2.0), _check("none", "failed", 0.0, 1.0))
    runs = reporter_reads(github.step_files(report))
    printed = reporter_prints(runs)
    assert printed["total"] == pytest.approx(report.score, abs=1e-12) and printed["max"] == report.max_score
    assert printed["notice"] == (report.score, report.max_score)
    half = dict(runs)["half"]["tests"]
    assert [t["status"] for t in half] == ["pass"] * 3 + ["fail"] * 2  # 1.5 of 2.5 is 3 of 5 parts
    assert "Total points for half: 1.50/2.5" in printed["lines"]
    summary = github.step_files(report).summary
    assert "half title (3 of 5)" in summary and "closest" not in summary


def test_a_share_no_small_fraction_gives_is_rounded_and_the_summary_says_so():
    report = _report(_check("odd", "failed", 0.37, 1.0))
    printed = reporter_prints(reporter_reads(github.step_files(report)))
    assert printed["total"] == pytest.approx(7 / 19)  # the closest share of at most 20 parts
    assert printed["notice"] == (0.37, 1.0)  # the annotation adds the scores, which stay exact
    assert "closest one of at most 20 parts" in github.step_files(report).summary


def test_runner_ids_make_usable_distinct_variables_and_hide_hidden_names():
    report = _report(_check("values"), _check("Values"), _check("github_token"), _check("a-b"),
                     _check("secret_edge_case", visibility="hidden"))
    runs = reporter_reads(github.step_files(report))
    ids = [runner for runner, _ in runs]
    assert len({i.upper() for i in ids}) == len(ids) == 5
    assert ids[2].startswith("check_") and "-" not in ids[3]
    assert ids[4] == "hidden_check_1" and "secret_edge_case" not in github.step_files(report).env


def test_the_chatty_submissions_input_fits_linux_and_says_nothing_was_lost(chatty):
    files = github.step_files(chatty)
    lines = files.env.splitlines()
    assert len(lines) == len(chatty.results)
    assert max(len(line.encode()) + 1 for line in lines) <= github.RUNNER_BYTES + 64 < github.VARIABLE_LIMIT // 4
    assert len(files.env.encode()) <= github.ALL_RUNNERS_BYTES + 64 * len(lines)
    printed = reporter_prints(reporter_reads(files))
    assert (printed["total"], printed["max"]) == (chatty.score, chatty.max_score)
    # What the reporter reads is whole UTF-8 and holds the student's text up to where it was cut.
    messages = [t["message"] for _, r in reporter_reads(files) for t in r["tests"]]
    assert any("梯度下降的学习率太大了🔥🚀" in m for m in messages)
    assert any(m.endswith("the job summary shows this check in full.]") for m in messages)
    assert "are cut short" in files.summary and "Everything is shown in full below" in files.summary
    # A carriage return is a line break to the runner: what follows it is no command either.
    assert not [line for m in messages for line in m.split("\n") if line.lstrip().startswith(("::", "##["))]
    assert not [m for m in messages if "\r" in m]


def test_a_process_starts_with_the_chatty_submissions_variables_and_would_not_with_one_too_long(chatty):
    """The limit is Linux's own: start a real process with the variables the reporter gets."""
    if not sys.platform.startswith("linux"):
        pytest.skip("MAX_ARG_STRLEN is Linux's limit")
    env = {"PATH": os.environ.get("PATH", "")}
    env.update(line.split("=", 1) for line in github.step_files(chatty).env.splitlines())
    count = "import os; print(sum(k.endswith('_RESULTS') for k in os.environ))"
    started = subprocess.run([sys.executable, "-c", count], env=env, capture_output=True, text=True)
    assert started.returncode == 0 and int(started.stdout) == len(chatty.results)
    with pytest.raises(OSError) as refused:  # the check can fail: one variable over the limit
        subprocess.run([sys.executable, "-c", "pass"], env={"ONE_RESULTS": "A" * github.VARIABLE_LIMIT})
    assert refused.value.errno == 7  # E2BIG, "Argument list too long"


def test_a_megabyte_message_is_cut_at_a_character_within_its_budget():
    # About 2.5 MB of UTF-8; the result model keeps its first 4000 characters (grader.model), still more
    # than a runner's budget once four-byte emoji are base64-encoded.
    report = _report(_check("loud", "error", 0.0, 2.0, message="🙈" * 600_000), _check("quiet"))
    text = report.results[0].message
    files = github.step_files(report)
    runs = dict(reporter_reads(files))
    message = runs["loud"]["tests"][0]["message"]
    kept = message[:message.index("\n\n[The rest of this message")]
    assert kept and ("ERROR 0/2\n\n" + text).startswith(kept)
    assert max(len(line) - len(line.split("=", 1)[0]) - 1 for line in files.env.splitlines()) <= github.RUNNER_BYTES
    assert "loud title" in files.summary.split("\n\n")[0] and "quiet title" not in files.summary.split("\n\n")[0]
    printed = reporter_prints(list(runs.items()))
    assert (printed["total"], printed["max"]) == (1.0, 3.0)


@pytest.mark.parametrize("count", [10, 40, 100])
def test_many_checks_share_a_total_budget(count):
    report = _report(*[_check(f"c{i}", "failed", 0.0, 1.0, message="梯" * 20_000) for i in range(count)])
    files = github.step_files(report)
    values = [line.split("=", 1)[1] for line in files.env.splitlines()]
    share = max(github.MIN_RUNNER_BYTES, min(github.RUNNER_BYTES, github.ALL_RUNNERS_BYTES // count))
    assert max(len(v) for v in values) <= share and sum(len(v) for v in values) <= max(
        github.ALL_RUNNERS_BYTES, count * github.MIN_RUNNER_BYTES)
    assert reporter_prints(reporter_reads(files))["max"] == count


def test_a_summary_over_githubs_limit_is_cut_with_its_code_fence_closed():
    output = "x" * 3_000 + "\n"  # the result model keeps 4000 characters of output per check
    report = _report(*[_check(f"c{i}", "failed", 0.0, 1.0, message="m", output=output) for i in range(400)])
    summary = github.step_files(report).summary
    assert len(summary.encode()) <= github.SUMMARY_LIMIT
    assert summary.rstrip().endswith("shows everything._")
    fences = [line for line in summary.splitlines() if line.startswith("```")]
    assert len(fences) % 2 == 0


def test_defuse_treats_a_carriage_return_as_a_line_break():
    assert github.defuse("ok\r::error::x\r\n##[group]y") == "ok\n\uff1a:error::x\n#\uff03[group]y"
    log = github.guarded_log("a\r::endgroup::", token="t" * 32)
    assert "\r" not in log and "\n\uff1a:endgroup::" in log


@pytest.mark.skipif(not os.environ.get("GRADING_REPORTER_JS"),
                    reason="set GRADING_REPORTER_JS to the reporter's dist/main.js (tag v1) to run it for real")
def test_the_real_reporter_prints_grades_total(mistakes, chatty):
    for report in (mistakes, chatty):
        files = github.step_files(report)
        env = {"PATH": os.environ["PATH"], "INPUT_RUNNERS": files.output.split("=", 1)[1].strip()}
        env.update(line.split("=", 1) for line in files.env.splitlines())
        run = subprocess.run(["node", os.environ["GRADING_REPORTER_JS"]], env=env, capture_output=True, text=True)
        total = f"{report.score:g}/{report.max_score:g}"
        assert f"::notice title=Autograding complete::Points {total}" in run.stdout, run.stdout[-2000:]
        row = next(line for line in run.stdout.splitlines() if "Total:" in line)
        assert [cell.strip() for cell in row.split("│")[2:4]] == [f"{report.score:g}", f"{report.max_score:g}"]


# -- JUnit ---------------------------------------------------------------------------------------------


def _report_with_everything() -> SubmissionReport:
    return _report(
        _check("f_values", "passed", 2.0, 2.0),
        _check("f_shape", "failed", 0.0, 1.0, message="f returned shape (3,) \x1b[31m\x00\r::x, expected (3, 1)",
               output="hello\x07\r[[ATTACHMENT|/etc/passwd]]\n"),
        _check("g_hidden", "error", 0.0, 1.0, message="g raised ValueError.", visibility="hidden"),
        _check("g_time", "timeout", 0.0, 1.0, message="g took too long"),
    )


@pytest.fixture(scope="module")
def schema():
    return xmlschema.XMLSchema(JUNIT_XSD)


def test_junit_passes_jenkins_xunit_schema(schema, mistakes, chatty):
    for report in (_report_with_everything(), mistakes, chatty):
        document = junit.render(report)
        errors = [str(e.reason) for e in schema.iter_errors(document)]
        assert not errors, errors[:3]


def test_the_schema_check_can_fail(schema):
    """junit-10.xsd refuses what our JUnit used to write: properties inside a testcase."""
    document = junit.render(_report_with_everything()).replace(
        "<system-out>", '<properties><property name="score" value="2" /></properties><system-out>', 1)
    assert any("properties" in str(e.reason) for e in schema.iter_errors(document))


def test_junitparser_gitlab_and_azure_read_grades_counts(mistakes):
    document = junit.render(mistakes)
    suites = junitparser.JUnitXml.fromstring(document)
    suite = next(iter(suites))
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (
        len(mistakes.results), mistakes.count("failed"), mistakes.count("error") + mistakes.count("timeout"), 0)
    cases = list(suite)
    kinds = [type(case.result[0]).__name__ if case.result else "passed" for case in cases]
    assert kinds.count("Failure") == mistakes.count("failed") and kinds.count("passed") == mistakes.count("passed")
    # GitLab: test cases under at least one level of testsuites/testsuite; the status from the presence
    # of failure, error or skipped. Azure: /testsuites/testsuite/testcase, each with a non-empty name.
    import xml.etree.ElementTree as ET

    root = ET.fromstring(document.split("\n", 1)[1])
    found = root.findall("./testsuite/testcase")
    assert root.tag == "testsuites" and len(found) == len(mistakes.results)
    assert all(case.get("name") and case.get("classname") for case in found)
    statuses = ["failed" if c.find("failure") is not None else "error" if c.find("error") is not None
                else "passed" for c in found]
    expected = ["passed" if r.passed else "failed" if r.status == "failed" else "error" for r in mistakes.results]
    assert statuses == expected
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert float(props["score"]) == mistakes.score and float(props["max_score"]) == mistakes.max_score
    assert props[f"points.{mistakes.results[0].name}"] == "0/2"


def test_junit_text_is_plain_lines_and_cannot_attach_files():
    document = junit.render(_report_with_everything())
    assert "\r" not in document and "&#13;" not in document and "\x00" not in document
    assert "[[ATTACHMENT|" not in document  # GitLab would link a job artifact named by the student
    import xml.etree.ElementTree as ET

    case = ET.fromstring(document.split("\n", 1)[1]).find("./testsuite/testcase[@name='f_shape']")
    assert case.find("system-out").text.startswith("f_shape title\nPoints: 0/1\n\nYour code printed:\nhello")
    assert "hello" not in case.find("failure").text  # printed output sits in system-out only


# -- Gradescope ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("visibility", gradescope.VISIBILITIES)
def test_gradescope_shows_hidden_results_only_when_the_visibility_allows(mistakes, visibility):
    results = gradescope.results(mistakes, hidden_visibility=visibility)
    hidden = [r for r in mistakes.results if r.visibility == "hidden"]
    public = [r for r in mistakes.results if r.visibility == "visible"]
    assert hidden and public and results["score"] == mistakes.score
    text = json.dumps(results, ensure_ascii=False)
    # No hidden check's internal name, details or expected values, at any visibility.
    assert not [r.name for r in hidden if r.name in text]
    assert not [r.details for r in hidden if r.details and r.details in text]
    by_title = {t["name"]: t for t in results["tests"]}
    assert {by_title[r.title]["visibility"] for r in hidden} == {visibility}
    assert {by_title[r.title]["visibility"] for r in public} == {"visible"}
    # Public checks are numbered first, so the numbers students see have no gaps.
    assert [t["number"] for t in results["tests"][:len(public)]] == [str(n) for n in range(1, len(public) + 1)]
    output = results["output"]
    if visibility == "visible":
        assert f"Score: {mistakes.score:g}/{mistakes.max_score:g}" in output and "hidden" in output
    else:  # the top-level output is shown at once: public checks only, nothing about hidden ones
        earned = sum(r.score for r in public)
        assert output.startswith(f"Public checks: {sum(r.passed for r in public)} of {len(public)} passed, "
                                 f"{earned:g}/{sum(r.max_score for r in public):g} points.")
        assert f"{mistakes.score:g}/" not in output and f"/{mistakes.max_score:g}" not in output
        assert "hidden" not in output.lower()
        assert not [r.title for r in hidden if r.title in output]
        assert "Your total score" in output
    assert "max_score" not in results["extra_data"]  # the total's maximum counts the hidden checks' points


def test_gradescope_writes_unix_line_breaks():
    results = gradescope.results(_report_with_everything())
    assert "\r" not in json.dumps(results)


def test_classroom50_test_names_are_one_line():
    report = _report(CheckResult("x", "two\rlines\nhere", ("f",), "passed", 1.0, 1.0, "", "visible"))
    assert classroom50.result(report, {})["tests"][0]["test-name"] == "two lines here"


# -- the same score everywhere ----------------------------------------------------------------------------


@pytest.mark.parametrize("key", list(SUBMISSIONS))
def test_every_consumer_reads_grades_score(graded, key):
    report = graded(key)
    reporter = reporter_prints(reporter_reads(github.step_files(report)))
    scores = {
        "reporter table": (reporter["total"], reporter["max"]),
        "reporter annotation": reporter["notice"],
        "gradescope": (gradescope.results(report)["score"],
                       sum(t["max_score"] for t in gradescope.results(report)["tests"])),
    }
    factor = classroom50.scale_factor(report)
    result = classroom50.result(report, {})
    scores["classroom50"] = (result["score"] / factor, result["max-score"] / factor)
    suite = next(iter(junitparser.JUnitXml.fromstring(junit.render(report))))
    assert set(scores.values()) == {(report.score, report.max_score)}, scores
    assert (suite.tests, suite.failures, suite.errors) == (
        len(report.results), report.count("failed"), report.count("error") + report.count("timeout"))
    assert sum(1 for case in suite if not case.result) == report.count("passed")
