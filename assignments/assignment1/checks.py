"""Public checks for assignment 1. Students can read these; the hidden ones use other inputs.

Expected values come from PyTorch itself, on inputs drawn from the check's
seeded generator and placed on the device grading runs on (--device). A check
of memory sharing or of an unchanged input counts only once the function's
values are right on the same inputs.
"""

import torch

from grader.checks import assert_same, check, describe, working
from grader.errors import CheckFailed

from .support import (off_orthogonal, off_symmetric, orthogonal, require_batches, require_bool, require_dict,
                      require_info, require_like, require_pair_of_tensors, require_shared, require_tensor_from_list,
                      tensor)

# --- creating tensors -------------------------------------------------------------------


@check(points=2, functions="tensor_from_list")
def tensor_from_list_keeps_values_and_dtype(student, rng):
    """tensor_from_list keeps the values and infers int64, float32 or bool"""
    ints = rng.integers(-9, 9, (2, 3)).tolist()
    floats = (rng.normal(0, 1, 4).round(3)).tolist()
    flags = [True, False, True]
    for values in (ints, floats, flags):
        require_tensor_from_list(student.tensor_from_list(values), values, torch.tensor(values),
                                 f"tensor_from_list({values})")


@check(points=2, functions="tensor_sharing_memory")
def tensor_sharing_memory_shares(student, rng):
    """tensor_sharing_memory gives a tensor that shares memory with the array"""
    array = rng.normal(0, 1, (3, 2))
    student.get("tensor_sharing_memory")  # a missing function is named as such, not as the probe's error
    result = student.probe("after_array_changes", array.copy(), 123.5, function="tensor_sharing_memory")
    after = array.copy()
    after.reshape(-1)[0] = 123.5
    require_shared(result, torch.from_numpy(array), torch.from_numpy(after), "tensor_sharing_memory",
                   "tensor_sharing_memory(array)", "the array", "array",
                   "torch.tensor(array) copies; torch.from_numpy(array) shares.")


@check(points=1, functions="numpy_from_tensor")
def numpy_from_tensor_values(student, rng, device):
    """numpy_from_tensor gives the values of a tensor on any device that requires gradients"""
    t = tensor(rng, (2, 3), device).requires_grad_(True)
    result = student.numpy_from_tensor(t)
    assert_same(result, t.detach().cpu().numpy(), what=f"numpy_from_tensor(t) for t on {device} with requires_grad")


@check(points=1, functions="numpy_from_tensor")
def numpy_from_tensor_shares_on_the_cpu(student, rng):
    """numpy_from_tensor shares memory with a CPU tensor"""
    t = tensor(rng, (4,), "cpu")
    student.get("numpy_from_tensor")  # a missing function is named as such, not as the probe's error
    result = student.probe("after_tensor_changes", t.clone(), -77.25, function="numpy_from_tensor")
    before = t.numpy()
    after = before.copy()
    after[0] = -77.25
    require_shared(result, before, after, "numpy_from_tensor", "numpy_from_tensor(t)", "a CPU tensor", "t",
                   "t.numpy() (after .detach() and .cpu()) shares memory; np.array(t) copies.")


@check(points=2, functions="like")
def like_matches_shape_dtype_and_device(student, rng, device):
    """like(t) gives zeros, ones and uniform random values with t's shape, dtype and device"""
    t = tensor(rng, (3, 4), device)
    require_like(student.like(t), t, "like(t)")


@check(points=1, functions="tensor_info")
def tensor_info_describes(student, rng, device):
    """tensor_info(t) gives shape, dtype, device and ndim"""
    t = tensor(rng, (3, 4), device)
    require_info(student.tensor_info(t), t, "tensor_info(t)")


# --- arithmetic, joining, indexing --------------------------------------------------------


def require_elementwise(result, x, y, what: str) -> None:
    names = ["x + y", "x - y", "x * y", "x / y", "x ** y", "exp(x)"]
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        raise CheckFailed(f"{what} must return six tensors.", f"It returned {describe(result)}.")
    for name, got, want in zip(names, result, (x + y, x - y, x * y, x / y, x ** y, torch.exp(x))):
        assert_same(got, want, what=f"{name} in {what}")


@check(points=2, functions="elementwise")
def elementwise_operations(student, rng, device):
    """elementwise(x, y) gives x + y, x - y, x * y, x / y, x ** y and exp(x)"""
    x = torch.as_tensor(rng.uniform(0.5, 3, 4), dtype=torch.float32, device=device)
    y = torch.as_tensor(rng.integers(1, 4, 4), device=device)
    require_elementwise(student.elementwise(x, y), x, y, "elementwise(x, y)")


@check(points=1, functions="concatenate")
def concatenate_both_ways(student, rng, device):
    """concatenate(x, y) joins along dim 0 and along dim 1"""
    x, y = tensor(rng, (3, 4), device), tensor(rng, (3, 4), device)
    first, second = require_pair_of_tensors(student.concatenate(x, y), "concatenate(x, y)", "a pair")
    assert_same(first, torch.cat((x, y), dim=0), what="the first tensor of concatenate(x, y) (along dim 0)")
    assert_same(second, torch.cat((x, y), dim=1), what="the second tensor of concatenate(x, y) (along dim 1)")


def require_picks(result, x, what: str) -> None:
    expected = {"last_row": x[-1], "rows_1_2": x[1:3], "row_0_first_two": x[0, 0:2], "column_1": x[:, 1]}
    require_dict(result, expected, what)
    for key, value in expected.items():
        assert_same(result[key], value, what=f'{what}["{key}"]')


@check(points=2, functions="pick")
def pick_rows_columns_and_slices(student, rng, device):
    """pick(x) gives the last row, rows 1 and 2, two elements of row 0 and column 1"""
    x = tensor(rng, (4, 5), device)
    require_picks(student.pick(x), x, "pick(x)")


def require_fill_rows(student, x, value, what: str) -> None:
    """A new tensor with rows 0 and 1 set to value; x itself unchanged (counted only with the right values)."""
    with working("fill_rows"):
        call = student.run("fill_rows", (x.clone(), value))
        expected = x.clone()
        expected[0:2, :] = value
        assert_same(call.value, expected, what=what)
    after = call.args[0] if call.args else None
    if not isinstance(after, torch.Tensor) or after.shape != x.shape or not torch.equal(after.to(x.device), x):
        raise CheckFailed("fill_rows(x, value) changed x.", "Work on x.clone() so the caller's tensor stays as it was.")


@check(points=1, functions="fill_rows")
def fill_rows_copies(student, rng, device):
    """fill_rows(x, value) sets rows 0 and 1 in a new tensor and leaves x unchanged"""
    require_fill_rows(student, tensor(rng, (4, 3), device), 12.0, "fill_rows(x, 12.0)")


# --- batches ------------------------------------------------------------------------------


@check(points=1, functions="flatten_samples")
def flatten_samples_one_row_per_image(student, rng, device):
    """flatten_samples turns (N, H, W) images into (N, H·W) rows"""
    images = tensor(rng, (5, 3, 4), device)
    assert_same(student.flatten_samples(images), images.reshape(5, 12), what="flatten_samples(images)")


@check(points=2, functions="make_batches")
def make_batches_of_128(student, rng, device):
    """make_batches(data) cuts 300 samples into batches of 128, 128 and 44, in order"""
    data = tensor(rng, (300, 2), device)
    require_batches(student.make_batches(data), data, 128, "make_batches(data)")


# --- norms and linear algebra ---------------------------------------------------------------


def require_norms(result, v, what: str) -> None:
    l1, l2 = require_pair_of_tensors(result, what, "a pair (L1, L2)")
    assert_same(l1, v.abs().sum(), what=f"the L1 norm from {what}")
    assert_same(l2, torch.linalg.vector_norm(v), what=f"the L2 norm from {what}")


@check(points=1, functions="vector_norms")
def vector_norms_l1_and_l2(student, rng, device):
    """vector_norms(v) gives the L1 and L2 norms"""
    v = tensor(rng, (6,), device)
    require_norms(student.vector_norms(v), v, "vector_norms(v)")


@check(points=1, functions="frobenius_norm")
def frobenius_norm_value(student, rng, device):
    """frobenius_norm(m) is the square root of the sum of squares"""
    m = tensor(rng, (3, 5), device)
    assert_same(student.frobenius_norm(m), torch.linalg.matrix_norm(m), what="frobenius_norm(m)")


@check(points=1, functions="is_symmetric")
def is_symmetric_decides(student, rng, device):
    """is_symmetric tells symmetric, near-symmetric (within tol), non-symmetric and non-square matrices apart"""
    m = tensor(rng, (4, 4), device, torch.float64)
    s = m + m.T
    cases = [("m + m.T", s, {}, True), ("m", m, {}, False), ("a 3 x 4 matrix", m[:3], {}, False),
             ("m + m.T off by tol / 2 at [0, 1]", off_symmetric(s, 0.5e-6), {}, True),
             ("m + m.T off by 3 tol at [0, 1]", off_symmetric(s, 3e-6), {}, False),
             ("m + m.T off by 5e-4 at [0, 1]", off_symmetric(s, 5e-4), {"tol": 1e-3}, True),
             ("m + m.T off by 3e-3 at [0, 1]", off_symmetric(s, 3e-3), {"tol": 1e-3}, False)]
    for name, value, options, expected in cases:
        call = f"is_symmetric({name}{''.join(f', {k}={v:g}' for k, v in options.items())})"
        require_bool(student.is_symmetric(value, **options), expected, call)


@check(points=1, functions="is_orthogonal")
def is_orthogonal_decides(student, rng, device):
    """is_orthogonal tells orthogonal, near-orthogonal (within tol), scaled and non-square matrices apart"""
    q = orthogonal(rng, 4, device)
    cases = [("Q from a QR decomposition", q, {}, True), ("2 Q", 2 * q, {}, False),
             ("Q (I + E), E off by tol / 2", off_orthogonal(q, 0.5e-5), {}, True),
             ("Q (I + E), E off by 3 tol", off_orthogonal(q, 3e-5), {}, False),
             ("Q (I + E), E off by 5e-4", off_orthogonal(q, 5e-4), {"tol": 1e-3}, True),
             ("Q (I + E), E off by 3e-3", off_orthogonal(q, 3e-3), {"tol": 1e-3}, False),
             ("4 x 3 with orthonormal columns", orthogonal(rng, 4, device, columns=3), {}, False)]
    for name, value, options, expected in cases:
        call = f"is_orthogonal({name}{''.join(f', {k}={v:g}' for k, v in options.items())})"
        require_bool(student.is_orthogonal(value, **options), expected, call)


@check(points=1, functions="matrix_product")
def matrix_product_of_non_square_matrices(student, rng, device):
    """matrix_product(a, b) multiplies (2, 3) and (3, 4) matrices"""
    a, b = tensor(rng, (2, 3), device), tensor(rng, (3, 4), device)
    assert_same(student.matrix_product(a, b), a @ b, what="matrix_product(a, b)")


@check(points=1, functions="transpose")
def transpose_swaps_axes(student, rng, device):
    """transpose(a) swaps rows and columns"""
    a = tensor(rng, (2, 5), device)
    assert_same(student.transpose(a), a.T, what="transpose(a)")
