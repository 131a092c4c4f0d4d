"""What the assignment 3 checks compute on the grader's side, with PyTorch in float64.

Expected values come from PyTorch: the same two-layer network as
``nn.Linear(2, 2)`` and ``nn.Linear(2, 1)`` hold it, its gradients from autograd, its
training per-sample SGD (the update ``torch.optim.SGD`` makes, written out: an
optimizer object imports torch._dynamo, 1.7 s, and a test shows the two agree
to the last bit). The mistake "variants" are
computed by autograd too, through a sigmoid whose backward uses a wrong local
slope, so this file (which students can read) never spells out the backward
pass they are asked to derive.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch.nn import functional as F

from grader.diagnose import compare_parameters, require_parameters
from grader.errors import CheckFailed

PARAMETERS = ("w1", "w2", "w3", "w4", "w5", "w6", "b1", "b2", "b3")
# The course's four people: two shifted body measurements each, and a 0/1 label.
DATA = np.array([[-2.0, -1.0], [25.0, 6.0], [17.0, 4.0], [-15.0, -6.0]])
LABELS = np.array([1.0, 0.0, 0.0, 1.0])
START = {name: 0.1 for name in PARAMETERS}

DERIV_AT_ACTIVATION = "deriv_sigmoid was applied to an activation σ(z) instead of to the pre-activation z"
DERIV_AS_Z = "the sigmoid derivative was computed as z·(1 − z), which is right only when z is already σ of something"

Slope = Callable[[torch.Tensor], torch.Tensor]


def _slope_at_activation(z: torch.Tensor) -> torch.Tensor:
    s = torch.sigmoid(torch.sigmoid(z))
    return s * (1 - s)


def _slope_as_z(z: torch.Tensor) -> torch.Tensor:
    return z * (1 - z)


class _SigmoidWithSlope(torch.autograd.Function):
    """sigmoid forward; backward multiplies by a given local slope instead of σ'(z)."""

    @staticmethod
    def forward(ctx, z, slope):
        ctx.save_for_backward(z)
        ctx.slope = slope
        return torch.sigmoid(z)

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        return grad * ctx.slope(z), None


def _sigmoid(z: torch.Tensor, slope: Slope | None) -> torch.Tensor:
    return torch.sigmoid(z) if slope is None else _SigmoidWithSlope.apply(z, slope)


# --- the 2-2-1 network ------------------------------------------------------------------

Weights = list  # [weight1 (2, 2), bias1 (2,), weight2 (1, 2), bias2 (1,)]: float64 tensors


def weights(params: dict[str, float], requires_grad: bool = False) -> Weights:
    """The network's parameters as nn.Linear(2, 2) and nn.Linear(2, 1) hold them, in float64.

    Plain tensors used with F.linear, which is what those layers' forward does: building the
    layers costs more than the arithmetic of a whole sample.
    """
    w1, w2, w3, w4, w5, w6, b1, b2, b3 = (float(params[name]) for name in PARAMETERS)

    def exact(rows):  # float64 from the start: torch.tensor would round to float32 first
        return torch.tensor(rows, dtype=torch.float64, requires_grad=requires_grad)

    return [exact([[w1, w2], [w3, w4]]), exact([b1, b2]), exact([[w5, w6]]), exact([b3])]


def _named(weight1, bias1, weight2, bias2) -> dict[str, float]:
    (w1, w2), (w3, w4) = weight1.tolist()
    (w5, w6), = weight2.tolist()
    (b1, b2), (b3,) = bias1.tolist(), bias2.tolist()
    return dict(w1=w1, w2=w2, w3=w3, w4=w4, w5=w5, w6=w6, b1=b1, b2=b2, b3=b3)


def _output(network: Weights, x: torch.Tensor, hidden_slope: Slope | None = None,
            output_slope: Slope | None = None) -> torch.Tensor:
    weight1, bias1, weight2, bias2 = network
    hidden = _sigmoid(F.linear(x, weight1, bias1), hidden_slope)
    return _sigmoid(F.linear(hidden, weight2, bias2), output_slope)


def _tensor(values) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values, dtype=float))


def forward(params: dict[str, float], x) -> float:
    with torch.no_grad():
        return float(_output(weights(params), _tensor(x))[0])


def gradients(params: dict[str, float], x, y_true: float, hidden_slope: Slope | None = None,
              output_slope: Slope | None = None) -> dict[str, float]:
    """dL/dparameter of L = (y_true - o1)^2, by autograd."""
    network = weights(params, requires_grad=True)
    loss = ((y_true - _output(network, _tensor(x), hidden_slope, output_slope)) ** 2).sum()
    return _named(*torch.autograd.grad(loss, network))


def gradient_variants(params: dict[str, float], x, y_true: float) -> dict[str, dict[str, float]]:
    """What the gradients would be under each known mistake, keyed by its description."""
    return {
        f"{DERIV_AT_ACTIVATION} (in every neuron)": gradients(params, x, y_true, _slope_at_activation,
                                                              _slope_at_activation),
        f"{DERIV_AT_ACTIVATION} (in the output neuron)": gradients(params, x, y_true, None, _slope_at_activation),
        f"{DERIV_AT_ACTIVATION} (in the hidden neurons)": gradients(params, x, y_true, _slope_at_activation, None),
        DERIV_AS_Z: gradients(params, x, y_true, _slope_as_z, _slope_as_z),
    }


def compare_with_mistakes(got, expected: dict, variants: Callable[[], dict], **options) -> list:
    """compare_parameters(got, expected, variants=variants(), **options), computing variants only where needed.

    The variants name what went wrong (each costs more backward passes); where every value is
    right, the entries are the same without them.
    """
    entries = compare_parameters(got, expected, **options)
    if all(entry.ok for entry in entries):
        return entries
    return compare_parameters(got, expected, variants=variants(), **options)


def compare_gradients(got, params: dict[str, float], x, y_true: float) -> list:
    """got against the gradients at params and one sample, naming the known mistakes where one is wrong."""
    return compare_with_mistakes(got, gradients(params, x, y_true), lambda: gradient_variants(params, x, y_true))


def scaled(values: dict[str, dict[str, float]], factor: float) -> dict[str, dict[str, float]]:
    return {label: {k: factor * v for k, v in grads.items()} for label, grads in values.items()}


_TRAINED: dict[tuple, tuple[dict[str, float], list[float]]] = {}


def train(params: dict[str, float], data, labels, learn_rate: float, epochs: int,
          every: int | None = None) -> tuple[dict[str, float], list[float]]:
    """Per-sample SGD in data order; also the loss every `every` epochs.

    Remembered for the same inputs: the course data's 200 epochs take a quarter of a second of
    PyTorch steps, which every re-grade (grade --watch, %grade, a batch) would otherwise pay again.
    """
    data, labels = np.asarray(data, dtype=float), np.asarray(labels, dtype=float)
    key = (tuple(sorted(params.items())), data.shape, data.tobytes(), labels.shape, labels.tobytes(),
           float(learn_rate), int(epochs), every)
    if key not in _TRAINED:
        if len(_TRAINED) >= 64:
            _TRAINED.clear()
        _TRAINED[key] = _train(params, data, labels, learn_rate, epochs, every)
    weights_after, losses = _TRAINED[key]
    return dict(weights_after), list(losses)


def _train(params: dict[str, float], data, labels, learn_rate: float, epochs: int,
           every: int | None) -> tuple[dict[str, float], list[float]]:
    network = weights(params, requires_grad=True)
    samples = list(zip(_tensor(data).unbind(0), _tensor(labels).reshape(-1, 1).unbind(0)))
    losses = [network_loss(params, data, labels)] if every else []
    for epoch in range(1, epochs + 1):
        for x, y in samples:
            grads = torch.autograd.grad(((_output(network, x) - y) ** 2).sum(), network)
            with torch.no_grad():
                torch._foreach_add_(network, grads, alpha=-learn_rate)
        if every and epoch % every == 0:
            losses.append(network_loss(_named(*network), data, labels))
    return _named(*network), losses


def network_loss(params: dict[str, float], data, labels) -> float:
    """Mean squared error of the network over a data set (for loss curves)."""
    with torch.no_grad():
        out = _output(weights(params), _tensor(data)).reshape(-1)
    return float(((out - _tensor(labels)) ** 2).mean())


def random_params(rng: np.random.Generator, scale: float = 1.0) -> dict[str, float]:
    return {name: float(v) for name, v in zip(PARAMETERS, rng.normal(0, scale, len(PARAMETERS)))}


# --- the batch version --------------------------------------------------------------------


def batch_loss_and_grads(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, slope: Slope | None = None):
    """loss = mean over all N x O entries of (σ(σ(X W1 + b1) W2 + b2) - y)^2, and its gradients by autograd."""
    tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    hidden = _sigmoid(_tensor(X) @ tensors["W1"] + tensors["b1"], slope)
    out = _sigmoid(hidden @ tensors["W2"] + tensors["b2"], slope)
    loss = ((out - _tensor(y)) ** 2).mean()
    grads = torch.autograd.grad(loss, list(tensors.values()))
    return loss.item(), {k: g.numpy() for k, g in zip(tensors, grads)}


def batch_variants(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    return {
        DERIV_AT_ACTIVATION: batch_loss_and_grads(params, X, y, _slope_at_activation)[1],
        DERIV_AS_Z: batch_loss_and_grads(params, X, y, _slope_as_z)[1],
    }


def batch_factors(n: int, o: int) -> dict[str, float]:
    """Constant factors a batch gradient is often off by, with what each suggests."""
    factors = {
        f"{n * o} (= N·O): the loss is a mean over all N·O entries; did you sum instead of averaging?": n * o,
        f"1/{n * o} (= 1/(N·O)): the mean's 1/(N·O) appears twice": 1 / (n * o),
        f"{n} (= N): did you average over the outputs only?": n,
        f"{o} (= O): did you average over the samples only?": o,
    }
    return {label: value for label, value in factors.items() if value != 1}


def random_batch(rng: np.random.Generator, n: int, d: int, h: int, o: int):
    params = {"W1": rng.normal(0, 1, (d, h)), "b1": rng.normal(0, 1, h),
              "W2": rng.normal(0, 1, (h, o)), "b2": rng.normal(0, 1, o)}
    return params, rng.normal(0, 1, (n, d)), rng.uniform(0, 1, (n, o))


# --- when training ends wrong: the update, or the gradients it uses? ------------------------------


def moves_with_own_gradients(student, start: dict[str, float], data, labels, learn_rate: float,
                             epochs: int) -> dict[str, float] | None:
    """How far SGD with the student's own gradients moves each parameter from start (None if it cannot run)."""
    after = student.probe("sgd_with_own_gradients", dict(start), np.asarray(data), np.asarray(labels), learn_rate,
                          epochs, function="OurNeuralNetwork.train")
    if not isinstance(after, dict) or not all(isinstance(after.get(n), float) for n in PARAMETERS):
        return None
    return {name: after[name] - start[name] for name in PARAMETERS}


def wrong_gradients(student, params: dict[str, float], x, y_true: float) -> str:
    """Which of the student's gradients at params and one sample are wrong, with the likely mistake of each."""
    got = student.probe("own_gradients", dict(params), np.asarray(x), float(y_true), function="OurNeuralNetwork.train")
    entries = compare_gradients(got, params, x, y_true)
    wrong = ", ".join(f"{e.name} ({e.mistake})" if e.mistake else e.name for e in entries if not e.ok)
    return f"for {wrong}" if wrong else "on some samples"


def require_training(moved: dict, expected: dict[str, float], own: Callable[[], dict[str, float] | None], *,
                     what: str, wording: dict[str, str], wrong: Callable[[], str], rtol: float = 1e-6,
                     atol: float = 0.0, factors: dict = {},
                     variants: Callable[[], dict] = dict) -> None:
    """The student's train moved each parameter as expected, or CheckFailed saying whether train or gradients is wrong.

    moved: what the student's train did to each parameter; expected: what the
    reference SGD does; own: computes what the same SGD does with the student's
    own gradients (moves_with_own_gradients). When train matches own but own is
    wrong, the update is right and the gradients are not: the message says so,
    with wrong() naming the wrong gradients (see wrong_gradients). own and
    variants (the mistakes' moves, for the message) are computed only when
    train is wrong: a right train needs neither, and replaying SGD with the
    student's gradients costs as much as its training.
    """
    if all(entry.ok for entry in compare_parameters(moved, expected, rtol=rtol, atol=atol)):
        return
    entries = compare_parameters(moved, expected, rtol=rtol, atol=atol, factors=factors, variants=variants())
    own_moves = own()
    if own_moves is not None and not all(e.ok for e in compare_parameters(own_moves, expected, rtol=rtol, atol=atol)):
        if all(e.ok for e in compare_parameters(moved, own_moves, rtol=rtol, atol=atol)):
            raise CheckFailed(
                f"{what} is wrong, but not because of train: train moves every parameter by −learn_rate × what "
                f"your gradients returns, as it should, and gradients is wrong {wrong()}.",
                "Fix gradients (its own checks show the numbers); train will follow.")
        entries = compare_parameters(moved, own_moves, rtol=rtol, atol=atol, factors=factors)
        what = f"{what} (compared with SGD using your own gradients, which are wrong too)"
    require_parameters(entries, what=what, wording=wording)


# --- talking to the student's network ------------------------------------------------------


def new_network(student, params: dict[str, float] | None = None):
    """A fresh OurNeuralNetwork in the student's process, with params set when given (in one request: probes.py)."""
    net = student.OurNeuralNetwork()
    if params:
        student.probe("set_weights", net, dict(params), function="OurNeuralNetwork")
    return net


def read_weights(net) -> dict:
    """The student's nine parameters, whatever type each turned out to be."""
    attributes = net.get("__dict__")
    if isinstance(attributes, dict) and all(name in attributes for name in PARAMETERS):
        return {name: attributes[name] for name in PARAMETERS}
    return {name: net.get(name) for name in PARAMETERS}
