"""Assignment 1 end to end: reference, template, and the usual tensor mistakes."""

from __future__ import annotations

import pytest

from grader.api import grade
from grader.course import load_assignment

from .conftest import COURSE, TEST_LIMITS, by_name

EXAMPLE = COURSE / "examples" / "assignment1" / "full_marks.py"
LIMITS = TEST_LIMITS.__class__(call_timeout=20.0, load_timeout=30.0, memory_mb=1024)


@pytest.fixture(scope="module")
def assignment1():
    return load_assignment(COURSE, "assignment1")


@pytest.fixture
def grade1(assignment1, torch_server):
    def run(path, **options):
        return grade(assignment1, path, server=torch_server, limits=LIMITS, **options)

    return run


def mutated(tmp_path, old, new):
    source = EXAMPLE.read_text()
    assert old in source, old
    path = tmp_path / "submission.py"
    path.write_text(source.replace(old, new))
    return path


def result(report, name):
    return by_name(report)[name]


def test_the_example_submission_gets_full_marks(grade1):  # the reference's: test_bundled_course_is_sound
    report = grade1(EXAMPLE)
    assert report.all_passed, [(r.name, r.message) for r in report.results if not r.passed]


@pytest.mark.parametrize("template", ["assignment1.py", "assignment1.ipynb"])
def test_untouched_template_scores_zero(grade1, template):
    report = grade1(COURSE / "assignments" / "assignment1" / template)
    assert report.score == 0 and all("not implemented yet" in r.message for r in report.results)


@pytest.mark.parametrize("old, new, check, words", [
    ("return torch.tensor(values)", "return torch.Tensor(values)", "tensor_from_list_keeps_values_and_dtype",
     "float32 for every list is what torch.Tensor(...) or dtype=torch.float32 gives"),
    ("return torch.from_numpy(array)", "return torch.tensor(array)", "tensor_sharing_memory_shares",
     "does not share memory with the array"),
    ("return t.detach().cpu().numpy()", "return t.numpy()", "numpy_from_tensor_values",
     "raised RuntimeError: Can't call numpy() on Tensor that requires grad"),
    ("return t.detach().cpu().numpy()", "return np.array(t.detach().cpu())", "numpy_from_tensor_shares_on_the_cpu",
     "does not share memory with a CPU tensor"),
    ("return torch.cat((x, y), dim=0), torch.cat((x, y), dim=1)",
     "return torch.cat((x, y), dim=1), torch.cat((x, y), dim=0)", "concatenate_both_ways",
     "Its shape is (3, 8); expected (6, 4)"),
    ("    y = x.clone()\n    y[0:2, :] = value\n    return y", "    x[0:2, :] = value\n    return x",
     "fill_rows_copies", "fill_rows(x, value) changed x"),
    ("return list(torch.split(data, batch_size))",
     "return [data[i:i + batch_size] for i in range(0, len(data) - batch_size + 1, batch_size)]",
     "make_batches_of_128", "Batch sizes were [128, 128]; expected [128, 128, 44]"),
    ("torch.sqrt(torch.sum(v * v))", "torch.sum(v * v)", "vector_norms_l1_and_l2",
     "the L2 norm from vector_norms(v) returned wrong values"),
    ('"rand": torch.rand_like(t)', '"rand": torch.randn_like(t)', "like_matches_shape_dtype_and_device",
     'like(t)["rand"] returned wrong values'),
    ("return bool((a - a.T).abs().max() <= tol)", "return (a - a.T).abs().max() <= tol", "is_symmetric_decides",
     None),
    # near-symmetric and near-orthogonal inputs, within and beyond tol
    ("return bool((a - a.T).abs().max() <= tol)", "return bool(torch.equal(a, a.T))", "is_symmetric_decides",
     "is_symmetric(m + m.T off by tol / 2 at [0, 1]) is wrong. Expected True, got False."),
    ("return bool((a - a.T).abs().max() <= tol)", "return bool((a - a.T).abs().max() <= 1e-6)", "is_symmetric_decides",
     "is_symmetric(m + m.T off by 5e-4 at [0, 1], tol=0.001) is wrong"),
    ("return bool((a - a.T).abs().max() <= tol)", "return bool(torch.allclose(a, a.T))", "is_symmetric_decides",
     "is_symmetric(m + m.T off by tol / 2 at [0, 1]) is wrong. Expected True, got False."),
    ("    if q.ndim != 2 or q.shape[0] != q.shape[1]:\n        return False\n"
     "    return bool((q.T @ q - torch.eye(len(q), dtype=q.dtype, device=q.device)).abs().max() <= tol)",
     "    return bool((q.T @ q - torch.eye(q.shape[1], dtype=q.dtype, device=q.device)).abs().max() <= tol)",
     "is_orthogonal_decides", "is_orthogonal(4 x 3 with orthonormal columns) is wrong. Expected False, got True."),
    ("return bool((q.T @ q - torch.eye(len(q), dtype=q.dtype, device=q.device)).abs().max() <= tol)",
     "return bool(torch.equal(q.T @ q, torch.eye(len(q), dtype=q.dtype, device=q.device)))", "is_orthogonal_decides",
     "is_orthogonal(Q from a QR decomposition) is wrong. Expected True, got False."),
    ("return bool((q.T @ q - torch.eye(len(q), dtype=q.dtype, device=q.device)).abs().max() <= tol)",
     "return bool((q.T @ q - torch.eye(len(q), dtype=q.dtype, device=q.device)).abs().max() <= 1e-2)",
     "is_orthogonal_decides", "is_orthogonal(Q (I + E), E off by 3 tol) is wrong. Expected False, got True."),
])
def test_mistakes_fail_their_check_with_the_reason(grade1, tmp_path, old, new, check, words):
    report = grade1(mutated(tmp_path, old, new))
    failing = result(report, check)
    if words is None:  # a 0-D boolean tensor is a fine answer for "is it symmetric?"
        assert failing.passed, failing.message
        return
    assert failing.score == 0 and words in failing.message, failing.message
    others = [r for r in report.results if not set(r.functions) & set(failing.functions)]
    assert all(r.passed for r in others), [(r.name, r.message) for r in others if not r.passed]


def test_a_float64_tensor_from_a_list_gets_a_hint_about_float64_not_about_torch_tensor(grade1, tmp_path):
    float64 = mutated(tmp_path, "return torch.tensor(values)", "return torch.tensor(values, dtype=torch.float64)")
    report = grade1(float64, only=("tensor_from_list",))
    failing = result(report, "tensor_from_list_keeps_values_and_dtype")
    assert failing.score == 0 and "Its dtype is float64; expected int64" in failing.message
    assert "torch.Tensor(" not in failing.message  # the student never called it


def test_ignoring_dtype_is_caught_by_the_hidden_float64_check(grade1, tmp_path):
    report = grade1(mutated(tmp_path, '"zeros": torch.zeros_like(t)', '"zeros": torch.zeros(t.shape)'))
    assert result(report, "like_matches_shape_dtype_and_device").passed  # float32 looks right
    hidden = result(report, "like_float64_three_dimensions")
    assert hidden.status == "failed" and "wrong dtype" in hidden.message


# --- the hidden checks: each catches a mistake the public ones let through --------------------------


@pytest.mark.parametrize("old, new, public, hidden, words", [
    ("return torch.from_numpy(array)",
     "return torch.from_numpy(array) if array.dtype == np.float64 else torch.tensor(array)",
     "tensor_sharing_memory_shares", "tensor_sharing_memory_other_dtypes",
     "tensor_sharing_memory(array) does not share memory with the array."),
    ("return t.detach().cpu().numpy()", "return t.detach().cpu().numpy().astype(np.float32)",
     "numpy_from_tensor_values", "numpy_from_tensor_other_dtypes",
     "numpy_from_tensor(t) returned an array of the wrong dtype."),
    ("torch.exp(x)", "torch.exp(x.float())", "elementwise_operations", "elementwise_float64_matrices",
     "elementwise(x, y)[5] returned a tensor of the wrong dtype."),
    ('"last_row": x[-1]', '"last_row": x[3]', "pick_rows_columns_and_slices", "pick_other_shapes",
     'pick(x)["last_row"] returned wrong values.'),
    ("    y[0:2, :] = value", "    y[0:2, 0:3] = value", "fill_rows_copies", "fill_rows_integers_and_wide",
     "Not checked: fill_rows does not yet return correct values."),
    ("return images.reshape(len(images), -1)", "return images.reshape(len(images), 12)",
     "flatten_samples_one_row_per_image", "flatten_samples_other_shapes",
     "flatten_samples raised RuntimeError"),
    ("return list(torch.split(data, batch_size))", "return list(torch.split(data, 128))",
     "make_batches_of_128", "make_batches_exact_and_custom", "make_batches(data, 64) has the wrong batches."),
    # one sample past whole batches: 300 samples in batches of 128 cannot tell range(0, n - 1, b) from range(0, n, b)
    ("return list(torch.split(data, batch_size))",
     "return [data[i:i + batch_size] for i in range(0, len(data) - 1, batch_size)]",
     "make_batches_of_128", "make_batches_exact_and_custom", "make_batches(data, batch_size) has the wrong batches."),
    ('"dtype": str(t.dtype)', '"dtype": "torch.float32"', "tensor_info_describes", "tensor_info_integers",
     'tensor_info(t)["dtype"] is wrong.'),
    ("return torch.abs(v).sum(), torch.sqrt(torch.sum(v * v))",
     "return torch.abs(v).sum().float(), torch.sqrt(torch.sum(v * v)).float()", "vector_norms_l1_and_l2",
     "norms_float64", "vector_norms(v)[0] returned a tensor of the wrong dtype."),
    ("    return a.T", "    return a.T.float()", "transpose_swaps_axes", "transpose_other_shapes",
     "transpose(a) returned a tensor of the wrong dtype."),
    ("    if a.shape[0] != a.shape[-1] or a.ndim != 2:\n        return False\n",
     "    if a.shape[0] != a.shape[-1] or a.ndim != 2 or a.dtype != torch.float64:\n        return False\n",
     "is_symmetric_decides", "is_symmetric_other_sizes_and_tolerances", "is_symmetric(a) is wrong."),
    ("    if q.ndim != 2 or q.shape[0] != q.shape[1]:\n        return False\n",
     "    if q.ndim != 2 or q.shape[0] != q.shape[1] or len(q) > 4:\n        return False\n",
     "is_orthogonal_decides", "is_orthogonal_other_sizes_and_tolerances", "is_orthogonal(q) is wrong."),
])
def test_hidden_checks_catch_what_the_public_ones_let_through(grade1, tmp_path, old, new, public, hidden, words):
    report = grade1(mutated(tmp_path, old, new), only=(result_functions(public),))
    assert result(report, public).passed, result(report, public).message
    failing = result(report, hidden)
    assert failing.score == 0 and failing.message.startswith(words), failing.message
    assert not failing.details or failing.details not in failing.message  # the specifics stay with staff


def result_functions(name):
    return {"tensor_sharing_memory_shares": "tensor_sharing_memory", "numpy_from_tensor_values": "numpy_from_tensor",
            "elementwise_operations": "elementwise", "pick_rows_columns_and_slices": "pick",
            "fill_rows_copies": "fill_rows", "flatten_samples_one_row_per_image": "flatten_samples",
            "make_batches_of_128": "make_batches", "tensor_info_describes": "tensor_info",
            "vector_norms_l1_and_l2": "vector_norms", "transpose_swaps_axes": "transpose",
            "is_symmetric_decides": "is_symmetric", "is_orthogonal_decides": "is_orthogonal"}[name]
