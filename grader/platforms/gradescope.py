"""``grade gradescope``: the autograder zip Gradescope asks for.

At the root of the zip, as Gradescope's specification wants: setup.sh (run
once when Gradescope builds the image) and run_autograder (run for every
submission). Beside them the grader's source and the course material it
grades with, reference and hidden checks included: Gradescope never shows
the autograder's files to students, and run_autograder makes them readable by
root only, while student code runs as another user.
"""

from __future__ import annotations

import os
import stat
import tempfile
import zipfile
from pathlib import Path

from grader.platforms.common import copy_course, copy_grader, files_under, graded_assignment, template, torch_version

_EXECUTABLE = {"setup.sh", "run_autograder"}


def build_gradescope(course: Path, name: str, out: Path, *, hidden_visibility: str = "after_published") -> list[str]:
    """Write the autograder zip for assignment name to out; returns the names in it."""
    assignment = graded_assignment(course, name, with_reference=True)
    values = {"ASSIGNMENT": name, "TORCH_VERSION": torch_version(), "HIDDEN_VISIBILITY": hidden_visibility}
    with tempfile.TemporaryDirectory(prefix="grade-gradescope-") as staging_name:
        staging = Path(staging_name)
        for script in sorted(_EXECUTABLE):
            (staging / script).write_text(template(f"gradescope/{script}", values), encoding="utf-8")
        copy_grader(staging / "grader-src")
        copy_course(assignment, staging / "course", with_reference=True, secret="keep")
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(f".{out.name}.partial")
        names = []
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in files_under(staging):
                arcname = path.relative_to(staging).as_posix()
                info = zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0))
                mode = 0o755 if arcname in _EXECUTABLE else 0o644
                info.external_attr = (stat.S_IFREG | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
                names.append(arcname)
        os.replace(partial, out)
    return names
