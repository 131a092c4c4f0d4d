"""Automated grading of deep-learning exercises.

Student code runs in sandboxed worker processes (``grader.sandbox``); checks,
comparisons and points are decided in the grading process, which never runs
student code. Keep this module free of imports: the sandbox worker imports the
package too, and must not pull the grading side in with it.
"""

__version__ = "0.1.0"


def load_ipython_extension(shell: object) -> None:
    """``%load_ext grader`` in Jupyter or IPython: adds ``%grade`` (see grader.jupyter)."""
    from grader.jupyter import magic

    magic.load(shell)


def unload_ipython_extension(shell: object) -> None:
    from grader.jupyter import magic

    magic.unload(shell)
