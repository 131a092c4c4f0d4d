# %% [markdown]
# # Assignment 5: autograd, and logistic regression vectorised
#
# Part A lets PyTorch derive for you (自动求梯度, automatic differentiation): a gradient
# you know in closed form, a gradient through Python's `while` and `if`, and an addition
# that costs no new memory (运算的内存开销). Here autograd is the point: a gradient that
# does not come from it earns no points.
#
# Part B builds logistic regression (逻辑回归) from scratch in NumPy: the cost
# (损失函数 averaged over the m samples), its gradient derived by hand, gradient descent
# (梯度下降), and a classifier trained on scikit-learn's breast-cancer data. Everything
# works on all m samples at once (向量化, vectorisation): a Python loop over the samples
# in `propagate` or `predict` earns no points for that function.
#
# Check your work with `grade assignment5`. README.md has the derivation to work through.

# %%
import numpy as np
import torch

# %% [markdown]
# ## Part A: autograd
#
# ### `grad_of_two_xtx(x)`
#
# `x` is a float tensor of shape (n, 1). Return ∂y/∂x for y = 2·xᵀx, **computed by
# autograd**: let PyTorch track `x` (`requires_grad`), compute `y` from it, call
# `y.backward()` and return the gradient autograd stored. It has `x`'s shape and dtype,
# and equals 4x, which is how the grader checks it.

# %%
def grad_of_two_xtx(x):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ### `grad_through_control_flow(a)`
#
# `a` is a float tensor of shape (1,). Write the tutorial's `f`: start from `b = a * 2`;
# while the norm of `b` is below 1000, double it; then `c` is `b` if the sum of `b` is
# positive, else `100 * b`. Run it on `a`, let autograd find ∂c/∂a, and return the pair
# `(c, grad)`. Since f multiplies `a` by a constant that depends on `a`, the gradient is
# that constant, `c / a`.

# %%
def grad_through_control_flow(a):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ### `add_in_place(x, y)`
#
# Add `x` to `y` without making a new tensor for the result: afterwards `y` is the same
# object (`id(y)` unchanged) over the same memory (`y.data_ptr()` unchanged) and holds
# x + y. Return `y`. Note that `y[:] = x + y` keeps `y` but first builds `x + y` in new
# memory.

# %%
def add_in_place(x, y):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## Part B: logistic regression, vectorised
#
# Shapes: `X` holds one sample per **column**, (n_x, m); labels `Y` are (1, m) of 0.0
# and 1.0; `w` is (n_x, 1) and `b` a number. No Python loop over the samples in
# `propagate` and `predict`.
#
# ### `sigmoid(z)`
#
# σ(z) = 1 / (1 + e^(−z)) element by element, for an array of any shape. It must stay
# finite and correct for large |z| (try z = −1000 and z = 1000).

# %%
def sigmoid(z):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ### `initialize_with_zeros(dim)`
#
# Return the pair `(w, b)`: `w` an array of zeros of shape (dim, 1) and `b = 0.0`.

# %%
def initialize_with_zeros(dim):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ### `propagate(w, b, X, Y)`
#
# The forward and backward pass over all m samples at once. With A = σ(wᵀX + b), the
# cost is J = −(1/m)·Σ[Y·log A + (1 − Y)·log(1 − A)]. Return `(grads, cost)`, where
# `grads = {"dw": dw, "db": db}` holds ∂J/∂w of shape (n_x, 1) and ∂J/∂b as a number,
# and `cost` is a number. Derive the gradients by hand (README.md). The cost must stay
# finite where A is exactly 0 or 1.

# %%
def propagate(w, b, X, Y):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ### `optimize(w, b, X, Y, num_iterations, learning_rate)`
#
# Gradient descent: `num_iterations` times, call `propagate` and move `w` and `b` against
# their gradients by `learning_rate` times each. Record the cost of iterations 0, 100,
# 200, ... (before that iteration's update). Return `(params, grads, costs)`:
# `params = {"w": w, "b": b}` after the last update, `grads` the last `propagate`'s, and
# `costs` the list of recorded costs.

# %%
def optimize(w, b, X, Y, num_iterations, learning_rate):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ### `predict(w, b, X)`
#
# An array of shape (1, m): 1.0 where σ(wᵀX + b) > 0.5, else 0.0 (exactly 0.5 gives 0.0).

# %%
def predict(w, b, X):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ### `model(X_train, Y_train, X_test, Y_test, num_iterations=2000, learning_rate=0.005)`
#
# Put it together: start from `initialize_with_zeros`, train with `optimize`, predict
# both sets with the trained `w` and `b`, and return a dict with `"costs"`, `"w"`,
# `"b"`, `"Y_prediction_train"` and `"Y_prediction_test"`. On the breast-cancer data
# the grader gives it (30 measurements per tumour, standardised), it must classify at
# least 95% of the test set.

# %%
def model(X_train, Y_train, X_test, Y_test, num_iterations=2000, learning_rate=0.005):
    # YOUR CODE HERE
    raise NotImplementedError
