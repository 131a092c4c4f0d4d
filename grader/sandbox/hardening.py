"""Locking a sandbox worker down before it runs any student code.

The layers, applied in this order, each sufficient against a different kind of
attempt (one module each under ``grader.sandbox.layers``):

0. Namespaces (Linux, set up once by the zygote, ``layers.namespaces``): its
   own PID, mount, network, IPC and UTS namespaces, inside a user namespace
   where the grader is not root.
1. Identity (``layers.identity``): an unprivileged user where the grader is
   root; every capability set emptied, bounding and ambient included; not
   dumpable.
2. Resource limits (``layers.limits``): data memory, file size, descriptors, no
   core dumps, the CPU it was given.
3. Landlock (``layers.landlock``, Linux 5.13+): reads by allow-list, writes only
   in its own folder, no TCP, no signals or abstract sockets beyond itself.
4. seccomp (``layers.seccomp``, Linux x86-64 and arm64): no processes, programs,
   IPC, socket names, uncounted memory, identity or scheduling changes.
5. An audit hook (``layers.audit``, everywhere): the same rules at the Python
   level, in words a student can act on.

Nothing here trusts the student's code not to misbehave later; everything is
set up before that code exists in the process. ``apply`` returns what held, as
measured afterwards (the kernel's own account of capabilities, seccomp and
no-new-privileges), for the report.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from grader.sandbox.layers import audit, identity, landlock, limits, namespaces, seccomp

SandboxViolation = audit.SandboxViolation
_LINUX = sys.platform.startswith("linux")


@dataclass(frozen=True)
class Policy:
    """What a worker may do.

    scratch: the worker's own folder; the only place it may write.
    readable: what it may read beyond the Python runtime (the assignment's
        public folder, its own submission).
    protected: paths it may never read, even inside a readable one.
    memory_bytes: private writable memory the worker may add to what it holds
        when the policy is applied; None leaves it unlimited (GPU workers are
        watched by resident size instead, and may map shared memory).
    file_bytes: the largest file the worker may write.
    cpu: the CPU it runs on, where the grading process is pinned to one.
    """

    scratch: str
    readable: tuple[str, ...] = ()
    protected: tuple[str, ...] = ()
    memory_bytes: int | None = None
    file_bytes: int = 64 * 1024 * 1024
    cpu: int | None = None


def prepare() -> None:
    """Work every worker would repeat, done once in the zygote so forks inherit it."""
    if _LINUX:
        seccomp.prepare(shared_memory=False)
        seccomp.prepare(shared_memory=True)
        landlock.gpu_devices()
        landlock.prepare()
        audit.prepare(tuple(path for path, _ in landlock.fixed_rules()))
    audit.trusted_code_roots()


def inherited_fds() -> list[int]:
    """Descriptors a newly forked worker keeps until it locks down (the prepared Landlock rules)."""
    return landlock.inherited_fds()


def apply(policy: Policy, student_files: frozenset[str], quota: bool = False) -> dict:
    """Lock this process down; returns the protection in force, measured, as plain data.

    quota: whether the scratch folder is a size-limited tmpfs (the zygote made it).
    """
    user = identity.become(namespaces.STATE.identity)  # first: seccomp forbids changing identity afterwards
    data_limit = limits.apply(policy.memory_bytes, policy.file_bytes, namespaces.STATE.tasks_before)
    pinned = policy.cpu is not None and limits.run_on({policy.cpu})  # before seccomp, which forbids moving
    try:
        abi = landlock.apply(policy.scratch, policy.readable, policy.protected) if _LINUX else 0
    finally:
        landlock.release()  # student code never gets the zygote's descriptors
    filtered = seccomp.apply(shared_memory=policy.memory_bytes is None) if _LINUX else False
    readable = tuple(path for path, _ in landlock.fixed_rules()) + policy.readable
    audit.install(policy.scratch, readable, policy.protected, student_files)
    state = namespaces.STATE
    return {
        "platform": sys.platform,
        "user": user,
        "uid": os.getuid(),
        "grader_uid": state.grader_uid if state.grader_uid >= 0 else os.getuid(),
        "identity_note": state.identity_note,
        "capabilities": identity.capabilities(),
        "namespaces": list(state.namespaces),
        "proc_private": state.proc_private,
        "view": list(state.view),
        "landlock_abi": abi,
        "seccomp": filtered,
        "audit_hook": True,
        "memory_bytes": policy.memory_bytes if data_limit is not None else None,
        "file_bytes": policy.file_bytes,
        "disk_quota": quota,
        "open_files": limits.OPEN_FILES,
        "tasks": limits.TASKS,
        "cpu": policy.cpu if pinned else None,
        "notes": list(state.notes),
    }
