"""Reading submissions without running them (finding them is tests/test_finder.py)."""

import os

import nbformat

from grader.submission import MAX_SOURCE_BYTES, read


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


def test_reading_follows_no_link_and_opens_no_special_file(tmp_path):
    secret = tmp_path / "solution.py"
    secret.write_text("ANSWER = 42\n")
    os.symlink(secret, tmp_path / "hw.py")
    linked = read(tmp_path / "hw.py")
    assert linked.units == () and "is a symbolic link, which the grader does not follow" in linked.problem
    os.mkfifo(tmp_path / "pipe.py")  # opening it for reading the usual way would wait for a writer for ever
    assert "is a named pipe, not a regular file" in read(tmp_path / "pipe.py").problem


def test_a_notebook_is_known_by_its_extension_in_any_case(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(notebook, tmp_path / "HW.IPYNB")
    assert [u.source.strip() for u in read(tmp_path / "HW.IPYNB").units] == ["x = 1"]  # cells: test_notebooks.py
