"""An example submission for assignment 3 that earns full marks."""
import numpy as np


def sigmoid(x):
    # exp(-|x|) never overflows; pick the form that is stable for each sign
    z = np.exp(-np.abs(x))
    return np.where(np.asarray(x) >= 0, 1 / (1 + z), z / (1 + z))[()]


def deriv_sigmoid(x):
    fx = sigmoid(x)
    return fx * (1 - fx)


def mse_loss(y_true, y_pred):
    return ((y_true - y_pred) ** 2).mean()


class OurNeuralNetwork:
    def __init__(self):
        self.w1 = self.w2 = self.w3 = self.w4 = self.w5 = self.w6 = 0.1
        self.b1 = self.b2 = self.b3 = 0.1

    def feedforward(self, x):
        h1 = sigmoid(self.w1 * x[0] + self.w2 * x[1] + self.b1)
        h2 = sigmoid(self.w3 * x[0] + self.w4 * x[1] + self.b2)
        return sigmoid(self.w5 * h1 + self.w6 * h2 + self.b3)

    def gradients(self, x, y_true):
        sum_h1 = self.w1 * x[0] + self.w2 * x[1] + self.b1
        sum_h2 = self.w3 * x[0] + self.w4 * x[1] + self.b2
        h1 = sigmoid(sum_h1)
        h2 = sigmoid(sum_h2)
        sum_o1 = self.w5 * h1 + self.w6 * h2 + self.b3
        o1 = sigmoid(sum_o1)
        d_L_d_o1 = -2 * (y_true - o1)
        d_o1 = d_L_d_o1 * deriv_sigmoid(sum_o1)
        d_h1 = d_o1 * self.w5 * deriv_sigmoid(sum_h1)
        d_h2 = d_o1 * self.w6 * deriv_sigmoid(sum_h2)
        return {
            "w1": d_h1 * x[0], "w2": d_h1 * x[1], "b1": d_h1,
            "w3": d_h2 * x[0], "w4": d_h2 * x[1], "b2": d_h2,
            "w5": d_o1 * h1, "w6": d_o1 * h2, "b3": d_o1,
        }

    def train(self, data, all_y_trues, learn_rate=0.1, epochs=1000):
        for epoch in range(epochs):
            for x, y_true in zip(data, all_y_trues):
                grads = self.gradients(x, y_true)
                self.w1 -= learn_rate * grads["w1"]
                self.w2 -= learn_rate * grads["w2"]
                self.w3 -= learn_rate * grads["w3"]
                self.w4 -= learn_rate * grads["w4"]
                self.w5 -= learn_rate * grads["w5"]
                self.w6 -= learn_rate * grads["w6"]
                self.b1 -= learn_rate * grads["b1"]
                self.b2 -= learn_rate * grads["b2"]
                self.b3 -= learn_rate * grads["b3"]
            if epoch % 100 == 0:
                loss = mse_loss(all_y_trues, np.array([self.feedforward(x) for x in data]))
                print(f"epoch {epoch}: loss {loss:.4f}")


def two_layer_loss_and_grads(params, X, y):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    H = sigmoid(X @ W1 + b1)
    Y_hat = sigmoid(H @ W2 + b2)
    loss = ((Y_hat - y) ** 2).mean()
    d_Y_hat = 2 * (Y_hat - y) / y.size
    d_Z2 = d_Y_hat * Y_hat * (1 - Y_hat)
    d_Z1 = (d_Z2 @ W2.T) * H * (1 - H)
    grads = {"W1": X.T @ d_Z1, "b1": d_Z1.sum(axis=0), "W2": H.T @ d_Z2, "b2": d_Z2.sum(axis=0)}
    return loss, grads
