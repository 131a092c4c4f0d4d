"""The tracer sees whole-array NumPy work and nothing else."""

import numpy as np
import pytest

from grader.sandbox.tracing import TracedArray, traced, tracing, untraced


def run(function, *arrays):
    with tracing() as recorder:
        result = function(*traced(list(arrays)))
    return dict(recorder.operations), untraced(result)


def loop_add(x, y):
    out = x.copy()
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = max(out[i, j], 0) + y[i, j]
    return out


def test_element_loops_are_not_recorded_and_results_come_back_plain():
    x, y = np.arange(6.0).reshape(2, 3), np.ones((2, 3))
    operations, result = run(loop_add, x, y)
    assert operations == {}
    assert type(result) is np.ndarray and np.array_equal(result, np.maximum(x, 0) + y)


@pytest.mark.parametrize("function, name", [
    (lambda x, y: x + y, "numpy.add"),
    (lambda x, y: np.maximum(x, 0), "numpy.maximum"),
    (lambda x, y: x @ y.T, "numpy.matmul"),
    (lambda x, y: x.dot(y.T), "ndarray.dot"),
    (lambda x, y: x.sum(), "numpy.add.reduce"),
    (lambda x, y: np.einsum("ij,ij->", x, y), "numpy.einsum"),
    (lambda x, y: np.broadcast_to(x[0], (4, 3)), "numpy.broadcast_to"),
    (lambda x, y: x[0] + y[1], "numpy.add"),
    (lambda x, y: sum(x), "numpy.add"),
])
def test_whole_array_operations_are_recorded(function, name):
    operations, _ = run(function, np.ones((2, 3)), np.ones((2, 3)))
    assert name in operations


def test_allocation_shape_and_printing_are_allowed():
    def allowed(x, y):
        a = np.zeros_like(x)
        b = x.reshape(3, 2).copy()
        text = repr(x) + str(y) + f"{x}"
        return a, b, text, x.shape, len(x)

    operations, _ = run(allowed, np.ones((2, 3)), np.ones((2, 3)))
    assert operations == {}


def test_outside_a_tracing_block_nothing_is_recorded():
    x = np.ones(3).view(TracedArray)
    assert np.array_equal(untraced(x + x), np.full(3, 2.0))


# --- views and other routes to the same data -------------------------------------------------


def test_a_traced_argument_owns_its_memory_and_its_views_stay_traced():
    x = traced(np.arange(6.0).reshape(2, 3))
    assert x.base is None  # a view's .base would be a plain array to compute on unseen
    operations, _ = run(lambda a, b: (a.__array__() + 1, a.view(np.ndarray) + 1, np.copy(a) + 1,
                                      np.add.reduce(a.T), np.multiply.outer(a[0], b[0])), x, x)
    assert operations == {"numpy.add": 3, "numpy.add.reduce": 1, "numpy.multiply.outer": 1}


def _fixture_module(name):
    import importlib.util

    from .conftest import FIXTURES

    spec = importlib.util.spec_from_file_location(f"_dodge_{name}", FIXTURES / "assignment2" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("fixture, function", [
    ("whole_array_via_base", "naive_relu"), ("whole_array_via_base", "naive_add"),
    ("whole_array_via_base", "naive_vector_dot"),
    ("whole_array_via_views", "naive_relu"), ("whole_array_via_views", "naive_add_matrix_and_vector"),
    ("whole_array_via_views", "naive_vector_dot"), ("whole_array_via_views", "naive_matrix_vector_dot"),
    ("whole_array_via_operator", "naive_add"), ("whole_array_via_operator", "naive_add_matrix_and_vector"),
    ("whole_array_via_operator", "naive_vector_dot"), ("whole_array_via_operator", "naive_matrix_dot"),
])
def test_loops_dodges_are_recorded_or_find_nothing_to_compute_on(fixture, function):
    x = np.arange(1.0, 7.0).reshape(2, 3)
    if function in ("naive_add_matrix_and_vector", "naive_matrix_vector_dot"):
        y = np.ones(3)
    elif function == "naive_matrix_dot":
        y = x.T.copy()
    elif function == "naive_vector_dot":
        x, y = x[0].copy(), x[1].copy()
    else:
        y = x.copy()
    try:
        operations, _ = run(getattr(_fixture_module(fixture), function), x, y)
    except (TypeError, AttributeError):
        return  # x.base is None now: the dodge has no plain array left to compute on
    assert operations, "the tracer saw no whole-array operation"


# --- automatic differentiation, in any thread, however it was reached ----------------------------


def test_autograd_taken_at_load_time_and_run_in_another_thread_is_recorded():
    import threading

    import torch

    from grader.sandbox.tracing import arm, autograd_watch

    arm()  # the worker arms before the submission loads
    backward = torch.autograd.backward  # captured "at load time", after arming
    grad = torch.autograd.grad

    def work():
        w = torch.tensor(2.0, requires_grad=True)
        backward(w * w)
        grad((w * 3.0,), (w,))

    with autograd_watch() as recorder:
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
    assert recorder.operations["torch.autograd.backward"] == 1 and recorder.operations["torch.autograd.grad"] == 1
    assert recorder.operations["torch.autograd (the backward pass engine)"] == 2
    with autograd_watch() as quiet:  # plain arithmetic on tensors that track nothing
        torch.tensor(2.0) * 3
    assert not quiet.operations


def test_symbolic_differentiation_with_sympy_is_recorded():
    import sympy

    from grader.sandbox.tracing import arm, autograd_watch

    arm()
    x = sympy.Symbol("x")
    with autograd_watch() as recorder:
        sympy.diff(x ** 3, x)
        (x ** 2).diff(x)
    assert recorder.operations["sympy (a symbolic derivative)"] >= 2
    with autograd_watch() as quiet:
        sympy.simplify(x + x)
    assert not quiet.operations


# --- assignment 5's rules: autograd required, and lines counted ----------------------------------


def test_requiring_autograd_reads_a_backward_pass_or_torch_func_as_derived_and_a_graph_alone_not():
    import torch

    from grader.sandbox.tracing import autograd_watch, ran_autograd

    with autograd_watch(graphs=False) as recorder:
        x = torch.ones(3, requires_grad=True)
        (2 * (x * x).sum()).backward()
    assert ran_autograd(recorder)
    with autograd_watch(graphs=False) as functional:  # torch.func refuses to run under a saved-tensors hook
        torch.func.grad(lambda t: (t * t).sum())(torch.ones(2))
    assert ran_autograd(functional)
    with autograd_watch() as built:
        t = torch.ones(2, requires_grad=True)
        (t * t).sum()  # a graph (t is saved for its backward pass), but nothing derived from it
    assert built.operations and not ran_autograd(built)


def _lines_of(function, files, *args):
    from grader.sandbox.tracing import line_count

    with line_count(files) as counter:
        function(*args)
    return counter


def test_the_line_count_grows_with_a_loop_over_the_data_and_stays_flat_for_array_code():
    files = frozenset({__file__})

    def looped(X):
        total = 0.0
        for i in range(X.shape[1]):
            total += X[0, i]
        return total

    def vectorised(X):
        return X.sum()

    assert _lines_of(looped, files, np.ones((2, 80))).lines - _lines_of(looped, files, np.ones((2, 8))).lines == 144
    assert _lines_of(vectorised, files, np.ones((2, 80))).lines == _lines_of(vectorised, files, np.ones((2, 8))).lines
    assert _lines_of(looped, frozenset({"elsewhere.py"}), np.ones((2, 8))).lines == 0  # other files are not traced


def test_code_that_switches_the_line_count_off_is_caught():
    import sys

    counter = _lines_of(lambda: sys.settrace(None), frozenset({__file__}))
    assert not counter.intact and sys.gettrace() is None
    assert _lines_of(lambda: None, frozenset({__file__})).intact
