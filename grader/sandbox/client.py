"""The grading side of the sandbox: a fork server and the workers it forks.

``ForkServer`` starts the zygote in an isolated interpreter and asks it for
workers. ``Worker`` exchanges framed, data-only messages with one worker under
a deadline, drains what the worker prints so it can never block on a full
pipe, watches its memory and (where no tmpfs bounds it) its folder, and kills
the worker's whole process group when it misbehaves. Nothing a worker sends is
built before ``codec`` has measured it (``protocol`` frames and bounds it).
"""

from __future__ import annotations

import dataclasses
import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

import grader
from grader.errors import GraderError, UsageError
from grader.sandbox import codec, protocol
from grader.sandbox.layers import identity
from grader.sandbox.tree import remove_tree

_READ_CHUNK = 1 << 16
# Messages are read into one buffer per worker: a fresh 1 MB bytes object per read would cost an
# mmap, an mremap and a munmap each time (and TLB flushes on every core the process runs threads on).
_RECEIVE_CHUNK = 1 << 18
_POLL_SECONDS = 0.1
# Variables a worker may see; everything else (tokens, keys) stays outside.
_PASSED_ENV = ("CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH", "NVIDIA_VISIBLE_DEVICES", "CUDA_HOME")
_SCRATCH_PREFIX = "grader-work-"
_SCRATCH_ENTRIES = 10_000  # files and folders a worker may make where no tmpfs bounds them
_SCRATCH_DEPTH = 64  # how deep it may nest them there
_DRAIN_CHUNKS = 64  # reads of what a worker printed per drain: a worker printing without end cannot hold us


def worker_environment(threads: int = 1) -> dict[str, str]:
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "MALLOC_ARENA_MAX": "2",
        "CUBLAS_WORKSPACE_CONFIG": ":4096:8",
    }
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = str(threads)
    env.update({k: os.environ[k] for k in _PASSED_ENV if k in os.environ})
    return env


class SandboxError(GraderError):
    """The sandbox itself could not start or stopped answering."""


class WorkerGone(Exception):
    """The worker ended; status is its wait status, when known."""

    def __init__(self, status: int | None) -> None:
        super().__init__(status)
        self.status = status


class WorkerTimedOut(Exception):
    pass


class WorkerOverMemory(Exception):
    pass


class WorkerGarbled(Exception):
    """The worker sent bytes that are not a valid message."""


class WorkerOverDisk(Exception):
    """The worker wrote more into its folder than it may (where no tmpfs bounds it)."""


@dataclass(frozen=True)
class Affinity:
    """Where a pinned grading process runs: its own CPU, and the CPUs the whole grading run may use.

    Every worker runs on the grading process's CPU: the two take turns (a call, then its answer),
    and a pair on one CPU hands over without waking another CPU or moving its caches. The zygote
    may use any of spread, so it forks the next worker while the pair works.
    """

    cpu: int
    spread: frozenset[int]


class ForkServer:
    """One zygote, started lazily, shared by every worker of a grading run."""

    def __init__(self, preload: tuple[str, ...] = ("numpy",), threads: int = 1,
                 affinity: Affinity | None = None, many: bool = False, disk_mb: int = 256) -> None:
        """affinity: set where the grading process is pinned to a CPU (batch grading).

        many: the zygote will fork many workers (batch grading), so it spends a quarter of a second
        at start-up to make each fork cheaper (see zygote.compact_memory).
        disk_mb: what each worker may write in all (the size of its scratch tmpfs).
        """
        self.preload = preload
        self.threads = threads
        self.affinity = affinity
        self.many = many
        self.disk_mb = disk_mb
        self.identity_note = ""
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._control: protocol.Channel | None = None
        self._log = None
        self._ready = False
        self._owed = 0  # replies to kill requests not read yet
        self._scratch_root: str | None = None

    @property
    def scratch_root(self) -> str | None:
        """The folder holding each worker's own folder while this server runs (mode 711: none can list it)."""
        return self._scratch_root

    def start(self, timeout: float = 120.0) -> None:
        """Launch the zygote (if needed) and wait until it is ready to fork."""
        self.launch()
        if self._ready:
            return
        self._control.sock.settimeout(timeout)
        try:
            hello, _ = self._control.receive_with_fds()
        except (OSError, codec.DecodeError):
            hello = None
        if hello is None:
            raise SandboxError(f"the sandbox could not start:\n{self._log_text()}")
        missing = hello.get("failed") or {}
        if missing:
            self.close()
            details = "; ".join(f"{name}: {why}" for name, why in missing.items())
            raise SandboxError(f"the sandbox could not import what the assignment needs ({details})")
        self.identity_note = str(hello.get("identity_note") or "")
        if self.identity_note and os.environ.get(identity.SANDBOX_USER_ENV, "").strip():
            self.close()
            raise UsageError(f"${identity.SANDBOX_USER_ENV} asks for a user workers cannot become: "
                             f"{self.identity_note}")
        self._control.sock.settimeout(None)
        self._ready = True

    def launch(self) -> None:
        """Start the zygote without waiting for it: its imports overlap with the caller's work."""
        if self._process is not None:
            return
        if os.name != "posix":
            raise SandboxError("grading needs a POSIX system (Linux or macOS); on Windows, run it inside WSL")
        try:
            wanted = identity.requested_identity()
        except identity.IdentityError as exc:
            raise UsageError(str(exc)) from None
        self._scratch_root = _make_scratch_root()
        options = {
            "preload": list(self.preload),
            "spread": sorted(self.affinity.spread) if self.affinity else [],
            "many": self.many,
            "identity": dataclasses.asdict(wanted) if wanted is not None else None,
            "scratch_root": self._scratch_root,
            "disk_bytes": self.disk_mb * 1024 * 1024,
        }
        ours, theirs = socket.socketpair()
        self._log = tempfile.TemporaryFile()
        package_parent = os.path.dirname(os.path.dirname(os.path.abspath(grader.__file__)))
        bootstrap = (
            "import sys; sys.path.append(sys.argv[1]); "
            "from grader.sandbox.zygote import main; main(sys.argv[2:])"
        )
        self._process = subprocess.Popen(
            [sys.executable, "-I", "-c", bootstrap, package_parent, str(theirs.fileno()), json.dumps(options)],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
            env=worker_environment(self.threads), cwd=tempfile.gettempdir(), start_new_session=True,
        )
        theirs.close()
        self._control = protocol.Channel(ours)

    def _log_text(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read()[-4000:].decode(errors="replace")

    def _exchange(self, message: dict) -> tuple[dict, list[int]]:
        self.start()
        with self._lock:
            try:
                self._settle()
                self._control.send(message)
                reply, fds = self._control.receive_with_fds()
            except (OSError, codec.DecodeError) as exc:
                reply, fds = None, []
                reason = str(exc)
            else:
                reason = "no answer"
        if reply is None:
            raise SandboxError(f"the sandbox stopped answering ({reason}):\n{self._log_text()}")
        return reply, fds

    def fork(self, config: protocol.Config, limits: TransportLimits) -> Worker:
        """A worker (the zygote's spare) configured with config."""
        request: protocol.ForkRequest = {"op": "fork"}
        reply, fds = self._exchange(dict(request))
        if len(fds) != (3 if reply.get("pidfd") else 2):
            for fd in fds:
                os.close(fd)
            raise SandboxError(f"the sandbox handed over a worker without its channel:\n{self._log_text()}")
        host_pid = _host_pid(fds[2]) if len(fds) == 3 else None
        channel = socket.socket(fileno=fds[0])
        worker = Worker(self, int(reply["pid"]), channel, fds[1], limits, host_pid=host_pid,
                        scratch=str(reply["scratch"]), quota=bool(reply.get("quota")))
        if self.affinity is not None:
            config = {**config, "cpu": self.affinity.cpu}
        worker.send({**config, "kind": "config"}, timeout=60)
        return worker

    def reap(self, pid: int, kill: bool, wait: float = 0.0) -> int | None:
        """End a worker (when kill) and wait for its exit status."""
        request: protocol.ReapRequest = {"op": "reap", "pid": pid, "kill": kill, "wait": wait}
        return self._exchange(dict(request))[0].get("status")

    def kill(self, pid: int) -> None:
        """End a worker without waiting for the zygote's answer (read before the next exchange)."""
        self.start()
        request: protocol.KillRequest = {"op": "kill", "pid": pid}
        with self._lock:
            try:
                self._control.send(dict(request))
            except OSError as exc:
                raise SandboxError(f"the sandbox stopped answering ({exc}):\n{self._log_text()}") from None
            self._owed += 1

    def _settle(self) -> None:
        """Read the answers owed to earlier kill requests; the zygote answers in order."""
        while self._owed:
            self._control.receive_with_fds()
            self._owed -= 1

    def close(self) -> None:
        if self._control is not None:
            self._control.sock.close()
            self._control = None
        ready, self._ready = self._ready, False
        if self._process is not None:
            if not ready:  # still importing: nothing to clean up yet, so no reason to wait for its imports
                self._process.kill()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()  # the zygote dies with it, and the kernel ends every worker with the zygote
                self._process.wait()
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._scratch_root is not None:
            remove_tree(self._scratch_root)
            self._scratch_root = None

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _make_scratch_root() -> str:
    """A fresh folder for this run's workers, after removing those that crashed runs of this user left."""
    base = tempfile.gettempdir()
    try:
        names = os.listdir(base)
    except OSError:
        names = []
    for name in names:
        owner = name[len(_SCRATCH_PREFIX):].split("-", 1)[0]
        if not name.startswith(_SCRATCH_PREFIX) or not owner.isdigit() or _alive(int(owner)):
            continue
        path = os.path.join(base, name)
        try:
            if os.lstat(path).st_uid == os.getuid():
                remove_tree(path)
        except OSError:
            pass
    root = tempfile.mkdtemp(prefix=f"{_SCRATCH_PREFIX}{os.getpid()}-")
    os.chmod(root, 0o711)
    return root


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _host_pid(pidfd: int) -> int | None:
    """The worker's process id as this process sees it (the zygote sees it in a PID namespace of its own)."""
    try:
        with open(f"/proc/self/fdinfo/{pidfd}") as info:
            for line in info:
                if line.startswith("Pid:"):
                    pid = int(line.split()[1])
                    return pid if pid > 0 else None
    except (OSError, ValueError, IndexError):
        return None
    finally:
        os.close(pidfd)
    return None


@dataclass(frozen=True)
class TransportLimits:
    output_bytes: int = 1 << 20
    rss_bytes: int | None = None  # None: rely on the worker's data-memory rlimit
    disk_bytes: int = 256 * 1024 * 1024  # watched here only where the scratch folder is no tmpfs


class Worker:
    """One forked worker, as seen from the grading process."""

    def __init__(self, server: ForkServer, pid: int, sock: socket.socket, output_fd: int,
                 limits: TransportLimits, host_pid: int | None = None, scratch: str = "", quota: bool = True) -> None:
        """pid: as the zygote knows it; host_pid: as this process sees it in /proc (None where unknown)."""
        self.server = server
        self.pid = pid
        self.host_pid = host_pid if host_pid is not None else pid
        self.sock = sock
        self.sock.setblocking(False)
        self.output_fd = output_fd
        self.limits = limits
        self.scratch = scratch
        self.quota = quota
        self.output = bytearray()
        self.output_total = 0
        self.status: int | None = None
        self.alive = True
        self._frames = protocol.FrameReader()
        self._chunk = bytearray(_RECEIVE_CHUNK)
        self._encoder, self._decoder = codec.Encoder(), codec.Decoder()

    # -- output ------------------------------------------------------------------

    def _read_output(self) -> bool:
        try:
            chunk = os.read(self.output_fd, _READ_CHUNK)
        except BlockingIOError:
            return True
        if not chunk:
            return False
        self.output_total += len(chunk)
        room = self.limits.output_bytes - len(self.output)
        if room > 0:
            self.output += chunk[:room]
        return True

    def take_output(self) -> tuple[str, int]:
        """Everything printed since the last call, and how many bytes it really was."""
        if self.alive:
            self._drain_output(0)
        text = self.output.decode(errors="replace")
        total = self.output_total
        self.output.clear()
        self.output_total = 0
        return text, total

    def _drain_output(self, seconds: float) -> None:
        if self.output_fd < 0:
            return
        for _ in range(_DRAIN_CHUNKS):
            ready, _, _ = select.select([self.output_fd], [], [], seconds)
            if not ready or not self._read_output():
                return

    # -- messages ----------------------------------------------------------------

    def send(self, message: dict, timeout: float) -> None:
        data = protocol.frame(self._encoder.encode(message))
        deadline = time.monotonic() + timeout
        view = memoryview(data)
        while view:
            try:
                view = view[self.sock.send(view[: 1 << 20]):]
                continue
            except BlockingIOError:
                pass  # the worker is not reading yet: wait for room, draining its output meanwhile
            except OSError:
                self._gone()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._stop_for(WorkerTimedOut())
            readable = [self.output_fd] if self.output_fd >= 0 else []
            ready_read, _, _ = select.select(readable, [self.sock], [], min(remaining, _POLL_SECONDS))
            if ready_read and not self._read_output():
                self._close_output()
            self._check_limits()

    def receive(self, timeout: float) -> dict:
        """The worker's next message; raises if it hangs, dies, talks nonsense or uses too much."""
        deadline = time.monotonic() + timeout
        while True:
            message = self._next_message()
            if message is not None:
                return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._stop_for(WorkerTimedOut())
            readable = [self.sock] + ([self.output_fd] if self.output_fd >= 0 else [])
            ready, _, _ = select.select(readable, [], [], min(remaining, _POLL_SECONDS))
            if self.output_fd in ready and not self._read_output():
                self._close_output()
            if self.sock in ready:
                try:
                    size = self.sock.recv_into(self._chunk)
                except BlockingIOError:
                    size = None
                except OSError:
                    size = 0
                if size == 0:
                    self._gone()
                if size:
                    self._frames.feed(memoryview(self._chunk)[:size])
            self._check_limits()

    def _next_message(self) -> dict | None:
        try:
            body = self._frames.next_body()
            if body is None:
                return None
            message = self._decoder.decode(body)
        except codec.DecodeError as exc:
            self._stop_for(WorkerGarbled(str(exc)))
        if not isinstance(message, dict):
            self._stop_for(WorkerGarbled("a message that is not a mapping"))
        return message

    def _check_limits(self) -> None:
        if self.limits.rss_bytes is not None and self._resident() > self.limits.rss_bytes:
            self._stop_for(WorkerOverMemory())
        if not self.quota and self.scratch and _folder_bytes(self.scratch) > self.limits.disk_bytes:
            self._stop_for(WorkerOverDisk())

    def _resident(self) -> int:
        try:
            with open(f"/proc/{self.host_pid}/statm") as statm:
                return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return 0

    # -- ending ------------------------------------------------------------------

    def _close_output(self) -> None:
        os.close(self.output_fd)
        self.output_fd = -1

    def _gone(self):
        # The socket closed: give the process a moment to finish dying so its
        # exit status (crash signal, exit code) can be reported.
        self._drain_output(0)
        self.status = self.server.reap(self.pid, kill=False, wait=1.0)
        self._release()
        raise WorkerGone(self.status)

    def _stop_for(self, error: Exception):
        self.stop()
        raise error

    def stop(self) -> None:
        """Kill the worker's process group; its exit status is not needed, so nobody waits for it."""
        if not self.alive:
            return
        self._drain_output(0)
        self.server.kill(self.pid)
        self._release()

    def _release(self) -> None:
        self.alive = False
        self.sock.close()
        if self.output_fd >= 0:
            self._drain_output(0)
            self._close_output()


def _folder_bytes(path: str) -> int:
    """What a worker's folder holds on disk, counted without following links.

    Past the bound on entries or on depth it is too much, whatever the bytes:
    the walk costs this process time, and a worker may not make it costly.
    """
    total, entries, pending = 0, 0, [(path, 0)]
    while pending:
        folder, depth = pending.pop()
        try:
            with os.scandir(folder) as found:
                for entry in found:
                    entries += 1
                    if entries > _SCRATCH_ENTRIES:
                        return 1 << 62
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    total += info.st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        if depth >= _SCRATCH_DEPTH:
                            return 1 << 62
                        pending.append((entry.path, depth + 1))
        except OSError:
            continue
    return total
