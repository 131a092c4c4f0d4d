"""What the assignment 1 checks share: inputs, and verdicts that read a student's value safely.

Every helper here looks at the type of a returned value before using it, so a
student's None, list, NumPy array or generator becomes a failure that says what
came back, never a crash of the check.
"""

from __future__ import annotations

import numpy as np
import torch

from grader.checks import as_bool, as_number, assert_kind, assert_same, describe, working
from grader.errors import CheckFailed


def tensor(rng: np.random.Generator, shape, device: str, dtype=torch.float32) -> torch.Tensor:
    return torch.as_tensor(rng.normal(0, 1, shape)).to(dtype=dtype, device=device)


def require_dict(value, keys, what: str) -> dict:
    if not isinstance(value, dict):
        raise CheckFailed(f"{what} must return a dict.", f"It returned {describe(value)}.")
    missing = [k for k in keys if k not in value]
    if missing:
        raise CheckFailed(f"{what} is missing keys.", "Missing: " + ", ".join(repr(k) for k in missing) + ".")
    return value


def dtype_hint(got: torch.dtype, expected: torch.dtype) -> str:
    """Why a tensor made from a list may have got dtype `got`: said from what came back, blaming no call."""
    inferred = f"torch.tensor(values) infers {str(expected)[6:]} from these values"
    if got == torch.float32:
        return f"float32 for every list is what torch.Tensor(...) or dtype=torch.float32 gives; {inferred}."
    if got == torch.float64:
        return f"float64 is NumPy's default and PyTorch's double type; {inferred}."
    return f"{inferred}."


def require_tensor_from_list(result, values, expected: torch.Tensor, what: str) -> None:
    """Values and the dtype PyTorch infers, with a hint that matches the dtype that came back."""
    if isinstance(result, torch.Tensor) and result.dtype != expected.dtype:
        raise CheckFailed(f"{what} has the wrong dtype.",
                          f"Its dtype is {str(result.dtype)[6:]}; expected {str(expected.dtype)[6:]}. "
                          + dtype_hint(result.dtype, expected.dtype))
    assert_same(result, expected, what=what)


def require_like(result, t: torch.Tensor, what: str) -> None:
    """zeros, ones and uniform [0, 1) values with t's shape, dtype and device."""
    require_dict(result, ("zeros", "ones", "rand"), what)
    assert_same(result["zeros"], torch.zeros_like(t), what=f'{what}["zeros"]')
    assert_same(result["ones"], torch.ones_like(t), what=f'{what}["ones"]')
    rand = result["rand"]
    assert_kind(rand, t, what=f'{what}["rand"]')
    values = rand.detach().double().cpu()
    if bool(torch.isnan(values).any()) or float(values.max()) >= 1 or float(values.min()) < 0:
        raise CheckFailed(f'{what}["rand"] returned wrong values.',
                          f"Its values lie in [{float(values.min()):.3g}, {float(values.max()):.3g}]; uniform "
                          "values lie in [0, 1). torch.rand_like(t) draws them; randn_like draws from N(0, 1).")
    if rand.numel() > 1 and torch.unique(values).numel() < rand.numel() // 2:
        raise CheckFailed(f'{what}["rand"] is not random.', "Most of its values repeat; use torch.rand_like(t).")


def require_info(result, t: torch.Tensor, what: str) -> None:
    """shape (tuple of ints), dtype and device (strings), ndim (int), as in the contract."""
    expected = {"shape": tuple(t.shape), "dtype": str(t.dtype), "device": str(t.device), "ndim": t.dim()}
    require_dict(result, expected, what)
    shape = result["shape"]
    if not isinstance(shape, (tuple, list)) or not all(isinstance(n, int) and not isinstance(n, bool) for n in shape):
        raise CheckFailed(f'{what}["shape"] is not a tuple of ints.',
                          f"It is {describe(shape)}; tuple(t.shape) gives one.")
    checks = [("shape", tuple(shape), str), ("dtype", result["dtype"], str), ("device", result["device"], str),
              ("ndim", result["ndim"], int)]
    for key, got, kind in checks:
        if key != "shape" and (not isinstance(got, kind) or isinstance(got, bool)):
            hint = f"; str(t.{key}) gives one" if kind is str else ""
            raise CheckFailed(f'{what}["{key}"] has the wrong type.',
                              f"It is {describe(got)}; expected a{'n int' if kind is int else ' string'}{hint}.")
        if got != expected[key]:
            raise CheckFailed(f'{what}["{key}"] is wrong.', f"Expected {expected[key]!r}, got {got!r}.")


def require_pair_of_tensors(result, what: str, wanted: str) -> tuple:
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailed(f"{what} must return {wanted}.", f"It returned {describe(result)}.")
    return result[0], result[1]


def require_batches(result, data: torch.Tensor, batch_size: int, what: str) -> None:
    """Consecutive slices of data along dim 0, batch_size long but perhaps the last."""
    if not isinstance(result, (list, tuple)):
        raise CheckFailed(f"{what} must return a list of tensors.", f"It returned {describe(result)}.")
    sizes = [b.shape[0] if isinstance(b, torch.Tensor) and b.dim() > 0 else None for b in result]
    starts = range(0, data.shape[0], batch_size)
    expected_sizes = [min(batch_size, data.shape[0] - start) for start in starts]
    if sizes != expected_sizes:
        raise CheckFailed(f"{what} has the wrong batches.", f"Batch sizes were {sizes}; expected {expected_sizes}.")
    for index, (got, start) in enumerate(zip(result, starts)):
        assert_same(got, data[start:start + batch_size], what=f"batch {index} of {what}")


def require_bool(student_value, expected: bool, what: str) -> None:
    if as_bool(student_value, what=what) != expected:
        raise CheckFailed(f"{what} is wrong.", f"Expected {expected}, got {not expected}.")


def require_shared(result, copied, shared, function: str, what: str, source: str, name: str, advice: str) -> None:
    """result holds shared's values when it shares memory with the source that changed, copied's when not.

    Either way its values must be right first: sharing counts only then.
    """
    is_shared = _matches(result, shared)
    with working(function):
        assert_same(result, shared if is_shared else copied, what=what, check_dtype=False)
    if not is_shared:
        raise CheckFailed(f"{what} does not share memory with {source}.",
                          f"After {name}[0] was changed, the result still had the old value: it is a copy. "
                          + advice)
    assert_same(result, shared, what=what)  # the dtype too: a converted copy never shares


def _matches(result, expected) -> bool:
    try:
        assert_same(result, expected, what="the result", check_dtype=False)
    except CheckFailed:
        return False
    return True


# --- near-symmetric and near-orthogonal matrices, off by a known amount -----------------------


def off_symmetric(s: torch.Tensor, amount: float) -> torch.Tensor:
    """A symmetric s with one pair of entries set to (amount, 0): max |a - aᵀ| is exactly amount.

    The pair is near zero, so a relative tolerance adds nothing to tol there.
    """
    a = s.clone()
    a[0, 1], a[1, 0] = amount, 0.0
    return a


def off_orthogonal(q: torch.Tensor, amount: float) -> torch.Tensor:
    """q (I + E), E zero but E[0, 1] = amount: max |(qE)ᵀ(qE) - I| is amount, off the diagonal.

    (I + E)ᵀ(I + E) = I + E + Eᵀ + EᵀE: amount at [0, 1] and [1, 0], amount² at [1, 1].
    """
    shear = torch.eye(q.shape[1], dtype=q.dtype, device=q.device)
    shear[0, 1] = amount
    return q @ shear


def orthogonal(rng: np.random.Generator, n: int, device: str, columns: int | None = None) -> torch.Tensor:
    """An n x n orthogonal matrix (or n x columns with orthonormal columns), float64."""
    q, _ = torch.linalg.qr(tensor(rng, (n, columns or n), device, torch.float64))
    return q


def as_float(value, what: str) -> float:
    return float(as_number(value, what=what).real)
