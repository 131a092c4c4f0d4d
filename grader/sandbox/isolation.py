"""What protected a run, in words: the layers a worker measured, and whether they meet a promise.

A worker measures its own protection after locking down and before any student
code exists in it (``hardening.apply``), and sends it first, so a submission
cannot forge it. Here that measurement becomes the report's list of layers, and
is compared with what a platform's README promises (``PROFILES``): the
Gradescope and Classroom 50 autograders refuse to grade with less, and
``grade doctor`` calls a machine isolated when it meets ``strict``.
"""

from __future__ import annotations

from typing import Any

from grader.errors import GraderError
from grader.model import IsolationLayer

_MB = 1024 * 1024

_STOPS = {
    "user": "reading what only the grader's user may read; signalling or tracing the grader",
    "capabilities": "privileged system calls: overriding file permissions, the clock, the host name, the kernel "
                    "log, raw devices",
    "namespaces": "seeing or signalling the machine's processes, the network, the machine's IPC objects; no worker "
                  "outlives the sandbox",
    "landlock": "reading home folders, reference/, other students' work and results; writing outside its own "
                "folder; TCP",
    "seccomp": "new processes and programs, IPC and sockets between students, memory outside the limit, tracing, "
               "mounts, identity and scheduling changes",
    "limits": "exhausting memory (the stack included), disk, descriptors or threads; moving to another CPU",
    "audit hook": "the same rules in Python, with a message the student can act on",
}

_NAMESPACE_WORDS = {"pid": "PID", "ipc": "IPC", "uts": "UTS"}

# Layers each promise needs. "user" counts as met where the grader is not root (no other user can be had).
PROFILES: dict[str, tuple[str, ...]] = {
    "strict": ("user", "capabilities", "landlock", "seccomp", "limits"),
    "gradescope": ("user", "capabilities", "seccomp", "limits"),
    "classroom50": ("capabilities", "seccomp", "limits"),
}


class IsolationError(GraderError):
    """This machine cannot isolate student code as the run requires; the fault is the setup's, not a student's."""


def layers(protection: dict[str, Any]) -> tuple[IsolationLayer, ...]:
    """The report's layers from a worker's measured protection (as hardening.apply returns it)."""
    p = protection
    caps = p.get("capabilities") if isinstance(p.get("capabilities"), dict) else {}
    found = [
        _user(p),
        _capabilities(caps),
        _namespaces(p),
        _landlock(int(p.get("landlock_abi") or 0)),
        IsolationLayer("seccomp", bool(p.get("seccomp")) and caps.get("Seccomp", 2) == 2,
                       "system call filter in force" if p.get("seccomp") else "no system call filter here",
                       _STOPS["seccomp"]),
        _limits(p),
        IsolationLayer("audit hook", bool(p.get("audit_hook")), "installed before the submission ran",
                       _STOPS["audit hook"]),
    ]
    return tuple(found)


def _user(p: dict[str, Any]) -> IsolationLayer:
    uid, grader_uid = p.get("uid"), p.get("grader_uid")
    who = str(p.get("user") or f"uid {uid}")
    if grader_uid == 0:
        active = uid != 0
        detail = f"runs as {who}" if active else f"runs as uid 0 without capabilities: {p.get('identity_note') or who}"
    elif uid == grader_uid:
        return IsolationLayer("user", True, f"runs as the grader's own user ({who}): only root can switch users",
                              "nothing by itself; the Landlock allow-list keeps this user's files out of reach")
    else:
        active, detail = True, f"runs as {who}"
    return IsolationLayer("user", active, detail, _STOPS["user"])


def _capabilities(caps: dict[str, int]) -> IsolationLayer:
    sets = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")
    if not all(name in caps for name in sets):
        return IsolationLayer("capabilities", False, "not measured on this platform", _STOPS["capabilities"])
    held = [name for name in sets if caps[name]]
    if not held:
        detail = "every set empty (effective, permitted, inheritable, bounding, ambient)"
    elif held == ["CapBnd"]:
        detail = ("none held; the bounding set could not be emptied here (no user namespace), "
                  "and nothing can be executed")
    else:
        detail = f"held: {', '.join(held)}"
    return IsolationLayer("capabilities", not caps["CapEff"] and not caps["CapPrm"], detail, _STOPS["capabilities"])


def _namespaces(p: dict[str, Any]) -> IsolationLayer:
    names = [str(n) for n in p.get("namespaces") or []]
    if not names:
        notes = "; ".join(str(n) for n in p.get("notes") or [])
        return IsolationLayer("namespaces", False, f"none could be made here{': ' + notes if notes else ''}",
                              _STOPS["namespaces"])
    detail = "own " + ", ".join(_NAMESPACE_WORDS.get(n, n) for n in names if n != "user") + " namespaces"
    if "user" in names:
        detail += ", inside a user namespace"
    if p.get("proc_private"):
        detail += "; /proc shows the sandbox only"
    if p.get("view"):
        detail += f"; only the Python runtime visible under {', '.join(p['view'])}"
    return IsolationLayer("namespaces", True, detail, _STOPS["namespaces"])


def _landlock(abi: int) -> IsolationLayer:
    if abi < 1:
        return IsolationLayer("landlock", False, "not available (needs Linux 5.13+ with Landlock enabled)",
                              _STOPS["landlock"])
    detail = (f"ABI {abi}: reads only the Python runtime, the assignment's public files and its own files; "
              "writes only its own folder")
    if abi >= 4:
        detail += "; no TCP"
    if abi >= 6:
        detail += "; no signals or abstract sockets beyond itself"
    return IsolationLayer("landlock", True, detail, _STOPS["landlock"])


def _limits(p: dict[str, Any]) -> IsolationLayer:
    parts = []
    if p.get("memory_bytes"):
        parts.append(f"memory {int(p['memory_bytes']) // _MB} MB")
    else:
        parts.append("memory watched by resident size")
    if p.get("file_bytes"):
        parts.append(f"files up to {int(p['file_bytes']) // _MB} MB each")
    parts.append("disk in all bounded by a tmpfs" if p.get("disk_quota") else "disk in all watched by the grader")
    if p.get("open_files"):
        parts.append(f"{p['open_files']} open files")
    if p.get("tasks"):
        parts.append(f"{p['tasks']} threads")
    if p.get("cpu") is not None:
        parts.append(f"kept on CPU {p['cpu']}")
    return IsolationLayer("limits", True, ", ".join(parts), _STOPS["limits"])


def shortfalls(found: tuple[IsolationLayer, ...], profile: str) -> list[IsolationLayer]:
    """The layers profile needs that were not in force."""
    needed = PROFILES[profile]
    return [layer for layer in found if layer.name in needed and not layer.active]


def require(found: tuple[IsolationLayer, ...], profile: str) -> None:
    """Raise IsolationError, in words for the course staff, when found falls short of profile."""
    missing = shortfalls(found, profile)
    if missing:
        reasons = "; ".join(f"{layer.name}: {layer.detail}" for layer in missing)
        raise IsolationError(f"This machine cannot isolate student code as the {profile} setup requires ({reasons}). "
                             "No student was graded. Run `grade doctor` here to see every layer.")
