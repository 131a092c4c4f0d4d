"""Public checks for assignment5: students read these and run them with grade assignment5.

Inputs come from the check's seeded generator (rng), so remembered answers do not help.
"""

from grader.checks import assert_same, check


@check(points=2, functions="grad_of_two_xtx")
def grad_of_two_xtx_values(student, rng):
    """grad_of_two_xtx returns 2 * x on random matrices"""
    for shape in [(3, 4), (5, 2)]:
        x = rng.standard_normal(shape)
        expected = 2 * x  # computed here with NumPy, never by the reference (which students do not have)
        assert_same(student.grad_of_two_xtx(x), expected, what=f"grad_of_two_xtx(x) for x of shape {shape}")

@check(points=2, functions="grad_through_control_flow")
def grad_through_control_flow_values(student, rng):
    """grad_through_control_flow returns 2 * x on random matrices"""
    for shape in [(3, 4), (5, 2)]:
        x = rng.standard_normal(shape)
        expected = 2 * x  # computed here with NumPy, never by the reference (which students do not have)
        assert_same(student.grad_through_control_flow(x), expected, what=f"grad_through_control_flow(x) for x of shape {shape}")

@check(points=2, functions="add_in_place")
def add_in_place_values(student, rng):
    """add_in_place returns 2 * x on random matrices"""
    for shape in [(3, 4), (5, 2)]:
        x = rng.standard_normal(shape)
        expected = 2 * x  # computed here with NumPy, never by the reference (which students do not have)
        assert_same(student.add_in_place(x), expected, what=f"add_in_place(x) for x of shape {shape}")

@check(points=2, functions="sigmoid")
def sigmoid_values(student, rng):
    """sigmoid returns 2 * x on random matrices"""
    for shape in [(3, 4), (5, 2)]:
        x = rng.standard_normal(shape)
        expected = 2 * x  # computed here with NumPy, never by the reference (which students do not have)
        assert_same(student.sigmoid(x), expected, what=f"sigmoid(x) for x of shape {shape}")

@check(points=2, functions="initialize_with_zeros")
def initialize_with_zeros_values(student, rng):
    """initialize_with_zeros returns 2 * x on random matrices"""
    for shape in [(3, 4), (5, 2)]:
        x = rng.standard_normal(shape)
        expected = 2 * x  # computed here with NumPy, never by the reference (which students do not have)
        assert_same(student.initialize_with_zeros(x), expected, what=f"initialize_with_zeros(x) for x of shape {shape}")

@check(points=2, functions="propagate")
def propagate_values(student, rng):
    """propagate returns 2 * x on random matrices"""
    for shape in [(3, 4), (5, 2)]:
        x = rng.standard_normal(shape)
        expected = 2 * x  # computed here with NumPy, never by the reference (which students do not have)
        assert_same(student.propagate(x), expected, what=f"propagate(x) for x of shape {shape}")

@check(points=2, functions="optimize")
def optimize_values(student, rng):
    """optimize returns 2 * x on random matrices"""
    for shape in [(3, 4), (5, 2)]:
        x = rng.standard_normal(shape)
        expected = 2 * x  # computed here with NumPy, never by the reference (which students do not have)
        assert_same(student.optimize(x), expected, what=f"optimize(x) for x of shape {shape}")

@check(points=2, functions="predict")
def predict_values(student, rng):
    """predict returns 2 * x on random matrices"""
    for shape in [(3, 4), (5, 2)]:
        x = rng.standard_normal(shape)
        expected = 2 * x  # computed here with NumPy, never by the reference (which students do not have)
        assert_same(student.predict(x), expected, what=f"predict(x) for x of shape {shape}")

@check(points=2, functions="model")
def model_values(student, rng):
    """model returns 2 * x on random matrices"""
    for shape in [(3, 4), (5, 2)]:
        x = rng.standard_normal(shape)
        expected = 2 * x  # computed here with NumPy, never by the reference (which students do not have)
        assert_same(student.model(x), expected, what=f"model(x) for x of shape {shape}")
