"""Capture records, classify decides, gates take points from whole-array code."""

from collections import Counter

import pytest

from grader.checks import CheckSpec
from grader.errors import CheckFailed, GraderFault
from grader.runner import CheckCrashed, Outcome, capture, classify, rule_gates
from grader.sandbox.faults import StudentRaised, StudentTimeout


def spec(run=lambda: None, visibility="visible", functions=("f",), points=2.0, fixtures=()):
    return CheckSpec(name="f_values", title="f matches NumPy", points=points, functions=functions,
                     visibility=visibility, fixtures=fixtures, run=run, origin="checks.py")


def fail():
    raise CheckFailed("f(x) returned wrong values.", "At [0] expected 1, got 2.")


def test_capture_records_what_happened():
    assert capture(spec(), {}, None).failure is None
    assert capture(spec(fail), {}, None).failure.summary == "f(x) returned wrong values."
    outcome = capture(spec(lambda: (_ for _ in ()).throw(StudentTimeout("f", 5))), {}, None)
    assert isinstance(outcome.fault, StudentTimeout)


def test_capture_hands_fixtures_by_name():
    seen = {}
    capture(spec(lambda rng, seed: seen.update(rng=rng, seed=seed), fixtures=("rng", "seed")),
            {"rng": lambda: "the rng", "seed": lambda: 3, "student": lambda: pytest.fail("not asked for")}, None)
    assert seen == {"rng": "the rng", "seed": 3}


def test_a_check_that_crashes_is_a_grader_fault_naming_it_for_staff_only():
    with pytest.raises(CheckCrashed) as caught:
        capture(spec(lambda: 1 / 0), {}, None)
    assert isinstance(caught.value, GraderFault)
    assert "check f_values (checks.py) crashed: ZeroDivisionError" in caught.value.details
    said = str(caught.value)  # what may reach a student: no check named, nobody's work blamed
    assert "f_values" not in said and "not a fault of the work being graded" in said


def test_classify_gives_points_only_for_a_pass():
    passed = classify(spec(), Outcome(), {})
    assert (passed.status, passed.score, passed.message) == ("passed", 2.0, "")
    failed = classify(spec(), Outcome(failure=CheckFailed("Wrong.", "At [0].")), {})
    assert (failed.status, failed.score, failed.message) == ("failed", 0.0, "Wrong. At [0].")
    timed_out = classify(spec(), Outcome(fault=StudentTimeout("f", 5)), {})
    assert (timed_out.status, timed_out.score) == ("timeout", 0.0)


def test_hidden_checks_keep_specifics_and_student_text_for_staff():
    failed = classify(spec(visibility="hidden"), Outcome(failure=CheckFailed("Wrong.", "At [0] expected 1.")), {})
    assert failed.message == "Wrong." and failed.details == "At [0] expected 1."
    fault = StudentRaised("f", "ValueError", ["ValueError"], "x was [1.5, 2.5]", [])
    errored = classify(spec(visibility="hidden"), Outcome(fault=fault, output="x = [1.5]", output_bytes=9), {})
    assert "1.5" not in errored.message and "1.5" in errored.details
    assert errored.output == ""  # printing a hidden input would leak it


def test_visible_checks_show_output_truncated():
    outcome = Outcome(failure=CheckFailed("Wrong."), output="line\n" * 100, output_bytes=500)
    shown = classify(spec(), outcome, {}).output
    assert shown.count("line") == 30 and "printed 500 bytes in all" in shown


def test_gates_zero_every_check_of_the_function_and_say_why():
    gates = rule_gates({"loops": ("f", "g")},
                       {"loops": {"f": [{"code": "x + y", "where": "line 3", "reason": "adds whole arrays"}]}},
                       {"loops": {"g": Counter({"numpy.add": 3})}})
    assert set(gates) == {"f", "g"}
    assert "`x + y` at line 3 (adds whole arrays)" in gates["f"].message
    assert "np.add (3x)" in gates["g"].message
    gated = classify(spec(), Outcome(), gates)
    assert (gated.status, gated.score) == ("failed", 0.0) and gated.message.startswith("No points for f")
    both = classify(spec(), Outcome(failure=CheckFailed("Wrong.")), gates)
    assert "Besides that: Wrong." in both.message
    other = classify(spec(functions=("h",)), Outcome(), gates)
    assert other.passed


def test_functions_without_evidence_are_not_gated():
    assert rule_gates({"loops": ("f",)}, {}, {}) == {}


def test_autograd_gates_name_autograd_and_say_what_to_do():
    gates = rule_gates({"autograd": ("Net.train",)}, {},
                       {"autograd": {"Net.train": Counter({"torch.autograd.backward": 2})}})
    message = gates["Net.train"].message
    assert "automatic differentiation" in message and "torch.autograd.backward (2x)" in message
    assert "chain rule" in message


def test_a_tampered_tracer_takes_the_points_and_says_why():
    from grader.sandbox.protocol import TAMPERED

    gates = rule_gates({"loops": ("add",)}, {}, {"loops": {"add": Counter({TAMPERED: 1})}})
    assert "grader's own code" in gates["add"].message and gates["add"].brief == gates["add"].message


def test_what_hidden_calls_did_is_told_to_staff_only_and_costs_hidden_checks_only():
    gates = rule_gates({"loops": ("add",)}, {}, {}, {"loops": {"add": Counter({"numpy.add": 317})}})
    gate = gates["add"]
    assert "317" not in gate.message and "317" not in gate.brief and "np.add (317x)" in gate.details
    assert gate.hidden_only and "on hidden checks" in gate.brief


# --- assignment 5's rules: judged from what each call did ---------------------------------------

def test_requires_autograd_gates_a_call_that_returned_without_it_and_spares_an_unproven_reading():
    from grader.sandbox.protocol import AUTOGRAD_RAN, AUTOGRAD_SKIPPED

    absent = [{"code": "def f(x):", "where": "line 3", "reason": "neither it nor a helper it calls uses autograd"}]
    gates = rule_gates({"requires_autograd": ("f",)}, {},
                       {"requires_autograd": {"f": Counter({AUTOGRAD_SKIPPED: 2, AUTOGRAD_RAN: 1})}})
    assert "2 of its 3 calls returned without autograd running a backward pass" in gates["f"].message
    assert rule_gates({"requires_autograd": ("f",)}, {"requires_autograd": {"f": absent}}, {})["f"].message.startswith(
        "No points for f: this exercise asks for the gradient from PyTorch's autograd")
    # autograd seen running in every call outweighs a reading that found none (a route it does not follow)
    assert rule_gates({"requires_autograd": ("f",)}, {"requires_autograd": {"f": absent}},
                      {"requires_autograd": {"f": Counter({AUTOGRAD_RAN: 4})}}) == {}
    hidden = rule_gates({"requires_autograd": ("f",)}, {}, {},
                        {"requires_autograd": {"f": Counter({AUTOGRAD_SKIPPED: 1})}})
    assert hidden["f"].hidden_only and "on hidden checks" in hidden["f"].brief
    assert "on hidden inputs" in hidden["f"].details


def test_vectorised_gates_lines_that_grow_with_the_data_and_lets_measurement_clear_the_reading():
    from grader.sandbox.protocol import LINES_HIDDEN, TRACING_REASON

    rules = {"vectorised": ("propagate",)}
    loop = [{"code": "range(n)", "where": "line 5", "reason": "loops over `range(n)` in Python"}]
    grows = rule_gates(rules, {}, {"vectorised": {"propagate": Counter({"43:47": 1, "403:807": 1})}})
    assert "given 43 numbers it ran 47 lines of your code, given 403 it ran 807" in grows["propagate"].message
    flat = Counter({"43:12": 2, "403:12": 1})
    assert rule_gates(rules, {"vectorised": {"propagate": loop}}, {"vectorised": {"propagate": flat}}) == {}
    assert rule_gates(rules, {}, {"vectorised": {"propagate": Counter({"43:12": 1, "403:19": 1})}}) == {}  # a branch
    # one size only: the reading's loop stands
    assert "range(n)" in rule_gates(rules, {"vectorised": {"propagate": loop}},
                                    {"vectorised": {"propagate": Counter({"43:47": 3})}})["propagate"].message
    hiding = rule_gates(rules, {}, {"vectorised": {"propagate": Counter({LINES_HIDDEN: 1})}})
    assert "it reaches Python's tracing (sys.settrace)" in hiding["propagate"].message
    reaching = [{"code": "sys.gettrace", "where": "line 4", "reason": TRACING_REASON}]
    assert "it reaches Python's tracing" in rule_gates(rules, {"vectorised": {"propagate": reaching}},
                                                     {"vectorised": {"propagate": flat}})["propagate"].message
    hidden = rule_gates(rules, {}, {"vectorised": {"propagate": Counter({"43:12": 1})}},
                        {"vectorised": {"propagate": Counter({"403:807": 1})}})["propagate"]
    assert hidden.hidden_only and "403" not in hidden.brief and "807" in hidden.details


def test_code_that_reaches_past_its_work_is_not_cleared_by_what_assignment_5s_rules_measured():
    from grader.sandbox.protocol import AUTOGRAD_RAN, ESCAPE_REASON_END

    reaching = [{"code": "sys.modules", "where": "line 2", "reason": "reaches into loaded modules" + ESCAPE_REASON_END}]
    autograd = rule_gates({"requires_autograd": ("f",)}, {"requires_autograd": {"f": reaching}},
                          {"requires_autograd": {"f": Counter({AUTOGRAD_RAN: 3})}})["f"]
    assert "reaches past its own work" in autograd.message and "sys.modules" in autograd.message
    flat = Counter({"43:12": 2, "403:12": 1})
    assert "reaches past its own work" in rule_gates({"vectorised": ("g",)}, {"vectorised": {"g": reaching}},
                                                     {"vectorised": {"g": flat}})["g"].message
