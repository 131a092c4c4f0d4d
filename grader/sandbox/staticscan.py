"""Reading a submission's source for whole-array arithmetic, without running it.

The scan looks at the functions an exercise asks to build from loops over
single elements, and at the helpers they call, for:

* the ``@`` operator;
* NumPy functions that compute with whole arrays (``np.dot``, ``np.einsum``,
  ``np.maximum(x, 0)``, ``np.sum(x)``, ...); element-wise helpers applied to
  single elements (``np.maximum(x[i, j], 0)``) are fine;
* arithmetic or comparisons whose operand is known to be a whole array: a
  parameter, a copy or slice of one, or a freshly created array;
* any use of PyTorch.

It prefers missing a case to accusing correct code: what it cannot tell for
sure (is ``row`` an array or a number?) it leaves to the tracer, which watches
the same functions run.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

# NumPy functions that create, copy or reshape arrays, or describe them;
# passing a whole array to them is not arithmetic.
_ALLOWED_NUMPY = frozenset({
    "array", "asarray", "asanyarray", "ascontiguousarray", "copy", "zeros", "ones", "empty",
    "full", "zeros_like", "ones_like", "empty_like", "full_like", "shape", "ndim", "size",
    "reshape", "ravel", "transpose", "swapaxes", "moveaxis", "expand_dims", "squeeze",
    "ndindex", "broadcast_shapes", "result_type", "can_cast", "isscalar", "arange",
    "linspace", "float16", "float32", "float64", "int8", "int16", "int32", "int64",
    "uint8", "bool_", "dtype", "iinfo", "finfo", "printoptions", "set_printoptions",
    "array_repr", "array_str", "array2string", "unravel_index", "ravel_multi_index",
    "atleast_1d", "atleast_2d", "atleast_3d", "errstate",
})
# NumPy functions that do whole-array work whatever they are given.
_ALWAYS_WHOLE = frozenset({
    "dot", "vdot", "inner", "outer", "matmul", "einsum", "tensordot", "kron",
    "vectorize", "frompyfunc", "apply_along_axis", "apply_over_axes",
    "broadcast_to", "broadcast_arrays",
})
# Results that are whole arrays when their input is one.
_ARRAY_CONSTRUCTORS = frozenset({
    "array", "asarray", "asanyarray", "ascontiguousarray", "copy", "zeros", "ones", "empty",
    "full", "zeros_like", "ones_like", "empty_like", "full_like", "arange", "linspace",
    "broadcast_to", "reshape", "ravel", "transpose", "squeeze", "expand_dims",
    "stack", "concatenate", "vstack", "hstack", "tile", "repeat",
})
_ARRAY_METHODS = frozenset({
    "copy", "reshape", "ravel", "flatten", "astype", "transpose", "squeeze", "view", "swapaxes",
})
_OPERATOR_WORDS = {
    ast.Add: "adds whole arrays", ast.Sub: "subtracts whole arrays",
    ast.Mult: "multiplies whole arrays", ast.Div: "divides whole arrays",
    ast.Pow: "raises whole arrays to a power",
}


@dataclass(frozen=True)
class Finding:
    """One place where a loops-only function works on whole arrays."""

    function: str
    where: str
    code: str
    reason: str


@dataclass(frozen=True)
class Unit:
    """A parsed piece of a submission: a whole .py file or one notebook cell."""

    label: str  # "" for a .py file, "cell 3" for a notebook cell
    source: str
    tree: ast.Module

    def where(self, node: ast.AST) -> str:
        line = f"line {getattr(node, 'lineno', '?')}"
        return f"{self.label}, {line}" if self.label else line


def scan(units: list[Unit], functions: list[str]) -> dict[str, list[Finding]]:
    """Findings for each of functions that is defined in the units."""
    modules = _module_aliases(units)
    definitions = _top_level_definitions(units)
    findings: dict[str, list[Finding]] = {}
    for name in functions:
        if name in definitions:
            found = _scan_function(name, definitions, modules)
            if found:
                findings[name] = found
    return findings


def _module_aliases(units: list[Unit]) -> dict[str, str]:
    """Local name -> dotted name, for names bound to numpy or torch things."""
    aliases: dict[str, str] = {}
    for unit in units:
        for node in ast.walk(unit.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in ("numpy", "torch"):
                        local = alias.asname or alias.name.split(".")[0]
                        aliases[local] = alias.name if alias.asname else alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module.split(".")[0] in ("numpy", "torch"):
                    for alias in node.names:
                        if alias.name == "*":
                            aliases["*" + node.module.split(".")[0]] = node.module
                        else:
                            aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _top_level_definitions(units: list[Unit]) -> dict[str, tuple[ast.AST, Unit]]:
    definitions: dict[str, tuple[ast.AST, Unit]] = {}
    for unit in units:
        for node in unit.tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                definitions[node.name] = (node, unit)
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                definitions[node.targets[0].id] = (node.value, unit)
    return definitions


def _scan_function(name: str, definitions, modules) -> list[Finding]:
    findings: list[Finding] = []
    seen: set[str] = set()
    pending = [(name, True)]
    while pending:
        current, graded = pending.pop()
        if current in seen or current not in definitions:
            continue
        seen.add(current)
        node, unit = definitions[current]
        visitor = _Visitor(unit, modules, set(definitions), graded, name, current)
        visitor.run(node)
        findings.extend(visitor.findings)
        pending.extend((helper, False) for helper in visitor.calls)
    unique = {(f.where, f.reason): f for f in findings}
    return list(unique.values())


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


class _Visitor:
    def __init__(self, unit: Unit, modules: dict[str, str], top_level: set[str], graded: bool,
                 function: str, current: str) -> None:
        self.unit = unit
        self.modules = modules
        self.top_level = top_level
        self.graded = graded
        self.function = function
        self.current = current
        self.findings: list[Finding] = []
        self.calls: set[str] = set()
        self.arrays: set[str] = set()

    # -- what is a whole array ------------------------------------------------

    def qualified(self, node: ast.AST) -> str | None:
        dotted = _dotted(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        if head in self.modules:
            return self.modules[head] + ("." + rest if rest else "")
        for star in ("numpy", "torch"):
            if "*" + star in self.modules and "." not in dotted and head not in self.top_level:
                return f"{self.modules['*' + star]}.{dotted}"
        return None

    def numpy_name(self, node: ast.AST) -> str | None:
        qualified = self.qualified(node)
        if qualified and qualified.startswith("numpy."):
            return qualified.rsplit(".", 1)[-1] if qualified.count(".") == 1 else qualified[6:]
        return None

    def is_array(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.arrays
        if isinstance(node, ast.Call):
            name = self.numpy_name(node.func)
            if name in _ARRAY_CONSTRUCTORS:
                return True
            if isinstance(node.func, ast.Attribute) and node.func.attr in _ARRAY_METHODS:
                return self.is_array(node.func.value)
            return False
        if isinstance(node, ast.Attribute):
            return node.attr == "T" and self.is_array(node.value)
        if isinstance(node, ast.Subscript):
            return self.is_array(node.value) and _selects_many(node.slice)
        if isinstance(node, ast.BinOp):
            return self.is_array(node.left) or self.is_array(node.right)
        if isinstance(node, ast.IfExp):
            return self.is_array(node.body) or self.is_array(node.orelse)
        return False

    def infer_arrays(self, function: ast.AST) -> None:
        assigned: dict[str, list[ast.AST | None]] = {}
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and self.graded:
            for arg in function.args.posonlyargs + function.args.args + function.args.kwonlyargs:
                assigned.setdefault(arg.arg, []).append(None)  # None: "an array, by the contract"
        for node in ast.walk(function):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    _pair(target, node.value, assigned)
            elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
                _pair(node.target, node.value, assigned)
            elif isinstance(node, (ast.For, ast.comprehension)):
                for name in _names(node.target):
                    assigned.setdefault(name, []).append(ast.Constant(0))  # unknown: not an array
        changed = True
        while changed:  # names defined from other array names
            changed = False
            for name, values in assigned.items():
                if name not in self.arrays and all(v is None or self.is_array(v) for v in values):
                    self.arrays.add(name)
                    changed = True

    # -- findings -------------------------------------------------------------

    def add(self, node: ast.AST, reason: str) -> None:
        code = ast.get_source_segment(self.unit.source, node) or ""
        code = " ".join(code.split())
        if len(code) > 60:
            code = code[:57] + "..."
        if self.current != self.function:
            reason = f"{reason}, in {self.current}() which it calls"
        self.findings.append(Finding(self.function, self.unit.where(node), code, reason))

    def run(self, function: ast.AST) -> None:
        if isinstance(function, (ast.Name, ast.Attribute)):
            qualified = self.qualified(function)
            if qualified:
                self.add(function, f"is {_dotted(function)} itself rather than a loop")
            elif isinstance(function, ast.Name) and function.id in self.top_level:
                self.calls.add(function.id)
            return
        self.infer_arrays(function)
        torch_seen = False
        for node in ast.walk(function):
            if isinstance(node, ast.BinOp):
                if isinstance(node.op, ast.MatMult):
                    self.add(node, "uses the @ operator on whole arrays")
                elif self.is_array(node.left) or self.is_array(node.right):
                    self.add(node, _OPERATOR_WORDS.get(type(node.op), "does arithmetic on whole arrays"))
            elif isinstance(node, ast.AugAssign):
                if isinstance(node.op, ast.MatMult):
                    self.add(node, "uses the @= operator on whole arrays")
                elif self.is_array(node.target) or (
                        not isinstance(node.target, ast.Subscript) and self.is_array(node.value)):
                    self.add(node, _OPERATOR_WORDS.get(type(node.op), "does arithmetic on whole arrays"))
            elif isinstance(node, ast.UnaryOp) and not isinstance(node.op, ast.Not):
                if self.is_array(node.operand):
                    self.add(node, "negates a whole array")
            elif isinstance(node, ast.Compare):
                value_ops = [op for op in node.ops if not isinstance(op, (ast.Is, ast.IsNot, ast.In, ast.NotIn))]
                if value_ops and any(self.is_array(v) for v in [node.left, *node.comparators]):
                    self.add(node, "compares whole arrays")
            elif isinstance(node, ast.Call):
                self.call(node)
            if isinstance(node, (ast.Name, ast.Attribute)) and not torch_seen:
                qualified = self.qualified(node)
                if qualified and qualified.split(".")[0] == "torch":
                    self.add(node, "uses PyTorch; this exercise is about NumPy and loops")
                    torch_seen = True

    def call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id in self.top_level:
            self.calls.add(node.func.id)
        name = self.numpy_name(node.func)
        arguments = list(node.args) + [k.value for k in node.keywords]
        if name is not None:
            short = name.split(".")[-1]
            written = _dotted(node.func) or name
            if short in _ALWAYS_WHOLE or name.split(".")[0] in _ALWAYS_WHOLE:
                self.add(node, f"calls {written}")
            elif short not in _ALLOWED_NUMPY and any(self.is_array(a) for a in arguments):
                self.add(node, f"calls {written} on whole arrays")
        elif isinstance(node.func, ast.Attribute) and node.func.attr in ("dot", "sum", "prod", "max", "min",
                                                                           "mean", "clip", "cumsum", "all", "any"):
            if self.is_array(node.func.value):
                self.add(node, f"calls .{node.func.attr}() on a whole array")


def _selects_many(index: ast.AST) -> bool:
    """Whether an index expression picks more than one element (a slice, ...)."""
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    return any(
        isinstance(p, (ast.Slice, ast.Starred)) or (isinstance(p, ast.Constant) and p.value in (None, Ellipsis))
        for p in parts)


def _names(target: ast.AST) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for elt in target.elts for n in _names(elt)]
    return []


def _pair(target: ast.AST, value: ast.AST, assigned: dict) -> None:
    if isinstance(target, ast.Name):
        assigned.setdefault(target.id, []).append(value)
    elif isinstance(target, (ast.Tuple, ast.List)):
        if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
            for t, v in zip(target.elts, value.elts):
                _pair(t, v, assigned)
        else:
            for name in _names(target):
                assigned.setdefault(name, []).append(ast.Constant(0))
