"""``grade doctor``: what isolates student code on this machine, for this user, and what each layer stops.

It starts the sandbox exactly as grading does, then runs, inside a worker, the
attempts a determined student would make: through ctypes, from code the audit
hook takes for a library's, so that only the kernel stands in the way. It
prints the layers the worker measured, what each attempt met, and a verdict:
exit status 0 where student code is isolated (the ``strict`` profile: no
capabilities, seccomp and the Landlock allow-list, and no root), 1 where it is
not, with what is missing. The platform profiles (Gradescope, Classroom 50)
are checked too, since their autograders refuse to grade without them.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import textwrap
from dataclasses import dataclass

from grader.model import IsolationLayer
from grader.sandbox import faults, isolation
from grader.sandbox.client import ForkServer
from grader.sandbox.session import Limits, Session, Unit

# Student code, as a determined student would write it: raw system calls from code compiled under
# NumPy's file name, which the audit hook trusts with ctypes.
_PROBE = r'''
import ctypes, os, numpy
_code = """
libc = ctypes.CDLL(None, use_errno=True)

def _refused(result):
    return "refused" if result == -1 else "ALLOWED"

def read_file(path):
    fd = libc.open(path.encode(), os.O_RDONLY, 0)
    if fd >= 0:
        libc.close(fd)
    return _refused(fd)

def write_file(path):
    fd = libc.open(path.encode(), os.O_WRONLY | os.O_CREAT, 0o644)
    if fd >= 0:
        libc.close(fd)
        libc.unlink(path.encode())
    return _refused(fd)

def start_process():
    pid = libc.syscall(57) if os.uname().machine == "x86_64" else libc.syscall(220, 17, 0, 0, 0, 0)
    if pid == 0:
        libc._exit(0)
    return _refused(pid)

def open_tcp():
    fd = libc.socket(2, 1, 0)
    return _refused(fd)

def shared_memory():
    return _refused(libc.shmget(0x6b0c, 4096, 0o1600))

def signal(pid):
    return _refused(libc.kill(pid, 0))

def change_clock():
    return _refused(libc.clock_settime(0, (ctypes.c_long * 2)(0, 0)))

def become_root():
    return _refused(libc.setuid(0))
"""
exec(compile(_code, os.path.join(os.path.dirname(numpy.__file__), "probe.py"), "exec"))
'''


@dataclass(frozen=True)
class Attempt:
    what: str
    outcome: str  # "refused", "ALLOWED", or what went wrong trying


@dataclass(frozen=True)
class Diagnosis:
    layers: tuple[IsolationLayer, ...]
    attempts: tuple[Attempt, ...]
    missing: dict[str, list[str]]  # profile -> names of the layers it lacks

    @property
    def isolated(self) -> bool:
        return not self.missing["strict"] and all(a.outcome == "refused" for a in self.attempts)


def diagnose() -> Diagnosis:
    """Start a sandbox, probe it, and say what holds."""
    with tempfile.TemporaryDirectory(prefix="grader-doctor-") as folder:
        private = os.path.join(folder, "private.txt")
        with open(private, "w") as file:
            file.write("a file of the grader's user")
        os.chmod(private, 0o600)
        attempts_made = [
            ("read a file of the grader's user that is not on the allow-list", "read_file", [private]),
            ("read another process's environment (/proc/1/environ)", "read_file", ["/proc/1/environ"]),
            ("write outside its own folder", "write_file", [os.path.join(folder, "planted.txt")]),
            ("start another process", "start_process", []),
            ("open a network socket", "open_tcp", []),
            ("make System V shared memory another student could read", "shared_memory", []),
            ("signal the grading process", "signal", [os.getpid()]),
            ("change the system clock", "change_clock", []),
            ("become root", "become_root", []),
        ]
        with ForkServer(("numpy",)) as server:
            session = Session(server, [Unit("", "probe.py", _PROBE)], "probe", limits=Limits(call_timeout=10),
                              protected=(folder,))
            try:
                loaded = session.start()
                layers = isolation.layers(loaded.protection)
                attempts = tuple(Attempt(what, _try(session, name, args)) for what, name, args in attempts_made)
            finally:
                session.close()
    missing = {profile: [layer.name for layer in isolation.shortfalls(layers, profile)]
               for profile in isolation.PROFILES}
    return Diagnosis(layers, attempts, missing)


def _try(session: Session, name: str, args: list) -> str:
    try:
        reply = session.request({"op": "call", "on": None, "path": [name], "args": args, "kwargs": {}}, name)
    except faults.StudentFault as fault:
        return f"stopped: {fault.explain()}"
    return str(reply.value)


def render(diagnosis: Diagnosis, width: int = 100) -> str:
    who = f"uid {os.getuid()}" + (" (root)" if os.getuid() == 0 else "")
    lines = textwrap.wrap(f"Isolation of student code on this machine ({platform.system()} {platform.release()}, "
                          f"grading as {who}, Python {sys.executable}):", width) + [""]
    indent = " " * 22
    for layer in diagnosis.layers:
        lines += textwrap.wrap(f"  [{'on ' if layer.active else 'OFF'}] {layer.name:<13} {layer.detail}", width,
                               subsequent_indent=indent)
        lines += textwrap.wrap(f"stops: {layer.stops}", width, initial_indent=indent, subsequent_indent=indent)
    lines += ["", "What a determined student's code met (raw system calls, past the audit hook):"]
    for attempt in diagnosis.attempts:
        outcome = attempt.outcome if attempt.outcome in ("refused", "ALLOWED") else "stopped"
        lines.append(f"  {outcome:<8} {attempt.what}")
    lines.append("")
    for profile, names in diagnosis.missing.items():
        if profile == "strict":
            continue
        lines.append(f"  {profile}: " + (f"would refuse to grade (lacks {', '.join(names)})" if names else
                                         "its autograder's requirements are met"))
    lines.append("")
    if diagnosis.isolated:
        lines.append("Verdict: student code is isolated here.")
    else:
        lacking = ", ".join(diagnosis.missing["strict"]) or "an attempt above got through"
        lines.append(f"Verdict: student code is NOT isolated here ({lacking}). Grade untrusted work on a machine "
                     "where this command says it is (Linux 5.13+ with Landlock and seccomp).")
    return "\n".join(lines) + "\n"


def to_data(diagnosis: Diagnosis) -> dict:
    return {
        "isolated": diagnosis.isolated,
        "layers": [{"layer": layer.name, "active": layer.active, "detail": layer.detail, "stops": layer.stops}
                   for layer in diagnosis.layers],
        "attempts": [{"attempt": a.what, "outcome": a.outcome} for a in diagnosis.attempts],
        "profiles": {profile: {"met": not names, "lacking": names} for profile, names in diagnosis.missing.items()},
    }
