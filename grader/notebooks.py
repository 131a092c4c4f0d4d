"""Notebook twins of the student templates.

Each template is written once, as a .py file in the "percent" format
(``# %%`` starts a code cell, ``# %% [markdown]`` a text cell), and its .ipynb
twin is generated from it, so the two cannot drift apart:

    grade make-notebook assignments/assignment2/assignment2.py
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

_MARKER = re.compile(r"^# %%(?P<markdown> \[markdown\])?\s*$")


def notebook_from_percent(source: str) -> nbformat.NotebookNode:
    """A notebook whose cells are the percent-format cells of source."""
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
