"""Reading a reference solution's structure: its functions and who calls whom.

A mutant of one function can change what others return: a wrong helper
(``_broadcast_shape``) is caught by the checks of the function that uses it,
and a wrong ``__init__`` by the checks of any method of its class. ``reach``
says, for each function of the solution, which of them can run it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from grader.authoring.mutants import functions


def calls(tree: ast.Module) -> dict[str, set[str]]:
    """Each function of the module (as mutants.functions names it) and the functions it runs directly."""
    defined = dict(functions(tree))
    classes = {node.name: [f"{node.name}.{m.name}" for m in node.body
                           if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))]
               for node in tree.body if isinstance(node, ast.ClassDef)}
    graph: dict[str, set[str]] = {name: set() for name in defined}
    for name, definition in defined.items():
        owner = name.split(".")[0] if "." in name else None
        for node in ast.walk(definition):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                if node.id in defined:
                    graph[name].add(node.id)
                graph[name].update(classes.get(node.id, ()))  # making an object runs __init__, and it is used
            elif (owner is not None and isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                  and node.value.id in ("self", "cls", owner) and f"{owner}.{node.attr}" in defined):
                graph[name].add(f"{owner}.{node.attr}")
        if owner is not None:  # every method runs on an object some constructor made
            graph[name].update(m for m in classes[owner] if m.split(".")[1].startswith("__"))
    return graph


def reach(source: str) -> dict[str, set[str]]:
    """For each function, every function that runs it, directly or through others (itself included)."""
    graph = calls(ast.parse(source))
    reached: dict[str, set[str]] = {name: {name} for name in graph}
    changed = True
    while changed:
        changed = False
        for caller, callees in graph.items():
            for callee in callees:
                for target in list(reached):
                    if callee in reached[target] and caller not in reached[target]:
                        reached[target].add(caller)
                        changed = True
    return reached


def exercised(function: str, checks_functions: Iterable[str]) -> bool:
    """Whether a check listing checks_functions exercises function.

    A check that lists a class (``OurNeuralNetwork``) exercises its constructor:
    it makes objects and looks at them, and may not call any method.
    """
    owner, _, member = function.partition(".")
    return any(listed == function or (listed == owner and member == "__init__") for listed in checks_functions)
