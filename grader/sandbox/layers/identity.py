"""Who a worker is: its user, its capabilities, whether other processes may look into it.

When the grader runs as root, workers become an unprivileged user (``nobody``,
or ``$GRADER_SANDBOX_USER``); where that user could not reach the Python
installation (a Python under /root, as pyenv and conda install it), the zygote
first gives workers a view of the file system in which it can (see
``namespaces.runtime_view``). A non-root grader cannot switch users: its workers
keep its uid and lose everything else, and the Landlock allow-list keeps the
user's own files from them.

Whatever the uid, a worker ends with every capability set empty (bounding and
ambient included, where its namespace lets it drop them), is not dumpable (so
no process of the same user can read its memory through /proc), and dies with
its zygote.
"""

from __future__ import annotations

import ctypes
import os
import pwd
import signal
import sys
from dataclasses import dataclass

from grader.sandbox.layers import libc

SANDBOX_USER_ENV = "GRADER_SANDBOX_USER"

_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_PR_CAPBSET_DROP = 24
_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
_CAP_SETS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")


@dataclass(frozen=True)
class Identity:
    """The user a worker runs student code as."""

    name: str
    uid: int
    gid: int


class IdentityError(ValueError):
    """The configured sandbox user does not exist; the message says what to do."""


def requested_identity() -> Identity | None:
    """Who workers become, as this grader would have it: None where it cannot switch (not root).

    $GRADER_SANDBOX_USER names the user; unset, ``nobody``; ``none`` keeps the
    uid (root then, with no capabilities; for tests of the other layers only).
    """
    if os.name != "posix" or os.geteuid() != 0:
        return None
    requested = os.environ.get(SANDBOX_USER_ENV, "").strip()
    if requested.lower() == "none":
        return None
    try:
        entry = pwd.getpwnam(requested or "nobody")
    except KeyError:
        if not requested:
            return None
        raise IdentityError(f"${SANDBOX_USER_ENV} names {requested!r}, which is not a user on this machine "
                            "(create it, or leave the variable unset to use nobody)") from None
    if entry.pw_uid == 0:
        raise IdentityError(f"${SANDBOX_USER_ENV} names {requested!r}, which is root: student code would keep "
                            "root's powers. Name an unprivileged user.")
    return Identity(entry.pw_name, entry.pw_uid, entry.pw_gid)


def _may(folder: str, identity: Identity, need: int) -> bool:
    """Whether identity's permission bits on folder include need (0o1 enter, 0o4 list)."""
    try:
        info = os.stat(folder)
    except OSError:
        return False
    if info.st_uid == identity.uid:
        bits = info.st_mode >> 6
    elif info.st_gid == identity.gid:
        bits = info.st_mode >> 3
    else:
        bits = info.st_mode
    return bits & need == need


def can_read(path: str, identity: Identity) -> bool:
    """Whether identity (with no supplementary groups) can reach path and list it, by its permission bits."""
    parts = os.path.realpath(path).split(os.sep)
    for depth in range(1, len(parts) + 1):
        folder = os.sep.join(parts[:depth]) or os.sep
        if not _may(folder, identity, 0o5 if depth == len(parts) else 0o1):
            return False
    return True


def can_enter(path: str, identity: Identity) -> bool:
    """Whether identity may pass through path and every folder above it (not necessarily list it)."""
    parts = os.path.realpath(path).split(os.sep)
    return all(_may(os.sep.join(parts[:depth]) or os.sep, identity, 0o1) for depth in range(1, len(parts) + 1))


def blocked_ancestor(path: str, identity: Identity) -> str | None:
    """The first folder above path that identity may not enter, or None."""
    parts = os.path.realpath(path).split(os.sep)
    for depth in range(1, len(parts)):
        folder = os.sep.join(parts[:depth]) or os.sep
        if not _may(folder, identity, 0o1):
            return folder
    return None


def become(identity: Identity | None) -> str:
    """Drop every privilege for good and switch to identity; says who the worker is, for the report.

    The bounding set goes first (that needs CAP_SETPCAP), then the groups and
    ids (which empties the permitted and effective sets when leaving uid 0),
    then whatever capability sets remain. Where the kernel refuses a step the
    worker goes on, and the measured state (``capabilities``) says what held.
    """
    last = _last_capability()
    for cap in range(last + 1):
        libc().prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)
    libc().prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    who = f"uid {os.getuid()}"
    if identity is not None:
        try:
            os.setgroups([])
            os.setresgid(identity.gid, identity.gid, identity.gid)
            os.setresuid(identity.uid, identity.uid, identity.uid)
            who = f"user {identity.name}"
        except OSError as exc:
            who = f"uid {os.getuid()} (could not become {identity.name}: {exc.strerror})"
    _clear_capability_sets()
    libc().prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    die_with_parent()  # a change of identity clears the parent-death signal: set it again
    return who


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _clear_capability_sets() -> None:
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    libc().capset(ctypes.byref(header), data)


def _last_capability() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as last:
            return int(last.read())
    except (OSError, ValueError):
        return 40


def capabilities() -> dict[str, int]:
    """This process's capability sets as /proc/self/status shows them (empty where there is no /proc)."""
    found = {}
    try:
        with open("/proc/self/status") as status:
            for line in status:
                name, _, value = line.partition(":")
                if name in _CAP_SETS:
                    found[name] = int(value.strip(), 16)
                elif name in ("NoNewPrivs", "Seccomp"):
                    found[name] = int(value.strip())
    except (OSError, ValueError):
        pass
    return found


def die_with_parent() -> None:
    """Ask the kernel to kill this process when its parent (the zygote) dies (Linux only)."""
    if sys.platform.startswith("linux"):
        libc().prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
