"""Red team, round two: attacks a determined student would write, each graded through the public API.

Every test grades one fixture from ``tests/fixtures/redteam/`` (its docstring
says how the attack works) and asserts the SAFE outcome, so a test fails
exactly while its attack works. The attacks reach the grader the way a
student's file does: ``grader.api.grade``, the ``grade`` command line, or
``grade batch``. Where a kernel layer is the only thing in the way, the
fixture calls C through ctypes from code compiled under NumPy's file name
(which the audit hook trusts), as a determined student would.

When the red team wrote them, every test here failed (the attack worked) but
one, which the sandbox held and which stays as a regression test:
``test_a_worker_cannot_stop_the_worker_forked_for_the_next_student``. They
fail the same way run as root and as an ordinary user (uid 4242 through
``setpriv``, as ``test_unprivileged.py`` does it).

A third round (2026-12-02) added five: four attacks that worked (autograd run from a __getattr__ when
the grader reads the weights; the watch blinded through a wrapper's __globals__ reached with getattr
and names spelt in pieces; a feedforward that fakes its own slope when it sees a weight nudged; the
audit hook switched off through a default argument) and one the identity fingerprint already held
(a tracer method swapped for another at the same address).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import resource
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from grader import seeds
from grader.api import grade, load_reference
from grader.batch import run as batch_run
from grader.batch.run import BatchOptions, run_batch
from grader.cli import main
from grader.course import load_assignment
from grader.report import classroom50, github, gradescope, html, junit, markdown
from grader.sandbox.client import ForkServer
from grader.sandbox.session import Limits

from .conftest import COURSE, FIXTURES, TEST_LIMITS, by_name
from .test_secrecy import _key, _Recorder  # the same stand-in for a student who answers as the reference

RED = FIXTURES / "redteam"
# For attacks that take time to mount (faulting in memory, starting threads): a timeout must not be what stops them.
PATIENT = Limits(call_timeout=30.0, load_timeout=10.0, memory_mb=512)
LINUX = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel layers are Linux's")


@pytest.fixture(scope="module")
def assignment3():
    return load_assignment(COURSE, "assignment3")


def _student_views(report) -> dict[str, str]:
    """Everything a student may read of a report, hidden checks shown as soon as each format allows."""
    return {
        "markdown": markdown.render(report),
        "html": html.render(report),
        "gradescope": gradescope.dumps(report, hidden_visibility="visible"),
        "junit": junit.render(report),
        "classroom50": classroom50.release_body(report),
        "github": json.dumps([runner.results for runner in github.runners(report)]),
        "hidden messages": "\n".join(r.message for r in report.results if r.visibility == "hidden"),
    }


# --- the loops-only and no-autograd rules ----------------------------------------------------------


@pytest.mark.parametrize("fixture", [
    "unwraps_traced_arrays.py",  # computes on x.base, the plain array behind the traced view
    "pauses_the_tracer.py",  # reaches one frame up into the worker and pauses the recorder
    "answers_on_the_channel.py",  # answers the grader on the worker's socket itself, with empty traces
])
def test_whole_array_numpy_earns_nothing_however_it_hides_from_the_watch(grade2, fixture):
    report = grade2(RED / fixture)
    earned = [r.name for r in report.results if r.passed]
    assert not earned, f"whole-array NumPy earned points in {earned} ({report.score}/{report.max_score})"


def test_autograd_earns_nothing_when_it_runs_in_a_thread_of_its_own(assignment3, torch_server):
    report = grade(assignment3, RED / "autograd_in_a_thread.py", server=torch_server,
                   limits=Limits(call_timeout=20.0, load_timeout=20.0, memory_mb=1024),
                   only=("two_layer_loss_and_grads", "OurNeuralNetwork.gradients"))
    earned = [r.name for r in report.results if r.passed]
    assert not earned, f"backward passes by autograd earned points in {earned}"


# --- hidden checks: what a student can read, and what they can tell apart ----------------------------


def test_a_hidden_message_quotes_no_shape_or_factor_the_code_chose(assignment3, server):
    report = grade(assignment3, RED / "spells_inputs_in_shapes.py", server=server, limits=TEST_LIMITS,
                   only=("sigmoid", "deriv_sigmoid"))
    hidden = [r for r in report.results if r.visibility == "hidden"]
    assert hidden and all(r.status == "failed" for r in hidden)  # both routes were taken
    for name, text in _student_views(report).items():
        assert "31337" not in text, f"{name}: a shape of the student's choosing"
        assert "1.313" not in text, f"{name}: a factor of the student's choosing"


def test_how_long_a_hidden_check_took_is_not_shown(assignment2, server):
    limits = Limits(call_timeout=5.0, load_timeout=10.0, memory_mb=512)
    report = grade(assignment2, RED / "spells_inputs_in_time.py", server=server, limits=limits, only=("naive_relu",))
    assert report.all_passed  # it is right everywhere; only its timing talks
    slept = 2.0  # the least the fixture sleeps in the hidden call; the rest of the run takes a fraction of it
    cases = re.findall(r'<testcase name="([^"]+)"[^>]* time="([\d.]+)"', junit.render(report))
    hidden_names = {r.name for r in report.results if r.visibility == "hidden"}
    shown = {name: float(time) for name, time in cases if name in hidden_names}
    assert all(time < slept for time in shown.values()), f"JUnit shows hidden checks' durations: {shown}"
    runners = {runner.id: runner.results["tests"][0].get("execution_time", "") for runner in github.runners(report)}
    hidden_runners = {key: value for key, value in runners.items() if key.startswith("hidden")}
    assert not any(value and float(value.rstrip("s")) >= slept for value in hidden_runners.values()), (
        f"the Classroom reporter's runners show hidden checks' durations: {hidden_runners}")
    total = json.loads(gradescope.dumps(report, hidden_visibility="hidden"))["execution_time"]
    assert total < slept, f"Gradescope's always-visible execution_time ({total} s) includes the hidden check's sleep"


def test_a_notebook_cannot_replay_answers_it_keeps_outside_its_code(assignment2, server, world_dir):
    # The seed of a run comes from the secret and the submission's code. A notebook's Markdown is not code,
    # yet the notebook's code may read its own file: answers leaked once (through any route) ride along
    # in a Markdown cell, and the code, unchanged, meets the same hidden inputs again.
    check_name = "naive_broadcast_add_any_rank"
    template = nbformat.read(RED / "replays_from_its_markdown.ipynb", as_version=4)
    first_path = world_dir / "first" / "assignment2.ipynb"  # where a worker may read it, as on a platform
    first_path.parent.mkdir()
    nbformat.write(template, first_path)
    first = grade(assignment2, first_path, server=server, limits=TEST_LIMITS, only=(check_name,))
    assert not first.results[0].passed  # it cannot broadcast
    # The leak, played by the test, which knows the secret: every input of the hidden check, and its answer.
    check = next(spec for spec in assignment2.checks() if spec.name == check_name)
    recorder = _Recorder(load_reference(assignment2), "naive_broadcast_add")
    check.run(student=recorder, reference=recorder.reference,
              rng=seeds.hidden_rng(seeds.course_secret(COURSE), first.seed, check_name))
    table = {_key(*args): answer.tolist() for args, answer in recorder.seen}
    template.cells[0].source = f"# Assignment 2\n\nMy notes.\n\nanswers: {json.dumps(table)}"
    second_path = world_dir / "second" / "assignment2.ipynb"
    second_path.parent.mkdir()
    nbformat.write(template, second_path)
    second = grade(assignment2, second_path, server=server, limits=TEST_LIMITS, only=(check_name,))
    assert not second.results[0].passed, f"replayed answers passed the hidden check (seeds {first.seed}, {second.seed})"


def test_what_code_did_on_hidden_inputs_does_not_change_the_public_results(grade2):
    report = grade2(RED / "spells_a_bit_in_the_loops_rule.py", only=("naive_relu",))
    public = [r for r in report.results if r.visibility == "visible"]
    assert all(r.passed for r in public), [r.message for r in public if not r.passed][:1]


# --- the grading process: student values are data, whatever they are --------------------------------


def test_a_value_the_comparison_cannot_take_is_the_students_result_not_a_grader_crash(grade2):
    report = grade2(RED / "changes_its_input_to_text.py", only=("naive_relu",))  # raised CheckCrashed
    assert not by_name(report)["naive_relu_keeps_input"].passed


def test_source_too_deep_for_the_static_reading_is_the_students_result_not_a_grader_error(grade2):
    report = grade2(RED / "overflows_the_static_reading.py", only=("naive_relu",))  # raised GraderError
    assert not any(r.passed for r in report.results)


def test_a_hidden_check_that_cannot_take_a_value_names_nothing_hidden_on_gradescope(tmp_path, monkeypatch):
    monkeypatch.chdir(COURSE)
    results = tmp_path / "results.json"
    status = main(["assignment2", "--submission", str(RED / "crashes_a_hidden_check.py"), "--format", "gradescope",
                   "--output", str(results), "--only", "naive_vector_dot"])
    text = results.read_text()
    assert "naive_vector_dot_edge_shapes" not in text and "reference" not in text, text
    assert status == 0 and json.loads(text)["tests"], "the student's work was not graded"


def test_a_notebook_of_many_tiny_cells_costs_the_grading_process_little(grade2, world_dir):
    # Reading a notebook (nbformat's validation, IPython's transforms of each cell) happens in the grading
    # process, with no timeout: 12,000 one-line cells (1.4 MB of the 50 MB a notebook may have) take it ~6 s.
    cells = [{"cell_type": "code", "id": f"c{n}", "metadata": {}, "outputs": [], "execution_count": None,
              "source": "%time 1"} for n in range(12_000)]
    path = world_dir / "assignment2.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    before = resource.getrusage(resource.RUSAGE_SELF)
    grade2(path, only=("naive_relu_values",))
    after = resource.getrusage(resource.RUSAGE_SELF)
    spent = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    assert spent < 2.5, f"the grading process spent {spent:.1f} s of CPU on one notebook"


# --- submissions are opened safely -------------------------------------------------------------------


@LINUX
def test_a_link_in_the_submissions_reads_nothing_of_the_graders_and_stops_no_one(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    shutil.copy(COURSE / "examples" / "assignment2" / "full_marks.py", folder / "alice.py")
    (folder / "mallory.py").symlink_to(COURSE / "reference" / "assignment2" / "solution.py")
    (folder / "trudy.py").symlink_to("/proc/self/mem")
    out = tmp_path / "out"
    run_batch(COURSE, BatchOptions(assignment="assignment2", submissions=folder, out=out, jobs=1,
                                   limits=TEST_LIMITS), batch_run.Progress(io.StringIO()))
    with open(out / "grades.csv") as stream:
        scores = {row["id"]: float(row["score"]) for row in csv.DictReader(stream)}
    assert scores["alice"] == 38
    assert scores["mallory"] == 0, "a link to the reference solution scored"


# --- resources -----------------------------------------------------------------------------------------


@LINUX
def test_the_stack_counts_against_the_memory_limit(grade2):
    limits = Limits(call_timeout=30.0, load_timeout=10.0, memory_mb=256)
    report = grade2(RED / "grows_its_stack.py", only=("naive_relu_values",), limits=limits)  # 400 MB, 256 allowed
    assert not report.results[0].passed, "the code held 1.5x its memory limit in its stack"


@LINUX
def test_a_worker_cannot_start_thousands_of_threads(grade2):
    report = grade2(RED / "starts_many_threads.py", only=("naive_relu_values",), limits=PATIENT)
    assert not report.results[0].passed, "2000 threads started in one worker"


# --- students graded side by side --------------------------------------------------------------------


@LINUX
def test_classmates_graded_side_by_side_cannot_hand_each_other_anything(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    source = (RED / "classmates_channel.py").read_text()
    (folder / "alice.py").write_text(source.replace('ROLE = "receive"', 'ROLE = "send"'))
    (folder / "bob.py").write_text(source)
    out = tmp_path / "out"
    run_batch(COURSE, BatchOptions(assignment="assignment2", submissions=folder, out=out, jobs=2,
                                   limits=TEST_LIMITS), batch_run.Progress(io.StringIO()))
    bob = json.loads((out / "bob.json").read_text())
    relu = next(t for t in bob["tests"] if t["name"] == "naive_relu_values")
    assert relu["status"] != "passed", f"an answer crossed from alice's worker to bob's: {relu.get('output')}"


@LINUX
def test_a_worker_cannot_stop_the_worker_forked_for_the_next_student(tmp_path):
    # Held today (as root the spare is another user; as an ordinary user Landlock's signal scope, ABI 6, stops
    # the descriptor's signal): a regression test, since seccomp does not filter fcntl(F_SETOWN).
    folder = tmp_path / "submissions"
    folder.mkdir()
    shutil.copy(RED / "stops_the_next_worker.py", folder / "alice.py")
    shutil.copy(COURSE / "examples" / "assignment2" / "full_marks.py", folder / "bob.py")
    out = tmp_path / "out"
    totals = run_batch(COURSE, BatchOptions(assignment="assignment2", submissions=folder, out=out, jobs=1,
                                            limits=TEST_LIMITS), batch_run.Progress(io.StringIO()))
    assert totals.grader_errors == 0
    assert json.loads((out / "bob.json").read_text())["score"] == 38


@LINUX
def test_a_file_name_reaches_no_terminal_and_no_spreadsheet_raw(tmp_path, monkeypatch, capsys):
    # LMS exports keep the name the student gave their file; the id is that name without its extension.
    folder = tmp_path / "submissions"
    folder.mkdir()
    names = ["mallory\x1b]0;graded: 38 of 38\x07\x1b[2J\x1b[31m", '=HYPERLINK("https:example.com?"&A1,"ok")']
    for name in names:
        shutil.copy(COURSE / "examples" / "assignment2" / "full_marks.py", folder / f"{name}.py")
    roster = tmp_path / "roster.csv"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section\nAlice,1,1,alice,A\n")
    monkeypatch.chdir(COURSE)
    out = tmp_path / "out"
    main(["batch", "assignment2", str(folder), "--out", str(out), "--jobs", "1", "--roster", str(roster)])
    printed = capsys.readouterr()
    assert "\x1b" not in printed.err + printed.out, "a file name's control sequences reached the terminal"
    with open(out / "grades.csv", newline="") as stream:
        ids = [row["id"] for row in csv.DictReader(stream)]
    assert not [cell for cell in ids if cell.startswith(("=", "+", "-", "@"))], f"formulas in grades.csv: {ids}"
    # A folder handed to `grade` whose files do not say which to grade: the usage message lists their names.
    (folder / "other.py").write_text("")
    main(["assignment2", "--submission", str(folder)])
    assert "\x1b" not in capsys.readouterr().err, "a file name's control sequences reached the terminal"


@LINUX
def test_a_worker_changes_no_metadata_outside_its_folder(tmp_path):
    course = tmp_path / "course"
    for part in ("assignments/assignment2", "reference/assignment2"):
        shutil.copytree(COURSE / part, course / part)
    (course / "reference").chmod(0o700)
    folder = tmp_path / "submissions"
    folder.mkdir()
    source = (RED / "leaves_a_note_for_the_next_student.py").read_text()
    (folder / "alice.py").write_text(source.replace('ROLE = "receive"', 'ROLE = "send"'))
    (folder / "bob.py").write_text(source)
    out = tmp_path / "out"
    run_batch(course, BatchOptions(assignment="assignment2", submissions=folder, out=out, jobs=1, limits=TEST_LIMITS),
              batch_run.Progress(io.StringIO()))
    assert (course / "reference").stat().st_mode & 0o777 == 0o700, "student code opened reference/ to every user"
    bob = json.loads((out / "bob.json").read_text())
    relu = next(t for t in bob["tests"] if t["name"] == "naive_relu_values")
    assert relu["status"] != "passed", "a note from alice's worker reached bob's through his folder's attributes"


@LINUX
def test_a_deep_folder_left_in_scratch_breaks_no_cleanup_and_no_later_run(assignment2, world_dir, monkeypatch):
    # Where no tmpfs can be mounted (no namespaces: a container, or a TA on a kernel that refuses unprivileged
    # user namespaces), scratch folders are plain folders that the grader removes with shutil.rmtree, which
    # recurses once per level. A folder left deeper than that would stop every later run of this user at start,
    # which removes the folders of dead runs the same way: the test keeps its runs in a folder of its own.
    monkeypatch.setattr(tempfile, "tempdir", str(world_dir))
    example = COURSE / "examples" / "assignment2" / "full_marks.py"
    try:
        with ForkServer(("numpy",), disk_mb=0) as server:
            grade(assignment2, RED / "digs_a_deep_folder.py", server=server, limits=TEST_LIMITS,
                  only=("naive_relu_values",))
        later = grade(assignment2, example, limits=TEST_LIMITS, only=("naive_relu_values",))
        assert later.score == 2
        assert not list(world_dir.glob("grader-work-*")), "a scratch folder outlived its run"
    finally:
        for leftover in world_dir.glob("grader-work-*"):
            _remove_tree(leftover)


def _remove_tree(root: Path) -> None:
    """Remove a folder of any depth: by descriptor, without recursion or long paths."""
    names: list[str] = []
    stack = [os.open(root, os.O_RDONLY | os.O_DIRECTORY)]
    while stack:
        child = None
        for entry in os.scandir(stack[-1]):
            if entry.is_dir(follow_symlinks=False):
                child = entry.name
                break
            os.unlink(entry.name, dir_fd=stack[-1])
        if child is not None:
            stack.append(os.open(child, os.O_RDONLY | os.O_DIRECTORY, dir_fd=stack[-1]))
            names.append(child)
            continue
        os.close(stack.pop())
        if stack:
            os.rmdir(names.pop(), dir_fd=stack[-1])
    os.rmdir(root)


# --- round three (the commits up to 8169121): assignment 3's probes, the tracer, the audit hook --------


def test_autograd_run_when_the_weights_are_read_earns_nothing(assignment3, torch_server):
    report = grade(assignment3, RED / "trains_when_its_weights_are_read.py", server=torch_server,
                   limits=Limits(call_timeout=20.0, load_timeout=20.0, memory_mb=1024),
                   only=("OurNeuralNetwork.train",))
    earned = [r.name for r in report.results if r.passed]
    assert not earned, f"training by autograd, run when the grader read the weights, earned points in {earned}"


def test_autograd_earns_nothing_when_it_blinds_the_watch_through_a_wrappers_globals(assignment3, torch_server):
    report = grade(assignment3, RED / "blinds_the_autograd_watch.py", server=torch_server,
                   limits=Limits(call_timeout=20.0, load_timeout=20.0, memory_mb=1024),
                   only=("OurNeuralNetwork.gradients", "OurNeuralNetwork.train"))
    earned = [r.name for r in report.results if r.passed]
    assert not earned, f"autograd behind a blinded watch earned points in {earned}"


def test_wrong_gradients_do_not_match_a_feedforward_that_knows_it_is_being_nudged(assignment3, server):
    report = grade(assignment3, RED / "fakes_its_own_slope.py", server=server, limits=TEST_LIMITS,
                   only=("OurNeuralNetwork.gradients",))
    slope = [r for r in report.results if r.name == "gradients_match_your_feedforward"]
    assert slope and not slope[0].passed, "gradients without the factor 2 passed the finite-difference check"


def test_the_audit_hook_cannot_be_switched_off_through_its_default_argument(assignment3, server):
    report = grade(assignment3, RED / "switches_off_the_audit_hook.py", server=server, limits=TEST_LIMITS,
                   only=("sigmoid",))
    earned = [r.name for r in report.results if r.passed]
    assert not earned, f"importing the grader after switching off the audit hook earned points in {earned}"


def test_a_tracer_method_swapped_for_one_at_the_same_address_is_still_seen(assignment3, torch_server):
    # Held since the fingerprint keeps the objects (8169121); at 949fba9 (id()s) this file earned every point.
    report = grade(assignment3, RED / "reuses_a_tracer_methods_address.py", server=torch_server,
                   limits=Limits(call_timeout=20.0, load_timeout=20.0, memory_mb=1024),
                   only=("OurNeuralNetwork.gradients", "OurNeuralNetwork.train"))
    earned = [r.name for r in report.results if r.passed]
    assert not earned, f"autograd behind tracer methods swapped at the same address earned points in {earned}"
