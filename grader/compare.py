"""Comparing a student's value with the expected one, and saying what differs.

The order of questions is the order a person debugging would ask them: is it
the right kind of thing (type), the right shape, the right dtype, and only then
are the numbers right, within a tolerance chosen by dtype. Every failure is a
``CheckFailed`` whose summary reveals no values (safe for hidden checks) and
whose details point at the first wrong element, the expected and actual values
and the largest error.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from grader.errors import CheckFailed
from grader.sandbox.codec import RemoteRef

# (rtol, atol) by dtype, the defaults of torch.testing.assert_close: tight
# enough to catch a wrong formula, loose enough for a different summation order.
# On a GPU (TF32 off) float32 and float16 reductions are blocked differently
# from the CPU's, so they get more room there.
CUDA_TOLERANCES: dict[str, tuple[float, float]] = {
    "float16": (1e-3, 1e-3),
    "float32": (1e-5, 1e-5),
    "complex64": (1e-5, 1e-5),
}
TOLERANCES: dict[str, tuple[float, float]] = {
    "float16": (1e-3, 1e-5),
    "bfloat16": (1.6e-2, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7),
    "complex64": (1.3e-6, 1e-5),
    "complex128": (1e-7, 1e-7),
}


def describe(value: Any) -> str:
    """A short phrase naming what value is: 'a list', 'an array of shape (3, 4)'.

    Safe for any value a submission returns: it reads only the type, the shape
    and, for single numbers, the number itself.
    """
    if value is None:
        return "None"
    remote = getattr(type(value), "type_name", None)
    if isinstance(value, RemoteRef) or isinstance(remote, property):
        return f"a {value.type_name} object"
    if isinstance(value, np.ndarray):
        return f"a NumPy array of shape {_shape(value.shape)} and dtype {value.dtype}"
    if _is_tensor(value):
        return f"a torch.Tensor of shape {_shape(tuple(value.shape))} and dtype {str(value.dtype)[6:]}"
    if isinstance(value, (bool, np.bool_)):
        return f"the boolean {value}"
    if isinstance(value, (int, float, np.number)):
        return f"the number {_number(value)}"
    if isinstance(value, (list, tuple, dict)):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"a {type(value).__name__}"


def _is_tensor(value: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _number(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        # str() of a huge int is slow, and refused beyond 4300 digits
        return f"{'-' if value < 0 else ''}(an integer of about {int(value.bit_length() * 0.30103) + 1} digits)"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.7g}"
    if isinstance(value, (complex, np.complexfloating)):
        return f"{complex(value):.7g}"
    return str(value)


def _index(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def tolerance(dtype_name: str, rtol: float | None = None, atol: float | None = None,
              device: str = "cpu") -> tuple[float, float]:
    """The (rtol, atol) used for dtype_name on device unless the caller states its own."""
    table = {**TOLERANCES, **CUDA_TOLERANCES} if device.startswith("cuda") else TOLERANCES
    default = table.get(dtype_name, (0.0, 0.0))
    return (default[0] if rtol is None else rtol, default[1] if atol is None else atol)


def assert_same(actual: Any, expected: Any, *, what: str, rtol: float | None = None, atol: float | None = None,
                check_dtype: bool = True) -> None:
    """Raise CheckFailed unless actual matches expected.

    what: how the student knows the value, e.g. ``"naive_add(x, y)"``.
    """
    if _is_tensor(expected):
        _same_tensor(actual, expected, what, rtol, atol, check_dtype)
    elif isinstance(expected, np.ndarray):
        _same_array(actual, expected, what, rtol, atol, check_dtype)
    elif isinstance(expected, dict):
        _same_dict(actual, expected, what, rtol, atol, check_dtype)
    elif isinstance(expected, (list, tuple)):
        _same_sequence(actual, expected, what, rtol, atol, check_dtype)
    elif isinstance(expected, (bool, np.bool_, int, float, complex, np.number)):
        assert_number(actual, expected, what=what, rtol=rtol, atol=atol)
    else:
        raise TypeError(f"assert_same cannot compare with a {type(expected).__name__}")


def assert_kind(actual: Any, expected: Any, *, what: str) -> None:
    """Raise CheckFailed unless actual is the same kind of array or tensor as expected: type, shape, dtype, device.

    For values that are random or otherwise not comparable element by element,
    such as ``torch.rand_like(t)``; the values are the caller's to judge next.
    """
    if _is_tensor(expected):
        if not _is_tensor(actual):
            hint = "Convert it with torch.as_tensor(...)." if isinstance(actual, np.ndarray) else ""
            raise _wrong_type(what, actual, "a torch.Tensor", hint)
        _same_shape(what, tuple(actual.shape), tuple(expected.shape))
        if actual.dtype != expected.dtype:
            raise CheckFailed(f"{what} returned a tensor of the wrong dtype.",
                              f"Its dtype is {str(actual.dtype)[6:]}; expected {str(expected.dtype)[6:]}.")
        if actual.device.type != expected.device.type:
            raise CheckFailed(f"{what} returned a tensor on the wrong device.",
                              f"It is on {actual.device.type}; expected {expected.device.type}.")
    elif isinstance(expected, np.ndarray):
        if not isinstance(actual, np.ndarray):
            raise _wrong_type(what, actual, "a NumPy array")
        _same_shape(what, actual.shape, expected.shape)
        if actual.dtype != expected.dtype:
            raise CheckFailed(f"{what} returned an array of the wrong dtype.",
                              f"Its dtype is {actual.dtype}; expected {expected.dtype}.")
    else:
        raise TypeError(f"assert_kind compares arrays and tensors, not a {type(expected).__name__}")


def _wrong_type(what: str, actual: Any, wanted: str, hint: str = "") -> CheckFailed:
    returned = f"It returned {describe(actual)}; expected {wanted}."
    if actual is None:
        hint = hint or "Did you forget a return statement?"
    elif getattr(actual, "type_name", None) == "generator":
        hint = hint or ("A generator gives its items one at a time and only once; return a list "
                        "([... for ...] in square brackets, or list(...)).")
    return CheckFailed(f"{what} returned the wrong kind of value.", f"{returned} {hint}".strip())


def _same_array(actual: Any, expected: np.ndarray, what: str, rtol: float | None, atol: float | None,
                check_dtype: bool) -> None:
    if not isinstance(actual, np.ndarray):
        hint = "Convert it with np.array(...) or build the result with np.zeros(...)." if isinstance(
            actual, (list, tuple)) else ""
        raise _wrong_type(what, actual, "a NumPy array", hint)
    _same_shape(what, actual.shape, expected.shape)
    if check_dtype and actual.dtype != expected.dtype:
        raise CheckFailed(f"{what} returned an array of the wrong dtype.",
                          f"Its dtype is {actual.dtype}; expected {expected.dtype}.")
    _same_values(what, actual, expected, *tolerance(str(expected.dtype), rtol, atol))


def _same_shape(what: str, actual: tuple[int, ...], expected: tuple[int, ...]) -> None:
    if tuple(actual) == tuple(expected):
        return
    hint = " (transposed?)" if tuple(actual) == tuple(expected)[::-1] else ""
    raise CheckFailed(f"{what} returned a result of the wrong shape.",
                      f"Its shape is {_shape(tuple(actual))}; expected {_shape(tuple(expected))}{hint}.")


def _same_values(what: str, actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> None:
    numeric = "biufc"
    if expected.dtype.kind in numeric and actual.dtype.kind not in numeric:
        raise CheckFailed(f"{what} returned an array that does not hold numbers.",
                          f"Its dtype is {actual.dtype}; expected {expected.dtype}.")
    if "f" in (actual.dtype.kind, expected.dtype.kind) or "c" in (actual.dtype.kind, expected.dtype.kind):
        common = np.complex128 if "c" in (actual.dtype.kind, expected.dtype.kind) else np.float64
        got_all, want_all = actual.astype(common), expected.astype(common)
        with np.errstate(invalid="ignore", over="ignore"):
            wrong = ~np.isclose(got_all, want_all, rtol=rtol, atol=atol, equal_nan=True)
            errors = np.abs(got_all - want_all)
    else:
        wrong = np.asarray(actual != expected)
        errors = None
    if not wrong.any():
        return
    first = tuple(np.argwhere(wrong)[0]) if wrong.ndim else ()
    got, want = actual[first], expected[first]
    where = f"at {_index(first)} " if first else ""
    if _is_nan(got):
        detail = f"{where}it has NaN where {_number(want)} was expected"
    else:
        detail = f"{where}expected {_number(want)}, got {_number(got)}"
    summary = f"{what} returned wrong values"
    if actual.size > 1:
        detail += f"; {int(wrong.sum())} of {actual.size} elements differ"
        finite = errors[wrong & np.isfinite(errors)] if errors is not None else None
        if finite is not None and finite.size:
            detail += f" (largest difference {float(finite.max()):.3g})"
    if any(_is_nan(v) for v in actual.flat) and not any(_is_nan(v) for v in expected.flat):
        summary += " (it contains NaN)"
    raise CheckFailed(summary + ".", detail[0].upper() + detail[1:] + ".")


def _is_nan(value: Any) -> bool:
    return isinstance(value, (float, complex, np.floating, np.complexfloating)) and bool(np.isnan(value))


def _same_tensor(actual: Any, expected: Any, what: str, rtol: float | None, atol: float | None,
                 check_dtype: bool) -> None:
    if not _is_tensor(actual):
        hint = "Convert it with torch.as_tensor(...)." if isinstance(actual, np.ndarray) else ""
        raise _wrong_type(what, actual, "a torch.Tensor", hint)
    _same_shape(what, tuple(actual.shape), tuple(expected.shape))
    if check_dtype and actual.dtype != expected.dtype:
        raise CheckFailed(f"{what} returned a tensor of the wrong dtype.",
                          f"Its dtype is {str(actual.dtype)[6:]}; expected {str(expected.dtype)[6:]}.")
    if actual.device.type != expected.device.type:
        raise CheckFailed(f"{what} returned a tensor on the wrong device.",
                          f"It is on {actual.device.type}; expected {expected.device.type}.")
    dtype_name = str(expected.dtype)[6:]
    _same_values(what, _to_numpy(actual), _to_numpy(expected),
                 *tolerance(dtype_name, rtol, atol, device=expected.device.type))


def _to_numpy(tensor: Any) -> np.ndarray:
    tensor = tensor.detach().cpu()
    if str(tensor.dtype) in ("torch.bfloat16", "torch.float16"):
        tensor = tensor.float()
    array: np.ndarray = tensor.numpy()
    return array


def _same_sequence(actual: Any, expected: list[Any] | tuple[Any, ...], what: str, rtol: float | None,
                   atol: float | None, check_dtype: bool) -> None:
    kind = "a tuple" if isinstance(expected, tuple) else "a list"
    if not isinstance(actual, (list, tuple)):
        raise _wrong_type(what, actual, f"{kind} of {len(expected)} items")
    if len(actual) != len(expected):
        raise CheckFailed(f"{what} returned the wrong number of items.",
                          f"It has {len(actual)}; expected {len(expected)}.")
    for i, (a, e) in enumerate(zip(actual, expected)):
        assert_same(a, e, what=f"{what}[{i}]", rtol=rtol, atol=atol, check_dtype=check_dtype)


def _same_dict(actual: Any, expected: dict[Any, Any], what: str, rtol: float | None, atol: float | None,
               check_dtype: bool) -> None:
    if not isinstance(actual, dict):
        raise _wrong_type(what, actual, "a dict")
    missing = [k for k in expected if k not in actual]
    if missing:
        raise CheckFailed(f"{what} is missing keys.", "Missing: " + ", ".join(repr(k) for k in missing) + ".")
    for key, value in expected.items():
        assert_same(actual[key], value, what=f"{what}[{key!r}]", rtol=rtol, atol=atol, check_dtype=check_dtype)


def as_number(value: Any, *, what: str) -> float | complex:
    """value as a Python number, or CheckFailed saying why it is not one."""
    if isinstance(value, (bool, np.bool_)):
        raise _wrong_type(what, value, "a number")
    if isinstance(value, (complex, np.complexfloating)):
        return complex(value)
    if isinstance(value, (int, float, np.number)):
        try:
            return float(value)
        except OverflowError:
            raise CheckFailed(f"{what} returned a number too large to be a float.",
                              f"It returned {describe(value)}; expected a float.") from None
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "iufc":
        return as_number(value[()], what=what)
    if _is_tensor(value) and value.dim() == 0:
        return as_number(value.item(), what=what)
    raise _wrong_type(what, value, "a single number")


def as_sequence(value: Any, *, what: str, length: int | None = None, wanted: str = "a list or tuple") -> list[Any]:
    """value as a list when it is a list or tuple (of length items, when given), or CheckFailed.

    Checks use this instead of ``list(...)`` or ``tuple(...)``, which would
    run on whatever came back: a generator stays in the student's process and
    arrives here as an object that cannot be iterated.
    """
    if not isinstance(value, (list, tuple)):
        raise _wrong_type(what, value, wanted)
    if length is not None and len(value) != length:
        raise CheckFailed(f"{what} returned the wrong number of items.",
                          f"It returned {describe(value)}; expected {wanted}.")
    return list(value)


def assert_number(actual: Any, expected: Any, *, what: str, rtol: float | None = None,
                  atol: float | None = None) -> None:
    """A single number, compared with the float64 tolerance unless stated."""
    got = as_number(actual, what=what)
    want = complex(expected) if isinstance(expected, (complex, np.complexfloating)) else float(expected)
    rtol, atol = tolerance("float64", rtol, atol)
    if np.isnan(got) and not np.isnan(want):
        raise CheckFailed(f"{what} returned NaN.", f"Expected {_number(want)}, got NaN.")
    if not np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True):
        raise CheckFailed(f"{what} returned a wrong value.",
                          f"Expected {_number(want)}, got {_number(got)} (difference {abs(got - want):.3g}).")


def as_bool(value: Any, *, what: str) -> bool:
    """value as a Python bool (from bool, numpy.bool_ or a 0-D boolean array or tensor), or CheckFailed."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype == np.bool_:
        return bool(value)
    if _is_tensor(value) and value.dim() == 0 and str(value.dtype) == "torch.bool":
        return bool(value.item())
    raise _wrong_type(what, value, "True or False")
