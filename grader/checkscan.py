"""What a checks file asks of the student's code, read from its syntax when the course loads.

A check reaches student code through ``student``: ``student.f(...)``,
``student.run("f", ...)``, ``student.get("name")`` and
``student.probe("name", ..., function="f")``. A name there that the assignment
does not define, or a probe that its probes file lacks, is the course's
mistake; caught while grading, it would reach a student as their fault (a
missing function, or a worker that "interfered with the grader's
connection"). Reading the files' syntax finds it at load time, naming the file
and line, before anyone is graded.

Only literal names are read; a name computed at run time is left to the run.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from grader.errors import SpecError

# Student's own methods: the ways a check calls into student code by a name in a string.
_BY_NAME = {"run": 0, "get": 0, "set": 0}
_STUDENT = "student"


@dataclass(frozen=True)
class Use:
    """One place a checks file names something of the student's code (or a probe)."""

    line: int
    kind: str  # "function" or "probe"
    name: str
    within: str  # the top-level function it is written in ("" at module level)
    function: str = ""  # probes: the student function named by function=


def probe_names(path: Path) -> frozenset[str]:
    """The probes a probes file defines: top-level functions whose first parameter is ``student``."""
    return _probe_names(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _probe_names(path: Path, _mtime: int) -> frozenset[str]:
    tree = _parse(path)
    return frozenset(node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                     and node.args.args[:1] and node.args.args[0].arg == _STUDENT)


def uses(path: Path) -> tuple[Use, ...]:
    """Every literal name the file's code reaches through ``student``, in file order."""
    return _uses(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _uses(path: Path, _mtime: int) -> tuple[Use, ...]:
    tree = _parse(path)
    found: list[Use] = []
    for top in tree.body:
        within = top.name if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)) else ""
        found.extend(_uses_in(top, within))
    return tuple(sorted(found, key=lambda use: use.line))


def _parse(path: Path) -> ast.Module:
    try:
        return ast.parse(path.read_text(encoding="utf-8"), str(path))
    except SyntaxError as exc:
        raise SpecError(f"{path}:{exc.lineno}: not valid Python: {exc.msg}") from None


def _uses_in(node: ast.AST, within: str) -> Iterator[Use]:
    for call in ast.walk(node):
        if isinstance(call, ast.Attribute) and _is_student(call.value) and call.attr not in _BY_NAME \
                and call.attr != "probe" and not call.attr.startswith("_"):
            yield Use(call.lineno, "function", call.attr, within)
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and _is_student(call.func.value)):
            continue
        method, first = call.func.attr, _literal(call.args[0]) if call.args else None
        if method in _BY_NAME and first is not None:
            yield Use(call.lineno, "function", first, within)
        elif method == "probe" and first is not None:
            target = next((_literal(k.value) for k in call.keywords if k.arg == "function"), None)
            yield Use(call.lineno, "probe", first, within, target or "")
            if target:
                yield Use(call.lineno, "function", target, within)


def _is_student(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == _STUDENT


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def verify(path: Path, declared: Iterable[str], listed: dict[str, tuple[str, ...]], probes: Path | None) -> None:
    """Refuse a checks file that names what the assignment does not define.

    declared: the assignment's functions (``f``, ``Class.method``).
    listed: for each check function in the file (by its name in the file), the
        functions its ``@check`` lists; a check may only reach those.
    probes: the assignment's probes file, if it has one.
    """
    declared = tuple(declared)
    known = set(declared) | {name.split(".")[0] for name in declared}
    available = probe_names(probes) if probes is not None else frozenset()
    for use in uses(path):
        where = f"{path}:{use.line}"
        said = f"check {use.within}" if use.within in listed else "this code"
        if use.kind == "probe" and use.name not in available:
            have = f"its probes are {', '.join(sorted(available))}" if available else "it has no probes file"
            raise SpecError(f"{where}: {said} runs probe {use.name!r}, which the assignment does not define "
                            f"({have}{f' in {probes}' if probes else ''})")
        if use.kind != "function":
            continue
        owner = use.name.split(".")[0]
        if use.name not in known and owner not in known:
            raise SpecError(f"{where}: {said} calls student.{use.name}, which the assignment does not define "
                            f"(its functions: {', '.join(declared)})")
        allowed = listed.get(use.within)
        if allowed is not None and use.name not in allowed and owner not in {a.split('.')[0] for a in allowed}:
            raise SpecError(f"{where}: check {use.within} calls student.{use.name} but its @check lists "
                            f"functions={list(allowed)}; add {use.name!r} there, so its report names it")
