"""Public checks for assignment 3. Students can read these; the hidden ones use other weights and data.

Expected values come from the same network in PyTorch, float64, with autograd
for gradients and optim.SGD for training (see support.py). When a gradient is
wrong, the check names each wrong parameter and the likely mistake.
"""

import numpy as np
import torch

from grader.checks import as_number, assert_number, assert_same, check, describe, working
from grader.diagnose import compare_parameters, require_close, require_parameters
from grader.errors import CheckFailed

from . import support
from .support import DATA, LABELS, PARAMETERS, START

STEP_WORDING = {
    "it is zero": "never changes: is its update line missing?",
    "the sign is flipped": "moves the wrong way: the update adds learn_rate × gradient instead of subtracting it",
}


# --- sigmoid, its derivative, the loss ------------------------------------------------------


@check(points=2, functions="sigmoid")
def sigmoid_values(student, rng):
    """sigmoid matches torch.sigmoid on numbers and arrays"""
    for value in (0.0, 1.5, -2.25):
        assert_number(student.sigmoid(value), float(torch.sigmoid(torch.tensor(value, dtype=torch.float64))),
                      what=f"sigmoid({value})")
    x = rng.normal(0, 3, (3, 4))
    assert_same(student.sigmoid(x), torch.sigmoid(torch.from_numpy(x)).numpy(), what="sigmoid(x) for x of shape (3, 4)")


@check(points=1, functions="sigmoid")
def sigmoid_large_inputs(student):
    """sigmoid stays finite and correct for large |x|"""
    x = np.array([-1000.0, -100.0, -30.0, 0.0, 30.0, 100.0, 1000.0])
    result = student.sigmoid(x)
    if isinstance(result, np.ndarray) and result.dtype.kind == "f" and not np.isfinite(result).all():
        raise CheckFailed("sigmoid(x) is not finite for large |x|.",
                          f"sigmoid({x.tolist()}) gave {result.tolist()}. exp(-x) overflows for large negative x: "
                          "for x < 0 use exp(x) / (1 + exp(x)) instead.")
    assert_same(result, torch.sigmoid(torch.from_numpy(x)).numpy(), what=f"sigmoid(x) for x = {x.tolist()}",
                atol=1e-300)


@check(points=2, functions="deriv_sigmoid")
def deriv_sigmoid_values(student, rng):
    """deriv_sigmoid(x) is σ(x)(1 − σ(x)), the slope of sigmoid at x"""
    x = rng.normal(0, 2, (2, 5))
    tracked = torch.from_numpy(x).requires_grad_(True)
    torch.sigmoid(tracked).sum().backward()
    s = 1 / (1 + np.exp(-x))
    require_close(student.deriv_sigmoid(x), tracked.grad.numpy(), what="deriv_sigmoid(x) for x of shape (2, 5)",
                  variants={support.DERIV_AS_Z: x * (1 - x), "it returns σ(x) itself, not its derivative": s})


@check(points=1, functions="mse_loss")
def mse_loss_values(student, rng):
    """mse_loss is the mean of the squared errors"""
    for n in (4, 7):
        y_true, y_pred = rng.uniform(0, 1, n), rng.uniform(0, 1, n)
        expected = float(((y_true - y_pred) ** 2).mean())
        got = student.mse_loss(y_true, y_pred)
        require_close(as_number(got, what="mse_loss(y_true, y_pred)"), expected,
                      what=f"mse_loss(y_true, y_pred) for {n} values",
                      factors={f"{n} (the number of values): did you sum instead of averaging?": n},
                      variants={"it is the root of the mean square (RMSE)": np.sqrt(expected),
                                "the errors are not squared": float(np.abs(y_true - y_pred).mean())})


# --- the network ----------------------------------------------------------------------------


@check(points=1, functions="OurNeuralNetwork")
def network_starts_at_one_tenth(student):
    """OurNeuralNetwork() sets w1 ... w6 and b1 ... b3 to 0.1"""
    net = student.OurNeuralNetwork()
    weights = support.read_weights(net)
    for name in PARAMETERS:
        value = weights[name]
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.floating)):
            raise CheckFailed(f"OurNeuralNetwork().{name} is not a number.",
                              f"It is {describe(value)}; each weight and bias is a single float.")
        assert_number(value, 0.1, what=f"OurNeuralNetwork().{name}")


@check(points=1, functions="OurNeuralNetwork.feedforward")
def feedforward_at_start(student):
    """feedforward(x) matches PyTorch for the course's people, with every weight 0.1"""
    net = student.OurNeuralNetwork()
    for x in [*DATA, np.array([-7.0, -3.0]), np.array([20.0, 2.0])]:
        assert_number(net.call("feedforward", x), support.forward(START, x), what=f"feedforward({x.tolist()})")


@check(points=2, functions="OurNeuralNetwork.gradients")
def gradients_at_start(student):
    """gradients(x, y_true) matches PyTorch autograd for the course's people, with every weight 0.1"""
    net = student.OurNeuralNetwork()
    for x, y in zip(DATA, LABELS):
        entries = support.compare_gradients(net.call("gradients", x, float(y)), START, x, y)
        require_parameters(entries, what=f"gradients({x.tolist()}, {y:g})")


@check(points=1, functions=["OurNeuralNetwork.gradients", "OurNeuralNetwork.feedforward"])
def gradients_match_your_feedforward(student, rng):
    """gradients(x, y_true) matches central finite differences of your own feedforward"""
    params = support.random_params(rng)
    net = support.new_network(student, params)
    x, y = rng.normal(0, 1, 2), float(rng.uniform())
    with working("OurNeuralNetwork.feedforward"):  # the slope of a wrong feedforward says nothing about gradients
        assert_number(net.call("feedforward", x), support.forward(params, x), what="feedforward(x)")
    analytic = net.call("gradients", x, y)
    step = 1e-6
    nudged = student.probe("feedforward_nudged", net, params, x, step, function="OurNeuralNetwork.feedforward")
    numeric = {}
    for name in PARAMETERS:
        outputs = [as_number(output, what="feedforward(x)") for output in nudged[name]]
        _same_network(outputs, params, name, step, x)
        up, down = ((y - output) ** 2 for output in outputs)
        numeric[name] = (up - down) / (2 * step)
    entries = compare_parameters(analytic, numeric, rtol=1e-5)
    try:
        require_parameters(entries, what="gradients(x, y_true)")
    except CheckFailed as failed:
        raise CheckFailed(f"{failed.summary} Your gradients disagree with the slope of your own feedforward, "
                          "which is right, so the bug is in gradients.", failed.details, failed.diagnosis) from None


def _same_network(outputs: list[float], params: dict[str, float], name: str, step: float, x) -> None:
    """feedforward at the nudged weights gave what the network gives there.

    The slopes are only the slope of your feedforward if it is the network's output at every weight,
    not only at the first: a feedforward that also depends on what it saw before (say, the weights
    gradients was last called with) could agree with any gradient. The central difference needs the
    outputs to about 1e-11 anyway, so the same precision is asked of them here.
    """
    for sign, output in zip((1, -1), outputs):
        expected = support.forward({**params, name: params[name] + sign * step}, x)
        if abs(output - expected) > 1e-10 + 1e-9 * abs(expected):
            raise CheckFailed(
                f"feedforward(x) with {name} moved by {sign * step:+g} returned {output!r}, but the network with "
                f"those weights outputs {expected!r}: the slope of your feedforward can only be measured if its "
                "output depends on the weights and x alone.",
                "Does feedforward read anything else, such as values kept from an earlier call?")


EPOCHS, EVERY = 200, 10


@check(points=3, functions="OurNeuralNetwork.train")
def train_on_the_course_data(student, evidence):
    """train(data, all_y_trues, 0.1, 200) ends with the same weights as PyTorch's per-sample SGD"""
    net = student.OurNeuralNetwork()
    net.call("train", DATA, LABELS, 0.1, EPOCHS, timeout=30)
    weights = _numbers(support.read_weights(net))
    expected, reference_curve = support.train(START, DATA, LABELS, 0.1, EPOCHS, every=EVERY)
    moved = {name: weights[name] - START[name] for name in PARAMETERS}
    expected_moves = {name: expected[name] - START[name] for name in PARAMETERS}
    try:
        with evidence.grader_calls():  # telling train's mistakes from its gradients' calls gradients again
            support.require_training(
                moved, expected_moves,
                lambda: support.moves_with_own_gradients(student, START, DATA, LABELS, 0.1, EPOCHS),
                what="The weights after train(data, all_y_trues)", rtol=1e-6, atol=1e-9, wording=TRAINING_WORDING,
                wrong=lambda: support.wrong_gradients(student, START, DATA[0], LABELS[0]))
    except CheckFailed as failed:
        # Where the weights are wrong, the two loss curves show when the training went its own way. A right
        # train's curve is the reference's: running its training again to draw it would cost another 200 epochs.
        with evidence.grader_calls():  # what train prints while the grader draws its curve is not the student's run
            evidence.curve("your loss", _student_curve(student, EPOCHS, EVERY), x_label="epoch", x_step=EVERY)
        evidence.curve("reference", reference_curve, x_label="epoch", x_step=EVERY)
        raise CheckFailed(failed.summary, "Changes from the start value 0.1:\n" + failed.details,
                          failed.diagnosis) from None
    # A right train took the reference's path (its weights agree to 1e-9 after 200 epochs): its loss curve is
    # drawn from the reference's run, which costs nothing, and says so.
    evidence.curve(MATCHED_LOSS, reference_curve, x_label="epoch", x_step=EVERY)


MATCHED_LOSS = "loss during training (PyTorch's run, which yours matched)"


TRAINING_WORDING = {"it is zero": "never changes during training: is its update line missing?"}


def _student_curve(student, epochs: int, every: int) -> list[float]:
    """The loss of the student's network on the course data, every `every` epochs of its own training.

    A new network trains in calls of `every` epochs each, in the student's process (one request:
    probes.py); the losses are computed here.
    """
    seen = student.probe("weights_while_training", DATA, LABELS, 0.1, epochs, every, function="OurNeuralNetwork.train",
                         timeout=60)
    return [support.network_loss(_numbers(weights), DATA, LABELS) for weights in seen]


def _numbers(weights: dict) -> dict[str, float]:
    return {name: as_number(value, what=f"OurNeuralNetwork.{name}") for name, value in weights.items()}


@check(points=2, functions="OurNeuralNetwork.train")
def train_one_step(student, rng, evidence):
    """one epoch on one sample moves every weight by -learn_rate × its gradient"""
    params = support.random_params(rng)
    x, y, rate = rng.normal(0, 1, 2), float(rng.uniform()), 0.25  # 1/rate is not 2: the two mistakes stay apart
    net = support.new_network(student, params)
    net.call("train", np.array([x]), np.array([y]), rate, 1)
    after = _numbers(support.read_weights(net))
    moved = {name: after[name] - params[name] for name in PARAMETERS}
    grads = support.gradients(params, x, y)
    expected = {name: -rate * grads[name] for name in PARAMETERS}
    factors = {f"1/{rate:g} (= 1/learn_rate): is learn_rate left out of the update?": 1 / rate}
    with evidence.grader_calls():  # the grader's own calls of gradients, to tell train's mistakes from its
        support.require_training(moved, expected,
                                 lambda: support.moves_with_own_gradients(student, params, [x], [y], rate, 1),
                                 what=f"One step of train with learn_rate={rate:g}", wording=STEP_WORDING,
                                 variants=lambda: support.scaled(support.gradient_variants(params, x, y), -rate),
                                 factors=factors, wrong=lambda: support.wrong_gradients(student, params, x, y))


# --- the batch version ------------------------------------------------------------------------


@check(points=4, functions="two_layer_loss_and_grads")
def two_layer_loss_and_gradients(student, rng):
    """two_layer_loss_and_grads matches PyTorch for D=3 inputs, H=4 hidden, O=2 outputs and N=5 samples"""
    n, d, h, o = 5, 3, 4, 2
    params, X, y = support.random_batch(rng, n, d, h, o)
    expected_loss, expected_grads = support.batch_loss_and_grads(params, X, y)
    result = student.two_layer_loss_and_grads(params, X, y)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CheckFailed("two_layer_loss_and_grads must return a pair (loss, grads).",
                          f"It returned {describe(result)}.")
    loss, grads = result
    what = f"two_layer_loss_and_grads(params, X, y) with D={d}, H={h}, O={o}, N={n}"
    require_close(as_number(loss, what=f"the loss of {what}"), expected_loss, what=f"the loss of {what}",
                  factors={f"{n * o} (= N·O): the loss is a mean over all N·O entries; did you sum?": n * o})
    if not isinstance(grads, dict):
        raise CheckFailed(f"The grads of {what} are not a dict.", f"They are {describe(grads)}.")
    entries = support.compare_with_mistakes(grads, expected_grads, lambda: support.batch_variants(params, X, y),
                                            factors=support.batch_factors(n, o))
    require_parameters(entries, what=f"The gradients of {what}")
