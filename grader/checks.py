"""Declaring checks, and the helpers check authors use.

A check is a plain function decorated with ``@check``; its points, the student
functions it exercises and its visibility sit next to it. It receives what it
names as parameters:

    student    the submission's functions (``grader.student.Student``)
    rng        a NumPy Generator seeded from the run's seed and the check's name
    reference  the reference solution module (hidden checks only)
    seed       the run's seed
    device     "cpu" or "cuda", for checks that place tensors
    evidence   attach curves to the report: ``evidence.curve("your loss", values)``

It passes by returning and fails by raising ``CheckFailed`` (the comparison
helpers do that for it). Anything the student's code does wrong on the way
(raising, hanging, crashing) is turned into a result by the runner.

    @check(points=2, functions="naive_add")
    def naive_add_values(student, rng):
        \"\"\"naive_add matches NumPy on random matrices\"\"\"
        x, y = rng.standard_normal((2, 3, 4))
        assert_same(student.naive_add(x, y), x + y, what="naive_add(x, y)")
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import math
import sys
import types
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from grader.compare import as_bool, as_number, as_sequence, assert_kind, assert_number, assert_same, describe
from grader.errors import CheckFailed, NotChecked, SpecError
from grader.model import Visibility
from grader.sandbox.faults import StudentRaised
from grader.student import Call

FIXTURES = ("student", "rng", "reference", "seed", "device", "evidence")

# Exceptions that mean "this code is not working at all", never "it raised the
# wrong exception": the runner reports them as errors with their own message.
_FAULT_LIKE = ("NotImplementedError", "SystemExit", "SandboxViolation", "MemoryError", "RecursionError")


@dataclass(frozen=True)
class _Declared:
    points: float
    functions: tuple[str, ...]
    hidden: bool | None
    name: str | None
    timeout: float | None


@dataclass(frozen=True)
class CheckSpec:
    """A check as loaded from an assignment's checks file."""

    name: str
    title: str
    points: float
    functions: tuple[str, ...]
    visibility: Visibility
    fixtures: tuple[str, ...]
    run: Callable[..., Any]
    origin: str
    timeout: float | None = None


_Check = TypeVar("_Check", bound=Callable[..., Any])


def check(*, points: float, functions: str | Iterable[str], hidden: bool | None = None, name: str | None = None,
          timeout: float | None = None) -> Callable[[_Check], _Check]:
    """Mark a function as a check worth points, exercising the named student functions.

    hidden: defaults to where the file lives (under reference/ means hidden).
    timeout: seconds each call to student code may take, when the assignment's
        default does not fit this check.
    """
    names = (functions,) if isinstance(functions, str) else tuple(functions)

    def mark(function: _Check) -> _Check:
        # setattr: a function's type has no such attribute, and mypy is strict here
        setattr(function, "__grader_check__", _Declared(points, names, hidden, name, timeout))  # noqa: B010
        return function

    return mark


_loaded: dict[tuple[str, int, str, bool, tuple[Path, ...]], list[CheckSpec]] = {}


def load_file(path: Path, module_name: str, *, hidden: bool, search: tuple[Path, ...] = ()) -> list[CheckSpec]:
    """The checks a file declares, in the order it declares them.

    module_name is dotted; its package is made to span the folders in search,
    so that a checks file can share helpers with ``from .support import ...``
    whether it lives under assignments/ or reference/. A file is executed once
    per process while it is unchanged (batch grading asks for it per student).
    """
    key = (str(path), path.stat().st_mtime_ns, module_name, hidden, search)
    if key not in _loaded:
        _loaded[key] = _load_file(path, module_name, hidden=hidden, search=search)
    return list(_loaded[key])


def _load_file(path: Path, module_name: str, *, hidden: bool, search: tuple[Path, ...]) -> list[CheckSpec]:
    package = module_name.rpartition(".")[0]
    if package:
        _package(package, search)
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise SpecError(f"{path}: cannot be loaded as Python")
    module = importlib.util.module_from_spec(spec)
    module.__package__ = package
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise SpecError(f"{path}: loading the checks failed: {type(exc).__name__}: {exc}") from exc
    checks = []
    for attribute, value in vars(module).items():
        declared = getattr(value, "__grader_check__", None)
        if declared is None or getattr(value, "__module__", None) != module_name:
            continue
        checks.append(_spec(path, attribute, value, declared, hidden))
    return checks


def _package(name: str, search: tuple[Path, ...]) -> None:
    """Make name (and its parents) importable packages whose contents come from search."""
    parent = name.rpartition(".")[0]
    if parent:
        _package(parent, ())
    module = sys.modules.get(name)
    if module is None:
        module = types.ModuleType(name)
        module.__path__ = []
        sys.modules[name] = module
    if search:
        module.__path__ = [str(folder) for folder in search if folder.is_dir()]


def _spec(path: Path, attribute: str, function: Callable[..., Any], declared: _Declared,
          hidden_file: bool) -> CheckSpec:
    where = f"{path}: check {attribute}"
    if not isinstance(declared.points, (int, float)) or not math.isfinite(declared.points) or declared.points <= 0:
        raise SpecError(f"{where}: points must be a positive number, not {declared.points!r}")
    if not declared.functions or not all(isinstance(f, str) and f for f in declared.functions):
        raise SpecError(f"{where}: functions must name at least one student function")
    if declared.hidden is True and not hidden_file:
        raise SpecError(f"{where}: a hidden check must live under reference/, where students cannot read it")
    if declared.timeout is not None and not declared.timeout > 0:
        raise SpecError(f"{where}: timeout must be positive")
    fixtures = tuple(inspect.signature(function).parameters)
    unknown = [f for f in fixtures if f not in FIXTURES]
    if unknown:
        raise SpecError(f"{where}: unknown parameter(s) {', '.join(unknown)}; checks may ask for {', '.join(FIXTURES)}")
    hidden = hidden_file if declared.hidden is None else declared.hidden
    if "reference" in fixtures and not hidden_file:
        raise SpecError(f"{where}: public checks run without the reference solution; compute expected values "
                        "with NumPy or PyTorch, or move the check under reference/")
    doc = inspect.getdoc(function) or ""
    title = doc.splitlines()[0].strip() if doc else attribute.replace("_", " ")
    return CheckSpec(
        name=declared.name or attribute, title=title, points=float(declared.points),
        functions=declared.functions, visibility="hidden" if hidden else "visible", fixtures=fixtures,
        run=function, origin=str(path), timeout=declared.timeout,
    )


def validate(checks: list[CheckSpec], functions: Iterable[str], source: str) -> None:
    """Refuse duplicate names and checks of functions the assignment does not declare."""
    declared = set(functions)
    owners = {f.split(".")[0] for f in declared}
    seen: dict[str, str] = {}
    for spec in checks:
        if spec.name in seen:
            raise SpecError(f"{source}: two checks are named {spec.name!r} ({seen[spec.name]} and {spec.origin})")
        seen[spec.name] = spec.origin
        for function in spec.functions:
            if function not in declared and function not in owners:
                raise SpecError(f"{spec.origin}: check {spec.name} exercises {function!r}, which the assignment "
                                f"does not declare (declared: {', '.join(sorted(declared))})")


# --- helpers for check authors -------------------------------------------------


def expect_raises(call: Callable[[], Any], *exceptions: str, what: str) -> StudentRaised:
    """Run call (a student call) and require one of the named exceptions.

    The names match the exception's class or any base class, so a student's
    ``class ShapeError(ValueError)`` counts as a ValueError.
    """
    wanted = " or ".join(exceptions)
    try:
        value = call()
    except StudentRaised as raised:
        if raised.is_a(*exceptions):
            return raised
        if raised.is_a(*_FAULT_LIKE):
            raise
        raise CheckFailed(f"{what} raised {raised.type_name}, not {wanted}.",
                          f"{raised.explain()} Check the shapes first and raise {wanted} "
                          "when they do not fit.") from None
    raise CheckFailed(f"{what} did not raise {wanted}.",
                      f"It returned {describe(value)} instead. Check the shapes first and raise {wanted} "
                      "when they do not fit.")


@contextlib.contextmanager
def working(function: str) -> Iterator[None]:
    """The block shows that function returns correct values on valid inputs, or the check is not counted.

    A check of a property (inputs left unchanged, an error on bad shapes, the
    dtype kept, memory shared) says nothing about a function that computes
    nothing: a bare ``pass`` leaves its inputs unchanged, and one that always
    raises "rejects" bad shapes. Such checks call the function on valid inputs
    and compare its values inside this block first; a wrong value, or an
    exception, turns into ``NotChecked`` ("Not checked: f does not yet return
    correct values", 0 points). Unfinished code (NotImplementedError), exits,
    timeouts and crashes keep their own message.
    """
    try:
        yield
    except NotChecked:
        raise
    except CheckFailed as failed:
        raise NotChecked(function, f"On valid inputs: {failed}") from None
    except StudentRaised as raised:
        if raised.is_a(*_FAULT_LIKE):
            raise
        raise NotChecked(function, f"On valid inputs: {raised.explain()}") from None


def expect_unchanged(call: Call, originals: dict[str, Any], *, what: str) -> None:
    """Require that a call left its array arguments as they were.

    originals maps the parameter names the student knows (``x``, ``y``) to the
    values passed, in the order they were passed.
    """
    advice = "Work on a copy (e.g. {name}.copy()) or a new array, so the caller's data stays as it was."
    for (name, before), after in zip(originals.items(), call.args):
        if not isinstance(before, np.ndarray) or not isinstance(after, np.ndarray):
            continue
        if after.shape != before.shape or after.dtype != before.dtype:
            raise CheckFailed(f"{what} changed its input {name}.",
                              f"Your function changed {name} in place: it was {describe(before)} and is now "
                              f"{describe(after)}. Reshape or convert a copy instead (e.g. {name}.reshape(...) "
                              "returns a new view; assigning to .shape or .dtype changes the caller's array).")
        changed = ~((before == after) | (np.isnan(before) & np.isnan(after))) if before.dtype.kind in "fc" else (
            before != after)
        if np.any(changed):
            index = tuple(int(i) for i in np.argwhere(changed)[0])
            place = "[" + ", ".join(map(str, index)) + "]"
            raise CheckFailed(f"{what} changed its input {name}.",
                              f"Your function wrote into {name}. At {place} it was {_scalar(before[index])} and is "
                              f"now {_scalar(after[index])}. " + advice.format(name=name))


def _scalar(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, (np.floating, np.complexfloating, float)) else str(value)


__all__ = [
    "CheckFailed", "CheckSpec", "FIXTURES", "NotChecked", "as_bool", "as_number", "as_sequence", "assert_kind",
    "assert_number", "assert_same", "check", "describe", "expect_raises", "expect_unchanged", "load_file", "validate",
    "working",
]
