"""Resource limits of a worker: memory, files, descriptors, core dumps, and its CPU.

- Data memory (RLIMIT_DATA): the heap, arrays and every private writable
  mapping the worker adds to what it holds when the limit is set; library code
  does not count, so importing torch fits in a small limit. Shared anonymous
  mappings and memfd, which this limit would not count, are refused by seccomp.
  GPU workers are watched by resident size from the grading process instead.
- Files: the largest file (RLIMIT_FSIZE); the total a worker may write is the
  size of its scratch tmpfs (see ``namespaces.make_scratch``) or, where no tmpfs
  could be mounted, watched from the grading process.
- The stack (RLIMIT_STACK, hard limit too): the main thread's stack grows on
  demand outside the data limit, so its limit may not be raised.
- Tasks (RLIMIT_NPROC): threads count, so one worker cannot start thousands;
  the limit is per user, so the zygote counts what that user already runs.
- Open descriptors (RLIMIT_NOFILE) and core dumps (none).
- CPU: in batch grading a worker runs on its grading process's CPU; seccomp
  then keeps it from moving or changing its scheduling.

Wall-clock timeouts are enforced from outside, by the grading process.
"""

from __future__ import annotations

import os
import resource
import signal

OPEN_FILES = 256
STACK_BYTES = 8 * 1024 * 1024
TASKS = 256  # threads a worker may start, beyond what its user already runs


def data_bytes() -> int:
    """The process's private writable memory now (VmData), or 0 where /proc is missing."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def apply(memory_bytes: int | None, file_bytes: int, tasks_before: int = 0) -> int | None:
    """Set the limits; returns the data limit in force (None when unlimited).

    tasks_before: how many tasks this user ran when the sandbox started (see namespaces.State).
    """
    _set(resource.RLIMIT_CORE, 0)
    # Writing past the limit then fails with an OSError instead of killing us.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _set(resource.RLIMIT_FSIZE, file_bytes)
    _set(resource.RLIMIT_NOFILE, OPEN_FILES)
    soft_stack = resource.getrlimit(resource.RLIMIT_STACK)[0]
    _set(resource.RLIMIT_STACK, soft_stack if 0 < soft_stack <= STACK_BYTES else STACK_BYTES)
    _set(resource.RLIMIT_NPROC, tasks_before + TASKS)
    held = data_bytes()
    if memory_bytes is not None and held and _set(resource.RLIMIT_DATA, held + memory_bytes):
        return held + memory_bytes
    return None


def _set(which: int, value: int) -> bool:
    try:
        soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY and value > hard:
            value = hard
        resource.setrlimit(which, (value, value))
        return True
    except (ValueError, OSError):  # each limit is applied where the platform accepts it (macOS refuses some)
        return False


def run_on(cpus: set[int]) -> bool:
    """Keep this process on cpus, where the platform allows it (Linux); elsewhere nothing changes."""
    if hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, cpus)
            return True
        except OSError:  # a CPU that is not ours (any more): stay where we are
            pass
    return False
