"""An example submission for assignment 2 with the mistakes students often make.

Grade it to see what the report says about each one:

    grade assignment2 --submission examples/assignment2/common_mistakes.py
"""
import numpy as np


def naive_relu(x):
    # Mistake: whole-array arithmetic instead of a loop; right values, no points.
    return np.maximum(x, 0)


def naive_add(x, y):
    # Mistake: adds into the caller's array instead of a copy.
    assert x.shape == y.shape
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            x[i, j] += y[i, j]
    return x


def naive_add_matrix_and_vector(x, y):
    # Mistake: no shape check, so a vector of the wrong length is not refused.
    out = x.copy()
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            out[i, j] += y[j % len(y)]
    return out


def naive_vector_dot(x, y):
    assert x.shape == y.shape
    total = 0.0
    for i in range(len(x)):
        total += x[i] * y[i]
    return total


def naive_matrix_vector_dot(x, y):
    assert x.shape[1] == y.shape[0]
    out = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = naive_vector_dot(x[i, :], y)
    return out


def naive_matrix_dot(x, y):
    # Mistake: loops over the wrong axis, so the result comes out transposed.
    assert x.shape[1] == y.shape[0]
    out = np.zeros((y.shape[1], x.shape[0]))
    for i in range(x.shape[0]):
        for j in range(y.shape[1]):
            out[j, i] = naive_vector_dot(x[i, :], y[:, j])
    return out


def naive_broadcast_add(x, y):
    # Mistake: only handles equal shapes; raises IndexError otherwise.
    out = np.zeros(x.shape)
    for index in np.ndindex(*x.shape):
        out[index] = x[index] + y[index]
    return out
