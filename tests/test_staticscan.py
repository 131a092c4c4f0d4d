"""Reading source for whole-array arithmetic: catch the shortcuts, spare loop code."""

import ast
import textwrap

import pytest

from grader.sandbox.staticscan import Unit, scan


def findings(source, functions=("f",), rule="loops"):
    source = textwrap.dedent(source)
    result = scan([Unit("", source, ast.parse(source))], {rule: list(functions)})
    return [(f.function, f.code, f.reason) for found in result.get(rule, {}).values() for f in found]


LOOP_CODE = [
    """
    import numpy as np
    def f(x, y):
        assert len(x.shape) == 2 and x.shape == y.shape
        x = x.copy()
        for i in range(x.shape[0]):
            for j in range(x.shape[1]):
                x[i, j] += y[i, j]
        return x
    """,
    """
    import numpy as np
    def f(x, y):
        z = 0.
        for i in range(x.shape[0]):
            z += x[i] * y[i]
        return z
    """,
    """
    import numpy as np
    def f(x, y):
        out = np.zeros((x.shape[0], y.shape[1]))
        for i in range(x.shape[0]):
            for j in range(y.shape[1]):
                out[i, j] = g(x[i, :], y[:, j])
        return out
    def g(a, b):
        return sum(a[k] * b[k] for k in range(len(a)))
    """,
    """
    import numpy as np
    def f(x, y):
        shape = np.broadcast_shapes(x.shape, y.shape)
        out = np.zeros(shape)
        for index in np.ndindex(*shape):
            out[index] = np.maximum(x[index], 0) + y[index]
        if out is None or x.ndim != 2:
            raise ValueError("bad")
        return out
    """,
]


@pytest.mark.parametrize("source", LOOP_CODE)
def test_element_by_element_code_has_no_findings(source):
    assert findings(source) == []


@pytest.mark.parametrize("source, code, reason", [
    ("def f(x, y):\n    return x + y", "x + y", "adds whole arrays"),
    ("def f(x, y):\n    return x @ y", "x @ y", "uses the @ operator"),
    ("import numpy as np\ndef f(x, y):\n    return np.dot(x, y)", "np.dot(x, y)", "calls np.dot"),
    ("import numpy as np\ndef f(x):\n    return np.maximum(x, 0)", "np.maximum(x, 0)", "calls np.maximum on whole"),
    ("from numpy import maximum as m\ndef f(x):\n    return m(x, 0)", "m(x, 0)", "calls m on whole arrays"),
    ("from numpy import *\ndef f(x, y):\n    return einsum('i,i', x, y)", "einsum('i,i', x, y)", "calls einsum"),
    ("import numpy as np\ndef f(x):\n    z = np.asarray(x)\n    return z * 2", "z * 2", "multiplies whole"),
    ("def f(x, y):\n    z = x.copy()\n    z += y\n    return z", "z += y", "adds whole arrays"),
    ("def f(x):\n    out = x.copy()\n    out[out < 0] = 0\n    return out", "out < 0", "compares whole arrays"),
    ("def f(x, y):\n    return x[0, :].sum()", "x[0, :].sum()", "calls .sum() on a whole array"),
    ("import torch\ndef f(x, y):\n    return torch.tensor(x)", "torch", "uses PyTorch"),
    ("import numpy as np\nf = np.add", "np.add", "is np.add itself"),
    ("f = lambda x, y: x - y", "x - y", "subtracts whole arrays"),
])
def test_whole_array_shortcuts_are_found(source, code, reason):
    found = findings(source)
    assert any(code in c and reason in r for _, c, r in found), found


def test_helpers_are_followed_and_named():
    found = findings("""
        def helper(a, b):
            return a @ b
        def f(x, y):
            return helper(x, y)
    """)
    assert found == [("f", "a @ b", "uses the @ operator on whole arrays, in helper() which it calls")]


def test_the_last_definition_wins_as_when_python_runs_it():
    assert findings("def f(x, y):\n    return x + y\n\ndef f(x, y):\n    return 0\n") == []


def test_notebook_cells_are_named_in_findings():
    source = "def f(x, y):\n    return x + y\n"
    result = scan([Unit("cell 4", source, ast.parse(source))], {"loops": ["f"]})
    assert result["loops"]["f"][0].where == "cell 4, line 2"


def test_functions_that_are_not_defined_have_no_findings():
    assert findings("x = 1", functions=("f", "g")) == []


# --- rule "autograd" --------------------------------------------------------------------

HAND_DERIVED = """
    import numpy as np
    class Net:
        def gradients(self, x, y):
            o = self.forward(x)
            d_o = -2 * (y - o)
            return {"w": d_o * o * (1 - o) * x[0]}
        def forward(self, x):
            return 1 / (1 + np.exp(-self.w * x[0]))
"""


def test_hand_derived_gradients_have_no_autograd_findings():
    assert findings(HAND_DERIVED, ("Net.gradients",), "autograd") == []


@pytest.mark.parametrize("body, code, reason", [
    ("loss = self.loss(x, y)\n        loss.backward()", "loss.backward()", "calls .backward()"),
    ("return torch.autograd.grad(self.loss(x, y), [self.w])", "torch.autograd.grad", "uses torch.autograd.grad"),
    ("w = torch.tensor(self.w, requires_grad=True)", "requires_grad=True", "requires_grad=True"),
    ("w = torch.tensor(self.w)\n        w.requires_grad = True", "w.requires_grad = True", "requires_grad"),
    ("return grad(self.loss)(x)", "grad", "uses torch.func.grad"),
])
def test_autograd_is_found_in_methods(body, code, reason):
    source = f"""
import torch
from torch.func import grad
class Net:
    def gradients(self, x, y):
        {body}
"""
    found = findings(source, ("Net.gradients",), "autograd")
    assert any(code in c and reason in r for _, c, r in found), found


def test_autograd_in_a_method_the_graded_method_calls_is_found():
    source = """
class Net:
    def train(self, data):
        for x in data:
            self.step(x)
    def step(self, x):
        self.loss(x).backward()
"""
    found = findings(source, ("Net.train",), "autograd")
    assert found and "in Net.step() which it calls" in found[0][2]


# --- assignment 5: autograd required, and loops over the data -------------------------------------


def test_requires_autograd_finds_its_absence_but_not_in_an_unfinished_function():
    source = """
    import torch
    def by_hand(x):
        return 4 * x
    def by_autograd(x):
        return helper(x)
    def helper(x):
        x = x.detach().requires_grad_()
        (2 * (x * x).sum()).backward()
        return x.grad
    def unfinished(x):
        '''Return the gradient.'''
        raise NotImplementedError
    """
    found = findings(source, ("by_hand", "by_autograd", "unfinished", "missing"), rule="requires_autograd")
    assert found == [("by_hand", "def by_hand(x):", "neither it nor a helper it calls uses autograd (no .backward(), "
                                                     "torch.autograd.grad or requires_grad)")]


def test_vectorised_finds_loops_over_the_data_and_spares_fixed_ones():
    source = """
    import numpy as np
    def looped(w, X):
        m = X.shape[1]
        out = np.zeros((1, m))
        for i in range(m):
            out[0, i] = w[0, 0] * X[0, i]
        return out
    def comprehension(w, X):
        return np.array([[float(w.T @ x) for x in X.T]])
    def disguised(w, X):
        label = np.vectorize(lambda a: float(a > 0))
        return label(w.T @ X), list(map(float, X[0]))
    def waits(w, X):
        i = 0
        while i < X.shape[1]:
            i += 1
        return i
    def fine(w, X, *rest):
        grads = {"dw": X @ w, "db": 0.0}
        for key in ("dw", "db"):
            grads[key] = grads[key] * 1.0
        for extra in rest:
            pass
        return grads
    """
    found = findings(source, ("looped", "comprehension", "disguised", "waits", "fine"), rule="vectorised")
    assert {(f, code) for f, code, _ in found} == {
        ("looped", "range(m)"), ("comprehension", "X.T"),
        ("disguised", "np.vectorize(lambda a: float(a > 0))"), ("disguised", "map(float, X[0])"),
        ("waits", "i < X.shape[1]")}


def test_vectorised_names_code_that_reaches_the_tracing_that_counts_its_lines():
    source = """
    import sys
    from sys import settrace
    def hides(w, X):
        sys.gettrace().__self__.lines = 0
        return w.T @ X
    def switches(w, X):
        settrace(None)
        return w.T @ X
    """
    found = findings(source, ("hides", "switches"), rule="vectorised")
    assert {(f, code) for f, code, reason in found if "Python's tracing" in reason} == {
        ("hides", "sys.gettrace"), ("switches", "settrace")}
