"""Finding and reading submissions without running them."""

import os
import time

import pytest

from grader.errors import UsageError
from grader.submission import MAX_SOURCE_BYTES, TEMPLATE_HASHES, file_hash, locate, read


def test_a_file_is_taken_as_is(tmp_path):
    path = tmp_path / "anything.py"
    path.write_text("x = 1\n")
    assert locate(path, "assignment2") == (path, None)


def test_a_folder_gives_its_assignment_file_or_its_only_python_file(tmp_path):
    (tmp_path / "notes.txt").write_text("")
    only = tmp_path / "my_work.ipynb"
    only.write_text("{}")
    assert locate(tmp_path, "assignment2") == (only, None)
    named = tmp_path / "assignment2.py"
    named.write_text("")
    assert locate(tmp_path, "assignment2")[0] == named


def test_with_both_files_the_newer_one_is_graded_and_the_choice_is_said(tmp_path):
    py, nb = tmp_path / "hw.py", tmp_path / "hw.ipynb"
    py.write_text("")
    nb.write_text("{}")
    old = time.time() - 100
    os.utime(py, (old, old))
    path, remark = locate(tmp_path, "hw")
    assert path == nb and "graded hw.ipynb" in remark and "hw.py" in remark


def test_with_both_files_the_one_that_is_no_longer_the_template_is_graded(tmp_path):
    templates = tmp_path / "templates"
    work = tmp_path / "work"
    for folder in (templates, work):
        folder.mkdir()
        (folder / "hw.py").write_text("def f():\n    raise NotImplementedError\n")
        (folder / "hw.ipynb").write_text("{}")
    (work / "hw.py").write_text("def f():\n    return 1\n")
    os.utime(work / "hw.py", (0, 0))  # older than the notebook: time alone would pick the notebook
    path, remark = locate(work, "hw", templates=templates)
    assert path == work / "hw.py" and "hw.ipynb is still the unchanged template" in remark
    # In the templates folder itself (a student's own copy), the hashes recorded at release tell.
    (templates / TEMPLATE_HASHES).write_text(f"{file_hash(templates / 'hw.ipynb')}  hw.ipynb\n")
    (templates / "hw.py").write_text("def f():\n    return 2\n")
    os.utime(templates / "hw.py", (0, 0))
    assert locate(templates, "hw", templates=templates)[0] == templates / "hw.py"
    (templates / TEMPLATE_HASHES).unlink()
    assert locate(templates, "hw", templates=templates)[0] == templates / "hw.ipynb"  # no record: newest


def test_nothing_to_grade_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        locate(tmp_path / "missing", "hw")
    (tmp_path / "a.py").write_text("")
    (tmp_path / "b.py").write_text("")
    with pytest.raises(UsageError, match="has no hw.py or hw.ipynb \\(it has a.py, b.py\\)"):
        locate(tmp_path, "hw")


def test_a_python_file_is_one_unit(tmp_path):
    path = tmp_path / "hw.py"
    path.write_text("\ufeffx = 1\n", encoding="utf-8")
    submission = read(path)
    assert submission.problem is None
    assert [(u.label, u.filename, u.source) for u in submission.units] == [("", "hw.py", "x = 1\n")]


def test_unreadable_files_are_the_students_result_not_a_crash(tmp_path):
    binary = tmp_path / "hw.py"
    binary.write_bytes(b"x = '\xff'\n")
    assert "is not UTF-8 text" in read(binary).problem
    broken = tmp_path / "hw.ipynb"
    broken.write_text("{not json")
    assert "could not be read as a Jupyter notebook" in read(broken).problem
    huge = tmp_path / "big.py"
    huge.write_bytes(b"#" * (MAX_SOURCE_BYTES + 1))
    assert "more than the" in read(huge).problem


