"""Hidden checks for assignment 1: other shapes, dtypes, tolerances and defaults, against the reference.

Every function has one here, on inputs no public check uses, so answers
remembered from the public run earn nothing more.
"""

import numpy as np
import torch

from grader.checks import assert_same, check, working
from grader.errors import CheckFailed

from .support import (off_orthogonal, off_symmetric, orthogonal, require_batches, require_bool, require_dict,
                      require_info, require_like, require_pair_of_tensors, require_shared, require_tensor_from_list,
                      tensor)


@check(points=1, functions="tensor_from_list")
def tensor_from_list_mixed_and_nested(student, reference, rng):
    """tensor_from_list on three levels of nesting, and on ints mixed with floats"""
    nested = rng.integers(0, 5, (2, 2, 3)).tolist()
    mixed = [int(rng.integers(-5, 5)), round(float(rng.normal()), 2), int(rng.integers(-5, 5))]
    for values in (nested, mixed):
        require_tensor_from_list(student.tensor_from_list(values), values, reference.tensor_from_list(values),
                                 "tensor_from_list(values)")


@check(points=1, functions="tensor_sharing_memory")
def tensor_sharing_memory_other_dtypes(student, rng):
    """tensor_sharing_memory shares memory with int64 and float32 arrays of three dimensions"""
    for array in (rng.integers(-50, 50, (2, 3, 2)), rng.normal(0, 1, (3, 1, 2)).astype(np.float32)):
        student.get("tensor_sharing_memory")  # a missing function is named as such, not as the probe's error
        result = student.probe("after_array_changes", array.copy(), 7, function="tensor_sharing_memory")
        after = array.copy()
        after.reshape(-1)[0] = 7
        require_shared(result, torch.from_numpy(array), torch.from_numpy(after), "tensor_sharing_memory",
                       "tensor_sharing_memory(array)", "the array", "array", "")


@check(points=1, functions="numpy_from_tensor")
def numpy_from_tensor_other_dtypes(student, rng, device):
    """numpy_from_tensor for a float64 tensor that requires gradients and an int64 tensor, both 3-D"""
    floats = tensor(rng, (2, 1, 3), device, torch.float64).requires_grad_(True)
    ints = torch.as_tensor(rng.integers(-9, 9, (3, 2, 2)), device=device)
    for t in (floats, ints):
        assert_same(student.numpy_from_tensor(t), t.detach().cpu().numpy(), what="numpy_from_tensor(t)")


@check(points=1, functions="like")
def like_float64_three_dimensions(student, rng, device):
    """like(t) for a float64 tensor of three dimensions"""
    t = tensor(rng, (2, 5, 1), device, torch.float64)
    require_like(student.like(t), t, "like(t)")


@check(points=1, functions="tensor_info")
def tensor_info_integers(student, rng, device):
    """tensor_info for an int64 tensor of three dimensions and a 0-D float64 tensor"""
    for t in (torch.as_tensor(rng.integers(0, 9, (2, 1, 5)), device=device),
              torch.tensor(float(rng.normal()), dtype=torch.float64, device=device)):
        require_info(student.tensor_info(t), t, "tensor_info(t)")


@check(points=1, functions="elementwise")
def elementwise_float64_matrices(student, reference, rng, device):
    """elementwise on float64 matrices with float64 exponents"""
    x = torch.as_tensor(rng.uniform(0.5, 2, (2, 3)), device=device)
    y = torch.as_tensor(rng.uniform(-2, 2, (2, 3)), device=device)
    result, expected = student.elementwise(x, y), reference.elementwise(x, y)
    assert_same(result, tuple(expected), what="elementwise(x, y)")


@check(points=1, functions="concatenate")
def concatenate_other_shapes(student, reference, rng, device):
    """concatenate on single-row and single-column tensors"""
    for shape in [(1, 4), (5, 1)]:
        x, y = tensor(rng, shape, device), tensor(rng, shape, device)
        first, second = require_pair_of_tensors(student.concatenate(x, y), "concatenate(x, y)", "a pair")
        assert_same((first, second), reference.concatenate(x, y), what="concatenate(x, y)")


@check(points=1, functions="pick")
def pick_other_shapes(student, rng, device):
    """pick on a taller, narrower integer matrix"""
    x = torch.as_tensor(rng.integers(-9, 9, (6, 3)), device=device)
    expected = {"last_row": x[-1], "rows_1_2": x[1:3], "row_0_first_two": x[0, 0:2], "column_1": x[:, 1]}
    result = require_dict(student.pick(x), expected, "pick(x)")
    for key, value in expected.items():
        assert_same(result[key], value, what=f'pick(x)["{key}"]')


@check(points=1, functions="fill_rows")
def fill_rows_integers_and_wide(student, rng, device):
    """fill_rows on an int64 matrix and on a wide float64 one, leaving both unchanged"""
    for x, value in ((torch.as_tensor(rng.integers(-9, 9, (3, 2)), device=device), int(rng.integers(10, 99))),
                     (tensor(rng, (2, 7), device, torch.float64), float(rng.normal()))):
        with working("fill_rows"):
            call = student.run("fill_rows", (x.clone(), value))
            expected = x.clone()
            expected[0:2, :] = value
            assert_same(call.value, expected, what="fill_rows(x, value)")
        after = call.args[0] if call.args else None
        if not isinstance(after, torch.Tensor) or after.shape != x.shape or not torch.equal(after.to(x.device), x):
            raise CheckFailed("fill_rows(x, value) changed x.")


@check(points=1, functions="flatten_samples")
def flatten_samples_other_shapes(student, reference, rng, device):
    """flatten_samples on a single image and on images of one row"""
    for shape in [(1, 4, 4), (6, 1, 3)]:
        images = tensor(rng, shape, device)
        assert_same(student.flatten_samples(images), reference.flatten_samples(images), what="flatten_samples(images)")


@check(points=1, functions="make_batches")
def make_batches_exact_and_custom(student, rng, device):
    """make_batches with a batch size that divides the data, one sample past whole batches, and under 128 samples"""
    data = tensor(rng, (256, 3), device)
    require_batches(student.make_batches(data, 64), data, 64, "make_batches(data, 64)")
    batch_size = int(rng.integers(3, 20))
    one_past = tensor(rng, (int(rng.integers(2, 6)) * batch_size + 1, 2), device)  # the last batch holds one sample
    require_batches(student.make_batches(one_past, batch_size), one_past, batch_size, "make_batches(data, batch_size)")
    small = tensor(rng, (70, 2), device)
    require_batches(student.make_batches(small), small, 128, "make_batches(data)")


@check(points=1, functions=["vector_norms", "frobenius_norm"])
def norms_float64(student, reference, rng, device):
    """the norms of float64 tensors"""
    v, m = tensor(rng, (9,), device, torch.float64), tensor(rng, (4, 2), device, torch.float64)
    l1, l2 = require_pair_of_tensors(student.vector_norms(v), "vector_norms(v)", "a pair (L1, L2)")
    assert_same((l1, l2), reference.vector_norms(v), what="vector_norms(v)")
    assert_same(student.frobenius_norm(m), reference.frobenius_norm(m), what="frobenius_norm(m)")


@check(points=1, functions="is_symmetric")
def is_symmetric_other_sizes_and_tolerances(student, rng, device):
    """is_symmetric on other sizes and dtypes, near symmetric within and beyond a drawn tol"""
    tol = float(10 ** rng.uniform(-4, -2))
    m = tensor(rng, (5, 5), device, torch.float64)
    s = m + m.T
    single = tensor(rng, (1, 1), device)
    cases = [(s.float(), {}, True), (single, {}, True), (tensor(rng, (2, 3), device), {}, False),
             (off_symmetric(s, tol / 2), {"tol": tol}, True), (off_symmetric(s, 3 * tol), {"tol": tol}, False)]
    for value, options, expected in cases:
        require_bool(student.is_symmetric(value, **options), expected, "is_symmetric(a)")


@check(points=1, functions="is_orthogonal")
def is_orthogonal_other_sizes_and_tolerances(student, rng, device):
    """is_orthogonal on other sizes, near orthogonal within and beyond a drawn tol"""
    tol = float(10 ** rng.uniform(-4, -2))
    q = orthogonal(rng, 6, device)
    permutation = torch.eye(3, dtype=torch.float64, device=device)[torch.as_tensor(rng.permutation(3))]
    cases = [(q, {}, True), (permutation, {}, True), (-q, {}, True), (q[:, :4], {}, False),
             (off_orthogonal(q, tol / 2), {"tol": tol}, True), (off_orthogonal(q, 3 * tol), {"tol": tol}, False)]
    for value, options, expected in cases:
        require_bool(student.is_orthogonal(value, **options), expected, "is_orthogonal(q)")


@check(points=1, functions="matrix_product")
def matrix_product_vector_shapes(student, reference, rng, device):
    """matrix_product of a row by a column and a column by a row"""
    for a_shape, b_shape in [((1, 6), (6, 1)), ((6, 1), (1, 6))]:
        a, b = tensor(rng, a_shape, device), tensor(rng, b_shape, device)
        assert_same(student.matrix_product(a, b), reference.matrix_product(a, b), what="matrix_product(a, b)")


@check(points=1, functions="transpose")
def transpose_other_shapes(student, reference, rng, device):
    """transpose of a column, a row and an int64 square matrix"""
    for a in (tensor(rng, (4, 1), device), tensor(rng, (1, 3), device),
              torch.as_tensor(rng.integers(-9, 9, (3, 3)), device=device)):
        assert_same(student.transpose(a), reference.transpose(a), what="transpose(a)")
