"""Writers are pure functions of the report: the text for people, JSON for tools."""

import json

from grader.model import CheckResult, LoadNote, SubmissionReport, format_points
from grader.report import jsonreport, text


def result(name="f_values", status="passed", score=2.0, functions=("f",), visibility="visible", message="",
           output=""):
    return CheckResult(name=name, title=f"{name} title", functions=functions, status=status, score=score,
                       max_score=2.0, message=message, visibility=visibility, output=output)


REPORT = SubmissionReport(
    assignment="hw", submission="hw.py", seed=3, device="cpu", hidden_not_run=2, hidden_points_not_run=3.5,
    notes=(LoadNote("dropped", "cell 2, line 1", "skipped `%matplotlib inline`: IPython commands"),),
    results=(
        result(),
        result("g_values", "failed", 0.0, ("g",), message="g(x) returned wrong values. At [0] expected 1, got 2.",
               output="debug print"),
        result("f_edges", "timeout", 0.0, message="f did not finish within 5 s."),
        result("g_edges", "error", 0.0, ("g",), "hidden", message="g raised IndexError."),
    ),
)


def test_text_has_one_line_per_check_grouped_by_function():
    lines = text.render(REPORT, width=100).splitlines()
    check_lines = [line for line in lines if line.split(" ")[0] in ("PASS", "FAIL", "ERROR", "TIMEOUT")]
    assert [line.split()[0] for line in check_lines] == ["PASS", "TIMEOUT", "FAIL", "ERROR"]
    assert check_lines[3].endswith("[hidden]")


def test_text_shows_messages_output_notes_total_and_hidden_count():
    out = text.render(REPORT, width=100)
    assert "hw: hw.py (seed 3)" in out
    assert "cell 2, line 1: skipped `%matplotlib inline`" in out
    assert "g(x) returned wrong values. At [0] expected 1, got 2." in out
    assert "| debug print" in out
    assert "Score: 2/8 (1 passed, 1 failed, 1 error, 1 timed out)" in out
    assert "2 hidden checks (3.5 points) were not run here" in out


def test_text_fits_a_narrow_terminal_and_needs_no_colour():
    out = text.render(REPORT, width=40)
    assert all(len(line) <= 40 for line in out.splitlines())
    assert "\033[" not in out
    assert "\033[32mPASS\033[0m" in text.render(REPORT, colour=True)


def test_repeated_messages_are_not_repeated():
    same = SubmissionReport(assignment="hw", submission="hw.py", seed=0, device="cpu", results=(
        result("a", "error", 0.0, message="f is not implemented yet."),
        result("b", "error", 0.0, message="f is not implemented yet.")))
    out = text.render(same)
    assert out.count("f is not implemented yet.") == 1 and "Same problem as above." in out


def test_json_has_the_documented_schema():
    data = json.loads(jsonreport.dumps(REPORT))
    assert {k: data[k] for k in ("schema_version", "assignment", "submission", "score", "max_score")} == {
        "schema_version": 1, "assignment": "hw", "submission": "hw.py", "score": 2.0, "max_score": 8.0}
    assert data["hidden_not_run"] == 2 and data["notes"][0]["where"] == "cell 2, line 1"
    test = data["tests"][1]
    assert {k: test[k] for k in ("name", "functions", "score", "max_score", "status", "visibility")} == {
        "name": "g_values", "functions": ["g"], "score": 0.0, "max_score": 2.0, "status": "failed",
        "visibility": "visible"}
    assert test["message"].startswith("g(x) returned wrong values") and test["output"] == "debug print"
    assert {t["status"] for t in data["tests"]} <= {"passed", "failed", "error", "timeout"}


def test_json_is_written_atomically(tmp_path):
    target = tmp_path / "out" / "report.json"
    jsonreport.write(REPORT, target)
    assert json.loads(target.read_text())["score"] == 2.0
    assert [p.name for p in target.parent.iterdir()] == ["report.json"]  # no temporary left behind


def test_totals_are_derived_and_points_print_plainly():
    assert (REPORT.score, REPORT.max_score, REPORT.all_passed) == (2.0, 8.0, False)
    assert REPORT.count("timeout") == 1
    assert [format_points(v) for v in (2.0, 1.5, 0.25, 1 / 3)] == ["2", "1.5", "0.25", "0.333333"]


def test_results_refuse_impossible_values():
    import pytest

    with pytest.raises(ValueError):
        result(status="skipped")
    with pytest.raises(ValueError):
        result(score=3.0)


def test_curves_are_drawn_as_sparklines_on_one_scale_and_kept_in_json():
    from grader.model import Curve

    curved = SubmissionReport(assignment="hw", submission="hw.py", seed=0, device="cpu", results=(
        CheckResult(name="train", title="train", functions=("f",), status="passed", score=1.0, max_score=1.0,
                     message="", visibility="visible",
                     curves=(Curve("your loss", (4.0, 2.0, 1.0, 0.0)), Curve("reference", (4.0, 4.0, 4.0, 4.0)))),))
    lines = text.render(curved).splitlines()
    yours = next(line for line in lines if "your loss" in line)
    reference = next(line for line in lines if "reference" in line)
    assert "█▅▃▁" in yours and yours.endswith("4 -> 0")
    assert "████" in reference  # same scale: a flat 4 is drawn at the top
    assert "#" in text.render(curved, ascii_only=True)
    data = json.loads(jsonreport.dumps(curved))
    assert data["tests"][0]["curves"][0] == {"label": "your loss", "values": [4.0, 2.0, 1.0, 0.0]}
