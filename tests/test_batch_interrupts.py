"""Ctrl-C on grade batch, as a terminal sends it: to the whole foreground process group.

`grade batch` runs as a command of its own here, in a session of its own, with TMPDIR pointing at
a folder of this test: everything it starts (grading processes, zygotes, workers) keeps its files
there, so "nothing left behind" can be checked exactly: no process working there, nothing in it.
The exit times are printed (pytest -s shows them); the bound asserted is generous, because a
busy machine may be slow, never because the grader may be.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.batch.run import STATE

from .conftest import COURSE

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find processes")
FULL = (COURSE / "examples" / "assignment2" / "full_marks.py").read_text()
STUDENTS = 8
EXIT_BOUND = 15.0  # seconds; a first Ctrl-C takes well under 2 s on an idle machine


@pytest.fixture
def slow_class(tmp_path):
    """Eight correct students, each taking a second to load: slow enough to interrupt mid-way."""
    folder = tmp_path / "submissions"
    folder.mkdir()
    for number in range(STUDENTS):
        (folder / f"s{number}.py").write_text("import time\ntime.sleep(1.0)\n" + FULL)
    return folder


@pytest.fixture
def start():
    """Start grade batch in a session of its own; whatever a failing test leaves running is killed after it."""
    started: list[subprocess.Popen] = []

    def launch(submissions: Path, out: Path, scratch: Path) -> subprocess.Popen:
        scratch.mkdir(exist_ok=True)
        environment = {**os.environ, "TMPDIR": str(scratch), "GRADER_COURSE": str(COURSE)}
        started.append(subprocess.Popen(
            [sys.executable, "-m", "grader", "batch", "assignment2", str(submissions), "--out", str(out),
             "--jobs", "2"],
            env=environment, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        return started[-1]

    yield launch
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()


def processes_using(folder: Path) -> list[str]:
    """Processes (not yet reaped zombies aside) whose working folder is in folder, or that read TMPDIR=folder."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                if stat.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                    continue
            cwd = os.readlink(f"/proc/{name}/cwd")
            with open(f"/proc/{name}/environ", "rb") as environ:
                tmpdir = f"TMPDIR={folder}".encode() in environ.read().split(b"\0")
        except OSError:
            continue
        if tmpdir or cwd == str(folder) or cwd.startswith(f"{folder}/"):
            with open(f"/proc/{name}/cmdline", "rb") as cmdline:
                found.append(f"{name}: {cmdline.read()[:120]!r}")
    return found


def wait_until_workers_run(scratch: Path, out: Path, graded: int) -> None:
    """Until `graded` students are in the journal and sandbox workers are busy with others."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        journal = out / STATE
        done = len(journal.read_text().splitlines()) if journal.exists() else 0
        # each worker's own folder, which its zygote makes in the folder of this run's workers
        workers = [p for p in scratch.rglob("w*") if p.parent.name.startswith("grader-work-")]
        if done >= graded and workers:
            return
        time.sleep(0.05)
    raise AssertionError("the batch never got going")


def finish(process: subprocess.Popen, timeout: float) -> str:
    """What process printed on stderr once it exits; a process that hangs is killed with its group, and fails."""
    try:
        return process.communicate(timeout=timeout)[1]
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise AssertionError(f"grade batch did not end within {timeout:g} s") from None


def interrupt(process: subprocess.Popen, times: int) -> tuple[float, str]:
    """Ctrl-C `times` times, a tenth of a second apart, to the process group; seconds until it exits,
    and what it printed on stderr."""
    started = time.monotonic()
    for press in range(times):
        if press:
            time.sleep(0.1)
        os.killpg(process.pid, signal.SIGINT)
    errors = finish(process, 120)
    return time.monotonic() - started, errors


def grades(out: Path) -> dict[str, str]:
    with open(out / "grades.csv", newline="") as stream:
        return {row["id"]: row["status"] for row in csv.DictReader(stream)}


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_stops_at_once_leaves_nothing_and_the_next_run_resumes(slow_class, tmp_path, start, presses):
    out, scratch = tmp_path / "out", tmp_path / "scratch"
    process = start(slow_class, out, scratch)
    wait_until_workers_run(scratch, out, graded=1)
    seconds, errors = interrupt(process, presses)
    print(f"\n{presses} Ctrl-C: grade batch exited {seconds:.2f} s later")
    assert process.returncode == 130 and "grade: interrupted" in errors
    assert seconds < EXIT_BOUND
    assert processes_using(scratch) == [] and list(scratch.iterdir()) == []
    journal = (out / STATE).read_text()
    kept = len(journal.splitlines())
    assert journal.endswith("\n") and 1 <= kept < STUDENTS
    again = start(slow_class, out, scratch)
    errors = finish(again, 600)
    assert again.returncode == 0, errors
    assert f"{STUDENTS} students: {STUDENTS - kept} graded, {kept} unchanged" in errors
    assert grades(out) == {f"s{number}": "passed" for number in range(STUDENTS)}
    assert processes_using(scratch) == [] and list(scratch.iterdir()) == []


@pytest.mark.skipif(shutil.which("timeout") is None, reason="needs coreutils' timeout")
def test_timeout_signalling_the_whole_group_does_not_hang(slow_class, tmp_path):
    out, scratch = tmp_path / "out", tmp_path / "scratch"
    scratch.mkdir()
    environment = {**os.environ, "TMPDIR": str(scratch), "GRADER_COURSE": str(COURSE)}
    started = time.monotonic()
    run = subprocess.run(["timeout", "-s", "INT", "3", sys.executable, "-m", "grader", "batch", "assignment2",
                          str(slow_class), "--out", str(out)], env=environment, capture_output=True, text=True,
                         timeout=120)
    seconds = time.monotonic() - started
    print(f"\ntimeout -s INT 3: grade batch exited after {seconds:.2f} s")
    assert run.returncode == 124 and seconds < 3 + EXIT_BOUND
    assert processes_using(scratch) == [] and list(scratch.iterdir()) == []
