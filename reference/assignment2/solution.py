"""Reference solution for assignment 2: element-wise loops, broadcasting and dot products.

Every function works on one element at a time, as the exercise asks, and
checks its input shapes before doing any work.
"""

import numpy as np


def naive_relu(x):
    assert x.ndim == 2, f"naive_relu expects a 2-D array, got {x.ndim}-D"
    out = x.copy()
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = max(out[i, j], 0)
    return out


def naive_add(x, y):
    assert x.ndim == 2, f"naive_add expects 2-D arrays, got {x.ndim}-D"
    assert x.shape == y.shape, f"shapes differ: {x.shape} and {y.shape}"
    out = x.copy()
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] += y[i, j]
    return out


def naive_add_matrix_and_vector(x, y):
    assert x.ndim == 2 and y.ndim == 1, "expects a matrix and a vector"
    assert x.shape[1] == y.shape[0], f"{x.shape[1]} columns but a vector of length {y.shape[0]}"
    out = x.copy()
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] += y[j]
    return out


def naive_vector_dot(x, y):
    assert x.ndim == 1 and y.ndim == 1, "expects two vectors"
    assert x.shape[0] == y.shape[0], f"lengths differ: {x.shape[0]} and {y.shape[0]}"
    total = 0.0
    for i in range(x.shape[0]):
        total += x[i] * y[i]
    return total


def naive_matrix_vector_dot(x, y):
    assert x.ndim == 2 and y.ndim == 1, "expects a matrix and a vector"
    assert x.shape[1] == y.shape[0], f"{x.shape[1]} columns but a vector of length {y.shape[0]}"
    out = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = naive_vector_dot(x[i, :], y)
    return out


def naive_matrix_dot(x, y):
    assert x.ndim == 2 and y.ndim == 2, "expects two matrices"
    assert x.shape[1] == y.shape[0], f"inner sizes differ: {x.shape} and {y.shape}"
    out = np.zeros((x.shape[0], y.shape[1]))
    for i in range(x.shape[0]):
        for j in range(y.shape[1]):
            out[i, j] = naive_vector_dot(x[i, :], y[:, j])
    return out


def _broadcast_shape(a, b):
    """The shape NumPy's broadcasting gives a and b, or ValueError."""
    ndim = max(len(a), len(b))
    a = (1,) * (ndim - len(a)) + tuple(a)
    b = (1,) * (ndim - len(b)) + tuple(b)
    shape = []
    for m, n in zip(a, b):
        if m != n and 1 not in (m, n):
            raise ValueError(f"shapes {a} and {b} cannot be broadcast together")
        shape.append(n if m == 1 else m)
    return tuple(shape)


def _source_index(index, shape):
    """The element of an array of this shape that broadcasting maps to index."""
    index = index[len(index) - len(shape):]
    return tuple(0 if size == 1 else i for i, size in zip(index, shape))


def naive_broadcast_add(x, y):
    shape = _broadcast_shape(x.shape, y.shape)
    out = np.zeros(shape, dtype=np.result_type(x, y))
    for index in np.ndindex(*shape):
        out[index] = x[_source_index(index, x.shape)] + y[_source_index(index, y.shape)]
    return out
