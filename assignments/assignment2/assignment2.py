# %% [markdown]
# # Assignment 2: element-wise loops, broadcasting and dot products
#
# NumPy does `x + y`, `np.maximum(x, 0)` and `x @ y` for you in fast C code. In this
# assignment you write those operations yourself, with Python `for` loops that touch
# **one element at a time** (逐元素). Doing it once by hand is the best way to understand
# what broadcasting (广播) and the dot product (点积) really compute.
#
# Rules, checked by the grader:
#
# * Build every result from loops over single elements (`x[i, j]`). Whole-array
#   arithmetic such as `x + y`, `np.add`, `np.maximum`, `np.dot`, `@`, `np.einsum` or
#   any PyTorch operation earns no points for that function.
# * Creating arrays (`np.zeros`, `x.copy()`), reading `.shape` and `.ndim`, and
#   indexing single elements are fine.
# * Do not change the arrays you are given: work on a copy or a new array.
# * When the shapes do not fit, raise an error (see each function).
#
# Check your work with `grade assignment2`. See README.md for the full exercise.

# %%
import numpy as np

# %% [markdown]
# ## 1. Element-wise operations
#
# `naive_relu(x)` takes a 2-D array and returns a **new** array with `max(x[i, j], 0)`
# in every position. Raise an `AssertionError` (an `assert` is enough) or a
# `ValueError` if `x` is not 2-D.

# %%
def naive_relu(x):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# `naive_add(x, y)` takes two 2-D arrays of the same shape and returns their
# element-wise sum. Raise `AssertionError` or `ValueError` if they are not both 2-D
# with the same shape.

# %%
def naive_add(x, y):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## 2. Broadcasting a vector over a matrix
#
# `naive_add_matrix_and_vector(x, y)` takes a matrix of shape `(n, m)` and a vector of
# shape `(m,)` and adds the vector to every row, as `x + y` would. Raise
# `AssertionError` or `ValueError` if `x` is not 2-D, `y` is not 1-D, or their sizes
# do not fit.

# %%
def naive_add_matrix_and_vector(x, y):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## 3. Dot products
#
# * `naive_vector_dot(x, y)`: two vectors of shape `(n,)` → a single number.
# * `naive_matrix_vector_dot(x, y)`: shapes `(n, m)` and `(m,)` → shape `(n,)`.
# * `naive_matrix_dot(x, y)`: shapes `(n, m)` and `(m, k)` → shape `(n, k)`.
#
# Each raises `AssertionError` or `ValueError` when the shapes do not fit: a wrong
# number of dimensions, or sizes that differ. Check the shapes before any loop: a
# matrix of shape `(0, 4)` has no rows, but it still does not fit a vector of length 3.
# You may call your own earlier functions: `naive_matrix_dot` can use `naive_vector_dot`.

# %%
def naive_vector_dot(x, y):
    # YOUR CODE HERE
    raise NotImplementedError


def naive_matrix_vector_dot(x, y):
    # YOUR CODE HERE
    raise NotImplementedError


def naive_matrix_dot(x, y):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## 4. Broadcasting in general
#
# `naive_broadcast_add(x, y)` adds two arrays of **any** ranks under NumPy's
# broadcasting rules: line the shapes up from the right, treat missing axes as size 1,
# and stretch every axis of size 1 to match the other array. The result has the shape
# `np.broadcast_shapes(x.shape, y.shape)` would give. If two sizes differ and neither
# is 1, raise a `ValueError` (an `AssertionError` is not enough here).
#
# Work out the result shape, then loop over every index of the result (for example
# with `np.ndindex(*shape)`) and find which element of `x` and of `y` it comes from.

# %%
def naive_broadcast_add(x, y):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## Try it
#
# Compare your functions with NumPy on small arrays before running the grader.

# %%
if __name__ == "__main__":
    a = np.array([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]])
    b = np.array([10.0, 20.0, 30.0])
    print(naive_relu(a))
    print(naive_add_matrix_and_vector(a, b), a + b, sep="\n")
