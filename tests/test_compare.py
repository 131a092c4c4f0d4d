"""Comparisons ask type, shape, dtype, then values, and say exactly what differs."""

import numpy as np
import pytest
import torch

from grader.compare import TOLERANCES, as_number, as_sequence, assert_number, assert_same, describe, tolerance
from grader.errors import CheckFailed
from grader.sandbox.codec import RemoteRef


def failure(actual, expected, **options):
    with pytest.raises(CheckFailed) as caught:
        assert_same(actual, expected, what="f(x)", **options)
    return caught.value


EXPECTED = np.arange(12.0).reshape(3, 4)


def test_equal_arrays_pass():
    assert_same(EXPECTED.copy(), EXPECTED, what="f(x)")


@pytest.mark.parametrize("actual, summary, detail", [
    (EXPECTED.tolist(), "wrong kind of value", "returned a list of length 3; expected a NumPy array"),
    (None, "wrong kind of value", "Did you forget a return statement?"),
    (RemoteRef(1, "generator", ""), "wrong kind of value", "a generator object"),
    (torch.zeros(3, 4), "wrong kind of value", "a torch.Tensor"),
    (EXPECTED.T, "wrong shape", "(4, 3); expected (3, 4) (transposed?)"),
    (EXPECTED.reshape(12), "wrong shape", "Its shape is (12,); expected (3, 4)."),
    (EXPECTED.astype(np.float32), "wrong dtype", "float32; expected float64"),
])
def test_type_shape_and_dtype_are_checked_in_that_order(actual, summary, detail):
    failed = failure(actual, EXPECTED)
    assert summary in failed.summary and detail in failed.details


def test_value_mismatch_names_first_index_values_count_and_largest_error():
    actual = EXPECTED.copy()
    actual[1, 2] += 0.5
    actual[2, 3] -= 2.0
    failed = failure(actual, EXPECTED)
    assert failed.summary == "f(x) returned wrong values."
    assert "At [1, 2] expected 6, got 6.5" in failed.details
    assert "2 of 12 elements differ" in failed.details and "largest difference 2" in failed.details


def test_summaries_never_reveal_values():
    actual = EXPECTED + 1
    failed = failure(actual, EXPECTED)
    assert not any(ch.isdigit() for ch in failed.summary)


def test_nan_is_named():
    actual = EXPECTED.copy()
    actual[0, 1] = np.nan
    failed = failure(actual, EXPECTED)
    assert "(it contains NaN)" in failed.summary and "At [0, 1] it has NaN where 1 was expected" in failed.details


def test_nan_where_nan_is_expected_is_equal():
    expected = np.array([np.nan, 1.0])
    assert_same(np.array([np.nan, 1.0]), expected, what="f(x)")


def test_tolerance_depends_on_dtype():
    rtol64, _ = TOLERANCES["float64"]
    assert_same(EXPECTED * (1 + rtol64 / 10), EXPECTED, what="f(x)")
    failure(EXPECTED * (1 + rtol64 * 100), EXPECTED)
    expected32 = EXPECTED.astype(np.float32) + 1
    assert_same(expected32 * np.float32(1 + 1e-7), expected32, what="f(x)")
    assert tolerance("int64") == (0.0, 0.0)
    failure(np.array([1, 2, 4]), np.array([1, 2, 3]))


def test_stated_tolerance_wins():
    assert_same(EXPECTED + 0.01, EXPECTED, what="f(x)", atol=0.1)


def test_tensors_compare_dtype_device_and_values():
    expected = torch.arange(6.0).reshape(2, 3)
    assert_same(expected.clone(), expected, what="f(x)")
    assert "wrong dtype" in failure(expected.double(), expected).summary
    assert "At [1, 0] expected 3, got 4" in failure(expected + (torch.arange(6).reshape(2, 3) == 3), expected).details
    assert "Convert it with torch.as_tensor" in failure(expected.numpy(), expected).details


def test_tuples_and_dicts_are_compared_item_by_item():
    expected = (1.0, {"W1": np.zeros(2), "b1": np.ones(1)})
    assert "f(x)[1]['b1'] returned wrong values" in failure((1.0, {"W1": np.zeros(2), "b1": np.zeros(1)}),
                                                           expected).summary
    assert "Missing: 'b1'" in failure((1.0, {"W1": np.zeros(2)}), expected).details
    assert "wrong number of items" in failure((1.0,), expected).summary


def test_numbers_accept_any_scalar_and_reject_arrays():
    for value in (3.0, np.float64(3.0), np.array(3.0), torch.tensor(3.0), 3):
        assert_number(value, 3.0, what="f(x)")
    with pytest.raises(CheckFailed) as caught:
        as_number(np.array([3.0]), what="f(x)")
    assert "expected a single number" in caught.value.details
    with pytest.raises(CheckFailed) as caught:
        assert_number(float("nan"), 1.0, what="f(x)")
    assert "NaN" in caught.value.summary


def test_describe_is_short_and_plain():
    assert describe(np.zeros((2, 3))) == "a NumPy array of shape (2, 3) and dtype float64"
    assert describe([1, 2]) == "a list of length 2"
    assert describe(2.5) == "the number 2.5"


def test_gpu_float32_gets_more_room_than_the_cpu():
    assert tolerance("float32", device="cuda") == (1e-5, 1e-5)
    assert tolerance("float32") == TOLERANCES["float32"]
    assert tolerance("float64", device="cuda") == TOLERANCES["float64"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_tensors_on_another_device_are_named():
    expected = torch.ones(3, device="cuda")
    assert "wrong device" in failure(torch.ones(3), expected).summary


# --- student values are data: type and shape before use ----------------------------------


def test_an_integer_too_large_for_a_float_is_a_plain_failure():
    with pytest.raises(CheckFailed) as caught:
        assert_number(10**400, 1.0, what="f(x)")
    assert caught.value.summary == "f(x) returned a number too large to be a float."
    assert "an integer of about 401 digits" in caught.value.details
    assert "integer of about" in describe(-10**5000)  # str() would refuse past 4300 digits


def test_a_generator_or_other_object_is_named_with_what_to_return():
    generator = RemoteRef(3, "generator", "<generator object f at 0x1>")
    failed = failure(generator, [np.zeros(2)])
    assert "returned a generator object" in failed.details and "return a list" in failed.details
    with pytest.raises(CheckFailed) as caught:
        as_sequence(generator, what="f(x)")
    assert "a generator object" in caught.value.details


def test_as_sequence_checks_kind_and_length_before_anything_reads_the_items():
    assert as_sequence((1, 2), what="f(x)", length=2) == [1, 2]
    for value in (torch.tensor(3.0), None, np.zeros(2), {"a": 1}):
        with pytest.raises(CheckFailed, match="wrong kind of value"):
            as_sequence(value, what="f(x)", length=2, wanted="a pair")
    with pytest.raises(CheckFailed, match="wrong number of items") as caught:
        as_sequence([1, 2, 3], what="f(x)", length=2, wanted="a pair")
    assert "a list of length 3; expected a pair" in caught.value.details


def test_an_array_where_a_tensor_is_expected_is_a_wrong_type_not_a_crash():
    failed = failure(np.zeros((2, 2), dtype=np.float32), torch.zeros(2, 2))
    assert "expected a torch.Tensor" in failed.details and "torch.as_tensor" in failed.details
