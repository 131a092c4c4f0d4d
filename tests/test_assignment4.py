"""Assignment 4 end to end: reference, template, and each classic training-loop bug, named."""

from __future__ import annotations

import pytest
import torch

from grader.api import grade
from grader.course import load_assignment
from grader.sandbox.worker import load_probes

from .conftest import COURSE, TEST_LIMITS, by_name

EXAMPLE = COURSE / "examples" / "assignment4" / "full_marks.py"
LIMITS = TEST_LIMITS.__class__(call_timeout=60.0, load_timeout=60.0, memory_mb=2048)


@pytest.fixture(scope="module")
def assignment4():
    return load_assignment(COURSE, "assignment4")


@pytest.fixture
def grade4(assignment4, torch_server):
    def run(path, **options):
        return grade(assignment4, path, server=torch_server, limits=LIMITS, **options)

    return run


def mutated(tmp_path, *replacements):
    source = EXAMPLE.read_text()
    for old, new in replacements:
        assert old in source, old
        source = source.replace(old, new)
    path = tmp_path / "submission.py"
    path.write_text(source)
    return path


def message(report, name):
    return by_name(report)[name].message


def test_the_example_submission_gets_full_marks(grade4):  # the reference's: test_bundled_course_is_sound
    report = grade4(EXAMPLE)
    assert report.all_passed, [(r.name, r.message) for r in report.results if not r.passed]


@pytest.mark.parametrize("template", ["assignment4.py", "assignment4.ipynb"])
def test_untouched_template_scores_zero(grade4, template):
    report = grade4(COURSE / "assignments" / "assignment4" / template)
    assert report.score == 0 and all("not implemented yet" in r.message for r in report.results)


LOOP_BUGS = [
    # (description, replacements, check that fails, words the student reads)
    ("no zero_grad", [("        updater.zero_grad()\n", "")], "train_epoch_steps_and_result",
     "gradients accumulate from batch to batch: call updater.zero_grad() before backward()"),
    ("summed loss", [("        l.mean().backward()", "        l.sum().backward()")], "train_epoch_steps_and_result",
     "the loss is summed over the batch, not averaged"),
    ("no step", [("        updater.step()\n", "")], "train_epoch_steps_and_result",
     "never calls updater.step(), so the parameters never change"),
    ("no step, so no progress", [("        updater.step()\n", "")], "train_epoch_loss_goes_down",
     "The loss does not go down"),
    ("data left on the CPU", [("        X, y = X.to(device), y.to(device)\n        y_hat = net(X)",
                               "        y_hat = net(X)")], "train_epoch_steps_and_result",
     "The batches are never moved to `device`"),
    ("a move whose result is thrown away", [("        X, y = X.to(device), y.to(device)\n        y_hat = net(X)",
                                             "        X.to(device), y.to(device)\n        y_hat = net(X)")],
     "train_epoch_steps_and_result", "The batches are never moved to `device`"),
    ("labels left behind", [("        X, y = X.to(device), y.to(device)\n        y_hat = net(X)",
                             "        X = X.to(device)\n        y_hat = net(X)")],
     "train_epoch_steps_and_result", "Some batches reach the network or the loss without being moved to `device`"),
    ("evaluation data left behind", [("            X, y = X.to(device), y.to(device)\n            right",
                                      "            right")],
     "evaluate_accuracy_without_dropout_or_gradients", "The batches are never moved to `device`"),
    ("no net.train()", [("    net.train()\n", "")], "train_epoch_steps_and_result",
     "train_epoch runs the network in evaluation mode"),
    ("accuracy along dim 0", [("        right += (y_hat.argmax(dim=1) == y).sum().item()",
                               "        right += (y_hat.argmax(dim=0) == y).sum().item()")],
     "train_epoch_steps_and_result", "taken along the wrong axis"),
    ("no net.eval()", [("    net.eval()\n", "")], "evaluate_accuracy_without_dropout_or_gradients",
     "runs the network in training mode, so dropout is active"),
    ("no torch.no_grad()", [("    with torch.no_grad():\n        for X, y in data_iter:\n"
                             "            X, y = X.to(device), y.to(device)\n            right",
                             "    if True:\n        for X, y in data_iter:\n"
                             "            X, y = X.to(device), y.to(device)\n            right")],
     "evaluate_accuracy_without_dropout_or_gradients", "tracks gradients it never uses"),
    ("shuffled test set", [("shuffle=is_train)", "shuffle=True)")], "load_array_batches_and_shuffling",
     "load_array(..., is_train=False) shuffles the data"),
    ("unstable softmax", [("torch.exp(X - X.max(dim=1, keepdim=True).values)", "torch.exp(X)")],
     "softmax_large_logits", "softmax(X) is not finite for large logits"),
    ("softmax over columns", [("    return X_exp / X_exp.sum(1, keepdim=True)",
                               "    return X_exp / X_exp.sum(0, keepdim=True)")], "softmax_rows",
     "it normalises columns, not rows"),
    ("noise of the wrong size", [("torch.normal(0, 0.01, y.shape)", "torch.normal(0, 1, y.shape)")],
     "synthetic_data_statistics", "is not N(0, 0.01²) noise"),
    ("labels not reshaped", [("return X, y.reshape((-1, 1))", "return X, y")], "synthetic_data_shapes",
     "Reshape y with y.reshape((-1, 1))"),
    ("a classifier that never learns", [("return fit(net, X, y, device, epochs=20, lr=0.002)",
                                          "return fit(net, X, y, device, epochs=20, lr=0.0)")],
     "digits_classifier_accuracy", "The model from train_digits_classifier was not trained on the data it was given. "
     "Only 0 of its"),
    ("a linear spiral model", [("nn.Sequential(nn.Linear(2, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(), "
                                "nn.Linear(100, 3))", "nn.Sequential(nn.Linear(2, 3))")],
     "spiral_classifier_accuracy", "is not accurate enough on held-out data"),
    # Each of the next four survived grade check as a mutant of the reference before its check existed.
    ("a network never moved to the device", [("    net = net.to(device)\n", "")], "spiral_classifier_accuracy",
     "The model from train_spiral_classifier was never moved to the device it was given. 10703 of its 10703"),
    ("PyTorch's default initialisation", [("    net[0].weight.data.normal_(0, 0.01)\n", "")],
     "linear_regression_as_the_course_trains",
     "train_linear_regression does not start from weights drawn from N(0, 0.01²). When the layer first ran"),
    ("a bias left where PyTorch put it", [("    net[0].bias.data.fill_(0)\n", "")],
     "linear_regression_as_the_course_trains", "train_linear_regression does not start from a bias of 0."),
    ("an epoch too many", [("for epoch in range(num_epochs):", "for epoch in range(num_epochs + 1):")],
     "linear_regression_as_the_course_trains",
     "It took 400 optimizer steps; 3 epochs over 1000 examples in minibatches of 10 take 300"),
]


@pytest.mark.parametrize("description, replacements, check, words", LOOP_BUGS, ids=[b[0] for b in LOOP_BUGS])
def test_bugs_are_named(grade4, tmp_path, description, replacements, check, words):
    report = grade4(mutated(tmp_path, *replacements), only=(check,))
    result = by_name(report)[check]
    assert result.score == 0 and words in result.message, result.message


@pytest.mark.parametrize("move", [
    "X, y = X.reshape(len(X), -1).to(device), y.to(device)",
    "X, y = torch.as_tensor(X, device=device), torch.as_tensor(y, device=device)",
    "X, y = X.float().to(device=device), y.to(device, non_blocking=True)",
])
def test_any_way_of_moving_the_batches_counts(grade4, tmp_path, move):
    report = grade4(mutated(tmp_path, ("        X, y = X.to(device), y.to(device)\n        y_hat = net(X)",
                                       f"        {move}\n        y_hat = net(X)")), only=("train_epoch",))
    assert report.all_passed, [(r.name, r.message) for r in report.results if not r.passed]


@pytest.mark.parametrize("replacements", [
    [("    net = net.to(device)\n", "    net.to(device)\n")],
    [("    net = net.to(device)\n", "    net.cpu() if torch.device(device).type == 'cpu' else net.cuda()\n")],
    [("    net = net.to(device)\n", ""),
     ("nn.Sequential(nn.Linear(2, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 3))",
      "nn.Sequential(nn.Linear(2, 100, device=device), nn.ReLU(), nn.Linear(100, 100, device=device), nn.ReLU(), "
      "nn.Linear(100, 3, device=device))")],
    [("    net = net.to(device)\n", ""),
     ("    net = nn.Sequential(nn.Linear(2, 100)",
      "    with torch.device(device):\n        net = nn.Sequential(nn.Linear(2, 100)")],
    [("    net = net.to(device)\n", ""),
     ("    net = nn.Sequential(nn.Linear(2, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 3))",
      "    net = Spiral(device)"),
     ("def train_spiral_classifier(", "class Spiral(nn.Module):\n"
      "    def __init__(self, device):\n"
      "        super().__init__()\n"
      "        self.w1 = nn.Parameter(torch.randn(2, 100, device=device) * 0.5)\n"
      "        self.b1 = nn.Parameter(torch.zeros(100, device=device))\n"
      "        self.out = nn.Linear(100, 3, device=device)\n\n"
      "    def forward(self, X):\n"
      "        return self.out(torch.relu(X @ self.w1 + self.b1))\n\n\n"
      "def train_spiral_classifier(")],
], ids=["to in place", "cpu or cuda", "layers built with device=", "inside torch.device(device)",
        "parameters made with device="])
def test_any_way_of_putting_the_network_on_the_device_counts(grade4, tmp_path, replacements):
    report = grade4(mutated(tmp_path, *replacements), only=("train_spiral_classifier",))
    assert report.all_passed, [(r.name, r.message) for r in report.results if not r.passed]


def test_watching_where_a_network_goes_leaves_torch_as_it_was():
    probes = load_probes({"source": (COURSE / "assignments" / "assignment4" / "probes.py").read_text(),
                          "filename": "probes.py"})
    placement_type = probes["trained"].__globals__["_Placement"]
    before = (torch.empty, torch.zeros, torch.nn.Module.to, torch.nn.Module.cuda)
    with pytest.raises(RuntimeError, match="student code"):
        with placement_type("cpu") as placement:
            assert torch.empty is not before[0] and torch.nn.Module.to is not before[2]  # watching
            moved, left = torch.nn.Linear(2, 3), torch.nn.Linear(2, 3)
            made_there = torch.nn.Linear(2, 3, device="cpu")
            moved.to("cpu")
            raise RuntimeError("student code failed")
    assert (torch.empty, torch.zeros, torch.nn.Module.to, torch.nn.Module.cuda) == before
    assert all(placement.on_device(p) for p in [*moved.parameters(), *made_there.parameters()])
    assert not any(placement.on_device(p) for p in left.parameters())


def test_a_fixed_batch_size_fails_the_hidden_epochs_and_batches(grade4, tmp_path):
    report = grade4(mutated(tmp_path, ("    data_iter = load_array((features, labels), batch_size)",
                                       "    data_iter = load_array((features, labels), 10)")),
                    only=("train_linear_regression",))
    assert by_name(report)["linear_regression_as_the_course_trains"].passed  # the defaults hide it
    hidden = by_name(report)["linear_regression_other_epochs_and_batches"]
    assert hidden.status == "failed" and hidden.message == (
        "train_linear_regression does not take num_epochs passes over the data in minibatches of batch_size.")


def test_mean_of_batch_means_fails_the_hidden_uneven_batches(grade4, tmp_path):
    report = grade4(mutated(tmp_path,
                            ("        loss_sum += l.sum().item()", "        loss_sum += l.mean().item() * 4")),
                    only=("train_epoch",))
    assert by_name(report)["train_epoch_steps_and_result"].passed  # equal batches hide it
    hidden = by_name(report)["train_epoch_uneven_batches"]
    assert hidden.status == "failed" and "The mean loss from train_epoch is wrong" in hidden.message


def test_a_misspelled_function_is_named_not_reported_as_the_probes_error(grade4, tmp_path):
    path = tmp_path / "submission.py"
    path.write_text(EXAMPLE.read_text().replace("def train_digits_classifier(", "def train_digit_classifier(")
                    .replace("def load_array(", "def load_arrays("))
    report = grade4(path, only=("train_digits_classifier", "load_array_batches_and_shuffling"))
    assert "Did you mean train_digit_classifier?" in message(report, "digits_classifier_accuracy")
    assert "load_array is not defined in your submission" in message(report, "load_array_batches_and_shuffling")


# Under these seeds the batches the public checks drew before telling_batches existed gave the same
# accuracy along dim 0 as along dim 1 (seed 12 in train_epoch's check, 15 in evaluate_accuracy's), so an
# accuracy taken along the wrong axis earned their points; the checks now draw batches that tell them apart.
@pytest.mark.parametrize("seed", [12, 15])
def test_an_accuracy_along_dim_0_is_named_under_every_seed(grade4, tmp_path, seed):
    path = mutated(tmp_path, ("        right += (y_hat.argmax(dim=1) == y).sum().item()",
                              "        right += (y_hat.argmax(dim=0) == y).sum().item()"),
                   ("            right += (net(X).argmax(dim=1) == y).sum().item()",
                    "            right += (net(X).argmax(dim=0) == y).sum().item()"))
    report = grade4(path, seed=seed, only=("train_epoch", "evaluate_accuracy"))
    for name in ("train_epoch_steps_and_result", "evaluate_accuracy_without_dropout_or_gradients"):
        assert "taken along the wrong axis" in message(report, name)
        assert next(r for r in report.results if r.name == name).score == 0
