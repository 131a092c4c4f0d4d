"""Naming the import that failed on every check it broke.

A notebook cell stops at its first error, as in Jupyter: when its first line
imports a module that is not installed where grading runs (matplotlib, say),
every name the rest of the cell defines is lost, and each check later fails
with ``NameError: name 'np' is not defined`` or "naive_add is not defined",
with nothing pointing at the import. In a .py file the statements run one by
one, so only the failed import's own names are lost.

link() adds the missing link to those checks' messages, reading only the
submission's source (never running it) and the load notes the worker sent.
A visible check names the import and its module; a hidden check says only
where loading stopped (nothing a student chose appears in a hidden check's
message).
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass

from grader.model import CheckResult, LoadNote
from grader.sandbox.session import Unit

_IMPORT_ERROR = re.compile(r"^(ModuleNotFoundError|ImportError): (?P<reason>.*?)(?: \(the rest of .*\))?$", re.S)
_WHERE = re.compile(r"^(?:(?P<label>.+), )?line (?P<line>\d+)$")
_NAME_ERROR = re.compile(r"name '(?P<name>[A-Za-z_]\w*)' is not defined")
_MISSING = re.compile(r"^(?P<name>[A-Za-z_][\w.]*) is not defined in your submission")
_SHOWN = 100


@dataclass(frozen=True)
class FailedImport:
    where: str  # "cell 2, line 1" or "line 3"
    statement: str  # the import as written (first line, shortened)
    reason: str  # "No module named 'matplotlib'"
    cell: bool  # a notebook cell (the rest of it was lost) or a .py statement
    lost: frozenset[str]


def failed_imports(units: Iterable[Unit], notes: Iterable[LoadNote]) -> list[FailedImport]:
    """The imports that failed while loading, each with the names their failure cost."""
    units = list(units)
    trees = {unit.label: _parse(unit.source) for unit in units}
    found = []
    for note in notes:
        error, where = _IMPORT_ERROR.match(note.text), _WHERE.match(note.where)
        if note.kind != "exception" or error is None or where is None:
            continue
        label, line = where["label"] or "", int(where["line"])
        unit = next((u for u in units if u.label == label), None)
        tree = trees.get(label)
        if unit is None or tree is None:
            continue
        index = next((i for i, s in enumerate(tree.body) if s.lineno <= line <= (s.end_lineno or s.lineno)), None)
        if index is None:
            continue
        statements = tree.body[index:] if label else tree.body[index:index + 1]
        lost = set().union(*(_bound(s) for s in statements))
        elsewhere = set().union(set(), *(_bound(s) for other, t in trees.items() if other != label and t
                                         for s in t.body))
        if not label:  # a .py file: statements after the import ran
            elsewhere |= set().union(set(), *(_bound(s) for i, s in enumerate(tree.body) if i != index))
        segment = ast.get_source_segment(unit.source, tree.body[index]) or ""
        statement = segment.splitlines()[0] if segment else ""
        statement = statement if len(statement) <= _SHOWN else statement[: _SHOWN - 3] + "..."
        found.append(FailedImport(note.where, statement, error["reason"].strip(), bool(label),
                                  frozenset(lost - elsewhere)))
    return found


def link(results: Iterable[CheckResult], units: Iterable[Unit], notes: Iterable[LoadNote]) -> tuple[CheckResult, ...]:
    """results, with the failed import named on each check that failed for want of a name it cost."""
    results = tuple(results)
    imports = [f for f in failed_imports(units, notes) if f.lost]
    if not imports:
        return results
    return tuple(_linked(r, imports) for r in results)


def _linked(result: CheckResult, imports: list[FailedImport]) -> CheckResult:
    if result.passed:
        return result
    text = result.message if result.visibility == "visible" else f"{result.message}\n{result.details}"
    names = {m["name"] for m in _NAME_ERROR.finditer(text)}
    names |= {m["name"].split(".")[0] for m in _MISSING.finditer(text)}
    cause = next((f for f in imports if names & f.lost), None)
    if cause is None:
        return result
    if result.visibility == "hidden":
        addition = (f"Loading stopped at {cause.where}, where an import failed (see the notes), "
                    "so what follows it there was never defined.")
    else:
        name = sorted(names & cause.lost)[0]
        rest = "so the rest of that cell did not run" if cause.cell else "so it defined nothing"
        addition = (f"`{name}` was never defined because `{cause.statement}` failed at {cause.where} "
                    f"({cause.reason}), {rest}.")
    return dataclasses.replace(result, message=f"{result.message} {addition}".strip())


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def _bound(statement: ast.stmt) -> set[str]:
    """The names a top-level statement binds in the module (not inside functions or classes)."""
    names: set[str] = set()
    pending: list[ast.AST] = [statement]
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*")
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        if isinstance(node, ast.Lambda):
            continue
        pending.extend(ast.iter_child_nodes(node))
    return names
