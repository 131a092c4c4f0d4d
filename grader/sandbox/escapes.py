"""Code that reaches past its own work, read from the source before it runs.

Where an exercise has rules (loops only, no autograd), the worker watches the
graded functions run. Code in the same process can blind that watch: walk up
the call stack to the recorder (``sys._getframe``, ``f_back``, ``f_locals``),
find objects through the garbage collector, write its own answers on the
channel to the grader (raw descriptors, msgpack), run C (ctypes) or code built
at run time (``exec``, ``eval``, ``compile``), or reach NumPy through names
built at run time so the reading cannot tell what it calls. None of that is
needed to write a loop or a derivative by hand, so it is found here, from the
source alone, before any of it can run, and it takes the points of every
function the rules watch: a result a submission could have forged is not a
result.

The search is deliberately narrow, names and attributes that have no place in
these exercises, so that honest code (``import os``, ``print``, a class's own
attributes) is never caught.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

# Modules whose mere use is reaching past the exercise.
_MODULES = {
    "gc": "finds objects through the garbage collector",
    "inspect": "inspects the running program",
    "ctypes": "calls C code (ctypes)",
    "msgpack": "writes the grader's own message format",
    "socket": "opens sockets",
    "mmap": "maps memory directly",
    "marshal": "builds code objects",
    "pickle": "unpickles objects",
    "importlib": "imports modules by name at run time",
    "signal": "handles signals",
    "multiprocessing": "starts processes",
    "subprocess": "starts programs",
    "_thread": "starts threads below the threading module",
    "builtins": "reaches into the builtins",
}
# Attributes that reach frames, code and other modules' namespaces.
_ATTRIBUTES = {
    "_getframe": "reaches into the call stack", "f_back": "reaches into the call stack",
    "f_locals": "reaches into the call stack", "f_globals": "reaches into the call stack",
    "f_builtins": "reaches into the call stack", "f_code": "reaches into the call stack",
    "gi_frame": "reaches into the call stack", "cr_frame": "reaches into the call stack",
    "ag_frame": "reaches into the call stack", "tb_frame": "reaches into the call stack",
    "tb_next": "reaches into the call stack",
    "__globals__": "reaches into another module's namespace", "__builtins__": "reaches into the builtins",
    "__closure__": "reaches into a function's closure", "__code__": "reaches into a function's code",
    "__subclasses__": "searches the program's classes", "__mro__": "searches the program's classes",
    "__bases__": "searches the program's classes", "__base__": "searches the program's classes",
}
# Attributes of sys and os that are about the interpreter or raw descriptors, not the exercise.
_SYS = frozenset({"_getframe", "modules", "settrace", "setprofile", "meta_path", "path_hooks", "addaudithook",
                  "setrecursionlimit", "_current_frames"})
_OS = frozenset({"write", "read", "fstat", "dup", "dup2", "fdopen", "open", "close", "kill", "killpg", "pipe",
                 "set_inheritable", "readv", "writev", "sendfile", "posix_spawn", "fork", "system"})
_BUILTINS = {
    "exec": "runs code built at run time (exec)", "eval": "runs code built at run time (eval)",
    "compile": "compiles code at run time", "globals": "reaches into the module's namespace (globals())",
    "vars": "reaches into a namespace (vars())", "__import__": "imports modules by name at run time",
    "breakpoint": "starts a debugger",
}
# Names numerical modules are reached through; getattr on them with a name built at run time hides the call.
_NUMERICAL = frozenset({"numpy", "np", "torch", "operator", "math", "scipy", "jax"})


@dataclass(frozen=True)
class Escape:
    node: ast.AST
    reason: str


def find(trees: Iterable[ast.Module]) -> Iterator[Escape]:
    """Every place in the trees where code reaches past its own work."""
    for tree in trees:
        nodes = list(ast.walk(tree))  # walked once: the aliases are read from the same nodes
        aliases = _aliases(nodes)
        for node in nodes:
            reason = _reason(node, aliases)
            if reason is not None:
                yield Escape(node, reason)


def _aliases(nodes: list[ast.AST]) -> dict[str, str]:
    """Local name -> module, for the modules this search cares about."""
    found: dict[str, str] = {}
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                found[alias.asname or alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                found[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return found


def _reason(node: ast.AST, aliases: dict[str, str]) -> str | None:
    if isinstance(node, ast.Import):
        for alias in node.names:
            top = alias.name.split(".")[0]
            if top in _MODULES:
                return _MODULES[top]
    elif isinstance(node, ast.ImportFrom) and node.module:
        top = node.module.split(".")[0]
        if top in _MODULES:
            return _MODULES[top]
        if top == "sys" and any(alias.name in _SYS for alias in node.names):
            return "reaches into the interpreter (sys)"
        if top == "os" and any(alias.name in _OS for alias in node.names):
            return "uses raw file descriptors or processes (os)"
    elif isinstance(node, ast.Attribute):
        if node.attr in _ATTRIBUTES:
            return _ATTRIBUTES[node.attr]
        owner = aliases.get(node.value.id) if isinstance(node.value, ast.Name) else None
        if owner == "sys" and node.attr in _SYS:
            return "reaches into the interpreter (sys)"
        if owner == "os" and node.attr in _OS:
            return "uses raw file descriptors or processes (os)"
    elif isinstance(node, ast.Name) and node.id == "__builtins__":
        return _ATTRIBUTES["__builtins__"]
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id == "vars":
            if node.args and isinstance(node.args[0], ast.Name) and node.args[0].id in aliases:
                return _BUILTINS["vars"]  # a module's namespace; vars(self) is the student's own business
        elif node.func.id in _BUILTINS:
            return _BUILTINS[node.func.id]
        if node.func.id in ("getattr", "setattr", "delattr", "hasattr") and len(node.args) >= 2:
            name = _constant_text(node.args[1])  # "__globals__", or "__glo" + "bals__": the attribute, spelt out
            if name in _ATTRIBUTES:
                return _ATTRIBUTES[name]
            if name in _BUILTINS:
                return _BUILTINS[name]
            target = node.args[0]
            module = aliases.get(target.id, target.id) if isinstance(target, ast.Name) else None
            literal = isinstance(node.args[1], ast.Constant)
            if module in _NUMERICAL and (not literal or node.func.id != "getattr"):
                return "reaches a library's functions through names built at run time"
    return None


def _constant_text(node: ast.AST) -> str | None:
    """The text node always evaluates to, where it is string literals joined with +; else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _constant_text(node.left), _constant_text(node.right)
        return left + right if left is not None and right is not None else None
    return None
