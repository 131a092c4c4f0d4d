"""``grade new``: a new assignment, laid out as the course expects and sound from the start.

It writes, for each function named, a worked example in every file (the
function doubles an array): the template's cell with the contract and a stub,
the README's row, a public check that computes the expected value with NumPy,
a hidden check against the reference on edge shapes, and the reference
solution. ``grade check NAME`` passes on it as written; the author replaces
each example with the real function, its contract and its checks, and runs
``grade check`` again. Nothing derivable is written: the function list is read
from the template, the hidden checks are counted from reference/.
"""

from __future__ import annotations

import json
import keyword
import shutil
import zlib
from pathlib import Path

from grader import notebooks
from grader.errors import UsageError


def new_assignment(course: Path, name: str, functions: tuple[str, ...], *, title: str | None = None) -> list[Path]:
    """Write assignments/NAME/ and reference/NAME/ under course; returns the files written."""
    _require_identifier(name, "the assignment's name")
    for function in functions:
        _require_identifier(function, "a function's name")
        if function.startswith("_"):
            raise UsageError(f"{function}: functions students write cannot start with _ (those are helpers)")
    if len(set(functions)) != len(functions):
        raise UsageError("a function is named twice")
    folder, reference = course / "assignments" / name, course / "reference" / name
    for path in (folder, reference):
        if path.exists():
            raise UsageError(f"{path} already exists; choose another name or remove it")
    title = title or name
    files = {
        folder / f"{name}.py": _template(name, title, functions),
        folder / "README.md": _readme(name, title, functions),
        folder / "assignment.yaml": _settings(name, title),
        folder / "checks.py": _public_checks(name, functions),
        reference / "solution.py": _solution(name, functions),
        reference / "checks.py": _hidden_checks(name, functions),
    }
    written: list[Path] = []
    try:
        for path, content in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
            written.append(path)
        written.append(notebooks.write_twin(folder / f"{name}.py"))
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(reference, ignore_errors=True)
        raise
    return written


def _require_identifier(text: str, what: str) -> None:
    if not text.isidentifier() or keyword.iskeyword(text):
        raise UsageError(f"{text!r} cannot be {what}: use letters, digits and _ (a Python name)")


def _template(name: str, title: str, functions: tuple[str, ...]) -> str:
    cells = [f"""# %% [markdown]
# # {title}
#
# Say here what this assignment teaches and what students write. Each function below
# has its contract (what it takes, returns and raises) in the cell above it; the README
# has the full exercise.
#
# Check your work with `grade {name}`.

# %%
import numpy as np
"""]
    for function in functions:
        cells.append(f"""
# %% [markdown]
# ## `{function}`
#
# `{function}(x)` takes a NumPy array `x` of any shape and returns a **new** array of the
# same shape holding `2 * x`.

# %%
def {function}(x):
    # YOUR CODE HERE
    raise NotImplementedError
""")
    return "\n".join(cells)


def _readme(name: str, title: str, functions: tuple[str, ...]) -> str:
    rows = "\n".join(f"| `{function}(x)` | a NumPy array `x` of any shape | a new array of the same shape holding "
                     f"`2 * x` |" for function in functions)
    return f"""# {title}

What this assignment teaches, and the rules the grader enforces (which operations are allowed,
what must be raised when inputs do not fit).

Write your code in `{name}.py` (or its notebook twin `{name}.ipynb`): each function below, in
place of its `raise NotImplementedError`.

| function | takes | returns |
| --- | --- | --- |
{rows}

Check your work with `grade {name}`: it runs the public checks in `checks.py` and prints what
passed and what to fix. When your work is graded, hidden checks also run, on inputs you have not
seen.
"""


def _settings(name: str, title: str) -> str:
    seed = zlib.crc32(name.encode()) % 10_000
    return f"""# {name}: settings. The functions students write are read from {name}.py (its public functions),
# and the hidden checks are counted from reference/{name}/checks.py.
title: {json.dumps(title, ensure_ascii=False)}
seed: {seed}
# What the sandbox imports once, before any worker forks: add torch if the template imports it.
preload: [numpy]
limits:
  call_timeout: 5
  load_timeout: 30
  memory_mb: 1024
# Rules, each a list of functions that earn nothing when they break it (see the README's "Writing an
# assignment"): loops_only, no_autograd, requires_autograd, vectorised.
# Grader code that runs beside the student's, in their process (student.probe(...) in the checks):
# probes: probes.py
# Mutants of the reference that no check could ever tell from it, each with the reason (grade check
# prints the id of a mutant that survives):
# equivalent_mutants:
#   "function: before -> after": "why no check can tell them apart"
"""


def _public_checks(name: str, functions: tuple[str, ...]) -> str:
    checks = "\n\n".join(f'''@check(points=2, functions="{function}")
def {function}_values(student, rng):
    """{function} returns 2 * x on random matrices"""
    for shape in [(3, 4), (5, 2)]:
        x = rng.standard_normal(shape)
        expected = 2 * x  # computed here with NumPy, never by the reference (which students do not have)
        assert_same(student.{function}(x), expected, what=f"{function}(x) for x of shape {{shape}}")'''
                           for function in functions)
    return f'''"""Public checks for {name}: students read these and run them with grade {name}.

Inputs come from the check's seeded generator (rng), so remembered answers do not help.
"""

from grader.checks import assert_same, check


{checks}
'''


def _hidden_checks(name: str, functions: tuple[str, ...]) -> str:
    checks = "\n\n".join(f'''@check(points=1, functions="{function}")
def {function}_edge_shapes(student, reference, rng):
    """{function} on a single element, a single row and a single column"""
    for shape in [(1, 1), (1, 5), (6, 1)]:
        x = rng.standard_normal(shape)
        assert_same(student.{function}(x), reference.{function}(x), what="{function}(x)")''' for function in functions)
    return f'''"""Hidden checks for {name}: other inputs, compared with the reference solution.

A hidden check's message never shows its inputs or expected values, so `what` names the call only.
"""

from grader.checks import assert_same, check


{checks}
'''


def _solution(name: str, functions: tuple[str, ...]) -> str:
    bodies = "\n\n".join(f"def {function}(x):\n    return 2 * x\n" for function in functions)
    return f'''"""Reference solution for {name}."""

import numpy as np


{bodies}'''
