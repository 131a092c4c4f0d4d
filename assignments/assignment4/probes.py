"""Probes for assignment 4: grader code that drives the student's training loops in their process.

A probe builds what a loop needs (a network with given weights, a loss, an
optimizer, batches), runs the student's function, and returns what it saw:
the student's result, every forward pass (mode, gradient tracking, device,
logits), and at every optimizer step the parameters and the gradients they
held. The grading side recomputes what each should have been.

Batches come as tensors marked "not yet moved": the mark survives every
operation except a move to `device` (``.to(device)``, ``.cuda()``,
``torch.as_tensor(X, device=device)``...), so what the network and the loss
receive tells whether the data was moved, on a machine without a GPU too. The
network builders are shared with the checks (``from .probes import ...``).
"""

import torch
from torch import nn
from torch.nn.modules.module import register_module_parameter_registration_hook
from torch.optim.optimizer import register_optimizer_step_pre_hook
from torch.overrides import TorchFunctionMode, _get_current_function_mode_stack
from torch.utils._device import DeviceContext, _device_constructors


def linear_net(inputs, classes):
    """Softmax regression as in the course: flatten, then one linear layer."""
    return nn.Sequential(nn.Flatten(), nn.Linear(inputs, classes))


def dropout_net(inputs, hidden, classes):
    """An MLP with dropout, whose outputs depend on train/eval mode."""
    return nn.Sequential(nn.Flatten(), nn.Linear(inputs, hidden), nn.ReLU(), nn.Dropout(0.5), nn.Linear(hidden, classes))


class Unmoved(torch.Tensor):
    """A batch tensor where the loader left it; what is computed from it stays Unmoved until moved."""


_MOVES = frozenset({torch.Tensor.to, torch.Tensor.cuda, torch.Tensor.cpu, torch.as_tensor, torch.asarray,
                    torch.tensor})


def _device_type(value):
    if isinstance(value, torch.device):
        return value.type
    if isinstance(value, str):
        try:
            return torch.device(value).type
        except RuntimeError:
            return None
    if isinstance(value, int) and not isinstance(value, bool):
        return "cuda"
    if isinstance(value, torch.Tensor) and not isinstance(value, Unmoved):
        return value.device.type
    return None


def _target(func, args, kwargs):
    """The type of device a move sends its tensor to, or None when the call moves nothing."""
    if func is torch.Tensor.cuda:
        return "cuda"
    if func is torch.Tensor.cpu:
        return "cpu"
    if func is torch.Tensor.to:
        for value in (kwargs.get("device"), *args[1:]):
            found = _device_type(value)
            if found is not None:
                return found
        return None
    device = kwargs.get("device")
    if device is None and func is torch.as_tensor and len(args) > 2:
        device = args[2]
    return _device_type(device)


class _MovesWatch(TorchFunctionMode):
    """While active: a move of an Unmoved tensor to `device` gives a plain tensor."""

    def __init__(self, device):
        super().__init__()
        self.device = torch.device(device).type

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        if func in _MOVES and isinstance(result, Unmoved) and _target(func, args, kwargs) == self.device:
            return result.as_subclass(torch.Tensor)
        return result


def _unmoved_batches(batches):
    return [tuple(t.as_subclass(Unmoved) for t in batch) for batch in batches]


def _moved(tensors):
    return not any(isinstance(t, Unmoved) for t in tensors if isinstance(t, torch.Tensor))


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
            "moved": _moved(inputs),
            "logits": output.detach().cpu().clone().as_subclass(torch.Tensor),
        })

    net.register_forward_hook(hook)
    return forwards


def _watch_targets(loss):
    """Whether the labels reached the loss moved, call by call."""
    moved = []
    loss.register_forward_pre_hook(lambda module, inputs: moved.append(_moved(inputs)))
    return moved


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
    """Two passes over load_array(arrays, batch_size, is_train): each batch as a list of tensors, or as it came."""
    loader = student.load_array(tuple(arrays), batch_size, is_train)

    def plain(batch):
        if isinstance(batch, (tuple, list)):
            return [t.detach().cpu() if isinstance(t, torch.Tensor) else t for t in batch]
        return batch

    return [[plain(batch) for batch in loader] for _ in range(2)]


def train_epoch(student, inputs, classes, state, batches, lr, device, epochs=1):
    """train_epoch on a softmax regression net, watched; several epochs when asked."""
    net = _net(linear_net(inputs, classes), state, device)
    net.eval()  # train_epoch should switch the net to training mode itself
    loss = nn.CrossEntropyLoss(reduction="none")
    updater = torch.optim.SGD(net.parameters(), lr=lr)
    forwards = _watch_forwards(net)
    targets = _watch_targets(loss)
    record = _watch_steps(net, updater)
    results = []
    for _ in range(epochs):
        with _MovesWatch(device):
            results.append(student.train_epoch(net, _unmoved_batches(batches), loss, updater, device))
    return {
        "results": results,
        "forwards": forwards,
        "targets_moved": targets,
        "steps": record["steps"],
        "zero_grads": record["zero_grads"],
        "final": [p.detach().cpu().clone() for p in net.parameters()],
    }


def evaluate_accuracy(student, inputs, hidden, classes, state, batches, device):
    """evaluate_accuracy on a net with dropout, left in training mode: what mode did it run in?"""
    net = _net(dropout_net(inputs, hidden, classes), state, device)
    net.train()
    forwards = _watch_forwards(net)
    with _MovesWatch(device):
        result = student.evaluate_accuracy(net, _unmoved_batches(batches), device)
    return {"result": result, "forwards": forwards}


def predict(student, model, X, device):
    """The logits a trained model gives for X, in evaluation mode without gradients; None if it is no nn.Module."""
    if not isinstance(model, nn.Module):
        return None
    model.eval()
    with torch.no_grad():
        logits = model(X.to(device))
    return logits.detach().cpu() if isinstance(logits, torch.Tensor) else logits


def linear_regression(student, features, labels, options):
    """train_linear_regression(features, labels, **options), watched: its result, how each nn.Linear
    started (its parameters at its first forward pass, before any update), and the optimizer steps taken."""
    starts, steps = [], []

    def note(module, inputs):
        if isinstance(module, nn.Linear) and all(start["module"] != id(module) for start in starts):
            starts.append({"module": id(module), "weight": module.weight.detach().cpu().clone(),
                           "bias": None if module.bias is None else module.bias.detach().cpu().clone()})

    forward_hook = nn.modules.module.register_module_forward_pre_hook(note)
    step_hook = register_optimizer_step_pre_hook(lambda optimizer, args, kwargs: steps.append(1))
    try:
        result = student.train_linear_regression(features, labels, **options)
    finally:
        forward_hook.remove()
        step_hook.remove()
    for start in starts:
        del start["module"]
    return {"result": result, "starts": starts, "steps": len(steps)}


class _Placement:
    """While active: which parameters were put on `device`, moved there or created there.

    A network never moved to the device trains as well as any on the CPU, and
    fails on a GPU only, where the data arrives and the network is not. So the
    moves are watched, not the result: a module's ``.to``, ``.cuda``, ``.cpu``
    or ``.to_empty`` that sends it to the device places its parameters, and so
    does creating a parameter from a tensor constructor given that device
    (``nn.Linear(..., device=device)``), or under ``torch.device(device)`` or
    ``torch.set_default_device(device)``. Only the public entry points are
    wrapped, for the length of one call, so training runs at full speed (a
    TorchFunctionMode would see every operation, and slows training several times).
    """

    _MODULE_MOVES = ("to", "cuda", "cpu", "to_empty")

    def __init__(self, device):
        self.device = torch.device(device).type
        self._placed = {}  # id -> parameter, held so that no id is reused while watching
        self._named = False  # whether the latest tensor constructor was given the device
        self._undo = []

    def on_device(self, parameter):
        if parameter.device.type != self.device:
            return False
        return self.device != "cpu" or id(parameter) in self._placed

    def _place(self, parameters):
        self._placed.update((id(p), p) for p in parameters)

    def _move(self, name, original):
        def move(module, *args, **kwargs):
            result = original(module, *args, **kwargs)
            if name == "to":
                target = torch._C._nn._parse_to(*args, **kwargs)[0]
            elif name == "to_empty":
                target = torch.device(kwargs["device"] if "device" in kwargs else args[0])
            else:
                target = torch.device(name)
            if target is not None and target.type == self.device:
                self._place(module.parameters())
            return result
        return move

    def _construct(self, name, original):
        def construct(*args, **kwargs):
            device = kwargs.get("device")
            if device is None and name in ("as_tensor", "asarray") and len(args) > 2:
                device = args[2]
            if device is None:  # torch.device(...) as a context, or set_default_device: the innermost one
                contexts = [m for m in _get_current_function_mode_stack() if isinstance(m, DeviceContext)]
                device = contexts[-1].device if contexts else None
            self._named = _device_type(device) == self.device
            return original(*args, **kwargs)
        return construct

    def _registered(self, module, name, parameter):
        if parameter is not None and self._named:
            self._place([parameter])
        self._named = False

    def _patch(self, owner, name, replacement):
        self._undo.append((owner, name, getattr(owner, name)))
        setattr(owner, name, replacement)

    def __enter__(self):
        for name in self._MODULE_MOVES:
            self._patch(nn.Module, name, self._move(name, getattr(nn.Module, name)))
        constructors = _device_constructors()
        for name in dir(torch):
            value = getattr(torch, name, None)
            if not name.startswith("_") and any(value is c for c in constructors):
                self._patch(torch, name, self._construct(name, value))
        self._undo.append(register_module_parameter_registration_hook(self._registered))
        return self

    def __exit__(self, *exc):
        while self._undo:
            undo = self._undo.pop()
            if isinstance(undo, tuple):
                setattr(*undo)
            else:
                undo.remove()


_TRAINING = {}  # id(model) -> (model, what watching its training found), for training_of


def trained(student, function, X, y, device):
    """function(X, y, device), watched: the model it returns; training_of(model) tells how it was trained.

    Each parameter's value is noted the first time it takes part in training
    (a forward pass of its module, or an optimizer step), before any update.
    A model whose parameters never took part, or never moved from those
    first values, was not trained on X and y. Whether each parameter was put
    on `device` is watched too (see _Placement).
    """
    first = {}

    def note(parameters):
        for parameter in parameters:
            if id(parameter) not in first:
                first[id(parameter)] = (parameter, parameter.detach().cpu().clone())

    forward_hook = nn.modules.module.register_module_forward_pre_hook(
        lambda module, inputs: note(module.parameters(recurse=False)))
    step_hook = register_optimizer_step_pre_hook(
        lambda optimizer, args, kwargs: note(p for group in optimizer.param_groups for p in group["params"]))
    try:
        with _Placement(device) as placement:
            model = getattr(student, function)(X, y, device)
    finally:
        forward_hook.remove()
        step_hook.remove()
    if isinstance(model, nn.Module):
        elements = used = moved = placed = 0
        for parameter in model.parameters():
            elements += parameter.numel()
            placed += parameter.numel() if placement.on_device(parameter) else 0
            if id(parameter) in first:
                used += parameter.numel()
                moved += int((first[id(parameter)][1] != parameter.detach().cpu()).sum())
        _TRAINING[id(model)] = (model, {"elements": elements, "used": used, "moved": moved, "placed": placed})
    return model


def training_of(student, model):
    """What watching trained() found about model's parameters; None for a model it did not return."""
    found = _TRAINING.get(id(model))
    return found[1] if found is not None and found[0] is model else None
