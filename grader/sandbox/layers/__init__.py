"""The layers that lock a sandbox worker down, one module each.

``identity`` (who the worker is: user, capabilities, namespaces, the zygote's
view of the file system), ``limits`` (resources), ``landlock`` (which files it
may read and change), ``seccomp`` (which system calls it may make) and
``audit`` (the same rules at the Python level, with messages students can act
on). ``grader.sandbox.hardening`` applies them in order and says which held.
Worker side: nothing here imports the grading side of the package.
"""

from __future__ import annotations

import ctypes
import functools


@functools.cache
def libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")
