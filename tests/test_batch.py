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
from grader.batch.students import Student, discover, fingerprint
from grader.cli import main
from grader.course import load_assignment
from grader.report import jsonreport
from grader.sandbox.client import Affinity, ForkServer
from grader.sandbox.session import Limits, Session, Unit

from .conftest import COURSE, FIXTURES, zygote_pid

A2 = FIXTURES / "assignment2"
# The slowest call of a correct submission takes milliseconds, so 2 s only ever stops a call that never
# ends; printed output is capped at 64 KB, which the flooding fixture passes in milliseconds too.
BATCH_LIMITS = Limits(call_timeout=2.0, load_timeout=10.0, memory_mb=512, output_kb=64)
CLASS = {  # student id -> where their work comes from
    "alice.py": COURSE / "examples" / "assignment2" / "full_marks.py",
    "bob.py": A2 / "wrong_shape.py",
    "carol.py": A2 / "segfault.py",
    "dave/assignment2.py": A2 / "infinite_loop.py",
    "erin.py": A2 / "fake_report.py",
    "frank.ipynb": A2 / "notebook_magics.ipynb",
    "hank.py": A2 / "spawns_subprocess.py",
    "ivan.py": A2 / "memory_hog.py",
    "judy.py": A2 / "floods_stdout_briefly.py",
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
    return BatchOptions(assignment="assignment2", submissions=submissions, out=out, jobs=2, limits=BATCH_LIMITS,
                        **extra)


def rows(out):
    with open(out / "grades.csv") as stream:
        return {row["id"]: row for row in csv.DictReader(stream)}


def test_a_mixed_class_gets_one_correct_row_each_same_as_grading_alone(submissions, tmp_path, server):
    out = tmp_path / "out"
    totals = run_batch(COURSE, options(submissions, out), Quiet())
    gradebook = rows(out)
    assert sorted(gradebook) == ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "hank", "ivan", "judy",
                                 "kim"]
    assert totals.students == 11 and totals.grader_errors == 0
    assert gradebook["alice"]["status"] == "passed" and gradebook["alice"]["score"] == gradebook["alice"]["max_score"]
    assert gradebook["gina"]["status"] == "no-submission" and gradebook["gina"]["score"] == "0"
    assert gradebook["gina"]["reason"] == "gina holds no .py or .ipynb file such as assignment2.py."
    assert all(gradebook[s]["status"] == "failed" for s in ("bob", "carol", "dave", "erin", "hank", "ivan", "judy"))
    assert gradebook["dave"]["submission"] == "dave/assignment2.py" and gradebook["alice"]["submission"] == "alice.py"
    assignment = load_assignment(COURSE, "assignment2")
    check_names = [c.name for c in assignment.checks()]
    assert list(next(iter(gradebook.values())))[6:] == check_names
    judy = jsonreport.load(out / "judy.json")
    assert any("bytes in all" in r.output for r in judy.results)  # the flood was cut at the cap
    for student in ("alice", "bob", "carol", "erin", "frank", "judy"):
        path = next(p for p in submissions.iterdir() if p.stem == student)
        alone = grade(assignment, path, server=server, limits=BATCH_LIMITS)
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
    # dave's endless loop costs him a whole call limit: he is among the slowest however busy the machine is
    assert data["failures"] and "dave" in [student for student, _ in data["slowest"]]
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


def test_every_entry_is_a_student_but_litter(tmp_path):
    for name in ("b.py", "a.ipynb", "c", ".hidden.py", "notes.txt", "a.py", "__MACOSX", ".DS_Store", "d.ZIP"):
        (tmp_path / name).mkdir() if "." not in name or name == "__MACOSX" else (tmp_path / name).write_text("")
    assert [(s.id, [p.name for p in s.entries]) for s in discover(tmp_path)] == [
        ("a", ["a.ipynb", "a.py"]), ("b", ["b.py"]), ("c", ["c"]), ("d", ["d.ZIP"]), ("notes", ["notes.txt"])]


def test_a_results_folder_inside_the_submissions_is_no_student(tmp_path):
    (tmp_path / "alice.py").write_text("")
    (tmp_path / "results").mkdir()
    assert [s.id for s in discover(tmp_path, exclude=(tmp_path / "results",))] == ["alice"]


def test_a_fingerprint_reads_with_bounds_and_follows_nothing(tmp_path, monkeypatch):
    from grader.batch import students

    folder = tmp_path / "kim"
    folder.mkdir()
    (folder / "hw.py").write_text("x = 1\n")
    os.mkfifo(folder / "pipe.py")  # read, it would block for ever
    os.symlink("/proc/self/mem", folder / "memory.bin")  # read, it would fail
    os.symlink("/dev/zero", folder / "zeros.py")  # read, it would never end
    kim = Student("kim", (folder,))
    first = fingerprint(kim, "context")
    assert fingerprint(kim, "context") == first and fingerprint(kim, "other") != first
    (folder / "hw.py").write_text("x = 2\n")
    assert fingerprint(kim, "context") != first
    monkeypatch.setattr(students, "FINGERPRINT_FILE_BYTES", 4)  # larger files: known by size and time only
    big = fingerprint(kim, "context")
    os.utime(folder / "hw.py", (0, 0))
    assert fingerprint(kim, "context") != big


def test_similarity_ignores_the_template_and_tiny_files():
    template = "def f(x):\n    raise NotImplementedError\n"
    solution = "def f(x):\n" + "".join(f"    y{i} = x * {i} + {i * i}\n" for i in range(12)) + "    return y1\n"
    renamed = solution.replace("y", "z")
    groups = similarity.near_identical({"a": solution, "b": solution, "c": renamed, "d": template}, template)
    assert [g.students for g in groups] == [("a", "b")]


def test_similarity_tokens_ignore_comments_and_layout_but_not_nesting():
    code = "def f(x):\n    s = 'a # b'\n    for i in (1,\n              2):\n        s += x\n    return s\n"
    decorated = (code.replace("def f(x):\n", "# mine\ndef f(x):  # really\n\n")
                 .replace("    return", "\n    # done\n    return"))
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
    job = work.Job(str(COURSE), "assignment1", "alice", (str(example),), limits=BATCH_LIMITS)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert pool.submit(_threads_after_grading, job).result() == ("passed", 1)


PINNING = pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is Linux-only")


@PINNING
def test_local_grading_processes_each_run_on_a_cpu_of_their_own(tmp_path):
    allowed = sorted(os.sched_getaffinity(0))
    slow = tmp_path / "slow.py"
    slow.write_text("import time\ntime.sleep(30)\n")  # keeps each grading process busy while it is looked at
    jobs = [work.Job(str(COURSE), "assignment2", f"s{i}", (str(slow),), limits=BATCH_LIMITS) for i in allowed]
    executor = LocalExecutor(len(allowed))
    try:
        executor.map(jobs)
        pids = [grader.pid for grader in executor.pool.graders]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(len(os.sched_getaffinity(pid)) > 1 for pid in pids):
            time.sleep(0.05)  # each pins itself as it starts
        seen = sorted(min(os.sched_getaffinity(pid)) for pid in pids if len(os.sched_getaffinity(pid)) == 1)
    finally:
        executor.close()
    assert seen == allowed
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
                              limits=BATCH_LIMITS)
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


# -- an LMS export as it comes ------------------------------------------------------------------------------


def _lms_export(folder):
    """What a download from an LMS (or a TA's unzip of one) looks like, one student per entry."""
    import stat
    import zipfile

    full = (COURSE / "examples" / "assignment2" / "full_marks.py").read_text()
    template = COURSE / "assignments" / "assignment2"
    folder.mkdir()
    (folder / "alice.py").write_text(full)
    (folder / "frank.PY").write_text(full)  # an upper-case extension
    (folder / "erin.txt").write_text("I could not get it to work.\n")
    with zipfile.ZipFile(folder / "hana.zip", "w") as archive:  # a zipped folder, made on a Mac
        archive.writestr("hw2/assignment2.py", full)
        archive.writestr("__MACOSX/hw2/._assignment2.py", b"\x00\x05\x16\x07")
        link = zipfile.ZipInfo("hw2/solution.py")
        link.create_system, link.external_attr = 3, (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "../../reference/assignment2/solution.py")
    (folder / "ivan").mkdir()  # a folder with the work and a scratch file
    (folder / "ivan" / "hw.py").write_text(full)
    (folder / "ivan" / "scratch.py").write_text("print('testing')\n")
    nested = folder / "jack" / "Submission 1" / "src"  # nested, with the template notebook merely saved
    nested.mkdir(parents=True)
    shutil.copy(template / "assignment2.ipynb", nested / "assignment2.ipynb")
    (nested / "assignment2.py").write_text(full)
    os.utime(nested / "assignment2.py", (0, 0))  # older than the notebook: dates must not decide
    (folder / "kim").mkdir()  # fine work, and a link to process memory that would stop any reader
    (folder / "kim" / "assignment2.py").write_text(full)
    os.symlink("/proc/self/mem", folder / "kim" / "data.bin")
    os.symlink(COURSE / "reference" / "assignment2" / "solution.py", folder / "mallory.py")
    (folder / "nora").mkdir()
    os.mkfifo(folder / "nora" / "assignment2.py")
    (folder / "quinn.py").write_text(full)  # a .py beside a notebook that is still the template
    shutil.copy(template / "assignment2.ipynb", folder / "quinn.ipynb")
    (folder / "__MACOSX").mkdir()
    (folder / "__MACOSX" / "._alice.py").write_bytes(b"\x00\x05")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (folder / "rosa").mkdir()  # an empty folder
    return folder


def test_an_lms_export_gives_one_row_per_student_with_the_right_status(tmp_path):
    submissions = _lms_export(tmp_path / "export")
    out = tmp_path / "out"
    progress = Quiet()
    totals = run_batch(COURSE, options(submissions, out), progress)
    gradebook = rows(out)
    expected = {"alice": "passed", "erin": "no-submission", "frank": "passed", "hana": "passed", "ivan": "passed",
                "jack": "passed", "kim": "passed", "mallory": "no-submission", "nora": "no-submission",
                "quinn": "passed", "rosa": "no-submission"}
    assert {student: row["status"] for student, row in gradebook.items()} == expected
    assert totals.students == 11 and totals.grader_errors == 0 and totals.no_submission == 4
    reasons = {student: row["reason"] for student, row in gradebook.items() if row["reason"]}
    assert reasons == {
        "erin": "erin.txt is not a .py or .ipynb file, nor a folder or .zip archive holding one.",
        "mallory": "mallory.py is a symbolic link, which the grader does not follow: submit the file itself.",
        "nora": "nora/assignment2.py is a named pipe, not a regular file.",
        "rosa": "rosa holds no .py or .ipynb file such as assignment2.py."}
    assert gradebook["hana"]["submission"] == "hana.zip/hw2/assignment2.py"
    assert gradebook["ivan"]["submission"] == "ivan/hw.py"
    assert gradebook["jack"]["submission"] == "jack/Submission 1/src/assignment2.py"
    notes = {n.where: n.text for n in jsonreport.load(out / "jack.json").notes if n.kind == "file"}
    template_note = notes["jack/Submission 1/src/assignment2.py"]
    assert "jack/Submission 1/src/assignment2.ipynb is still the unchanged template" in template_note
    hana = {n.where: n.text for n in jsonreport.load(out / "hana.json").notes if n.kind == "file"}
    assert "hana.zip/hw2/solution.py is a symbolic link" in hana["hana.zip/hw2/assignment2.py"]
    summary = progress.stream.getvalue()
    assert "11 students: 11 graded, 0 unchanged, 4 with nothing to grade" in summary
    assert "  erin: erin.txt is not a .py or .ipynb file" in summary


def test_an_empty_submissions_folder_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(COURSE)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / ".DS_Store").write_bytes(b"")
    assert main(["batch", "assignment2", str(tmp_path / "empty"), "--out", str(tmp_path / "out")]) == 2
    assert "holds no submissions" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_results_folder_that_cannot_be_made_is_a_usage_error(submissions, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(COURSE)
    (tmp_path / "taken").write_text("a file where the folder should go")
    assert main(["batch", "assignment2", str(submissions), "--out", str(tmp_path / "taken")]) == 2
    assert "cannot make the results folder" in capsys.readouterr().err


def test_ids_that_look_like_formulas_are_quoted_in_every_csv(tmp_path):
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    for name in ("=1+2", "+SUM(A1)", "-3", "@A1", "plain"):
        (submissions / f"{name}.txt").write_text("")  # rows without a submission are rows all the same
    out = tmp_path / "out"
    run_batch(COURSE, options(submissions, out), Quiet())
    cells = []
    for name, columns in (("grades.csv", ("id",)), ("lms/canvas.csv", ("Student", "SIS Login ID")),
                          ("lms/moodle.csv", ("Username",))):
        with open(out / name, newline="") as stream:
            cells += [row[column] for row in csv.DictReader(stream) for column in columns if row[column]]
    ids = [cell for cell in cells if cell not in ("Points Possible",)]
    assert sorted(set(ids)) == sorted({"'=1+2", "'+SUM(A1)", "'-3", "'@A1", "plain"})
    assert rows(out)["'=1+2"]["reason"].startswith("'=1+2.txt is not a .py or .ipynb file")  # reasons quote names


def test_student_chosen_names_reach_the_terminal_without_control_characters(tmp_path):
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    (submissions / "eve\x1b[2J\x1b]52;c;cHduZWQ=\x07.txt").write_text("")  # clear screen, write the clipboard
    (submissions / "bob\u202eyp.txt").write_text("")  # a right-to-left override
    progress = Quiet()
    run_batch(COURSE, options(submissions, tmp_path / "out"), progress)
    printed = progress.stream.getvalue()
    assert "\x1b" not in printed and "\x07" not in printed and "\u202e" not in printed
    assert "eve\\x1b[2J\\x1b]52;c;cHduZWQ=\\x07" in printed and "bob\\u202eyp" in printed


def test_a_journal_line_cut_short_spoils_nothing_after_it(submissions, tmp_path):
    out = tmp_path / "out"
    for entry in list(submissions.iterdir()):
        if entry.name not in ("alice.py", "bob.py"):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    run_batch(COURSE, options(submissions, out), Quiet())
    journal = out / batch_run.STATE
    lines = journal.read_text().splitlines()
    journal.write_text(lines[0] + "\n" + lines[1][: len(lines[1]) // 2])  # killed while writing bob's line
    again = run_batch(COURSE, options(submissions, out), Quiet())
    assert (again.graded, again.skipped) == (1, 1)  # bob again, once
    assert run_batch(COURSE, options(submissions, out), Quiet()).graded == 0  # and his new line is whole
