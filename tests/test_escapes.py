"""Code that reaches past its own work is found from the source alone (grader.sandbox.escapes)."""

import ast
import textwrap

import pytest

from grader.sandbox import escapes, staticscan


def reasons(source: str) -> list[str]:
    return [escape.reason for escape in escapes.find([ast.parse(textwrap.dedent(source))])]


@pytest.mark.parametrize("source, words", [
    ("import sys\nsys._getframe(1).f_locals", "call stack"),
    ("import inspect", "inspects"),
    ("import gc\ngc.get_objects()", "garbage collector"),
    ("import msgpack", "message format"),
    ("import ctypes as c", "C code"),
    ("from importlib import import_module", "by name"),
    ("import os\nos.write(5, b'x')", "raw file descriptors"),
    ("from os import fstat", "raw file descriptors"),
    ("exec('x = 1')", "exec"),
    ("f = lambda: 0\nf.__globals__", "namespace"),
    ("import numpy as np\nname = 'ad' + 'd'\ngetattr(np, name)", "names built at run time"),
    ("import numpy as np\nsetattr(np, 'add', None)", "names built at run time"),
    ("import numpy\nvars(numpy)", "vars()"),
    ("object.__subclasses__()", "classes"),
    # attributes spelt as strings, whole or in pieces, and the builtins reached by name (red team, 2026-12-02)
    ("f = lambda: 0\ngetattr(f, '__globals__')", "namespace"),
    ("f = lambda: 0\ngetattr(f, '__glo' + 'bals__')", "namespace"),
    ("f = lambda: 0\nhasattr(f, '__code__')", "function's code"),
    ("import math\ngetattr(math, '__imp' + 'ort__')", "by name"),
    ("getattr(__builtins__, 'get')('__import__')", "builtins"),
    ("import builtins\nbuiltins.__import__('gc')", "builtins"),
])
def test_each_way_of_reaching_out_is_found(source, words):
    assert any(words in reason for reason in reasons(source)), reasons(source)


def test_honest_code_reaches_nothing():
    assert reasons("""
        import os
        import math
        import numpy as np

        class Net:
            def __init__(self):
                self.weights = vars(self)
                self.name = self.__class__.__name__

        def f(x):
            print(os.path.join("a", "b"), getattr(np, "zeros"), math.sqrt(2))
            for i in range(1, 7):
                setattr(Net(), "w" + str(i), getattr(Net(), "w" + "1", 0.1))
            return getattr(Net(), "name")
    """) == []


def test_an_escape_anywhere_is_a_finding_of_every_watched_function_defined_or_not():
    source = "import sys\n\ndef helper():\n    return sys._getframe(1)\n\ndef f(x):\n    return x\n"
    unit = staticscan.Unit("", source, ast.parse(source))
    found = staticscan.scan([unit], {"loops": ["f", "never_defined"]})
    assert set(found["loops"]) == {"f", "never_defined"}
    assert found["loops"]["f"][0].where == "line 4" and "call stack" in found["loops"]["f"][0].reason
    assert staticscan.scan([unit], {}) == {}  # no rules, no search
