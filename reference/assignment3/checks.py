"""Hidden checks for assignment 3: other shapes, random weights, random data.

Expected values come from PyTorch (support.py), for the element-wise
functions from the reference solution, and for training on random data from
sgd.py (plain float arithmetic, pinned to PyTorch's by tests). Messages of
hidden checks name the wrong parameters and the likely mistake, never the
inputs or the values.
"""

import functools

import numpy as np

from grader.checks import as_number, assert_number, check, describe
from grader.diagnose import require_close, require_parameters
from grader.errors import CheckFailed

from . import sgd, support
from .support import PARAMETERS


@check(points=1, functions="sigmoid")
def sigmoid_any_shape(student, reference, rng):
    """sigmoid on 0-D, 1-D and 3-D arrays"""
    x = float(rng.normal(0, 10))
    assert_number(student.sigmoid(np.array(x)), reference.sigmoid(x), what="sigmoid(x) for a 0-D array")
    for shape in [(5,), (2, 3, 4)]:
        x = rng.normal(0, 10, shape)
        require_close(student.sigmoid(x), reference.sigmoid(x), what="sigmoid(x)")


@check(points=1, functions="deriv_sigmoid")
def deriv_sigmoid_large_inputs(student, reference):
    """deriv_sigmoid stays finite and correct for large |x|"""
    x = np.array([-800.0, -60.0, -5.0, 0.0, 5.0, 60.0, 800.0])
    require_close(student.deriv_sigmoid(x), reference.deriv_sigmoid(x), what="deriv_sigmoid(x)", atol=1e-300)


@check(points=1, functions="mse_loss")
def mse_loss_matrices(student, reference, rng):
    """mse_loss averages over every entry of 2-D arrays"""
    y_true, y_pred = rng.uniform(0, 1, (2, 4, 3))
    expected = reference.mse_loss(y_true, y_pred)
    require_close(as_number(student.mse_loss(y_true, y_pred), what="mse_loss(y_true, y_pred)"), expected,
                  what="mse_loss(y_true, y_pred)", factors={"12 (the number of entries): did you sum?": 12,
                                                            "3 (the columns): did you average one axis only?": 3,
                                                            "4 (the rows): did you average one axis only?": 4})


@check(points=2, functions="OurNeuralNetwork.feedforward")
def feedforward_random_weights(student, rng):
    """feedforward(x) matches PyTorch at random weights and inputs"""
    for _ in range(3):
        params = support.random_params(rng, scale=1.5)
        net = support.new_network(student, params)
        x = rng.normal(0, 3, 2)
        assert_number(net.call("feedforward", x), support.forward(params, x), what="feedforward(x)")


@check(points=3, functions="OurNeuralNetwork.gradients")
def gradients_random(student, rng):
    """gradients(x, y_true) matches PyTorch autograd at random weights and samples"""
    for _ in range(3):
        params = support.random_params(rng, scale=1.5)
        net = support.new_network(student, params)
        x, y = rng.normal(0, 3, 2), float(rng.integers(0, 2))
        entries = support.compare_gradients(net.call("gradients", x, y), params, x, y)
        require_parameters(entries, what="gradients(x, y_true)")


@check(points=3, functions="OurNeuralNetwork.train")
def train_random_data(student, rng):
    """train matches PyTorch's per-sample SGD on random data with another rate and epoch count"""
    data, labels = rng.normal(0, 2, (6, 2)), rng.integers(0, 2, 6).astype(float)
    start = support.random_params(rng, scale=0.5)
    net = support.new_network(student, start)
    net.call("train", data, labels, 0.05, 40, timeout=30)
    expected = sgd.train(start, data, labels, 0.05, 40)
    weights = support.read_weights(net)
    moved = {name: as_number(weights[name], what=name) - start[name] for name in PARAMETERS}
    support.require_training(moved, {name: expected[name] - start[name] for name in PARAMETERS},
                             lambda: support.moves_with_own_gradients(student, start, data, labels, 0.05, 40),
                             what="The weights after train on random data", rtol=1e-6, atol=1e-9,
                             wrong=lambda: support.wrong_gradients(student, start, data[0], labels[0]),
                             wording={"it is zero": "never changes during training: is its update line missing?"})


@check(points=3, functions="two_layer_loss_and_grads")
def two_layer_other_shapes(student, rng):
    """two_layer_loss_and_grads for other sizes, a single output and a single sample"""
    for n, d, h, o in [(7, 4, 3, 1), (1, 2, 5, 3)]:
        params, X, y = support.random_batch(rng, n, d, h, o)
        expected_loss, expected_grads = support.batch_loss_and_grads(params, X, y)
        result = student.two_layer_loss_and_grads(params, X, y)
        if not isinstance(result, (tuple, list)) or len(result) != 2 or not isinstance(result[1], dict):
            raise CheckFailed("two_layer_loss_and_grads must return a pair (loss, grads) with grads a dict.",
                              f"It returned {describe(result)}.")
        what = "two_layer_loss_and_grads(params, X, y)"
        require_close(as_number(result[0], what=f"the loss of {what}"), expected_loss, what=f"the loss of {what}")
        entries = support.compare_with_mistakes(result[1], expected_grads,
                                                functools.partial(support.batch_variants, params, X, y),
                                                factors=support.batch_factors(n, o))
        require_parameters(entries, what=f"The gradients of {what}")
