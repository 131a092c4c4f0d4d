"""Hidden checks for assignment 5: other shapes, dtypes, data and seeds, compared with the reference.

A hidden check's message never shows its inputs or expected values, so `what` names the call only.
"""

import numpy as np
import torch

from grader.checks import as_number, as_sequence, assert_same, check, describe, working
from grader.diagnose import compare_parameters, require_parameters
from grader.errors import CheckFailed

from . import support


@check(points=1, functions="grad_of_two_xtx")
def grad_of_two_xtx_other_sizes(student, reference, rng, device):
    """grad_of_two_xtx on a single entry and on longer vectors, float64 and float32"""
    for n, dtype in ((1, torch.float64), (12, torch.float32), (30, torch.float64)):
        x = torch.as_tensor(rng.normal(0, 3, (n, 1)), dtype=dtype, device=device)
        assert_same(student.grad_of_two_xtx(x), reference.grad_of_two_xtx(x), what="grad_of_two_xtx(x)")


@check(points=1, functions="grad_through_control_flow")
def grad_through_control_flow_other_inputs(student, reference, rng, device):
    """grad_through_control_flow on other values of a, in float64 too"""
    for dtype in (torch.float32, torch.float64):
        for a in (rng.uniform(1e-4, 2.0), -rng.uniform(1e-4, 2.0), rng.uniform(300, 2000), -rng.uniform(300, 2000)):
            tensor = torch.tensor([a], dtype=dtype, device=device)
            c, grad = as_sequence(student.grad_through_control_flow(tensor), what="grad_through_control_flow(a)",
                                  length=2, wanted="a pair (c, grad)")
            expected_c, expected_grad = reference.grad_through_control_flow(tensor)
            assert_same(c, expected_c, what="c from grad_through_control_flow(a)")
            assert_same(grad, expected_grad, what="the gradient from grad_through_control_flow(a)")


@check(points=1, functions="add_in_place")
def add_in_place_other_shapes(student, rng, device):
    """add_in_place on three-dimensional float64 tensors and on a single entry, in place and without allocating"""
    for shape in ((2, 3, 4), (1,)):
        x, y = (torch.as_tensor(rng.normal(0, 1, shape), dtype=torch.float64, device=device) for _ in range(2))
        with working("add_in_place"):
            assert_same(student.add_in_place(x, y.clone()), x + y, what="add_in_place(x, y)")
        effect = student.probe("add_in_place_effect", x, y, function="add_in_place")
        if not isinstance(effect, dict):
            raise CheckFailed("add_in_place could not be watched.", f"The probe returned {describe(effect)}.")
        assert_same(effect["y"], x + y, what="y after add_in_place(x, y)")
        problems = [said for ok, said in ((effect["same_memory"], "y's memory changed"),
                                          (effect["returned_y"], "it did not return y itself"),
                                          (effect["x_unchanged"], "it changed x"),
                                          (not effect["new_tensors"], "it allocated a new tensor"))
                    if not ok]
        if problems:
            raise CheckFailed("add_in_place(x, y) did not add in place: " + "; ".join(problems) + ".", "")


@check(points=1, functions="sigmoid")
def sigmoid_other_inputs(student, reference, rng):
    """sigmoid on a long row and on a column, values from −50 to 50"""
    for shape in ((1, 200), (9, 1)):
        z = rng.uniform(-50, 50, shape)
        assert_same(student.sigmoid(z), reference.sigmoid(z), what="sigmoid(z)", atol=1e-300)


@check(points=1, functions="initialize_with_zeros")
def initialize_with_zeros_other_sizes(student, rng):
    """initialize_with_zeros for a single feature and for many"""
    for dim in (1, int(rng.integers(20, 60))):
        support.require_zeros(student.initialize_with_zeros(dim), dim, what="initialize_with_zeros(dim)")


@check(points=2, functions="propagate")
def propagate_other_shapes(student, rng):
    """propagate with more features than samples, with one sample, and with labels all equal"""
    for n_x, m in ((6, 3), (2, 1), (5, 9)):
        w, b, X, Y = support.problem(rng, n_x, m, scale=1.5)
        if m == 9:
            Y[:] = 1.0
        support.require_propagate(student.propagate(w, b, X, Y), w, b, X, Y, what="propagate(w, b, X, Y)")


@check(points=2, functions="optimize")
def optimize_other_problems(student, reference, rng):
    """optimize on other shapes, step sizes and numbers of iterations"""
    for n_x, m, iterations, rate in ((4, 9, 120, 0.3), (1, 3, 201, 0.05)):
        w, b, X, Y = support.problem(rng, n_x, m)
        what = "optimize(w, b, X, Y, num_iterations, learning_rate)"
        params, grads, costs = support.unpack_optimize(student.optimize(w, b, X, Y, iterations, rate), what)
        want_params, want_grads, want_costs = reference.optimize(w, b, X, Y, iterations, rate)
        require_parameters(compare_parameters(params, want_params), what=f"The w and b after {what}")
        require_parameters(support.compare_gradients(grads, want_grads, m=m), what=f"The grads from {what}")
        got = [as_number(c, what=f"a cost from {what}") for c in as_sequence(costs, what=f"the costs from {what}")]
        assert_same(got, [float(c) for c in want_costs], what=f"the costs from {what}")


@check(points=1, functions="predict")
def predict_other_shapes(student, reference, rng):
    """predict on one sample, on many features, and where some predictions sit at exactly 0.5"""
    for n_x, m in ((4, 1), (25, 40)):
        w, b, X, _ = support.problem(rng, n_x, m, scale=1.0)
        assert_same(student.predict(w, b, X), reference.predict(w, b, X), what="predict(w, b, X)")
    X = rng.normal(0, 1, (2, 7))
    X[:, ::2] = 0.0
    w = rng.normal(0, 1, (2, 1))
    assert_same(student.predict(w, 0.0, X), reference.predict(w, 0.0, X), what="predict(w, 0, X)")


@check(points=2, functions="model", timeout=60)
def model_other_split(student, reference, rng):
    """model on another split of the breast-cancer set, with 500 iterations and learning rate 0.02"""
    X_train, Y_train, X_test, Y_test = support.cancer_data(rng)
    what = "model(X_train, Y_train, X_test, Y_test, 500, 0.02)"
    found = support.unpack_model(student.model(X_train, Y_train, X_test, Y_test, 500, 0.02), what, X_train.shape,
                                 X_test.shape)
    expected = reference.model(X_train, Y_train, X_test, Y_test, 500, 0.02)
    require_parameters(compare_parameters(found, {"w": expected["w"], "b": expected["b"]}),
                       what=f"The w and b from {what}")
    for key in ("Y_prediction_train", "Y_prediction_test"):
        assert_same(found[key], expected[key], what=f"{key} from {what}")
    if not np.isfinite([as_number(c, what="a cost") for c in as_sequence(found["costs"], what="costs")]).all():
        raise CheckFailed(f"The costs from {what} are not all finite.", "")
