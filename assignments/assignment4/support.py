"""What the assignment 4 checks compute on the grader's side.

Data: the course's synthetic linear data, the spiral classification problem,
and the 8x8 digits that ship with scikit-learn (standing in for MNIST, which
cannot be downloaded while grading). Expectations for the training-loop probes
are computed from what the probe recorded: the gradient each optimizer step
should have seen is autograd's, at the parameters recorded before that step.
"""

from __future__ import annotations

import gzip
import importlib.util
import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

from grader.checks import as_number, describe
from grader.diagnose import likely_mistake
from grader.errors import CheckFailed
from grader.student import RemoteObject

from .probes import dropout_net, linear_net

TRAINING_BUDGET = 120  # seconds a classifier may train for
# Test accuracy the digits classifier needs. Networks like the course's reach 0.95 to 0.99 depending on the split
# (over 56 splits the reference and the bundled example each scored 0.953 at worst, and the example 0.947 on a
# clean checkout's split): 0.95 failed correct work by chance.
DIGITS_ACCURACY = 0.92
INPUTS = CLASSES = 4  # batches as wide as the classes: an accuracy taken along dim 0 fails silently

# --- data ------------------------------------------------------------------------------------


def linear_data(rng: np.random.Generator, w: list[float], b: float, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Features from N(0, 1) and labels X·w + b + N(0, 0.01²), as float32 tensors (labels (n, 1))."""
    X = rng.normal(0, 1, (n, len(w)))
    y = X @ np.asarray(w) + b + rng.normal(0, 0.01, n)
    return torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32).reshape(-1, 1)


def spiral(rng: np.random.Generator, per_class: int = 200, classes: int = 3, noise: float = 0.1):
    """Points on `classes` interleaved spiral arms, and their arm as the label."""
    X, y = [], []
    for label in range(classes):
        radius = np.linspace(0.0, 1.0, per_class)
        angle = np.linspace(label * 4.0, (label + 1) * 4.0, per_class) + rng.normal(0, noise, per_class)
        X.append(np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1))
        y.append(np.full(per_class, label))
    return torch.as_tensor(np.concatenate(X), dtype=torch.float32), torch.as_tensor(np.concatenate(y))


def digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1797 8x8 digit images scikit-learn ships, scaled to [0, 1], and their labels.

    Read straight from the package's data file: importing sklearn would cost
    more than the whole check.
    """
    spec = importlib.util.find_spec("sklearn")
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"
    if path.is_file():
        with gzip.open(path) as stream:
            table = np.loadtxt(stream, delimiter=",")
        return table[:, :-1] / 16.0, table[:, -1].astype(np.int64)
    from sklearn.datasets import load_digits  # the file moved: ask the library

    data = load_digits()
    return data.data / 16.0, data.target.astype(np.int64)


DIGITS_NOISE = 0.02  # added to every pixel, then clipped to [0, 1]: no image is byte for byte the file's


def digits_split(rng: np.random.Generator, test_fraction: float = 0.2):
    """A train and a test split of the digits, classes renamed and pixels perturbed.

    The ten classes get new names by a permutation that moves every one (a 3
    may be called 7 throughout), and every pixel gets a little noise. A network
    learns whatever labelling its training data has; a lookup of the images in
    scikit-learn's own file, which holds every test split with the original
    labels, gets every answer wrong.
    """
    X, y = digits()
    order = rng.permutation(len(y))
    cut = int(len(y) * (1 - test_fraction))
    names = _derangement(rng, 10)
    X = np.clip(X + rng.normal(0, DIGITS_NOISE, X.shape), 0.0, 1.0)
    as_tensors = lambda idx: (torch.as_tensor(X[idx], dtype=torch.float32),  # noqa: E731
                              torch.as_tensor(names[y[idx]]))
    return as_tensors(order[:cut]), as_tensors(order[cut:])


def _derangement(rng: np.random.Generator, n: int) -> np.ndarray:
    """A permutation of range(n) that moves every element."""
    while True:
        names = rng.permutation(n)
        if not (names == np.arange(n)).any():
            return names


def classification_batches(rng: np.random.Generator, inputs: int, classes: int, sizes: list[int]):
    """Batches of (features, labels) for the training-loop probes; the labels follow a linear rule, so they can be learnt."""
    rule = rng.normal(0, 1, (inputs, classes))
    batches = []
    for n in sizes:
        X = rng.normal(0, 1, (n, inputs))
        y = (X @ rule).argmax(axis=1)
        batches.append((torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y)))
    return batches


_DRAWS = 50  # draws tried for batches that tell the two axes apart; one in a few is enough


def telling_batches(rng: np.random.Generator, state: dict, sizes: list[int], lr: float | None = None,
                    hidden: int | None = None):
    """Square batches on which the right accuracy and the one taken along dim 0 differ.

    On square batches argmax(dim=0) does not fail: it counts a different set of predictions, and
    by chance the count can be the same. Batches are drawn (from rng) until it is not, as computed
    from what a correct train_epoch (lr given: SGD on the mean loss) or evaluate_accuracy (hidden
    given: the dropout net in evaluation mode) sees, so a wrong axis is always told apart.
    """
    batches = classification_batches(rng, INPUTS, CLASSES, sizes)
    for _ in range(_DRAWS):
        if hidden is not None:
            accuracy, wrong_axis = eval_accuracy(INPUTS, hidden, CLASSES, state, batches)
        else:
            _, accuracy, wrong_axis = epoch_result(_correct_epoch(state, batches, float(lr or 0.0)), batches)
        if not math.isclose(accuracy, wrong_axis, abs_tol=1e-9):
            break
        batches = classification_batches(rng, INPUTS, CLASSES, sizes)
    return batches


def _correct_epoch(state: dict, batches, lr: float) -> list[dict]:
    """The logits a correct train_epoch computes, batch by batch, from state."""
    net = linear_net(INPUTS, CLASSES)
    net.load_state_dict(state)
    net.train()
    updater = torch.optim.SGD(net.parameters(), lr=lr)
    forwards = []
    for X, y in batches:
        logits = net(X)
        forwards.append({"logits": logits.detach()})
        updater.zero_grad()
        nn.functional.cross_entropy(logits, y, reduction="none").mean().backward()
        updater.step()
    return forwards


def initial_state(net: nn.Module, seed: int) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    for layer in net:
        if isinstance(layer, nn.Linear):
            nn.init.normal_(layer.weight, std=0.5)
            nn.init.normal_(layer.bias, std=0.1)
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


# --- what a training step should have seen ------------------------------------------------------


def _loaded(net: nn.Module, params: list[torch.Tensor]) -> nn.Module:
    with torch.no_grad():
        for target, value in zip(net.parameters(), params):
            target.copy_(value)
    return net


def batch_gradients(inputs: int, classes: int, params: list[torch.Tensor], batch) -> list[torch.Tensor]:
    """d(mean cross-entropy over the batch)/d(parameters), at params, by autograd."""
    net = _loaded(linear_net(inputs, classes), params)
    X, y = batch
    loss = nn.functional.cross_entropy(net(X), y)
    return [g.detach() for g in torch.autograd.grad(loss, list(net.parameters()))]


def epoch_result(forwards: list[dict], batches) -> tuple[float, float, float]:
    """From the logits the net produced: mean loss per example, accuracy, and accuracy taken along dim 0."""
    if not forwards:
        raise CheckFailed("train_epoch never runs the network on the batches.",
                          "It should compute net(X) for every batch X of the iterable it is given.")
    losses, correct, wrong_axis, count = 0.0, 0, 0, 0
    for forward, (_, y) in zip(forwards, batches):
        logits = forward["logits"]
        losses += float(nn.functional.cross_entropy(logits, y, reduction="sum"))
        correct += int((logits.argmax(dim=1) == y).sum())
        if logits.shape[0] == logits.shape[1]:
            wrong_axis += int((logits.argmax(dim=0) == y).sum())
        count += len(y)
    return losses / count, correct / count, wrong_axis / count


def eval_accuracy(inputs: int, hidden: int, classes: int, state: dict, batches) -> tuple[float, float]:
    """Accuracy of the dropout net in evaluation mode, and the same taken along dim 0."""
    net = dropout_net(inputs, hidden, classes)
    net.load_state_dict(state)
    net.eval()
    correct = wrong_axis = count = 0
    with torch.no_grad():
        for X, y in batches:
            logits = net(X)
            correct += int((logits.argmax(dim=1) == y).sum())
            if logits.shape[0] == logits.shape[1]:
                wrong_axis += int((logits.argmax(dim=0) == y).sum())
            count += len(y)
    return correct / count, wrong_axis / count


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return float((logits.argmax(dim=1) == labels).float().mean())


# --- verdicts shared by the public and hidden checks ---------------------------------------------


def require_pair(value, what: str):
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise CheckFailed(f"{what} must return a pair.", f"It returned {describe(value)}.")
    return value


def require_passes(passes, arrays) -> list:
    """The probe's two passes over a loader, once each batch is shown to be a slice of each of the arrays.

    Every batch must be a list of tensors, one per array, with that array's
    dtype and trailing shape, so the checks can join the batches back up.
    """
    if not isinstance(passes, list) or not all(isinstance(p, list) for p in passes):
        raise CheckFailed("load_array could not be read.", f"The probe returned {describe(passes)}.")
    for passed in passes:
        for batch in passed:
            fits = isinstance(batch, list) and len(batch) == len(arrays) and all(
                isinstance(t, torch.Tensor) and t.dim() > 0 and t.shape[1:] == a.shape[1:] and t.dtype == a.dtype
                for t, a in zip(batch, arrays))
            if not fits:
                shown = describe(batch) if not isinstance(batch, list) else "a batch of " + ", ".join(
                    describe(t) for t in batch[:3])
                raise CheckFailed("load_array gives batches that are not slices of the tensors it was given.",
                                  f"One batch was {shown}. data.DataLoader(data.TensorDataset(*data_arrays), ...) "
                                  "gives a (features, labels) pair of tensors per batch.")
    return passes


def synthetic_pair(value, w: torch.Tensor, b: float, n: int, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(X, y) from synthetic_data as float64 tensors of shape (n, len(w)) and (n,), or CheckFailed."""
    X, y = require_pair(value, what)
    for name, got in (("X", X), ("y", y)):
        if not isinstance(got, torch.Tensor):
            hint = " Create it with torch.normal(...) (a tensor), not NumPy." if isinstance(got, np.ndarray) else ""
            raise CheckFailed(f"{name} from synthetic_data is not a tensor.", f"It is {describe(got)}.{hint}")
    if tuple(X.shape) != (n, len(w)):
        raise CheckFailed("X from synthetic_data has the wrong shape.",
                          f"Its shape is {tuple(X.shape)}; expected {(n, len(w))}.")
    if y.numel() != n:
        raise CheckFailed("y from synthetic_data has the wrong number of values.",
                          f"It has {y.numel()}; expected one per example, {n}.")
    if not (X.is_floating_point() and y.is_floating_point()):
        raise CheckFailed("synthetic_data does not return floating-point tensors.",
                          f"X is {describe(X)} and y is {describe(y)}.")
    return X.detach().double().cpu(), y.detach().double().cpu().reshape(-1)


def require_linear_data(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor, b: float, *, slack: float) -> None:
    """X from N(0, 1) and y - (X·w + b) from N(0, 0.01²), each statistic within slack times its bound."""
    mean, std = float(X.mean()), float(X.std())
    if abs(mean) > 0.05 * slack or abs(std - 1) > 0.05 * slack:
        raise CheckFailed("X from synthetic_data is not drawn from N(0, 1).",
                          f"Its mean is {mean:.3f} and standard deviation {std:.3f}; expected about 0 and 1.")
    residual = y - (X @ w.double() + b)
    noise_mean, noise_std = float(residual.mean()), float(residual.std())
    if abs(noise_mean) > 0.002 * slack or abs(noise_std - 0.01) > 0.002 * slack:
        raise CheckFailed("y - (X·w + b) is not N(0, 0.01²) noise.",
                          f"The noise has mean {noise_mean:.4f} and standard deviation {noise_std:.4f}; "
                          "expected about 0 and 0.01.")


def flat_parameter(value, name: str, size: int) -> torch.Tensor:
    """A returned parameter as a flat float64 tensor of the expected size, or CheckFailed."""
    try:
        flat = torch.as_tensor(value).detach().double().reshape(-1).cpu()
    except (TypeError, ValueError, RuntimeError):
        raise CheckFailed(f"{name} from train_linear_regression is not numbers.", f"It is {describe(value)}.") from None
    if flat.numel() != size:
        raise CheckFailed(f"{name} from train_linear_regression has the wrong size.",
                          f"It has {flat.numel()} values; expected {size}.")
    return flat


def watch_linear_regression(student, features: torch.Tensor, labels: torch.Tensor, options: dict) -> dict:
    """train_linear_regression(features, labels, **options) run by the probe: its result, each nn.Linear's
    parameters when it first ran, and the number of optimizer steps."""
    student.get("train_linear_regression")  # a missing function is named as such, not as the probe's error
    record = student.probe("linear_regression", features, labels, options, function="train_linear_regression",
                           timeout=TRAINING_BUDGET)
    if not isinstance(record, dict) or set(record) != {"result", "starts", "steps"}:
        raise CheckFailed("train_linear_regression could not be watched.", f"The probe returned {describe(record)}.")
    return record


def require_recovered(result, true_w: list[float], true_b: float, what: str) -> None:
    """result is the pair (w, b) within 0.01 of the weights and bias the data came from."""
    w, b = require_pair(result, what)
    w, b = flat_parameter(w, "w", len(true_w)), flat_parameter(b, "b", 1)[0]
    if float((w - torch.tensor(true_w, dtype=torch.float64)).abs().max()) > 0.01 or abs(float(b) - true_b) > 0.01:
        raise CheckFailed("train_linear_regression does not recover w and b.",
                          f"It found w = {[round(v, 4) for v in w.tolist()]}, b = {float(b):.4f}; the data came "
                          f"from w = {true_w}, b = {true_b}.")


COURSE_START = ("Start as the course does, from weights drawn from N(0, 0.01²) (net.weight.data.normal_(0, 0.01)) "
                "and a bias of 0 (net.bias.data.fill_(0)); PyTorch's default initialisation is another one.")


def require_course_start(starts: list[dict], features: int) -> None:
    """One nn.Linear(features, 1) trained, starting from weights drawn from N(0, 0.01²) and a zero bias.

    Five standard deviations bound the weights (a draw beyond them has odds of
    about 1 in 3 million), and PyTorch's default, uniform within ±1/√features,
    is rarely that small for every weight.
    """
    if not starts:
        raise CheckFailed("train_linear_regression does not train an nn.Linear.",
                          f"No nn.Linear layer ran a forward pass while it trained. Build the model from "
                          f"nn.Linear({features}, 1), alone or in an nn.Sequential.")
    weight, bias = starts[0]["weight"], starts[0]["bias"]
    if len(starts) > 1 or tuple(weight.shape) != (1, features) or bias is None:
        raise CheckFailed("train_linear_regression does not train one nn.Linear with a bias.",
                          f"It trained {len(starts)} nn.Linear layer(s), the first with weights of shape "
                          f"{tuple(weight.shape)}; expected one nn.Linear({features}, 1).")
    if float(bias.abs().max()) != 0.0:
        raise CheckFailed("train_linear_regression does not start from a bias of 0.",
                          f"When the layer first ran, its bias was {float(bias.reshape(-1)[0]):.4g}. " + COURSE_START)
    w = weight.double().reshape(-1)
    if not bool(((w != 0) & (w.abs() <= 0.05)).all()):
        raise CheckFailed("train_linear_regression does not start from weights drawn from N(0, 0.01²).",
                          f"When the layer first ran, its weights were {[round(v, 4) for v in w.tolist()]}. "
                          + COURSE_START)


def require_steps(steps: int, epochs: int, examples: int, batch_size: int) -> None:
    """One optimizer step per minibatch, `epochs` passes over the examples."""
    expected = epochs * math.ceil(examples / batch_size)
    if steps == expected:
        return
    if steps == 0:
        raise CheckFailed("train_linear_regression never calls an optimizer's step().",
                          "Train with torch.optim.SGD(net.parameters(), lr=lr) and call step() after every "
                          "backward().")
    raise CheckFailed("train_linear_regression does not take num_epochs passes over the data in minibatches of "
                      "batch_size.", f"It took {steps} optimizer steps; {epochs} epochs over {examples} examples in "
                               f"minibatches of {batch_size} take {expected}, one step per minibatch.")


def train_epoch_run(student, rng, device, sizes, epochs=1):
    state = initial_state(linear_net(INPUTS, CLASSES), int(rng.integers(2**31)))
    lr = 0.5
    if all(size == CLASSES for size in sizes):  # where dim 0 does not fail, draw batches that tell it apart
        batches = telling_batches(rng, state, sizes, lr=lr)
    else:
        batches = classification_batches(rng, INPUTS, CLASSES, sizes)
    student.get("train_epoch")  # a missing function is named as such, not as the probe's error
    record = student.probe("train_epoch", INPUTS, CLASSES, state, batches, lr, device, epochs,
                           function="train_epoch", timeout=60)
    if not isinstance(record, dict) or "steps" not in record:
        raise CheckFailed("train_epoch could not be watched.", f"The probe returned {describe(record)}.")
    return record, batches


def check_steps(record: dict, batches, epochs: int = 1) -> None:
    """Every optimizer step used fresh gradients of the batch's mean loss."""
    steps = record["steps"]
    if len(steps) != len(batches) * epochs:
        if not steps:
            raise CheckFailed("train_epoch never calls updater.step(), so the parameters never change.",
                              "After l.mean().backward(), call updater.step() to update the parameters.")
        raise CheckFailed("train_epoch calls updater.step() the wrong number of times.",
                          f"It was called {len(steps)} times for {len(batches) * epochs} batches; once per batch.")
    previous = None
    for index, (step, batch) in enumerate(zip(steps, batches * epochs)):
        if any(g is None for g in step["grads"]):
            raise CheckFailed("train_epoch calls updater.step() without gradients.",
                              "Call backward() on the loss before updater.step().")
        expected = batch_gradients(INPUTS, CLASSES, step["params"], batch)
        got = [g.double().numpy() for g in step["grads"]]
        want = [g.double().numpy() for g in expected]
        if all(np.allclose(a, e, rtol=1e-4, atol=1e-6) for a, e in zip(got, want)):
            previous = want
            continue
        variants = {}
        if previous is not None:
            variants["gradients accumulate from batch to batch: call updater.zero_grad() before backward()"] = [
                e + p for e, p in zip(want, previous)]
        variants["the loss is summed over the batch, not averaged: call l.mean().backward()"] = [
            len(batch[1]) * e for e in want]
        words = None
        for label, values in variants.items():
            if all(np.allclose(a, v, rtol=1e-4, atol=1e-6) for a, v in zip(got, values)):
                words = label
                break
        words = words or likely_mistake(np.concatenate([a.ravel() for a in got]),
                                        np.concatenate([e.ravel() for e in want]))
        raise CheckFailed(f"The gradients at optimizer step {index + 1} are wrong"
                          + (f": {words}." if words else "."),
                          "They should be the gradients of the mean loss of that step's batch.")


def check_device_and_mode(record: dict, batches, device: str, *, training: bool) -> None:
    """Judged by what the network (and, in training, the loss) received: moved batches, the right mode."""
    what = "train_epoch" if training else "evaluate_accuracy"
    forwards = record["forwards"]
    if not forwards:
        raise CheckFailed(f"{what} never runs the network on the batches.",
                          "It should compute net(X) for every batch X of the iterable it is given.")
    unmoved = sum(1 for f in forwards if not f["moved"]) + sum(1 for moved in record.get("targets_moved", [])
                                                               if not moved)
    if unmoved:
        which = "The batches are never moved" if all(not f["moved"] for f in forwards) else (
            "Some batches reach the network or the loss without being moved")
        raise CheckFailed(f"{which} to `device`.",
                          "On a GPU this fails with 'Expected all tensors to be on the same device'. Move each "
                          "batch before using it: X, y = X.to(device), y.to(device) (.to returns the moved tensor; "
                          "keep what it returns).")
    if any(f["device"].split(":")[0] != device.split(":")[0] for f in forwards):
        raise CheckFailed("The network got inputs on the wrong device.", f"Move the inputs with X.to({device!r}).")
    if training and not all(f["training"] for f in forwards):
        raise CheckFailed("train_epoch runs the network in evaluation mode.",
                          "Call net.train() at the start of the epoch: an earlier evaluation may have switched "
                          "dropout and batch norm to evaluation behaviour.")
    if not training:
        if any(f["training"] for f in forwards):
            raise CheckFailed("evaluate_accuracy runs the network in training mode, so dropout is active.",
                              "Call net.eval() before evaluating.")
        if any(f["grad_enabled"] for f in forwards):
            raise CheckFailed("evaluate_accuracy tracks gradients it never uses.",
                              "Wrap the evaluation in `with torch.no_grad():` to save memory and time.")


def check_result(value, expected_loss: float | None, expected_accuracy: float, wrong_axis: float, what: str) -> None:
    if expected_loss is not None:
        loss, accuracy = require_pair(value, what)
        got_loss = as_number(loss, what=f"the mean loss from {what}")
        if not math.isclose(got_loss, expected_loss, rel_tol=1e-4, abs_tol=1e-6):
            raise CheckFailed(f"The mean loss from {what} is wrong.",
                              f"Expected {expected_loss:.6g} (the loss summed over every example, divided by the "
                              f"number of examples), got {got_loss:.6g}.")
    else:
        accuracy = value
    got = as_number(accuracy, what=f"the accuracy from {what}")
    if math.isclose(got, expected_accuracy, abs_tol=1e-9):
        return
    if math.isclose(got, wrong_axis, abs_tol=1e-9):
        raise CheckFailed(f"The accuracy from {what} is taken along the wrong axis.",
                          "y_hat has one row per example: take argmax(dim=1) (the class with the highest score "
                          "in each row), not argmax(dim=0).")
    raise CheckFailed(f"The accuracy from {what} is wrong.",
                      f"Expected {expected_accuracy:.4g} (correct predictions / examples), got {got:.4g}.")


def train_classifier(student, function: str, X: torch.Tensor, y: torch.Tensor, device: str):
    """function(X, y, device), watched; the model it returned, once it is shown to be trained on X and y.

    Its parameters must have taken part in training and most of their values
    must have moved from where training found them: a model built from data
    found elsewhere, or never trained, fails here whatever its accuracy. And
    they must have been put on `device`, which a run on the CPU sees too.
    """
    student.get(function)  # a missing function is named as such, not as the probe's error
    model = student.probe("trained", function, X, y, device, function=function)
    record = student.probe("training_of", model, function=function) if isinstance(model, RemoteObject) else None
    if record is None:
        raise CheckFailed(f"{function} must return the trained network (an nn.Module).",
                          f"It returned {describe(model)}.")
    elements, used, moved = record["elements"], record["used"], record["moved"]
    if elements == 0:
        raise CheckFailed(f"The model from {function} has no parameters to train.",
                          "Build it from layers such as nn.Linear, and train them on X and y.")
    if used < elements:
        raise CheckFailed(f"The model from {function} was not trained on the data it was given.",
                          f"{elements - used} of its {elements} parameter values never took part in a forward pass "
                          "or an optimizer step while it ran. Train the model you return (call it as model(X)).")
    if moved < elements / 2:
        raise CheckFailed(f"The model from {function} was not trained on the data it was given.",
                          f"Only {moved} of its {elements} parameter values changed from where training found them.")
    if record["placed"] < elements:
        raise CheckFailed(f"The model from {function} was never moved to the device it was given.",
                          f"{elements - record['placed']} of its {elements} parameter values stayed where they were "
                          "created. Move the network before training it, net.to(device), or build its layers there "
                          "(nn.Linear(..., device=device)): on a GPU the data would be moved and the network not, "
                          "and training fails with \"Expected all tensors to be on the same device\".")
    return model


def require_accuracy(student, model, X, y, device, threshold: float, what: str) -> float:
    if not isinstance(model, RemoteObject):  # data came back, not an object living in the student's process
        raise CheckFailed(f"{what} must return the trained network (an nn.Module).", f"It returned {describe(model)}.")
    logits = student.probe("predict", model, X, device, function=what)
    if logits is None:
        raise CheckFailed(f"{what} must return the trained network (an nn.Module).",
                          f"It returned {describe(model)}.")
    if (not isinstance(logits, torch.Tensor) or logits.dim() != 2 or logits.shape[0] != y.shape[0]
            or logits.is_complex() or logits.dtype == torch.bool):
        raise CheckFailed(f"The model from {what} gives outputs of the wrong shape.",
                          f"For {len(y)} inputs it gave {describe(logits)}; expected one row of class scores "
                          "per input.")
    score = accuracy(logits, y)
    if score < threshold:
        raise CheckFailed(f"The model from {what} is not accurate enough on held-out data.",
                          f"Its test accuracy is {score:.3f}; at least {threshold} is needed.")
    return score
