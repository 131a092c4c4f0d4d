"""Assignment 5 end to end: reference, example, template, each named mistake, and the two rules.

Each named mistake is examples/assignment5/full_marks.py with the lines that make it (MUTATIONS),
so it differs from a correct submission in exactly the way it names; the submissions that differ
more (loops over the samples, in disguise or not, the line count switched off, gradients in closed
form, autograd reached other ways) are fixtures under tests/fixtures/assignment5/. Mistakes are graded
on the functions they touch and those that call them (``only``), which keeps the module quick; the
loop-over-samples submission is graded whole, to show it loses exactly the vectorisation points.
"""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
import torch

from grader.api import grade
from grader.course import load_assignment

from .conftest import COURSE, FIXTURES, TEST_LIMITS, by_name

EXAMPLE = COURSE / "examples" / "assignment5" / "full_marks.py"
HERE = FIXTURES / "assignment5"
LIMITS = TEST_LIMITS.__class__(call_timeout=60.0, load_timeout=60.0, memory_mb=2048)
PART_A = ("grad_of_two_xtx", "grad_through_control_flow", "add_in_place")
PROPAGATE_CHAIN = ("propagate", "optimize")  # model calls them too; its checks cost a training each


@pytest.fixture(scope="module")
def assignment5():
    return load_assignment(COURSE, "assignment5")


@pytest.fixture
def grade5(assignment5, torch_server):
    def run(path, **options):
        return grade(assignment5, path, server=torch_server, limits=LIMITS, **options)

    return run


def lost(report):
    return {r.name for r in report.results if r.score < r.max_score}


def checks_of(report, *functions):
    return {r.name for r in report.results if set(r.functions) & set(functions)}


# --- reference, example, template --------------------------------------------------------


@pytest.mark.parametrize("path", [COURSE / "reference" / "assignment5" / "solution.py", EXAMPLE])
def test_correct_solutions_get_full_marks(grade5, path):
    report = grade5(path)
    assert report.all_passed, [(r.name, r.message) for r in report.results if not r.passed]
    assert report.score == report.max_score == 46
    curves = by_name(report)["model_on_breast_cancer"].curves
    assert [c.label for c in curves] == ["your cost", "gradient descent"] and len(curves[0].values) == 20
    assert curves[0].values == pytest.approx(curves[1].values, rel=1e-9)


@pytest.mark.parametrize("template", ["assignment5.py", "assignment5.ipynb"])
def test_untouched_template_scores_zero_without_a_rule_speaking(grade5, template):
    report = grade5(COURSE / "assignments" / "assignment5" / template)
    assert report.score == 0 and all(r.status == "error" for r in report.results)
    assert all("not implemented yet" in r.message and "No points for" not in r.message for r in report.results)


# --- the named mistakes ------------------------------------------------------------------

# Each named mistake: the example with the lines that make it, as a student would get it wrong.
MUTATIONS = {
    'missing_one_over_m': [
        ('    cost = -np.sum(Y * np.log(A_safe) + (1 - Y) * np.log(1 - A_safe)) / m',
         '    cost = -np.sum(Y * np.log(A_safe) + (1 - Y) * np.log(1 - A_safe))'),
        ('    grads = {"dw": X @ dZ.T / m, "db": float(np.sum(dZ)) / m}',
         '    grads = {"dw": X @ dZ.T, "db": float(np.sum(dZ))}'),
    ],
    'cost_sign_flipped': [
        ('    cost = -np.sum(Y * np.log(A_safe)',
         '    cost = np.sum(Y * np.log(A_safe)'),
    ],
    'dw_transposed': [
        ('"dw": X @ dZ.T / m',
         '"dw": dZ @ X.T / m'),
    ],
    'db_as_array': [
        ('"db": float(np.sum(dZ)) / m',
         '"db": np.sum(dZ, axis=1, keepdims=True) / m'),
    ],
    'log_of_zero': [
        ('    A_safe = np.clip(A, eps, 1 - eps)  # log(0) is -inf',
         '    A_safe = A'),
    ],
    'update_sign_flipped': [
        ('        w = w - learning_rate * grads["dw"]',
         '        w = w + learning_rate * grads["dw"]'),
        ('        b = b - learning_rate * grads["db"]',
         '        b = b + learning_rate * grads["db"]'),
    ],
    'sigmoid_overflows': [
        ('        return 1 / (1 + np.exp(-z))',
         '        return np.exp(z) / (1 + np.exp(z))'),
    ],
    'predict_at_or_above': [
        ('    return (sigmoid(w.T @ X + b) > 0.5).astype(np.float64)',
         '    return (sigmoid(w.T @ X + b) >= 0.5).astype(np.float64)'),
    ],
    'add_into_a_copy': [
        ('    y.add_(x)\n',
         '    y[:] = x + y\n'),
    ],
    'add_returns_new': [
        ('    y.add_(x)\n    return y\n',
         '    return x + y\n'),
    ],
}


def mutated(tmp_path, name):
    source = EXAMPLE.read_text()
    for old, new in MUTATIONS[name]:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    return path


MISTAKES = [
    # (mistake, functions graded, checks that must lose points, words in the first one's message or diagnosis)
    ("missing_one_over_m", PROPAGATE_CHAIN,
     {"propagate_matches_autograd", "propagate_saturated", "propagate_at_two_sizes", "propagate_speed",
      "propagate_matches_your_cost", "optimize_matches_gradient_descent", "optimize_records_costs",
      "propagate_other_shapes", "optimize_other_problems"},
     "off by a factor of m = 7, the number of samples: is the 1/m missing?"),
    ("cost_sign_flipped", PROPAGATE_CHAIN,
     {"propagate_matches_autograd", "propagate_saturated", "propagate_at_two_sizes", "propagate_speed",
      "propagate_matches_your_cost", "optimize_records_costs", "propagate_other_shapes", "optimize_other_problems"},
     "wrong for cost (the sign is flipped: the cost is −(1/m)·Σ[...], with a minus in front); the other 2 are right"),
    ("dw_transposed", ("propagate",),
     {"propagate_matches_autograd", "propagate_saturated", "propagate_at_two_sizes", "propagate_speed",
      "propagate_matches_your_cost", "propagate_other_shapes"},
     "wrong for dw (transposed: dw must have the shape of w, (n_x, 1)); the other 2 are right"),
    ("db_as_array", ("propagate",),
     {"propagate_matches_autograd", "propagate_saturated", "propagate_at_two_sizes", "propagate_speed",
      "propagate_matches_your_cost", "propagate_other_shapes"},
     "wrong for db (left as an array of shape (1, 1): return a number (float(...))); the other 2 are right"),
    ("log_of_zero", ("propagate",), {"propagate_saturated"}, "is nan, not a finite number. Likely: log of 0."),
    ("update_sign_flipped", ("optimize", "model"),
     {"optimize_matches_gradient_descent", "optimize_records_costs", "model_on_breast_cancer",
      "model_trains_by_gradient_descent", "optimize_other_problems", "model_other_split"},
     "the sign of the update is flipped: w and b must move against the gradient"),
    ("sigmoid_overflows", ("sigmoid",), {"sigmoid_large_inputs"}, "sigmoid(z) is not finite for large |z|."),
    ("predict_at_or_above", ("predict",), {"predict_threshold", "predict_other_shapes"},
     "where z = wᵀX + b is 0, 1e-9 and -1e-9 for the first three samples returned wrong values. At [0, 0] expected "
     "0, got 1"),
    ("add_into_a_copy", ("add_in_place",), {"add_in_place_allocates_nothing", "add_in_place_other_shapes"},
     "allocated a new tensor for the result. Seen: add made a new tensor of shape (4, 3)."),
    ("add_returns_new", ("add_in_place",),
     {"add_in_place_keeps_y", "add_in_place_allocates_nothing", "add_in_place_other_shapes"},
     "y is as it was. The sum went into a new tensor (x + y) and y never received it."),
]


@pytest.mark.parametrize("mistake, functions, losing, words", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_each_named_mistake_fails_its_checks_and_is_named(grade5, tmp_path, mistake, functions, losing, words):
    report = grade5(mutated(tmp_path, mistake), only=functions)
    assert lost(report) == losing, sorted(lost(report) ^ losing)
    first = next(r for r in report.results if r.name in losing and r.visibility == "visible")
    said = first.message + " " + " ".join(row.mistake for row in first.diagnosis)
    assert words in said, said
    assert not [r.name for r in report.results if "No points for" in r.message]  # the checks, not a rule


def test_a_mistake_in_propagate_is_not_blamed_on_optimize(grade5, tmp_path):
    report = grade5(mutated(tmp_path, "missing_one_over_m"), only=("optimize",))
    assert by_name(report)["optimize_matches_gradient_descent"].message.startswith(
        "optimize(w, b, X, Y, 250, 0.1) follows gradient descent, but with the wrong gradients: your propagate is "
        "wrong")


# --- the rules ----------------------------------------------------------------------------


def test_loops_over_the_samples_lose_exactly_the_vectorisation_points(grade5, assignment5):
    report = grade5(HERE / "loops_over_samples.py")
    assert lost(report) == checks_of(report, "propagate", "predict")
    assert report.score == report.max_score - sum(r.max_score for r in report.results
                                                  if set(r.functions) & {"propagate", "predict"})
    results = by_name(report)
    message = results["propagate_matches_autograd"].message
    assert message.startswith("No points for propagate: it loops in Python over the data")
    assert "`range(m)` at line 55 (loops over `range(m)` in Python)" in message
    assert "given 23 numbers it ran 47 lines of your code, given 403 it ran 807" in message
    assert "given 21 numbers it ran 22 lines of your code, given 303 it ran 210" in results["predict_values"].message
    hidden = results["propagate_other_shapes"]
    assert hidden.visibility == "hidden" and "range(m)" not in hidden.message and "range(m)" in hidden.details
    assert "times as long as the same work done with whole arrays" in results["propagate_speed"].message


def test_loops_in_disguise_and_a_switched_off_count_earn_nothing(grade5):
    disguised = grade5(HERE / "loops_in_disguise.py", only=("propagate", "predict"))
    assert all(r.score == 0 and r.message.startswith("No points for") for r in disguised.results)
    results = by_name(disguised)
    assert "a comprehension loops over `range(m)` in Python" in results["propagate_at_two_sizes"].message
    assert "calls numpy.vectorize, which runs Python once per element" in results["predict_values"].message
    hiding = grade5(HERE / "stops_the_line_count.py", only=("propagate",))
    assert all(r.score == 0 and "it reaches Python's tracing (sys.settrace)" in r.message for r in hiding.results)
    assert "`sys.settrace` at line 53" in by_name(hiding)["propagate_other_shapes"].details


def test_gradients_autograd_did_not_compute_earn_nothing_however_right(grade5):
    report = grade5(HERE / "closed_form_gradients.py", only=PART_A)
    for function in ("grad_of_two_xtx", "grad_through_control_flow"):
        for result in (r for r in report.results if function in r.functions):
            assert result.score == 0 and result.message.startswith(f"No points for {function}: this exercise asks "
                                                                   "for the gradient from PyTorch's autograd")
            assert "Besides that" not in result.message  # the values were right: only the rule took the points
    visible = by_name(report)["grad_of_two_xtx_values"].message
    assert "neither it nor a helper it calls uses autograd" in visible and "2 of its 2 calls returned" in visible
    assert all(r.passed for r in report.results if r.functions == ("add_in_place",))


def test_autograd_by_any_of_its_entry_points_is_autograd(grade5):
    report = grade5(HERE / "autograd_other_ways.py", only=PART_A)
    assert report.all_passed, [(r.name, r.message) for r in report.results if not r.passed]


# --- the grader's side --------------------------------------------------------------------


def _support(assignment5):
    assignment5.public_checks()  # loads support.py as part of the checks' package
    return next(m for name, m in sys.modules.items() if name.endswith(".support") and "assignment5" in name)


def test_the_reference_agrees_with_pytorch_and_the_breast_cancer_split_is_fair(assignment5):
    support = _support(assignment5)
    spec = importlib.util.spec_from_file_location("_a5_reference", COURSE / "reference" / "assignment5" / "solution.py")
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)
    rng = np.random.default_rng(5)
    w, b, X, Y = support.saturated_problem(rng, 4, 9)
    grads, cost = reference.propagate(w, b, X, Y)
    expected_cost, dw, db = support.loss_and_grads(w, b, X, Y)
    assert np.isfinite(cost) and cost == pytest.approx(expected_cost, rel=1e-12)
    np.testing.assert_allclose(grads["dw"], dw, rtol=1e-10)
    assert grads["db"] == pytest.approx(db, rel=1e-10)
    for a in (0.3, -0.3, 1000 / 1024, 700.0):
        tensor = torch.tensor([a])
        c, grad = reference.grad_through_control_flow(tensor)
        assert torch.equal(c, support.control_flow(tensor)[0]) and torch.equal(grad, support.control_flow(tensor)[1])
    (X_train, Y_train, X_test, Y_test), grader = support.cancer_split(np.random.default_rng(7))
    assert X_train.shape == (30, 427) and X_test.shape == (30, 142) and Y_test.shape == (1, 142)
    assert np.allclose(X_train.mean(axis=1), 0) and np.allclose(X_train.std(axis=1), 1)
    found = reference.model(X_train, Y_train, X_test, Y_test)
    np.testing.assert_allclose(found["w"], grader["w"], rtol=1e-9)
    assert support.accuracy(found["Y_prediction_test"], Y_test) >= support.CANCER_ACCURACY


def test_grade_check_finds_assignment5_sound():
    """What the issue asks of every assignment, run as the author runs it: reference full marks under three seeds,
    template and stubs 0, every mutant killed or marked equivalent with a reason, hidden checks on every function."""
    from grader.authoring.soundness import Options, check

    verdict = check(COURSE, "assignment5", Options(jobs=2))
    assert verdict.sound, [(p.step, p.text) for p in verdict.problems]
    total = verdict.total()
    assert total.survived == 0 and total.killed + total.equivalent == total.made >= 90 and total.equivalent == 3
