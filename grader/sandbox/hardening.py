"""Locking a sandbox worker down before it runs any student code.

Layers, each applied where the platform offers it, each sufficient against a
different kind of attempt:

0. Identity (POSIX, when the grader runs as root): the worker becomes an
   unprivileged user, so even a hole in every layer below leaves it unable to
   read files only root may read or to touch the grading process.
1. Resource limits (all POSIX): data memory, file size, no core dumps.
2. Landlock (Linux 5.13+): the kernel refuses reads under protected paths (the
   hidden reference, other students' work) and writes anywhere but the
   worker's scratch folder, and, from ABI 4, TCP; from ABI 6, signals to
   processes outside the sandbox. In two layers where the zygote has built the
   first (see _SharedLayer); a worker that enforced the first but cannot add
   its own stops before running anything.
3. seccomp (Linux): the kernel refuses to create processes, execute programs,
   signal or trace other processes, open network sockets, or change identity.
4. An audit hook (all platforms; cannot be removed once added): the same rules
   at the Python level, with a message a student can act on instead of a bare
   "Permission denied".

Nothing here trusts the student's code not to misbehave later; everything is
set up before that code exists in the process.
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
import pwd
import resource
import signal
import stat
import struct
import sys
import _thread
from dataclasses import dataclass

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_PDEATHSIG = 1
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2


@dataclass(frozen=True)
class Policy:
    """What a worker may do.

    scratch: the worker's working folder; the only place it may write.
    protected: paths whose contents the worker may not read or list.
    memory_bytes: private writable memory (heap, arrays, anonymous maps) the
        worker may add to what it holds when the policy is applied; library
        code does not count, so importing torch fits in a small limit. None
        leaves it unlimited (GPU workers are watched by resident size instead).
    file_bytes: the largest file the worker may write.
    """

    scratch: str
    protected: tuple[str, ...] = ()
    memory_bytes: int | None = None
    file_bytes: int = 64 * 1024 * 1024


@dataclass(frozen=True)
class Protection:
    """Which layers are active in a worker, for the report's details."""

    landlock_abi: int
    seccomp: bool
    audit_hook: bool
    user: str = ""

    def describe(self) -> str:
        parts = [self.user] if self.user else []
        parts.append(f"landlock ABI {self.landlock_abi}" if self.landlock_abi else "no landlock")
        parts.append("seccomp" if self.seccomp else "no seccomp")
        parts.append("audit hook" if self.audit_hook else "no audit hook")
        return ", ".join(parts)


@functools.lru_cache(maxsize=None)
def _libc():
    return ctypes.CDLL(None, use_errno=True)


def prepare(protected: tuple[str, ...] = (), scratch_root: str | None = None) -> None:
    """Work every worker would repeat, done once in the zygote so forks inherit it.

    protected: paths the next workers will protect, and scratch_root: the folder
    their own folders are made in; with both, the first of their two Landlock
    layers is built here (workers build a single layer for other paths).
    """
    if sys.platform.startswith("linux"):
        _libc()
        _gpu_devices()
        if platform.machine() in _AUDIT_ARCH:
            _seccomp_template(platform.machine())
        _plan_shared_layer(tuple(os.path.realpath(p) for p in protected),
                           os.path.realpath(scratch_root) if scratch_root else None)
    _trusted_code_roots()


SANDBOX_USER_ENV = "GRADER_SANDBOX_USER"


@dataclass(frozen=True)
class Identity:
    """The user a worker runs student code as."""

    name: str
    uid: int
    gid: int


def sandbox_identity() -> Identity | None:
    """Who workers become, or None to stay who the grader is.

    Only root can become another user. $GRADER_SANDBOX_USER names the user;
    ``none`` keeps workers as root (the other layers stay on). Unset, workers
    become ``nobody`` when nobody can read the Python installation (a system
    Python can be; one under /root cannot, and a worker that cannot import the
    standard library would fail in ways a student cannot understand).
    """
    if os.name != "posix" or os.geteuid() != 0:
        return None
    return _identity(os.environ.get(SANDBOX_USER_ENV, "").strip())


@functools.lru_cache(maxsize=8)
def _identity(requested: str) -> Identity | None:
    from grader.errors import UsageError

    if requested.lower() == "none":
        return None
    try:
        entry = pwd.getpwnam(requested or "nobody")
    except KeyError:
        if not requested:
            return None
        raise UsageError(f"${SANDBOX_USER_ENV} names {requested!r}, which is not a user on this machine "
                         "(create it, or set it to none to run student code as root)") from None
    if entry.pw_uid == 0:
        return None
    identity = Identity(entry.pw_name, entry.pw_uid, entry.pw_gid)
    blocked = [path for path in _interpreter_paths() if not can_read(path, identity)]
    if blocked and requested:
        raise UsageError(f"${SANDBOX_USER_ENV} is {requested!r}, but that user cannot read {blocked[0]}, which "
                         "student code needs (install Python where other users can read it, or set it to none)")
    return None if blocked else identity


def _interpreter_paths() -> list[str]:
    import sysconfig

    import grader

    paths = sysconfig.get_paths()
    found = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    found.add(os.path.dirname(os.path.abspath(grader.__file__)))
    return sorted(p for p in found if os.path.isdir(p))


def can_read(path: str, identity: Identity) -> bool:
    """Whether identity (with no supplementary groups) can reach path and list it, by its permission bits."""
    path = os.path.realpath(path)
    parts = path.split(os.sep)
    for depth in range(1, len(parts) + 1):
        folder = os.sep.join(parts[:depth]) or os.sep
        need = 0o5 if depth == len(parts) else 0o1  # read and enter the folder itself, enter its parents
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
        if bits & need != need:
            return False
    return True


def become(identity: Identity | None) -> str:
    """Switch the worker to identity for good; says who it runs as, for the report's details.

    Where the kernel refuses (a container without CAP_SETUID), the worker goes
    on as it is: the other layers do not depend on this one.
    """
    if identity is None:
        return f"uid {os.getuid()}"
    try:
        os.setgroups([])
        os.setresgid(identity.gid, identity.gid, identity.gid)
        os.setresuid(identity.uid, identity.uid, identity.uid)
    except OSError as exc:
        return f"uid {os.getuid()} (could not become {identity.name}: {exc.strerror})"
    return f"user {identity.name}"


def die_with_parent() -> None:
    """Ask the kernel to kill this process when its parent dies (Linux only)."""
    if sys.platform.startswith("linux"):
        _libc().prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def apply(policy: Policy, student_files: frozenset[str], identity: Identity | None = None) -> Protection:
    user = become(identity)  # first: seccomp forbids changing identity afterwards
    _limit_resources(policy)
    try:
        abi = _landlock(policy) if sys.platform.startswith("linux") else 0
    finally:
        release_shared_layer()  # student code never gets the zygote's descriptor
    seccomp = _seccomp() if sys.platform.startswith("linux") else False
    install_audit_hook(policy, student_files)
    return Protection(landlock_abi=abi, seccomp=seccomp, audit_hook=True, user=user)


# --- resource limits --------------------------------------------------------


def _data_bytes() -> int:
    """The process's private writable memory now (VmData), or 0 where /proc is missing."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _limit_resources(policy: Policy) -> None:
    # Each limit is applied where the platform accepts it (macOS refuses some).
    _set_limit(resource.RLIMIT_CORE, 0)
    # Writing past the limit then fails with an OSError instead of killing us.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _set_limit(resource.RLIMIT_FSIZE, policy.file_bytes)
    held = _data_bytes()
    if policy.memory_bytes is not None and held:
        _set_limit(resource.RLIMIT_DATA, held + policy.memory_bytes)


def _set_limit(which: int, value: int) -> None:
    try:
        resource.setrlimit(which, (value, value))
    except (ValueError, OSError):
        pass


# --- Landlock -----------------------------------------------------------------

_LL_EXECUTE = 1 << 0
_LL_WRITE_FILE = 1 << 1
_LL_READ_FILE = 1 << 2
_LL_READ_DIR = 1 << 3
_LL_TRUNCATE = 1 << 14
_LL_IOCTL_DEV = 1 << 15
_LL_FILE_RIGHTS = _LL_EXECUTE | _LL_WRITE_FILE | _LL_READ_FILE | _LL_TRUNCATE | _LL_IOCTL_DEV
_LL_READ = _LL_EXECUTE | _LL_READ_FILE | _LL_READ_DIR
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_LL_RULE_PATH_BENEATH = 1


def _landlock_abi(libc) -> int:
    abi = libc.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return max(abi, 0)


def _fs_rights(abi: int) -> int:
    rights = (1 << 13) - 1  # ABI 1: execute .. make_sym
    if abi >= 2:
        rights |= 1 << 13  # refer
    if abi >= 3:
        rights |= _LL_TRUNCATE
    if abi >= 5:
        rights |= _LL_IOCTL_DEV
    return rights


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


@functools.lru_cache(maxsize=16)
def readable_roots(protected: tuple[str, ...], start: str = "/") -> list[str]:
    """Paths that together cover everything under start except protected ones.

    Landlock only grants, so "everything but P" becomes a rule for every
    sibling of P and of each of its ancestors.
    """
    if any(_within(start, p) for p in protected):
        return []
    if not any(_within(p, start) for p in protected):
        return [start]
    roots: list[str] = []
    try:
        names = sorted(os.listdir(start))
    except OSError:
        return roots
    for name in names:
        path = os.path.join(start, name)
        if any(_within(path, p) for p in protected):
            continue
        if os.path.islink(path):
            target = os.path.realpath(path)
            if any(_within(target, p) or _within(p, target) for p in protected):
                continue
            roots.append(path)
        elif os.path.isdir(path):
            roots.extend(readable_roots(protected, path))
        else:
            roots.append(path)
    return roots


def _add_rule(libc, ruleset: int, path: str, rights: int) -> None:
    """Allow rights beneath path (files take no directory rights); where path is missing, nothing."""
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            rights &= _LL_FILE_RIGHTS
        # struct landlock_path_beneath_attr is packed: u64 allowed_access, s32 parent_fd.
        attr = ctypes.create_string_buffer(struct.pack("=Qi", rights, fd), 12)
        libc.syscall(_SYS_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(_LL_RULE_PATH_BENEATH), attr, ctypes.c_uint32(0))
    except OSError:
        pass
    finally:
        os.close(fd)


def _create_ruleset(libc, abi: int, fs: int, scoped: bool) -> int:
    """A new ruleset handling the filesystem rights fs and, when scoped, TCP and signals too; -1 on failure."""
    fields = [fs]
    if scoped and abi >= 4:
        fields.append(0b11)  # bind and connect TCP: no rules, so never allowed
    if scoped and abi >= 6:
        fields.append(0b11)  # abstract unix sockets and signals stay inside the sandbox
    attr = ctypes.create_string_buffer(struct.pack(f"={len(fields)}Q", *fields), 8 * len(fields))
    return libc.syscall(_SYS_CREATE_RULESET, attr, ctypes.c_size_t(8 * len(fields)), ctypes.c_uint32(0))


def _add_device_rules(libc, ruleset: int, rights: int) -> None:
    """/dev/null, and the GPU's device files where there are any; rights: what the ruleset handles."""
    _add_rule(libc, ruleset, "/dev/null", rights & (_LL_READ_FILE | _LL_WRITE_FILE))
    for device in _gpu_devices():
        _add_rule(libc, ruleset, device, rights & (_LL_READ_FILE | _LL_WRITE_FILE | _LL_IOCTL_DEV))


def _build_ruleset(libc, abi: int, fs: int, rules: list[tuple[str, int]], scoped: bool) -> int:
    """A ruleset handling fs (and, when scoped, TCP and signals) that allows rules and the devices; -1 on failure."""
    ruleset = _create_ruleset(libc, abi, fs, scoped)
    if ruleset < 0:
        return ruleset
    try:
        for path, rights in rules:
            _add_rule(libc, ruleset, path, rights)
        _add_device_rules(libc, ruleset, fs)
    except BaseException:
        os.close(ruleset)
        raise
    return ruleset


def _whole_layer_rules(protected: tuple[str, ...], writable: str, fs: int) -> list[tuple[str, int]]:
    """Read everything but the protected paths; change things only beneath writable."""
    return [(root, _LL_READ) for root in readable_roots(protected)] + [(writable, fs)]


def _restrict(libc, ruleset: int) -> bool:
    return libc.syscall(_SYS_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)) == 0


@dataclass(frozen=True)
class _SharedLayer:
    """A first Landlock layer built once in the zygote, for every worker that protects the same paths.

    It allows reading every readable root, everything under the folder that holds the workers'
    own folders, /dev/null and the GPU. Each worker adds a second layer of its own that allows
    writing only in its own folder; the kernel grants what both layers allow. So a worker adds
    three rules instead of one per readable root (often hundreds: every sibling of every folder
    on the way to a protected path).
    """

    protected: tuple[str, ...]
    scratch_root: str
    fd: int


_shared: _SharedLayer | None = None


def _plan_shared_layer(protected: tuple[str, ...], scratch_root: str | None) -> None:
    global _shared
    if _shared is not None and (_shared.protected, _shared.scratch_root) == (protected, scratch_root):
        return
    release_shared_layer()
    libc = _libc()
    abi = _landlock_abi(libc)
    if scratch_root is None or abi < 1:
        return
    fs = _fs_rights(abi)
    ruleset = _build_ruleset(libc, abi, fs, _whole_layer_rules(protected, scratch_root, fs), scoped=True)
    if ruleset >= 0:
        _shared = _SharedLayer(protected, scratch_root, ruleset)


def shared_layer_fds() -> list[int]:
    """The descriptor of the shared layer, which a newly forked worker keeps until it locks down."""
    return [_shared.fd] if _shared is not None else []


def release_shared_layer() -> None:
    global _shared
    if _shared is not None:
        os.close(_shared.fd)
        _shared = None


def _landlock(policy: Policy) -> int:
    libc = _libc()
    abi = _landlock_abi(libc)
    if abi < 1:
        return 0
    fs = _fs_rights(abi)
    protected = tuple(os.path.realpath(p) for p in policy.protected)
    scratch = os.path.realpath(policy.scratch)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return 0
    shared = _shared
    layered = False
    if shared is not None and shared.protected == protected and _within(scratch, shared.scratch_root) \
            and scratch != shared.scratch_root:
        if not _restrict(libc, shared.fd):
            return 0
        layered = True
        # The second layer governs only changes: reading stays as the first layer allows.
        changes = fs & ~_LL_READ
        ruleset = _build_ruleset(libc, abi, changes, [(scratch, changes)], scoped=False)
    else:
        ruleset = _build_ruleset(libc, abi, fs, _whole_layer_rules(protected, scratch, fs), scoped=True)
    restricted = False
    if ruleset >= 0:
        try:
            restricted = _restrict(libc, ruleset)
        finally:
            os.close(ruleset)
    if restricted:
        return abi
    if layered:
        # The first layer alone would let this worker change other workers' folders: stop here
        # rather than run student code with less than it reports.
        raise OSError(ctypes.get_errno(), "Landlock refused the worker's own layer after the shared one")
    return 0


@functools.lru_cache(maxsize=None)
def _gpu_devices() -> tuple[str, ...]:
    """The GPU's device files, as the zygote found them when it prepared (the shared layer grants those)."""
    try:
        names = os.listdir("/dev")
    except OSError:
        return ()
    devices = [f"/dev/{n}" for n in names if n.startswith(("nvidia", "kfd"))]
    if os.path.isdir("/dev/dri"):
        devices.append("/dev/dri")
    return tuple(devices)


# --- seccomp ------------------------------------------------------------------

_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
# Syscalls refused outright, by architecture. fork/vfork do not exist on arm64.
_DENY = {
    "x86_64": {
        "fork": 57, "vfork": 58, "execve": 59, "execveat": 322, "ptrace": 101,
        "process_vm_readv": 310, "process_vm_writev": 311, "tkill": 200,
        "pidfd_open": 434, "pidfd_send_signal": 424, "pidfd_getfd": 438,
        "unshare": 272, "setns": 308, "mount": 165, "umount2": 166, "pivot_root": 155,
        "chroot": 161, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323,
        "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
        "reboot": 169, "kexec_load": 246, "kexec_file_load": 320, "init_module": 175,
        "finit_module": 313, "delete_module": 176, "swapon": 167, "swapoff": 168,
        "setuid": 105, "setgid": 106, "setreuid": 113, "setregid": 114,
        "setresuid": 117, "setresgid": 119, "setgroups": 116, "capset": 126,
        "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsmount": 432,
        "keyctl": 250, "add_key": 248, "request_key": 249,
    },
    "aarch64": {
        "execve": 221, "execveat": 281, "ptrace": 117, "process_vm_readv": 270,
        "process_vm_writev": 271, "tkill": 130, "pidfd_open": 434,
        "pidfd_send_signal": 424, "pidfd_getfd": 438, "unshare": 97, "setns": 268,
        "mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51, "bpf": 280,
        "perf_event_open": 241, "userfaultfd": 282, "io_uring_setup": 425,
        "io_uring_enter": 426, "io_uring_register": 427, "reboot": 142,
        "kexec_load": 104, "kexec_file_load": 294, "init_module": 105,
        "finit_module": 273, "delete_module": 106, "swapon": 224, "swapoff": 225,
        "setuid": 146, "setgid": 144, "setreuid": 145, "setregid": 143,
        "setresuid": 147, "setresgid": 149, "setgroups": 159, "capset": 91,
        "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsmount": 432,
        "keyctl": 219, "add_key": 217, "request_key": 218,
    },
}
_NR = {
    "x86_64": {"clone": 56, "clone3": 435, "kill": 62, "tgkill": 234, "socket": 41},
    "aarch64": {"clone": 220, "clone3": 435, "kill": 129, "tgkill": 131, "socket": 198},
}
_CLONE_THREAD = 0x00010000
_AF_UNIX = 1

_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_LD_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_JSET = 0x45  # BPF_JMP | BPF_JSET | BPF_K
_RET = 0x06  # BPF_RET | BPF_K
_OFF_NR, _OFF_ARCH, _OFF_ARG0 = 0, 4, 16


class _Program:
    """A tiny BPF assembler: straight-line code with forward jumps to labels."""

    def __init__(self) -> None:
        self.code: list[tuple[int, object, object, int]] = []
        self.labels: dict[str, int] = {}

    def op(self, code: int, k: int, jt: object = 0, jf: object = 0) -> int:
        """Append an instruction; returns its index."""
        self.code.append((code, jt, jf, k & 0xFFFFFFFF))
        return len(self.code) - 1

    def label(self, name: str) -> None:
        self.labels[name] = len(self.code)

    def assemble(self) -> bytes:
        out = b""
        for index, (code, jt, jf, k) in enumerate(self.code):
            offsets = [self.labels[j] - index - 1 if isinstance(j, str) else j for j in (jt, jf)]
            out += struct.pack("=HBBI", code, offsets[0], offsets[1], k)
        return out


def _seccomp_program(arch: str, pid: int) -> bytes:
    """The filter for the worker whose process id is pid."""
    template, slots = _seccomp_template(arch)
    program = bytearray(template)
    for index, sign in slots:  # struct sock_filter: u16 code, u8 jt, u8 jf, u32 k
        struct.pack_into("=I", program, 8 * index + 4, (sign * pid) & 0xFFFFFFFF)
    return bytes(program)


@functools.lru_cache(maxsize=None)
def _seccomp_template(arch: str) -> tuple[bytes, tuple[tuple[int, int], ...]]:
    """The filter with 0 for the worker's pid, and where the pid goes: (instruction, sign) pairs.

    Assembled once in the zygote (prepare), so a worker only writes its pid in.
    """
    pid = 0
    errno_eperm = _RET_ERRNO | 1
    nr = _NR[arch]
    p = _Program()
    p.op(_LD_ABS, _OFF_ARCH)
    p.op(_JEQ, _AUDIT_ARCH[arch], 1, 0)
    p.op(_RET, errno_eperm)  # foreign-architecture syscalls would dodge every check below
    p.op(_LD_ABS, _OFF_NR)
    if arch == "x86_64":
        p.op(_JGE, 0x40000000, "deny", 0)  # the x32 ABI, same reason
    for number in _DENY[arch].values():
        p.op(_JEQ, number, "deny", 0)
    p.op(_JEQ, nr["clone3"], "nosys", 0)  # flags live in memory BPF cannot read; glibc falls back to clone
    p.op(_JEQ, nr["clone"], "clone", 0)
    p.op(_JEQ, nr["kill"], "kill", 0)
    p.op(_JEQ, nr["tgkill"], "tgkill", 0)
    p.op(_JEQ, nr["socket"], "socket", 0)
    p.op(_RET, _RET_ALLOW)
    p.label("clone")
    p.op(_LD_ABS, _OFF_ARG0)
    p.op(_JSET, _CLONE_THREAD, "allow", "deny")  # threads yes, processes no
    p.label("kill")
    p.op(_LD_ABS, _OFF_ARG0)
    slots = [(p.op(_JEQ, pid, "allow", 0), 1)]
    p.op(_JEQ, 0, "allow", 0)  # own process group: only this process, as it cannot fork
    slots.append((p.op(_JEQ, -pid, "allow", "deny"), -1))
    p.label("tgkill")
    p.op(_LD_ABS, _OFF_ARG0)
    slots.append((p.op(_JEQ, pid, "allow", "deny"), 1))
    p.label("socket")
    p.op(_LD_ABS, _OFF_ARG0)
    p.op(_JEQ, _AF_UNIX, "allow", "deny")
    p.label("allow")
    p.op(_RET, _RET_ALLOW)
    p.label("deny")
    p.op(_RET, errno_eperm)
    p.label("nosys")
    p.op(_RET, _RET_ERRNO | 38)
    return p.assemble(), tuple(slots)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _seccomp() -> bool:
    arch = platform.machine()
    if arch not in _AUDIT_ARCH:
        return False
    program = _seccomp_program(arch, os.getpid())
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    libc = _libc()
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    return libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) == 0


# --- audit hook ---------------------------------------------------------------

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
_BLOCKED_IMPORTS = ("reference", "_grader_checks")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class SandboxViolation(PermissionError):
    """Raised inside the worker when student code tries something the sandbox forbids."""


def install_audit_hook(policy: Policy, student_files: frozenset[str]) -> None:
    # Everything the hook needs is bound now: later monkeypatching of os or sys
    # by student code cannot change what the hook does.
    realpath, join, isabs, fsdecode, getcwd = (
        os.path.realpath, os.path.join, os.path.isabs, os.fsdecode, os.getcwd)
    getframe, getpid = sys._getframe, os.getpid
    scratch = realpath(policy.scratch)
    protected = tuple(realpath(p) for p in policy.protected)
    writable = (scratch, "/dev/null")
    trusted_code = _trusted_code_roots()
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
        if resolved and any(_within(resolved, p) for p in protected):
            deny(f"reading {fsdecode(path)!s} is not allowed while grading")

    def check_write(path) -> None:
        resolved = resolve(path)
        if resolved and not any(_within(resolved, w) for w in writable):
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

    def hook(event: str, args: tuple) -> None:
        if getattr(state, "busy", False):
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
            if isinstance(module, str) and (
                module.split(".")[0] in _BLOCKED_IMPORTS
                or (module.startswith("grader.") and not module.startswith("grader.sandbox"))
            ):
                deny(f"importing {module} is not allowed while grading")
        elif event in ("ctypes.dlopen", "ctypes.dlsym", "ctypes.dlsym/handle"):
            if from_untrusted_code(caller):
                deny("loading C libraries with ctypes is not allowed while grading")

    sys.addaudithook(hook)


@functools.lru_cache(maxsize=None)
def _trusted_code_roots() -> tuple[str, ...]:
    import sysconfig

    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.dirname(__file__))}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(path)
    roots.update(p for p in sys.path if p and "site-packages" in p)
    return tuple(sorted(os.path.realpath(r) for r in roots)) + ("<frozen ",)
