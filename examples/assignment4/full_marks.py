"""An example submission for assignment 4 that earns full marks."""
import torch
from torch import nn
from torch.utils import data


def synthetic_data(w, b, num_examples):
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))


def load_array(data_arrays, batch_size, is_train=True):
    dataset = data.TensorDataset(*data_arrays)
    return data.DataLoader(dataset, batch_size, shuffle=is_train)


def train_linear_regression(features, labels, num_epochs=3, lr=0.03, batch_size=10):
    net = nn.Sequential(nn.Linear(features.shape[1], 1))
    net[0].weight.data.normal_(0, 0.01)
    net[0].bias.data.fill_(0)
    loss = nn.MSELoss()
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    data_iter = load_array((features, labels), batch_size)
    for epoch in range(num_epochs):
        for X, y in data_iter:
            l = loss(net(X), y)
            trainer.zero_grad()
            l.backward()
            trainer.step()
    return net[0].weight.data, net[0].bias.data


def softmax(X):
    X_exp = torch.exp(X - X.max(dim=1, keepdim=True).values)
    return X_exp / X_exp.sum(1, keepdim=True)


def cross_entropy(y_hat, y):
    return -torch.log(y_hat[range(len(y_hat)), y])


def train_epoch(net, train_iter, loss, updater, device):
    net.train()
    loss_sum, right, seen = 0.0, 0, 0
    for X, y in train_iter:
        X, y = X.to(device), y.to(device)
        y_hat = net(X)
        l = loss(y_hat, y)
        updater.zero_grad()
        l.mean().backward()
        updater.step()
        loss_sum += l.sum().item()
        right += (y_hat.argmax(dim=1) == y).sum().item()
        seen += y.numel()
    return loss_sum / seen, right / seen


def evaluate_accuracy(net, data_iter, device):
    net.eval()
    right, seen = 0, 0
    with torch.no_grad():
        for X, y in data_iter:
            X, y = X.to(device), y.to(device)
            right += (net(X).argmax(dim=1) == y).sum().item()
            seen += y.numel()
    return right / seen


def fit(net, X, y, device, epochs, lr):
    net = net.to(device)
    trainer = torch.optim.Adam(net.parameters(), lr=lr)
    loss = nn.CrossEntropyLoss(reduction="none")
    for epoch in range(epochs):
        train_epoch(net, load_array((X, y), 32), loss, trainer, device)
    return net


def train_spiral_classifier(X, y, device):
    net = nn.Sequential(nn.Linear(2, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 3))
    return fit(net, X, y, device, epochs=80, lr=0.005)


def train_digits_classifier(X, y, device):
    net = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10))
    return fit(net, X, y, device, epochs=20, lr=0.002)
