"""Public checks for assignment 2. Students can read these; the hidden ones use other inputs.

Expected values come from NumPy itself on inputs drawn from the check's seeded
generator, so a submission cannot pass by returning remembered answers. The
checks of a property (inputs unchanged, errors on bad shapes) first require the
right values on valid inputs: a function that computes nothing earns nothing.
"""

import numpy as np

from grader.checks import assert_number, assert_same, check, expect_raises, expect_unchanged, working


def shapes(*arrays):
    return " and ".join(f"{a.shape}" for a in arrays)


def keeps_inputs(student, function, expected, **inputs):
    """function(**inputs) returns expected and leaves every input as it was."""
    what = f"{function}({', '.join(inputs)})"
    with working(function):
        call = student.run(function, tuple(value.copy() for value in inputs.values()))
        assert_same(call.value, expected, what=what)
    expect_unchanged(call, inputs, what=what)


# A wrong rank is given as too few dimensions (a vector for a matrix, a 0-D array for a vector): code
# without a rank check then fails on x[i, j], while with too many it would quietly compute with whole
# rows, which the loops-only rule would count against the function as a whole.


def works_on(student, function, expected, *args):
    """Not checked unless function(*args) returns expected: an error on bad shapes counts only then."""
    names = "x" if len(args) == 1 else "x, y"
    with working(function):
        assert_same(getattr(student, function)(*args), expected,
                    what=f"{function}({names}) for shapes {shapes(*args)}")


# --- naive_relu ------------------------------------------------------------------


@check(points=2, functions="naive_relu")
def naive_relu_values(student, rng):
    """naive_relu matches np.maximum(x, 0) on random matrices"""
    for shape in [(3, 4), (5, 2)]:
        x = rng.standard_normal(shape)
        assert_same(student.naive_relu(x), np.maximum(x, 0), what=f"naive_relu(x) for x of shape {shape}")


@check(points=1, functions="naive_relu")
def naive_relu_keeps_input(student, rng):
    """naive_relu returns a new array and leaves x unchanged"""
    x = rng.standard_normal((4, 3))
    keeps_inputs(student, "naive_relu", np.maximum(x, 0), x=x)


@check(points=1, functions="naive_relu")
def naive_relu_rejects_bad_shapes(student, rng):
    """naive_relu raises an error for input that is not 2-D"""
    x = rng.standard_normal((3, 2))
    works_on(student, "naive_relu", np.maximum(x, 0), x)
    for shape in [(5,), (2, 3, 4)]:
        x = rng.standard_normal(shape)
        expect_raises(lambda: student.naive_relu(x), "AssertionError", "ValueError",
                      what=f"naive_relu(x) for x of shape {shape}")


# --- naive_add -------------------------------------------------------------------


@check(points=2, functions="naive_add")
def naive_add_values(student, rng):
    """naive_add matches x + y on random matrices"""
    for shape in [(3, 4), (4, 4)]:
        x, y = rng.standard_normal((2, *shape))
        assert_same(student.naive_add(x, y), x + y, what=f"naive_add(x, y) for x, y of shape {shape}")


@check(points=1, functions="naive_add")
def naive_add_keeps_inputs(student, rng):
    """naive_add leaves x and y unchanged"""
    x, y = rng.standard_normal((2, 3, 5))
    keeps_inputs(student, "naive_add", x + y, x=x, y=y)


@check(points=1, functions="naive_add")
def naive_add_rejects_bad_shapes(student, rng):
    """naive_add raises an error when the shapes differ or the arrays are not 2-D"""
    x, y = rng.standard_normal((2, 3, 4))
    works_on(student, "naive_add", x + y, x, y)
    for a, b in [((3, 4), (3, 5)), ((3, 4), (2, 4)), ((5,), (5,))]:
        x, y = rng.standard_normal(a), rng.standard_normal(b)
        expect_raises(lambda: student.naive_add(x, y), "AssertionError", "ValueError",
                      what=f"naive_add(x, y) for shapes {shapes(x, y)}")


# --- naive_add_matrix_and_vector --------------------------------------------------


@check(points=2, functions="naive_add_matrix_and_vector")
def naive_add_matrix_and_vector_values(student, rng):
    """naive_add_matrix_and_vector matches x + y for a matrix x and a vector y"""
    for n, m in [(3, 4), (5, 2)]:
        x, y = rng.standard_normal((n, m)), rng.standard_normal(m)
        assert_same(student.naive_add_matrix_and_vector(x, y), x + y,
                    what=f"naive_add_matrix_and_vector(x, y) for shapes {shapes(x, y)}")


@check(points=1, functions="naive_add_matrix_and_vector")
def naive_add_matrix_and_vector_keeps_inputs(student, rng):
    """naive_add_matrix_and_vector leaves x and y unchanged"""
    x, y = rng.standard_normal((3, 4)), rng.standard_normal(4)
    keeps_inputs(student, "naive_add_matrix_and_vector", x + y, x=x, y=y)


@check(points=1, functions="naive_add_matrix_and_vector")
def naive_add_matrix_and_vector_rejects_bad_shapes(student, rng):
    """naive_add_matrix_and_vector raises an error unless it gets a matrix and a vector that fits its rows"""
    x, y = rng.standard_normal((3, 4)), rng.standard_normal(4)
    works_on(student, "naive_add_matrix_and_vector", x + y, x, y)
    for a, b in [((3, 4), (3,)), ((4,), (4,))]:
        x, y = rng.standard_normal(a), rng.standard_normal(b)
        expect_raises(lambda: student.naive_add_matrix_and_vector(x, y), "AssertionError", "ValueError",
                      what=f"naive_add_matrix_and_vector(x, y) for shapes {shapes(x, y)}")


# --- dot products ----------------------------------------------------------------


@check(points=2, functions="naive_vector_dot")
def naive_vector_dot_values(student, rng):
    """naive_vector_dot matches np.dot on random vectors"""
    for n in [5, 12]:
        x, y = rng.standard_normal((2, n))
        assert_number(student.naive_vector_dot(x, y), float(np.dot(x, y)),
                      what=f"naive_vector_dot(x, y) for vectors of length {n}")


@check(points=1, functions="naive_vector_dot")
def naive_vector_dot_keeps_inputs(student, rng):
    """naive_vector_dot leaves x and y unchanged"""
    x, y = rng.standard_normal((2, 6))
    keeps_inputs(student, "naive_vector_dot", float(np.dot(x, y)), x=x, y=y)


@check(points=1, functions="naive_vector_dot")
def naive_vector_dot_rejects_bad_shapes(student, rng):
    """naive_vector_dot raises an error for vectors of different lengths, and for arrays that are not vectors"""
    x, y = rng.standard_normal((2, 4))
    works_on(student, "naive_vector_dot", float(np.dot(x, y)), x, y)
    for a, b in [((4,), (5,)), ((), ())]:
        x, y = rng.standard_normal(a), rng.standard_normal(b)
        expect_raises(lambda: student.naive_vector_dot(x, y), "AssertionError", "ValueError",
                      what=f"naive_vector_dot(x, y) for shapes {shapes(x, y)}")


@check(points=2, functions="naive_matrix_vector_dot")
def naive_matrix_vector_dot_values(student, rng):
    """naive_matrix_vector_dot matches np.dot on a random matrix and vector"""
    for n, m in [(3, 4), (6, 2)]:
        x, y = rng.standard_normal((n, m)), rng.standard_normal(m)
        assert_same(student.naive_matrix_vector_dot(x, y), np.dot(x, y),
                    what=f"naive_matrix_vector_dot(x, y) for shapes {shapes(x, y)}")


@check(points=1, functions="naive_matrix_vector_dot")
def naive_matrix_vector_dot_keeps_inputs(student, rng):
    """naive_matrix_vector_dot leaves x and y unchanged"""
    x, y = rng.standard_normal((3, 4)), rng.standard_normal(4)
    keeps_inputs(student, "naive_matrix_vector_dot", np.dot(x, y), x=x, y=y)


@check(points=1, functions="naive_matrix_vector_dot")
def naive_matrix_vector_dot_rejects_bad_shapes(student, rng):
    """naive_matrix_vector_dot raises an error unless it gets a matrix and a vector that fits, rows or none"""
    x, y = rng.standard_normal((3, 4)), rng.standard_normal(4)
    works_on(student, "naive_matrix_vector_dot", np.dot(x, y), x, y)
    # A matrix with no rows still has 4 columns: the shapes are checked before any row is.
    for a, b in [((3, 4), (3,)), ((0, 4), (3,)), ((4,), (4,))]:
        x, y = rng.standard_normal(a), rng.standard_normal(b)
        expect_raises(lambda: student.naive_matrix_vector_dot(x, y), "AssertionError", "ValueError",
                      what=f"naive_matrix_vector_dot(x, y) for shapes {shapes(x, y)}")


@check(points=2, functions="naive_matrix_dot")
def naive_matrix_dot_values(student, rng):
    """naive_matrix_dot matches x @ y on random non-square matrices"""
    for n, m, k in [(2, 3, 4), (4, 2, 3)]:
        x, y = rng.standard_normal((n, m)), rng.standard_normal((m, k))
        assert_same(student.naive_matrix_dot(x, y), x @ y, what=f"naive_matrix_dot(x, y) for shapes {shapes(x, y)}")


@check(points=1, functions="naive_matrix_dot")
def naive_matrix_dot_keeps_inputs(student, rng):
    """naive_matrix_dot leaves x and y unchanged"""
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    keeps_inputs(student, "naive_matrix_dot", x @ y, x=x, y=y)


@check(points=1, functions="naive_matrix_dot")
def naive_matrix_dot_rejects_bad_shapes(student, rng):
    """naive_matrix_dot raises an error when the inner sizes differ (with or without rows) or y is not a matrix"""
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((4, 3))
    works_on(student, "naive_matrix_dot", x @ y, x, y)
    for a, b in [((3, 4), (3, 4)), ((0, 4), (3, 2)), ((3, 4), (4,))]:
        x, y = rng.standard_normal(a), rng.standard_normal(b)
        expect_raises(lambda: student.naive_matrix_dot(x, y), "AssertionError", "ValueError",
                      what=f"naive_matrix_dot(x, y) for shapes {shapes(x, y)}")


# --- naive_broadcast_add ----------------------------------------------------------


@check(points=3, functions="naive_broadcast_add")
def naive_broadcast_add_values(student, rng):
    """naive_broadcast_add matches x + y for shapes that broadcast"""
    for a, b in [((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3), (2, 3)), ((4, 1), (3,))]:
        x, y = rng.standard_normal(a), rng.standard_normal(b)
        assert_same(student.naive_broadcast_add(x, y), x + y,
                    what=f"naive_broadcast_add(x, y) for shapes {shapes(x, y)}")


@check(points=1, functions="naive_broadcast_add")
def naive_broadcast_add_keeps_inputs(student, rng):
    """naive_broadcast_add leaves x and y unchanged"""
    x, y = rng.standard_normal((3, 1)), rng.standard_normal((1, 4))
    keeps_inputs(student, "naive_broadcast_add", x + y, x=x, y=y)


@check(points=1, functions="naive_broadcast_add")
def naive_broadcast_add_rejects_bad_shapes(student, rng):
    """naive_broadcast_add raises ValueError for shapes that cannot broadcast"""
    x, y = rng.standard_normal((2, 1)), rng.standard_normal(3)
    works_on(student, "naive_broadcast_add", x + y, x, y)
    for a, b in [((3, 4), (3,)), ((2, 3), (3, 2))]:
        x, y = rng.standard_normal(a), rng.standard_normal(b)
        expect_raises(lambda: student.naive_broadcast_add(x, y), "ValueError",
                      what=f"naive_broadcast_add(x, y) for shapes {shapes(x, y)}")
