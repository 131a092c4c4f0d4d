"""Stub versions of a reference solution: one function replaced by something that does no work.

A student who writes ``return None``, returns a constant, zeros of the right
shape or the argument they were given, or raises, has not solved anything;
checks worth having give such a function no points. Each stub is the
reference with one declared function's body replaced; the rest stays
correct, so only that function's checks are asked about it.

"Zeros of the right shape" cannot be known from the source alone: that stub
keeps the reference's function under another name, calls it, and returns
zeros shaped like its result (arrays, tensors, numbers, containers of them,
and a network with every parameter zero), or None where the reference raised:
a stub never refuses bad input, which is work of its own. Where the result is
all zeros already (``initialize_with_zeros``), zeros would be the right answer,
not a stub: it returns ones of that shape instead.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Literal

from grader.authoring.mutants import functions

Kind = Literal["returns None", "returns 1.0", "returns True", "returns False", "returns zeros",
               "returns its first argument", "raises ValueError"]
KINDS: tuple[Kind, ...] = ("returns None", "returns 1.0", "returns True", "returns False", "returns zeros",
                           "returns its first argument", "raises ValueError")
_BODIES: dict[Kind, str] = {
    "returns None": "return None",
    "returns 1.0": "return 1.0",
    "returns True": "return True",
    "returns False": "return False",
    "raises ValueError": 'raise ValueError("this function is a stub")',
}
_ORIGINAL = "_grader_original_"
_ZEROS = '''

def _grader_zeros(value, fill=0):
    """Zeros (or fill) shaped like value: what a stub returns in place of the real result."""
    import numpy

    TORCH
    if isinstance(value, numpy.ndarray):
        return numpy.full_like(value, fill)
    if torch is not None and isinstance(value, torch.Tensor):
        return torch.full_like(value, fill)
    if torch is not None and isinstance(value, torch.nn.Module):
        import copy

        zeroed = copy.deepcopy(value)
        with torch.no_grad():
            for parameter in zeroed.parameters():
                parameter.fill_(fill)
        return zeroed
    if isinstance(value, (bool, numpy.bool_)):
        return bool(fill)
    if isinstance(value, (int, float, complex, numpy.number)):
        return type(value)(fill)
    if type(value) in (list, tuple):
        return type(value)(_grader_zeros(item, fill) for item in value)
    if isinstance(value, dict):
        return {key: _grader_zeros(item, fill) for key, item in value.items()}
    return None


def _grader_is_zero(value):
    """Whether value is all zeros already (arrays, tensors, numbers, and containers of them)."""
    import numpy

    TORCH
    if isinstance(value, numpy.ndarray):
        return not numpy.any(value)
    if torch is not None and isinstance(value, torch.Tensor):
        return not bool(torch.any(value))
    if isinstance(value, (bool, numpy.bool_, int, float, complex, numpy.number)):
        return value == 0
    if type(value) in (list, tuple):
        return all(_grader_is_zero(item) for item in value)
    if isinstance(value, dict):
        return all(_grader_is_zero(item) for item in value.values())
    return False


def _grader_blank(value):
    """Zeros shaped like value; ones where zeros are the right answer (initialize_with_zeros), or the stub would be
    the reference itself."""
    return _grader_zeros(value, 1) if _grader_is_zero(value) else _grader_zeros(value)
'''


@dataclass(frozen=True)
class Stub:
    function: str
    kind: Kind
    source: str


def stubs(source: str, declared: tuple[str, ...]) -> list[Stub]:
    """Every stub of every declared function the source defines, function by function."""
    tree = ast.parse(source)
    defined = dict(functions(tree))
    made = []
    for name in declared:
        definition = defined.get(name)
        if definition is None:
            continue
        for kind in KINDS:
            stubbed = _stub(source, name, definition, kind)
            if stubbed is not None:
                made.append(Stub(name, kind, stubbed))
    return made


def _parameters(definition: ast.FunctionDef | ast.AsyncFunctionDef, method: bool) -> list[str]:
    positional = [a.arg for a in (*definition.args.posonlyargs, *definition.args.args)]
    return positional[1:] if method else positional


def _stub(source: str, name: str, definition: ast.FunctionDef | ast.AsyncFunctionDef, kind: Kind) -> str | None:
    method = "." in name
    lines = source.splitlines(keepends=True)
    if kind == "returns its first argument":
        parameters = _parameters(definition, method)
        if not parameters:
            return None
        body = f"return {parameters[0]}"
    elif kind == "returns zeros":
        # A function that returns nothing works by its effects, which a stub calling it would keep.
        gives = any(isinstance(n, ast.Return) and n.value is not None for n in ast.walk(definition))
        return _zeros_stub(source, name, definition) if gives else None
    else:
        body = _BODIES[kind]
    first = definition.body[0]
    start = _offset(lines, first.lineno, first.col_offset)
    end = _offset(lines, definition.end_lineno or definition.lineno, definition.end_col_offset or 0)
    return source[:start] + body + source[end:]


def _zeros_stub(source: str, name: str, definition: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """Rename the function, and define in its place one that returns zeros shaped like its result."""
    method = "." in name
    short = definition.name
    lines = source.splitlines(keepends=True)
    def_line = lines[definition.lineno - 1]
    renamed = re.sub(rf"\bdef\s+{re.escape(short)}\b", f"def {_ORIGINAL}{short}", def_line, count=1)
    indent = def_line[: len(def_line) - len(def_line.lstrip())]
    arguments = definition.args
    forwarded = [*_parameters(definition, method)]
    if arguments.vararg is not None:
        forwarded.append(f"*{arguments.vararg.arg}")
    forwarded += [f"{a.arg}={a.arg}" for a in arguments.kwonlyargs]
    if arguments.kwarg is not None:
        forwarded.append(f"**{arguments.kwarg.arg}")
    target = f"{arguments.args[0].arg}.{_ORIGINAL}{short}" if method else f"{_ORIGINAL}{short}"
    # It never raises: checks that a function refuses bad input must not credit a stub for the reference's refusal.
    wrapper = (f"\n{indent}def {short}({ast.unparse(arguments)}):\n"
               f"{indent}    try:\n"
               f"{indent}        value = {target}({', '.join(forwarded)})\n"
               f"{indent}    except Exception:\n"
               f"{indent}        return None\n"
               f"{indent}    return _grader_blank(value)\n")
    end_line = definition.end_lineno or definition.lineno
    before = "".join(lines[: definition.lineno - 1]) + renamed + "".join(lines[definition.lineno:end_line])
    if not before.endswith("\n"):
        before += "\n"
    return before + wrapper + "".join(lines[end_line:]) + _helpers(source)


def _helpers(source: str) -> str:
    """The helpers, with PyTorch imported only where the solution imports it. Reaching into sys.modules for it
    instead would be code that reaches past its own work, which the sandbox's reading takes as dodging the
    rules: the stub would lose its points to a rule, and say nothing of the checks."""
    uses_torch = any(isinstance(node, (ast.Import, ast.ImportFrom)) and "torch" in ast.unparse(node)
                     for node in ast.walk(ast.parse(source)))
    return _ZEROS.replace("TORCH", "import torch" if uses_torch else "torch = None")


def _offset(lines: list[str], lineno: int, col: int) -> int:
    before = sum(len(line) for line in lines[: lineno - 1])
    return before + len(lines[lineno - 1].encode("utf-8")[:col].decode("utf-8", errors="ignore"))
