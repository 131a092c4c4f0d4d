"""What Jupyter gives a notebook's cells, for notebooks run in a sandbox worker.

Worker side: this module runs next to student code and must not import the
grading side of the package, nor IPython (a student's own ``import IPython``
still gets the real one where it is installed).

In Jupyter every cell can call ``display(...)`` and ``get_ipython()`` without
importing them, and the cells arrive already turned into Python by IPython's
input transformer (``grader.notebooks``): ``%time f()`` has become
``get_ipython().run_line_magic('time', 'f()')``. install() puts stand-ins for
both into a notebook's namespace:

* ``display`` prints its arguments, which is what IPython does where no
  front end shows rich output.
* ``get_ipython()`` returns a Shell that carries out what can be carried out
  while grading: ``%time`` and ``%timeit`` run their statement once, in the
  caller's scope; ``%env`` sets a variable; ``%%writefile`` writes its file.
  Shell commands, installs and other languages do nothing (the grading side
  lists them as notes); ``!ls`` assigned to a name gives an empty list. A cell
  magic used below a cell's first line raises, as in Jupyter.
* matplotlib, once imported, draws on a backend without a window (Agg),
  where ``plt.show()`` closes the figures as Jupyter's inline backend does
  once it has shown them, so a loop that plots every epoch piles nothing up.
  The backend module is made here, under a name outside the grader's package:
  the grader's own modules are out of student code's reach, matplotlib's
  import of its backend included.
"""

from __future__ import annotations

import ast
import os
import sys
import types
from typing import Any

from grader.sandbox import hooks

QUIET_BACKEND_MODULE = "_grader_quiet_backend"
QUIET_BACKEND = f"module://{QUIET_BACKEND_MODULE}"
_TIMEIT_VALUE_OPTIONS = frozenset({"-n", "-r", "-p"})


class UsageError(Exception):
    """What IPython raises for a magic it does not have."""


def display(*objs: Any, **kwargs: Any) -> Any:
    """Jupyter's display() where no front end is attached: print the objects."""
    if kwargs.get("raw"):
        return None
    print(*objs)
    if kwargs.get("display_id"):
        return DisplayHandle()
    return None


class DisplayHandle:
    """What display(..., display_id=...) returns; updating it prints the new object."""

    def display(self, obj: Any, **kwargs: Any) -> None:
        display(obj)

    def update(self, obj: Any, **kwargs: Any) -> None:
        display(obj)


class OutputList(list):
    """What ``files = !ls`` gives: IPython's SList, here always empty (no shell runs while grading)."""

    @property
    def s(self) -> str:
        return " ".join(self)

    @property
    def n(self) -> str:
        return "\n".join(self)

    @property
    def l(self) -> list:  # noqa: E743 - IPython's name
        return list(self)


class CapturedOutput:
    """What ``%%capture out`` keeps in ``out``: the cell's output, never collected while grading."""

    stdout = ""
    stderr = ""
    outputs: list = []

    def show(self) -> None:
        return None

    __call__ = show


class Events:
    """get_ipython().events: callbacks are accepted and never called (no cells run after these)."""

    def register(self, event: str, function: Any) -> None:
        return None

    def unregister(self, event: str, function: Any) -> None:
        return None


class Shell:
    """The object get_ipython() returns in a notebook being graded."""

    def __init__(self, namespace: dict) -> None:
        self.user_ns = namespace
        self.events = Events()
        self.config: dict = {}

    def run_line_magic(self, magic_name: str, line: str, _stack_depth: int = 1) -> Any:
        if magic_name.startswith("%"):
            raise UsageError(f"Line magic function `%{magic_name}` not found "
                             "(a cell magic must be on the first line of its cell).")
        if magic_name == "time":
            return self._run(line, sys._getframe(_stack_depth), keep_value=True)
        if magic_name == "timeit":
            self._run(_timeit_statement(line), sys._getframe(_stack_depth), keep_value=False)
            return None
        if magic_name == "env":
            return _env(line)
        if magic_name == "pwd":
            return os.getcwd()
        return None

    def run_cell_magic(self, magic_name: str, line: str, cell: str) -> Any:
        if magic_name == "writefile":
            words = line.split()
            append = any(w in ("-a", "--append") for w in words)
            names = [w for w in words if not w.startswith("-")]
            if names:
                with open(os.path.expanduser(names[-1].strip("\"'")), "a" if append else "w", encoding="utf-8") as f:
                    f.write(cell)
        return None

    def magic(self, arg_s: str) -> Any:
        name, _, line = arg_s.lstrip("%").partition(" ")
        return self.run_line_magic(name, line, _stack_depth=2)

    def system(self, cmd: str) -> None:
        return None

    def getoutput(self, cmd: str, split: bool = True, depth: int = 0) -> OutputList:
        return OutputList()

    def captured_output(self) -> CapturedOutput:
        return CapturedOutput()

    def ev(self, expr: str) -> Any:
        return eval(expr, self.user_ns)

    def ex(self, cmd: str) -> None:
        exec(cmd, self.user_ns)

    def _run(self, statement: str, frame: Any, keep_value: bool) -> Any:
        """Run a magic's statement in the scope of the line that named it, reported at that line."""
        statement = statement.strip()
        if not statement:
            return None
        filename, line = frame.f_code.co_filename, frame.f_lineno
        tree = ast.parse(statement, filename=filename)
        ast.increment_lineno(tree, line - 1)
        scope_globals, scope_locals = frame.f_globals, frame.f_locals
        if keep_value and len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr):
            expression = ast.Expression(tree.body[0].value)
            return eval(compile(expression, filename, "eval"), scope_globals, scope_locals)
        exec(compile(tree, filename, "exec"), scope_globals, scope_locals)
        return None


def _timeit_statement(line: str) -> str:
    """The statement of ``%timeit [-n N] [-r R] [-t|-c|-q|-o|-p P] statement``."""
    words = line.split(" ")
    index = 0
    while index < len(words) and words[index].startswith("-"):
        index += 2 if words[index] in _TIMEIT_VALUE_OPTIONS else 1
    return " ".join(words[index:])


def _env(line: str) -> Any:
    line = line.strip()
    if not line:
        return dict(os.environ)
    if "=" in line:
        name, _, value = line.partition("=")
    else:
        name, _, value = line.partition(" ")
    if not value:
        return os.environ.get(name.strip())
    os.environ[name.strip()] = value.strip()
    return None


def _quiet_backend() -> types.ModuleType:
    """matplotlib's backend for notebooks being graded: Agg, and show() closes the figures."""
    from matplotlib.backend_bases import FigureManagerBase
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    def show(*args: Any, **kwargs: Any) -> None:
        from matplotlib import pyplot

        pyplot.close("all")

    module = types.ModuleType(QUIET_BACKEND_MODULE, _quiet_backend.__doc__)
    module.FigureCanvas, module.FigureManager, module.show = FigureCanvasAgg, FigureManagerBase, show
    return module


def _quiet_matplotlib() -> None:
    sys.modules[QUIET_BACKEND_MODULE] = _quiet_backend()
    sys.modules["matplotlib"].use(QUIET_BACKEND)


def _shell_for_ipython(shell: Shell) -> None:
    # A cell that does `from IPython import get_ipython` gets this shell too, as it would in Jupyter.
    module = sys.modules["IPython"]
    module.get_ipython = lambda: shell
    getter = sys.modules.get("IPython.core.getipython")
    if getter is not None:
        getter.get_ipython = module.get_ipython


def install(namespace: dict) -> Shell:
    """Give a notebook's namespace what Jupyter gives its cells; returns the shell."""
    shell = Shell(namespace)
    namespace.setdefault("display", display)
    namespace.setdefault("get_ipython", lambda: shell)
    os.environ.setdefault("MPLBACKEND", QUIET_BACKEND)
    hooks.when_imported("matplotlib", _quiet_matplotlib)
    hooks.when_imported("IPython", lambda: _shell_for_ipython(shell))
    return shell
