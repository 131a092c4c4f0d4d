"""The tracer sees whole-array NumPy work and nothing else."""

import numpy as np
import pytest

from grader.sandbox.tracing import TracedArray, traced, tracing, untraced


def run(function, *arrays):
    with tracing() as recorder:
        result = function(*traced(list(arrays)))
    return dict(recorder.operations), untraced(result)


def loop_add(x, y):
    out = x.copy()
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = max(out[i, j], 0) + y[i, j]
    return out


def test_element_loops_are_not_recorded_and_results_come_back_plain():
    x, y = np.arange(6.0).reshape(2, 3), np.ones((2, 3))
    operations, result = run(loop_add, x, y)
    assert operations == {}
    assert type(result) is np.ndarray and np.array_equal(result, np.maximum(x, 0) + y)


@pytest.mark.parametrize("function, name", [
    (lambda x, y: x + y, "numpy.add"),
    (lambda x, y: np.maximum(x, 0), "numpy.maximum"),
    (lambda x, y: x @ y.T, "numpy.matmul"),
    (lambda x, y: x.dot(y.T), "ndarray.dot"),
    (lambda x, y: x.sum(), "numpy.add.reduce"),
    (lambda x, y: np.einsum("ij,ij->", x, y), "numpy.einsum"),
    (lambda x, y: np.broadcast_to(x[0], (4, 3)), "numpy.broadcast_to"),
    (lambda x, y: x[0] + y[1], "numpy.add"),
    (lambda x, y: sum(x), "numpy.add"),
])
def test_whole_array_operations_are_recorded(function, name):
    operations, _ = run(function, np.ones((2, 3)), np.ones((2, 3)))
    assert name in operations


def test_allocation_shape_and_printing_are_allowed():
    def allowed(x, y):
        a = np.zeros_like(x)
        b = x.reshape(3, 2).copy()
        text = repr(x) + str(y) + f"{x}"
        return a, b, text, x.shape, len(x)

    operations, _ = run(allowed, np.ones((2, 3)), np.ones((2, 3)))
    assert operations == {}


def test_outside_a_tracing_block_nothing_is_recorded():
    x = np.ones(3).view(TracedArray)
    assert np.array_equal(untraced(x + x), np.full(3, 2.0))
