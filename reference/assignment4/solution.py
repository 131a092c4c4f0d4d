"""Reference solution for assignment 4: training loops for regression and classification."""

import torch
from torch import nn
from torch.utils import data


def synthetic_data(w, b, num_examples):
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = X @ torch.as_tensor(w, dtype=X.dtype) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y.reshape(-1, 1)


def load_array(data_arrays, batch_size, is_train=True):
    return data.DataLoader(data.TensorDataset(*data_arrays), batch_size, shuffle=is_train)


def train_linear_regression(features, labels, num_epochs=3, lr=0.03, batch_size=10):
    net = nn.Linear(features.shape[1], 1)
    net.weight.data.normal_(0, 0.01)
    net.bias.data.fill_(0)
    loss = nn.MSELoss()
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    for _ in range(num_epochs):
        for X, y in load_array((features, labels), batch_size):
            trainer.zero_grad()
            loss(net(X), y).backward()
            trainer.step()
    return net.weight.data.reshape(-1), net.bias.data


def softmax(X):
    shifted = X - X.max(dim=1, keepdim=True).values
    exp = torch.exp(shifted)
    return exp / exp.sum(dim=1, keepdim=True)


def cross_entropy(y_hat, y):
    return -torch.log(y_hat[range(len(y_hat)), y])


def train_epoch(net, train_iter, loss, updater, device):
    net.train()
    total_loss, correct, count = 0.0, 0, 0
    for X, y in train_iter:
        X, y = X.to(device), y.to(device)
        y_hat = net(X)
        l = loss(y_hat, y)
        updater.zero_grad()
        l.mean().backward()
        updater.step()
        total_loss += float(l.detach().sum())
        correct += int((y_hat.argmax(dim=1) == y).sum())
        count += len(y)
    return total_loss / count, correct / count


def evaluate_accuracy(net, data_iter, device):
    net.eval()
    correct, count = 0, 0
    with torch.no_grad():
        for X, y in data_iter:
            X, y = X.to(device), y.to(device)
            correct += int((net(X).argmax(dim=1) == y).sum())
            count += len(y)
    return correct / count


def _fit(net, X, y, device, epochs, batch_size, lr):
    net = net.to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    loss = nn.CrossEntropyLoss(reduction="none")
    batches = load_array((X, y), batch_size)
    for _ in range(epochs):
        train_epoch(net, batches, loss, optimizer, device)
    return net


def train_spiral_classifier(X, y, device):
    net = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 3))
    return _fit(net, X, y, device, epochs=80, batch_size=32, lr=0.005)


def train_digits_classifier(X, y, device):
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    return _fit(net, X, y, device, epochs=25, batch_size=64, lr=0.003)
