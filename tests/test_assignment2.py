"""Assignment 2 end to end: reference, template, and one fixture per failure mode.

Each fixture under tests/fixtures/assignment2/ is a tiny submission that does
one thing wrong (or hostile); the test states what it should score and what
the student should read.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

import grader
from grader.course import load_assignment
from grader.report import text

from .conftest import COURSE, FIXTURES, TEST_LIMITS, by_name, function_results, zygote_pid

FUNCTIONS = ("naive_relu", "naive_add", "naive_add_matrix_and_vector", "naive_vector_dot",
             "naive_matrix_vector_dot", "naive_matrix_dot", "naive_broadcast_add")


def full_marks(report, function):
    results = function_results(report, function)
    return bool(results) and all(r.status == "passed" and r.score == r.max_score for r in results)


def no_points(report, function):
    return all(r.score == 0 for r in function_results(report, function))


def messages(report, function):
    return " ".join(r.message for r in function_results(report, function))


# --- reference, template, notebook twin ------------------------------------------------


def test_student_style_solution_gets_full_marks(grade2):  # the reference's: test_bundled_course_is_sound
    report = grade2(COURSE / "examples" / "assignment2" / "full_marks.py")
    assert report.all_passed, [r.message for r in report.results if not r.passed]
    assert {f for r in report.results for f in r.functions} == set(FUNCTIONS)


@pytest.mark.parametrize("template", ["assignment2.py", "assignment2.ipynb"])
def test_untouched_template_scores_zero(grade2, template):
    report = grade2(COURSE / "assignments" / "assignment2" / template)
    assert report.score == 0 and report.max_score > 0
    assert all(r.status == "error" for r in report.results)
    assert all("not implemented yet" in r.message for r in report.results)


def test_students_copy_runs_public_checks_and_counts_hidden_ones(tmp_path, server):
    from grader.api import grade
    from grader.platforms.release import build_release

    build_release(COURSE, "assignment2", tmp_path / "copy")  # which writes the hidden checks' count and points
    assignment = load_assignment(tmp_path / "copy", "assignment2")

    report = grade(assignment, COURSE / "examples" / "assignment2" / "full_marks.py", server=server, limits=TEST_LIMITS)
    assert report.all_passed
    assert all(r.visibility == "visible" for r in report.results)
    assert report.hidden_not_run == 8 and report.hidden_points_not_run == 9
    assert "8 hidden checks (9 points) were not run here" in text.render(report)


# --- seeds --------------------------------------------------------------------------------


def test_same_seed_reproduces_a_run_and_another_seed_draws_other_inputs(grade2):
    first, again, other = (grade2("wrong_shape.py", seed=s) for s in (7, 7, 8))
    assert [r.message for r in first.results] == [r.message for r in again.results]
    assert first.seed == 7 and other.seed == 8
    mutated = [grade2("mutates_inputs.py", seed=s) for s in (7, 8)]
    keep = [by_name(r)["naive_add_keeps_inputs"].message for r in mutated]
    assert keep[0] != keep[1]  # the values shown differ: other inputs were drawn


# --- submissions that break ---------------------------------------------------------------


def test_exception_at_import_keeps_what_was_defined(grade2):
    report = grade2("exception_at_import.py")
    assert full_marks(report, "naive_relu") and full_marks(report, "naive_add")
    assert any(n.kind == "exception" and "NameError" in n.text and n.where == "line 14" for n in report.notes)
    assert "not defined" in messages(report, "naive_vector_dot")


def test_sys_exit_at_import_is_a_note_not_the_end(grade2):
    report = grade2("sys_exit_at_import.py")
    assert full_marks(report, "naive_relu")
    assert any("exit()" in n.text and n.where == "line 4" for n in report.notes)


def test_os_exit_at_import_fails_every_check_with_the_reason(grade2):
    report = grade2("os_exit_at_import.py")
    assert report.score == 0
    assert all(r.status == "error" and "while loading your file" in r.message for r in report.results)


def test_sys_exit_in_a_function_costs_only_that_function(grade2):
    report = grade2("sys_exit_in_function.py")
    assert full_marks(report, "naive_relu")
    assert all(r.status == "error" for r in function_results(report, "naive_add"))
    assert "called exit()" in messages(report, "naive_add")


def test_os_exit_in_a_function_costs_only_that_function(grade2):
    report = grade2("os_exit_in_function.py")
    assert full_marks(report, "naive_relu")
    assert "exited with status 3" in messages(report, "naive_add")
    assert "fresh process" in messages(report, "naive_add")


def test_infinite_loop_times_out_once_and_grading_carries_on(grade2):
    started = time.perf_counter()
    report = grade2("infinite_loop.py")
    elapsed = time.perf_counter() - started
    assert full_marks(report, "naive_relu")
    add = function_results(report, "naive_add")
    assert all(r.status == "timeout" and r.score == 0 for r in add)
    assert "did not finish within 2 s" in add[0].message
    assert "did not wait for it again" in add[1].message
    assert elapsed < 3 * TEST_LIMITS.call_timeout  # one wait, not one per check


def test_memory_hog_is_stopped_at_the_limit(grade2):
    report = grade2("memory_hog.py")
    assert full_marks(report, "naive_relu")
    add = messages(report, "naive_add")
    assert "more than the 512 MB of memory" in add
    assert all(r.status == "error" for r in function_results(report, "naive_add"))


def test_segfault_is_a_crash_result(grade2):
    report = grade2("segfault.py")
    assert full_marks(report, "naive_relu")
    assert "SIGSEGV" in messages(report, "naive_add")


def test_syntax_error_names_the_line(grade2):
    report = grade2("syntax_error.py")
    assert report.score == 0
    assert all("syntax error at line 4" in r.message for r in report.results)
    assert "expected ':'" in report.results[0].message


def test_notebook_magics_run_as_in_jupyter_and_what_cannot_is_listed(grade2):
    report = grade2("notebook_magics.ipynb")
    assert full_marks(report, "naive_relu") and full_marks(report, "naive_add")  # %%time and %timeit ran
    dropped = {(n.where, n.text.split("`")[1] if "`" in n.text else n.text)
               for n in report.notes if n.kind == "dropped"}
    assert dropped == {("cell 2, line 3", "!pip install numpy"), ("cell 2, line 4", "!ls"),
                       ("cell 3, line 1", "%%bash")}
    assert "whole cell" in next(n.text for n in report.notes if n.where == "cell 3, line 1")
    assert not [n for n in report.notes if n.kind != "dropped"]  # %matplotlib inline and naive_add? are fine


def test_notebook_errors_name_the_cell_and_spare_other_cells(grade2):
    report = grade2("notebook_errors.ipynb")
    assert full_marks(report, "naive_relu") and full_marks(report, "naive_vector_dot")
    notes = {n.where: n for n in report.notes}
    assert notes["cell 3, line 1"].kind == "syntax_error" and "expected ':'" in notes["cell 3, line 1"].text
    assert notes["cell 4, line 1"].kind == "exception" and "NameError" in notes["cell 4, line 1"].text


# --- wrong answers ----------------------------------------------------------------------


@pytest.mark.parametrize("fixture, phrase", [
    ("returns_nan.py", "NaN where"),
    ("returns_lists.py", "returned a list of length 3; expected a NumPy array"),
    ("wrong_shape.py", "Its shape is (4, 3); expected (3, 4) (transposed?)"),
    ("wrong_dtype.py", "Its dtype is float32; expected float64"),
])
def test_wrong_values_types_shapes_and_dtypes_fail_with_the_reason(grade2, fixture, phrase):
    report = grade2(fixture)
    values = by_name(report)["naive_add_values"]
    assert values.status == "failed" and values.score == 0
    assert phrase in values.message
    hidden = by_name(report)["naive_add_edge_shapes"]
    assert hidden.status == "failed" and hidden.details  # specifics kept for staff only


@pytest.mark.parametrize("fixture", ["does_nothing.py", "always_raises.py"])
def test_a_submission_that_computes_nothing_scores_zero(grade2, fixture):
    # Before properties required working values, these scored 7/38 and 8/38: "leaves its inputs
    # unchanged" paid a bare pass, and "raises an error on bad shapes" paid a function that always raises.
    report = grade2(fixture)
    assert report.score == 0
    for function in FUNCTIONS:
        keeps = next(r for r in function_results(report, function) if "keeps_input" in r.name)
        assert keeps.message.startswith(f"Not checked: {function} does not yet return correct values."), keeps.message


@pytest.mark.parametrize("function, words", [
    ("naive_add", "naive_add(x, y) for shapes (5,) and (5,) raised IndexError, not AssertionError or ValueError."),
    ("naive_add_matrix_and_vector", "naive_add_matrix_and_vector(x, y) for shapes (4,) and (4,) raised IndexError"),
    ("naive_vector_dot", "naive_vector_dot(x, y) for shapes () and () raised IndexError"),
    ("naive_matrix_vector_dot",
     "naive_matrix_vector_dot(x, y) for shapes (0, 4) and (3,) did not raise AssertionError or ValueError."),
    ("naive_matrix_dot", "naive_matrix_dot(x, y) for shapes (0, 4) and (3, 2) did not raise"),
])
def test_shape_checks_must_cover_ranks_and_matrices_without_rows(grade2, function, words):
    # Each of these survived grade check as a mutant of the reference (an assert deleted) before the
    # rejects_bad_shapes checks gave wrong ranks and a matrix with no rows.
    report = grade2("checks_sizes_not_ranks.py", only=(function,))
    rejects = by_name(report)[f"{function}_rejects_bad_shapes"]
    assert rejects.status == "failed" and rejects.score == 0 and words in rejects.message, rejects.message
    others = [r for r in function_results(report, function) if r is not rejects]
    assert others and all(r.passed for r in others), [(r.name, r.message) for r in others if not r.passed]


def test_mutating_inputs_loses_the_inputs_check_only(grade2):
    report = grade2("mutates_inputs.py")
    results = by_name(report)
    assert results["naive_add_values"].passed
    keeps = results["naive_add_keeps_inputs"]
    assert keeps.status == "failed" and "changed its input x" in keeps.message and "x.copy()" in keeps.message


def test_missing_function_suggests_the_near_miss(grade2):
    report = grade2("missing_function.py")
    assert all(r.status == "error" for r in function_results(report, "naive_add"))
    assert "Did you mean naive_addd?" in messages(report, "naive_add")


def test_whole_array_arithmetic_earns_nothing_and_says_why(grade2):
    report = grade2("whole_array.py")
    for function, evidence in [("naive_relu", "np.maximum(x, 0)"), ("naive_add", "x + y"),
                               ("naive_vector_dot", "np.dot(x, y)"), ("naive_matrix_dot", "x @ y"),
                               ("naive_broadcast_add", "np.broadcast_to")]:
        results = function_results(report, function)
        assert no_points(report, function), function
        assert all(r.status == "failed" for r in results), function
        assert all(f"No points for {function}" in r.message for r in results), function
        assert evidence in results[0].message, function


def test_disguised_whole_array_arithmetic_is_caught_while_it_runs(grade2):
    report = grade2("whole_array_disguised.py")
    for function in ("naive_add", "naive_add_matrix_and_vector", "naive_matrix_vector_dot"):
        assert no_points(report, function)
        assert "while it ran it used whole-array operations" in messages(report, function)
    assert "`row + y`" in messages(report, "naive_add_matrix_and_vector")


# --- hostile submissions ------------------------------------------------------------------


def test_fake_report_output_cannot_pass_for_the_real_one(course, capsys, monkeypatch):
    from grader.cli import main

    monkeypatch.chdir(course)
    code = main(["assignment2", "--submission", str(FIXTURES / "assignment2" / "fake_report.py"), "--no-color"])
    out = capsys.readouterr().out
    assert code == 1
    fake_lines = [line for line in out.splitlines() if "38/38" in line]
    assert fake_lines and all(line.lstrip().startswith("|") for line in fake_lines)
    assert out.rstrip().splitlines()[-1].startswith("Score: 0/38")  # returning x earns nothing


def test_patching_numpy_comparisons_does_not_help(grade2):
    report = grade2("patches_numpy.py")
    assert by_name(report)["naive_add_values"].status == "failed"
    assert by_name(report)["naive_add_edge_shapes"].status == "failed"


def test_patching_the_grader_fails_in_memory_and_on_disk(grade2):
    compare = Path(grader.__file__).with_name("compare.py")
    before = hashlib.sha256(compare.read_bytes()).hexdigest()
    report = grade2("patches_grader.py")
    assert hashlib.sha256(compare.read_bytes()).hexdigest() == before
    assert by_name(report)["naive_add_values"].status == "failed"


def _templated(tmp_path, name, **values):
    source = (FIXTURES / "assignment2" / name).read_text()
    for key, value in values.items():
        source = source.replace(key, str(value))
    path = tmp_path / name
    path.write_text(source)
    return path


def test_reading_the_reference_is_refused(grade2, tmp_path):
    path = _templated(tmp_path, "reads_reference.py", REFERENCE_DIR=COURSE / "reference" / "assignment2")
    report = grade2(path)
    assert report.score == 0
    assert "not defined" in messages(report, "naive_add")


def test_importing_the_reference_is_refused(grade2, tmp_path):
    path = _templated(tmp_path, "imports_reference.py", COURSE_DIR=COURSE)
    report = grade2(path)
    assert report.score == 0
    assert any("reference" in n.text and "not allowed" in n.text for n in report.notes)


def test_writes_outside_the_workers_folder_are_refused(grade2, tmp_path):
    report_path = tmp_path / "report.json"
    report_path.write_text("untouched")
    other = tmp_path / "other"
    other.mkdir()
    path = _templated(tmp_path, "writes_files.py", REPORT_PATH=report_path, OTHER_DIR=other)
    report = grade2(path)
    assert full_marks(report, "naive_relu")
    assert report_path.read_text() == "untouched"
    assert not (other / "stolen.txt").exists()
    assert not Path("/tmp/grader-fixture-wrote-here.txt").exists()


def _processes() -> dict[int, tuple[int, bytes]]:
    """pid -> (parent pid, command line) for every process we can see."""
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                parent = int(stat.read().rsplit(b")", 1)[1].split()[1])
            with open(f"/proc/{name}/cmdline", "rb") as cmdline:
                found[int(name)] = (parent, cmdline.read())
        except (OSError, ValueError, IndexError):
            continue
    return found


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to look for leftover processes")
def test_spawning_processes_is_refused_and_nothing_is_left_behind(grade2, server):
    report = grade2("spawns_subprocess.py")
    assert "starting other programs or processes is not allowed" in messages(report, "naive_relu")
    assert "starting other programs or processes is not allowed" in messages(report, "naive_vector_dot")
    assert no_points(report, "naive_add")
    zygote = zygote_pid(server)
    deadline = time.monotonic() + 5
    while True:  # the last worker was killed as grading ended; the zygote collects it as it dies
        processes = _processes()
        children = [pid for pid, (parent, _) in processes.items() if parent == zygote]
        if len(children) <= 1 or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert not [pid for pid, (_, cmd) in processes.items() if b"sleep\x00987" in cmd or b"sleep 986" in cmd]
    assert len(children) <= 1  # the zygote's spare worker, which has run no student code
    assert not [pid for pid, (parent, _) in processes.items() if parent in children]


def test_flooding_stdout_is_capped_and_costs_nothing(grade2):
    report = grade2("floods_stdout.py")
    values = by_name(report)["naive_add_values"]
    assert values.passed
    failing = by_name(report)["naive_add_rejects_bad_shapes"]
    assert failing.status == "failed" and len(failing.output) < 4000
    assert "bytes in all" in failing.output


def test_reseeding_global_generators_changes_nothing(grade2):
    reseeded, correct = grade2("reseeds_rng.py"), grade2(COURSE / "examples" / "assignment2" / "full_marks.py")
    assert full_marks(reseeded, "naive_add")
    assert [r.score for r in function_results(reseeded, "naive_add")] == [
        r.score for r in function_results(correct, "naive_add")]
