# %% [markdown]
# # Assignment 1: tensors and their operations
#
# A tensor (张量) is PyTorch's n-dimensional array: NumPy's `ndarray`, plus a device (CPU
# or GPU) and automatic gradients. Every later assignment is built from the operations you
# practise here: creating tensors, reading their attributes, element-wise arithmetic,
# joining, indexing and slicing, reshaping data into batches, norms and linear algebra.
#
# Each function below is short, often one line. The point is to know which line. The
# grader checks values, shapes, dtypes and devices, so a result that *looks* right but has
# the wrong dtype or lives on the wrong device is reported as such. When a function gets a
# tensor, keep the result on that tensor's device.
#
# Check your work with `grade assignment1` (add `--device cuda` on a machine with a GPU).
# README.md lists every function with its contract.

# %%
import numpy as np
import torch

# %% [markdown]
# ## 1. Creating tensors, and moving between NumPy and PyTorch
#
# * `tensor_from_list(values)`: a tensor holding a nested list of numbers, with the dtype
#   PyTorch infers: `int64` for integers, `float32` for floats, `bool` for booleans.
# * `tensor_sharing_memory(array)`: a tensor that **shares memory** with a NumPy array, so a
#   change to one shows in the other (and no copy is made).
# * `numpy_from_tensor(t)`: the NumPy array of a tensor that may be on the GPU and may
#   require gradients. For a CPU tensor the array should share its memory.
# * `like(t)`: a dict with `"zeros"`, `"ones"` and `"rand"` (uniform in [0, 1)), each with
#   `t`'s shape, dtype and device.

# %%
def tensor_from_list(values):
    # YOUR CODE HERE
    raise NotImplementedError


def tensor_sharing_memory(array):
    # YOUR CODE HERE
    raise NotImplementedError


def numpy_from_tensor(t):
    # YOUR CODE HERE
    raise NotImplementedError


def like(t):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## 2. Attributes
#
# `tensor_info(t)` returns a dict: `"shape"` (a tuple of ints), `"dtype"` (a string such as
# `"torch.float32"`), `"device"` (a string such as `"cpu"` or `"cuda:0"`) and `"ndim"` (an int).

# %%
def tensor_info(t):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## 3. Element-wise arithmetic, joining, indexing
#
# * `elementwise(x, y)`: the tuple `(x + y, x - y, x * y, x / y, x ** y, exp(x))`.
# * `concatenate(x, y)`: two tensors of shape (m, n) → the pair (joined along dim 0,
#   shape (2m, n); joined along dim 1, shape (m, 2n)).
# * `pick(x)`: for x of shape (n, m) a dict with `"last_row"` (the last row),
#   `"rows_1_2"` (rows 1 and 2), `"row_0_first_two"` (the first two elements of row 0) and
#   `"column_1"` (column 1).
# * `fill_rows(x, value)`: a **new** tensor equal to x but with rows 0 and 1 set to `value`;
#   x itself must not change.

# %%
def elementwise(x, y):
    # YOUR CODE HERE
    raise NotImplementedError


def concatenate(x, y):
    # YOUR CODE HERE
    raise NotImplementedError


def pick(x):
    # YOUR CODE HERE
    raise NotImplementedError


def fill_rows(x, value):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## 4. Reshaping data into batches
#
# * `flatten_samples(images)`: images of shape (N, H, W) → shape (N, H·W), one row per image.
# * `make_batches(data, batch_size=128)`: a list of consecutive slices of `data` along dim 0,
#   each `batch_size` long except perhaps the last.

# %%
def flatten_samples(images):
    # YOUR CODE HERE
    raise NotImplementedError


def make_batches(data, batch_size=128):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## 5. Norms and linear algebra
#
# * `vector_norms(v)`: the pair (L1 norm, L2 norm) of a vector, as 0-D tensors.
# * `frobenius_norm(m)`: the Frobenius norm of a matrix, as a 0-D tensor.
# * `is_symmetric(a, tol=1e-6)`: whether a is square and equal to its transpose (within tol).
# * `is_orthogonal(q, tol=1e-5)`: whether q is square with qᵀq equal to the identity (within tol).
# * `matrix_product(a, b)`: the matrix product of (n, m) and (m, k) tensors.
# * `transpose(a)`: the transpose of a matrix.
#
# The exercise is to compute the norms from their definitions with tensor operations; each
# is one line.

# %%
def vector_norms(v):
    # YOUR CODE HERE
    raise NotImplementedError


def frobenius_norm(m):
    # YOUR CODE HERE
    raise NotImplementedError


def is_symmetric(a, tol=1e-6):
    # YOUR CODE HERE
    raise NotImplementedError


def is_orthogonal(q, tol=1e-5):
    # YOUR CODE HERE
    raise NotImplementedError


def matrix_product(a, b):
    # YOUR CODE HERE
    raise NotImplementedError


def transpose(a):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## Try it

# %%
if __name__ == "__main__":
    x = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    print(tensor_info(x))
    print(concatenate(x, x)[1].shape)
