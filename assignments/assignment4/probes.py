"""Probes for assignment 4: grader code that drives the student's training loops in their process.

A probe builds what a loop needs (a network with given weights, a loss, an
optimizer, batches), runs the student's function, and returns what it saw:
the student's result, every forward pass (mode, gradient tracking, device,
logits), and at every optimizer step the parameters and the gradients they
held. The grading side recomputes what each should have been.

Batches come as tensors that note when they are moved (.to, .cuda), so data
left on the CPU is caught on a machine without a GPU too. The network
builders are shared with the checks (``from .probes import ...``).
"""

import torch
from torch import nn


def linear_net(inputs, classes):
    """Softmax regression as in the course: flatten, then one linear layer."""
    return nn.Sequential(nn.Flatten(), nn.Linear(inputs, classes))


def dropout_net(inputs, hidden, classes):
    """An MLP with dropout, whose outputs depend on train/eval mode."""
    return nn.Sequential(nn.Flatten(), nn.Linear(inputs, hidden), nn.ReLU(), nn.Dropout(0.5), nn.Linear(hidden, classes))


class _Moves:
    count = 0


class Tracked(torch.Tensor):
    """A tensor that counts calls of .to() and .cuda() on it; every result is a plain tensor."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func in (torch.Tensor.to, torch.Tensor.cuda):
            _Moves.count += 1
        with torch._C.DisableTorchFunctionSubclass():
            return func(*args, **(kwargs or {}))


def _tracked_batches(batches):
    _Moves.count = 0
    return [tuple(t.as_subclass(Tracked) for t in batch) for batch in batches]


def _net(net, state, device):
    net.load_state_dict(state)
    return net.to(device)


def _watch_forwards(net):
    forwards = []

    def hook(module, inputs, output):
        forwards.append({
            "training": module.training,
            "grad_enabled": torch.is_grad_enabled(),
            "device": str(inputs[0].device),
            "logits": output.detach().cpu().clone(),
        })

    net.register_forward_hook(hook)
    return forwards


def _watch_steps(net, updater):
    record = {"steps": [], "zero_grads": 0}
    step, zero_grad, net_zero_grad = updater.step, updater.zero_grad, net.zero_grad

    def counted_step(*args, **kwargs):
        record["steps"].append({
            "params": [p.detach().cpu().clone() for p in net.parameters()],
            "grads": [None if p.grad is None else p.grad.detach().cpu().clone() for p in net.parameters()],
        })
        return step(*args, **kwargs)

    def counted_zero_grad(*args, **kwargs):
        record["zero_grads"] += 1
        return zero_grad(*args, **kwargs)

    def counted_net_zero_grad(*args, **kwargs):
        record["zero_grads"] += 1
        return net_zero_grad(*args, **kwargs)

    updater.step, updater.zero_grad, net.zero_grad = counted_step, counted_zero_grad, counted_net_zero_grad
    return record


def batches(student, arrays, batch_size, is_train):
    """Two passes over load_array(arrays, batch_size, is_train), as lists of tensors."""
    loader = student.load_array(tuple(arrays), batch_size, is_train)
    return [[[t.detach().cpu() for t in batch] for batch in loader] for _ in range(2)]


def train_epoch(student, inputs, classes, state, batches, lr, device, epochs=1):
    """train_epoch on a softmax regression net, watched; several epochs when asked."""
    net = _net(linear_net(inputs, classes), state, device)
    net.eval()  # train_epoch should switch the net to training mode itself
    loss = nn.CrossEntropyLoss(reduction="none")
    updater = torch.optim.SGD(net.parameters(), lr=lr)
    forwards = _watch_forwards(net)
    record = _watch_steps(net, updater)
    results = []
    for _ in range(epochs):
        tracked = _tracked_batches(batches)
        results.append(student.train_epoch(net, tracked, loss, updater, device))
    return {
        "results": results,
        "forwards": forwards,
        "steps": record["steps"],
        "zero_grads": record["zero_grads"],
        "moves": _Moves.count,
        "final": [p.detach().cpu().clone() for p in net.parameters()],
    }


def evaluate_accuracy(student, inputs, hidden, classes, state, batches, device):
    """evaluate_accuracy on a net with dropout, left in training mode: what mode did it run in?"""
    net = _net(dropout_net(inputs, hidden, classes), state, device)
    net.train()
    forwards = _watch_forwards(net)
    tracked = _tracked_batches(batches)
    result = student.evaluate_accuracy(net, tracked, device)
    return {"result": result, "forwards": forwards, "moves": _Moves.count}


def predict(student, model, X, device):
    """The logits a trained model gives for X, in evaluation mode without gradients."""
    model.eval()
    with torch.no_grad():
        return model(X.to(device)).detach().cpu()
