"""Public checks for assignment 4. Students can read these; the hidden ones use other data.

Training is stochastic and slow, so these checks do not compare whole training
runs. They recover known parameters within bounds, require accuracy thresholds
on held-out data within a time budget, and watch the training loops step by
step (see probes.py): at every optimizer step the gradients must be those of
the batch's mean loss at the parameters of that moment.
"""

import torch

from grader.checks import as_number, assert_same, check, working
from grader.errors import CheckFailed

from . import support
from .probes import dropout_net
from .support import (CLASSES, DIGITS_ACCURACY, INPUTS, TRAINING_BUDGET, check_device_and_mode, check_result, check_steps,
                      flat_parameter, require_accuracy, require_linear_data, require_pair, require_passes,
                      synthetic_pair, train_classifier, train_epoch_run)


# --- synthetic data -----------------------------------------------------------------------------


@check(points=1, functions="synthetic_data")
def synthetic_data_shapes(student):
    """synthetic_data(w, b, n) gives X of shape (n, len(w)) and y of shape (n, 1), float32"""
    w, b = torch.tensor([2.0, -3.4]), 4.2
    result = student.synthetic_data(w, b, 1000)
    with working("synthetic_data"):  # shapes and dtypes count only for data with the right statistics
        require_linear_data(*synthetic_pair(result, w, b, 1000, "synthetic_data(w, b, 1000)"), w, b, slack=3)
    X, y = result
    if tuple(y.shape) != (1000, 1):
        raise CheckFailed("y from synthetic_data has the wrong shape.",
                          f"Its shape is {tuple(y.shape)}; expected (1000, 1). Reshape y with y.reshape((-1, 1)).")
    for name, value in (("X", X), ("y", y)):
        if value.dtype != torch.float32:
            raise CheckFailed(f"{name} from synthetic_data has the wrong dtype.",
                              f"It is {str(value.dtype)[6:]}; expected float32.")


@check(points=2, functions="synthetic_data")
def synthetic_data_statistics(student):
    """synthetic_data draws X from N(0, 1) and adds N(0, 0.01²) noise to X·w + b"""
    w, b, n = torch.tensor([2.0, -3.4]), 4.2, 20000
    X, y = synthetic_pair(student.synthetic_data(w, b, n), w, b, n, f"synthetic_data(w, b, {n})")
    require_linear_data(X, y, w, b, slack=1)


# --- load_array -----------------------------------------------------------------------------------


@check(points=2, functions="load_array")
def load_array_batches_and_shuffling(student, rng):
    """load_array keeps the order when is_train=False and reshuffles every pass when is_train=True"""
    features = torch.as_tensor(rng.normal(0, 1, (25, 2)), dtype=torch.float32)
    labels = torch.arange(25, dtype=torch.float32).reshape(-1, 1)
    student.get("load_array")  # a missing function is named as such, not as the probe's error
    ordered = require_passes(student.probe("batches", [features, labels], 10, False, function="load_array"),
                             (features, labels))
    for number, passed in enumerate(ordered, 1):
        sizes = [len(batch[0]) for batch in passed]
        if sizes != [10, 10, 5]:
            raise CheckFailed("load_array(..., 10, is_train=False) gives the wrong batches.",
                              f"Batch sizes in pass {number} were {sizes}; expected [10, 10, 5].")
        order = torch.cat([batch[1] for batch in passed]).reshape(-1)
        if not torch.equal(order, labels.reshape(-1)):
            raise CheckFailed("load_array(..., is_train=False) shuffles the data.",
                              "Test data must keep its order; shuffle only when is_train is True.")
        assert_same(torch.cat([batch[0] for batch in passed]), features, what="the features load_array gives back")
    shuffled = require_passes(student.probe("batches", [features, labels], 10, True, function="load_array"),
                              (features, labels))
    orders = [torch.cat([batch[1] for batch in passed]).reshape(-1) for passed in shuffled]
    for order in orders:
        if not torch.equal(order.sort().values, labels.reshape(-1)):
            raise CheckFailed("load_array(..., is_train=True) loses or repeats samples.",
                              "Every sample must appear exactly once per pass.")
    if torch.equal(orders[0], labels.reshape(-1)) or torch.equal(orders[0], orders[1]):
        raise CheckFailed("load_array(..., is_train=True) does not reshuffle every pass.",
                          "Training data should come in a new random order in each epoch (shuffle=is_train).")


# --- linear regression ------------------------------------------------------------------------------


@check(points=2, functions="train_linear_regression", timeout=TRAINING_BUDGET)
def linear_regression_recovers_weights(student, rng):
    """train_linear_regression recovers w = [2, -3.4] and b = 4.2 to within 0.01"""
    true_w, true_b = [2.0, -3.4], 4.2
    features, labels = support.linear_data(rng, true_w, true_b, 1000)
    w, b = require_pair(student.train_linear_regression(features, labels), "train_linear_regression(features, labels)")
    w, b = flat_parameter(w, "w", 2), flat_parameter(b, "b", 1)[0]
    errors = (w - torch.tensor(true_w, dtype=torch.float64)).abs()
    if float(errors.max()) > 0.01 or abs(float(b) - true_b) > 0.01:
        raise CheckFailed("train_linear_regression does not recover w and b.",
                          f"It found w = {[round(v, 4) for v in w.tolist()]}, b = {float(b):.4f}; "
                          f"the data came from w = {true_w}, b = {true_b}.")


@check(points=1, functions="train_linear_regression", timeout=TRAINING_BUDGET)
def linear_regression_as_the_course_trains(student, rng):
    """train_linear_regression starts from N(0, 0.01²) weights and bias 0, and steps per batch of 10 for 3 epochs"""
    true_w, true_b = [2.0, -3.4], 4.2
    features, labels = support.linear_data(rng, true_w, true_b, 1000)
    record = support.watch_linear_regression(student, features, labels, {})
    with working("train_linear_regression"):  # how it trained counts only once what it learnt is right
        support.require_recovered(record["result"], true_w, true_b, "train_linear_regression(features, labels)")
    support.require_course_start(record["starts"], len(true_w))
    support.require_steps(record["steps"], 3, len(features), 10)


# --- softmax and cross-entropy ------------------------------------------------------------------------


@check(points=2, functions="softmax")
def softmax_rows(student, rng):
    """softmax(X) normalises each row, as torch.softmax(X, dim=1)"""
    X = torch.as_tensor(rng.normal(0, 2, (4, 5)), dtype=torch.float32)
    got = student.softmax(X)
    try:
        assert_same(got, torch.softmax(X, dim=1), what="softmax(X)")
    except CheckFailed as failed:
        if isinstance(got, torch.Tensor) and got.shape == X.shape:
            columns = got.double().sum(dim=0)
            if torch.allclose(columns, torch.ones_like(columns), atol=1e-5):
                raise CheckFailed(f"{failed.summary} Likely: it normalises columns, not rows.",
                                  f"{failed.details} Each column of the result sums to 1; each row should: "
                                  "sum over dim=1 with keepdim=True.") from None
        raise


@check(points=1, functions="softmax")
def softmax_large_logits(student):
    """softmax stays finite for logits around 1000"""
    X = torch.tensor([[1000.0, 1001.0, 999.0], [-1000.0, -1002.0, -1001.0]])
    got = student.softmax(X)
    if isinstance(got, torch.Tensor) and not torch.isfinite(got).all():
        raise CheckFailed("softmax(X) is not finite for large logits.",
                          "exp(1000) overflows. Subtract each row's largest value before exp: the result is the "
                          "same, and no exponent is positive.")
    assert_same(got, torch.softmax(X, dim=1), what="softmax(X) for logits around ±1000")


@check(points=2, functions="cross_entropy")
def cross_entropy_per_example(student, rng):
    """cross_entropy(y_hat, y) gives -log(y_hat[i, y[i]]) for every row i"""
    y_hat = torch.softmax(torch.as_tensor(rng.normal(0, 1, (6, 3)), dtype=torch.float32), dim=1)
    y = torch.as_tensor(rng.integers(0, 3, 6))
    expected = torch.nn.functional.nll_loss(torch.log(y_hat), y, reduction="none")
    got = student.cross_entropy(y_hat, y)
    if isinstance(got, torch.Tensor) and got.dim() == 0:
        raise CheckFailed("cross_entropy(y_hat, y) returns one number.",
                          "It should return one loss per example (shape (n,)); the training loop takes the mean.")
    assert_same(got, expected, what="cross_entropy(y_hat, y)")


# --- the training loop ------------------------------------------------------------------------------------


@check(points=3, functions="train_epoch")
def train_epoch_steps_and_result(student, rng, device):
    """train_epoch trains in training mode on `device`, with fresh mean-loss gradients at every step"""
    record, batches = train_epoch_run(student, rng, device, [INPUTS] * 6)
    check_device_and_mode(record, batches, device, training=True)
    check_steps(record, batches)
    mean_loss, accuracy, wrong_axis = support.epoch_result(record["forwards"], batches)
    check_result(record["results"][0], mean_loss, accuracy, wrong_axis, "train_epoch")


@check(points=1, functions="train_epoch")
def train_epoch_loss_goes_down(student, rng, device):
    """over five epochs the mean loss train_epoch returns goes down"""
    record, batches = train_epoch_run(student, rng, device, [INPUTS] * 6, epochs=5)
    with working("train_epoch"):  # a falling loss counts only when the loss returned is the epoch's
        mean_loss, accuracy, wrong_axis = support.epoch_result(record["forwards"][:len(batches)], batches)
        check_result(record["results"][0], mean_loss, accuracy, wrong_axis, "train_epoch")
    losses = [as_number(require_pair(r, "train_epoch")[0], what="the mean loss from train_epoch")
              for r in record["results"]]
    if not losses[-1] < 0.9 * losses[0]:
        raise CheckFailed("The loss does not go down.",
                          f"Over five epochs the mean loss went {', '.join(f'{v:.4g}' for v in losses)}. Are the "
                          "parameters updated (updater.step()) after every backward()?")


@check(points=3, functions="evaluate_accuracy")
def evaluate_accuracy_without_dropout_or_gradients(student, rng, device):
    """evaluate_accuracy runs in evaluation mode, without gradients, on `device`"""
    hidden = 16
    state = support.initial_state(dropout_net(INPUTS, hidden, CLASSES), int(rng.integers(2**31)))
    batches = support.telling_batches(rng, state, [INPUTS] * 5, hidden=hidden)
    student.get("evaluate_accuracy")  # a missing function is named as such, not as the probe's error
    record = student.probe("evaluate_accuracy", INPUTS, hidden, CLASSES, state, batches, device,
                           function="evaluate_accuracy", timeout=60)
    check_device_and_mode(record, batches, device, training=False)
    accuracy, wrong_axis = support.eval_accuracy(INPUTS, hidden, CLASSES, state, batches)
    check_result(record["result"], None, accuracy, wrong_axis, "evaluate_accuracy")


# --- classifiers ----------------------------------------------------------------------------------------------


@check(points=3, functions="train_spiral_classifier", timeout=TRAINING_BUDGET)
def spiral_classifier_accuracy(student, rng, device):
    """an MLP trained on the spiral data reaches test accuracy 0.95"""
    X, y = support.spiral(rng)
    model = train_classifier(student, "train_spiral_classifier", X, y, device)
    test_X, test_y = support.spiral(rng)
    require_accuracy(student, model, test_X, test_y, device, 0.95, "train_spiral_classifier")


@check(points=3, functions="train_digits_classifier", timeout=TRAINING_BUDGET)
def digits_classifier_accuracy(student, rng, device):
    """a dense network trained on 8x8 digits (classes renamed) reaches test accuracy 0.92"""
    (X, y), (test_X, test_y) = support.digits_split(rng)
    model = train_classifier(student, "train_digits_classifier", X, y, device)
    require_accuracy(student, model, test_X, test_y, device, DIGITS_ACCURACY, "train_digits_classifier")
