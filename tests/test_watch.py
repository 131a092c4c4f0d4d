"""grade --watch: grade again after each save, say what changed, survive crashes, and leave nothing on Ctrl-C.

The end-to-end tests run `grade --watch` as a command of its own, in a session of its own (as a
terminal runs a foreground job), with TMPDIR pointing at a folder of the test, so "nothing left
behind" is checked exactly. Every wait has a generous bound: a busy machine may be slow, and
nothing here measures speed (bench/feedback_loop.py does).
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from grader import filewatch
from grader.model import CheckResult, LoadNote, SubmissionReport
from grader.report import changes

from .conftest import COURSE, FIXTURES
from .test_batch_interrupts import processes_using

FULL = (COURSE / "examples" / "assignment2" / "full_marks.py").read_text()
MISTAKES = (COURSE / "examples" / "assignment2" / "common_mistakes.py").read_text()
SEGFAULT = (FIXTURES / "assignment2" / "segfault.py").read_text()
# naive_add loses its points; everything else stays as in FULL (a later definition wins).
BROKEN_ADD = FULL + "\n\ndef naive_add(x, y):\n    return None\n"
BOUND = 180.0  # seconds for anything to show up; generous for a loaded machine


def result(name: str, status: str, score: float, message: str = "", maximum: float = 2) -> CheckResult:
    return CheckResult(name=name, title=f"{name} title", functions=("f",), status=status, score=score,
                       max_score=maximum, message=message, visibility="visible")


def report(*results: CheckResult, notes: tuple[LoadNote, ...] = ()) -> SubmissionReport:
    return SubmissionReport(assignment="a", submission="hw.py", results=results, seed=1, device="cpu", notes=notes)


# -- what changed -----------------------------------------------------------------------------------


def test_changes_sort_checks_by_how_they_moved():
    before = report(result("a", "passed", 2), result("b", "failed", 0, "wrong"), result("c", "failed", 0, "wrong"),
                    result("d", "error", 0, "raised"))
    after = report(result("a", "failed", 0, "now wrong"), result("b", "passed", 2), result("c", "failed", 0, "wrong"),
                   result("d", "failed", 1, "half right"), result("e", "failed", 0, "new check"))
    found = changes.compare(before, after)
    assert [r.name for r in found.now_passing] == ["b"]
    assert [r.name for r in found.now_failing] == ["a", "e"]
    assert [r.name for r in found.changed] == ["d"]
    assert [r.name for r in found.unchanged_failing] == ["c"]
    assert found.score_delta == 3 - 2


def test_the_compact_report_shows_the_score_change_and_only_the_checks_that_moved():
    before = report(result("a", "passed", 2), result("b", "failed", 0, "b is wrong"), result("c", "failed", 0, "c!"))
    after = report(result("a", "failed", 0, "a is wrong now"), result("b", "passed", 2), result("c", "failed", 0, "c!"),
                   notes=(LoadNote("exception", "line 3", "NameError: x"),))
    text = changes.render(changes.compare(before, after), "12:00:00  hw.py saved", width=100)
    assert "Score: 2/6 (no change; 1 passed, 2 failed)" in text
    assert "Now passing:" in text and "b title" in text and "b is wrong" not in text
    assert "Now losing points:" in text and "a is wrong now" in text
    assert "As before, 1 check loses 2 points: c title" in text and "c!" not in text
    assert "line 3: NameError: x" in text
    better = report(result("a", "passed", 2), result("b", "passed", 2), result("c", "failed", 0, "c!"))
    up = changes.render(changes.compare(after, better), "h", width=100)
    assert "Score: 4/6 (+2; 2 passed, 1 failed)" in up and "Notes on loading" not in up
    same = changes.render(changes.compare(before, before), "h", width=100)
    assert "(no change" in same and "Every check ended as in the last run." in same


def test_the_compact_report_keeps_hidden_checks_to_their_short_message():
    hidden = CheckResult(name="h", title="h title", functions=("f",), status="failed", score=0, max_score=1,
                         message="short message", visibility="hidden", details="hidden input [1, 2, 3]")
    text = changes.render(changes.compare(report(result("a", "passed", 2)), report(result("a", "passed", 2), hidden)),
                          "h", width=100)
    assert "h title [hidden]" in text and "short message" in text and "[1, 2, 3]" not in text


# -- noticing saves ---------------------------------------------------------------------------------


def kinds():
    found = [pytest.param(lambda spots: filewatch.Polling(spots, 0.05), id="polling")]
    if sys.platform.startswith("linux"):
        found.append(pytest.param(filewatch.Inotify, id="inotify"))
    return found


@pytest.mark.parametrize("make", kinds())
def test_a_save_in_place_and_a_save_by_rename_are_noticed_and_other_files_are_not(tmp_path, make):
    target = tmp_path / "hw.py"
    target.write_text("a = 1\n")
    with make(filewatch.spots_for(target)) as watcher:
        (tmp_path / "notes.txt").write_text("not the submission")
        (tmp_path / ".hw.py.swp").write_text("an editor's")
        assert not watcher.wait(timeout=0.5)
        target.write_text("a = 2\n")  # in place (VS Code, nano)
        assert watcher.wait(timeout=BOUND)
        assert not watcher.wait(timeout=0.5)  # one save, one change
        (tmp_path / "hw.py.tmp").write_text("a = 3\n")  # a new file renamed over it (vim, Jupyter)
        os.replace(tmp_path / "hw.py.tmp", target)
        assert watcher.wait(timeout=BOUND)


@pytest.mark.parametrize("make", kinds())
def test_a_folder_handed_in_whole_is_watched_all_the_way_down(tmp_path, make):
    (tmp_path / "work" / "deep").mkdir(parents=True)
    with make(filewatch.spots_for(tmp_path / "work")) as watcher:
        (tmp_path / "work" / "deep" / "data.csv").write_text("1,2")
        assert not watcher.wait(timeout=0.5)
        (tmp_path / "work" / "deep" / "hw.ipynb").write_text("{}")
        assert watcher.wait(timeout=BOUND)
        (tmp_path / "work" / "new").mkdir()  # a new folder, with a submission in it at once
        (tmp_path / "work" / "new" / "hw.py").write_text("a = 1\n")
        assert watcher.wait(timeout=BOUND)
        (tmp_path / "work" / "new" / "hw.py").write_text("a = 2\n")  # and the new folder is watched from then on
        assert watcher.wait(timeout=BOUND)


def test_polling_can_be_asked_for(monkeypatch, tmp_path):
    monkeypatch.setenv(filewatch.POLL_ENV, "0.2")
    with filewatch.watcher(filewatch.spots_for(tmp_path / "hw.py")) as watcher:
        assert isinstance(watcher, filewatch.Polling) and watcher.interval == 0.2


# -- grade --watch, end to end ----------------------------------------------------------------------


class Watching:
    """grade --watch running in a session of its own; its output read line by line as it comes."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put("")

    def until(self, text: str) -> str:
        """Everything printed from now until a line containing text."""
        printed = []
        deadline = time.monotonic() + BOUND
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            if line == "":
                raise AssertionError(f"grade --watch ended before printing {text!r}:\n{''.join(printed)}")
            printed.append(line)
            self.seen.append(line)
            if text in line:
                return "".join(printed)
        raise AssertionError(f"no {text!r} within {BOUND:g} s:\n{''.join(printed)}")

    def descendants(self) -> set[int]:
        found, pending = set(), [self.process.pid]
        while pending:
            pid = pending.pop()
            try:
                with open(f"/proc/{pid}/task/{pid}/children") as children:
                    new = {int(p) for p in children.read().split()}
            except OSError:
                continue
            pending += list(new - found)
            found |= new
        return found


@pytest.fixture
def watching(tmp_path):
    started: list[subprocess.Popen] = []

    def start(submission: Path, scratch: Path) -> Watching:
        scratch.mkdir(exist_ok=True)
        environment = {**os.environ, "TMPDIR": str(scratch), "GRADER_COURSE": str(COURSE), "COLUMNS": "100"}
        process = subprocess.Popen(
            [sys.executable, "-m", "grader", "assignment2", "--watch", "--submission", str(submission)],
            env=environment, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started.append(process)
        return Watching(process)

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()


def save(path: Path, text: str) -> None:
    """As an editor saves: a new file renamed over the old one."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find processes")
def test_watch_regrades_each_save_survives_a_crash_and_leaves_nothing_after_ctrl_c(tmp_path, watching):
    submission, scratch = tmp_path / "hw.py", tmp_path / "scratch"
    submission.write_text(MISTAKES)
    watch = watching(submission, scratch)
    first = watch.until("Watching")
    score = re.search(r"Score: (\d+)/38", first)
    assert score and int(score[1]) < 38 and "FAIL" in first  # the first run: the full report

    save(submission, FULL)
    regraded = watch.until("Now passing:")
    assert "saved, graded in" in regraded and f"Score: 38/38 (+{38 - int(score[1])}; 29 passed)" in regraded

    save(submission, BROKEN_ADD)
    broken = watch.until("Now losing points:") + watch.until("return statement")
    assert "Score: 33/38 (-5" in broken and "naive_add(x, y)" in broken and "Now passing:" not in broken

    save(submission, SEGFAULT)  # its worker dies at the first call to naive_add
    crashed = watch.until("crashed")
    assert "Score:" in crashed and "SIGSEGV" in crashed
    assert watch.process.poll() is None  # still watching

    save(submission, SEGFAULT)  # the same code: not graded again
    assert "its code is unchanged" in watch.until("saved")

    save(submission, FULL)
    assert "Score: 38/38" in watch.until("Score:")

    running = watch.descendants()
    assert running  # the zygote and its workers, kept warm between runs
    os.killpg(watch.process.pid, signal.SIGINT)  # Ctrl-C, as a terminal sends it
    try:
        errors = watch.process.communicate(timeout=BOUND)[1]
    except subprocess.TimeoutExpired:
        raise AssertionError("grade --watch did not end after Ctrl-C") from None
    assert watch.process.returncode == 130 and "Stopped watching." in errors
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(alive(pid) for pid in running):
        time.sleep(0.1)
    assert not [pid for pid in running if alive(pid)]
    assert processes_using(scratch) == [] and list(scratch.iterdir()) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find processes")
def test_ctrl_c_during_the_first_run_leaves_nothing(tmp_path, watching):
    submission, scratch = tmp_path / "hw.py", tmp_path / "scratch"
    submission.write_text("import time\ntime.sleep(30)\n" + FULL)  # still loading when Ctrl-C comes
    watch = watching(submission, scratch)
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline and not [p for p in scratch.rglob("w*") if p.parent.name.startswith("grader-")]:
        time.sleep(0.05)  # until a worker has its folder: the sandbox is up and loading the file
    os.killpg(watch.process.pid, signal.SIGINT)
    errors = watch.process.communicate(timeout=BOUND)[1]
    assert watch.process.returncode == 130, errors
    assert processes_using(scratch) == [] and list(scratch.iterdir()) == []


def test_watch_refuses_formats_it_cannot_print(capsys):
    from grader.cli import main

    assert main(["assignment2", "--watch", "--format", "json", "--course", str(COURSE)]) == 2
    assert "--watch prints its reports as text" in capsys.readouterr().err


def test_a_mistake_in_the_command_ends_watching_at_once(tmp_path):
    submission = tmp_path / "hw.py"
    submission.write_text(FULL)
    run = subprocess.run([sys.executable, "-m", "grader", "assignment2", "--watch", "--submission", str(submission),
                          "--only", "no_such_check", "--course", str(COURSE)],
                         capture_output=True, text=True, timeout=BOUND)
    assert run.returncode == 2 and "No check is named or exercises no_such_check" in run.stderr
