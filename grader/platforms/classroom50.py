"""``grade classroom50``: the per-assignment bundle for a Classroom 50 classroom.

The bundle goes into the classroom's config repository as
CLASSROOM/autograders/SLUG/ (SLUG is the assignment's slug on Classroom 50,
our assignment name unless told otherwise). Its autograder.py installs the
grader from the bundle's grader-src/ when the runner's Python lacks it, then
runs ``grade ... --format classroom50`` on the student's checkout with the
bundle's course/ (public and hidden checks, reference solution).

Classroom 50 publishes bundles on the classroom's GitHub Pages site and runs
them inside the student's own repository; see the README for what that means
for hidden checks.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import grader
from grader.errors import UsageError
from grader.platforms.common import (
    copy_course,
    copy_grader,
    empty_folder,
    files_under,
    graded_assignment,
    publish,
    template,
    torch_version,
)

# Classroom 50's runner refuses bundles larger than this.
BUNDLE_LIMIT_BYTES = 10 * 1024 * 1024


def build_classroom50(course: Path, name: str, out: Path, *, slug: str | None = None) -> Path:
    """Write the bundle folder out/SLUG; returns it."""
    assignment = graded_assignment(course, name, with_reference=True)
    values = {"ASSIGNMENT": name, "GRADER_VERSION": grader.__version__, "TORCH_VERSION": torch_version()}
    with tempfile.TemporaryDirectory(prefix="grade-classroom50-") as staging_name:
        staging = Path(staging_name)
        (staging / "autograder.py").write_text(template("classroom50/autograder.py", values), encoding="utf-8")
        copy_grader(staging / "grader-src")
        copy_course(assignment, staging / "course", with_reference=True, secret="public")
        size = sum(p.stat().st_size for p in files_under(staging))
        if size > BUNDLE_LIMIT_BYTES:
            raise UsageError(f"the bundle would be {size / 2**20:.1f} MB; Classroom 50 fetches at most "
                             f"{BUNDLE_LIMIT_BYTES // 2**20} MB. Move large files out of the assignment's folders.")
        bundle = publish(staging, empty_folder(out / (slug or name)))
    return bundle
