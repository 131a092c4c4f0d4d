"""Watching a function for whole-array arithmetic while it runs.

Some exercises ask for Python loops over single elements. Arguments of such a
function are handed in as ``TracedArray``, an ndarray subclass that records
every NumPy operation applied to a whole array (``x + y``, ``np.maximum(x, 0)``,
``x @ y``, ``x.sum()``, ...). Indexing single elements returns plain NumPy
scalars, so element-by-element code is never recorded. Allocation and shape
functions (``np.zeros_like``, ``x.copy()``, ``x.reshape``) are allowed.

The record is only a signal from a process that runs student code: the grader
combines it with a static reading of the source made before that code ran.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

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


def untraced(value: Any) -> Any:
    """value with every TracedArray turned back into a plain ndarray."""
    if isinstance(value, TracedArray):
        return value.view(np.ndarray)
    if isinstance(value, tuple):
        return tuple(untraced(v) for v in value)
    if isinstance(value, list):
        return [untraced(v) for v in value]
    if isinstance(value, dict):
        return {k: untraced(v) for k, v in value.items()}
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
