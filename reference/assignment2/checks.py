"""Hidden checks for assignment 2: shapes at the edges, higher ranks, fresh inputs.

Expected values come from the reference solution, run here in the grader.
Messages of hidden checks never show these inputs, so the `what` texts below
name the call only.
"""

from grader.checks import assert_number, assert_same, check, expect_raises, working

EDGE_MATRICES = [(1, 5), (6, 1), (7, 3), (1, 1)]


@check(points=1, functions="naive_relu")
def naive_relu_edge_shapes(student, reference, rng):
    """naive_relu on single-row, single-column and non-square matrices"""
    for shape in EDGE_MATRICES:
        x = rng.standard_normal(shape)
        assert_same(student.naive_relu(x), reference.naive_relu(x), what="naive_relu(x)")


@check(points=1, functions="naive_add")
def naive_add_edge_shapes(student, reference, rng):
    """naive_add on single-row, single-column and non-square matrices"""
    for shape in EDGE_MATRICES:
        x, y = rng.standard_normal((2, *shape))
        assert_same(student.naive_add(x, y), reference.naive_add(x, y), what="naive_add(x, y)")


@check(points=1, functions="naive_add_matrix_and_vector")
def naive_add_matrix_and_vector_edge_shapes(student, reference, rng):
    """naive_add_matrix_and_vector on single-row, single-column and non-square matrices"""
    for n, m in EDGE_MATRICES:
        x, y = rng.standard_normal((n, m)), rng.standard_normal(m)
        assert_same(student.naive_add_matrix_and_vector(x, y), reference.naive_add_matrix_and_vector(x, y),
                    what="naive_add_matrix_and_vector(x, y)")


@check(points=1, functions="naive_vector_dot")
def naive_vector_dot_edge_shapes(student, reference, rng):
    """naive_vector_dot on vectors of length 1 and longer ones"""
    for n in [1, 2, 31]:
        x, y = rng.standard_normal((2, n))
        assert_number(student.naive_vector_dot(x, y), reference.naive_vector_dot(x, y), what="naive_vector_dot(x, y)")


@check(points=1, functions="naive_matrix_vector_dot")
def naive_matrix_vector_dot_edge_shapes(student, reference, rng):
    """naive_matrix_vector_dot on single-row, single-column and non-square matrices"""
    for n, m in EDGE_MATRICES:
        x, y = rng.standard_normal((n, m)), rng.standard_normal(m)
        assert_same(student.naive_matrix_vector_dot(x, y), reference.naive_matrix_vector_dot(x, y),
                    what="naive_matrix_vector_dot(x, y)")


@check(points=1, functions="naive_matrix_dot")
def naive_matrix_dot_edge_shapes(student, reference, rng):
    """naive_matrix_dot on row-times-column, column-times-row and other non-square products"""
    for n, m, k in [(1, 4, 1), (4, 1, 3), (5, 3, 2), (1, 1, 1)]:
        x, y = rng.standard_normal((n, m)), rng.standard_normal((m, k))
        assert_same(student.naive_matrix_dot(x, y), reference.naive_matrix_dot(x, y), what="naive_matrix_dot(x, y)")


@check(points=2, functions="naive_broadcast_add")
def naive_broadcast_add_any_rank(student, reference, rng):
    """naive_broadcast_add on 0-D, 3-D and 4-D shapes"""
    for a, b in [((2, 1, 3), (4, 1)), ((5,), ()), ((1,), (3, 2, 1)), ((2, 3, 1, 2), (3, 4, 1)), ((), ())]:
        x, y = rng.standard_normal(a), rng.standard_normal(b)
        assert_same(student.naive_broadcast_add(x, y), reference.naive_broadcast_add(x, y),
                    what="naive_broadcast_add(x, y)")


@check(points=1, functions="naive_broadcast_add")
def naive_broadcast_add_rejects_any_rank(student, reference, rng):
    """naive_broadcast_add raises ValueError for higher-rank shapes that cannot broadcast"""
    x, y = rng.standard_normal((2, 1, 3)), rng.standard_normal((4, 1))
    with working("naive_broadcast_add"):  # an error on bad shapes counts only from a function that works
        assert_same(student.naive_broadcast_add(x, y), reference.naive_broadcast_add(x, y),
                    what="naive_broadcast_add(x, y)")
    for a, b in [((2, 3, 4), (3, 3)), ((4, 1, 2), (5, 3, 2))]:
        x, y = rng.standard_normal(a), rng.standard_normal(b)
        expect_raises(lambda: student.naive_broadcast_add(x, y), "ValueError", what="naive_broadcast_add(x, y)")
