# %% [markdown]
# # Autograd, and logistic regression vectorised
#
# Say here what this assignment teaches and what students write. Each function below
# has its contract (what it takes, returns and raises) in the cell above it; the README
# has the full exercise.
#
# Check your work with `grade assignment5`.

# %%
import numpy as np


# %% [markdown]
# ## `grad_of_two_xtx`
#
# `grad_of_two_xtx(x)` takes a NumPy array `x` of any shape and returns a **new** array of the
# same shape holding `2 * x`.

# %%
def grad_of_two_xtx(x):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## `grad_through_control_flow`
#
# `grad_through_control_flow(x)` takes a NumPy array `x` of any shape and returns a **new** array of the
# same shape holding `2 * x`.

# %%
def grad_through_control_flow(x):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## `add_in_place`
#
# `add_in_place(x)` takes a NumPy array `x` of any shape and returns a **new** array of the
# same shape holding `2 * x`.

# %%
def add_in_place(x):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## `sigmoid`
#
# `sigmoid(x)` takes a NumPy array `x` of any shape and returns a **new** array of the
# same shape holding `2 * x`.

# %%
def sigmoid(x):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## `initialize_with_zeros`
#
# `initialize_with_zeros(x)` takes a NumPy array `x` of any shape and returns a **new** array of the
# same shape holding `2 * x`.

# %%
def initialize_with_zeros(x):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## `propagate`
#
# `propagate(x)` takes a NumPy array `x` of any shape and returns a **new** array of the
# same shape holding `2 * x`.

# %%
def propagate(x):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## `optimize`
#
# `optimize(x)` takes a NumPy array `x` of any shape and returns a **new** array of the
# same shape holding `2 * x`.

# %%
def optimize(x):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## `predict`
#
# `predict(x)` takes a NumPy array `x` of any shape and returns a **new** array of the
# same shape holding `2 * x`.

# %%
def predict(x):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## `model`
#
# `model(x)` takes a NumPy array `x` of any shape and returns a **new** array of the
# same shape holding `2 * x`.

# %%
def model(x):
    # YOUR CODE HERE
    raise NotImplementedError
