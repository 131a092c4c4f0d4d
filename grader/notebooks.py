"""Notebooks: their twins of the student templates, and their cells as Jupyter runs them.

Twins. Each template is written once, as a .py file in the "percent" format
(``# %%`` starts a code cell, ``# %% [markdown]`` a text cell), and its .ipynb
twin is generated from it, so the two cannot drift apart:

    grade make-notebook assignments/assignment2/assignment2.py

Cells. A submitted notebook's code cells become the units a sandbox worker
runs, in notebook order, turned into Python by IPython's own input transformer
(what Jupyter's kernel runs on every cell): magics become
``get_ipython().run_line_magic(...)`` calls and so on, which the worker's
stand-in for ``get_ipython()`` (``grader.sandbox.ipython_shim``) carries out
where that makes sense while grading. Cell magics whose body is Python
(``%%time``, ``%%capture``, ...) keep that body as code, so line numbers and the
static scan see it. What does not run as it would in Jupyter (shell commands,
installs, other languages) is listed as a note. This runs in the grading
process over text only; nothing here executes the student's code.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.model import LoadNote
from grader.sandbox.session import Unit

if TYPE_CHECKING:
    import nbformat

_MARKER = re.compile(r"^# %%(?P<markdown> \[markdown\])?\s*$")


def notebook_from_percent(source: str) -> nbformat.NotebookNode:
    """A notebook whose cells are the percent-format cells of source."""
    import nbformat  # 0.3 s with its validator: only for writing twins, never while grading cells

    cells: list[tuple[str, list[str]]] = [("code", [])]
    for line in source.splitlines():
        marker = _MARKER.match(line)
        if marker:
            cells.append(("markdown" if marker["markdown"] else "code", []))
        else:
            cells[-1][1].append(line)
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for kind, lines in cells:
        text = "\n".join(lines).strip("\n")
        if not text:
            continue
        if kind == "markdown":
            text = "\n".join(re.sub(r"^# ?", "", line) for line in text.splitlines())
            cell = nbformat.v4.new_markdown_cell(text)
        else:
            cell = nbformat.v4.new_code_cell(text)
        cell.id = f"cell-{len(notebook.cells) + 1}"  # stable ids keep the file byte-for-byte reproducible
        notebook.cells.append(cell)
    return notebook


def render(source: str) -> str:
    import nbformat

    return nbformat.writes(notebook_from_percent(source)) + "\n"


def write_twin(template: Path) -> Path:
    """Write template's .ipynb twin next to it and return its path."""
    target = template.with_suffix(".ipynb")
    target.write_text(render(template.read_text(encoding="utf-8")), encoding="utf-8")
    return target


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: grade make-notebook TEMPLATE.py [...]")
        return 2
    for name in argv:
        print(f"wrote {write_twin(Path(name))}")
    return 0


# --- cells as Jupyter runs them ---------------------------------------------------

# Cell magics whose body is Python that runs in the notebook's namespace. The body
# stays code here; %%timeit runs it once (Jupyter runs it many times, in a scope
# of its own, and keeps none of its names: see the README).
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})
# Cell magics that only show their body, or that the stand-in carries out.
_QUIET_CELL_MAGICS = frozenset({"html", "HTML", "markdown", "latex", "javascript", "js", "svg", "SVG", "writefile"})
# Line magics that change nothing a check could see, or that the stand-in
# carries out (time, timeit, env, pwd): no note.
_QUIET_LINE_MAGICS = frozenset({
    "matplotlib", "config", "load_ext", "reload_ext", "unload_ext", "autoreload", "aimport", "precision",
    "pprint", "xmode", "colors", "time", "timeit", "pinfo", "pinfo2", "pdef", "pdoc", "psource", "pfile",
    "who", "whos", "who_ls", "lsmagic", "magic", "quickref", "history", "pwd", "page", "automagic", "autocall",
    "doctest_mode", "alias_magic", "notebook", "clear", "tb", "env", "autosave", "recall", "rerun",
    "grade"})  # %grade (this grader's magic) asks for a grade; inside one it has nothing to do
_INSTALL_MAGICS = frozenset({"pip", "conda", "mamba", "micromamba", "uv"})
_SHELL_MAGICS = frozenset({"sx", "system", "bash", "sh", "script", "cd", "killbgscripts", "ls", "cat", "mkdir",
                           "rm", "cp", "mv", "less", "more", "man", "rmdir", "ldir", "lf", "lk", "ll", "lx"})
_SHOWN = 120  # characters of a magic's line quoted in a note


def cell_units(notebook: Any, filename: str) -> tuple[list[Unit], list[LoadNote]]:
    """The notebook's code cells as units in notebook order, numbered as Jupyter shows them (from 1)."""
    cells = [(f"cell {number}", f"{filename} [cell {number}]", source) for number, source in _code_cells(notebook)]
    return _units(cells)


def code_sources(notebook: Any) -> list[str]:
    """The text of the notebook's code cells, in order."""
    return [source for _, source in _code_cells(notebook)]


def _code_cells(notebook: Any) -> list[tuple[int, str]]:
    found = []
    for number, cell in enumerate(notebook.get("cells", []), start=1):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):  # read as plain JSON, a hand-edited file may hold anything here
            source = "".join(part for part in source if isinstance(part, str))
        found.append((number, str(source)))
    return found


def history_units(history: list[tuple[int, str]]) -> tuple[list[Unit], list[LoadNote]]:
    """The cells a kernel has run, as (execution count, what was typed) in the order they ran
    (IPython's In[]), as units labelled as Jupyter shows them: In [7]. Empty inputs are left out."""
    return _units([(f"In [{number}]", f"In [{number}]", source) for number, source in history if source.strip()])


def _units(cells: list[tuple[str, str, str]]) -> tuple[list[Unit], list[LoadNote]]:
    units, notes = [], []
    for label, filename, source in cells:
        python, skipped = _cell_to_python(source)
        notes += [LoadNote("dropped", f"{label}, line {line}", text) for line, text in skipped]
        units.append(Unit(label, filename, python))
    return units, notes


@functools.lru_cache(maxsize=4096)
def _cell_to_python(source: str) -> tuple[str, tuple[tuple[int, str], ...]]:
    """cell_to_python, remembered: %grade sends a kernel's every cell each time, and they never change."""
    python, notes = cell_to_python(source)
    return python, tuple(notes)


def cell_to_python(source: str) -> tuple[str, list[tuple[int, str]]]:
    """The Python that Jupyter runs for a cell, and (line, note) for what will not run as it does there.

    Line numbers stay those of the cell as the student sees it.
    """
    lines = source.splitlines(keepends=True)
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].startswith("%%"):
        header = lines[first].strip()
        name, _, argument = header[2:].partition(" ")
        if name in _PYTHON_CELL_MAGICS:
            body, notes = cell_to_python("".join(lines[first + 1:]))
            start = _header_stand_in(name, argument.strip())
            return "\n" * first + start + "\n" + body, [(line + first + 1, text) for line, text in notes]
    python = _transform(source)
    return python, _notes(python)


def _transform(source: str) -> str:
    from IPython.core.inputtransformer2 import TransformerManager  # 0.15 s, paid only for notebooks

    try:
        python = TransformerManager().transform_cell(source)
    except Exception:  # IPython could not read it: the worker reports the syntax error with its line
        return source
    # Jupyter drops a cell's leading blank lines; keep them, so line numbers are the student's.
    blank = len(source) - len(source.lstrip("\n \t\r"))
    leading = source[:blank].count("\n") if blank < len(source) else 0
    return "\n" * leading + python


def _header_stand_in(magic: str, argument: str) -> str:
    """The line that takes the place of a Python cell magic's header."""
    target = next((word for word in argument.split() if not word.startswith("-")), "")
    if magic == "capture" and target.isidentifier():  # `%%capture out` keeps what it captured in out
        return f"{target} = get_ipython().captured_output()"
    return "pass"


def _notes(python: str) -> list[tuple[int, str]]:
    try:
        tree = ast.parse(python)
    except (SyntaxError, ValueError):
        return []  # the cell will not run at all, and the worker says why
    notes = []
    for node in ast.walk(tree):
        call = _magic_call(node)
        if call is not None:
            text = _note(*call)
            if text:
                notes.append((node.lineno, text))
    return sorted(notes)


def _magic_call(node: ast.AST) -> tuple[str, list[str]] | None:
    """(method, string arguments) of a ``get_ipython().method('...', ...)`` call."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    owner = node.func.value
    if not (isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "get_ipython"):
        return None
    strings = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    return node.func.attr, strings


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def _note(method: str, arguments: list[str]) -> str:
    first = arguments[0] if arguments else ""
    if method in ("system", "getoutput"):
        return f"skipped `!{_quote(first)}`: shell commands do not run when grading"
    if method == "run_line_magic":
        name, line = first, arguments[1] if len(arguments) > 1 else ""
        shown = f"`%{_quote(f'{name} {line}'.strip())}`"
        if name in _QUIET_LINE_MAGICS:
            return ""
        if name.startswith("%"):
            return (f"{shown} is not on the first line of its cell, so Jupyter stops the cell there too: "
                    "a cell magic must begin its cell")
        if name in _INSTALL_MAGICS:
            return f"skipped {shown}: nothing can be installed while grading; only the course's packages are there"
        if name in _SHELL_MAGICS:
            return f"skipped {shown}: shell commands do not run when grading"
        return f"skipped {shown}: this IPython command does not run when grading"
    if method == "run_cell_magic":
        if first in _QUIET_CELL_MAGICS:
            return ""
        return (f"skipped the whole cell: it starts with `%%{_quote(first)}`, so it is not Python "
                "and does not run when grading")
    return ""
