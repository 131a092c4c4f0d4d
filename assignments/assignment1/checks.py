"""Public checks for assignment 1. Students can read these; the hidden ones use other inputs.

Expected values come from PyTorch itself, on inputs drawn from the check's
seeded generator and placed on the device grading runs on (--device).
"""

import numpy as np
import torch

from grader.checks import as_bool, assert_same, check, describe
from grader.errors import CheckFailed


def tensor(rng, shape, device, dtype=torch.float32):
    return torch.as_tensor(rng.normal(0, 1, shape)).to(dtype=dtype, device=device)


def require_tensor_dtype(value, expected: torch.dtype, what: str, hint: str = "") -> None:
    if isinstance(value, torch.Tensor) and value.dtype != expected:
        raise CheckFailed(f"{what} has the wrong dtype.",
                          f"Its dtype is {str(value.dtype)[6:]}; expected {str(expected)[6:]}. {hint}".strip())


def require_dict(value, keys, what):
    if not isinstance(value, dict):
        raise CheckFailed(f"{what} must return a dict.", f"It returned {describe(value)}.")
    missing = [k for k in keys if k not in value]
    if missing:
        raise CheckFailed(f"{what} is missing keys.", "Missing: " + ", ".join(repr(k) for k in missing) + ".")


# --- creating tensors -------------------------------------------------------------------


@check(points=2, functions="tensor_from_list")
def tensor_from_list_keeps_values_and_dtype(student, rng):
    """tensor_from_list keeps the values and infers int64, float32 or bool"""
    ints = rng.integers(-9, 9, (2, 3)).tolist()
    floats = (rng.normal(0, 1, 4).round(3)).tolist()
    flags = [True, False, True]
    for values in (ints, floats, flags):
        expected = torch.tensor(values)
        result = student.tensor_from_list(values)
        require_tensor_dtype(result, expected.dtype, f"tensor_from_list({values})",
                             "torch.Tensor(...) always makes float32; torch.tensor(...) infers the dtype.")
        assert_same(result, expected, what=f"tensor_from_list({values})")


@check(points=2, functions="tensor_sharing_memory")
def tensor_sharing_memory_shares(student, rng):
    """tensor_sharing_memory gives a tensor that shares memory with the array"""
    array = rng.normal(0, 1, (3, 2))
    result = student.probe("after_array_changes", array.copy(), 123.5, function="tensor_sharing_memory")
    if not isinstance(result, torch.Tensor):
        raise CheckFailed("tensor_sharing_memory(array) must return a tensor.", f"It returned {describe(result)}.")
    require_tensor_dtype(result, torch.float64, "tensor_sharing_memory(array)",
                         "A float64 array gives a float64 tensor when memory is shared.")
    if float(result.reshape(-1)[0]) != 123.5:
        raise CheckFailed("tensor_sharing_memory(array) does not share memory with the array.",
                          "After array[0, 0] was changed, the tensor still had the old value: it is a copy. "
                          "torch.tensor(array) copies; torch.from_numpy(array) shares.")
    expected = torch.from_numpy(array.copy())
    expected.reshape(-1)[0] = 123.5
    assert_same(result, expected, what="tensor_sharing_memory(array)")


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
    result = student.probe("after_tensor_changes", t.clone(), -77.25, function="numpy_from_tensor")
    if not isinstance(result, np.ndarray):
        raise CheckFailed("numpy_from_tensor(t) must return a NumPy array.", f"It returned {describe(result)}.")
    if float(result.reshape(-1)[0]) != -77.25:
        raise CheckFailed("numpy_from_tensor(t) does not share memory with a CPU tensor.",
                          "After t[0] was changed, the array still had the old value: it is a copy. "
                          "t.numpy() (after .detach() and .cpu()) shares memory; np.array(t) copies.")


@check(points=2, functions="like")
def like_matches_shape_dtype_and_device(student, rng, device):
    """like(t) gives zeros, ones and uniform random values with t's shape, dtype and device"""
    t = tensor(rng, (3, 4), device)
    result = student.like(t)
    require_dict(result, ("zeros", "ones", "rand"), "like(t)")
    assert_same(result["zeros"], torch.zeros_like(t), what='like(t)["zeros"]')
    assert_same(result["ones"], torch.ones_like(t), what='like(t)["ones"]')
    rand = result["rand"]
    assert_same(rand, rand.clamp(0, 1), what='like(t)["rand"]')  # type, shape, dtype, device, and [0, 1]
    if rand.shape != t.shape or rand.dtype != t.dtype or rand.device.type != t.device.type:
        raise CheckFailed('like(t)["rand"] does not match t.', f"It is {describe(rand)} on {rand.device}.")
    if float(rand.max()) >= 1 or float(rand.min()) < 0 or torch.unique(rand).numel() < rand.numel() // 2:
        raise CheckFailed('like(t)["rand"] is not uniform in [0, 1).', "Use torch.rand_like(t).")


@check(points=1, functions="tensor_info")
def tensor_info_describes(student, rng, device):
    """tensor_info(t) gives shape, dtype, device and ndim"""
    t = tensor(rng, (3, 4), device)
    result = student.tensor_info(t)
    require_dict(result, ("shape", "dtype", "device", "ndim"), "tensor_info(t)")
    expected = {"shape": (3, 4), "dtype": "torch.float32", "device": str(t.device), "ndim": 2}
    for key, value in expected.items():
        got = result[key]
        if key == "shape" and isinstance(got, (list, tuple)):
            got = tuple(got)
        if got != value:
            raise CheckFailed(f'tensor_info(t)["{key}"] is wrong.', f"Expected {value!r}, got {got!r}.")


# --- arithmetic, joining, indexing --------------------------------------------------------


@check(points=2, functions="elementwise")
def elementwise_operations(student, rng, device):
    """elementwise(x, y) gives x + y, x - y, x * y, x / y, x ** y and exp(x)"""
    x = torch.as_tensor(rng.uniform(0.5, 3, 4), dtype=torch.float32, device=device)
    y = torch.as_tensor(rng.integers(1, 4, 4), device=device)
    result = student.elementwise(x, y)
    names = ["x + y", "x - y", "x * y", "x / y", "x ** y", "exp(x)"]
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        raise CheckFailed("elementwise(x, y) must return six tensors.", f"It returned {describe(result)}.")
    for name, got, want in zip(names, result, (x + y, x - y, x * y, x / y, x ** y, torch.exp(x))):
        assert_same(got, want, what=f"{name} in elementwise(x, y)")


@check(points=1, functions="concatenate")
def concatenate_both_ways(student, rng, device):
    """concatenate(x, y) joins along dim 0 and along dim 1"""
    x, y = tensor(rng, (3, 4), device), tensor(rng, (3, 4), device)
    result = student.concatenate(x, y)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailed("concatenate(x, y) must return a pair.", f"It returned {describe(result)}.")
    assert_same(result[0], torch.cat((x, y), dim=0), what="the first tensor of concatenate(x, y) (along dim 0)")
    assert_same(result[1], torch.cat((x, y), dim=1), what="the second tensor of concatenate(x, y) (along dim 1)")


@check(points=2, functions="pick")
def pick_rows_columns_and_slices(student, rng, device):
    """pick(x) gives the last row, rows 1 and 2, two elements of row 0 and column 1"""
    x = tensor(rng, (4, 5), device)
    result = student.pick(x)
    expected = {"last_row": x[-1], "rows_1_2": x[1:3], "row_0_first_two": x[0, 0:2], "column_1": x[:, 1]}
    require_dict(result, expected, "pick(x)")
    for key, value in expected.items():
        assert_same(result[key], value, what=f'pick(x)["{key}"]')


@check(points=1, functions="fill_rows")
def fill_rows_copies(student, rng, device):
    """fill_rows(x, value) sets rows 0 and 1 in a new tensor and leaves x unchanged"""
    x = tensor(rng, (4, 3), device)
    call = student.run("fill_rows", (x.clone(), 12.0))
    expected = x.clone()
    expected[0:2, :] = 12.0
    assert_same(call.value, expected, what="fill_rows(x, 12.0)")
    if not torch.equal(call.args[0].to(x.device), x):
        raise CheckFailed("fill_rows(x, value) changed x.", "Work on x.clone() so the caller's tensor stays as it was.")


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
    result = student.make_batches(data)
    if not isinstance(result, (list, tuple)):
        raise CheckFailed("make_batches(data) must return a list of tensors.", f"It returned {describe(result)}.")
    sizes = [tuple(b.shape)[0] if isinstance(b, torch.Tensor) else None for b in result]
    if sizes != [128, 128, 44]:
        raise CheckFailed("make_batches(data) has the wrong batches.",
                          f"Batch sizes were {sizes}; expected [128, 128, 44].")
    for index, (got, start) in enumerate(zip(result, (0, 128, 256))):
        assert_same(got, data[start:start + 128], what=f"batch {index} of make_batches(data)")


# --- norms and linear algebra ---------------------------------------------------------------


@check(points=1, functions="vector_norms")
def vector_norms_l1_and_l2(student, rng, device):
    """vector_norms(v) gives the L1 and L2 norms"""
    v = tensor(rng, (6,), device)
    result = student.vector_norms(v)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailed("vector_norms(v) must return a pair (L1, L2).", f"It returned {describe(result)}.")
    assert_same(result[0], v.abs().sum(), what="the L1 norm from vector_norms(v)")
    assert_same(result[1], torch.linalg.vector_norm(v), what="the L2 norm from vector_norms(v)")


@check(points=1, functions="frobenius_norm")
def frobenius_norm_value(student, rng, device):
    """frobenius_norm(m) is the square root of the sum of squares"""
    m = tensor(rng, (3, 5), device)
    assert_same(student.frobenius_norm(m), torch.linalg.matrix_norm(m), what="frobenius_norm(m)")


@check(points=1, functions="is_symmetric")
def is_symmetric_decides(student, rng, device):
    """is_symmetric tells symmetric, non-symmetric and non-square matrices apart"""
    m = tensor(rng, (4, 4), device)
    for name, value, expected in [("m + m.T", m + m.T, True), ("m", m, False), ("a 3 x 4 matrix", m[:3], False)]:
        got = student.is_symmetric(value)
        if as_bool(got, what=f"is_symmetric({name})") != expected:
            raise CheckFailed(f"is_symmetric({name}) is wrong.", f"Expected {expected}, got {got!r}.")


@check(points=1, functions="is_orthogonal")
def is_orthogonal_decides(student, rng, device):
    """is_orthogonal tells an orthogonal matrix from a scaled one"""
    q, _ = torch.linalg.qr(tensor(rng, (4, 4), device, torch.float64))
    for name, value, expected in [("Q from a QR decomposition", q, True), ("2 Q", 2 * q, False)]:
        got = student.is_orthogonal(value)
        if as_bool(got, what=f"is_orthogonal({name})") != expected:
            raise CheckFailed(f"is_orthogonal({name}) is wrong.", f"Expected {expected}, got {got!r}.")


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
