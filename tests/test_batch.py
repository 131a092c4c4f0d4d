"""Batch grading: one correct row per student, whatever they submitted, and resumable."""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor

import pytest


from grader.api import grade
from grader.batch import run as batch_run
from grader.batch import similarity, work
from grader.batch.executors import LocalExecutor, cpus_to_pin
from grader.batch.run import BatchOptions, run_batch
from grader.batch.students import discover
from grader.cli import main
from grader.course import load_assignment
from grader.report import jsonreport
from grader.sandbox.client import Affinity, ForkServer
from grader.sandbox.session import Session, Unit

from .conftest import COURSE, FIXTURES, TEST_LIMITS, zygote_pid

A2 = FIXTURES / "assignment2"
CLASS = {  # student id -> where their work comes from
    "alice.py": COURSE / "examples" / "assignment2" / "full_marks.py",
    "bob.py": A2 / "wrong_shape.py",
    "carol.py": A2 / "segfault.py",
    "dave/assignment2.py": A2 / "infinite_loop.py",
    "erin.py": A2 / "fake_report.py",
    "frank.ipynb": A2 / "notebook_magics.ipynb",
    "hank.py": A2 / "spawns_subprocess.py",
    "ivan.py": A2 / "memory_hog.py",
    "judy.py": A2 / "floods_stdout.py",
    "kim.py": COURSE / "examples" / "assignment2" / "full_marks.py",
}


@pytest.fixture
def submissions(tmp_path):
    folder = tmp_path / "submissions"
    for name, source in CLASS.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
    (folder / "gina").mkdir()  # an LMS export with nothing in it
    return folder


class Quiet(batch_run.Progress):
    def __init__(self, stop_after: int | None = None) -> None:
        import io

        super().__init__(io.StringIO())
        self.stop_after = stop_after

    def advance(self, outcome) -> None:
        super().advance(outcome)
        if self.stop_after is not None and self.done >= self.stop_after:
            raise KeyboardInterrupt


def options(submissions, out, **extra):
    return BatchOptions(assignment="assignment2", submissions=submissions, out=out, jobs=2, limits=TEST_LIMITS, **extra)


def rows(out):
    with open(out / "grades.csv") as stream:
        return {row["id"]: row for row in csv.DictReader(stream)}


def test_a_mixed_class_gets_one_correct_row_each_same_as_grading_alone(submissions, tmp_path, server):
    out = tmp_path / "out"
    totals = run_batch(COURSE, options(submissions, out), Quiet())
    gradebook = rows(out)
    assert sorted(gradebook) == ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "hank", "ivan", "judy", "kim"]
    assert totals.students == 11 and totals.grader_errors == 0
    assert gradebook["alice"]["status"] == "passed" and gradebook["alice"]["score"] == gradebook["alice"]["max_score"]
    assert gradebook["gina"]["status"] == "no-submission" and gradebook["gina"]["score"] == "0"
    assert all(gradebook[s]["status"] == "failed" for s in ("bob", "carol", "dave", "erin", "hank", "ivan", "judy"))
    assignment = load_assignment(COURSE, "assignment2")
    check_names = [c.name for c in assignment.checks()]
    assert list(next(iter(gradebook.values())))[4:] == check_names
    for student in ("alice", "bob", "carol", "erin", "frank", "judy"):
        path = next(p for p in submissions.iterdir() if p.stem == student)
        alone = grade(assignment, path, server=server, limits=TEST_LIMITS)
        batched = jsonreport.load(out / f"{student}.json")
        assert [(r.name, r.score) for r in batched.results] == [(r.name, r.score) for r in alone.results], student
    for student in gradebook:
        assert (out / f"{student}.md").exists() and (out / f"{student}.html").exists()


def test_feedback_shows_hidden_checks_only_in_brief(submissions, tmp_path):
    out = tmp_path / "out"
    run_batch(COURSE, options(submissions, out), Quiet())
    report = jsonreport.load(out / "bob.json")
    hidden = [r for r in report.results if r.visibility == "hidden" and r.details]
    assert hidden and any("shape" in r.details for r in hidden)
    for page in ((out / "bob.md").read_text(), (out / "bob.html").read_text()):
        assert "hidden checks" in page.lower()
        for result in hidden:
            assert result.details not in page  # no hidden inputs or expected values
    erin = (out / "erin.md").read_text()
    assert "```text" in erin and "Score: 38/38" in erin.split("```text", 1)[1]  # the fake report stays fenced


def test_the_summary_covers_scores_checks_failures_speed_and_lookalikes(submissions, tmp_path):
    out = tmp_path / "out"
    run_batch(COURSE, options(submissions, out), Quiet())
    data = json.loads((out / "summary" / "summary.json").read_text())
    assert data["students"] == 11 and sum(count for _, count in data["histogram"]) == 11
    assert {c["name"] for c in data["checks"]} >= {"naive_add_values", "naive_add_edge_shapes"}
    assert data["failures"] and data["slowest"][0][0] in ("dave", "judy")
    assert data["similar"] == [{"students": ["alice", "kim"], "similarity": 1.0}]
    html = (out / "summary" / "index.html").read_text()
    assert "<svg" in html and "Near-identical" in html


def test_an_interrupted_batch_resumes_and_a_rerun_regrades_only_changes(submissions, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_batch(COURSE, options(submissions, out), Quiet(stop_after=3))
    resumed = run_batch(COURSE, options(submissions, out), Quiet())
    assert resumed.skipped >= 3 and resumed.graded == 11 - resumed.skipped
    again = run_batch(COURSE, options(submissions, out), Quiet())
    assert (again.graded, again.skipped) == (0, 11)
    (submissions / "bob.py").write_text((COURSE / "examples" / "assignment2" / "full_marks.py").read_text())
    changed = run_batch(COURSE, options(submissions, out), Quiet())
    assert changed.graded == 1 and rows(out)["bob"]["status"] == "passed"
    forced = run_batch(COURSE, options(submissions, out, force=True), Quiet())
    assert forced.graded == 11


def test_students_are_entries_and_their_ids(tmp_path):
    for name in ("b.py", "a.ipynb", "c", ".hidden.py", "notes.txt"):
        (tmp_path / name).mkdir() if "." not in name else (tmp_path / name).write_text("")
    assert [(s.id, s.path.name) for s in discover(tmp_path)] == [("a", "a.ipynb"), ("b", "b.py"), ("c", "c")]


def test_similarity_ignores_the_template_and_tiny_files():
    template = "def f(x):\n    raise NotImplementedError\n"
    solution = "def f(x):\n" + "".join(f"    y{i} = x * {i} + {i * i}\n" for i in range(12)) + "    return y1\n"
    renamed = solution.replace("y", "z")
    groups = similarity.near_identical({"a": solution, "b": solution, "c": renamed, "d": template}, template)
    assert [g.students for g in groups] == [("a", "b")]


def test_similarity_tokens_ignore_comments_and_layout_but_not_nesting():
    code = "def f(x):\n    s = 'a # b'\n    for i in (1,\n              2):\n        s += x\n    return s\n"
    decorated = code.replace("def f(x):\n", "# mine\ndef f(x):  # really\n\n").replace("    return", "\n    # done\n    return")
    assert similarity.tokens(decorated) == similarity.tokens(code)
    assert similarity.tokens(code) == ["def", "f", "(", "x", ")", ":", "\t", "s", "=", "'a # b'", "for", "i", "in",
                                       "(", "1", ",", "2", ")", ":", "\t", "s", "+=", "x", "\t", "return", "s"]
    flattened = code.replace("        s += x", "    s += x")  # the same words, the loop body moved out
    assert similarity.tokens(flattened) != similarity.tokens(code)
    assert similarity.tokens("x = '''never closed\n(")[-3:] == ["never", "closed", "("]  # broken code: tokens still


def test_batch_command_line(submissions, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(COURSE)
    out = tmp_path / "cli-out"
    for entry in list(submissions.iterdir()):
        if entry.name not in ("alice.py", "bob.py"):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    assert main(["batch", "assignment2", str(submissions), "--out", str(out), "--jobs", "1"]) == 0
    err = capsys.readouterr().err
    assert "2 students: 2 graded" in err and "grades.csv" in err
    assert main(["batch", "assignment2", str(tmp_path / "nothing"), "--out", str(out)]) == 2


def test_the_same_batch_on_a_dask_cluster(submissions, tmp_path):
    distributed = pytest.importorskip("distributed")
    for entry in list(submissions.iterdir()):
        if entry.name not in ("alice.py", "bob.py", "gina", "carol.py"):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    local_out, dask_out = tmp_path / "local", tmp_path / "dask"
    run_batch(COURSE, options(submissions, local_out), Quiet())
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        totals = run_batch(COURSE, options(submissions, dask_out, executor="dask", scheduler=cluster.scheduler_address),
                           Quiet())
        assert totals.graded == 4
        again = run_batch(COURSE, options(submissions, dask_out, executor="dask", scheduler=cluster.scheduler_address),
                          Quiet())
        assert again.graded == 0
    assert rows(local_out) == rows(dask_out)
    for student in ("alice", "bob", "carol", "gina"):
        assert (dask_out / f"{student}.md").read_text() == (local_out / f"{student}.md").read_text()


def _threads_after_grading(job: work.Job) -> tuple[str, int]:
    import torch

    return work.run(job).status, torch.get_num_threads()


def test_a_grading_process_computes_with_one_torch_thread(tmp_path):
    # The processes of a batch already use every CPU; threads of their own would only compete.
    example = COURSE / "examples" / "assignment1" / "full_marks.py"
    job = work.Job(str(COURSE), "assignment1", "alice", str(example), limits=TEST_LIMITS)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert pool.submit(_threads_after_grading, job).result() == ("passed", 1)


PINNING = pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is Linux-only")


def _where_this_runs(seconds: float) -> tuple[int, frozenset[int]]:
    time.sleep(seconds)  # long enough that every process of the pool gets a task
    return os.getpid(), frozenset(os.sched_getaffinity(0))


@PINNING
def test_local_grading_processes_each_run_on_a_cpu_of_their_own():
    allowed = os.sched_getaffinity(0)
    executor = LocalExecutor(len(allowed))
    try:
        pool = executor._fresh_pool()
        seen = dict(future.result() for future in [pool.submit(_where_this_runs, 1.0) for _ in allowed])
    finally:
        executor.close()
    assert len(seen) == len(allowed)
    assert sorted(seen.values(), key=sorted) == sorted((frozenset({cpu}) for cpu in allowed), key=sorted)
    assert cpus_to_pin(len(allowed) + 1) == ()  # more processes than CPUs: the scheduler places them


@PINNING
def test_workers_run_beside_their_pinned_grading_process_and_the_zygote_anywhere(tmp_path):
    allowed = frozenset(os.sched_getaffinity(0))
    cpu = max(allowed)
    os.sched_setaffinity(0, {cpu})  # as a pinned grading process is, whose zygote starts there
    try:
        with ForkServer(("numpy",), affinity=Affinity(cpu, allowed)) as server:
            source = "import os\ndef where():\n    return sorted(os.sched_getaffinity(0))\n"
            session = Session(server, [Unit("", str(tmp_path / "student.py"), source)], "student",
                              limits=TEST_LIMITS)
            try:
                session.start()
                reply = session.request({"op": "call", "path": ["where"], "args": [], "kwargs": {}}, "where")
            finally:
                session.close()
            zygote = os.sched_getaffinity(zygote_pid(server))
    finally:
        os.sched_setaffinity(0, allowed)
    assert reply.value == [cpu]
    assert zygote == allowed
