# %% [markdown]
# # Assignment 3: backpropagation by hand
#
# You will build the smallest interesting neural network, two inputs, two hidden
# sigmoid neurons and one sigmoid output, and train it with gradients **you derive
# yourself** with the chain rule (链式法则). Then you write the same backward pass for a
# whole batch with matrices.
#
# PyTorch's autograd would do the derivatives for you, so it is not allowed in
# `gradients`, `train` and `two_layer_loss_and_grads`: a part that uses it (`.backward()`,
# `torch.autograd`, `torch.func`, `requires_grad`) earns no points. The grader compares
# your numbers with PyTorch's, so you will know when you got them right.
#
# Check your work with `grade assignment3`. README.md has the derivation to work through.

# %%
import numpy as np

# %% [markdown]
# ## 1. Building blocks
#
# * `sigmoid(x)`: σ(x) = 1 / (1 + e^(−x)), element-wise, for a number or a NumPy array
#   of any shape (a list need not work). It must stay finite for large |x| (try x = −1000).
# * `deriv_sigmoid(x)`: the derivative σ'(x) = σ(x)(1 − σ(x)). Note that `x` here is the
#   **pre-activation**, the value before σ is applied.
# * `mse_loss(y_true, y_pred)`: the mean of the squared errors over every entry of two
#   NumPy arrays of the same shape, as a number.

# %%
def sigmoid(x):
    # YOUR CODE HERE
    raise NotImplementedError


def deriv_sigmoid(x):
    # YOUR CODE HERE
    raise NotImplementedError


def mse_loss(y_true, y_pred):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## 2. The network
#
# ```
# x0 ─┬─ w1 ─┐                        h1 = σ(w1·x0 + w2·x1 + b1)
#     │      (h1) ─ w5 ─┐             h2 = σ(w3·x0 + w4·x1 + b2)
#     └─ w3 ─┐          (o1)          o1 = σ(w5·h1 + w6·h2 + b3)
# x1 ─┬─ w2 ─┘ (h2) ─ w6 ─┘
#     └─ w4 ───┘
# ```
#
# * `__init__()` sets the nine floats `w1` … `w6`, `b1` … `b3` to 0.1, so that everyone's
#   results can be compared.
# * `feedforward(x)` takes `x` of length 2 and returns `o1`.
# * `gradients(x, y_true)` returns a dict with the keys `"w1"` … `"w6"`, `"b1"` … `"b3"`:
#   the partial derivative of the loss L = (y_true − o1)² with respect to each parameter,
#   for this one sample.
# * `train(data, all_y_trues, learn_rate=0.1, epochs=1000)` runs stochastic gradient
#   descent: for each epoch, for each sample **in order**, compute the gradients and move
#   every parameter by −learn_rate × its gradient. Printing the loss now and then is fine.

# %%
class OurNeuralNetwork:
    def __init__(self):
        # YOUR CODE HERE
        raise NotImplementedError

    def feedforward(self, x):
        # YOUR CODE HERE
        raise NotImplementedError

    def gradients(self, x, y_true):
        # YOUR CODE HERE
        raise NotImplementedError

    def train(self, data, all_y_trues, learn_rate=0.1, epochs=1000):
        # YOUR CODE HERE
        raise NotImplementedError


# %% [markdown]
# ## 3. The same backward pass for a batch
#
# `two_layer_loss_and_grads(params, X, y)` takes
#
# * `params`: a dict with `"W1"` of shape (D, H), `"b1"` (H,), `"W2"` (H, O), `"b2"` (O,);
# * `X` of shape (N, D) and `y` of shape (N, O).
#
# The forward pass is H = σ(X·W1 + b1) and Ŷ = σ(H·W2 + b2), and the loss is the mean of
# (Ŷ − y)² over **all N×O entries**. Return `(loss, grads)` where `grads` has the same keys
# and shapes as `params`. Write it with matrix operations, not loops over samples.

# %%
def two_layer_loss_and_grads(params, X, y):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## Try it
#
# The course's four people: two shifted body measurements each, and a label.

# %%
if __name__ == "__main__":
    data = np.array([[-2, -1], [25, 6], [17, 4], [-15, -6]])
    all_y_trues = np.array([1, 0, 0, 1])
    network = OurNeuralNetwork()
    network.train(data, all_y_trues)
    print("prediction for [-7, -3]: %.3f" % network.feedforward(np.array([-7, -3])))
    print("prediction for [20, 2]: %.3f" % network.feedforward(np.array([20, 2])))
