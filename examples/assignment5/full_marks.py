"""An example submission for assignment 5 that earns full marks."""
import numpy as np
import torch


# --- Part A ---

def grad_of_two_xtx(x):
    x = x.clone().requires_grad_(True)
    y = 2 * (x.T @ x)
    y.backward()
    return x.grad


def f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


def grad_through_control_flow(a):
    a = a.clone().requires_grad_(True)
    c = f(a)
    c.backward()
    return c.detach(), a.grad


def add_in_place(x, y):
    y.add_(x)
    return y


# --- Part B ---

def sigmoid(z):
    # exp(-z) overflows to inf for very negative z, and 1 / (1 + inf) is 0.0, the right answer there
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-z))


def initialize_with_zeros(dim):
    return np.zeros((dim, 1)), 0.0


def propagate(w, b, X, Y):
    m = X.shape[1]
    A = sigmoid(w.T @ X + b)
    eps = 1e-15
    A_safe = np.clip(A, eps, 1 - eps)  # log(0) is -inf
    cost = -np.sum(Y * np.log(A_safe) + (1 - Y) * np.log(1 - A_safe)) / m
    dZ = A - Y
    grads = {"dw": X @ dZ.T / m, "db": float(np.sum(dZ)) / m}
    return grads, float(cost)


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
    return (sigmoid(w.T @ X + b) > 0.5).astype(np.float64)


def model(X_train, Y_train, X_test, Y_test, num_iterations=2000, learning_rate=0.005):
    w, b = initialize_with_zeros(X_train.shape[0])
    params, grads, costs = optimize(w, b, X_train, Y_train, num_iterations, learning_rate)
    w, b = params["w"], params["b"]
    train, test = predict(w, b, X_train), predict(w, b, X_test)
    print(f"train accuracy {np.mean(train == Y_train):.3f}, test accuracy {np.mean(test == Y_test):.3f}")
    return {"costs": costs, "w": w, "b": b, "Y_prediction_train": train, "Y_prediction_test": test}
