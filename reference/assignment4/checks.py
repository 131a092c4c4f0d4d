"""Hidden checks for assignment 4: other weights, uneven batches, other spirals and digit splits."""

import torch

from grader.checks import assert_same, check, working
from grader.errors import CheckFailed

from . import support
from .probes import dropout_net
from .support import (CLASSES, DIGITS_ACCURACY, INPUTS, TRAINING_BUDGET, check_device_and_mode, check_result, check_steps,
                      flat_parameter, require_accuracy, require_linear_data, require_pair, require_passes,
                      synthetic_pair, train_classifier, train_epoch_run)


@check(points=1, functions="synthetic_data")
def synthetic_data_three_features(student):
    """synthetic_data with three features and a negative bias"""
    w, b, n = torch.tensor([1.5, -0.5, 3.0]), -2.0, 20000
    X, y = synthetic_pair(student.synthetic_data(w, b, n), w, b, n, "synthetic_data(w, b, n)")
    require_linear_data(X, y, w, b, slack=1)


@check(points=1, functions="load_array")
def load_array_uneven_batches(student, rng):
    """load_array with a batch size that does not divide the data, and other features"""
    features = torch.as_tensor(rng.normal(0, 1, (17, 3)), dtype=torch.float32)
    labels = torch.arange(17, dtype=torch.float32).reshape(-1, 1)
    student.get("load_array")  # a missing function is named as such, not as the probe's error
    passes = student.probe("batches", [features, labels], 4, False, function="load_array")
    for passed in require_passes(passes, (features, labels)):
        if [len(batch[0]) for batch in passed] != [4, 4, 4, 4, 1]:
            raise CheckFailed("load_array(..., 4, is_train=False) gives the wrong batches.")
        assert_same(torch.cat([batch[0] for batch in passed]), features, what="the features load_array gives back")
        assert_same(torch.cat([batch[1] for batch in passed]), labels, what="the labels load_array gives back")
    shuffled = require_passes(student.probe("batches", [features, labels], 4, True, function="load_array"),
                              (features, labels))
    orders = [torch.cat([batch[1] for batch in passed]).reshape(-1) for passed in shuffled]
    if not all(torch.equal(order.sort().values, labels.reshape(-1)) for order in orders):
        raise CheckFailed("load_array(..., is_train=True) loses or repeats samples.")
    if torch.equal(orders[0], orders[1]):
        raise CheckFailed("load_array(..., is_train=True) does not reshuffle every pass.")


@check(points=2, functions="train_linear_regression", timeout=TRAINING_BUDGET)
def linear_regression_hidden_weights(student, rng):
    """train_linear_regression recovers other weights, with three features"""
    true_w, true_b = [1.5, -0.5, 3.0], -2.0
    features, labels = support.linear_data(rng, true_w, true_b, 1000)
    w, b = require_pair(student.train_linear_regression(features, labels), "train_linear_regression")
    w, b = flat_parameter(w, "w", 3), flat_parameter(b, "b", 1)[0]
    if float((w - torch.tensor(true_w, dtype=torch.float64)).abs().max()) > 0.01 or abs(float(b) - true_b) > 0.01:
        raise CheckFailed("train_linear_regression does not recover the weights of other data.")


@check(points=1, functions="train_linear_regression", timeout=TRAINING_BUDGET)
def linear_regression_other_epochs_and_batches(student, rng):
    """train_linear_regression honours num_epochs, batch_size and lr"""
    true_w, true_b = [-1.0, 2.5, 0.5], 1.0
    features, labels = support.linear_data(rng, true_w, true_b, 600)
    options = {"num_epochs": int(rng.integers(2, 5)), "batch_size": int(rng.choice([16, 25, 40])), "lr": 0.2}
    record = support.watch_linear_regression(student, features, labels, options)
    with working("train_linear_regression"):
        support.require_recovered(record["result"], true_w, true_b, "train_linear_regression")
    support.require_steps(record["steps"], options["num_epochs"], len(features), options["batch_size"])


@check(points=1, functions=["softmax", "cross_entropy"])
def softmax_and_cross_entropy_float64(student, rng):
    """softmax and cross_entropy keep float64 and match PyTorch"""
    X = torch.as_tensor(rng.normal(0, 3, (5, 7)))
    y = torch.as_tensor(rng.integers(0, 7, 5))
    probabilities = student.softmax(X)
    assert_same(probabilities, torch.softmax(X, dim=1), what="softmax(X)")
    assert_same(student.cross_entropy(torch.softmax(X, dim=1), y),
                torch.nn.functional.cross_entropy(X, y, reduction="none"), what="cross_entropy(y_hat, y)")


@check(points=2, functions="train_epoch")
def train_epoch_uneven_batches(student, rng, device):
    """train_epoch averages the loss over examples when the last batch is smaller"""
    record, batches = train_epoch_run(student, rng, device, [CLASSES, CLASSES + 3, 2])
    check_device_and_mode(record, batches, device, training=True)
    check_steps(record, batches)
    mean_loss, accuracy, wrong_axis = support.epoch_result(record["forwards"], batches)
    check_result(record["results"][0], mean_loss, accuracy, wrong_axis, "train_epoch")


@check(points=2, functions="evaluate_accuracy")
def evaluate_accuracy_other_network(student, rng, device):
    """evaluate_accuracy on a wider network with dropout and batches of uneven size"""
    hidden = 24
    state = support.initial_state(dropout_net(INPUTS, hidden, CLASSES), int(rng.integers(2**31)))
    batches = support.classification_batches(rng, INPUTS, CLASSES, [7, INPUTS, 3])
    student.get("evaluate_accuracy")  # a missing function is named as such, not as the probe's error
    record = student.probe("evaluate_accuracy", INPUTS, hidden, CLASSES, state, batches, device,
                           function="evaluate_accuracy", timeout=60)
    check_device_and_mode(record, batches, device, training=False)
    accuracy, wrong_axis = support.eval_accuracy(INPUTS, hidden, CLASSES, state, batches)
    check_result(record["result"], None, accuracy, wrong_axis, "evaluate_accuracy")


@check(points=2, functions="train_spiral_classifier", timeout=TRAINING_BUDGET)
def spiral_classifier_other_spirals(student, rng, device):
    """a spiral classifier trained on other spirals, with more noise, reaches test accuracy 0.92"""
    X, y = support.spiral(rng, per_class=150, noise=0.12)
    model = train_classifier(student, "train_spiral_classifier", X, y, device)
    test_X, test_y = support.spiral(rng, per_class=150, noise=0.12)
    # More noise, fewer points: the bundled example, trained well on the public spirals, scored 0.947 here once in
    # seventeen runs (an unlucky start), so this bar sits below the public one.
    require_accuracy(student, model, test_X, test_y, device, 0.92, "train_spiral_classifier")


@check(points=2, functions="train_digits_classifier", timeout=TRAINING_BUDGET)
def digits_classifier_other_split(student, rng, device):
    """a digits classifier trained on another split reaches test accuracy 0.92"""
    (X, y), (test_X, test_y) = support.digits_split(rng, test_fraction=0.25)
    model = train_classifier(student, "train_digits_classifier", X, y, device)
    require_accuracy(student, model, test_X, test_y, device, DIGITS_ACCURACY, "train_digits_classifier")
