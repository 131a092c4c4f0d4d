"""Probes for assignment 5: grader code that runs next to the student's code, in its process.

``add_in_place`` is judged by what it does to objects that live there: whether ``y`` stays
the same object over the same memory, and whether any operation made a new tensor on the
way (a TorchFunctionMode sees every PyTorch function and method the code calls, and the
memory of what each returns). ``propagate``'s speed is measured there too, beside the same amount of work done
with whole arrays, in turns, so that a busy machine slows both alike. ``optimize`` is
replayed with the student's own ``propagate``, to tell a wrong update from wrong gradients.
"""

from time import perf_counter  # taken before the submission loads: its code cannot swap the clock

import numpy as np
import torch
from torch.overrides import TorchFunctionMode


def _tensors(value, depth=0):
    """Every tensor in value (nested tuples, lists and dicts), as PyTorch hands operations their arguments."""
    if isinstance(value, torch.Tensor):
        yield value
    elif depth < 8 and isinstance(value, (tuple, list)):
        for item in value:
            yield from _tensors(item, depth + 1)
    elif depth < 8 and isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item, depth + 1)


class _NewTensors(TorchFunctionMode):
    """While active: every PyTorch call whose result lives in memory none of its arguments had (a new tensor)."""

    def __init__(self):
        super().__init__()
        self.made = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        inputs = {t.untyped_storage().data_ptr() for t in _tensors((args, kwargs))}
        for tensor in _tensors(result):
            if tensor.numel() and tensor.untyped_storage().data_ptr() not in inputs and len(self.made) < 8:
                name = getattr(func, "__name__", "an operation")
                self.made.append(f"{name} made a new tensor of shape {tuple(tensor.shape)}")
        return result


def add_in_place_effect(student, x, y):
    """Call add_in_place(x, y) and report what it did to y and x, and the new tensors it made."""
    x_before = x.clone()
    memory = y.untyped_storage().data_ptr()
    watch = _NewTensors()
    with watch:
        result = student.add_in_place(x, y)
    return {
        "returned_y": result is y,
        "same_memory": y.untyped_storage().data_ptr() == memory,
        "y": y.detach().clone(),
        "x_unchanged": bool(torch.equal(x, x_before)),
        "new_tensors": list(watch.made),
    }


def timing_problem(seed, n_x, m):
    """The data propagate is timed on: generated from seed on both sides, so none of it travels."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_x, m))
    Y = (rng.random((1, m)) < 0.5).astype(float)
    w = 0.1 * rng.standard_normal((n_x, 1))
    return w, 0.1, X, Y


def _same_work(w, b, X, Y, row):
    """As much work as a vectorised propagate does: products of X with w and with a row of m values, and
    element-wise exp and log over the m samples."""
    a = 1 / (1 + np.exp(-(np.dot(w.T, X) + b)))
    total = np.sum(Y * np.log(a) + (1 - Y) * np.log(1 - a))
    return total, np.dot(X, row.T)


def propagate_timing(student, seed, n_x, m, rounds, budget):
    """Seconds propagate takes on timing_problem(seed, n_x, m), and the same work with whole arrays, in turns.

    Stops early once propagate has used budget seconds. Returns each round's times and propagate's result
    from the last round.
    """
    w, b, X, Y = timing_problem(seed, n_x, m)
    row = np.linspace(0.0, 1.0, m)[None, :]
    yours, same_work, result = [], [], None
    for _ in range(rounds):
        started = perf_counter()
        _same_work(w, b, X, Y, row)
        same_work.append(perf_counter() - started)
        args = (w.copy(), b, X.copy(), Y.copy())  # a propagate that writes into its inputs changes no later round
        started = perf_counter()
        result = student.propagate(*args)
        yours.append(perf_counter() - started)
        if sum(yours) > budget:
            break
    return {"yours": yours, "same_work": same_work, "result": result}


def descent_with_own_propagate(student, w, b, X, Y, num_iterations, learning_rate):
    """Gradient descent as the exercise asks, with the gradients of the student's own propagate.

    None when those gradients cannot drive an update (propagate raises, or returns something else).
    """
    costs = []
    try:
        for i in range(num_iterations):
            grads, cost = student.propagate(w, b, X, Y)
            w = w - learning_rate * np.asarray(grads["dw"], dtype=float)
            b = b - learning_rate * float(grads["db"])
            if i % 100 == 0:
                costs.append(float(cost))
        return {"w": w, "b": b, "costs": costs}
    except Exception:
        return None
