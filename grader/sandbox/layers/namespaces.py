"""The zygote's own world: namespaces every worker it forks lives in, and the workers' folders.

First thing at start-up, the zygote leaves the host's namespaces (``isolate``):

- **user** (when it is not root): inside it the zygote maps only its own uid,
  so it may build the rest without privileges on the host;
- **PID**: workers see only the zygote and each other, never the host's
  processes, and when the zygote ends the kernel ends every worker with it;
  /proc is mounted afresh so it shows this namespace alone;
- **network**: no interfaces but a loopback that is down, so nothing to reach;
- **IPC**: System V objects and message queues of the host are out of reach
  (seccomp also refuses making any);
- **mount**: private, so what the zygote mounts is seen by its workers only:
  a runtime view for an unprivileged worker user (``runtime_view``) and a
  size-limited tmpfs as each worker's scratch folder (``make_scratch``);
- **UTS**: its own host name.

Each is optional: where the kernel refuses one (a container without the
privilege, a kernel without unprivileged user namespaces), the zygote goes on
without it, and ``STATE`` says what it has, for the reports and
``grade doctor``.
"""

from __future__ import annotations

import ctypes
import os
import sys
import tempfile
from dataclasses import dataclass, field

from grader.sandbox.layers import libc, within
from grader.sandbox.layers.identity import Identity, blocked_ancestor, can_enter, can_read, die_with_parent
from grader.sandbox.tree import remove_tree

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
_NAMES = ((CLONE_NEWUSER, "user"), (CLONE_NEWPID, "pid"), (CLONE_NEWNS, "mount"), (CLONE_NEWNET, "network"),
          (CLONE_NEWIPC, "ipc"), (CLONE_NEWUTS, "uts"))
_WORLD = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS

_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REC, _MS_PRIVATE = 0x2, 0x4, 0x8, 0x4000, 1 << 18
_MNT_DETACH = 2
_SYS_OPEN_TREE, _SYS_MOVE_MOUNT = 428, 429
_OPEN_TREE_CLONE, _AT_RECURSIVE, _MOVE_MOUNT_F_EMPTY_PATH = 1, 0x8000, 0x4
_SCRATCH_INODES = 4096


@dataclass
class State:
    """What the zygote managed to set up; workers inherit it and report it."""

    grader_uid: int = -1
    namespaces: tuple[str, ...] = ()
    proc_private: bool = False
    view: tuple[str, ...] = ()  # folders workers see with only the Python runtime inside
    can_mount: bool = False
    tasks_before: int = 0  # tasks of the workers' user when the zygote started, in its user namespace
    identity: Identity | None = None
    identity_note: str = ""
    notes: list[str] = field(default_factory=list)


STATE = State()


def isolate(identity: Identity | None, readable: tuple[str, ...], enterable: tuple[str, ...] = (),
            close_in_parent: tuple[int, ...] = ()) -> State:
    """Move this process (the zygote, before it imports anything) into namespaces of its own.

    identity: who workers should become (root only); readable: folders they
    must be able to read; enterable: folders they must be able to pass through
    (the folder of their scratch folders, which none may list). A new PID
    namespace takes effect for children only, so this forks: the child goes on
    as the zygote (the first process of the namespace) and this function returns
    in it; the parent waits for it and exits with its status, closing
    close_in_parent first so the grader's channel ends with the child.
    """
    global STATE
    state = State(grader_uid=os.getuid(), identity=identity)
    STATE = state
    if not sys.platform.startswith("linux"):
        return state
    state.tasks_before = tasks_of(identity.uid if identity is not None else os.getuid())
    flags = _enter(state)
    if flags & CLONE_NEWUSER:
        state.tasks_before = 0  # a user namespace counts its own tasks only
    state.namespaces = tuple(name for bit, name in _NAMES if flags & bit)
    if flags & CLONE_NEWNS:
        state.can_mount = libc().mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) == 0
    if flags & CLONE_NEWPID:
        _become_first_process(close_in_parent)
        state.proc_private = state.can_mount and libc().mount(
            b"proc", b"/proc", b"proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, None) == 0
    if flags & CLONE_NEWUTS:
        libc().sethostname(b"grader-sandbox", 14)
    if identity is not None:
        def blocked() -> list[str]:
            return ([p for p in readable if not can_read(p, identity)]
                    + [p for p in enterable if not can_enter(p, identity)])

        if blocked() and state.can_mount:
            state.view = runtime_view(identity, readable + enterable)
        if blocked():
            state.identity = None
            state.identity_note = (f"{identity.name} cannot read {blocked()[0]}, which student code needs, and "
                                   "no private view of the file system could be made")
    return state


def tasks_of(uid: int) -> int:
    """How many tasks (threads included) uid runs now, as /proc shows them; 0 where it cannot tell."""
    count = 0
    try:
        names = os.listdir("/proc")
    except OSError:
        return 0
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status") as status:
                fields = dict(line.split(":", 1) for line in status if line.startswith(("Uid:", "Threads:")))
            if int(fields["Uid"].split()[0]) == uid:
                count += int(fields["Threads"])
        except (OSError, KeyError, ValueError, IndexError):
            continue
    return count


def _enter(state: State) -> int:
    """Unshare what the kernel allows; returns the namespaces entered."""
    uid, gid = os.getuid(), os.getgid()
    attempts = [_WORLD] if uid == 0 else []
    attempts += [CLONE_NEWUSER | _WORLD, CLONE_NEWUSER | (_WORLD & ~CLONE_NEWPID)]
    for flags in attempts:
        if libc().unshare(flags) != 0:
            continue
        if flags & CLONE_NEWUSER and not _map_ids(uid, gid, state.identity):
            state.notes.append("the user namespace's id maps could not be written")
        return flags
    state.notes.append(f"no namespaces: {os.strerror(ctypes.get_errno())}")
    return 0


def _map_ids(uid: int, gid: int, identity: Identity | None) -> bool:
    """Map this user to itself (and, for root, the worker user too) inside the new user namespace."""
    uids, gids = [f"{uid} {uid} 1"], [f"{gid} {gid} 1"]
    if uid == 0 and identity is not None:
        uids.append(f"{identity.uid} {identity.uid} 1")
        gids.append(f"{identity.gid} {identity.gid} 1")
    try:
        if uid != 0:
            _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", "\n".join(uids))
        _write("/proc/self/gid_map", "\n".join(gids))
    except OSError:
        return False
    return True


def _write(path: str, text: str) -> None:
    with open(path, "w") as file:
        file.write(text)


def _become_first_process(close_in_parent: tuple[int, ...]) -> None:
    child = os.fork()
    if child == 0:
        die_with_parent()
        return
    for fd in close_in_parent:
        os.close(fd)
    status = os.waitpid(child, 0)[1]
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 70)


def runtime_view(identity: Identity, needed: tuple[str, ...]) -> tuple[str, ...]:
    """Let identity reach the needed folders where a folder above them shuts it out.

    Over each such folder (``/root`` for a Python under /root) goes an empty
    tmpfs that anyone may enter, holding the needed folders alone, bound in
    from the real tree: a worker sees the runtime and nothing else of that
    folder. Returns the folders covered.
    """
    blocked: dict[str, list[str]] = {}
    for path in needed:
        top = blocked_ancestor(path, identity)
        if top is not None:
            blocked.setdefault(top, []).append(os.path.realpath(path))
    covered = []
    old_umask = os.umask(0o022)
    try:
        for top, paths in blocked.items():
            outer = sorted({p for p in paths if not any(q != p and within(p, q) for q in paths)})
            trees = [_open_tree(p) for p in outer]
            if any(fd < 0 for fd in trees):
                _close(trees)
                continue
            if libc().mount(b"tmpfs", top.encode(), b"tmpfs", _MS_NOSUID | _MS_NODEV, b"mode=0755,size=1m") != 0:
                _close(trees)
                continue
            for path, fd in zip(outer, trees):
                os.makedirs(path, mode=0o755, exist_ok=True)
                libc().syscall(_SYS_MOVE_MOUNT, ctypes.c_int(fd), b"", ctypes.c_int(-100), path.encode(),
                               ctypes.c_uint(_MOVE_MOUNT_F_EMPTY_PATH))
            _close(trees)
            covered.append(top)
    finally:
        os.umask(old_umask)
    return tuple(covered)


def _open_tree(path: str) -> int:
    return libc().syscall(_SYS_OPEN_TREE, ctypes.c_int(-100), path.encode(),
                          ctypes.c_uint(_OPEN_TREE_CLONE | _AT_RECURSIVE | os.O_CLOEXEC))


def _close(fds: list[int]) -> None:
    for fd in fds:
        if fd >= 0:
            os.close(fd)


def make_scratch(root: str, identity: Identity | None, quota_bytes: int) -> tuple[str, bool]:
    """A worker's own folder under root, named at random; a tmpfs of quota_bytes where the zygote may mount.

    Returns the path and whether the quota holds (otherwise the grading process
    watches the folder's size). The tmpfs lives in the zygote's mount namespace
    only, so nothing a worker writes is visible, or left, anywhere else. The
    random name matters: the next worker's folder exists while this one runs,
    under the same uid, and root, which no worker can list, hides it only if its
    name cannot be guessed.
    """
    path = tempfile.mkdtemp(prefix="w", dir=root)  # mode 0700
    owner = (identity.uid, identity.gid) if identity is not None else (os.getuid(), os.getgid())
    if identity is not None:
        os.chown(path, *owner)
    quota = False
    if STATE.can_mount and quota_bytes > 0:
        options = f"size={quota_bytes},nr_inodes={_SCRATCH_INODES},mode=0700,uid={owner[0]},gid={owner[1]}"
        quota = libc().mount(b"tmpfs", path.encode(), b"tmpfs", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC,
                             options.encode()) == 0
    return path, quota


def remove_scratch(path: str) -> None:
    """Unmount (if it was mounted) and delete a worker's folder."""
    if STATE.can_mount:
        libc().umount2(path.encode(), _MNT_DETACH)
    remove_tree(path)
