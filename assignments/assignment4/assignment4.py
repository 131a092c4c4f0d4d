# %% [markdown]
# # Assignment 4: training loops
#
# Every model you train from now on goes through the same loop: take a minibatch (小批量),
# compute the loss, backpropagate, step the optimizer, repeat; then measure accuracy on data
# the model has not seen. This assignment builds that loop piece by piece: linear
# regression on synthetic data, softmax regression (softmax回归) from scratch, a reusable
# `train_epoch` and `evaluate_accuracy`, and two classifiers trained with them.
#
# The grader watches your loops run. It checks every optimizer step, so a forgotten
# `zero_grad()`, data left on the CPU while the model is on a GPU, an evaluation in training
# mode or an accuracy taken along the wrong axis is named precisely.
#
# Check your work with `grade assignment4` (add `--device cuda` on a machine with a GPU).

# %%
import torch
from torch import nn
from torch.utils import data

# %% [markdown]
# ## 1. Linear regression
#
# * `synthetic_data(w, b, num_examples)`: features `X` of shape (n, len(w)) drawn from
#   N(0, 1), and labels `y = X·w + b + noise` with noise from N(0, 0.01²), shape (n, 1).
# * `load_array(data_arrays, batch_size, is_train=True)`: an iterable of minibatches over a
#   tuple of tensors (features, labels). Shuffle only when `is_train` is True: test data
#   keeps its order.
# * `train_linear_regression(features, labels, num_epochs=3, lr=0.03, batch_size=10)`:
#   train an `nn.Linear` with `nn.MSELoss` and `torch.optim.SGD` at learning rate `lr`,
#   starting as the course does from weights drawn from N(0, 0.01²) and a bias of 0:
#   `num_epochs` passes over shuffled minibatches of `batch_size` from `load_array`, one
#   optimizer step each. Return `(w, b)`, the learnt weights and bias.

# %%
def synthetic_data(w, b, num_examples):
    # YOUR CODE HERE
    raise NotImplementedError


def load_array(data_arrays, batch_size, is_train=True):
    # YOUR CODE HERE
    raise NotImplementedError


def train_linear_regression(features, labels, num_epochs=3, lr=0.03, batch_size=10):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## 2. Softmax regression from scratch
#
# * `softmax(X)`: for X of shape (n, q), each **row** turned into probabilities:
#   exp(X[i, j]) / Σₖ exp(X[i, k]). It must stay finite for logits around 1000: subtracting
#   a row's largest value first changes nothing mathematically and avoids the overflow.
# * `cross_entropy(y_hat, y)`: for probabilities `y_hat` (n, q) and class indices `y` (n,),
#   the loss of each example, −log y_hat[i, y[i]], as a tensor of shape (n,).

# %%
def softmax(X):
    # YOUR CODE HERE
    raise NotImplementedError


def cross_entropy(y_hat, y):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## 3. One epoch, and an evaluation
#
# * `train_epoch(net, train_iter, loss, updater, device)`: one pass over `train_iter`. Put
#   the net in training mode; for each batch move X and y to `device`, compute the loss
#   (`loss` returns one value per example: take the mean before `backward()`), clear the old
#   gradients, backpropagate and step the `updater` (an optimizer). Return
#   `(mean_loss, accuracy)` over all examples of the epoch: the summed loss divided by the
#   number of examples, and the fraction predicted right (the predicted class is the
#   largest score in each row).
# * `evaluate_accuracy(net, data_iter, device)`: the fraction of examples the net predicts
#   right, in evaluation mode (`net.eval()`) and without tracking gradients
#   (`torch.no_grad()`).

# %%
def train_epoch(net, train_iter, loss, updater, device):
    # YOUR CODE HERE
    raise NotImplementedError


def evaluate_accuracy(net, data_iter, device):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## 4. Two classifiers
#
# Each function gets training data (features `X`, integer labels `y`, both on the CPU) and a
# `device`, and returns a trained `nn.Module` whose outputs are class scores (one row per
# input). Train the network on `device`: move it there first (`net.to(device)`); the grader
# notices one left behind even without a GPU. It measures accuracy on held-out data it keeps
# to itself.
#
# * `train_spiral_classifier(X, y, device)`: 2-D points on three interleaved spiral arms; a
#   linear model cannot separate them, an MLP with ReLU can. Needed: test accuracy ≥ 0.95.
# * `train_digits_classifier(X, y, device)`: 8×8 images of handwritten digits, as 64 values
#   in [0, 1] each, labels 0–9. A dense network (全连接网络) like the course's MNIST one.
#   Needed: test accuracy ≥ 0.92.
#
# Each must finish within two minutes on a laptop CPU; a few seconds is plenty. Use your
# `train_epoch` and `evaluate_accuracy`.

# %%
def train_spiral_classifier(X, y, device):
    # YOUR CODE HERE
    raise NotImplementedError


def train_digits_classifier(X, y, device):
    # YOUR CODE HERE
    raise NotImplementedError


# %% [markdown]
# ## Try it

# %%
if __name__ == "__main__":
    true_w, true_b = torch.tensor([2, -3.4]), 4.2
    features, labels = synthetic_data(true_w, true_b, 1000)
    w, b = train_linear_regression(features, labels)
    print("error in w:", true_w - w.reshape(true_w.shape), "error in b:", true_b - b)
