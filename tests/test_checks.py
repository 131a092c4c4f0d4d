"""Checks are declared next to their points and validated when loaded."""

import textwrap

import numpy as np
import pytest

from grader.checks import check, expect_raises, expect_unchanged, load_file, validate, working
from grader.errors import CheckFailed, NotChecked, SpecError
from grader.sandbox.faults import StudentRaised
from grader.student import Call

HEADER = "from grader.checks import check\n"


def write(tmp_path, body, name="checks.py"):
    path = tmp_path / name
    path.write_text(HEADER + textwrap.dedent(body))
    return path


def test_checks_load_in_order_with_title_points_and_visibility(tmp_path):
    path = write(tmp_path, '''
        @check(points=2, functions="f")
        def second_defined_first(student, rng):
            """f works on small inputs

            More words that are not the title.
            """

        @check(points=0.5, functions=["f", "g"], name="custom")
        def other(student):
            pass

        def not_a_check():
            pass
    ''')
    first, second = load_file(path, "_test_checks_ok", hidden=False)
    assert (first.name, first.title, first.points, first.functions, first.visibility) == (
        "second_defined_first", "f works on small inputs", 2.0, ("f",), "visible")
    assert first.fixtures == ("student", "rng")
    assert (second.name, second.title, second.functions) == ("custom", "other", ("f", "g"))


def test_checks_under_reference_are_hidden_by_default(tmp_path):
    path = write(tmp_path, '''
        @check(points=1, functions="f")
        def a(student, reference):
            pass

        @check(points=1, functions="f", hidden=False)
        def b(student):
            pass
    ''')
    a, b = load_file(path, "_test_checks_hidden", hidden=True)
    assert (a.visibility, b.visibility) == ("hidden", "visible")


@pytest.mark.parametrize("body, words", [
    ('@check(points=0, functions="f")\ndef a(student): pass', "points must be a positive number"),
    ('@check(points=float("nan"), functions="f")\ndef a(student): pass', "points must be a positive number"),
    ('@check(points=1, functions=[])\ndef a(student): pass', "must name at least one"),
    ('@check(points=1, functions="f")\ndef a(student, inputs): pass', "unknown parameter(s) inputs"),
    ('@check(points=1, functions="f")\ndef a(student, reference): pass', "public checks run without the reference"),
    ('@check(points=1, functions="f", hidden=True)\ndef a(student): pass', "must live under reference/"),
    ('raise RuntimeError("boom")', "loading the checks failed: RuntimeError: boom"),
])
def test_bad_checks_fail_at_load_time_naming_the_file(tmp_path, body, words):
    path = write(tmp_path, body)
    with pytest.raises(SpecError) as caught:
        load_file(path, "_test_checks_bad", hidden=False)
    assert str(path) in str(caught.value) and words in str(caught.value)


def test_duplicate_names_and_undeclared_functions_are_refused(tmp_path):
    one = load_file(write(tmp_path, '@check(points=1, functions="f")\ndef a(student): pass', "one.py"),
                    "_test_one", hidden=False)
    two = load_file(write(tmp_path, '@check(points=1, functions="f")\ndef a(student): pass', "two.py"),
                    "_test_two", hidden=True)
    with pytest.raises(SpecError, match="two checks are named 'a'"):
        validate(one + two, ["f"], "course")
    with pytest.raises(SpecError, match="exercises 'f', which the assignment does not declare"):
        validate(one, ["g"], "course")
    validate(one, ["f.method"], "course")  # a class whose methods are declared counts


def raised(type_name, *bases):
    return StudentRaised("f", type_name, [type_name, *bases, "Exception"], "message", [])


def test_expect_raises_accepts_subclasses_and_names_the_wrong_exception():
    def throw(fault):
        def call():
            raise fault
        return call

    assert expect_raises(throw(raised("ShapeError", "ValueError")), "ValueError", what="f(x)").type_name == "ShapeError"
    with pytest.raises(CheckFailed, match="raised IndexError, not AssertionError or ValueError"):
        expect_raises(throw(raised("IndexError", "LookupError")), "AssertionError", "ValueError", what="f(x)")
    with pytest.raises(CheckFailed, match="did not raise ValueError") as caught:
        expect_raises(lambda: np.zeros(2), "ValueError", what="f(x)")
    assert "It returned a NumPy array of shape (2,)" in caught.value.details


def test_expect_raises_lets_unfinished_code_through_as_an_error():
    with pytest.raises(StudentRaised):
        expect_raises(lambda: (_ for _ in ()).throw(raised("NotImplementedError", "RuntimeError")),
                      "ValueError", what="f(x)")


def test_expect_unchanged_points_at_the_changed_element():
    x = np.arange(6.0).reshape(2, 3)
    after = x.copy()
    after[1, 2] = 99
    expect_unchanged(Call(None, [x.copy()], {}), {"x": x}, what="f(x)")
    with pytest.raises(CheckFailed) as caught:
        expect_unchanged(Call(None, [after], {}), {"x": x}, what="f(x)")
    assert caught.value.summary == "f(x) changed its input x."
    assert "At [1, 2] it was 5 and is now 99" in caught.value.details


def test_check_decorator_keeps_the_function_callable():
    @check(points=1, functions="f")
    def plain(student):
        return "ran"

    assert plain(None) == "ran"


def test_expect_unchanged_names_a_shape_changed_in_place():
    x = np.arange(6.0).reshape(2, 3)
    after = x.copy()
    after.shape = (6,)  # what `x.shape = (6,)` inside the function leaves behind
    with pytest.raises(CheckFailed) as caught:
        expect_unchanged(Call(None, [after], {}), {"x": x}, what="f(x)")
    assert caught.value.summary == "f(x) changed its input x."
    assert "shape (2, 3)" in caught.value.details and "shape (6,)" in caught.value.details


# --- properties pay only for working functions ----------------------------------------------


def test_working_turns_a_wrong_value_or_an_exception_into_not_checked():
    with pytest.raises(NotChecked) as caught:
        with working("f"):
            raise CheckFailed("f(x) returned wrong values.", "At [0] expected 1, got 2.")
    assert caught.value.summary == "Not checked: f does not yet return correct values."
    assert "At [0] expected 1, got 2." in caught.value.details
    with pytest.raises(NotChecked, match="Not checked: f"):
        with working("f"):
            raise raised("ValueError")
    with working("f"):  # right values: the property is checked next
        pass


def test_working_lets_unfinished_code_keep_its_own_message():
    with pytest.raises(StudentRaised):
        with working("f"):
            raise raised("NotImplementedError", "RuntimeError")
