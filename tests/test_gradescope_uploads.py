"""What students upload to Gradescope, as Gradescope lays it out in /autograder/submission.

A student may upload the file, their whole repository (Gradescope's GitHub upload clones it), a zip
of their folder (which Gradescope unpacks, leaving the folder one level down) or a zip it leaves
packed. Each must score what `grade` gives the same file: run_autograder uses the same finder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile

import pytest

from .test_platforms import (  # noqa: F401  (fixtures used by name)
    MISTAKES,
    autograder_zip,
    environment,
    gradescope_root,
    reference_report,
    release,
    validate,
)


def run_autograder(root):
    run = subprocess.run(["bash", str(root / "source" / "run_autograder")], cwd=root, capture_output=True,
                         text=True, env=environment(AUTOGRADER_ROOT=str(root)))
    assert run.returncode == 0, run.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    validate(results, "gradescope-results.schema.json")
    return results


def upload_repository(release, submission):
    """The student's repository as Gradescope clones it: the release, their work in the template's place."""
    shutil.copytree(release, submission, dirs_exist_ok=True)
    shutil.copy(MISTAKES, submission / "assignments" / "assignment2" / "assignment2.py")
    os.utime(submission / "assignments" / "assignment2" / "assignment2.py", (0, 0))  # older than the notebook
    (submission / ".git" / "objects").mkdir(parents=True)
    (submission / ".git" / "HEAD").write_text("ref: refs/heads/main\n")


def upload_unpacked_zip(release, submission):
    """A zipped folder, which Gradescope unpacks: the file is one folder down, beside the OS's litter."""
    (submission / "hw2").mkdir()
    shutil.copy(MISTAKES, submission / "hw2" / "assignment2.py")
    (submission / "__MACOSX" / "hw2").mkdir(parents=True)
    (submission / "__MACOSX" / "hw2" / "._assignment2.py").write_bytes(b"\x00\x05\x16\x07")


def upload_packed_zip(release, submission):
    with zipfile.ZipFile(submission / "hw2.zip", "w") as archive:
        archive.write(MISTAKES, "hw2/assignment2.py")
        archive.writestr("hw2/notes.md", "my notes\n")


@pytest.mark.parametrize("upload", [upload_repository, upload_unpacked_zip, upload_packed_zip],
                         ids=["repository", "unpacked zip", "packed zip"])
def test_every_way_of_uploading_scores_what_grade_gives_the_file(autograder_zip, release, reference_report,
                                                                 tmp_path, upload):
    root = gradescope_root(autograder_zip, tmp_path, None)
    upload(release, root / "submission")
    results = run_autograder(root)
    assert results["score"] == reference_report.score > 0
    assert "no .py or .ipynb" not in json.dumps(results)


def test_a_repository_whose_only_work_is_in_the_notebook_is_graded_by_the_notebook(autograder_zip, release,
                                                                                    reference_report, tmp_path):
    import nbformat

    from grader.notebooks import notebook_from_percent

    root = gradescope_root(autograder_zip, tmp_path, None)
    upload_repository(release, root / "submission")
    work = root / "submission" / "assignments" / "assignment2"
    shutil.copy(release / "assignments" / "assignment2" / "assignment2.py", work / "assignment2.py")  # untouched
    nbformat.write(notebook_from_percent(MISTAKES.read_text()), work / "assignment2.ipynb")
    os.utime(work / "assignment2.ipynb", (0, 0))  # older: dates do not decide
    results = run_autograder(root)
    assert results["score"] == reference_report.score


def test_the_release_readme_says_what_to_upload_where_and_how_to_open_the_notebook(release):
    readme = (release / "README.md").read_text()
    assert "jupyter notebook assignments/assignment2/assignment2.ipynb" in readme
    hand_in = readme.split("## Hand it in", 1)[1]
    assert "**Gradescope**: upload the file you worked in" in hand_in
    assert "`assignments/assignment2/assignment2.py` or `assignment2.ipynb`" in hand_in
    assert "whole repository" in hand_in and "**GitHub**" in hand_in
