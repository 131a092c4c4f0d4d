"""The checks of an assignment that need no grading: its files and what they declare.

Loading the assignment already refuses unknown settings, a misspelled
function in a check, a check that reaches a function or probe the assignment
does not define, and duplicate check names (``grader.course``). This adds what
an author forgets while nothing fails yet: a README that leaves a function
out, a notebook twin older than its template, a function no hidden check
tests, a function the reference lacks.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from grader import notebooks
from grader.authoring.mutants import functions as defined_functions
from grader.authoring.solution import exercised
from grader.authoring.verdict import Problem
from grader.checks import CheckSpec
from grader.course import Assignment, template_functions
from grader.errors import SpecError


@dataclass(frozen=True)
class Layout:
    problems: tuple[Problem, ...]
    notes: tuple[str, ...]
    summary: str


def inspect(assignment: Assignment, checks: list[CheckSpec], solution: str) -> Layout:
    problems: list[str] = []
    notes: list[str] = []
    folder, settings = assignment.folder, assignment.folder / "assignment.yaml"
    template = folder / f"{assignment.name}.py"
    problems += _functions(assignment)
    problems += _readme(assignment)
    problems += _twin(assignment)
    solved = {name for name, _ in defined_functions(ast.parse(solution))}
    missing = [f for f in assignment.functions if f not in solved]
    if missing:
        problems.append(f"{assignment.reference}/solution.py does not define {', '.join(missing)}")
    for function in assignment.functions:
        own = [c for c in checks if exercised(function, c.functions)]
        hidden = [c for c in own if c.visibility == "hidden"]
        if not own:
            problems.append(f"no check exercises {function}")
        elif not hidden and function not in dict(assignment.public_only):
            problems.append(f"no hidden check exercises {function}: add one to {assignment.reference}/checks.py, "
                            f"or list it under public_only: in {settings} if its public checks are all it needs")
        elif hidden and function in dict(assignment.public_only):
            notes.append(f"{function} is listed under public_only: but hidden checks exercise it "
                         f"({', '.join(c.name for c in hidden)}); take it off that list")
    if assignment.functions_listed and not _functions(assignment):
        notes.append(f"{settings} lists functions: as the template defines them; they are read from the template "
                     "when that setting is left out")
    if "hidden:" in _top_level_keys(settings.read_text(encoding="utf-8")):
        notes.append(f"{settings} says hidden: {{checks, points}}; beside reference/ they are counted from the "
                     "hidden checks, and grade release writes them into a student's copy: delete that setting")
    if not template.is_file():
        problems.append(f"there is no template {template}")
    unloaded = [name for name in _imported(template) if name in {"torch"} and name not in assignment.preload]
    if unloaded:
        notes.append(f"the template imports {', '.join(unloaded)}, which {settings} does not preload: every worker "
                     f"then imports it itself (seconds each); add it to preload:")
    public = sum(1 for c in checks if c.visibility == "visible")
    summary = (f"{len(assignment.functions)} functions, {public} public and {len(checks) - public} hidden checks"
               f"{'' if problems else '; README and notebook twin agree with the template'}")
    return Layout(tuple(Problem("settings", text) for text in problems), tuple(notes), summary)


def _functions(assignment: Assignment) -> list[str]:
    if not assignment.functions_listed:
        return []
    try:
        written = template_functions(assignment.folder)
    except SpecError as exc:
        return [str(exc)]
    if list(written) == list(assignment.functions):
        return []
    extra = [f for f in written if f not in assignment.functions]
    absent = [f for f in assignment.functions if f not in written]
    said = "; ".join(part for part in (
        f"the template also defines {', '.join(extra)}" if extra else "",
        f"the template does not define {', '.join(absent)}" if absent else "",
        "" if extra or absent else "the template defines them in another order") if part)
    return [f"{assignment.folder / 'assignment.yaml'} lists functions that differ from the template's ({said}); "
            "delete functions: from assignment.yaml to have them read from the template"]


def _readme(assignment: Assignment) -> list[str]:
    readme = assignment.folder / "README.md"
    if not readme.is_file():
        return [f"there is no {readme}: students need the exercise and each function's contract"]
    text = readme.read_text(encoding="utf-8")
    unnamed = [f for f in assignment.functions if not re.search(rf"\b{re.escape(f.split('.')[-1])}\b", text)]
    if unnamed:
        return [f"{readme} does not name {', '.join(unnamed)}: say what each function takes and returns"]
    return []


def _twin(assignment: Assignment) -> list[str]:
    template = assignment.folder / f"{assignment.name}.py"
    twin = template.with_suffix(".ipynb")
    if not template.is_file():
        return []
    command = f"grade make-notebook {template}"
    if not twin.is_file():
        return [f"there is no notebook twin {twin.name}; make it with: {command}"]
    if twin.read_text(encoding="utf-8") != notebooks.render(template.read_text(encoding="utf-8")):
        return [f"{twin.name} differs from its template {template.name}; make it again with: {command}"]
    return []


def _imported(template: Path) -> set[str]:
    """The top-level packages the template imports (nothing when it cannot be read as Python)."""
    try:
        tree = ast.parse(template.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return set()
    names = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}
    return names | {node.module.split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.module and not node.level}


def _top_level_keys(yaml_text: str) -> set[str]:
    return {line.split(":")[0] + ":" for line in yaml_text.splitlines() if re.match(r"^[A-Za-z_]+:", line)}
