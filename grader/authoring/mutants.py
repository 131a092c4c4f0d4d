"""Mutants of a reference solution, made from its syntax tree.

Each mutant is the reference with one small change inside one function: the
kind of mistake a student makes (a flipped sign or comparison, ``+`` for
``-``, an off-by-one bound, a forgotten statement, operands of a matrix
product swapped, ``sum`` for ``mean``, a wrong axis, a constant returned).
Checks that are any good give such a mutant fewer points than full marks.

The change is spliced into the source text at the changed node's position, so
the rest of the file keeps its formatting and a mutant reads as a one-line
diff. Mutants that do not compile or that change nothing are dropped; each one
has an id, ``function: before -> after``, that stays the same while the
reference is edited elsewhere (an author marks equivalent mutants by id).

This module reads and writes text only; nothing here runs a mutant.
"""

from __future__ import annotations

import ast
import copy
import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

Family = Literal["sign", "comparison", "arithmetic", "off-by-one", "statement", "matrix", "reduction", "return"]
FAMILIES: tuple[Family, ...] = ("sign", "comparison", "arithmetic", "off-by-one", "statement", "matrix",
                                "reduction", "return")
DELETED = "(deleted)"

_ARITHMETIC: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult}
# Each comparison, negated and moved across its boundary.
_COMPARISONS: dict[type[ast.cmpop], tuple[type[ast.cmpop], ...]] = {
    ast.Lt: (ast.GtE, ast.LtE), ast.LtE: (ast.Gt, ast.Lt), ast.Gt: (ast.LtE, ast.GtE), ast.GtE: (ast.Lt, ast.Gt),
    ast.Eq: (ast.NotEq,), ast.NotEq: (ast.Eq,), ast.Is: (ast.IsNot,), ast.IsNot: (ast.Is,), ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,)}
_REDUCTIONS = {"sum": "mean", "mean": "sum", "nansum": "nanmean", "nanmean": "nansum"}
# Calls whose first positional argument, when a whole number, is an axis.
_AXIS_FIRST = {"sum", "mean", "max", "min", "argmax", "argmin", "prod", "std", "var", "softmax", "log_softmax",
               "cumsum", "all", "any"}
_AXIS_KEYWORDS = {"axis", "dim"}
_PRODUCTS = {"dot", "matmul", "mm", "bmm", "inner"}


@dataclass(frozen=True)
class Mutant:
    """One change to one function of the reference.

    function: where the change is: a top-level function, ``Class.method`` or a
        private helper (``_forward``), named as the solution names it.
    family: which kind of mistake it imitates.
    before, after: the changed code as written and as mutated (one line each).
    line: the line of the change in the reference.
    source: the whole mutated file.
    """

    function: str
    family: Family
    before: str
    after: str
    line: int
    source: str
    occurrence: int = 1

    @property
    def id(self) -> str:
        suffix = f" (#{self.occurrence})" if self.occurrence > 1 else ""
        return f"{self.function}: {self.before} -> {self.after}{suffix}"

    def diff(self, original: str, filename: str = "solution.py") -> str:
        """The mutant as a unified diff against the reference (three lines of context)."""
        lines = difflib.unified_diff(original.splitlines(keepends=True), self.source.splitlines(keepends=True),
                                     f"a/{filename}", f"b/{filename}", n=2)
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


@dataclass(frozen=True)
class _Edit:
    """Replace the text of node (a statement, an expression) with new text."""

    node: ast.AST
    text: str
    family: Family
    before: str = ""  # what the id shows as the old code; the node's own text by default


def functions(tree: ast.Module) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Each function of a module as (name, definition): top-level ones and methods as ``Class.method``."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node
        elif isinstance(node, ast.ClassDef):
            for member in node.body:
                if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield f"{node.name}.{member.name}", member


def mutants(source: str, only: Callable[[str], bool] = lambda name: True) -> list[Mutant]:
    """Every mutant of source that compiles and changes something, in the order of the file.

    only: which functions to mutate (all by default).
    """
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    offsets = _line_offsets(lines)
    made: list[Mutant] = []
    seen = {_normal(source)}
    ids: dict[str, int] = {}
    for name, definition in functions(tree):
        if not only(name):
            continue
        for edit in _edits(definition, source):
            line, column, end_line, end_column = _span(edit.node)
            start = offsets[line - 1] + _char_offset(lines[line - 1], column)
            end = offsets[end_line - 1] + _char_offset(lines[end_line - 1], end_column)
            mutated = source[:start] + edit.text + source[end:]
            normal = _normal(mutated)
            if normal is None or normal in seen:  # does not compile, changes nothing, or made already
                continue
            seen.add(normal)
            before = edit.before or _one_line(source[start:end])
            after = DELETED if edit.family == "statement" else _one_line(edit.text)
            key = f"{name}: {before} -> {after}"
            ids[key] = ids.get(key, 0) + 1
            made.append(Mutant(name, edit.family, before, after, line, mutated, ids[key]))
    return made


def _span(node: ast.AST) -> tuple[int, int, int, int]:
    """Where a node's text starts and ends: line, column, end line, end column."""
    line, column = int(getattr(node, "lineno", 1)), int(getattr(node, "col_offset", 0))
    return line, column, int(getattr(node, "end_lineno", None) or line), int(getattr(node, "end_col_offset", None) or 0)


def _normal(source: str) -> str | None:
    """The code as the compiler sees it (comments and layout gone), or None where it does not compile."""
    try:
        tree = ast.parse(source)
        compile(tree, "<mutant>", "exec")
    except (SyntaxError, ValueError):
        return None
    return ast.dump(tree)


def _line_offsets(lines: list[str]) -> list[int]:
    offsets, total = [], 0
    for line in lines:
        offsets.append(total)
        total += len(line)
    offsets.append(total)
    return offsets


def _char_offset(line: str, byte_offset: int) -> int:
    """ast gives columns in UTF-8 bytes; the source is sliced in characters."""
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 90 else text[:87] + "..."


# --- what may change -------------------------------------------------------------------


def _edits(definition: ast.FunctionDef | ast.AsyncFunctionDef, source: str) -> Iterator[_Edit]:
    """The changes to make in one function, statement by statement and node by node."""
    parents = {id(child): node for node in ast.walk(definition) for child in ast.iter_child_nodes(node)}
    last = definition.body[-1]
    for node in _nodes(definition):
        if isinstance(node, ast.stmt):
            # Deleting the final return is returning None, which is made anyway.
            if not (node is last and isinstance(node, ast.Return)):
                yield from _statement_edits(node, source)
            yield from _return_edits(node)
        for edit in _expression_edits(node):
            yield _in_context(edit, parents)


def _nodes(definition: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[ast.AST]:
    """The nodes of a function's body in source order, leaving out docstrings, f-strings and assert messages.

    Positions inside f-strings are not reliable before Python 3.12, and an
    assertion's message changes no result.
    """
    skip: set[int] = set()
    for node in ast.walk(definition):
        if isinstance(node, ast.JoinedStr):
            skip.update(id(n) for n in ast.walk(node))
        elif isinstance(node, ast.Assert) and node.msg is not None:
            skip.update(id(n) for n in ast.walk(node.msg))
    body = definition.body
    if body and _is_docstring(body[0]):
        skip.update(id(n) for n in ast.walk(body[0]))
    found = [n for statement in body for n in ast.walk(statement) if id(n) not in skip and hasattr(n, "lineno")]
    found.sort(key=lambda n: (_span(n)[0], _span(n)[1], -_span(n)[2], -_span(n)[3]))
    return iter(found)


def _is_docstring(statement: ast.stmt) -> bool:
    return (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str))


def _statement_edits(node: ast.stmt, source: str) -> Iterator[_Edit]:
    if isinstance(node, (ast.Pass, ast.Global, ast.Nonlocal)) or _is_docstring(node):
        return
    text = ast.get_source_segment(source, node) or ""
    if text.startswith("elif"):  # its text runs to the end of the chain: deleting it would delete the else too
        return
    compound = isinstance(node, (ast.For, ast.AsyncFor, ast.While, ast.If, ast.With, ast.AsyncWith, ast.Try))
    shown = _one_line(text.splitlines()[0]) + " ..." if compound else _one_line(text)
    yield _Edit(node, "pass", "statement", shown)
    if isinstance(node, ast.AugAssign) and type(node.op) in _ARITHMETIC:
        changed = copy.copy(node)
        changed.op = _ARITHMETIC[type(node.op)]()
        yield _Edit(node, ast.unparse(changed), "arithmetic")


def _return_edits(node: ast.stmt) -> Iterator[_Edit]:
    if isinstance(node, ast.Return) and node.value is not None:
        value = node.value
        if isinstance(value, ast.Constant) and isinstance(value.value, bool):
            yield _Edit(node, f"return {not value.value}", "return")
        if not (isinstance(value, ast.Constant) and value.value is None):
            yield _Edit(node, "return None", "return")


def _in_context(edit: _Edit, parents: dict[int, ast.AST]) -> _Edit:
    """A sign taken off a bare number reads better with what it multiplies: ``-2 * d`` -> ``2 * d``."""
    node = edit.node
    parent = parents.get(id(node))
    simple = (ast.expr, ast.Return, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr)
    if not (edit.family == "sign" and isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant)
            and isinstance(parent, simple)):
        return edit
    changed = copy.copy(parent)
    for field, value in ast.iter_fields(parent):
        if value is node:
            setattr(changed, field, node.operand)
        elif isinstance(value, list) and any(item is node for item in value):
            setattr(changed, field, [node.operand if item is node else item for item in value])
    text = _text(changed) if isinstance(parent, ast.expr) else ast.unparse(changed)
    return _Edit(parent, text, edit.family)


def _expression_edits(node: ast.AST) -> Iterator[_Edit]:
    if isinstance(node, ast.BinOp):
        yield from _binop_edits(node)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield _Edit(node, _text(node.operand), "sign")
    elif isinstance(node, ast.Compare):
        for index, op in enumerate(node.ops):
            for other in _COMPARISONS.get(type(op), ()):
                changed = copy.copy(node)
                changed.ops = [*node.ops[:index], other(), *node.ops[index + 1:]]
                yield _Edit(node, _text(changed), "comparison")
    elif isinstance(node, ast.Call):
        yield from _call_edits(node)
    elif isinstance(node, ast.Subscript):
        yield from _index_edits(node)
    elif isinstance(node, ast.Attribute) and node.attr == "T" and isinstance(node.ctx, ast.Load):
        yield _Edit(node, _text(node.value), "matrix")


def _binop_edits(node: ast.BinOp) -> Iterator[_Edit]:
    if type(node.op) in _ARITHMETIC:
        changed = copy.copy(node)
        changed.op = _ARITHMETIC[type(node.op)]()
        yield _Edit(node, _text(changed), "arithmetic")
    elif isinstance(node.op, ast.MatMult):
        yield _Edit(node, _text(ast.BinOp(node.right, ast.MatMult(), node.left)), "matrix")
        for side in ("left", "right"):
            operand = getattr(node, side)
            if isinstance(operand, ast.Attribute) and operand.attr == "T":
                continue  # taking that transpose away is made where the .T is
            changed = copy.copy(node)
            setattr(changed, side, ast.Attribute(operand, "T", ast.Load()))
            yield _Edit(node, _text(changed), "matrix")


def _call_edits(node: ast.Call) -> Iterator[_Edit]:
    name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
    if name == "range" and isinstance(node.func, ast.Name):
        yield from _range_edits(node)
    if name in _REDUCTIONS:
        changed = copy.copy(node)
        if isinstance(node.func, ast.Attribute):
            changed.func = ast.Attribute(node.func.value, _REDUCTIONS[name], ast.Load())
        else:
            changed.func = ast.Name(_REDUCTIONS[name], ast.Load())
        yield _Edit(node, _text(changed), "reduction")
    if name in _PRODUCTS and len(node.args) == 2 and not node.keywords:
        changed = copy.copy(node)
        changed.args = [node.args[1], node.args[0]]
        yield _Edit(node, _text(changed), "matrix")
    for index, keyword in enumerate(node.keywords):
        other = _other_axis(keyword.value) if keyword.arg in _AXIS_KEYWORDS else None
        if other is not None:
            changed = copy.copy(node)
            changed.keywords = [*node.keywords[:index], ast.keyword(keyword.arg, other), *node.keywords[index + 1:]]
            yield _Edit(node, _text(changed), "reduction")
    other = _other_axis(node.args[0]) if name in _AXIS_FIRST and isinstance(node.func, ast.Attribute) and node.args \
        else None
    if other is not None:
        changed = copy.copy(node)
        changed.args = [other, *node.args[1:]]
        yield _Edit(node, _text(changed), "reduction")


def _other_axis(value: ast.expr) -> ast.expr | None:
    """Another axis in place of a whole-number one: 0 becomes 1, any other becomes 0."""
    axis = _whole_number(value)
    return None if axis is None else ast.Constant(1 if axis == 0 else 0)


def _range_edits(node: ast.Call) -> Iterator[_Edit]:
    if not 1 <= len(node.args) <= 3 or node.keywords:
        return
    if len(node.args) == 1:
        yield _Edit(node, _text(ast.Call(node.func, [ast.Constant(1), node.args[0]], [])), "off-by-one")
    for index in range(min(2, len(node.args))):
        for delta in (1, -1):
            changed = copy.copy(node)
            changed.args = [*node.args[:index], _shifted(node.args[index], delta), *node.args[index + 1:]]
            yield _Edit(node, _text(changed), "off-by-one")


def _index_edits(node: ast.Subscript) -> Iterator[_Edit]:
    """Each bound of a slice and each whole-number index moved by one (a missing bound: 1: and :-1)."""
    parts = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
    for position, part in enumerate(parts):
        for moved in _moved(part, isinstance(node.ctx, ast.Load)):
            changed = copy.copy(node)
            replaced = [*parts[:position], moved, *parts[position + 1:]]
            changed.slice = ast.Tuple(replaced, ast.Load()) if isinstance(node.slice, ast.Tuple) else moved
            yield _Edit(node, _text(changed), "off-by-one")


def _moved(part: ast.expr, loading: bool) -> Iterator[ast.expr]:
    if isinstance(part, ast.Slice):
        if part.step is not None:
            return
        for bound in ("lower", "upper"):
            value = getattr(part, bound)
            for delta in (1, -1):
                changed = copy.copy(part)
                if value is None:
                    if delta == -1:
                        continue
                    setattr(changed, bound, ast.Constant(1) if bound == "lower" else
                            ast.UnaryOp(ast.USub(), ast.Constant(1)))
                elif _whole_number(value) == 0 and delta == -1:
                    continue  # -1 as a bound or index counts from the end: another mistake than off by one
                else:
                    setattr(changed, bound, _shifted(value, delta))
                yield changed
    elif loading and _whole_number(part) is not None:
        for delta in (1, -1):
            if not (_whole_number(part) == 0 and delta == -1):
                yield _shifted(part, delta)


def _whole_number(value: ast.expr) -> int | None:
    if isinstance(value, ast.Constant) and type(value.value) is int:
        return value.value
    if (isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub) and isinstance(value.operand, ast.Constant)
            and type(value.operand.value) is int):
        return -value.operand.value
    return None


def _shifted(value: ast.expr, delta: int) -> ast.expr:
    number = _whole_number(value)
    if number is not None:
        shifted = number + delta
        return ast.Constant(shifted) if shifted >= 0 else ast.UnaryOp(ast.USub(), ast.Constant(-shifted))
    if isinstance(value, ast.BinOp) and isinstance(value.op, (ast.Add, ast.Sub)):
        # n - 1 shifted by +1 reads as n, not n - 1 + 1
        right = _whole_number(value.right)
        if right is not None:
            total = right + delta if isinstance(value.op, ast.Add) else right - delta
            if total == 0:
                return value.left
            op: ast.operator = ast.Add() if total > 0 else ast.Sub()
            return ast.BinOp(value.left, op, ast.Constant(abs(total)))
    return ast.BinOp(value, ast.Add() if delta > 0 else ast.Sub(), ast.Constant(abs(delta)))


_PLAIN = (ast.Name, ast.Call, ast.Attribute, ast.Subscript, ast.Constant, ast.Tuple, ast.List, ast.Dict)


def _text(node: ast.AST, parenthesise: bool = True) -> str:
    """An expression as code that keeps its meaning wherever the replaced one stood."""
    text = ast.unparse(node)
    plain = isinstance(node, _PLAIN) and not (isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
                                              and node.value < 0)
    return text if plain or not parenthesise else f"({text})"
