"""Stub variants of a reference solution, made from its syntax tree.

For one function (or ``Class.method``) of a solution, each variant replaces
just that function with what an unfinished or evasive submission does:

* ``returns None``: the body is gone (a bare ``pass``, a forgotten ``return``);
* ``returns its first argument``: hands back what it was given;
* ``returns zeros of the right shape``: runs the reference on copies of its
  arguments, then returns zeros shaped like the reference's result (arrays,
  tensors, numbers, strings, and containers of them; a network with every
  parameter zero), or ones where zeros are the right answer;
* ``raises``: raises ValueError, the way a half-written function fails.

Everything else in the file stays the reference, so a variant earns points
only where the checks of the stubbed function fail to tell it apart.
"""

from __future__ import annotations

import ast
import copy

VARIANTS = ("returns None", "returns its first argument", "returns zeros of the right shape", "raises")

_HELPERS = '''

def _grader_copies(values):
    import copy as _copy

    return _copy.deepcopy(values)


def _grader_zeros(value):
    import sys as _sys

    np, torch = _sys.modules.get("numpy"), _sys.modules.get("torch")
    if isinstance(value, bool) or (np is not None and isinstance(value, np.bool_)):
        return False
    if isinstance(value, (int, float, complex)) or (np is not None and isinstance(value, np.number)):
        return type(value)(0)
    if isinstance(value, str):
        return ""
    if np is not None and isinstance(value, np.ndarray):
        return np.zeros_like(value)
    if torch is not None and isinstance(value, torch.Tensor):
        return torch.zeros_like(value)
    if torch is not None and isinstance(value, torch.nn.Module):
        with torch.no_grad():
            for parameter in value.parameters():
                parameter.zero_()
        return value
    if isinstance(value, (tuple, list)):
        return type(value)(_grader_zeros(item) for item in value)
    if isinstance(value, dict):
        return {key: _grader_zeros(item) for key, item in value.items()}
    if hasattr(value, "__iter__"):
        return [_grader_zeros(item) for item in value]
    return None


def _grader_blank(value):
    # Where the right answer is all zeros (initialize_with_zeros), zeros are no stub: ones of its shape are.
    import sys as _sys

    np, torch = _sys.modules.get("numpy"), _sys.modules.get("torch")

    def zero(v):
        if np is not None and isinstance(v, np.ndarray):
            return not np.any(v)
        if torch is not None and isinstance(v, torch.Tensor):
            return not bool(torch.any(v))
        if isinstance(v, (int, float)) or (np is not None and isinstance(v, np.number)):
            return v == 0
        if isinstance(v, (tuple, list)):
            return all(zero(item) for item in v)
        return False

    def ones(v):
        if np is not None and isinstance(v, np.ndarray):
            return np.ones_like(v)
        if isinstance(v, (int, float)) or (np is not None and isinstance(v, np.number)):
            return type(v)(1)
        if isinstance(v, (tuple, list)):
            return type(v)(ones(item) for item in v)
        return v

    return ones(value) if zero(value) else _grader_zeros(value)
'''


def _find(tree: ast.Module, target: str) -> tuple[list[ast.stmt], ast.FunctionDef]:
    """The body holding target's definition, and the definition."""
    owner, _, member = target.rpartition(".")
    for node in tree.body:
        if not owner and isinstance(node, ast.FunctionDef) and node.name == member:
            return tree.body, node
        if owner and isinstance(node, ast.ClassDef) and node.name == owner:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == member:
                    return node.body, item
    raise LookupError(f"{target} is not defined in the reference solution")


def _parameters(function: ast.FunctionDef, method: bool) -> list[str]:
    names = [a.arg for a in function.args.posonlyargs + function.args.args]
    return names[1:] if method else names


def _statement(code: str) -> list[ast.stmt]:
    return ast.parse(code).body


def variant(source: str, target: str, kind: str) -> str | None:
    """source with target replaced by the stub named kind; None when the stub makes no sense for it."""
    tree = ast.parse(source)
    body, original = _find(tree, target)
    method = "." in target
    parameters = _parameters(original, method)
    stub = copy.deepcopy(original)
    stub.decorator_list = []
    if kind == "returns None":
        stub.body = _statement("pass" if original.name == "__init__" else "return None")
    elif kind == "returns its first argument":
        if not parameters or original.name == "__init__":
            return None
        stub.body = _statement(f"return {parameters[0]}")
    elif kind == "raises":
        stub.body = _statement('raise ValueError("not finished yet")')
    elif kind == "returns zeros of the right shape":
        if original.name == "__init__":
            return None
        hidden = f"_reference_{original.name}"
        original.name = hidden
        if method:
            call = (f"self_copy, args, kwargs = _grader_copies((self, args, kwargs))\n"
                    f"return _grader_blank(type(self).{hidden}(self_copy, *args, **kwargs))")
            stub = ast.parse(f"def {stub.name}(self, *args, **kwargs):\n" + _indent(call)).body[0]
        else:
            call = (f"args, kwargs = _grader_copies((args, kwargs))\n"
                    f"return _grader_blank({hidden}(*args, **kwargs))")
            stub = ast.parse(f"def {stub.name}(*args, **kwargs):\n" + _indent(call)).body[0]
        body.insert(body.index(original) + 1, stub)
        return ast.unparse(tree) + _HELPERS
    else:
        raise ValueError(f"unknown variant {kind!r}")
    body[body.index(original)] = stub
    return ast.unparse(tree) + _HELPERS


def _indent(code: str) -> str:
    return "".join(f"    {line}\n" for line in code.splitlines())


def targets(functions: tuple[str, ...]) -> list[str]:
    """The assignment's functions, and the constructor of each class whose methods they name."""
    classes = sorted({f.split(".")[0] for f in functions if "." in f})
    return [*functions, *(f"{owner}.__init__" for owner in classes)]
