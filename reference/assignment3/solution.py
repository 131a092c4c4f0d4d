"""Reference solution for assignment 3: a two-layer sigmoid network with hand-derived gradients."""

import numpy as np

PARAMETERS = ("w1", "w2", "w3", "w4", "w5", "w6", "b1", "b2", "b3")


def sigmoid(x):
    """1 / (1 + exp(-x)), computed so that neither branch can overflow."""
    x = np.asarray(x, dtype=float)
    positive = x >= 0
    z = np.exp(-np.abs(x))
    result = np.where(positive, 1 / (1 + z), z / (1 + z))
    return float(result) if result.ndim == 0 else result


def deriv_sigmoid(x):
    s = sigmoid(x)
    return s * (1 - s)


def mse_loss(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    return float(((y_true - y_pred) ** 2).mean())


class OurNeuralNetwork:
    """Inputs x0, x1 -> hidden h1, h2 -> output o1, every neuron a sigmoid."""

    def __init__(self):
        for name in PARAMETERS:
            setattr(self, name, 0.1)

    def _forward(self, x):
        sum_h1 = self.w1 * x[0] + self.w2 * x[1] + self.b1
        sum_h2 = self.w3 * x[0] + self.w4 * x[1] + self.b2
        h1, h2 = sigmoid(sum_h1), sigmoid(sum_h2)
        sum_o1 = self.w5 * h1 + self.w6 * h2 + self.b3
        return sum_h1, sum_h2, h1, h2, sum_o1, sigmoid(sum_o1)

    def feedforward(self, x):
        return self._forward(x)[-1]

    def gradients(self, x, y_true):
        """dL/dparameter for L = (y_true - o1)^2, by the chain rule."""
        sum_h1, sum_h2, h1, h2, sum_o1, o1 = self._forward(x)
        d_o1 = -2 * (y_true - o1) * deriv_sigmoid(sum_o1)  # dL/dsum_o1
        d_h1 = d_o1 * self.w5 * deriv_sigmoid(sum_h1)  # dL/dsum_h1
        d_h2 = d_o1 * self.w6 * deriv_sigmoid(sum_h2)  # dL/dsum_h2
        return {
            "w1": d_h1 * x[0], "w2": d_h1 * x[1], "b1": d_h1,
            "w3": d_h2 * x[0], "w4": d_h2 * x[1], "b2": d_h2,
            "w5": d_o1 * h1, "w6": d_o1 * h2, "b3": d_o1,
        }

    def train(self, data, all_y_trues, learn_rate=0.1, epochs=1000):
        for _ in range(epochs):
            for x, y_true in zip(data, all_y_trues):
                grads = self.gradients(x, y_true)
                for name in PARAMETERS:
                    setattr(self, name, getattr(self, name) - learn_rate * grads[name])


def two_layer_loss_and_grads(params, X, y):
    """Mean squared error of sigmoid(sigmoid(X W1 + b1) W2 + b2) against y, and its gradients."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    H = sigmoid(X @ W1 + b1)
    out = sigmoid(H @ W2 + b2)
    loss = float(((out - y) ** 2).mean())
    d_out = 2 * (out - y) / y.size  # dL/dout: the mean runs over all N x O entries
    d_z2 = d_out * out * (1 - out)
    d_z1 = (d_z2 @ W2.T) * H * (1 - H)
    grads = {"W1": X.T @ d_z1, "b1": d_z1.sum(axis=0), "W2": H.T @ d_z2, "b2": d_z2.sum(axis=0)}
    return loss, grads
