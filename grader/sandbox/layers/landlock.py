"""Landlock (Linux 5.13+): which files a worker may read and change, by allow-list.

A worker may read the Python runtime and its packages, the shared libraries and
the few system files they consult, a handful of devices, its own ``/proc``
entry, the assignment's public folder and its own submission; it may change
only its own scratch folder. Everything else (home folders, the course's
``reference/``, other students' work and folders, results, other processes'
``/proc`` entries) is refused by the kernel, whoever the worker runs as. From
ABI 4 it may not bind or connect TCP sockets, and from ABI 6 it may not signal
processes or reach abstract Unix sockets outside its own sandbox.

The zygote opens the fixed part of the list once (``prepare``); a worker adds
those rules from the inherited descriptors, then its own few by path.
"""

from __future__ import annotations

import ctypes
import functools
import os
import stat
import struct
import sys
import sysconfig
from collections.abc import Iterable

from grader.sandbox.layers import libc, within

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
TRUNCATE, IOCTL_DEV = 1 << 14, 1 << 15
READ = EXECUTE | READ_FILE | READ_DIR
_FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

# System files shared libraries and the standard library consult at run time. Not /proc/stat or
# /proc/meminfo: the machine's CPU and memory use, which two workers running side by side could
# signal through to each other.
_SYSTEM_READS = (
    "/usr", "/lib", "/lib64", "/lib32", "/libx32", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
    "/etc/localtime", "/etc/timezone", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/alternatives",
    "/proc/cpuinfo", "/proc/sys/vm/overcommit_memory",
    "/sys/devices/system/cpu", "/sys/devices/system/node",
)
_GPU_READS = ("/proc/driver/nvidia", "/sys/bus/pci", "/sys/devices", "/sys/module/nvidia")
_READ_DEVICES = ("/dev/zero", "/dev/urandom", "/dev/random", "/dev/full")


def abi() -> int:
    version = libc().syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return max(version, 0)


def fs_rights(version: int) -> int:
    rights = (1 << 13) - 1  # ABI 1: execute .. make_sym
    if version >= 2:
        rights |= 1 << 13  # refer
    if version >= 3:
        rights |= TRUNCATE
    if version >= 5:
        rights |= IOCTL_DEV
    return rights


@functools.cache
def gpu_devices() -> tuple[str, ...]:
    """The GPU's device files (NVIDIA, AMD's kfd, DRM)."""
    try:
        names = os.listdir("/dev")
    except OSError:
        return ()
    devices = [f"/dev/{n}" for n in names if n.startswith(("nvidia", "kfd"))]
    if os.path.isdir("/dev/dri"):
        devices.append("/dev/dri")
    return tuple(sorted(devices))


def runtime_roots() -> tuple[str, ...]:
    """Where the running Python and its packages live, and the grader's sandbox code.

    Only the interpreter's own folders, never a folder merely on sys.path: the
    zygote puts the grader's parent folder there, which may hold the course.
    """
    import grader

    paths = sysconfig.get_paths()
    found = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.abspath(grader.__file__))}
    found.update(paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths)
    found.update(p for p in sys.path if p and os.path.basename(p) in ("site-packages", "dist-packages"))
    return tuple(sorted({os.path.realpath(p) for p in found if os.path.exists(p)} - {"/"}))


def fixed_reads() -> list[tuple[str, int]]:
    """The rules every worker shares: (path, rights) for what exists on this machine."""
    rules = [(path, READ) for path in runtime_roots() + _SYSTEM_READS]
    rules += [(path, READ_FILE) for path in _READ_DEVICES]
    rules.append(("/dev/null", READ_FILE | WRITE_FILE))
    if gpu_devices():
        rules += [(path, READ) for path in _GPU_READS]
        rules += [(device, READ_FILE | WRITE_FILE | IOCTL_DEV) for device in gpu_devices()]
    return [(path, rights) for path, rights in rules if os.path.exists(path)]


@functools.cache
def fixed_rules() -> tuple[tuple[str, int], ...]:
    """fixed_reads with each path resolved: worked out once, in the zygote, and inherited by every worker."""
    return tuple((os.path.realpath(path), rights) for path, rights in fixed_reads())


@functools.lru_cache(maxsize=16)
def carved(root: str, protected: tuple[str, ...]) -> tuple[str, ...]:
    """Paths that together cover everything under root except the protected ones.

    Landlock only grants, so "root but not P" becomes a rule for every sibling
    of P and of each of its ancestors up to root. Links into a protected path
    are left out.
    """
    if any(within(root, p) for p in protected):
        return ()
    if not any(within(p, root) for p in protected):
        return (root,)
    found: list[str] = []
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return ()
    for name in names:
        path = os.path.join(root, name)
        if any(within(path, p) for p in protected):
            continue
        if os.path.islink(path):
            target = os.path.realpath(path)
            if not any(within(target, p) or within(p, target) for p in protected):
                found.append(path)
        elif os.path.isdir(path):
            found.extend(carved(path, protected))
        else:
            found.append(path)
    return tuple(found)


class Prepared:
    """The fixed rules' paths, opened once in the zygote and inherited by every fork."""

    def __init__(self, rules: Iterable[tuple[str, int]]) -> None:
        """rules: (resolved path, rights), as fixed_rules gives them."""
        self.rules: list[tuple[str, int, int]] = []  # path, rights, O_PATH descriptor
        for path, rights in rules:
            try:
                self.rules.append((path, rights, os.open(path, os.O_PATH | os.O_CLOEXEC)))
            except OSError:
                pass

    @property
    def fds(self) -> list[int]:
        return [fd for _, _, fd in self.rules]

    def close(self) -> None:
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.rules = []


_prepared: Prepared | None = None


def prepare() -> None:
    """In the zygote: open the fixed rules' paths for every worker to come."""
    global _prepared
    if _prepared is None and sys.platform.startswith("linux") and abi() >= 1:
        _prepared = Prepared(fixed_rules())


def inherited_fds() -> list[int]:
    """Descriptors a newly forked worker keeps until it has locked itself down."""
    return _prepared.fds if _prepared is not None else []


def release() -> None:
    """Close the inherited descriptors: student code never holds them."""
    global _prepared
    if _prepared is not None:
        _prepared.close()
        _prepared = None


def _add_rule_fd(ruleset: int, fd: int, rights: int) -> bool:
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            rights &= _FILE_RIGHTS
    except OSError:
        return False
    # struct landlock_path_beneath_attr is packed: u64 allowed_access, s32 parent_fd.
    attr = ctypes.create_string_buffer(struct.pack("=Qi", rights, fd), 12)
    return libc().syscall(_SYS_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(_RULE_PATH_BENEATH), attr,
                          ctypes.c_uint32(0)) == 0


def _add_rule(ruleset: int, path: str, rights: int) -> None:
    """Allow rights beneath path; where path is missing, nothing."""
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    try:
        _add_rule_fd(ruleset, fd, rights)
    finally:
        os.close(fd)


def _create_ruleset(version: int, fs: int) -> int:
    """A ruleset handling the filesystem rights fs and, from ABI 4 and 6, TCP and scopes; -1 on failure."""
    fields = [fs]
    if version >= 4:
        fields.append(0b11)  # bind and connect TCP: no rules, so never allowed
    if version >= 6:
        fields.append(0b11)  # abstract unix sockets and signals stay inside the sandbox
    attr = ctypes.create_string_buffer(struct.pack(f"={len(fields)}Q", *fields), 8 * len(fields))
    return libc().syscall(_SYS_CREATE_RULESET, attr, ctypes.c_size_t(8 * len(fields)), ctypes.c_uint32(0))


def apply(scratch: str, readable: tuple[str, ...], protected: tuple[str, ...]) -> int:
    """Restrict this process to the allow-list; the ABI in force, or 0 where Landlock is unavailable."""
    version = abi()
    if version < 1:
        return 0
    fs = fs_rights(version)
    protected = tuple(os.path.realpath(p) for p in protected)
    ruleset = _create_ruleset(version, fs)
    if ruleset < 0:
        return 0
    try:
        fixed = _prepared.rules if _prepared is not None else [(path, rights, -1) for path, rights in fixed_rules()]
        for path, rights, fd in fixed:
            rights &= fs
            if fd >= 0 and not any(within(p, path) for p in protected):
                _add_rule_fd(ruleset, fd, rights)
            else:  # a protected path inside (unusual), or nothing opened in advance: by path
                for root in carved(path, protected):
                    _add_rule(ruleset, root, rights)
        _add_rule(ruleset, "/proc/self", READ)  # resolves to this process's own entry
        for path in readable:
            for root in carved(os.path.realpath(path), protected):
                _add_rule(ruleset, root, READ)
        _add_rule(ruleset, scratch, fs)
        if libc().prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return 0
        restricted = libc().syscall(_SYS_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)) == 0
    finally:
        os.close(ruleset)
    return version if restricted else 0
