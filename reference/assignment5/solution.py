"""Reference solution for assignment 5: autograd (Part A) and logistic regression vectorised (Part B)."""

import numpy as np
import torch

# --- Part A: autograd -------------------------------------------------------------------------


def grad_of_two_xtx(x):
    x = x.detach().clone().requires_grad_(True)
    y = 2 * torch.mm(x.T, x)
    y.backward()
    return x.grad


def _f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


def grad_through_control_flow(a):
    a = a.detach().clone().requires_grad_(True)
    c = _f(a)
    c.backward()
    return c.detach(), a.grad


def add_in_place(x, y):
    y += x
    return y


# --- Part B: logistic regression ------------------------------------------------------------------


def sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def initialize_with_zeros(dim):
    w = np.zeros((dim, 1))
    b = 0.0
    return w, b


def propagate(w, b, X, Y):
    m = X.shape[1]
    Z = np.dot(w.T, X) + b
    A = sigmoid(Z)
    # -[y log a + (1 - y) log(1 - a)] = log(1 + e^z) - y z, which stays finite where a is 0 or 1
    cost = float(np.sum(np.logaddexp(0, Z) - Y * Z) / m)
    dZ = A - Y
    dw = np.dot(X, dZ.T) / m
    db = float(np.sum(dZ) / m)
    return {"dw": dw, "db": db}, cost


def optimize(w, b, X, Y, num_iterations, learning_rate):
    costs = []
    for i in range(num_iterations):
        grads, cost = propagate(w, b, X, Y)
        w = w - learning_rate * grads["dw"]
        b = b - learning_rate * grads["db"]
        if i % 100 == 0:
            costs.append(cost)
    return {"w": w, "b": b}, grads, costs


def predict(w, b, X):
    A = sigmoid(np.dot(w.T, X) + b)
    return (A > 0.5).astype(float)


def model(X_train, Y_train, X_test, Y_test, num_iterations=2000, learning_rate=0.005):
    w, b = initialize_with_zeros(X_train.shape[0])
    params, grads, costs = optimize(w, b, X_train, Y_train, num_iterations, learning_rate)
    w, b = params["w"], params["b"]
    return {"costs": costs, "w": w, "b": b, "Y_prediction_train": predict(w, b, X_train),
            "Y_prediction_test": predict(w, b, X_test), "num_iterations": num_iterations,
            "learning_rate": learning_rate}
