"""What the assignment 5 checks compute on the grader's side.

Part A's expected values are closed forms: ∂(2xᵀx)/∂x = 4x, and the tutorial's f multiplies
its input by a constant k that depends on it (a power of two, or 100 times one), so
c = k·a and ∂c/∂a = k = c / a. Part B's come from PyTorch in float64, with autograd for
every gradient: the loss is the binary cross-entropy of the logits z = wᵀX + b, which
PyTorch computes stably for any z. The backward pass is never written out here.

Data for ``model``: scikit-learn's breast-cancer set (569 tumours, 30 measurements each;
label 1 for benign, 0 for malignant), read from the file the package ships (nothing may be
downloaded while grading, and importing sklearn would cost more than the check).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import importlib.util
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional

from grader.checks import as_number, as_sequence, assert_same, describe
from grader.diagnose import Entry, compare_parameters, require_parameters
from grader.errors import CheckFailed

# --- Part A -------------------------------------------------------------------------------------


def control_flow(a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """c = f(a) for the tutorial's f, computed as it is (so in a's dtype), and ∂c/∂a = k exactly."""
    b, k = a * 2, 2.0
    while b.norm() < 1000:
        b, k = b * 2, k * 2
    if b.sum() > 0:
        return b, torch.full_like(a, k)
    return 100 * b, torch.full_like(a, 100 * k)


# --- Part B: logistic regression in PyTorch, float64 ------------------------------------------------


def problem(rng: np.random.Generator, n_x: int, m: int, scale: float = 0.5) -> tuple[np.ndarray, float, np.ndarray,
                                                                                       np.ndarray]:
    """w (n_x, 1), b, X (n_x, m) and labels Y (1, m) of 0.0 and 1.0, both labels present."""
    w = rng.normal(0, scale, (n_x, 1))
    b = float(rng.normal(0, scale))
    X = rng.normal(0, 1, (n_x, m))
    Y = (rng.random((1, m)) < 0.5).astype(float)
    Y[0, 0], Y[0, -1] = 0.0, 1.0
    return w, b, X, Y


def loss_and_grads(w: np.ndarray, b: float, X: np.ndarray, Y: np.ndarray) -> tuple[float, np.ndarray, float]:
    """The cost −(1/m)·Σ[Y·log A + (1−Y)·log(1−A)] and its gradients dw (n_x, 1) and db, by autograd."""
    tw = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    cost = functional.binary_cross_entropy_with_logits(tw.T @ torch.from_numpy(X) + tb, torch.from_numpy(Y))
    dw, db = torch.autograd.grad(cost, (tw, tb))
    return float(cost.detach()), dw.numpy(), float(db)


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Small tensors, many steps: PyTorch's worker threads only wait on each other (2000 steps took 5-8 s with
    two threads on a busy 2-core machine, 0.8 s with one)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


_DESCENTS: collections.OrderedDict[tuple, dict] = collections.OrderedDict()
_REMEMBERING = threading.Lock()


def descent(w: np.ndarray, b: float, X: np.ndarray, Y: np.ndarray, iterations: int, rate: float) -> dict:
    """Gradient descent as the exercise asks: w, b after it, the gradients of its last step, the cost every 100.

    Remembered for the same inputs (the last 32), read-only: grade check grades dozens of versions of a
    solution with one seed, and each would otherwise repeat the same 2000 steps.
    """
    key = tuple(np.ascontiguousarray(a, dtype=float).tobytes() + str(np.shape(a)).encode() for a in (w, b, X, Y))
    key += (int(iterations), float(rate))
    with _REMEMBERING:  # grade check grades versions side by side on threads
        found = _DESCENTS.get(key)
        if found is not None:
            _DESCENTS.move_to_end(key)
    if found is None:
        found = _descent(w, b, X, Y, iterations, rate)
        for value in found.values():
            if isinstance(value, np.ndarray):
                value.setflags(write=False)
        with _REMEMBERING:
            _DESCENTS[key] = found
            if len(_DESCENTS) > 32:
                _DESCENTS.popitem(last=False)
    return dict(found, costs=list(found["costs"]))


def _descent(w: np.ndarray, b: float, X: np.ndarray, Y: np.ndarray, iterations: int, rate: float) -> dict:
    tw = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(float(b), dtype=torch.float64, requires_grad=True)
    tX, tY = torch.from_numpy(X), torch.from_numpy(Y)
    costs = []
    with _one_thread():
        for i in range(iterations):
            cost = functional.binary_cross_entropy_with_logits(tw.T @ tX + tb, tY)
            dw, db = torch.autograd.grad(cost, (tw, tb))
            with torch.no_grad():
                tw -= rate * dw
                tb -= rate * db
            if i % 100 == 0:
                costs.append(float(cost.detach()))
    return {"w": tw.detach().numpy().copy(), "b": float(tb.detach()), "dw": dw.numpy(), "db": float(db),
            "costs": costs}


def predictions(w: np.ndarray, b: float, X: np.ndarray) -> np.ndarray:
    """1.0 where σ(wᵀX + b) > 0.5, else 0.0, from torch.sigmoid in float64."""
    z = torch.tensor(np.asarray(w, dtype=float)).T @ torch.tensor(X) + float(b)  # copies: w may be read-only
    return (torch.sigmoid(z) > 0.5).double().numpy()


# --- the breast-cancer data ------------------------------------------------------------------------

CANCER_ACCURACY = 0.95  # what model must reach on the test set
CANCER_TEST_FRACTION = 0.25


def breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    """The 569 × 30 measurements and their labels (1.0 benign, 0.0 malignant), as scikit-learn ships them."""
    spec = importlib.util.find_spec("sklearn")
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "breast_cancer.csv" if spec else None
    if path is not None and path.is_file():
        table = np.loadtxt(path, delimiter=",", skiprows=1)
        return table[:, :-1], table[:, -1]
    from sklearn.datasets import load_breast_cancer  # the file moved: ask the library

    data = load_breast_cancer()
    return data.data, data.target.astype(float)


def cancer_data(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A stratified split of the breast-cancer set, standardised with the training set's mean and spread, features
    as rows: X_train (30, m_train), Y_train (1, m_train), X_test, Y_test."""
    X, y = breast_cancer()
    classes = [np.flatnonzero(y == label) for label in (0.0, 1.0)]
    test = np.concatenate([rng.permutation(c)[:round(CANCER_TEST_FRACTION * len(c))] for c in classes])
    train = rng.permutation(np.setdiff1d(np.arange(len(y)), test))
    test = rng.permutation(test)
    mean, spread = X[train].mean(axis=0), X[train].std(axis=0)
    return (np.ascontiguousarray(((X[train] - mean) / spread).T), y[train][None, :],
            np.ascontiguousarray(((X[test] - mean) / spread).T), y[test][None, :])


def cancer_split(rng: np.random.Generator, iterations: int = 2000, rate: float = 0.005) -> tuple[tuple, dict]:
    """cancer_data(rng) where the grader's own descent (from zeros, as model trains) classifies at least
    CANCER_ACCURACY of the test set, and that descent.

    About one split in fifty is drawn again: with 142 test tumours one mistake moves the accuracy by
    0.7%, and a threshold every correct model meets must be met by the course's own model first.
    """
    for _ in range(20):
        data = cancer_data(rng)
        grader = descent(np.zeros((data[0].shape[0], 1)), 0.0, data[0], data[1], iterations, rate)
        if accuracy(predictions(grader["w"], grader["b"], data[2]), data[3]) >= CANCER_ACCURACY:
            return data, grader
    raise RuntimeError("no split of the breast-cancer set reached the accuracy the check asks for")


def accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(predicted == labels))


# --- reading and judging what the student's functions return -----------------------------------------

COST_SIGN = "the sign is flipped: the cost is −(1/m)·Σ[...], with a minus in front"
ASCENT = "the sign of the update is flipped: w and b must move against the gradient, w − learning_rate·dw"
WORDING = {"transposed: it is the transpose of the right matrix": "transposed: dw must have the shape of w, (n_x, 1)"}
LOG_OF_ZERO = ("Likely: log of 0. Where σ(z) rounds to exactly 1.0 (z = 40) or 0.0 (z = −800), log(1 − A) or "
               "log(A) is −inf, and 0·(−inf) is nan. Keep A away from 0 and 1 before taking logs (np.clip), or "
               "compute the loss from z, where log(1 + e^z) − y·z is the same number and never takes log(0).")


def _missing_m(m: int) -> dict[str, float]:
    return {f"m = {m}, the number of samples: is the 1/m missing?": float(m)}


def unpack_propagate(result, what: str) -> tuple[dict, object]:
    """(grads, cost) from what propagate returned, or CheckFailed saying what is wrong with its form."""
    grads, cost = as_sequence(result, what=what, length=2, wanted="a pair (grads, cost)")
    if isinstance(cost, dict) and not isinstance(grads, dict):
        raise CheckFailed(f"{what} returned (cost, grads); the order asked for is (grads, cost).",
                          "Return grads, cost.")
    if not isinstance(grads, dict) or not {"dw", "db"} <= set(grads):
        keys = f" with keys {sorted(map(str, grads))[:6]}" if isinstance(grads, dict) else ""
        raise CheckFailed(f"The grads from {what} are not a dict with keys 'dw' and 'db'.",
                          f"They are {describe(grads)}{keys}.")
    return grads, cost


def compare_results(found: dict, expected: dict, *, m: int, rtol: float = 1e-6,
                    variants: dict | None = None) -> list[Entry]:
    """compare_parameters for propagate's numbers, naming a number left as an array (db, the cost)."""
    numbers = {name: _number_or_array(found.get(name), np.ndim(want)) for name, want in expected.items()}
    plain = {name: value for name, (value, _) in numbers.items()}
    entries = compare_parameters(plain, expected, rtol=rtol, factors=_missing_m(m), variants=variants or {})
    named = []
    for entry in entries:
        shape = numbers[entry.name][1]
        if shape is not None and entry.actual is not None:  # the right number, or a wrong one, in an array
            left = f"left as an array of shape {shape}: return a number (float(...))"
            entry = dataclasses.replace(entry, mistake=f"{left}; {entry.mistake}" if entry.mistake else left)
        elif shape is not None:
            entry = dataclasses.replace(entry, mistake=f"an array of shape {shape}, not a number: is the sum over "
                                                       "the samples missing?")
        named.append(entry)
    return named


def _number_or_array(value, ndim: int) -> tuple[object, tuple | None]:
    """For a number expected (ndim 0): the value, and the shape of the array it came in, if it did."""
    if ndim == 0 and isinstance(value, np.ndarray) and value.ndim > 0:
        return (value.reshape(()) if value.size == 1 else None), value.shape
    return value, None


def compare_gradients(grads, expected: dict, *, m: int, rtol: float = 1e-6) -> list[Entry]:
    return compare_results(grads if isinstance(grads, dict) else {}, expected, m=m, rtol=rtol)


def require_propagate(result, w: np.ndarray, b: float, X: np.ndarray, Y: np.ndarray, *, what: str,
                      saturated: bool = False) -> None:
    """propagate's (grads, cost) against autograd's, each wrong number named with its likely mistake."""
    grads, cost = unpack_propagate(result, what)
    expected_cost, dw, db = loss_and_grads(w, b, X, Y)
    if isinstance(cost, (float, np.floating)) and not np.isfinite(cost):
        raise CheckFailed(f"The cost of {what} is {float(cost)}, not a finite number." +
                          (f" {LOG_OF_ZERO}" if saturated else ""), "")
    entries = compare_results({**grads, "cost": cost}, {"cost": expected_cost, "dw": dw, "db": db}, m=X.shape[1],
                              variants={COST_SIGN: {"cost": -expected_cost}})
    require_parameters(entries, what=f"The results of {what}", wording=WORDING)


def saturated_problem(rng: np.random.Generator, n_x: int, m: int) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """problem(), with wᵀx + b = 40, −800 and 60 for the first three samples, each labelled as it is predicted."""
    w, b, X, Y = problem(rng, n_x, m)
    for j, z in enumerate((40.0, -800.0, 60.0)):
        X[:, j] = (z - b) * w[:, 0] / float(w[:, 0] @ w[:, 0])
        Y[0, j] = 1.0 if z > 0 else 0.0
    return w, b, X, Y


def require_zeros(result, dim: int, *, what: str) -> None:
    w, b = as_sequence(result, what=what, length=2, wanted="a pair (w, b)")
    assert_same(w, np.zeros((dim, 1)), what=f"w from {what}")
    if isinstance(b, np.ndarray):
        raise CheckFailed(f"b from {what} is {describe(b)}.", "b is a single number: b = 0.0.")
    if as_number(b, what=f"b from {what}") != 0:
        raise CheckFailed(f"b from {what} is {as_number(b, what='b')}, not 0.0.", "")


def unpack_optimize(result, what: str) -> tuple[dict, dict, object]:
    params, grads, costs = as_sequence(result, what=what, length=3, wanted="a triple (params, grads, costs)")
    for name, value, keys in (("params", params, ("w", "b")), ("grads", grads, ("dw", "db"))):
        if not isinstance(value, dict) or not set(keys) <= set(value):
            raise CheckFailed(f"The {name} from {what} are not a dict with keys {' and '.join(map(repr, keys))}.",
                              f"They are {describe(value)}.")
    return params, grads, costs


MODEL_KEYS = ("costs", "w", "b", "Y_prediction_train", "Y_prediction_test")


def unpack_model(result, what: str, train_shape: tuple[int, int], test_shape: tuple[int, int]) -> dict:
    if not isinstance(result, dict) or not set(MODEL_KEYS) <= set(result):
        missing = [k for k in MODEL_KEYS if not isinstance(result, dict) or k not in result]
        raise CheckFailed(f"{what} did not return a dict with {', '.join(MODEL_KEYS)}.",
                          f"It returned {describe(result)}" + (f", without {', '.join(missing)}." if
                                                              isinstance(result, dict) else "."))
    w = result["w"]
    if not isinstance(w, np.ndarray) or w.shape != (train_shape[0], 1) or w.dtype.kind != "f":
        raise CheckFailed(f"w from {what} is {describe(w)}; expected floats of shape ({train_shape[0]}, 1).", "")
    for split, shape in (("train", train_shape), ("test", test_shape)):
        predicted = result[f"Y_prediction_{split}"]
        if not isinstance(predicted, np.ndarray) or predicted.shape != (1, shape[1]):
            raise CheckFailed(f"Y_prediction_{split} from {what} is {describe(predicted)}; expected an array of "
                              f"shape (1, {shape[1]}).", "")
    return result


def require_predictions_of(w: np.ndarray, b, X: np.ndarray, predicted: np.ndarray, *, what: str) -> None:
    """predicted is what w and b predict for X (σ(wᵀX + b) > 0.5), so it came from the model returned."""
    own = predictions(w, as_number(b, what="b"), X)
    if predicted.shape == own.shape and not np.array_equal(predicted, own):
        where = int(np.flatnonzero(predicted != own)[0])
        raise CheckFailed(f"{what} is not what the w and b returned predict.",
                          f"At sample {where} it is {predicted[0, where]!r}; σ(wᵀx + b) with your w and b gives "
                          f"{own[0, where]!r}. Predict with the parameters training ended with.")
