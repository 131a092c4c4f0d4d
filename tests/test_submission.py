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


def _nbformat_cells(text):
    return [(c.cell_type, c.source) for c in nbformat.reads(text, as_version=4).cells]


def test_format_4_notebooks_are_read_as_nbformat_reads_them_and_older_ones_by_nbformat(tmp_path):
    """The plain-JSON reading of format 4 (no nbformat import) gives nbformat's cells, for every notebook here."""
    from pathlib import Path

    from grader.finder.code import code_chunks
    from grader.submission import notebook_cells

    root = Path(__file__).resolve().parent.parent
    notebooks = sorted(root.glob("assignments/*/*.ipynb")) + sorted(root.glob("tests/fixtures/**/*.ipynb"))
    assert len(notebooks) >= 6
    for path in notebooks:
        text = path.read_text(encoding="utf-8")
        cells = notebook_cells(text)
        assert cells is not None, path
        plain = [(c["cell_type"], "".join(c["source"]) if isinstance(c["source"], list) else c["source"])
                 for c in cells]
        assert plain == _nbformat_cells(text), path
    old = nbformat.v3.new_notebook(worksheets=[nbformat.v3.new_worksheet(cells=[nbformat.v3.new_code_cell("y = 2")])])
    (tmp_path / "old.ipynb").write_text(nbformat.writes(old, version=3))
    text = (tmp_path / "old.ipynb").read_text()
    assert notebook_cells(text) is None  # format 3: nbformat reads it
    assert [u.source.strip() for u in read(tmp_path / "old.ipynb").units] == ["y = 2"]
    assert code_chunks(text.encode(), ".ipynb") == ["y = 2"]


def test_a_notebooks_seed_comes_from_its_code_cells_alone(tmp_path):
    """Outputs and metadata Jupyter saves leave the run as it was; any change to the code draws new hidden inputs."""
    import nbformat

    from grader.submission import cells_digest, read

    def saved(cells, outputs=()):
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_markdown_cell("# notes")] + [nbformat.v4.new_code_cell(c) for c in cells]
        notebook.cells[1].outputs = [nbformat.v4.new_output("stream", text=text) for text in outputs]
        path = tmp_path / f"n{len(list(tmp_path.iterdir()))}.ipynb"
        nbformat.write(notebook, path)
        return read(path).digest

    plain = saved(["import numpy as np", "def f(x):\n    return x\n"])
    assert plain == saved(["import numpy as np", "def f(x):\n    return x\n"], outputs=["printed\n"])
    assert plain == cells_digest(["import numpy as np\n", "", "def f(x):\n    return x"])  # as a kernel keeps them
    assert plain != saved(["import numpy as np", "def f(x):\n    return x  # mine\n"])
    assert plain != saved(["def f(x):\n    return x\n", "import numpy as np"])
