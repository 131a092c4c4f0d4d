"""Watching a function while it runs, for what an exercise forbids.

Rule "loops": some exercises ask for Python loops over single elements. Arguments of such a
function are handed in as ``TracedArray``, an ndarray subclass that records
every NumPy operation applied to a whole array (``x + y``, ``np.maximum(x, 0)``,
``x @ y``, ``x.sum()``, ...). Indexing single elements returns plain NumPy
scalars, so element-by-element code is never recorded. Allocation and shape
functions (``np.zeros_like``, ``x.copy()``, ``x.reshape``) are allowed.

Rule "autograd": some exercises ask for a backward pass derived by hand. While
such a function runs, PyTorch's autograd entry points (``torch.autograd.backward``,
which ``Tensor.backward`` calls, ``torch.autograd.grad``, ``torch.func.grad``...)
are wrapped to record their use, and a saved-tensors hook records any operation
that builds an autograd graph.

The record is only a signal from a process that runs student code: the grader
combines it with a static reading of the source made before that code ran.
"""

from __future__ import annotations

import contextlib
import sys
from collections import Counter
from typing import Any, Iterator

from grader.sandbox import hooks

import numpy as np

# NumPy functions that allocate, copy, reshape or describe arrays without doing
# arithmetic on their elements.
_ALLOWED_FUNCTIONS = frozenset({
    "zeros_like", "ones_like", "empty_like", "full_like", "copy", "copyto", "shape",
    "ndim", "size", "reshape", "ravel", "transpose", "swapaxes", "moveaxis",
    "expand_dims", "squeeze", "atleast_1d", "atleast_2d", "atleast_3d",
    "may_share_memory", "shares_memory", "result_type", "can_cast", "array_repr",
    "array_str", "array2string", "iterable", "isscalar", "ndindex", "broadcast_shapes",
    "unravel_index", "ravel_multi_index", "array_equal", "save", "savetxt",
})


class Recorder:
    """Counts whole-array operations seen while a traced call runs."""

    def __init__(self) -> None:
        self.operations: Counter[str] = Counter()
        self.paused = 0

    def record(self, name: str) -> None:
        if not self.paused:
            self.operations[name] += 1


_recorder: Recorder | None = None


def _is_whole_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.ndim >= 1


def _plain(value: Any) -> Any:
    if isinstance(value, TracedArray):
        return value.view(np.ndarray)
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class TracedArray(np.ndarray):
    """An ndarray that reports whole-array arithmetic to the active Recorder."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        operands = inputs + tuple(kwargs.get("out", ()) or ())
        if _recorder is not None and any(_is_whole_array(v) for v in operands):
            name = f"numpy.{ufunc.__name__}" if method == "__call__" else f"numpy.{ufunc.__name__}.{method}"
            _recorder.record(name)
        plain = {k: _plain(v) for k, v in kwargs.items()}
        return getattr(ufunc, method)(*_plain(inputs), **plain)

    def __array_function__(self, func, types, args, kwargs):
        name = func.__name__
        if name in _ALLOWED_FUNCTIONS or _recorder is None:
            return _paused(super().__array_function__, func, types, args, kwargs)
        _recorder.record(f"numpy.{name}")
        return func(*_plain(args), **{k: _plain(v) for k, v in kwargs.items()})

    def dot(self, other, out=None):
        if _recorder is not None:
            _recorder.record("ndarray.dot")
        return np.dot(self.view(np.ndarray), _plain(other), out=out)

    def __repr__(self) -> str:
        return _paused(lambda: repr(self.view(np.ndarray)))

    def __str__(self) -> str:
        return _paused(lambda: str(self.view(np.ndarray)))

    def __format__(self, spec: str) -> str:
        return _paused(lambda: format(self.view(np.ndarray), spec))


def _paused(function, *args):
    if _recorder is None:
        return function(*args)
    _recorder.paused += 1
    try:
        return function(*args)
    finally:
        _recorder.paused -= 1


def traced(value: Any) -> Any:
    """value with every ndarray in it (at any depth of lists/tuples) made traced."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "biufc":
        return value.view(TracedArray)
    if isinstance(value, tuple):
        return tuple(traced(v) for v in value)
    if isinstance(value, list):
        return [traced(v) for v in value]
    return value


_DEPTH = 64  # as deep as a value can travel (codec.MAX_DEPTH); deeper ones are refused when sent


def untraced(value: Any, depth: int = 0) -> Any:
    """value with every TracedArray turned back into a plain ndarray."""
    if isinstance(value, TracedArray):
        return value.view(np.ndarray)
    if depth > _DEPTH:  # a value nested deeper cannot be sent anyway: the worker says so, without recursing on
        return value
    if isinstance(value, tuple):
        return tuple([untraced(v, depth + 1) for v in value])
    if isinstance(value, list):
        return [untraced(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {k: untraced(v, depth + 1) for k, v in value.items()}
    return value


class tracing:
    """Context manager: record whole-array operations until exit."""

    def __enter__(self) -> Recorder:
        global _recorder
        self._previous = _recorder
        _recorder = Recorder()
        return _recorder

    def __exit__(self, *exc) -> None:
        global _recorder
        _recorder = self._previous


_AUTOGRAD_ENTRY_POINTS = {
    "torch.autograd": ("backward", "grad"),
    "torch.func": ("grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap"),
    "torch.autograd.functional": ("jacobian", "hessian", "vjp", "jvp", "vhp", "hvp"),
}


class autograd_watch:
    """Context manager: record PyTorch autograd use until exit.

    When torch is not loaded yet (it is only loaded in the sandbox for
    submissions that import it), an import hook sets the watch up the moment
    the watched code imports torch.
    """

    def __enter__(self) -> Recorder:
        self.recorder = Recorder()
        self._undo: list[tuple[Any, str, Any]] = []
        self._hooks = None
        self._finder = hooks.when_imported("torch", self._install)
        return self.recorder

    def _install(self) -> None:
        torch = sys.modules["torch"]
        for module_name, names in _AUTOGRAD_ENTRY_POINTS.items():
            module = sys.modules.get(module_name)
            for name in names if module is not None else ():
                original = getattr(module, name, None)
                if callable(original):
                    setattr(module, name, self._wrap(original, f"{module_name}.{name}"))
                    self._undo.append((module, name, original))
        self._hooks = torch.autograd.graph.saved_tensors_hooks(self._pack, _unpack)
        self._hooks.__enter__()

    def _wrap(self, original, name: str):
        recorder = self.recorder

        def recorded(*args, **kwargs):
            recorder.record(name)
            return original(*args, **kwargs)

        return recorded

    def _pack(self, tensor):
        self.recorder.record("an autograd graph (tensors with requires_grad)")
        return tensor

    def __exit__(self, *exc) -> None:
        hooks.forget(self._finder)
        if self._hooks is not None:
            self._hooks.__exit__(*exc)
        for module, name, original in reversed(self._undo):
            setattr(module, name, original)


def _unpack(tensor):
    return tensor


RULES = ("loops", "autograd")


@contextlib.contextmanager
def watching(rules: list[str]) -> Iterator[dict[str, Recorder]]:
    """Record, for each rule named, what the code running inside the block does."""
    with contextlib.ExitStack() as stack:
        recorders = {}
        if "loops" in rules:
            recorders["loops"] = stack.enter_context(tracing())
        if "autograd" in rules:
            recorders["autograd"] = stack.enter_context(autograd_watch())
        yield recorders
