"""Naming the likely mistake behind wrong numbers."""

import numpy as np
import pytest

from grader.diagnose import compare_parameters, likely_mistake, relative_error, require_close, require_parameters
from grader.errors import CheckFailed

EXPECTED = np.array([[0.5, -1.25, 2.0], [0.75, 3.0, -0.5]])


@pytest.mark.parametrize("actual, words", [
    (EXPECTED.T.copy(), "transposed"),
    (-EXPECTED, "the sign is flipped"),
    (0 * EXPECTED, "it is zero"),
    (2 * EXPECTED, "off by a factor of 2"),
    (0.5 * EXPECTED, "off by a factor of 1/2"),
    (-2 * EXPECTED, "the sign is flipped and it is off by a factor of 2"),
    (7 * EXPECTED, "off by a factor of N"),
    (3.5 * EXPECTED, "off by a constant factor"),
    (EXPECTED.reshape(3, 2), "the right values in the wrong shape"),
])
def test_hypotheses_are_tested_in_order(actual, words):
    assert words in likely_mistake(actual, EXPECTED, factors={"N": 7})


def test_the_words_name_no_value_the_submission_chose_and_the_details_do():
    # A hidden check's summary may quote the words: shapes and factors the code chose could spell its inputs.
    from grader.diagnose import specifics

    empty = np.zeros((0, 31337, 424242))
    assert likely_mistake(empty, EXPECTED) == "the wrong shape"
    assert specifics(empty, EXPECTED, "the wrong shape") == "its shape is (0, 31337, 424242); expected (2, 3)"
    assert likely_mistake(1.31337 * EXPECTED, EXPECTED) == "off by a constant factor"
    assert specifics(1.31337 * EXPECTED, EXPECTED, "off by a constant factor") == "a factor of 1.313"
    with pytest.raises(CheckFailed) as caught:
        require_close(1.31337 * EXPECTED, EXPECTED, what="f(x)")
    assert "1.313" not in caught.value.summary and "a factor of 1.313" in caught.value.details


def test_named_variants_come_first_and_unexplained_errors_stay_unexplained():
    variant = EXPECTED + 1
    assert likely_mistake(variant, EXPECTED, variants={"forgot the bias": variant}) == "forgot the bias"
    noisy = EXPECTED + np.random.default_rng(0).normal(0, 0.1, EXPECTED.shape)
    assert likely_mistake(noisy, EXPECTED) is None


def test_single_numbers_only_get_named_factors():
    assert likely_mistake(np.array(3.7), np.array(1.0)) is None
    assert likely_mistake(np.array(2.0), np.array(1.0)) == "off by a factor of 2"


def test_relative_error():
    assert relative_error(2 * EXPECTED, EXPECTED) == pytest.approx(1.0)
    assert relative_error(np.array(0.5), np.array(0.0)) == 0.5


def test_compare_and_require_name_each_wrong_parameter():
    expected = {"w1": 0.25, "w2": -1.5, "b": 0.75}
    entries = compare_parameters({"w1": 0.25, "w2": 1.5, "b": 1.5}, expected)
    assert [e.ok for e in entries] == [True, False, False]
    with pytest.raises(CheckFailed) as caught:
        require_parameters(entries, what="gradients(x, y)")
    assert caught.value.summary == ("gradients(x, y): wrong for w2 (the sign is flipped), b (off by a factor of 2); "
                                    "the other one is right.")
    assert "w2: expected -1.5, got 1.5, relative error 2" in caught.value.details


def test_a_shared_mistake_is_said_once_and_wording_adapts_to_the_check():
    entries = compare_parameters({"a": 0.0, "b": 0.0}, {"a": 1.0, "b": 2.0})
    with pytest.raises(CheckFailed, match="All of them: never changes"):
        require_parameters(entries, what="one step", wording={"it is zero": "never changes"})


def test_missing_or_non_numeric_parameters_are_reported():
    entries = compare_parameters({"a": "text"}, {"a": 1.0, "b": 2.0})
    assert [e.mistake for e in entries] == ["missing or not a number", "missing or not a number"]
    assert not any(e.ok for e in entries)
    assert compare_parameters([1, 2], {"a": 1.0})[0].mistake == "missing or not a number"


def test_absolute_tolerance_floor_for_tiny_values():
    entries = compare_parameters({"a": 1e-9 + 3e-10}, {"a": 1e-9}, atol=1e-7)
    assert entries[0].ok


def test_require_close_adds_the_likely_mistake_to_the_summary():
    with pytest.raises(CheckFailed) as caught:
        require_close(-EXPECTED, EXPECTED, what="f(x)")
    assert caught.value.summary == "f(x) returned wrong values. Likely: the sign is flipped."
    with pytest.raises(CheckFailed) as caught:
        require_close([1, 2], EXPECTED, what="f(x)")
    assert "wrong kind of value" in caught.value.summary


def test_the_variant_that_explains_most_parameters_names_each_of_them():
    expected = {"a": 1.0, "b": 2.0, "c": 3.0}
    actual = {"a": 5.0, "b": 6.0, "c": 7.0}
    variants = {  # "broad" agrees on a only; "narrow" explains all three, so a is put down to it too
        "broad": {"a": 5.0, "b": 9.0, "c": 9.0},
        "narrow": {"a": 5.0, "b": 6.0, "c": 7.0},
    }
    entries = compare_parameters(actual, expected, variants=variants)
    assert [e.mistake for e in entries] == ["narrow", "narrow", "narrow"]
    with pytest.raises(CheckFailed, match="All of them: narrow."):
        require_parameters(entries, what="g")
