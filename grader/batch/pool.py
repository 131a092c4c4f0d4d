"""Grading processes on this machine: started, fed one student at a time, and stopped leaving nothing behind.

Each grading process is a fresh interpreter (never a fork of this one, which may have initialised
CUDA), started in a session (and so a process group) of its own: a Ctrl-C at the terminal, or
``timeout -s INT`` signalling the whole group, reaches this process only, and this process decides. Each grading
process starts sandbox zygotes, which fork workers; all of them keep their temporary files in one
folder this pool made for the run.

Stopping, whether the work is done, a Ctrl-C came, or the caller gave up:

1. every grading process is told to stop: between students it simply exits; in the middle of one
   it abandons that student (its worker is killed, its scratch folder removed), closes its zygotes
   (which kill their spare workers) and exits;
2. what has not exited after a grace period (none, on a second Ctrl-C) is killed, together with
   every process it started: on Linux they are found through /proc, so a zygote still importing
   PyTorch, or a worker that has since changed its user, is not missed;
3. the run's temporary folder is removed.

No student is recorded from a grading process after it was told to stop; the journal only ever
holds finished students, so the next run resumes where this one stopped.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait

from grader.batch import work

GRACE_SECONDS = 1.5  # for grading processes to clean up after themselves when interrupted
CLOSE_SECONDS = 20.0  # for them to finish closing their zygotes when the work is done
_TICK_SECONDS = 0.05  # how soon a Ctrl-C is noticed while waiting for students
_POLL_SECONDS = 0.02
_BOOT = ("import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
         "from grader.batch.pool import child_main; child_main(sys.argv[2:])")


@dataclass
class _Grader:
    """One grading process, as this process sees it."""

    popen: subprocess.Popen
    channel: Connection
    cpu: int | None
    job: work.Job | None = None
    told_to_stop: bool = False

    @property
    def pid(self) -> int:
        return self.popen.pid


class Pool:
    """`processes` grading processes, each pinned to one of `cpus` when given."""

    def __init__(self, processes: int, cpus: tuple[int, ...] = ()) -> None:
        self.processes = max(1, processes)
        self.cpus = cpus
        self.graders: list[_Grader] = []
        self._finished: list[_Grader] = []
        self.folder: str | None = None
        self.interrupts = _Interrupts()

    # -- running --------------------------------------------------------------------------------

    def run(self, jobs: list[work.Job]) -> Iterator[work.Done]:
        """Start the grading processes now; the iterator yields every job's outcome as it finishes.

        A job whose grading process died is tried once more. From this call until close(), Ctrl-C
        (SIGINT) and SIGTERM are counted rather than raised wherever this process happens to be: the
        first makes the iterator raise KeyboardInterrupt, at a point where nothing is half done.
        """
        self.interrupts = _Interrupts()
        self.interrupts.install()
        if self.folder is None:
            self.folder = tempfile.mkdtemp(prefix="grade-batch-")
            os.chmod(self.folder, 0o711)  # workers that run as another user reach their own folders inside
        free_cpus = deque(self.cpus[: self.processes])
        for _ in range(min(self.processes, len(jobs))):
            self._start(free_cpus.popleft() if free_cpus else None)
        return self._outcomes(deque(jobs))

    def _outcomes(self, queue: deque[work.Job]) -> Iterator[work.Done]:
        attempts = {job.student: 0 for job in queue}
        while True:
            if self.interrupts.count:
                raise KeyboardInterrupt
            self._hand_out(queue)
            busy = [g for g in self.graders if g.job is not None]
            if not busy:
                return
            for channel in wait([g.channel for g in busy], timeout=_TICK_SECONDS):
                grader = next(g for g in busy if g.channel is channel)
                try:
                    done = channel.recv()
                except (EOFError, OSError):
                    done = self._replace(grader, queue, attempts)
                else:
                    grader.job = None
                    self._hand_out(queue)  # the next student, before the caller writes this one's files
                if done is not None:
                    yield done

    def _hand_out(self, queue: deque[work.Job]) -> None:
        for grader in self.graders:
            if grader.job is None and queue and not self.interrupts.count:
                grader.job = queue.popleft()
                try:
                    grader.channel.send(grader.job)
                except OSError:  # it died between students: its channel reads as ended when next waited on
                    pass

    def _replace(self, grader: _Grader, queue: deque, attempts: dict[str, int]) -> work.Done | None:
        """A grading process died (which student code cannot cause): its student is tried once more."""
        job = grader.job
        self.graders.remove(grader)
        self._finished.append(grader)
        grader.channel.close()
        grader.popen.wait()
        attempts[job.student] += 1
        if queue or attempts[job.student] == 1:
            self._start(grader.cpu)
        if attempts[job.student] > 1:
            return work.Done(job.student, "grader-error", None, "the grading process stopped unexpectedly, twice")
        queue.appendleft(job)
        return None

    def _start(self, cpu: int | None) -> None:
        ours, theirs = _channel_pair()
        environment = {**os.environ, "TMPDIR": self.folder}
        command = [sys.executable, "-I", "-c", _BOOT, json.dumps(sys.path), str(theirs.fileno()), str(os.getpid()),
                   "" if cpu is None else str(cpu), ",".join(map(str, self.cpus))]
        # A session of its own (so a process group of its own): a Ctrl-C at the terminal reaches this process only.
        popen = subprocess.Popen(command, pass_fds=[theirs.fileno()], env=environment, start_new_session=True,
                                 stdin=subprocess.DEVNULL)
        self.graders.append(_Grader(popen, ours, cpu))
        theirs.close()

    # -- stopping -------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop every grading process and everything it started, and remove the run's folder.

        After a Ctrl-C, students being graded are abandoned and the grading processes get a short
        grace period to clean up; a second Ctrl-C ends that at once. A Ctrl-C that comes while
        closing normally is passed on as KeyboardInterrupt once everything is stopped.
        """
        graders = self.graders + self._finished
        self.graders, self._finished = [], []
        self.interrupts.install()  # nothing below may be cut short by a KeyboardInterrupt
        interrupted = self.interrupts.count > 0
        abandoning = interrupted or any(g.job is not None for g in graders)  # students left half graded
        try:
            started = _descendants([g.pid for g in graders if g.popen.poll() is None])
            for grader in graders:
                if grader.popen.poll() is None and abandoning:
                    _signal(grader.pid, signal.SIGTERM)
                grader.channel.close()  # between students, the end of input is enough to end a grading process
            deadline = time.monotonic() + (GRACE_SECONDS if abandoning else CLOSE_SECONDS)
            while time.monotonic() < deadline and self.interrupts.count < 1 + interrupted:
                alive = [g.pid for g in graders if g.popen.poll() is None]
                if not alive:
                    break
                started.update(_descendants(alive))  # a zygote started a moment ago is not missed
                time.sleep(_POLL_SECONDS)
            for grader in graders:
                if grader.popen.poll() is None:
                    _signal(grader.pid, signal.SIGKILL)
            for grader in graders:
                grader.popen.wait()
            _kill_all(started)
            if self.folder is not None:
                shutil.rmtree(self.folder, ignore_errors=True)
                self.folder = None
        finally:
            self.interrupts.restore()
        if self.interrupts.count and not interrupted:
            raise KeyboardInterrupt


def _channel_pair() -> tuple[Connection, Connection]:
    ours, theirs = socket.socketpair()
    theirs.set_inheritable(True)
    return Connection(ours.detach()), Connection(theirs.detach())


def _signal(pid: int, number: signal.Signals) -> None:
    try:
        os.kill(pid, number)
    except (ProcessLookupError, PermissionError):
        pass


class _Interrupts:
    """Ctrl-C (SIGINT) and SIGTERM, counted while installed instead of raised at whatever line runs.

    Only the main thread can handle signals; elsewhere nothing is installed and the caller's
    own handling stays as it was.
    """

    def __init__(self) -> None:
        self.count = 0
        self._previous: dict[int, object] = {}

    def install(self) -> None:
        if self._previous or threading.current_thread() is not threading.main_thread():
            return
        for number in (signal.SIGINT, signal.SIGTERM):
            self._previous[number] = signal.signal(number, self._counted)

    def _counted(self, *_) -> None:
        self.count += 1

    def restore(self) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)
        self._previous.clear()


# -- the processes a grading process started --------------------------------------------------------


def _process_table() -> dict[int, tuple[int, int, str]]:
    """pid -> (parent pid, start time, state) of every process, from /proc (Linux); {} elsewhere."""
    table = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return table
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as status:
                data = status.read()
        except OSError:
            continue
        fields = data[data.rfind(b")") + 2:].split()  # the command name may hold spaces and brackets
        if len(fields) > 19:
            table[int(name)] = (int(fields[1]), int(fields[19]), fields[0].decode())
    return table


def _descendants(pids: list[int]) -> dict[int, int]:
    """Every process below pids, as pid -> start time (which tells a reused pid from the original)."""
    table = _process_table()
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in table.items():
        children.setdefault(parent, []).append(pid)
    found: dict[int, int] = {}
    pending = list(pids)
    while pending:
        for child in children.get(pending.pop(), ()):
            if child not in found:
                found[child] = table[child][1]
                pending.append(child)
    return found


def _kill_all(known: dict[int, int]) -> None:
    """Kill the known processes still running and whatever they started, until none is left."""
    for _ in range(50):
        table = _process_table()
        alive = [pid for pid, start in known.items()
                 if pid in table and table[pid][1] == start and table[pid][2] != "Z"]
        if not alive:
            return
        known.update(_descendants(alive))
        for pid in alive:
            _signal(pid, signal.SIGKILL)
        time.sleep(_POLL_SECONDS)


# -- inside a grading process -----------------------------------------------------------------------


class _Stop(BaseException):
    """Raised in a grading process told to stop; it unwinds whatever was being graded."""


def _stop(*_) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: the clean-up itself is not interrupted
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise _Stop


def child_main(argv: list[str]) -> None:
    """A grading process: students in from the channel, outcomes back, until told to stop."""
    fd, parent, cpu, cpus = int(argv[0]), int(argv[1]), argv[2], argv[3]
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    _stop_with_parent(parent)
    channel = Connection(fd)
    try:
        if cpu:
            work.pin(int(cpu), tuple(int(c) for c in cpus.split(",")))
        while True:
            try:
                job = channel.recv()
            except (EOFError, OSError):
                break
            try:
                done = work.run(job)
            except Exception as exc:  # a bug in the grader: that student's row says so, the batch goes on
                done = work.Done(job.student, "grader-error", None,
                                 f"the grader failed: {type(exc).__name__}: {exc}\n{traceback.format_exc()}")
            channel.send(done)
    except _Stop:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        work.close_all()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)  # without PyTorch's slow teardown: everything this process started is closed


def _stop_with_parent(parent: int) -> None:
    """Be told to stop (SIGTERM) when the process that started this one dies (Linux)."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # it died before the request could take effect
        raise SystemExit(0)
