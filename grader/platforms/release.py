"""``grade release``: what students receive, and nothing from reference/.

The release is a small course of its own: the grader (so ``grade`` runs the
public checks offline), the assignment's folder (template, notebook twin,
README, public checks and their helpers), a README on how to start and, with
--github, the workflow that grades each push. Before it is written out, every
file is compared with the reference folder: a byte-identical copy of a
reference file stops the release.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from grader.errors import GraderError
from grader.finder import TEMPLATE_HASHES, file_code_digest
from grader.platforms.common import (
    copy_course,
    copy_grader,
    digest,
    empty_folder,
    files_under,
    graded_assignment,
    publish,
    template,
    torch_version,
)

_GITIGNORE = ".venv/\n__pycache__/\n*.py[cod]\n*.egg-info/\n.ipynb_checkpoints/\n"


def build_release(course: Path, name: str, out: Path, *, github: bool = False) -> list[Path]:
    """Write the release for assignment name into out (a new or empty folder); returns the files written."""
    assignment = graded_assignment(course, name, with_reference=False)
    with tempfile.TemporaryDirectory(prefix="grade-release-") as staging_name:
        staging = Path(staging_name)
        copy_grader(staging, with_readme=False)
        copy_course(assignment, staging, with_reference=False)
        folder = staging / "assignments" / name
        templates = [p for p in (folder / f"{name}.py", folder / f"{name}.ipynb") if p.is_file()]
        # Digests of the code, not the bytes: a template opened and saved in Jupyter is still the template.
        (folder / TEMPLATE_HASHES).write_text("".join(f"{file_code_digest(p)}  {p.name}\n" for p in templates),
                                              encoding="utf-8")
        values = {"ASSIGNMENT": name, "TITLE": assignment.title or name, "TORCH_VERSION": torch_version()}
        (staging / "README.md").write_text(template("release/README.md", values), encoding="utf-8")
        (staging / ".gitignore").write_text(_GITIGNORE, encoding="utf-8")
        if github:
            workflow = staging / ".github" / "workflows" / "classroom.yml"
            workflow.parent.mkdir(parents=True)
            workflow.write_text(template("github/classroom.yml", values), encoding="utf-8")
        _refuse_reference_copies(staging, assignment.reference)
        publish(staging, empty_folder(out))
    return files_under(out)


def _refuse_reference_copies(release: Path, reference: Path | None) -> None:
    if reference is None:
        return
    secret = {digest(p): p for p in files_under(reference)}
    for path in files_under(release):
        if digest(path) in secret:
            raise GraderError(f"{path.relative_to(release)} is a copy of {secret[digest(path)]}, which must stay "
                              "with course staff; remove it from the assignment's folder.")
