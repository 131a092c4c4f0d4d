"""An audit hook: the sandbox's rules at the Python level, with messages a student can act on.

The kernel layers refuse with a bare "Permission denied"; this hook refuses
first, in words: reading outside what the worker may read, writing outside its
own folder, starting processes, the network, signals to other processes,
importing the grader's own modules or the reference, and loading C libraries
from student code. It is the only layer on platforms without Landlock and
seccomp (macOS), where it stops accidents and casual attempts, not a
determined submission. Once added it cannot be removed, and everything it needs
is bound when it is installed, so later monkeypatching of ``os`` or ``sys`` by
student code changes nothing.
"""

from __future__ import annotations

import _thread
import functools
import os
import sys
import sysconfig

from grader.sandbox.layers import within

_PROCESS_EVENTS = frozenset({
    "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
    "os.fork", "os.forkpty", "pty.spawn", "os.startfile",
})
_NETWORK_EVENTS = frozenset({"socket.connect", "socket.bind", "socket.sendto", "socket.getaddrinfo", "socket.sendmsg"})
_WRITE_EVENTS = {  # event -> positions of path arguments that name a place being changed
    "os.remove": (0,), "os.rmdir": (0,), "os.mkdir": (0,), "os.rename": (0, 1),
    "os.symlink": (1,), "os.link": (1,), "os.chmod": (0,), "os.chown": (0,),
    "os.truncate": (0,), "os.utime": (0,), "shutil.rmtree": (0,), "os.chflags": (0,),
    "os.setxattr": (0,), "os.removexattr": (0,), "shutil.copyfile": (1,), "shutil.move": (1,),
    "os.mkfifo": (0,), "os.mknod": (0,),
}
_LIST_EVENTS = frozenset({"os.listdir", "os.scandir"})
# The grader's own modules are taken out of sys.modules before student code runs, so importing one is a
# real import, which this refuses: the machinery that watches student code stays out of its reach.
_BLOCKED_IMPORTS = ("grader", "reference", "_grader_checks", "_grader_reference")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_AF_UNIX = 1
_CTYPES_EVENTS = frozenset({"ctypes.dlopen", "ctypes.dlsym", "ctypes.dlsym/handle"})
# Every event the hook has a rule for. Python raises many more (one per id(), per frame attribute read,
# per compile), and the tracing and integrity checks cause thousands per submission; each of those
# leaves after one set lookup.
_WATCHED = (frozenset({"open", "import", "os.kill", "os.killpg", "socket.__new__"}) | _PROCESS_EVENTS
            | _NETWORK_EVENTS | frozenset(_WRITE_EVENTS) | _LIST_EVENTS | _CTYPES_EVENTS)


# The roots a worker may read, resolved: the same for every worker, so resolved once in the zygote (prepare)
# and inherited. Only install() uses it; the hook resolves each path it is asked about afresh.
_resolved = functools.lru_cache(maxsize=256)(os.path.realpath)


def prepare(roots: tuple[str, ...]) -> None:
    """In the zygote: resolve the roots every worker's hook will be given."""
    for root in roots:
        _resolved(root)


class SandboxViolation(PermissionError):
    """Raised inside the worker when student code tries something the sandbox forbids."""


def install(scratch: str, readable: tuple[str, ...], protected: tuple[str, ...],
            student_files: frozenset[str]) -> None:
    """readable: every root the worker may read beneath (the Landlock allow-list); protected: never."""
    realpath, join, isabs, fsdecode, getcwd = (
        os.path.realpath, os.path.join, os.path.isabs, os.fsdecode, os.getcwd)
    getframe, getpid = sys._getframe, os.getpid
    scratch = realpath(scratch)
    protected = tuple(_resolved(p) for p in protected)
    readable = tuple(_resolved(p) for p in readable) + (scratch, "/proc/self", f"/proc/{getpid()}")
    writable = (scratch, "/dev/null")
    trusted_code = trusted_code_roots()
    state = _thread._local()

    def resolve(path) -> str | None:
        if isinstance(path, int) or path is None:
            return None
        try:
            path = fsdecode(path)
        except TypeError:
            return None
        return realpath(path if isabs(path) else join(getcwd(), path))

    def deny(message: str):
        raise SandboxViolation(message)

    def check_read(path) -> None:
        resolved = resolve(path)
        if not resolved:
            return
        if any(within(resolved, p) for p in protected):
            deny(f"reading {fsdecode(path)!s} is not allowed while grading")
        if not any(within(resolved, r) for r in readable):
            deny(f"your code may read its own working folder and Python's installation while grading, "
                 f"not {fsdecode(path)!s}")

    def check_write(path) -> None:
        resolved = resolve(path)
        if resolved and not any(within(resolved, w) for w in writable):
            deny(f"your code may only write files inside its own working folder, not {fsdecode(path)!s}")

    def from_untrusted_code(frame) -> bool:
        # The nearest caller outside ctypes decides: torch loading its own
        # libraries is fine, a submission calling ctypes.CDLL is not.
        while frame is not None:
            name = frame.f_code.co_filename
            if "ctypes" not in name:
                return name in student_files or not name.startswith(trusted_code)
            frame = frame.f_back
        return True

    watched = _WATCHED  # bound here: a default argument would be one more handle on the hook (its __defaults__)

    def hook(event: str, args: tuple) -> None:
        if event not in watched or getattr(state, "busy", False):
            return
        state.busy = True
        try:
            _check(event, args, getframe(1))
        finally:
            state.busy = False

    def _check(event: str, args: tuple, caller) -> None:
        if event == "open":
            path, mode, flags = args
            check_read(path)
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & _WRITE_FLAGS)
            if writing:
                check_write(path)
        elif event in _LIST_EVENTS:
            check_read(args[0] if args else None)
        elif event in _WRITE_EVENTS:
            for index in _WRITE_EVENTS[event]:
                if index < len(args):
                    check_write(args[index])
        elif event in _PROCESS_EVENTS:
            deny("starting other programs or processes is not allowed while grading")
        elif event in _NETWORK_EVENTS or (event == "socket.__new__" and args[1] != _AF_UNIX):
            deny("network access is not allowed while grading")
        elif event in ("os.kill", "os.killpg"):
            if args[0] not in (getpid(), 0):
                deny("sending signals to other processes is not allowed while grading")
        elif event == "import":
            module = args[0] if args else ""
            if isinstance(module, str) and module.split(".")[0] in _BLOCKED_IMPORTS:
                deny(f"importing {module} is not allowed while grading")
        elif event in _CTYPES_EVENTS:
            if from_untrusted_code(caller):
                deny("loading C libraries with ctypes is not allowed while grading")

    sys.addaudithook(hook)


@functools.cache
def trusted_code_roots() -> tuple[str, ...]:
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.dirname(os.path.dirname(__file__)))}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(path)
    roots.update(p for p in sys.path if p and "site-packages" in p)
    return tuple(sorted(os.path.realpath(r) for r in roots)) + ("<frozen ",)
