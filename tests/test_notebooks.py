"""Notebooks: twins generated from percent-format templates, and cells run as Jupyter runs them."""

import io
from contextlib import redirect_stdout
from pathlib import Path

import nbformat
import pytest

from grader import failed_imports
from grader.notebooks import cell_to_python, notebook_from_percent, render
from grader.sandbox import ipython_shim
from grader.sandbox.session import Limits
from grader.submission import read

from .conftest import COURSE

TEMPLATE = """# %% [markdown]
# # Title
#
# Some *text*.

# %%
import numpy as np

# %%
def f(x):
    # YOUR CODE HERE
    raise NotImplementedError
"""
FULL_MARKS = (COURSE / "examples" / "assignment2" / "full_marks.py").read_text()
# Loading imports IPython or matplotlib in the worker: a generous limit, so a busy machine cannot fail the test.
SLOW_LOAD = Limits(call_timeout=10.0, load_timeout=120.0, memory_mb=1024)


def test_cells_follow_the_markers():
    notebook = notebook_from_percent(TEMPLATE)
    assert [(c.cell_type, c.source) for c in notebook.cells] == [
        ("markdown", "# Title\n\nSome *text*."),
        ("code", "import numpy as np"),
        ("code", "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError"),
    ]
    nbformat.validate(notebook)


def test_rendering_is_byte_for_byte_reproducible():
    assert render(TEMPLATE) == render(TEMPLATE)


def write_notebook(path: Path, *cells: str) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# My work")] + [nbformat.v4.new_code_cell(c) for c in cells]
    path.write_text(nbformat.writes(notebook), encoding="utf-8")
    return path


# --- turning cells into Python ------------------------------------------------------------


def test_code_cells_become_units_numbered_as_jupyter_shows_them(tmp_path):
    submission = read(write_notebook(tmp_path / "hw.ipynb", "x = 1", "%matplotlib inline\ny = 2\n!ls"))
    assert [(u.label, u.filename) for u in submission.units] == [("cell 2", "hw.ipynb [cell 2]"),
                                                                 ("cell 3", "hw.ipynb [cell 3]")]
    assert submission.units[1].source.splitlines() == [
        "get_ipython().run_line_magic('matplotlib', 'inline')", "y = 2", "get_ipython().system('ls')"]
    assert [(n.kind, n.where) for n in submission.notes] == [("dropped", "cell 3, line 3")]  # matplotlib is fine


@pytest.mark.parametrize("source, python", [
    # IPython's own translations, line for line.
    ("!pip install x\nimport numpy", "get_ipython().system('pip install x')\nimport numpy\n"),
    ("if True:\n    %time f()\n", "if True:\n    get_ipython().run_line_magic('time', 'f()')\n"),
    ("files = !ls\n", "files = get_ipython().getoutput('ls')\n"),
    ("np.dot?\n", "get_ipython().run_line_magic('pinfo', 'np.dot')\n"),
    # Not magics: a modulo on a continuation line, text inside a string, a comment ending in '?'.
    ("x = (a\n     % b)\n", "x = (a\n     % b)\n"),
    ("s = '''\n%not a magic\n'''\n", "s = '''\n%not a magic\n'''\n"),
    ("print(1)  # why?\n", "print(1)  # why?\n"),
    # Leading blank lines stay, so line numbers are the ones the student sees.
    ("\n\nx = 1\n!ls\n", "\n\nx = 1\nget_ipython().system('ls')\n"),
])
def test_cells_are_translated_by_ipython(source, python):
    assert cell_to_python(source)[0] == python


def test_cell_magics_with_python_bodies_keep_the_body_as_code_on_its_lines():
    python, notes = cell_to_python("%%time\ndef f():\n    return 1\n!ls\n")
    assert python.splitlines() == ["pass", "def f():", "    return 1", "get_ipython().system('ls')"]
    assert notes == [(4, "skipped `!ls`: shell commands do not run when grading")]
    assert cell_to_python("%%capture out --no-stderr\nprint(1)\n")[0] == (
        "out = get_ipython().captured_output()\nprint(1)\n")


def test_what_does_not_run_as_in_jupyter_is_listed_with_its_line():
    _, notes = cell_to_python("%%bash\necho hi\n")
    assert notes == [(1, "skipped the whole cell: it starts with `%%bash`, so it is not Python "
                          "and does not run when grading")]
    _, notes = cell_to_python("%pip install torch\n%run helper.py\n%load_ext autoreload\n%autoreload 2\nf?\n")
    assert [(line, text.split("`")[1]) for line, text in notes] == [(1, "%pip install torch"), (2, "%run helper.py")]
    _, notes = cell_to_python("a = 1\n%%time\nb = 2\n")
    assert notes[0][0] == 2 and "first line" in notes[0][1]


# --- the stand-ins a notebook's cells get ---------------------------------------------------


def run_cell(source: str, namespace: dict) -> str:
    """Run one translated cell the way the worker does; return what it printed."""
    python, _ = cell_to_python(source)
    printed = io.StringIO()
    with redirect_stdout(printed):
        exec(compile(python, "hw.ipynb [cell 2]", "exec"), namespace)
    return printed.getvalue()


def test_cells_get_display_and_a_get_ipython_that_runs_what_it_can(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "hw"}
    ipython_shim.install(namespace)
    printed = run_cell("display(1, 'two')\nx = %time 6 * 7\n%timeit -n 3 -r 1 y = x + 1\n"
                       "files = !ls\n%env SHIM_TEST=on\n", namespace)
    assert printed == "1 two\n"
    assert namespace["x"] == 42 and namespace["y"] == 43  # run once, in the notebook's scope
    assert namespace["files"] == [] and namespace["files"].s == ""
    run_cell("%%writefile notes.txt\nhello\n", namespace)
    assert (tmp_path / "notes.txt").read_text() == "hello\n"
    with pytest.raises(ipython_shim.UsageError, match="first line"):  # as Jupyter: the cell stops there
        run_cell("a = 1\n%%time\nb = 2\n", namespace)
    assert namespace["a"] == 1 and "b" not in namespace


def test_a_magic_inside_a_function_runs_in_the_functions_scope():
    namespace = {}
    ipython_shim.install(namespace)
    run_cell("def f(v):\n    w = %time v + 1\n    return w\n", namespace)
    assert namespace["f"](1) == 2 and "w" not in namespace


# --- whole notebooks in the sandbox ------------------------------------------------------------


def test_a_notebook_using_display_and_ipython_gets_full_marks(grade2, tmp_path):
    notebook = write_notebook(
        tmp_path / "display.ipynb",
        "from IPython.display import display, clear_output\nfrom IPython import get_ipython\nimport numpy as np\n"
        "get_ipython().run_line_magic('matplotlib', 'inline')\n" + FULL_MARKS
        + "\ndisplay(naive_relu(np.ones((2, 2))))\nclear_output()\n",
        "%%time\nz = naive_add(np.ones((1, 1)), np.ones((1, 1)))\n"
        "%timeit -n 1 -r 1 naive_relu(z)\nassert z[0, 0] == 2\n")
    report = grade2(notebook, limits=SLOW_LOAD)
    assert report.notes == () and report.score == report.max_score


def test_a_notebook_plotting_with_matplotlib_gets_full_marks(grade2, tmp_path):
    pytest.importorskip("matplotlib")
    notebook = write_notebook(
        tmp_path / "plots.ipynb",
        "import matplotlib.pyplot as plt\n%matplotlib inline\n" + FULL_MARKS
        + "\ndef naive_relu_plotted(x):\n    plt.plot(x.ravel())\n    plt.show()\n    return naive_relu(x)\n",
        "plt.plot([1, 2, 3])\nplt.show()\nassert not plt.get_fignums()  # closed once shown, as inline does\n"
        "import matplotlib\nassert 'grader' in matplotlib.get_backend()\n")
    report = grade2(notebook, limits=SLOW_LOAD)
    assert report.notes == () and report.score == report.max_score


def test_a_missing_module_is_named_on_every_check_it_breaks(grade2, tmp_path):
    notebook = write_notebook(tmp_path / "missing.ipynb",
                              "import not_installed_for_grading as nope\nimport numpy as np",
                              FULL_MARKS.replace("import numpy as np", ""))
    report = grade2(notebook)
    assert [(n.kind, n.where) for n in report.notes] == [("exception", "cell 2, line 1")]
    broken = [r for r in report.results if not r.passed]
    # What the checks say on their own: the NameError, or that a property was not checked for want of values.
    assert broken and all("NameError" in r.message or r.message.startswith("Not checked") for r in broken)
    linked = {r.name: r for r in failed_imports.link(report.results, read(notebook).units, report.notes)}
    for result in broken:
        message = linked[result.name].message
        if result.visibility == "visible":
            assert ("`np` was never defined because `import not_installed_for_grading as nope` failed at cell 2, "
                    "line 1 (No module named 'not_installed_for_grading'), so the rest of that cell did not run."
                    ) in message
        else:
            assert "Loading stopped at cell 2, line 1, where an import failed" in message
            assert "not_installed" not in message  # nothing the student wrote in a hidden check's message
    assert all(linked[r.name] == r for r in report.results if r.passed)


def test_an_import_failing_in_a_py_file_costs_only_its_own_names():
    from grader.model import LoadNote
    from grader.sandbox.session import Unit

    units = [Unit("", "hw.py", "import numpy as np\nimport not_here as nh\ndef f():\n    return nh.x\n")]
    notes = [LoadNote("exception", "line 2", "ModuleNotFoundError: No module named 'not_here' "
                                             "(this statement did not finish)")]
    [found] = failed_imports.failed_imports(units, notes)
    assert (found.lost, found.cell, found.statement) == ({"nh"}, False, "import not_here as nh")


def test_ipython_is_imported_only_to_read_a_notebook(tmp_path):
    import subprocess
    import sys

    probe = ("import sys; from pathlib import Path; from grader.submission import read; "
             "read(Path(sys.argv[1])); print('IPython' in sys.modules)")
    notebook = write_notebook(tmp_path / "hw.ipynb", "x = 1")
    for path, expected in ((COURSE / "examples" / "assignment2" / "full_marks.py", "False"), (notebook, "True")):
        done = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True, check=True)
        assert done.stdout.strip() == expected, path
