"""Student values are data: a beginner's mistake is a plain failure (exit status 1), never a grader fault.

Each fixture is a submission as a student writes it, with one kind of value
the checks used to crash on: None from a forgotten return, a generator where
a list is expected, a NumPy array where a tensor is expected, one value where a
pair is expected, an integer too large for a float, an input reshaped in
place. Before, each made `grade` exit 2 as for a configuration problem (and
Gradescope blame the autograder); each is now graded to the end.

A genuine fault of the grader (here a course check that divides by zero) exits
with 3, pytest's internal error, and says nothing a student could take for a
fault of theirs or use to name a hidden check.
"""

from __future__ import annotations

import json
import shutil

import pytest

from grader.api import grade
from grader.cli import ExitCode, exit_code, main
from grader.course import load_assignment

from .conftest import COURSE, FIXTURES, TEST_LIMITS

LIMITS = TEST_LIMITS.__class__(call_timeout=60.0, load_timeout=60.0, memory_mb=2048)

MISTAKES = [
    # (assignment, fixture, check, words the student reads there)
    ("assignment1", "forgets_return.py", "like_matches_shape_dtype_and_device",
     "like(t) must return a dict. It returned None."),
    ("assignment1", "forgets_return.py", "tensor_from_list_keeps_values_and_dtype",
     "returned the wrong kind of value. It returned None; expected a torch.Tensor. Did you forget a return statement?"),
    ("assignment1", "batches_generator.py", "make_batches_of_128",
     "make_batches(data) must return a list of tensors. It returned a generator object."),
    ("assignment1", "like_numpy_rand.py", "like_matches_shape_dtype_and_device",
     'like(t)["rand"] returned the wrong kind of value. It returned a NumPy array of shape (3, 4) and dtype float64; '
     "expected a torch.Tensor. Convert it with torch.as_tensor(...)."),
    ("assignment1", "single_values_for_pairs.py", "vector_norms_l1_and_l2",
     "vector_norms(v) must return a pair (L1, L2). It returned a torch.Tensor of shape () and dtype float32."),
    ("assignment1", "single_values_for_pairs.py", "concatenate_both_ways",
     "concatenate(x, y) must return a pair. It returned a torch.Tensor of shape (6, 4) and dtype float32."),
    ("assignment2", "forgets_return.py", "naive_add_values", "Did you forget a return statement?"),
    ("assignment2", "forgets_return.py", "naive_add_keeps_inputs",
     "Not checked: naive_add does not yet return correct values."),
    ("assignment2", "huge_integer.py", "naive_vector_dot_values",
     "returned a number too large to be a float. It returned the number (an integer of about 401 digits)"),
    ("assignment2", "reshapes_input_in_place.py", "naive_relu_keeps_input",
     "naive_relu(x) changed its input x. Your function changed x in place: it was a NumPy array of shape (4, 3) and "
     "dtype float64 and is now a NumPy array of shape (12,) and dtype float64."),
    ("assignment3", "forgets_return.py", "mse_loss_values", "Did you forget a return statement?"),
    ("assignment3", "forgets_return.py", "gradients_at_start", "wrong for w1 (missing or not a number)"),
    ("assignment3", "huge_integer.py", "mse_loss_values", "returned a number too large to be a float."),
    ("assignment3", "huge_integer.py", "feedforward_at_start", "returned a number too large to be a float."),
    ("assignment4", "forgets_return.py", "synthetic_data_statistics", "must return a pair. It returned None."),
    ("assignment4", "forgets_return.py", "spiral_classifier_accuracy",
     "train_spiral_classifier must return the trained network (an nn.Module). It returned None."),
    ("assignment4", "numpy_synthetic_data.py", "synthetic_data_statistics",
     "X from synthetic_data is not a tensor. It is a NumPy array of shape (20000, 2) and dtype float64."),
]
CASES = sorted({(assignment, fixture) for assignment, fixture, _, _ in MISTAKES})


@pytest.fixture(scope="module")
def servers(server, torch_server):
    return {"numpy": server, "torch": torch_server}


@pytest.mark.parametrize("assignment, fixture", CASES, ids=[f"{a}-{f}" for a, f in CASES])
def test_a_mistake_in_a_students_value_is_a_plain_failure_with_exit_status_1(servers, assignment, fixture):
    course = load_assignment(COURSE, assignment)
    server = servers["torch" if "torch" in course.preload else "numpy"]
    report = grade(course, FIXTURES / assignment / fixture, server=server, limits=LIMITS)  # raises on a grader fault
    assert exit_code(report) == ExitCode.POINTS_LOST
    results = {r.name: r for r in report.results}
    for check, words in [(c, w) for a, f, c, w in MISTAKES if (a, f) == (assignment, fixture)]:
        result = results[check]
        assert result.score == 0 and result.status in ("failed", "error"), result
        assert words in result.message, result.message


def test_the_grade_command_exits_1_for_a_students_mistake(tmp_path, capsys):
    report_path = tmp_path / "report.json"
    submission = FIXTURES / "assignment2" / "huge_integer.py"
    code = main(["assignment2", "--course", str(COURSE), "--submission", str(submission), "--json", str(report_path),
                 "--no-color"])
    assert code == ExitCode.POINTS_LOST == 1, capsys.readouterr().err
    results = {r["name"]: r for r in json.loads(report_path.read_text())["tests"]}
    assert "returned a number too large to be a float" in results["naive_vector_dot_values"]["message"]


def _course_with_a_crashing_hidden_check(tmp_path):
    shutil.copytree(COURSE / "assignments" / "assignment2", tmp_path / "assignments" / "assignment2")
    shutil.copytree(COURSE / "reference" / "assignment2", tmp_path / "reference" / "assignment2")
    checks = tmp_path / "reference" / "assignment2" / "checks.py"
    checks.write_text(checks.read_text().replace(
        '    """naive_add on single-row, single-column and non-square matrices"""\n',
        '    """naive_add on single-row, single-column and non-square matrices"""\n    1 / 0\n'))
    return tmp_path


def test_a_grader_fault_exits_3_and_blames_no_student_nor_names_the_hidden_check(tmp_path, capsys):
    course = _course_with_a_crashing_hidden_check(tmp_path)
    submission = COURSE / "examples" / "assignment2" / "full_marks.py"
    results = tmp_path / "results.json"
    code = main(["assignment2", "--course", str(course), "--submission", str(submission),
                 "--format", "gradescope", "--output", str(results)])
    assert code == ExitCode.INTERNAL == 3
    err = capsys.readouterr().err  # the grader's log: course staff find the check there
    assert "naive_add_edge_shapes" in err and "ZeroDivisionError" in err
    shown = json.loads(results.read_text())  # what Gradescope shows the student
    assert "naive_add_edge_shapes" not in shown["output"] and "ZeroDivisionError" not in shown["output"]
    assert "not a fault of the work being graded" in shown["output"] and shown["score"] == 0


def test_a_configuration_problem_still_exits_2(tmp_path, capsys):
    assert main(["no_such_assignment", "--course", str(COURSE)]) == ExitCode.USAGE == 2
