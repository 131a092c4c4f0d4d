"""Hidden checks for assignment5: other inputs, compared with the reference solution.

A hidden check's message never shows its inputs or expected values, so `what` names the call only.
"""

from grader.checks import assert_same, check


@check(points=1, functions="grad_of_two_xtx")
def grad_of_two_xtx_edge_shapes(student, reference, rng):
    """grad_of_two_xtx on a single element, a single row and a single column"""
    for shape in [(1, 1), (1, 5), (6, 1)]:
        x = rng.standard_normal(shape)
        assert_same(student.grad_of_two_xtx(x), reference.grad_of_two_xtx(x), what="grad_of_two_xtx(x)")

@check(points=1, functions="grad_through_control_flow")
def grad_through_control_flow_edge_shapes(student, reference, rng):
    """grad_through_control_flow on a single element, a single row and a single column"""
    for shape in [(1, 1), (1, 5), (6, 1)]:
        x = rng.standard_normal(shape)
        assert_same(student.grad_through_control_flow(x), reference.grad_through_control_flow(x), what="grad_through_control_flow(x)")

@check(points=1, functions="add_in_place")
def add_in_place_edge_shapes(student, reference, rng):
    """add_in_place on a single element, a single row and a single column"""
    for shape in [(1, 1), (1, 5), (6, 1)]:
        x = rng.standard_normal(shape)
        assert_same(student.add_in_place(x), reference.add_in_place(x), what="add_in_place(x)")

@check(points=1, functions="sigmoid")
def sigmoid_edge_shapes(student, reference, rng):
    """sigmoid on a single element, a single row and a single column"""
    for shape in [(1, 1), (1, 5), (6, 1)]:
        x = rng.standard_normal(shape)
        assert_same(student.sigmoid(x), reference.sigmoid(x), what="sigmoid(x)")

@check(points=1, functions="initialize_with_zeros")
def initialize_with_zeros_edge_shapes(student, reference, rng):
    """initialize_with_zeros on a single element, a single row and a single column"""
    for shape in [(1, 1), (1, 5), (6, 1)]:
        x = rng.standard_normal(shape)
        assert_same(student.initialize_with_zeros(x), reference.initialize_with_zeros(x), what="initialize_with_zeros(x)")

@check(points=1, functions="propagate")
def propagate_edge_shapes(student, reference, rng):
    """propagate on a single element, a single row and a single column"""
    for shape in [(1, 1), (1, 5), (6, 1)]:
        x = rng.standard_normal(shape)
        assert_same(student.propagate(x), reference.propagate(x), what="propagate(x)")

@check(points=1, functions="optimize")
def optimize_edge_shapes(student, reference, rng):
    """optimize on a single element, a single row and a single column"""
    for shape in [(1, 1), (1, 5), (6, 1)]:
        x = rng.standard_normal(shape)
        assert_same(student.optimize(x), reference.optimize(x), what="optimize(x)")

@check(points=1, functions="predict")
def predict_edge_shapes(student, reference, rng):
    """predict on a single element, a single row and a single column"""
    for shape in [(1, 1), (1, 5), (6, 1)]:
        x = rng.standard_normal(shape)
        assert_same(student.predict(x), reference.predict(x), what="predict(x)")

@check(points=1, functions="model")
def model_edge_shapes(student, reference, rng):
    """model on a single element, a single row and a single column"""
    for shape in [(1, 1), (1, 5), (6, 1)]:
        x = rng.standard_normal(shape)
        assert_same(student.model(x), reference.model(x), what="model(x)")
