"""Files for sharing: what the grader writes gets the permissions the umask gives any new file.

A course team often shares a results folder (umask 002 or 027 and a group); files forced to 0600,
or a release folder left 0700, lock colleagues out.
"""

from __future__ import annotations

import os
import shutil
import stat
from contextlib import contextmanager
from pathlib import Path

from grader.batch.run import BatchOptions, run_batch
from grader.platforms.classroom50 import build_classroom50
from grader.platforms.release import build_release
from grader.report.jsonreport import write_atomic

from .conftest import COURSE
from .test_batch import BATCH_LIMITS, Quiet


@contextmanager
def umask(mask: int):
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def modes(folder: Path) -> dict[str, set[int]]:
    """The permission bits found under folder (itself included), for files and for folders."""
    found: dict[str, set[int]] = {"file": set(), "folder": {stat.S_IMODE(folder.stat().st_mode)}}
    for path in folder.rglob("*"):
        found["folder" if path.is_dir() else "file"].add(stat.S_IMODE(path.lstat().st_mode))
    return found


def test_a_written_report_gets_the_umasks_permissions(tmp_path):
    for mask, expected in ((0o002, 0o664), (0o022, 0o644), (0o077, 0o600)):
        with umask(mask):
            write_atomic(tmp_path / f"{mask:o}" / "report.json", "{}")
        assert stat.S_IMODE((tmp_path / f"{mask:o}" / "report.json").stat().st_mode) == expected
    assert sorted(p.name for p in (tmp_path / "2").iterdir()) == ["report.json"]  # no temporary file left


def test_batch_results_are_shared_as_the_umask_says(tmp_path):
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    shutil.copy(COURSE / "examples" / "assignment2" / "full_marks.py", submissions / "alice.py")
    (submissions / "bob.txt").write_text("")
    out = tmp_path / "results"
    with umask(0o027):
        run_batch(COURSE, BatchOptions(assignment="assignment2", submissions=submissions, out=out, jobs=1,
                                       limits=BATCH_LIMITS), Quiet())
    assert modes(out) == {"file": {0o640}, "folder": {0o750}}


def test_a_release_and_a_bundle_are_folders_the_umask_decides(tmp_path):
    with umask(0o022):
        build_release(COURSE, "assignment2", tmp_path / "release")
        bundle = build_classroom50(COURSE, "assignment2", tmp_path / "bundles")
    for folder in (tmp_path / "release", bundle):
        found = modes(folder)
        assert found["folder"] == {0o755}, folder
        assert found["file"] <= {0o644, 0o755}, folder  # scripts keep their execute bits
