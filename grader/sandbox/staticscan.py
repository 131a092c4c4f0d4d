"""Reading a submission's source for forbidden shortcuts, without running it.

Two rules, each applied to the functions (or ``Class.method``s) an assignment
names, and to the helpers they call:

``loops``: functions an exercise asks to build from loops over single elements
are searched for whole-array arithmetic:

* the ``@`` operator;
* NumPy functions that compute with whole arrays (``np.dot``, ``np.einsum``,
  ``np.maximum(x, 0)``, ``np.sum(x)``, ...); element-wise helpers applied to
  single elements (``np.maximum(x[i, j], 0)``) are fine;
* arithmetic or comparisons whose operand is known to be a whole array: a
  parameter, a copy or slice of one, or a freshly created array;
* any use of PyTorch.

Views count as the arrays they show: ``x.T``, ``x.base``, ``x.data``, ``x.real``,
``x.__array__()``, ``x.view(...)``, ``np.frombuffer(x.data)``. Arithmetic spelled
another way counts too: ``operator.add(x, y)``, ``x.__add__(y)``, a ufunc method
(``np.add.reduce(x)``), NumPy reached through ``__import__("numpy")`` or
``importlib.import_module``.

``autograd``: functions whose backward pass must be derived by hand are
searched for anything that derives for them, which is "not by hand":

* PyTorch's autograd: ``.backward()``, ``torch.autograd`` (``grad``, ``functional``,
  forward mode), ``requires_grad`` (as a keyword, an attribute, or a string such as
  ``**{"requires_grad": True}`` or ``getattr(t, "backward")``);
* ``torch.func`` and functorch, JAX, HIPS autograd, TensorFlow;
* computer algebra: SymPy, SymEngine (symbolic differentiation);
* numerical differentiation by a library: numdifftools, ``scipy.differentiate``,
  ``scipy.optimize.approx_fprime``, ``mpmath.diff``.

Names are resolved through imports, ``__import__``/``importlib.import_module``
with literal or concatenated strings, and ``getattr`` with such a string.

The scan prefers missing a case to accusing correct code: what it cannot tell
for sure (is ``row`` an array or a number?) it leaves to the tracer, which
watches the same functions run.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from grader.sandbox import escapes
from grader.sandbox.protocol import ESCAPE_REASON_END, TRACING_REASON

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
    "array", "asarray", "asanyarray", "ascontiguousarray", "asfortranarray", "asmatrix", "require", "copy", "zeros",
    "ones", "empty", "full", "zeros_like", "ones_like", "empty_like", "full_like", "arange", "linspace",
    "broadcast_to", "reshape", "ravel", "transpose", "squeeze", "expand_dims", "frombuffer",
    "stack", "concatenate", "vstack", "hstack", "tile", "repeat",
})
_ARRAY_METHODS = frozenset({
    "copy", "reshape", "ravel", "flatten", "astype", "transpose", "squeeze", "view", "swapaxes", "__array__",
    "conj", "conjugate", "diagonal",
})
# Attributes of an array that are the same data as an array (or a buffer of it).
_VIEW_ATTRIBUTES = frozenset({"T", "mT", "base", "data", "real", "imag", "flat"})
# Dunder methods that do arithmetic or comparisons: x.__add__(y) is x + y.
_DUNDER_ARITHMETIC = frozenset(
    f"__{prefix}{name}__" for prefix in ("", "r", "i")
    for name in ("add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "pow", "divmod", "and", "or", "xor",
                 "lshift", "rshift")) | {"__neg__", "__pos__", "__abs__", "__invert__", "__lt__", "__le__", "__gt__",
                                         "__ge__", "__eq__", "__ne__"}
_TRACKED_MODULES = ("numpy", "torch", "jax", "functorch", "autograd", "operator", "importlib", "sympy", "symengine",
                    "tensorflow", "numdifftools", "scipy", "mpmath")
# What derives for the student, by prefix of its dotted name, and what to call it.
_AUTOGRAD_PREFIXES = {
    "torch.autograd": "automatic differentiation", "torch.func": "automatic differentiation",
    "torch._functorch": "automatic differentiation", "functorch": "automatic differentiation",
    "jax": "automatic differentiation", "autograd": "automatic differentiation",
    "tensorflow": "automatic differentiation",
    "sympy": "computer algebra (symbolic differentiation)", "symengine": "computer algebra (symbolic differentiation)",
    "numdifftools": "numerical differentiation by a library",
    "scipy.differentiate": "numerical differentiation by a library",
    "scipy.misc.derivative": "numerical differentiation by a library",
    "scipy.optimize.approx_fprime": "numerical differentiation by a library",
    "scipy.optimize.check_grad": "numerical differentiation by a library",
    "mpmath.diff": "numerical differentiation by a library",
}
# Strings that name PyTorch's autograd: getattr(t, "backward"), **{"requires_grad": True}, ...
_AUTOGRAD_WORDS = frozenset({"backward", "requires_grad", "requires_grad_", "grad_fn", "autograd"})
_IMPORTERS = frozenset({"__import__", "importlib.import_module"})
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


def scan(units: list[Unit], rules: dict[str, list[str]]) -> dict[str, dict[str, list[Finding]]]:
    """For each rule ("loops", "autograd", "requires_autograd", "vectorised"), the findings of each named function
    that is defined.

    For "requires_autograd" a finding is an absence: the function, with the helpers it calls, names nothing
    that derives (no ``.backward()``, ``torch.autograd``, ``requires_grad``, ``torch.func``).

    Code anywhere in the file that reaches past its own work (grader.sandbox.escapes) is a finding
    of every watched function, under every rule: it could blind the watch on any of them.
    """
    modules = _module_aliases(units)
    definitions = _definitions(units)
    walked = _Walked()
    results: dict[str, dict[str, list[Finding]]] = {}
    escaping = _escapes(units) if rules else []
    for rule, functions in rules.items():
        if rule not in _VISITORS and rule != "requires_autograd":
            continue  # a rule this reading has nothing to say about
        visitor = _VISITORS.get(rule, _AutogradVisitor)
        for name in functions:
            found = _scan_function(name, definitions, modules, visitor, walked)
            if rule == "requires_autograd":
                found = [] if found or name not in definitions else _no_autograd_found(name, definitions[name])
            # Escapes count against every watched function, defined or not: code that can answer for the
            # worker can answer for a function the file never defines.
            found = [Finding(name, where, code, reason) for where, code, reason in escaping] + found
            if found:
                results.setdefault(rule, {})[name] = found
    return results


def _escapes(units: list[Unit]) -> list[tuple[str, str, str]]:
    """(where, code, reason) for the first few places where the file reaches past its own work."""
    found = []
    for unit in units:
        for escape in escapes.find([unit.tree]):
            code = " ".join((ast.get_source_segment(unit.source, escape.node) or "").split())
            code = code if len(code) <= 60 else code[:57] + "..."
            found.append((unit.where(escape.node), code, f"{escape.reason}{ESCAPE_REASON_END}"))
            if len(found) == 3:
                return found
    return found


def _no_autograd_found(name: str, definition: tuple[ast.AST, Unit]) -> list[Finding]:
    """The absence of autograd, as a finding; none for a function not yet written (its checks say so)."""
    node, unit = definition
    if _unfinished(node):
        return []
    header = ast.get_source_segment(unit.source, node) or name
    code = " ".join(header.splitlines()[0].split())[:60] if header else name
    return [Finding(name, unit.where(node), code, "neither it nor a helper it calls uses autograd (no .backward(), "
                    "torch.autograd.grad or requires_grad)")]


def _unfinished(node: ast.AST) -> bool:
    """A function whose body only raises NotImplementedError, passes or is `...` (after its docstring)."""
    body = getattr(node, "body", None)
    if not isinstance(body, list):
        return False
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(
            body[0].value.value, str):
        body = body[1:]
    return all(isinstance(statement, ast.Pass)
               or (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant))
               or (isinstance(statement, ast.Raise) and statement.exc is not None
                   and "NotImplementedError" in ast.dump(statement.exc))
               for statement in body)


def _module_aliases(units: list[Unit]) -> dict[str, str]:
    """Local name -> dotted name, for names bound to numpy, torch, autodiff and the other tracked modules."""
    aliases: dict[str, str] = {}
    statements = [node for unit in units for node in _statements(unit.tree.body)]
    for node in statements:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in _TRACKED_MODULES:
                    local = alias.asname or alias.name.split(".")[0]
                    aliases[local] = alias.name if alias.asname else alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] in _TRACKED_MODULES:
                for alias in node.names:
                    if alias.name == "*":
                        aliases["*" + node.module.split(".")[0]] = node.module
                    else:
                        aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    for node in statements:  # names bound to what an importer call or a getattr resolves to, once imports are known
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            resolved = _resolve(node.value, aliases)
            if resolved and resolved.split(".")[0] in _TRACKED_MODULES:
                aliases[node.targets[0].id] = resolved
    return aliases


def _fold(node: ast.AST) -> str | None:
    """The string an expression of string literals evaluates to: "to" + "rch", "".join(["ba", "ckward"])."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _fold(node.left), _fold(node.right)
        return left + right if left is not None and right is not None else None
    if isinstance(node, ast.JoinedStr):
        parts = [_fold(v) for v in node.values]
        return "".join(parts) if all(p is not None for p in parts) else None
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join"
            and len(node.args) == 1 and not node.keywords and isinstance(node.args[0], (ast.List, ast.Tuple))):
        separator = _fold(node.func.value)
        parts = [_fold(e) for e in node.args[0].elts]
        if separator is not None and all(p is not None for p in parts):
            return separator.join(parts)
    return None


def _resolve(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """The dotted name node stands for, through aliases, importer calls and getattr with a string."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value, aliases)
        return f"{base}.{node.attr}" if base else None
    if isinstance(node, ast.Call) and node.args and not any(k.arg is None for k in node.keywords):
        function = _resolve(node.func, aliases) or (node.func.id if isinstance(node.func, ast.Name) else None)
        if function in _IMPORTERS:
            name = _fold(node.args[0])
            if name is None:
                return None
            return name.split(".")[0] if function == "__import__" else name
        if isinstance(node.func, ast.Name) and node.func.id == "getattr" and len(node.args) >= 2:
            base, attribute = _resolve(node.args[0], aliases), _fold(node.args[1])
            return f"{base}.{attribute}" if base and attribute else None
    return None


def _definitions(units: list[Unit]) -> dict[str, tuple[ast.AST, Unit]]:
    """Top-level functions and assignments, and methods as "Class.method"; the last one wins."""
    definitions: dict[str, tuple[ast.AST, Unit]] = {}
    for unit in units:
        for node in unit.tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                definitions[node.name] = (node, unit)
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                definitions[node.targets[0].id] = (node.value, unit)
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        definitions[f"{node.name}.{item.name}"] = (item, unit)
    return definitions


def _statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """Every statement in body and in the blocks nested in it (imports are statements: no need to
    look inside expressions)."""
    found, index = list(body), 0
    while index < len(found):
        node = found[index]
        index += 1
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            block = getattr(node, field, None)
            if isinstance(block, list):
                found.extend(item for item in block if isinstance(item, (ast.stmt, ast.excepthandler, ast.match_case)))
    return found


class _Walked:
    """The nodes of each definition, walked once per scan however many rules and callers read them."""

    def __init__(self) -> None:
        self._nodes: dict[int, list[ast.AST]] = {}

    def __call__(self, root: ast.AST) -> list[ast.AST]:
        if id(root) not in self._nodes:
            self._nodes[id(root)] = list(ast.walk(root))
        return self._nodes[id(root)]


def _scan_function(name: str, definitions, modules, visitor_class, walked: _Walked) -> list[Finding]:
    findings: list[Finding] = []
    seen: set[str] = set()
    top_level = set(definitions)
    pending = [(name, True)]
    while pending:
        current, graded = pending.pop()
        if current in seen or current not in definitions:
            continue
        seen.add(current)
        node, unit = definitions[current]
        visitor = visitor_class(unit, modules, top_level, graded, name, current, walked)
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
    """What every rule needs: names resolved to modules, findings, helpers called."""

    def __init__(self, unit: Unit, modules: dict[str, str], top_level: set[str], graded: bool,
                 function: str, current: str, walked: _Walked) -> None:
        self.unit = unit
        self.walked = walked
        self.modules = modules
        self.top_level = top_level
        self.graded = graded
        self.function = function
        self.current = current
        self.owner = current.split(".")[0] if "." in current else None
        self.findings: list[Finding] = []
        self.calls: set[str] = set()

    def qualified(self, node: ast.AST) -> str | None:
        resolved = _resolve(node, self.modules)
        if resolved:
            return resolved
        dotted = _dotted(node)
        if dotted is None:
            return None
        head = dotted.partition(".")[0]
        for star in ("numpy", "torch"):
            if "*" + star in self.modules and "." not in dotted and head not in self.top_level:
                return f"{self.modules['*' + star]}.{dotted}"
        return None

    def numpy_name(self, node: ast.AST) -> str | None:
        qualified = self.qualified(node)
        if qualified and qualified.startswith("numpy."):
            return qualified.rsplit(".", 1)[-1] if qualified.count(".") == 1 else qualified[6:]
        return None

    def add(self, node: ast.AST, reason: str) -> None:
        code = ast.get_source_segment(self.unit.source, node) or ""
        code = " ".join(code.split())
        if len(code) > 60:
            code = code[:57] + "..."
        if self.current != self.function:
            reason = f"{reason}, in {self.current}() which it calls"
        self.findings.append(Finding(self.function, self.unit.where(node), code, reason))

    def track_call(self, node: ast.Call) -> None:
        """Remember calls of the submission's own functions and methods, to scan them too."""
        func = node.func
        if isinstance(func, ast.Name) and func.id in self.top_level:
            self.calls.add(func.id)
        elif (self.owner and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
              and func.value.id == "self" and f"{self.owner}.{func.attr}" in self.top_level):
            self.calls.add(f"{self.owner}.{func.attr}")

    def run(self, function: ast.AST) -> None:
        if isinstance(function, (ast.Name, ast.Attribute)):
            self.alias(function)
            return
        for node in self.walked(function):
            if isinstance(node, ast.Call):
                self.track_call(node)
            self.visit(node)

    def alias(self, node: ast.AST) -> None:
        """The graded name is bound to another function: scan that one, or judge the binding."""
        if isinstance(node, ast.Name) and node.id in self.top_level:
            self.calls.add(node.id)

    def visit(self, node: ast.AST) -> None:
        raise NotImplementedError


class _WholeArrayVisitor(_Visitor):
    """Rule "loops": whole-array arithmetic where loops over single elements are asked for."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.arrays: set[str] = set()
        self.torch_seen = False

    def alias(self, node: ast.AST) -> None:
        if self.qualified(node):
            self.add(node, f"is {_dotted(node)} itself rather than a loop")
        else:
            super().alias(node)

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
            return node.attr in _VIEW_ATTRIBUTES and self.is_array(node.value)
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
            parameters = function.args.posonlyargs + function.args.args + function.args.kwonlyargs
            if self.owner and parameters:
                parameters = parameters[1:]  # self
            for arg in parameters:
                assigned.setdefault(arg.arg, []).append(None)  # None: "an array, by the contract"
        for node in self.walked(function):
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

    def run(self, function: ast.AST) -> None:
        if not isinstance(function, (ast.Name, ast.Attribute)):
            self.infer_arrays(function)
        super().run(function)

    def visit(self, node: ast.AST) -> None:
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
        if isinstance(node, (ast.Name, ast.Attribute)) and not self.torch_seen:
            qualified = self.qualified(node)
            if qualified and qualified.split(".")[0] == "torch":
                self.add(node, "uses PyTorch; this exercise is about NumPy and loops")
                self.torch_seen = True

    def call(self, node: ast.Call) -> None:
        name = self.numpy_name(node.func)
        arguments = list(node.args) + [k.value for k in node.keywords]
        qualified = self.qualified(node.func) or ""
        if qualified.startswith("operator.") and any(self.is_array(a) for a in arguments):
            self.add(node, f"calls {qualified} on whole arrays")
            return
        if (isinstance(node.func, ast.Attribute) and node.func.attr in _DUNDER_ARITHMETIC
                and self.is_array(node.func.value)):
            self.add(node, f"calls .{node.func.attr}() on a whole array")
            return
        if name is not None:
            short = name.split(".")[-1]
            written = _dotted(node.func) or f"numpy.{name}"
            if short in _ALWAYS_WHOLE or name.split(".")[0] in _ALWAYS_WHOLE:
                self.add(node, f"calls {written}")
            elif short not in _ALLOWED_NUMPY and any(self.is_array(a) for a in arguments):
                self.add(node, f"calls {written} on whole arrays")
        elif isinstance(node.func, ast.Attribute) and node.func.attr in ("dot", "sum", "prod", "max", "min",
                                                                           "mean", "clip", "cumsum", "all", "any"):
            if self.is_array(node.func.value):
                self.add(node, f"calls .{node.func.attr}() on a whole array")


class _AutogradVisitor(_Visitor):
    """Rule "autograd": automatic differentiation where the backward pass must be derived by hand."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.named: set[str] = set()

    def alias(self, node: ast.AST) -> None:
        if self.is_autodiff(node):
            self.add(node, f"is {_dotted(node)} itself, which is automatic differentiation")
        else:
            super().alias(node)

    def autodiff(self, node: ast.AST) -> str | None:
        """What node is, when it is something that derives for the student ("automatic differentiation", ...)."""
        qualified = self.qualified(node)
        if not qualified:
            return None
        for prefix, kind in _AUTOGRAD_PREFIXES.items():
            if qualified == prefix or qualified.startswith(prefix + "."):
                return kind
        return None

    def is_autodiff(self, node: ast.AST) -> bool:
        return self.autodiff(node) is not None

    def visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "backward":
                self.add(node, "calls .backward(), which is PyTorch's autograd")
            elif isinstance(func, ast.Attribute) and func.attr == "requires_grad_":
                self.add(node, "asks PyTorch to track gradients (requires_grad_)")
            for keyword in node.keywords:
                if keyword.arg == "requires_grad" and not (
                        isinstance(keyword.value, ast.Constant) and keyword.value.value is False):
                    self.add(node, "asks PyTorch to track gradients (requires_grad=True)")
        elif isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Attribute) and t.attr == "requires_grad" for t in targets):
                self.add(node, "asks PyTorch to track gradients (requires_grad)")
        if isinstance(node, (ast.Constant, ast.BinOp, ast.JoinedStr, ast.Call)):
            word = _fold(node)
            if word in _AUTOGRAD_WORDS:
                self.add(node, f"names PyTorch's autograd in a string ({word!r})")
        if isinstance(node, (ast.Name, ast.Attribute, ast.Call)):
            kind = self.autodiff(node)
            dotted = self.qualified(node) if kind else None
            # Inner parts of a name already reported (torch.autograd in torch.autograd.grad) are not new.
            if dotted and not any(n == dotted or n.startswith(dotted + ".") or dotted.startswith(n + ".")
                                  for n in self.named):
                self.named.add(dotted)
                self.add(node, f"uses {dotted}, which is {kind}")


# NumPy functions and builtins that call a Python function once per element or row: a loop by another name.
_PER_ELEMENT = frozenset({"vectorize", "frompyfunc", "apply_along_axis", "apply_over_axes", "fromiter", "fromfunction"})
_BUILTIN_LOOPS = frozenset({"map", "filter"})
# Python's tracing, through which the grader counts the lines a call runs: code that reaches it can hide them.
_TRACING = frozenset({"settrace", "gettrace", "setprofile", "getprofile"})


class _DataLoopVisitor(_Visitor):
    """Rule "vectorised": a Python loop whose length comes from the data (the samples, or the features).

    Data are the parameters of the graded function and of the helpers it calls (but not ``*args``, a
    list of arguments) and every name computed from them (``m = X.shape[1]``). A ``for`` over them, a
    comprehension, a ``while`` that tests them, ``map``/``filter`` or ``np.vectorize`` and its kin all
    run Python once per element. A loop over a fixed list (``for key in ("dw", "db")``) is not data.
    The count of lines run at two sizes of the data settles what this reading cannot (how long a loop is).
    """

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.data: set[str] = set()

    def run(self, function: ast.AST) -> None:
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            self.infer_data(function)
        super().run(function)

    def infer_data(self, function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        parameters = function.args.posonlyargs + function.args.args + function.args.kwonlyargs
        if self.owner and parameters:
            parameters = parameters[1:]  # self
        self.data = {arg.arg for arg in parameters}
        assigned: list[tuple[list[str], ast.AST]] = []
        for node in self.walked(function):
            if isinstance(node, ast.Assign):
                assigned += [(_names(target), node.value) for target in node.targets]
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)) and node.value is not None:
                assigned.append((_names(node.target), node.value))
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                assigned.append((_names(node.target), node.iter))
        changed = True
        while changed:  # names computed from data are data
            changed = False
            for names, value in assigned:
                if self.mentions_data(value) and not set(names) <= self.data:
                    self.data.update(names)
                    changed = True

    def mentions_data(self, node: ast.AST) -> bool:
        return any(isinstance(n, ast.Name) and n.id in self.data for n in ast.walk(node))

    def visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.Attribute) and node.attr in _TRACING or (isinstance(node, ast.Name)
                                                                          and node.id in _TRACING):
            self.add(node, TRACING_REASON)
        elif isinstance(node, (ast.For, ast.AsyncFor)) and self.mentions_data(node.iter):
            self.add(node.iter, f"loops over `{self.text(node.iter)}` in Python")
        elif isinstance(node, ast.comprehension) and self.mentions_data(node.iter):
            self.add(node.iter, f"a comprehension loops over `{self.text(node.iter)}` in Python")
        elif isinstance(node, ast.While) and self.mentions_data(node.test):
            self.add(node.test, "a while loop runs as long as the data make it")
        elif isinstance(node, ast.Call):
            name = self.numpy_name(node.func)
            if name is not None and name.split(".")[-1] in _PER_ELEMENT:  # whatever it is given: f = np.vectorize(g)
                self.add(node, f"calls numpy.{name}, which runs Python once per element")
            elif (isinstance(node.func, ast.Name) and node.func.id in _BUILTIN_LOOPS
                  and node.func.id not in self.top_level
                  and any(self.mentions_data(a) for a in (*node.args, *(k.value for k in node.keywords)))):
                self.add(node, f"{node.func.id}() runs Python once per element")

    def text(self, node: ast.AST) -> str:
        code = " ".join((ast.get_source_segment(self.unit.source, node) or "").split())
        return code if len(code) <= 40 else code[:37] + "..."


_VISITORS = {"loops": _WholeArrayVisitor, "autograd": _AutogradVisitor, "vectorised": _DataLoopVisitor}


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
