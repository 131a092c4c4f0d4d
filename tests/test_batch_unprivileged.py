"""grade batch run by a TA without root: files the TA cannot read are that student's reason, not a crash.

The suite usually runs as one user. Run as root with setpriv at hand, this test grades a small class as
nobody, as an ordinary TA would be; it needs a Python that nobody can run (one under /root, as pyenv
installs it, is not: the skip says so).
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys

import pytest

from .conftest import COURSE

SETPRIV = shutil.which("setpriv")
AS_NOBODY = [SETPRIV or "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def _nobody_can_run_python() -> bool:
    # Through env, as the test runs it: what the batch imports, not only what Python freezes into itself.
    return subprocess.run(AS_NOBODY + ["env", sys.executable, "-c", "import json, numpy, grader.cli"],
                          capture_output=True, cwd="/").returncode == 0


pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0 or SETPRIV is None, reason="needs root and setpriv to act as another user"),
    pytest.mark.skipif(os.geteuid() == 0 and SETPRIV is not None and not _nobody_can_run_python(),
                       reason=f"nobody cannot run {sys.executable} (a Python in a folder only root may enter)"),
]


def _course_owned_by_nobody(folder):
    """assignment2 of the course, as a TA's own copy: the grader reads the course secret only as the user who
    owns reference/ (and makes it there on first use), so a TA grades a course folder of their own."""
    for part in ("assignments", "reference"):
        shutil.copytree(COURSE / part / "assignment2", folder / part / "assignment2",
                        ignore=shutil.ignore_patterns("__pycache__"))
    for root, dirs, files in os.walk(folder):
        for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
            os.chown(name, 65534, 65534)
    return folder


def test_a_ta_without_root_grades_a_class_with_a_file_they_cannot_read(world_dir):
    course = _course_owned_by_nobody(world_dir / "course")
    submissions = world_dir / "submissions"
    submissions.mkdir(mode=0o755)
    shutil.copy(COURSE / "examples" / "assignment2" / "full_marks.py", submissions / "alice.py")
    (submissions / "olga").mkdir(mode=0o755)
    (submissions / "olga" / "assignment2.py").write_text("x = 1\n")
    (submissions / "olga" / "assignment2.py").chmod(0)  # root's, and unreadable to the TA
    (submissions / "erin.txt").write_text("")
    for path in (submissions / "alice.py", submissions / "erin.txt"):
        path.chmod(0o644)
    (world_dir / "results").mkdir()
    (world_dir / "results").chmod(0o777)
    out = world_dir / "results" / "assignment2"
    run = subprocess.run(AS_NOBODY + ["env", f"HOME={world_dir}", f"GRADER_COURSE={course}", sys.executable, "-m",
                                      "grader", "batch", "assignment2", str(submissions), "--out", str(out)],
                         capture_output=True, text=True, timeout=600, cwd="/")
    assert run.returncode == 0, run.stderr
    with open(out / "grades.csv", newline="") as stream:
        rows = {row["id"]: (row["status"], row["reason"]) for row in csv.DictReader(stream)}
    assert rows == {
        "alice": ("passed", ""),
        "erin": ("no-submission", "erin.txt is not a .py or .ipynb file, nor a folder or .zip archive holding one."),
        "olga": ("no-submission", "olga/assignment2.py could not be read (permission denied).")}
    assert (out / "alice.json").stat().st_uid == 65534
    secret = (course / "reference" / "course-secret").stat()  # made on first use, the TA's alone
    assert secret.st_uid == 65534 and secret.st_mode & 0o777 == 0o600
