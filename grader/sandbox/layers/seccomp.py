"""seccomp: the system calls a worker may not make, refused by the kernel whatever code asks.

The filter is a small BPF program checked on every system call. It refuses:

- making processes, running programs, tracing or signalling other processes,
  and anything that names another process (only the worker's own id passes);
- every way to reach another worker: System V IPC, POSIX message queues,
  sockets other than Unix ones, and binding or connecting any socket;
- memory the data limit does not count (shared anonymous mappings, memfd);
- changing identity, scheduling, CPU placement, the clock, the host name,
  mounts, namespaces, keys, kernel modules and the kernel log;
- whatever a file's contents are not, which Landlock does not govern: its
  permissions, owner, times and extended attributes (a worker could otherwise
  open ``reference/`` to everyone as a non-root TA's uid, or leave a note on
  the folder made for the next worker), and every signal two workers could
  pass through a file both may read: locks, leases, change notification,
  signal-driven I/O.

Assembled once in the zygote; each worker writes its own process id into the
instructions that name it (``program``).
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
import struct

from grader.sandbox.layers import libc

AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}

_COMMON = (
    # processes, programs, other processes
    "execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev", "tkill", "pidfd_open",
    "pidfd_send_signal", "pidfd_getfd", "kcmp", "process_madvise", "process_mrelease", "get_robust_list",
    "migrate_pages", "move_pages",
    # namespaces, mounts, roots
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "open_tree", "move_mount", "fsopen",
    "fsmount", "fspick", "fsconfig", "mount_setattr", "name_to_handle_at", "open_by_handle_at",
    # identity
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups", "setfsuid",
    "setfsgid", "capset",
    # other workers: IPC, sockets by name, memory outside the data limit
    "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semtimedop", "semctl", "shmget", "shmat",
    "shmdt", "shmctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify",
    "mq_getsetattr", "bind", "connect", "listen", "accept", "accept4", "memfd_create", "memfd_secret",
    # scheduling and placement (a worker keeps the CPU and priority the sandbox gave it)
    "sched_setaffinity", "sched_setscheduler", "sched_setparam", "sched_setattr", "setpriority",
    "ioprio_set",
    # the machine
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname", "setdomainname",
    "syslog", "mknodat", "quotactl", "acct", "vhangup", "reboot", "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module", "swapon", "swapoff", "bpf", "perf_event_open",
    "userfaultfd", "fanotify_init", "lookup_dcookie", "personality", "keyctl", "add_key", "request_key",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    # metadata Landlock does not govern, and files as a wire between workers
    "fchmod", "fchmodat", "fchmodat2", "fchown", "fchownat", "utimensat", "setxattr", "lsetxattr", "fsetxattr",
    "removexattr", "lremovexattr", "fremovexattr", "setxattrat", "removexattrat", "flock", "inotify_init1",
    "inotify_add_watch",
)
_X86_ONLY = ("fork", "vfork", "mknod", "uselib", "ustat", "sysfs", "iopl", "ioperm", "modify_ldt", "chmod", "chown",
             "lchown", "utime", "utimes", "futimesat", "inotify_init")

NUMBERS = {
    "x86_64": {
        "execve": 59, "execveat": 322, "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311,
        "tkill": 200, "pidfd_open": 434, "pidfd_send_signal": 424, "pidfd_getfd": 438, "kcmp": 312,
        "process_madvise": 440, "process_mrelease": 448, "get_robust_list": 274, "migrate_pages": 256,
        "move_pages": 279, "unshare": 272, "setns": 308, "mount": 165, "umount2": 166, "pivot_root": 155,
        "chroot": 161, "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsmount": 432, "fspick": 433,
        "fsconfig": 431, "mount_setattr": 442, "name_to_handle_at": 303, "open_by_handle_at": 304,
        "setuid": 105, "setgid": 106, "setreuid": 113, "setregid": 114, "setresuid": 117, "setresgid": 119,
        "setgroups": 116, "setfsuid": 122, "setfsgid": 123, "capset": 126, "msgget": 68, "msgsnd": 69,
        "msgrcv": 70, "msgctl": 71, "semget": 64, "semop": 65, "semtimedop": 220, "semctl": 66,
        "shmget": 29, "shmat": 30, "shmdt": 67, "shmctl": 31, "mq_open": 240, "mq_unlink": 241,
        "mq_timedsend": 242, "mq_timedreceive": 243, "mq_notify": 244, "mq_getsetattr": 245, "bind": 49,
        "connect": 42, "listen": 50, "accept": 43, "accept4": 288, "memfd_create": 319, "memfd_secret": 447,
        "sched_setaffinity": 203, "sched_setscheduler": 144, "sched_setparam": 142, "sched_setattr": 314,
        "setpriority": 141, "ioprio_set": 251, "settimeofday": 164, "clock_settime": 227,
        "clock_adjtime": 305, "adjtimex": 159, "sethostname": 170, "setdomainname": 171, "syslog": 103,
        "mknodat": 259, "quotactl": 179, "acct": 163, "vhangup": 153, "reboot": 169, "kexec_load": 246,
        "kexec_file_load": 320, "init_module": 175, "finit_module": 313, "delete_module": 176,
        "swapon": 167, "swapoff": 168, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323,
        "fanotify_init": 300, "lookup_dcookie": 212, "personality": 135, "keyctl": 250, "add_key": 248,
        "request_key": 249, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
        "fork": 57, "vfork": 58, "mknod": 133, "uselib": 134, "ustat": 136, "sysfs": 139, "iopl": 172,
        "ioperm": 173, "modify_ldt": 154, "chmod": 90, "chown": 92, "lchown": 94, "utime": 132, "utimes": 235,
        "futimesat": 261, "inotify_init": 253, "fchmod": 91, "fchmodat": 268, "fchmodat2": 452, "fchown": 93,
        "fchownat": 260, "utimensat": 280, "setxattr": 188, "lsetxattr": 189, "fsetxattr": 190, "removexattr": 197,
        "lremovexattr": 198, "fremovexattr": 199, "setxattrat": 463, "removexattrat": 466, "flock": 73,
        "inotify_init1": 294, "inotify_add_watch": 254,
        # checked by argument
        "clone": 56, "clone3": 435, "kill": 62, "tgkill": 234, "socket": 41, "prlimit64": 302,
        "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297, "mmap": 9, "fcntl": 72,
    },
    "aarch64": {
        "execve": 221, "execveat": 281, "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271,
        "tkill": 130, "pidfd_open": 434, "pidfd_send_signal": 424, "pidfd_getfd": 438, "kcmp": 272,
        "process_madvise": 440, "process_mrelease": 448, "get_robust_list": 100, "migrate_pages": 238,
        "move_pages": 239, "unshare": 97, "setns": 268, "mount": 40, "umount2": 39, "pivot_root": 41,
        "chroot": 51, "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsmount": 432, "fspick": 433,
        "fsconfig": 431, "mount_setattr": 442, "name_to_handle_at": 264, "open_by_handle_at": 265,
        "setuid": 146, "setgid": 144, "setreuid": 145, "setregid": 143, "setresuid": 147, "setresgid": 149,
        "setgroups": 159, "setfsuid": 151, "setfsgid": 152, "capset": 91, "msgget": 186, "msgsnd": 189,
        "msgrcv": 188, "msgctl": 187, "semget": 190, "semop": 193, "semtimedop": 192, "semctl": 191,
        "shmget": 194, "shmat": 196, "shmdt": 197, "shmctl": 195, "mq_open": 180, "mq_unlink": 181,
        "mq_timedsend": 182, "mq_timedreceive": 183, "mq_notify": 184, "mq_getsetattr": 185, "bind": 200,
        "connect": 203, "listen": 201, "accept": 202, "accept4": 242, "memfd_create": 279,
        "memfd_secret": 447, "sched_setaffinity": 122, "sched_setscheduler": 119, "sched_setparam": 118,
        "sched_setattr": 274, "setpriority": 140, "ioprio_set": 30, "settimeofday": 170,
        "clock_settime": 112, "clock_adjtime": 266, "adjtimex": 171, "sethostname": 161,
        "setdomainname": 162, "syslog": 116, "mknodat": 33, "quotactl": 60, "acct": 89, "vhangup": 58,
        "reboot": 142, "kexec_load": 104, "kexec_file_load": 294, "init_module": 105, "finit_module": 273,
        "delete_module": 106, "swapon": 224, "swapoff": 225, "bpf": 280, "perf_event_open": 241,
        "userfaultfd": 282, "fanotify_init": 262, "lookup_dcookie": 18, "personality": 92, "keyctl": 219,
        "add_key": 217, "request_key": 218, "io_uring_setup": 425, "io_uring_enter": 426,
        "io_uring_register": 427, "fchmod": 52, "fchmodat": 53, "fchmodat2": 452, "fchown": 55, "fchownat": 54,
        "utimensat": 88, "setxattr": 5, "lsetxattr": 6, "fsetxattr": 7, "removexattr": 14, "lremovexattr": 15,
        "fremovexattr": 16, "setxattrat": 463, "removexattrat": 466, "flock": 32, "inotify_init1": 26,
        "inotify_add_watch": 27,
        "clone": 220, "clone3": 435, "kill": 129, "tgkill": 131, "socket": 198, "prlimit64": 261,
        "rt_sigqueueinfo": 138, "rt_tgsigqueueinfo": 240, "mmap": 222, "fcntl": 25,
    },
}


def denied(arch: str) -> tuple[str, ...]:
    """The system calls refused outright on arch (fork and a few others exist on x86-64 only)."""
    return _COMMON + (_X86_ONLY if arch == "x86_64" else ())


_CLONE_THREAD = 0x00010000
# fcntl commands that lock, lease, watch or signal through a file: F_GETLK, F_SETLK, F_SETLKW, F_SETOWN,
# F_SETSIG, F_SETOWN_EX, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW, F_SETLEASE, F_NOTIFY.
_FCNTL_REFUSED = (5, 6, 7, 8, 10, 15, 36, 37, 38, 1024, 1026)
_AF_UNIX = 1
_MAP_SHARED, _MAP_ANONYMOUS = 0x01, 0x20

_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_EPERM, _ENOSYS = 1, 38
_LD_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_JSET = 0x45  # BPF_JMP | BPF_JSET | BPF_K
_RET = 0x06  # BPF_RET | BPF_K
_OFF_NR, _OFF_ARCH = 0, 4


def _arg(index: int) -> int:
    """Offset of the low 32 bits of argument index in struct seccomp_data (little-endian)."""
    return 16 + 8 * index


class _Program:
    """A tiny BPF assembler: straight-line code with short forward jumps to labels."""

    def __init__(self) -> None:
        self.code: list[tuple[int, object, object, int]] = []
        self.labels: dict[str, int] = {}

    def op(self, code: int, k: int, jt: object = 0, jf: object = 0) -> int:
        """Append an instruction; returns its index."""
        self.code.append((code, jt, jf, k & 0xFFFFFFFF))
        return len(self.code) - 1

    def refuse_if(self, test: int, k: int, errno: int = _EPERM) -> None:
        """If the loaded word passes test against k, return errno; else go on (no long jump needed)."""
        self.op(test, k, 0, 1)
        self.op(_RET, _RET_ERRNO | errno)

    def label(self, name: str) -> None:
        self.labels[name] = len(self.code)

    def assemble(self) -> bytes:
        out = bytearray()
        for index, (code, jt, jf, k) in enumerate(self.code):
            offsets = [self.labels[j] - index - 1 if isinstance(j, str) else j for j in (jt, jf)]
            out += struct.pack("=HBBI", code, offsets[0], offsets[1], k)
        return bytes(out)


def program(arch: str, pid: int, shared_memory: bool) -> bytes:
    """The filter for the worker whose process id is pid.

    shared_memory: whether shared anonymous mappings are allowed (GPU workers,
    whose driver may need them, are limited by resident size instead).
    """
    template, slots = _template(arch, shared_memory)
    code = bytearray(template)
    for index, sign in slots:  # struct sock_filter: u16 code, u8 jt, u8 jf, u32 k
        struct.pack_into("=I", code, 8 * index + 4, (sign * pid) & 0xFFFFFFFF)
    return bytes(code)


@functools.cache
def _template(arch: str, shared_memory: bool) -> tuple[bytes, tuple[tuple[int, int], ...]]:
    """The filter with 0 for the worker's pid, and where the pid goes: (instruction, sign) pairs.

    Assembled once in the zygote (prepare), so a worker only writes its pid in.
    """
    pid = 0
    nr = NUMBERS[arch]
    p = _Program()
    p.op(_LD_ABS, _OFF_ARCH)
    p.op(_JEQ, AUDIT_ARCH[arch], 1, 0)
    p.op(_RET, _RET_ERRNO | _EPERM)  # foreign-architecture syscalls would dodge every check below
    p.op(_LD_ABS, _OFF_NR)
    if arch == "x86_64":
        p.refuse_if(_JGE, 0x40000000)  # the x32 ABI, same reason
    for name in denied(arch):
        p.refuse_if(_JEQ, nr[name])
    p.refuse_if(_JEQ, nr["clone3"], _ENOSYS)  # flags live in memory BPF cannot read; glibc falls back to clone
    p.op(_JEQ, nr["clone"], "clone", 0)
    p.op(_JEQ, nr["kill"], "kill", 0)
    p.op(_JEQ, nr["tgkill"], "self", 0)
    p.op(_JEQ, nr["rt_sigqueueinfo"], "self", 0)
    p.op(_JEQ, nr["rt_tgsigqueueinfo"], "self", 0)
    p.op(_JEQ, nr["prlimit64"], "self_or_zero", 0)
    p.op(_JEQ, nr["socket"], "socket", 0)
    p.op(_JEQ, nr["fcntl"], "fcntl", 0)
    if not shared_memory:
        p.op(_JEQ, nr["mmap"], "mmap", 0)
    p.op(_RET, _RET_ALLOW)
    slots = []
    p.label("clone")
    p.op(_LD_ABS, _arg(0))
    p.op(_JSET, _CLONE_THREAD, "allow", "deny")  # threads yes, processes no
    p.label("kill")
    p.op(_LD_ABS, _arg(0))
    slots.append((p.op(_JEQ, pid, "allow", 0), 1))
    p.op(_JEQ, 0, "allow", 0)  # own process group: only this process, as it cannot fork
    slots.append((p.op(_JEQ, -pid, "allow", "deny"), -1))
    p.label("self")
    p.op(_LD_ABS, _arg(0))
    slots.append((p.op(_JEQ, pid, "allow", "deny"), 1))
    p.label("self_or_zero")
    p.op(_LD_ABS, _arg(0))
    p.op(_JEQ, 0, "allow", 0)
    slots.append((p.op(_JEQ, pid, "allow", "deny"), 1))
    p.label("socket")
    p.op(_LD_ABS, _arg(0))
    p.op(_JEQ, _AF_UNIX, "allow", "deny")
    p.label("fcntl")
    p.op(_LD_ABS, _arg(1))
    for command in _FCNTL_REFUSED:
        p.op(_JEQ, command, "deny", 0)
    p.op(_RET, _RET_ALLOW)
    if not shared_memory:
        p.label("mmap")
        p.op(_LD_ABS, _arg(3))
        p.op(_JSET, _MAP_ANONYMOUS, 0, "allow")
        p.op(_JSET, _MAP_SHARED, "deny", "allow")
    p.label("allow")
    p.op(_RET, _RET_ALLOW)
    p.label("deny")
    p.op(_RET, _RET_ERRNO | _EPERM)
    return p.assemble(), tuple(slots)


def prepare(shared_memory: bool = False) -> None:
    """Assemble the filter once (in the zygote), so workers inherit it."""
    arch = platform.machine()
    if arch in AUDIT_ARCH:
        _template(arch, shared_memory)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2


def apply(shared_memory: bool) -> bool:
    """Install the filter for this process; False where the platform has no seccomp we know."""
    arch = platform.machine()
    if arch not in AUDIT_ARCH:
        return False
    code = program(arch, os.getpid(), shared_memory)
    buffer = ctypes.create_string_buffer(code, len(code))
    fprog = _SockFprog(len(code) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    lib = libc()
    if lib.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    return lib.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) == 0
