"""Per-sample SGD of the 2-2-1 sigmoid network in plain float arithmetic, for the hidden checks.

The same training as support.train (PyTorch, autograd, in float64) in half a millisecond where
autograd takes a tenth of a second: the hidden check trains on random data drawn for each version
of a submission, so its expected weights cannot be remembered between re-grades. It spells out
the backward pass students derive, so it lives here, beside the reference solution, never in a
student's copy. tests/test_assignment3.py pins it to support.train on many random problems.
"""

from __future__ import annotations

import math

PARAMETERS = ("w1", "w2", "w3", "w4", "w5", "w6", "b1", "b2", "b3")


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)  # exp(-z) would overflow for z below about -709
    return e / (1.0 + e)


def train(params: dict[str, float], data, labels, learn_rate: float, epochs: int) -> dict[str, float]:
    """The parameters after `epochs` passes of per-sample SGD on L = (o1 - y)^2, in data order."""
    w1, w2, w3, w4, w5, w6, b1, b2, b3 = (float(params[name]) for name in PARAMETERS)
    samples = [(float(x[0]), float(x[1]), float(y)) for x, y in zip(data, labels)]
    rate = float(learn_rate)
    for _ in range(epochs):
        for x0, x1, y in samples:
            h1 = _sigmoid(w1 * x0 + w2 * x1 + b1)
            h2 = _sigmoid(w3 * x0 + w4 * x1 + b2)
            o1 = _sigmoid(w5 * h1 + w6 * h2 + b3)
            d_o1 = 2.0 * (o1 - y) * (o1 * (1.0 - o1))  # dL/d(o1's pre-activation)
            d_h1 = d_o1 * w5 * (h1 * (1.0 - h1))
            d_h2 = d_o1 * w6 * (h2 * (1.0 - h2))
            w1, w2, b1 = w1 - rate * d_h1 * x0, w2 - rate * d_h1 * x1, b1 - rate * d_h1
            w3, w4, b2 = w3 - rate * d_h2 * x0, w4 - rate * d_h2 * x1, b2 - rate * d_h2
            w5, w6, b3 = w5 - rate * d_o1 * h1, w6 - rate * d_o1 * h2, b3 - rate * d_o1
    return dict(w1=w1, w2=w2, w3=w3, w4=w4, w5=w5, w6=w6, b1=b1, b2=b2, b3=b3)
