"""Rules that were dodged: each dodge, written as a student would, now earns nothing for its function.

Every fixture scored full marks (or most of them) for the functions below
before the tracer, the static reading and assignment 4's digits check were
fixed. The static reading now sees each of them, and so does the tracer
while they run (tests/test_tracing.py), so either signal alone takes the points.
"""

from __future__ import annotations

import ast

import pytest

from grader.api import grade
from grader.course import load_assignment
from grader.sandbox.staticscan import Unit, scan

from .conftest import COURSE, FIXTURES, TEST_LIMITS, function_results

LIMITS = TEST_LIMITS.__class__(call_timeout=60.0, load_timeout=60.0, memory_mb=2048)

DODGES = [
    # (assignment, fixture, rule, functions it dodges with)
    ("assignment2", "whole_array_via_base.py", "loops", ("naive_relu", "naive_add", "naive_vector_dot")),
    ("assignment2", "whole_array_via_views.py", "loops",
     ("naive_relu", "naive_add", "naive_add_matrix_and_vector", "naive_vector_dot", "naive_matrix_vector_dot")),
    ("assignment2", "whole_array_via_operator.py", "loops",
     ("naive_add", "naive_add_matrix_and_vector", "naive_vector_dot", "naive_matrix_dot")),
    ("assignment3", "autograd_in_a_thread.py", "autograd", ("OurNeuralNetwork.gradients", "OurNeuralNetwork.train")),
    ("assignment3", "autograd_captured_at_load.py", "autograd", ("two_layer_loss_and_grads",)),
    ("assignment3", "sympy_derivatives.py", "autograd", ("OurNeuralNetwork.gradients",)),
]
RULE_WORDS = {"loops": "instead of looping over single elements", "autograd": "derive the backward pass by hand"}


@pytest.fixture(scope="module")
def servers(server, torch_server):
    return {"numpy": server, "torch": torch_server}


def _grade(servers, assignment_name, path, only):
    assignment = load_assignment(COURSE, assignment_name)
    server = servers["torch" if "torch" in assignment.preload else "numpy"]
    return grade(assignment, path, server=server, limits=LIMITS, only=only)


@pytest.mark.parametrize("assignment_name, fixture, rule, functions", DODGES, ids=[d[1] for d in DODGES])
def test_each_dodge_earns_nothing_for_its_function_and_says_why(servers, assignment_name, fixture, rule, functions):
    report = _grade(servers, assignment_name, FIXTURES / assignment_name / fixture, functions)
    for function in functions:
        results = function_results(report, function)
        assert results and all(r.score == 0 for r in results), (function, [(r.name, r.message) for r in results])
        assert all(f"No points for {function}" in r.message and RULE_WORDS[rule] in r.message for r in results)


@pytest.mark.parametrize("assignment_name, fixture, rule, functions", DODGES, ids=[d[1] for d in DODGES])
def test_the_static_reading_alone_sees_each_dodge(assignment_name, fixture, rule, functions):
    source = (FIXTURES / assignment_name / fixture).read_text()
    found = scan([Unit("", source, ast.parse(source))], {rule: list(functions)}).get(rule, {})
    assert all(found.get(function) for function in functions), {f: found.get(f) for f in functions}


def test_a_nearest_neighbour_lookup_in_the_digits_file_earns_nothing(servers):
    report = _grade(servers, "assignment4", FIXTURES / "assignment4" / "digits_lookup.py", ("train_digits_classifier",))
    results = function_results(report, "train_digits_classifier")
    assert results and all(r.score == 0 for r in results), [(r.name, r.message) for r in results]
    public = next(r for r in results if r.visibility == "visible")
    assert public.message.startswith("The model from train_digits_classifier was not trained on the data it was given")
