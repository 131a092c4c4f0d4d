"""Public checks for assignment 5. Students can read these; the hidden ones use other shapes, data and seeds.

Part A: values against closed forms (4x; c = k·a and ∂c/∂a = k), and what add_in_place does to the
objects it is given, watched in your process (probes.py). The rule `requires_autograd` in
assignment.yaml takes the points of a gradient that autograd did not compute.

Part B: propagate against PyTorch autograd in float64 and against central finite differences of your
own cost, with the likely mistake named; optimize against the grader's own gradient descent; predict's
threshold; model on scikit-learn's breast-cancer set. The rule `vectorised` takes the points of a
propagate or predict that loops over the samples in Python.
"""

import numpy as np
import torch

from grader.checks import as_number, as_sequence, assert_same, check, describe, working
from grader.diagnose import compare_parameters, require_close, require_parameters
from grader.errors import CheckFailed

from . import support
from .probes import timing_problem

# --- Part A: autograd ------------------------------------------------------------------------------


@check(points=2, functions="grad_of_two_xtx")
def grad_of_two_xtx_values(student, rng, device):
    """grad_of_two_xtx(x) is ∂(2xᵀx)/∂x = 4x, in x's shape and dtype"""
    for n, dtype in ((4, torch.float32), (7, torch.float64)):
        x = torch.as_tensor(rng.normal(0, 1, (n, 1)), dtype=dtype, device=device)
        require_close(student.grad_of_two_xtx(x), 4 * x, what=f"grad_of_two_xtx(x) for x of shape ({n}, 1), "
                      f"{str(dtype).removeprefix('torch.')}",
                      variants={"it is 2x, the gradient of xᵀx: the 2 in y = 2xᵀx is missing": 2 * x})


def _pair(result, what: str) -> tuple:
    c, grad = as_sequence(result, what=what, length=2, wanted="a pair (c, grad)")
    return c, grad


@check(points=2, functions="grad_through_control_flow")
def grad_through_control_flow_values(student, rng, device):
    """grad_through_control_flow(a) returns c = f(a) and ∂c/∂a = c / a, for a of either sign"""
    for a in (abs(rng.normal(0, 1)), -abs(rng.normal(0, 1))):
        tensor = torch.tensor([a], dtype=torch.float32, device=device)
        what = f"grad_through_control_flow(a) for a = tensor([{a:.6g}])"
        c, grad = _pair(student.grad_through_control_flow(tensor), what)
        expected_c, expected_grad = support.control_flow(tensor)
        assert_same(c, expected_c, what=f"c from {what}")
        require_close(grad, expected_grad, what=f"the gradient from {what}",
                      variants={"it is the gradient of the other branch of the if (c = b, or c = 100·b)":
                                expected_grad / 100 if a < 0 else expected_grad * 100})


@check(points=1, functions="grad_through_control_flow")
def grad_through_control_flow_edges(student, device):
    """grad_through_control_flow where the loop stops at a norm of exactly 1000, or never runs"""
    for a in (1000 / 1024, -1000 / 1024, 600.0, -2e-3):
        tensor = torch.tensor([a], dtype=torch.float32, device=device)
        what = f"grad_through_control_flow(a) for a = tensor([{a:g}])"
        c, grad = _pair(student.grad_through_control_flow(tensor), what)
        expected_c, expected_grad = support.control_flow(tensor)
        assert_same(c, expected_c, what=f"c from {what} (the loop doubles b while its norm is below 1000)")
        assert_same(grad, expected_grad, what=f"the gradient from {what}")


@check(points=1, functions="add_in_place")
def add_in_place_values(student, rng, device):
    """add_in_place(x, y) returns x + y"""
    x, y = (torch.as_tensor(rng.normal(0, 1, (3, 4)), dtype=torch.float32, device=device) for _ in range(2))
    assert_same(student.add_in_place(x, y), x + y, what="add_in_place(x, y) for x, y of shape (3, 4)")


def _effect(student, x, y, what):
    """What add_in_place did in your process, once it is shown to return x + y."""
    with working("add_in_place"):
        assert_same(student.add_in_place(x, y.clone()), x + y, what=what)
    return student.probe("add_in_place_effect", x, y, function="add_in_place")


@check(points=2, functions="add_in_place")
def add_in_place_keeps_y(student, rng, device):
    """add_in_place(x, y) leaves the sum in y itself: the same object over the same memory, and returns it"""
    x, y = (torch.as_tensor(rng.normal(0, 1, (2, 5)), dtype=torch.float32, device=device) for _ in range(2))
    what = "add_in_place(x, y) for x, y of shape (2, 5)"
    effect = _effect(student, x, y, what)
    if not isinstance(effect, dict):
        raise CheckFailed(f"{what} could not be watched.", f"The probe returned {describe(effect)}.")
    if isinstance(effect["y"], torch.Tensor) and torch.equal(effect["y"], y):
        raise CheckFailed(f"After {what}, y is as it was.",
                          "The sum went into a new tensor (x + y) and y never received it. Add into y itself: "
                          "y += x, or y.add_(x).")
    assert_same(effect["y"], x + y, what=f"y after {what}")
    if not effect["same_memory"]:
        raise CheckFailed(f"After {what}, y holds the sum in new memory.",
                          "y.data_ptr() changed: the sum was computed into a new tensor and y was pointed at it "
                          "(y.data = ..., y.set_(...)). Write into y's own memory: y += x, or y.add_(x).")
    if not effect["returned_y"]:
        raise CheckFailed(f"{what} does not return y itself.",
                          "The value returned is another object (id(result) != id(y)); return y.")
    if not effect["x_unchanged"]:
        raise CheckFailed(f"{what} changed x.", "Only y may change; x must be left as it was.")


@check(points=2, functions="add_in_place")
def add_in_place_allocates_nothing(student, rng, device):
    """add_in_place(x, y) makes no new tensor on the way (y[:] = x + y makes one for x + y first)"""
    x, y = (torch.as_tensor(rng.normal(0, 1, (4, 3)), dtype=torch.float32, device=device) for _ in range(2))
    what = "add_in_place(x, y) for x, y of shape (4, 3)"
    effect = _effect(student, x, y, what)
    if not isinstance(effect, dict):
        raise CheckFailed(f"{what} could not be watched.", f"The probe returned {describe(effect)}.")
    if effect["new_tensors"]:
        raise CheckFailed(f"{what} allocated a new tensor for the result.",
                          f"Seen: {'; '.join(effect['new_tensors'])}. x + y computes a new tensor before anything "
                          "is written into y, so y[:] = x + y still costs the memory of a whole result "
                          "(运算的内存开销). "
                          "An in-place operation writes straight into y: y += x, y.add_(x) or "
                          "torch.add(x, y, out=y).")


# --- Part B: logistic regression -------------------------------------------------------------------


@check(points=1, functions="sigmoid")
def sigmoid_values(student, rng):
    """sigmoid(z) matches torch.sigmoid element by element, for a row and for a matrix"""
    for shape in ((1, 6), (3, 4)):
        z = rng.normal(0, 3, shape)
        assert_same(student.sigmoid(z), torch.sigmoid(torch.from_numpy(z)).numpy(),
                    what=f"sigmoid(z) for z of shape {shape}")


@check(points=1, functions="sigmoid")
def sigmoid_large_inputs(student):
    """sigmoid stays finite and correct for large |z|"""
    z = np.array([[-1000.0, -100.0, -30.0, 0.0, 30.0, 100.0, 1000.0]])
    result = student.sigmoid(z)
    if isinstance(result, np.ndarray) and result.dtype.kind == "f" and not np.isfinite(result).all():
        raise CheckFailed("sigmoid(z) is not finite for large |z|.",
                          f"sigmoid({z.tolist()}) gave {result.tolist()}. exp(z) / (1 + exp(z)) is inf / inf for "
                          "large z: use 1 / (1 + exp(-z)) where z >= 0, and exp(z) / (1 + exp(z)) where z < 0.")
    assert_same(result, torch.sigmoid(torch.from_numpy(z)).numpy(), what=f"sigmoid(z) for z = {z.tolist()}",
                atol=1e-300)


@check(points=1, functions="initialize_with_zeros")
def initialize_with_zeros_values(student):
    """initialize_with_zeros(dim) returns w of shape (dim, 1) holding zeros, and b = 0.0"""
    for dim in (2, 7):
        support.require_zeros(student.initialize_with_zeros(dim), dim, what=f"initialize_with_zeros({dim})")


@check(points=3, functions="propagate")
def propagate_matches_autograd(student, rng):
    """propagate's cost, dw and db match PyTorch autograd for n_x = 4 features and m = 7 samples"""
    w, b, X, Y = support.problem(rng, 4, 7)
    support.require_propagate(student.propagate(w, b, X, Y), w, b, X, Y,
                              what="propagate(w, b, X, Y) with n_x = 4, m = 7")


@check(points=2, functions="propagate")
def propagate_matches_your_cost(student, rng):
    """propagate's dw and db are the slopes of your own cost (central finite differences)"""
    w, b, X, Y = support.problem(rng, 3, 5)
    what = "propagate(w, b, X, Y) with n_x = 3, m = 5"
    with working("propagate"):  # the slope of a wrong cost says nothing about the gradients
        cost, _, _ = support.loss_and_grads(w, b, X, Y)
        grads, got = support.unpack_propagate(student.propagate(w, b, X, Y), what)
        require_close(as_number(got, what=f"the cost of {what}"), cost, what=f"the cost of {what}")
    step = 1e-6

    def own_cost(w_, b_):
        return as_number(support.unpack_propagate(student.propagate(w_, b_, X, Y), what)[1], what=f"the cost of {what}")

    slopes = np.zeros_like(w)
    for i in range(w.shape[0]):
        shift = np.zeros_like(w)
        shift[i, 0] = step
        slopes[i, 0] = (own_cost(w + shift, b) - own_cost(w - shift, b)) / (2 * step)
    numeric = {"dw": slopes, "db": (own_cost(w, b + step) - own_cost(w, b - step)) / (2 * step)}
    entries = support.compare_gradients(grads, numeric, m=X.shape[1], rtol=1e-5)
    try:
        require_parameters(entries, what=f"The gradients of {what}", wording=support.WORDING)
    except CheckFailed as failed:
        raise CheckFailed(f"{failed.summary} Your gradients disagree with the slope of your own cost, which is right, "
                          "so the bug is in dw or db.", failed.details, failed.diagnosis) from None


@check(points=1, functions="propagate")
def propagate_saturated(student, rng):
    """propagate's cost stays finite where predictions are exactly 0 or 1 (σ(40) is 1.0 in float64)"""
    w, b, X, Y = support.saturated_problem(rng, 3, 8)
    support.require_propagate(student.propagate(w, b, X, Y), w, b, X, Y, saturated=True,
                              what="propagate(w, b, X, Y) where wᵀx + b is 40 or −800 for three samples")


@check(points=1, functions="propagate")
def propagate_at_two_sizes(student, rng):
    """propagate is right for m = 10 and m = 100 samples (a Python loop over them costs all of propagate's points)"""
    for m in (10, 100):
        w, b, X, Y = support.problem(rng, 3, m)
        support.require_propagate(student.propagate(w, b, X, Y), w, b, X, Y,
                                  what=f"propagate(w, b, X, Y) with n_x = 3, m = {m}")


TIMED_FEATURES, TIMED_SAMPLES, TIMED_ROUNDS, TIMED_BUDGET = 20, 100_000, 5, 1.0  # budget: seconds of the student's runs
SPEED_FACTOR = 10.0  # how many times longer than the same work with whole arrays propagate may take


@check(points=2, functions="propagate", timeout=60)
def propagate_speed(student, rng):
    """propagate on m = 100,000 samples takes at most 10 times as long as the same work done with whole arrays"""
    with working("propagate"):
        w, b, X, Y = support.problem(rng, 3, 5)
        support.require_propagate(student.propagate(w, b, X, Y), w, b, X, Y, what="propagate(w, b, X, Y)")
    seed = int(rng.integers(2**31))
    record = student.probe("propagate_timing", seed, TIMED_FEATURES, TIMED_SAMPLES, TIMED_ROUNDS, TIMED_BUDGET,
                           function="propagate", timeout=60)
    if not isinstance(record, dict):
        raise CheckFailed("propagate could not be timed.", f"The probe returned {describe(record)}.")
    what = f"propagate(w, b, X, Y) with n_x = {TIMED_FEATURES}, m = {TIMED_SAMPLES:,}"
    support.require_propagate(record["result"], *timing_problem(seed, TIMED_FEATURES, TIMED_SAMPLES), what=what)
    yours, same = min(record["yours"]), min(record["same_work"])
    if yours > SPEED_FACTOR * same:
        raise CheckFailed(f"{what} took {yours * 1000:.0f} ms, {yours / same:.0f} times as long as the same work done "
                          f"with whole arrays ({same * 1000:.1f} ms); at most {SPEED_FACTOR:g} times is accepted.",
                          "Timed side by side in your process, the fastest of "
                          f"{len(record['yours'])} runs each. A Python loop over 100,000 samples runs 100,000 times "
                          "slower steps; matrix products and element-wise operations run them in compiled code "
                          "(向量化, vectorisation).")


@check(points=3, functions="optimize")
def optimize_matches_gradient_descent(student, rng):
    """optimize(w, b, X, Y, 250, 0.1) ends with the w, b and last gradients of the grader's gradient descent"""
    w, b, X, Y = support.problem(rng, 3, 6)
    iterations, rate = 250, 0.1
    what = f"optimize(w, b, X, Y, {iterations}, {rate})"
    params, grads, _ = support.unpack_optimize(student.optimize(w, b, X, Y, iterations, rate), what)
    expected = support.descent(w, b, X, Y, iterations, rate)
    ascent = support.descent(w, b, X, Y, iterations, -rate)
    entries = compare_parameters(params, {"w": expected["w"], "b": expected["b"]},
                                 variants={support.ASCENT: {"w": ascent["w"], "b": ascent["b"]}})
    if not all(e.ok for e in entries):
        own = student.probe("descent_with_own_propagate", w, b, X, Y, iterations, rate, function="optimize")
        if isinstance(own, dict) and all(e.ok for e in compare_parameters(params, {"w": own["w"], "b": own["b"]})):
            raise CheckFailed(f"{what} follows gradient descent, but with the wrong gradients: your propagate is "
                              "wrong, so every step is. Its own checks say what to fix.",
                              "Your w and b are what gradient descent with your propagate gives.")
    require_parameters(entries, what=f"The w and b after {what}", wording=support.WORDING)
    require_parameters(support.compare_gradients(grads, {"dw": expected["dw"], "db": expected["db"]}, m=6),
                       what=f"The grads returned by {what} (those of its last step, before the last update)",
                       wording=support.WORDING)


@check(points=1, functions="optimize")
def optimize_records_costs(student, rng):
    """optimize records the cost before the updates of iterations 0, 100, 200, ... (4 costs for 301 iterations)"""
    w, b, X, Y = support.problem(rng, 2, 5)
    iterations, rate = 301, 0.05
    what = f"optimize(w, b, X, Y, {iterations}, {rate})"
    _, _, costs = support.unpack_optimize(student.optimize(w, b, X, Y, iterations, rate), what)
    expected = support.descent(w, b, X, Y, iterations, rate)["costs"]
    got = as_sequence(costs, what=f"the costs of {what}")
    if len(got) != len(expected):
        raise CheckFailed(f"{what} recorded {len(got)} costs; expected {len(expected)}.",
                          "Record the cost when the iteration number is a multiple of 100, counting from 0.")
    assert_same([as_number(c, what=f"costs[{i}] of {what}") for i, c in enumerate(got)], expected,
                what=f"the costs of {what}")


@check(points=2, functions="predict")
def predict_values(student, rng):
    """predict(w, b, X) is 1.0 where σ(wᵀX + b) > 0.5, else 0.0, for m = 10 and m = 100 samples"""
    for m in (10, 100):
        w, b, X, _ = support.problem(rng, 3, m, scale=1.0)
        assert_same(student.predict(w, b, X), support.predictions(w, b, X), what=f"predict(w, b, X) with m = {m}")


@check(points=1, functions="predict")
def predict_threshold(student, rng):
    """predict gives 0.0 where σ(wᵀX + b) is exactly 0.5, and 1.0 just above it"""
    X = rng.normal(0, 1, (3, 6))
    X[0, :3] = (0.0, 1e-9, -1e-9)  # with w = (1, 0, 0) and b = 0, z is exactly these
    w = np.array([[1.0], [0.0], [0.0]])
    assert_same(student.predict(w, 0.0, X), support.predictions(w, 0.0, X),
                what="predict(w, 0, X) where z = wᵀX + b is 0, 1e-9 and -1e-9 for the first three samples")


MODEL_TIMEOUT = 60  # seconds model may train for: a vectorised one needs well under a second


@check(points=3, functions="model", timeout=MODEL_TIMEOUT)
def model_on_breast_cancer(student, rng, evidence):
    """model(X_train, Y_train, X_test, Y_test) classifies at least 95% of the breast-cancer test set"""
    (X_train, Y_train, X_test, Y_test), grader = support.cancer_split(rng)
    result = student.model(X_train, Y_train, X_test, Y_test)
    what = (f"model(X_train, Y_train, X_test, Y_test) with {X_train.shape[1]} training and {X_test.shape[1]} "
            "test tumours")
    found = support.unpack_model(result, what, X_train.shape, X_test.shape)
    costs = [as_number(c, what=f"a cost from {what}") for c in as_sequence(found["costs"], what=f"costs from {what}")]
    evidence.curve("your cost", costs, x_label="iteration", x_step=100)
    evidence.curve("gradient descent", grader["costs"], x_label="iteration", x_step=100)
    for split, X in (("test", X_test), ("train", X_train)):
        predicted = found[f"Y_prediction_{split}"]
        support.require_predictions_of(found["w"], found["b"], X, predicted, what=f"Y_prediction_{split} from {what}")
    score = support.accuracy(found["Y_prediction_test"], Y_test)
    if score < support.CANCER_ACCURACY:
        reached = support.accuracy(support.predictions(grader["w"], grader["b"], X_test), Y_test)
        raise CheckFailed(f"{what} classifies {score:.1%} of the test set; at least "
                          f"{support.CANCER_ACCURACY:.0%} is asked for.",
                          f"Gradient descent from zeros with the default 2000 iterations and learning rate 0.005 "
                          f"reaches {reached:.1%} on this split. Compare your costs with its costs in the plot.")


@check(points=2, functions="model")
def model_trains_by_gradient_descent(student, rng):
    """model(X_train, Y_train, X_test, Y_test, 300, 0.1) returns the w, b and costs of gradient descent from zeros"""
    _, _, X, Y = support.problem(rng, 5, 40)
    _, _, X_test, _ = support.problem(rng, 5, 12)
    what = "model(X_train, Y_train, X_test, Y_test, 300, 0.1) with n_x = 5, 40 training and 12 test samples"
    found = support.unpack_model(student.model(X, Y, X_test, np.zeros((1, 12)), 300, 0.1), what, X.shape,
                                 X_test.shape)
    expected = support.descent(np.zeros((5, 1)), 0.0, X, Y, 300, 0.1)
    require_parameters(compare_parameters(found, {"w": expected["w"], "b": expected["b"]}),
                       what=f"The w and b from {what}", wording=support.WORDING)
    costs = [as_number(c, what=f"a cost from {what}") for c in as_sequence(found["costs"], what=f"costs from {what}")]
    assert_same(costs, expected["costs"], what=f"the costs from {what}")
