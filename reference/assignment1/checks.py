"""Hidden checks for assignment 1: other shapes, dtypes and defaults, against the reference."""

import torch

from grader.checks import assert_same, check
from grader.errors import CheckFailed


def tensor(rng, shape, device, dtype=torch.float32):
    return torch.as_tensor(rng.normal(0, 1, shape)).to(dtype=dtype, device=device)


@check(points=1, functions="tensor_from_list")
def tensor_from_list_mixed_and_nested(student, reference, rng):
    """tensor_from_list on three levels of nesting, and on ints mixed with floats"""
    nested = rng.integers(0, 5, (2, 2, 3)).tolist()
    mixed = [1, 2.5, -3]
    for values in (nested, mixed):
        assert_same(student.tensor_from_list(values), reference.tensor_from_list(values), what="tensor_from_list(values)")


@check(points=1, functions="like")
def like_float64_three_dimensions(student, rng, device):
    """like(t) for a float64 tensor of three dimensions"""
    t = tensor(rng, (2, 5, 1), device, torch.float64)
    result = student.like(t)
    assert_same(result["zeros"], torch.zeros_like(t), what='like(t)["zeros"]')
    assert_same(result["ones"], torch.ones_like(t), what='like(t)["ones"]')
    assert_same(result["rand"], result["rand"].clamp(0, 1), what='like(t)["rand"]')
    if result["rand"].dtype != torch.float64:
        raise CheckFailed('like(t)["rand"] has the wrong dtype.')


@check(points=1, functions="tensor_info")
def tensor_info_integers(student, reference, rng, device):
    """tensor_info for an int64 tensor of three dimensions"""
    t = torch.as_tensor(rng.integers(0, 9, (2, 1, 5)), device=device)
    result, expected = student.tensor_info(t), reference.tensor_info(t)
    for key, value in expected.items():
        got = tuple(result[key]) if key == "shape" and isinstance(result.get(key), (list, tuple)) else result.get(key)
        if got != value:
            raise CheckFailed(f'tensor_info(t)["{key}"] is wrong.')


@check(points=1, functions="concatenate")
def concatenate_other_shapes(student, reference, rng, device):
    """concatenate on single-row and single-column tensors"""
    for shape in [(1, 4), (5, 1)]:
        x, y = tensor(rng, shape, device), tensor(rng, shape, device)
        assert_same(tuple(student.concatenate(x, y)), reference.concatenate(x, y), what="concatenate(x, y)")


@check(points=1, functions="make_batches")
def make_batches_exact_and_custom(student, reference, rng, device):
    """make_batches with a batch size that divides the data, and with the default on fewer than 128 samples"""
    data = tensor(rng, (256, 3), device)
    assert_same(list(student.make_batches(data, 64)), reference.make_batches(data, 64), what="make_batches(data, 64)")
    small = tensor(rng, (70, 2), device)
    assert_same(list(student.make_batches(small)), reference.make_batches(small), what="make_batches(data)")


@check(points=1, functions=["vector_norms", "frobenius_norm"])
def norms_float64(student, reference, rng, device):
    """the norms of float64 tensors"""
    v, m = tensor(rng, (9,), device, torch.float64), tensor(rng, (4, 2), device, torch.float64)
    assert_same(tuple(student.vector_norms(v)), reference.vector_norms(v), what="vector_norms(v)")
    assert_same(student.frobenius_norm(m), reference.frobenius_norm(m), what="frobenius_norm(m)")


@check(points=1, functions="matrix_product")
def matrix_product_vector_shapes(student, reference, rng, device):
    """matrix_product of a row by a column and a column by a row"""
    for a_shape, b_shape in [((1, 6), (6, 1)), ((6, 1), (1, 6))]:
        a, b = tensor(rng, a_shape, device), tensor(rng, b_shape, device)
        assert_same(student.matrix_product(a, b), reference.matrix_product(a, b), what="matrix_product(a, b)")
