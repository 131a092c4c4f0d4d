"""The grading side of the sandbox: a fork server and the workers it forks.

``ForkServer`` starts the zygote in an isolated interpreter and asks it for
workers. ``Worker`` exchanges framed, data-only messages with one worker under
a deadline, drains what the worker prints so it can never block on a full
pipe, and kills the worker's whole process group when it misbehaves.
"""

from __future__ import annotations

import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

import grader
from grader.errors import GraderError
from grader.sandbox import codec
from grader.sandbox.zygote import recv_message, send_message

_READ_CHUNK = 1 << 16
# Messages are read into one buffer per worker: a fresh 1 MB bytes object per read would cost an
# mmap, an mremap and a munmap each time (and TLB flushes on every core the process runs threads on).
_RECEIVE_CHUNK = 1 << 18
_POLL_SECONDS = 0.1
# Variables a worker may see; everything else (tokens, keys) stays outside.
_PASSED_ENV = ("CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH", "NVIDIA_VISIBLE_DEVICES", "CUDA_HOME")


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
                 affinity: Affinity | None = None, many: bool = False) -> None:
        """affinity: set where the grading process is pinned to a CPU (batch grading).

        many: the zygote will fork many workers (batch grading), so it spends a quarter of a second
        at start-up to make each fork cheaper (see zygote.compact_memory).
        """
        self.preload = preload
        self.threads = threads
        self.affinity = affinity
        self.many = many
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._control: socket.socket | None = None
        self._log = None
        self._ready = False
        self._owed = 0  # replies to kill requests not read yet
        self._scratch_root: str | None = None

    @property
    def scratch_root(self) -> str:
        """The folder each worker's own folder is made in, for as long as this server runs.

        Only the grader lists it (mode 711): a worker can reach its own folder, not find others.
        """
        if self._scratch_root is None:
            self._scratch_root = tempfile.mkdtemp(prefix="grader-work-")
            os.chmod(self._scratch_root, 0o711)
        return self._scratch_root

    def start(self, timeout: float = 120.0) -> None:
        """Launch the zygote (if needed) and wait until it is ready to fork."""
        self.launch()
        if self._ready:
            return
        self._control.settimeout(timeout)
        try:
            hello, _ = recv_message(self._control)
        except (OSError, codec.DecodeError):
            hello = None
        if hello is None:
            raise SandboxError(f"the sandbox could not start:\n{self._log_text()}")
        missing = hello.get("failed") or {}
        if missing:
            self.close()
            details = "; ".join(f"{name}: {why}" for name, why in missing.items())
            raise SandboxError(f"the sandbox could not import what the assignment needs ({details})")
        self._control.settimeout(None)
        self._ready = True

    def launch(self) -> None:
        """Start the zygote without waiting for it: its imports overlap with the caller's work."""
        if self._process is not None:
            return
        if os.name != "posix":
            raise SandboxError("grading needs a POSIX system (Linux or macOS); on Windows, run it inside WSL")
        ours, theirs = socket.socketpair()
        self._log = tempfile.TemporaryFile()
        package_parent = os.path.dirname(os.path.dirname(os.path.abspath(grader.__file__)))
        bootstrap = (
            "import sys; sys.path.append(sys.argv[1]); "
            "from grader.sandbox.zygote import main; main(sys.argv[2:])"
        )
        self._process = subprocess.Popen(
            [sys.executable, "-I", "-c", bootstrap, package_parent, str(theirs.fileno()), ",".join(self.preload),
             ",".join(str(cpu) for cpu in sorted(self.affinity.spread)) if self.affinity else "",
             "many" if self.many else ""],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
            env=worker_environment(self.threads), cwd=tempfile.gettempdir(), start_new_session=True,
        )
        theirs.close()
        self._control = ours

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
                send_message(self._control, message)
                reply, fds = recv_message(self._control)
            except (OSError, codec.DecodeError) as exc:
                reply, fds = None, []
                reason = str(exc)
            else:
                reason = "no answer"
        if reply is None:
            raise SandboxError(f"the sandbox stopped answering ({reason}):\n{self._log_text()}")
        return reply, fds

    def _request(self, message: dict) -> dict:
        return self._exchange(message)[0]

    def fork(self, config: dict, limits: "TransportLimits") -> "Worker":
        """A worker (the zygote's spare) configured with config."""
        reply, fds = self._exchange({"op": "fork", "protected": list(config.get("protected", ())),
                                     "scratch_root": self.scratch_root})
        if len(fds) != 2:
            for fd in fds:
                os.close(fd)
            raise SandboxError(f"the sandbox handed over a worker without its channel:\n{self._log_text()}")
        channel = socket.socket(fileno=fds[0])
        worker = Worker(self, int(reply["pid"]), channel, fds[1], limits)
        if self.affinity is not None:
            config = {**config, "cpu": self.affinity.cpu}
        worker.send({"kind": "config", **config}, timeout=60)
        return worker

    def reap(self, pid: int, kill: bool, wait: float = 0.0) -> int | None:
        """End a worker (when kill) and wait for its exit status."""
        return self._request({"op": "reap", "pid": pid, "kill": kill, "wait": wait}).get("status")

    def kill(self, pid: int) -> None:
        """End a worker without waiting for the zygote's answer (read before the next exchange)."""
        self.start()
        with self._lock:
            try:
                send_message(self._control, {"op": "kill", "pid": pid})
            except OSError as exc:
                raise SandboxError(f"the sandbox stopped answering ({exc}):\n{self._log_text()}") from None
            self._owed += 1

    def _settle(self) -> None:
        """Read the answers owed to earlier kill requests; the zygote answers in order."""
        while self._owed:
            recv_message(self._control)
            self._owed -= 1

    def close(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        self._ready = False
        if self._process is not None:
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._scratch_root is not None:
            shutil.rmtree(self._scratch_root, ignore_errors=True)
            self._scratch_root = None

    def __enter__(self) -> "ForkServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass(frozen=True)
class TransportLimits:
    output_bytes: int = 1 << 20
    rss_bytes: int | None = None  # None: rely on the worker's data-memory rlimit


class Worker:
    """One forked worker, as seen from the grading process."""

    def __init__(self, server: ForkServer, pid: int, sock: socket.socket, output_fd: int,
                 limits: TransportLimits) -> None:
        self.server = server
        self.pid = pid
        self.sock = sock
        self.sock.setblocking(False)
        self.output_fd = output_fd
        self.limits = limits
        self.output = bytearray()
        self.output_total = 0
        self.status: int | None = None
        self.alive = True
        self._inbox = bytearray()
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
        while True:
            ready, _, _ = select.select([self.output_fd], [], [], seconds)
            if not ready or not self._read_output():
                return

    # -- messages ----------------------------------------------------------------

    def send(self, message: dict, timeout: float) -> None:
        data = codec.frame(self._encoder.encode(message))
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

    def receive(self, timeout: float) -> dict:
        """The worker's next message; raises if it hangs, dies or talks nonsense."""
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
                    self._inbox += memoryview(self._chunk)[:size]
            self._check_memory()

    def _next_message(self) -> dict | None:
        if len(self._inbox) < codec.HEADER_SIZE:
            return None
        try:
            length = codec.frame_length(bytes(self._inbox[: codec.HEADER_SIZE]))
        except codec.DecodeError as exc:
            self._stop_for(WorkerGarbled(str(exc)))
        end = codec.HEADER_SIZE + length
        if len(self._inbox) < end:
            return None
        body = bytes(self._inbox[codec.HEADER_SIZE:end])
        del self._inbox[:end]
        try:
            message = self._decoder.decode(body)
        except codec.DecodeError as exc:
            self._stop_for(WorkerGarbled(str(exc)))
        if not isinstance(message, dict):
            self._stop_for(WorkerGarbled("a message that is not a mapping"))
        return message

    def _check_memory(self) -> None:
        if self.limits.rss_bytes is None:
            return
        try:
            with open(f"/proc/{self.pid}/statm") as statm:
                resident = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return
        if resident > self.limits.rss_bytes:
            self._stop_for(WorkerOverMemory())

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
