"""Watching a function while it runs, for what an exercise forbids.

Rule "loops": some exercises ask for Python loops over single elements. Arguments of such a
function are handed in as ``TracedArray``, an ndarray subclass that records
every NumPy operation applied to a whole array (``x + y``, ``np.maximum(x, 0)``,
``x @ y``, ``x.sum()``, ufunc methods such as ``np.add.reduce(x)``, ...).
Indexing single elements returns plain NumPy scalars, so element-by-element
code is never recorded. Allocation and shape functions (``np.zeros_like``,
``x.copy()``, ``x.reshape``) are allowed. A traced argument owns its memory
(its ``.base`` is None, not a plain array to compute on), and ``__array__()``,
``view()`` and ``np.copy`` of it stay traced. Views the tracer cannot keep
(``.data``, ``np.asarray``) are left to the static reading, which counts them
as arrays.

Rule "autograd": some exercises ask for a backward pass derived by hand, so
automatic differentiation of any kind is not allowed there: PyTorch's autograd
(``Tensor.backward``, ``torch.autograd.grad``, ``torch.autograd.functional``,
forward mode), ``torch.func`` (functorch), and computer algebra (SymPy). ``arm``
puts the watch in place before any student code runs, in any thread: it wraps
the entry points where they live (so a function captured at load time through
``getattr`` is the wrapper), the engine every backward pass of PyTorch goes
through, and the creation of a SymPy derivative; while a watched call runs,
each records into that call's recorder, and a saved-tensors hook records the
operations that build an autograd graph in the calling thread. JAX and other
libraries that are not installed with the grader are left to the static reading.

The record is only a signal from a process that runs student code: the grader
combines it with a static reading of the source made before that code ran.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np

from grader.sandbox import hooks

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
        return np.ndarray.view(value, np.ndarray)
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
            if name == "copy" and "subok" not in kwargs:  # np.copy would return a plain, unwatched array
                kwargs = {**kwargs, "subok": True}
            return _paused(super().__array_function__, func, types, args, kwargs)
        _recorder.record(f"numpy.{name}")
        return func(*_plain(args), **{k: _plain(v) for k, v in kwargs.items()})

    def __array__(self, dtype=None, copy=None):
        # ndarray.__array__ of a subclass returns a plain view: the same values, no longer watched.
        return self if dtype is None or np.dtype(dtype) == self.dtype else self.astype(dtype)

    def view(self, *args, **kwargs):
        wanted = kwargs.get("type", args[-1] if args and isinstance(args[-1], type) else None)
        if wanted is np.ndarray or (isinstance(wanted, type) and not issubclass(wanted, TracedArray)
                                    and issubclass(wanted, np.ndarray)):
            args = tuple(TracedArray if a is wanted else a for a in args)
            kwargs = {k: TracedArray if v is wanted else v for k, v in kwargs.items()}
        return super().view(*args, **kwargs)

    def dot(self, other, out=None):
        if _recorder is not None:
            _recorder.record("ndarray.dot")
        return np.dot(np.ndarray.view(self, np.ndarray), _plain(other), out=out)

    def __repr__(self) -> str:
        return _paused(lambda: repr(np.ndarray.view(self, np.ndarray)))

    def __str__(self) -> str:
        return _paused(lambda: str(np.ndarray.view(self, np.ndarray)))

    def __format__(self, spec: str) -> str:
        return _paused(lambda: format(np.ndarray.view(self, np.ndarray), spec))


def _paused(function, *args):
    if _recorder is None:
        return function(*args)
    _recorder.paused += 1
    try:
        return function(*args)
    finally:
        _recorder.paused -= 1


def traced(value: Any) -> Any:
    """value with every ndarray in it (at any depth of lists/tuples) made traced.

    A traced array is a copy that owns its memory: as a view of value, its
    .base would hand student code a plain array to compute on unseen.
    """
    if isinstance(value, np.ndarray) and value.dtype.kind in "biufc":
        copy = np.ndarray.__new__(TracedArray, value.shape, value.dtype)
        np.ndarray.view(copy, np.ndarray)[...] = value
        return copy
    if isinstance(value, tuple):
        return tuple(traced(v) for v in value)
    if isinstance(value, list):
        return [traced(v) for v in value]
    return value


_DEPTH = 64  # as deep as a value can travel (codec.MAX_DEPTH); deeper ones are refused when sent


def untraced(value: Any, depth: int = 0) -> Any:
    """value with every TracedArray turned back into a plain ndarray."""
    if isinstance(value, TracedArray):
        return np.ndarray.view(value, np.ndarray)
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


# Where automatic differentiation is entered, module by module; wrapped in place by arm().
_AUTOGRAD_ENTRY_POINTS = {
    "torch.autograd": ("backward", "grad"),
    "torch.autograd.functional": ("jacobian", "hessian", "vjp", "jvp", "vhp", "hvp"),
    "torch.autograd.forward_ad": ("make_dual",),
    "torch.func": ("grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "linearize"),
}
_ENGINE = "torch.autograd (the backward pass engine)"
_GRAPH = "an autograd graph (tensors with requires_grad)"
_SYMPY = "sympy (a symbolic derivative)"

_watched: Recorder | None = None  # the autograd recorder of the watched call running now, seen from any thread
_armed: set[str] = set()


def arm() -> None:
    """Put the autograd watch in place for this process, before student code runs; idempotent.

    Entry points are replaced where they live, once, by wrappers that record
    into the active watch (and do nothing more outside one), so code that
    captured one at load time, or calls it from another thread, is seen too.
    Modules not imported yet are armed the moment they are.
    """
    for module_name in ("torch", *_AUTOGRAD_ENTRY_POINTS, "torch.autograd.variable", "sympy"):
        if module_name not in _armed:
            _armed.add(module_name)
            hooks.when_imported(module_name, lambda name=module_name: _arm_module(name))


def _arm_module(name: str) -> None:
    module = sys.modules[name]
    for attribute in _AUTOGRAD_ENTRY_POINTS.get(name, ()):
        original = getattr(module, attribute, None)
        if callable(original) and not getattr(original, "__grader_watch__", False):
            setattr(module, attribute, _recording(original, f"{name}.{attribute}"))
    if name == "torch.autograd.variable":  # every backward pass and autograd.grad runs through this engine
        variable = module.Variable
        if not isinstance(variable._execution_engine, _EngineWatch):
            variable._execution_engine = _EngineWatch(variable._execution_engine)
    if name == "sympy":  # sympy.diff, Expr.diff and Derivative(...) all build a Derivative
        derivative = module.Derivative
        original = derivative.__dict__["__new__"]
        if not getattr(getattr(original, "__wrapped__", original), "__grader_watch__", False):
            derivative.__new__ = staticmethod(_recording(original, _SYMPY))
    if name == "torch" and _current_watch is not None:
        _current_watch.hook_graphs()  # torch was imported by the watched call itself


def _recording(original, label: str):
    @functools.wraps(original)
    def recorded(*args, **kwargs):
        if _watched is not None:
            _watched.record(label)
        return original(*args, **kwargs)

    recorded.__grader_watch__ = True
    return recorded


class _EngineWatch:
    """PyTorch's autograd engine, with every backward pass it runs recorded during a watched call."""

    def __init__(self, engine) -> None:
        self._engine = engine

    def run_backward(self, *args, **kwargs):
        if _watched is not None:
            _watched.record(_ENGINE)
        return self._engine.run_backward(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._engine, name)


_current_watch: autograd_watch | None = None


class autograd_watch:
    """Context manager: record automatic differentiation until exit (see arm()).

    The saved-tensors hook that sees autograd graphs being built works in the
    calling thread only; the wrapped entry points and engine see every thread.
    graphs=False leaves that hook out: where autograd is required, only whether it
    derived something matters, and torch.func refuses to run under such a hook.
    """

    def __init__(self, graphs: bool = True) -> None:
        self.graphs = graphs

    def __enter__(self) -> Recorder:
        global _watched, _current_watch
        arm()
        self.recorder = Recorder()
        self._hooks = None
        _watched, _current_watch = self.recorder, self
        torch = sys.modules.get("torch")
        if torch is not None and hasattr(torch, "autograd"):  # else hooked once the import finishes
            self.hook_graphs()
        return self.recorder

    def hook_graphs(self) -> None:
        if self._hooks is None and self.graphs:
            self._hooks = sys.modules["torch"].autograd.graph.saved_tensors_hooks(self._pack, _unpack)
            self._hooks.__enter__()

    def _pack(self, tensor):
        self.recorder.record(_GRAPH)
        return tensor

    def __exit__(self, *exc) -> None:
        global _watched, _current_watch
        _watched, _current_watch = None, None
        if self._hooks is not None:
            self._hooks.__exit__(*exc)


def _unpack(tensor):
    return tensor


# Assignment 5's rules: "requires_autograd" (the gradient must come from autograd: the autograd watch above, read the
# other way round) and "vectorised" (no Python loop over the data: the lines of student code each call runs, counted).
RULES = ("loops", "autograd", "requires_autograd", "vectorised")
_DERIVED_BY_AUTOGRAD = frozenset(op for module, names in _AUTOGRAD_ENTRY_POINTS.items()
                                 for op in (f"{module}.{name}" for name in names)) | {_ENGINE}


def ran_autograd(recorder: Recorder) -> bool:
    """Whether autograd derived something while the recorder watched (a backward pass, forward mode, torch.func).

    Building a graph is not enough: a tensor with requires_grad whose backward pass never runs derives nothing.
    """
    return any(op in _DERIVED_BY_AUTOGRAD for op in recorder.operations)


class line_count:
    """Context manager: count the lines of the given files' code that run until exit (in this thread).

    A vectorised function runs the same lines however much data it is given; a Python loop over the
    data runs its body once per sample, so its count grows with the data. Only frames of ``files``
    are traced line by line, so library code costs nothing. ``intact`` says on exit whether the
    counter was still installed: code that removes it (``sys.settrace(None)``) has hidden its lines.
    """

    def __init__(self, files: frozenset[str]) -> None:
        self.files = files
        self.lines = 0
        self.intact = True

    def _local(self, frame, event, arg):
        if event == "line":
            self.lines += 1
        return self._local

    def _global(self, frame, event, arg):
        if frame.f_code.co_filename in self.files:
            self.lines += 1  # the call itself: a helper called once per sample counts even if it is one line
            return self._local
        return None

    def __enter__(self) -> line_count:
        self._previous = sys.gettrace()
        sys.settrace(self._global)
        return self

    def __exit__(self, *exc) -> None:
        self.intact = sys.gettrace() == self._global
        sys.settrace(self._previous)


@contextlib.contextmanager
def watching(rules: list[str], files: frozenset[str] = frozenset()) -> Iterator[dict[str, Any]]:
    """Record, for each rule named, what the code running inside the block does.

    files: the submission's file names, whose lines the "vectorised" rule counts.
    """
    with contextlib.ExitStack() as stack:
        recorders: dict[str, Any] = {}
        if "loops" in rules:
            recorders["loops"] = stack.enter_context(tracing())
        autograd = [rule for rule in ("autograd", "requires_autograd") if rule in rules]
        if autograd:  # one watch serves both readings of it
            watch = stack.enter_context(autograd_watch(graphs="autograd" in rules))
            recorders.update({rule: watch for rule in autograd})
        if "vectorised" in rules:
            recorders["vectorised"] = stack.enter_context(line_count(files))
        yield recorders
