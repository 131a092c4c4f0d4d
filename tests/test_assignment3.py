"""Assignment 3 end to end: reference, template, the tutorial's network, and each classic mistake.

Most mistake fixtures are one-line mutations of examples/assignment3/full_marks.py,
so each differs from a correct submission in exactly the way it names.
"""

from __future__ import annotations

import re

import pytest

from grader.api import grade
from grader.course import load_assignment

from .conftest import COURSE, FIXTURES, TEST_LIMITS, by_name

EXAMPLE = COURSE / "examples" / "assignment3" / "full_marks.py"
LIMITS = TEST_LIMITS.__class__(call_timeout=20.0, load_timeout=20.0, memory_mb=1024)
PUBLIC_AND_HIDDEN = {
    "gradients": ("gradients_at_start", "gradients_random"),
    "train": ("train_on_the_course_data", "train_one_step", "train_random_data"),
    "batch": ("two_layer_loss_and_gradients", "two_layer_other_shapes"),
}


@pytest.fixture(scope="module")
def assignment3():
    return load_assignment(COURSE, "assignment3")


@pytest.fixture
def grade3(assignment3, server):
    def run(path, **options):
        return grade(assignment3, path, server=server, limits=LIMITS, **options)

    return run


def mutated(tmp_path, *replacements, regex=False):
    source = EXAMPLE.read_text()
    for old, new in replacements:
        changed = re.sub(old, new, source) if regex else source.replace(old, new)
        assert changed != source, f"mutation {old!r} did not apply"
        source = changed
    path = tmp_path / "submission.py"
    path.write_text(source)
    return path


def failed(report, *names):
    results = by_name(report)
    return all(results[n].status == "failed" and results[n].score == 0 for n in names)


def passed(report, *names):
    results = by_name(report)
    return all(results[n].passed for n in names)


def message(report, name):
    return by_name(report)[name].message


# --- reference, template, example, the tutorial ---------------------------------------


def test_the_example_submission_gets_full_marks(grade3):  # the reference's: test_bundled_course_is_sound
    report = grade3(EXAMPLE)
    assert report.all_passed, [(r.name, r.message) for r in report.results if not r.passed]
    assert report.score == report.max_score == 34


def test_a_constructor_that_sets_no_weights_earns_nothing_from_the_networks_checks(grade3, tmp_path):
    # grade check stubs the functions students write; the constructor they also write is stubbed here.
    source = (COURSE / "reference" / "assignment3" / "solution.py").read_text()
    body = "        for name in PARAMETERS:\n            setattr(self, name, 0.1)\n"
    assert body in source
    path = tmp_path / "submission.py"
    path.write_text(source.replace(body, "        pass\n"))
    report = grade3(path, only=("OurNeuralNetwork",))
    assert report.results and report.score == 0, [(r.name, r.score) for r in report.results if r.score]
    assert not [r.name for r in report.results if r.message.startswith("No points for")]  # the checks said 0


@pytest.mark.parametrize("template", ["assignment3.py", "assignment3.ipynb"])
def test_untouched_template_scores_zero(grade3, template):
    report = grade3(COURSE / "assignments" / "assignment3" / template)
    assert report.score == 0 and all(r.status == "error" for r in report.results)
    assert all("not implemented yet" in r.message for r in report.results)


def test_the_tutorials_network_earns_full_points_for_every_part_it_implements(grade3):
    report = grade3(FIXTURES / "assignment3" / "tutorial_network.py")
    implemented = ("sigmoid", "deriv_sigmoid", "mse_loss", "OurNeuralNetwork", "OurNeuralNetwork.feedforward",
                   "OurNeuralNetwork.train")
    for result in report.results:
        if set(result.functions) <= set(implemented):
            assert result.passed, (result.name, result.message)
        else:
            assert result.status == "error" and result.score == 0, result.name
    assert "OurNeuralNetwork has no attribute or method named gradients" in message(report, "gradients_at_start")


def test_training_that_ends_wrong_shows_both_loss_curves(grade3, tmp_path):
    report = grade3(mutated(tmp_path, ('                self.b2 -= learn_rate * grads["b2"]\n', "")))
    curves = by_name(report)["train_on_the_course_data"].curves
    assert [c.label for c in curves] == ["your loss", "reference"]
    assert len(curves[0].values) == len(curves[1].values) == 21
    assert curves[0].values[0] == pytest.approx(curves[1].values[0], rel=1e-12)  # the same start, then apart
    assert curves[0].values[-1] != pytest.approx(curves[1].values[-1], rel=1e-3)
    assert curves[0].values[0] > curves[0].values[-1]  # it still learns, only not as the reference does


def test_a_right_training_shows_the_reference_s_curve_without_running_the_student_s_again(grade3):
    # Its curve is the reference's: drawing it from the student's code would cost 200 more epochs per run.
    report = grade3(EXAMPLE)
    result = by_name(report)["train_on_the_course_data"]
    assert result.passed and [c.label for c in result.curves] == [
        "loss during training (PyTorch's run, which yours matched)"]
    assert len(result.curves[0].values) == 21 and result.curves[0].values[0] > result.curves[0].values[-1]


def _support(assignment3):
    assignment3.public_checks()  # loads support.py as part of the checks' package
    import sys

    return next(m for name, m in sys.modules.items() if name.endswith(".support") and "assignment3" in name)


def test_the_graders_sgd_is_torch_optim_sgd_to_the_last_bit(assignment3):
    import numpy as np
    import torch

    support = _support(assignment3)
    data, labels = np.random.default_rng(1).normal(0, 2, (5, 2)), np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    start = support.random_params(np.random.default_rng(2))
    ours, _ = support.train(start, data, labels, 0.05, 30)
    first, second = torch.nn.Linear(2, 2).double(), torch.nn.Linear(2, 1).double()
    with torch.no_grad():
        for layer, (weight, bias) in ((first, ("w1 w2 w3 w4", "b1 b2")), (second, ("w5 w6", "b3"))):
            layer.weight.copy_(torch.tensor([start[n] for n in weight.split()], dtype=torch.float64).reshape(-1, 2))
            layer.bias.copy_(torch.tensor([start[n] for n in bias.split()], dtype=torch.float64))
    optimizer = torch.optim.SGD(list(first.parameters()) + list(second.parameters()), lr=0.05)
    for _ in range(30):
        for x, y in zip(torch.as_tensor(data), torch.as_tensor(labels)):
            optimizer.zero_grad()
            torch.nn.MSELoss()(torch.sigmoid(second(torch.sigmoid(first(x)))), y.reshape(1)).backward()
            optimizer.step()
    theirs = support._named(first.weight, first.bias, second.weight, second.bias)
    assert ours == theirs


def _hidden_module(assignment3, name):
    assignment3.hidden_checks()  # loads reference/assignment3/*.py as part of the checks' package
    import sys

    return next(m for key, m in sys.modules.items() if key.endswith(f".{name}") and "assignment3" in key)


def test_the_hidden_checks_fast_sgd_is_pytorchs_autograd_sgd(assignment3):
    # The hidden check trains on random data drawn for each version of a submission with sgd.py's
    # plain arithmetic, not autograd: it must agree with support.train (PyTorch autograd, pinned to
    # torch.optim.SGD above) on problems like the check's and wider ones, where sigmoids saturate.
    import numpy as np

    support, sgd = _support(assignment3), _hidden_module(assignment3, "sgd")
    rng = np.random.default_rng(31)
    for case in range(60):
        n, spread, scale = int(rng.integers(1, 9)), float(rng.choice([0.5, 2.0, 30.0])), float(rng.choice([0.5, 3.0]))
        data, labels = rng.normal(0, spread, (n, 2)), rng.integers(0, 2, n).astype(float)
        start, rate = support.random_params(rng, scale=scale), float(rng.uniform(0.01, 0.5))
        epochs = int(rng.integers(1, 41))
        expected, _ = support.train(start, data, labels, rate, epochs)
        got = sgd.train(start, data, labels, rate, epochs)
        assert list(got) == list(expected), case
        for name in expected:
            moved, should = got[name] - start[name], expected[name] - start[name]
            assert abs(moved - should) <= 1e-12 + 1e-10 * abs(should), (case, name, moved, should)


def test_the_reference_solution_agrees_with_pytorch(assignment3):
    import importlib.util

    import numpy as np

    support = _support(assignment3)
    spec = importlib.util.spec_from_file_location("_a3_reference", COURSE / "reference" / "assignment3" / "solution.py")
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)
    rng = np.random.default_rng(3)
    params, x, y = support.random_params(rng), rng.normal(0, 1, 2), 1.0
    net = reference.OurNeuralNetwork()
    for name, value in params.items():
        setattr(net, name, value)
    assert net.feedforward(x) == pytest.approx(support.forward(params, x), rel=1e-12)
    assert net.gradients(x, y) == pytest.approx(support.gradients(params, x, y), rel=1e-10)
    batch, X, Y = support.random_batch(rng, 6, 3, 4, 2)
    loss, grads = reference.two_layer_loss_and_grads(batch, X, Y)
    expected_loss, expected_grads = support.batch_loss_and_grads(batch, X, Y)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    for key in expected_grads:
        np.testing.assert_allclose(grads[key], expected_grads[key], rtol=1e-10)


# --- gradient mistakes, named ------------------------------------------------------------


def test_flipped_sign_is_named_for_every_parameter(grade3, tmp_path):
    report = grade3(mutated(tmp_path, ("d_L_d_o1 = -2 * (y_true - o1)", "d_L_d_o1 = 2 * (y_true - o1)")))
    assert failed(report, *PUBLIC_AND_HIDDEN["gradients"], *PUBLIC_AND_HIDDEN["train"])
    assert "All of them: the sign is flipped." in message(report, "gradients_at_start")
    rows = by_name(report)["gradients_at_start"].diagnosis  # per parameter, with values, as a table
    assert [r.parameter for r in rows][:2] == ["w1", "w2"] and all(r.mistake == "the sign is flipped" for r in rows)
    assert rows[0].expected == f"{-float(rows[0].actual):.6g}"
    step = message(report, "train_one_step")  # train's update is right: the gradients it is given are not
    assert "but not because of train" in step and "the sign is flipped" in step
    assert "instead of subtracting" not in step
    assert passed(report, "sigmoid_values", "feedforward_at_start", *PUBLIC_AND_HIDDEN["batch"])


def test_a_right_train_using_a_gradient_with_one_flipped_sign_blames_gradients(grade3, tmp_path):
    report = grade3(mutated(tmp_path, ('"w5": d_o1 * h1', '"w5": -d_o1 * h1')))
    for name in ("train_one_step", "train_on_the_course_data", "train_random_data"):
        text = message(report, name)
        assert "but not because of train" in text and "wrong for w5" in text, (name, text)
        assert "instead of subtracting" not in text, (name, text)
    assert "wrong for w5 (the sign is flipped)." in message(report, "train_one_step")


def test_gradients_against_a_wrong_feedforward_are_not_checked(grade3, tmp_path):
    report = grade3(mutated(tmp_path, ("        return sigmoid(self.w5 * h1 + self.w6 * h2 + self.b3)",
                                       "        return sigmoid(self.w5 * h1 + self.w6 * h2)")))
    check = by_name(report)["gradients_match_your_feedforward"]
    assert check.score == 0
    assert check.message.startswith("Not checked: OurNeuralNetwork.feedforward does not yet return correct values.")
    assert passed(report, *PUBLIC_AND_HIDDEN["gradients"])  # gradients itself is right


def test_an_update_that_adds_the_gradient_is_named(grade3, tmp_path):
    report = grade3(mutated(tmp_path, (r"-= learn_rate \* grads", "+= learn_rate * grads"), regex=True))
    assert "the update adds learn_rate × gradient instead of subtracting it" in message(report, "train_one_step")
    assert "not because of train" not in message(report, "train_one_step")
    assert passed(report, *PUBLIC_AND_HIDDEN["gradients"])


def test_what_the_graders_own_calls_print_is_not_shown_as_the_students(grade3, tmp_path):
    report = grade3(mutated(tmp_path, ('                self.b2 -= learn_rate * grads["b2"]\n', "")))
    result = by_name(report)["train_on_the_course_data"]
    assert result.curves  # the weights are wrong, so the grader drew the student's curve
    # The student's train(..., epochs=200) prints at epochs 0 and 100; the grader's 20 calls of 10 epochs
    # each, which draw the loss curve, would print "epoch 0" 20 times more.
    assert result.output.count("epoch 0:") == 1 and result.output.count("epoch 100:") == 1, result.output


def test_missing_factor_two_is_named(grade3, tmp_path):
    report = grade3(mutated(tmp_path, ("d_L_d_o1 = -2 * (y_true - o1)", "d_L_d_o1 = -(y_true - o1)")))
    assert "All of them: off by a factor of 1/2." in message(report, "gradients_at_start")
    hidden = by_name(report)["gradients_random"]
    assert "off by a factor of 1/2" in hidden.message and "expected" not in hidden.message
    assert "relative error" in hidden.details  # the numbers stay with staff


def test_doubled_gradients_are_named(grade3, tmp_path):
    report = grade3(mutated(tmp_path, ("d_L_d_o1 = -2 * (y_true - o1)", "d_L_d_o1 = -4 * (y_true - o1)")))
    assert "All of them: off by a factor of 2." in message(report, "gradients_at_start")


def test_averaging_twice_in_the_batch_is_named(grade3, tmp_path):
    report = grade3(mutated(tmp_path,
                            ("d_Y_hat = 2 * (Y_hat - y) / y.size", "d_Y_hat = 2 * (Y_hat - y) / y.size ** 2")))
    assert "off by a factor of 1/10 (= 1/(N·O)): the mean's 1/(N·O) appears twice" in message(
        report, "two_layer_loss_and_gradients")


def test_derivative_of_an_activation_is_named(grade3, tmp_path):
    report = grade3(mutated(tmp_path, ("deriv_sigmoid(sum_o1)", "deriv_sigmoid(o1)"),
                            ("deriv_sigmoid(sum_h1)", "deriv_sigmoid(h1)"),
                            ("deriv_sigmoid(sum_h2)", "deriv_sigmoid(h2)")))
    text = message(report, "gradients_at_start")
    assert ("deriv_sigmoid was applied to an activation σ(z) instead of to the pre-activation z "
            "(in every neuron)") in text
    assert passed(report, "deriv_sigmoid_values")


def test_derivative_of_the_output_neuron_only_is_named(grade3, tmp_path):
    report = grade3(mutated(tmp_path, ("deriv_sigmoid(sum_o1)", "deriv_sigmoid(o1)")))
    for name in ("gradients_random", "gradients_at_start"):
        text = message(report, name)
        assert "All of them: deriv_sigmoid was applied to an activation σ(z) instead of to the pre-activation z (in " \
               "the output neuron)." in text, text
        assert "in every neuron" not in text, text


def test_sigmoid_derivative_written_for_activations_is_named(grade3, tmp_path):
    report = grade3(mutated(tmp_path, ("    fx = sigmoid(x)\n    return fx * (1 - fx)", "    return x * (1 - x)")))
    assert "Likely: the sigmoid derivative was computed as z·(1 − z)" in message(report, "deriv_sigmoid_values")
    assert "computed as z·(1 − z)" in message(report, "gradients_at_start")


def test_a_parameter_train_never_updates_is_named(grade3, tmp_path):
    report = grade3(mutated(tmp_path, ('                self.b2 -= learn_rate * grads["b2"]\n', "")))
    assert "b2 (never changes during training: is its update line missing?)" in message(
        report, "train_on_the_course_data")
    assert "b2 (never changes: is its update line missing?); the other 8 are right" in message(report, "train_one_step")
    assert passed(report, *PUBLIC_AND_HIDDEN["gradients"])


def test_learning_rate_left_out_is_named(grade3, tmp_path):
    report = grade3(mutated(tmp_path, (r"-= learn_rate \* grads", "-= grads"), regex=True))
    assert "All of them: off by a factor of 1/0.25 (= 1/learn_rate): is learn_rate left out" in message(
        report, "train_one_step")


def test_transposed_batch_gradient_is_named(grade3, tmp_path):
    report = grade3(mutated(tmp_path, ('"W1": X.T @ d_Z1', '"W1": d_Z1.T @ X')))
    text = message(report, "two_layer_loss_and_gradients")
    assert "W1 (transposed: it is the transpose of the right matrix); the other 3 are right" in text
    assert failed(report, "two_layer_other_shapes")


def test_summing_instead_of_averaging_in_the_batch_is_named(grade3, tmp_path):
    report = grade3(mutated(tmp_path, ("d_Y_hat = 2 * (Y_hat - y) / y.size", "d_Y_hat = 2 * (Y_hat - y)")))
    text = message(report, "two_layer_loss_and_gradients")
    assert "off by a factor of 10 (= N·O): the loss is a mean over all N·O entries" in text


def test_wrong_output_shape_is_named(grade3, tmp_path):
    report = grade3(mutated(tmp_path, ("        return sigmoid(self.w5 * h1 + self.w6 * h2 + self.b3)",
                                       "        return np.array([[sigmoid(self.w5 * h1 + self.w6 * h2 + self.b3)]])")))
    assert "It returned a NumPy array of shape (1, 1) and dtype float64; expected a single number" in message(
        report, "feedforward_at_start")


def test_unstable_sigmoid_is_caught_at_large_inputs(grade3, tmp_path):
    report = grade3(mutated(tmp_path, (
        "    z = np.exp(-np.abs(x))\n    return np.where(np.asarray(x) >= 0, 1 / (1 + z), z / (1 + z))[()]",
        "    return np.exp(x) / (1 + np.exp(x))")))
    assert "sigmoid(x) is not finite for large |x|" in message(report, "sigmoid_large_inputs")
    assert passed(report, "sigmoid_values")


def test_summed_mse_is_named(grade3, tmp_path):
    report = grade3(mutated(tmp_path,
                            ("return ((y_true - y_pred) ** 2).mean()", "return ((y_true - y_pred) ** 2).sum()")))
    assert "off by a factor of 4 (the number of values): did you sum instead of averaging?" in message(
        report, "mse_loss_values")


# --- autograd earns nothing ----------------------------------------------------------------


def test_autograd_earns_nothing_and_says_so(grade3):
    report = grade3(FIXTURES / "assignment3" / "uses_autograd.py")
    for name in (*PUBLIC_AND_HIDDEN["gradients"], *PUBLIC_AND_HIDDEN["train"], *PUBLIC_AND_HIDDEN["batch"]):
        result = by_name(report)[name]
        assert result.score == 0 and result.status == "failed", name
        assert "automatic differentiation" in result.message, name
    assert ".backward()" in message(report, "gradients_at_start")
    assert passed(report, "feedforward_at_start", "network_starts_at_one_tenth")


def test_disguised_autograd_is_caught_while_it_runs(grade3):
    report = grade3(FIXTURES / "assignment3" / "autograd_disguised.py")
    text = message(report, "two_layer_loss_and_gradients")
    assert failed(report, *PUBLIC_AND_HIDDEN["batch"])
    assert "while it ran it used" in text and "torch.autograd.grad" in text
