"""The fork server that makes sandbox workers cheap, in a world of its own.

Started once per grading run in a fresh, isolated interpreter (``python -I``),
it first leaves the host's namespaces (``layers.namespaces.isolate``: its own
PID, mount, network, IPC and UTS namespaces, in a user namespace when the
grader is not root), then imports NumPy (and PyTorch when an assignment needs
it) and the worker code, and forks one worker per request. A worker therefore
costs a fork, not a new interpreter and a 1.5 s torch import. The zygote never
sees student code, never imports the grading side or the reference solution,
never initialises CUDA and forks from a single thread (a fork copies only the
thread that calls it, so a library whose threads stayed behind could hang in
the worker; OpenBLAS ends its own at a fork), so a forked worker starts clean.
PyTorch's thread count is therefore set by each worker, not here: above one
it starts a thread.

Before its first fork the zygote rehearses what every worker does, on sample
code of its own (worker.rehearse), so that the caches and specialised bytecode
that creates are inherited rather than rebuilt, and copied, by each worker.

A spare worker is always forked ahead of time, with its own scratch folder
(a size-limited tmpfs where the zygote may mount), so handing one out costs no
fork. The grader receives the spare's ends of the channel and output pipe (and
a pidfd) with the reply, sends the configuration, and the zygote forks the
next spare while the grader works. A zygote that will fork many workers (batch
grading) also folds its memory into huge pages (compact_memory).

The zygote is the first process of its PID namespace: when it ends, however it
ends, the kernel ends every worker. When the grader's end of the control
channel closes, it kills its workers, removes every scratch folder and exits.
The messages are ``protocol.ForkRequest``, ``ReapRequest`` and ``KillRequest``.
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import json
import os
import select
import signal
import socket
import sys
import time
import traceback

from grader.sandbox import protocol
from grader.sandbox.layers import identity, landlock, limits, namespaces
from grader.sandbox.tree import remove_tree

_COLLECT_SECONDS = 0.02  # how often killed workers are looked for while any has not died yet


def _start_worker(control: socket.socket, channel_fd: int, output_fd: int, scratch: str, quota: bool) -> None:
    """In the forked child: become a session leader, wire up fds, then serve as a worker."""
    status = 70
    try:
        os.setsid()
        from grader.sandbox import hardening, worker

        identity.die_with_parent()
        control.detach()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        keep = sorted({0, 1, 2, channel_fd, *hardening.inherited_fds()})
        low = 3
        for fd in keep[3:]:
            os.closerange(low, fd)
            low = fd + 1
        os.closerange(low, 1 << 16)
        for stream in (sys.stdout, sys.stderr):
            stream.reconfigure(line_buffering=True)
        worker.run(socket.socket(fileno=channel_fd), scratch, quota)
        status = 0
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(status)


class _Spare:
    """A forked worker waiting for its configuration, and the zygote's copies of its grader-side ends."""

    def __init__(self, control: protocol.Channel, scratch: str, quota: bool) -> None:
        ours, theirs = socket.socketpair()
        read_end, write_end = os.pipe()
        self.scratch, self.quota = scratch, quota
        self.pid = os.fork()
        if self.pid == 0:
            _start_worker(control.sock, theirs.fileno(), write_end, scratch, quota)
        theirs.close()
        os.close(write_end)
        self.channel, self.output = ours, read_end

    def alive(self) -> bool:
        try:
            return os.waitpid(self.pid, os.WNOHANG)[0] == 0
        except ChildProcessError:
            return False

    def hand_over(self, control: protocol.Channel) -> int:
        pidfd = _pidfd(self.pid)
        fds = (self.channel.fileno(), self.output) + ((pidfd,) if pidfd >= 0 else ())
        reply: protocol.ForkReply = {"pid": self.pid, "scratch": self.scratch, "quota": self.quota,
                                     "pidfd": pidfd >= 0}
        control.send(dict(reply), fds)
        self.channel.close()
        os.close(self.output)
        if pidfd >= 0:
            os.close(pidfd)
        return self.pid

    def discard(self) -> None:
        _reap(self.pid, kill=True, wait=0)
        self.channel.close()
        os.close(self.output)


def _pidfd(pid: int) -> int:
    """A descriptor for the worker that the grading process can use whatever PID namespace it is in."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return -1


def _reap(pid: int, kill: bool, wait: float) -> int | None:
    if kill:
        _kill(pid)
    deadline = time.monotonic() + wait
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if done:
            return status
        if time.monotonic() >= deadline:
            _kill(pid)
            try:
                return os.waitpid(pid, 0)[1]
            except ChildProcessError:
                return None
        time.sleep(0.005)


def _reaped(pids: set[int]) -> set[int]:
    """Those of pids that have ended, collected so they leave no zombies."""
    done = set()
    for pid in pids:
        try:
            if os.waitpid(pid, os.WNOHANG)[0]:
                done.add(pid)
        except ChildProcessError:
            done.add(pid)
    return done


def _kill(pid: int) -> None:
    # The whole group: anything the worker managed to start dies with it.
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


class _Scratches:
    """Each worker's own folder, made before its fork and removed once it has ended."""

    def __init__(self, root: str, quota_bytes: int) -> None:
        self.root = root
        self.quota_bytes = quota_bytes
        self.by_pid: dict[int, str] = {}

    def make(self) -> tuple[str, bool]:
        return namespaces.make_scratch(self.root, namespaces.STATE.identity, self.quota_bytes)

    def ended(self, pid: int) -> None:
        path = self.by_pid.pop(pid, None)
        if path is not None:
            namespaces.remove_scratch(path)

    def remove_all(self) -> None:
        for pid in list(self.by_pid):
            self.ended(pid)
        remove_tree(self.root)


def serve(control: protocol.Channel, preload: list[str], scratches: _Scratches, many: bool = False) -> None:
    """many: this zygote will fork many workers (batch grading); see the module's description."""
    failed = {}
    for name in preload:
        try:
            importlib.import_module(name)
        except Exception as exc:  # reported to the grader, which decides what it means
            failed[name] = f"{type(exc).__name__}: {exc}"
    from grader.sandbox import hardening, tracing, worker  # imported now so forks share them

    hardening.prepare()
    tracing.arm()  # the autograd watch in place once, for every worker (each arms again: idempotent)
    if "numpy" in sys.modules:
        import numpy.random  # noqa: F401  (NumPy 2 loads it lazily: 15 ms in every worker otherwise)
        try:
            worker.rehearse()
        except Exception:  # it only saves time: grading goes on without it, and the log says why
            traceback.print_exc()

    # Everything loaded so far is shared with every fork. Frozen objects are never
    # traversed by the collector again, so a worker does not copy the pages it
    # merely inherited just to scan them. Only the young generations are collected
    # first: a full collection with PyTorch loaded walks ~170,000 objects (0.1-0.35 s
    # before the first worker, in every run) to free a few dozen.
    gc.collect(1)
    if many:
        compact_memory()
    gc.freeze()
    hello: protocol.Hello = {"pid": os.getpid(), "failed": failed, "identity_note": namespaces.STATE.identity_note}
    control.send(dict(hello))
    workers: set[int] = set()
    killed: set[int] = set()  # killed but perhaps not dead yet; their status is not wanted
    spare = _Spare(control, *scratches.make())
    try:
        while True:
            # Killed workers are collected as soon as they die, so none lingers as a zombie. They are
            # polled for rather than caught by SIGCHLD: a signal that lands just before a blocking
            # receive is only handled once the next request arrives, which may be never.
            for pid in _reaped(killed):
                killed.discard(pid)
                scratches.ended(pid)
            if killed and not select.select([control.sock], [], [], _COLLECT_SECONDS)[0]:
                continue
            message, fds = control.receive_with_fds()
            if message is None:
                break
            for fd in fds:
                os.close(fd)
            for pid in _reaped(killed):  # whatever ended before this request is collected before its answer
                killed.discard(pid)
                scratches.ended(pid)
            op = message.get("op")
            if op == "fork":
                if not spare.alive():
                    spare.discard()
                    namespaces.remove_scratch(spare.scratch)
                    spare = _Spare(control, *scratches.make())
                scratches.by_pid[spare.pid] = spare.scratch
                workers.add(spare.hand_over(control))
                spare = _Spare(control, *scratches.make())  # the next one, while the grader works
            elif op == "kill":
                pid = int(message["pid"])
                workers.discard(pid)
                killed.add(pid)
                _kill(pid)
                control.send({})
            elif op == "reap":
                pid = int(message["pid"])
                status = _reap(pid, bool(message.get("kill")), float(message.get("wait", 0)))
                workers.discard(pid)
                scratches.ended(pid)
                reply: protocol.ReapReply = {"status": status}
                control.send(dict(reply))
            else:
                control.send({"error": f"unknown operation {op!r}"})
    finally:
        spare.discard()
        namespaces.remove_scratch(spare.scratch)
        for pid in workers | killed:
            _reap(pid, kill=True, wait=0)
        scratches.remove_all()


_MADV_COLLAPSE = 25  # Linux 6.1+


def compact_memory() -> None:
    """Fold the zygote's heap and anonymous memory into huge pages, where the kernel can (Linux 6.1+).

    Forking copies the page table of every private page and a worker's exit takes it apart
    again: with PyTorch loaded that is ~37,000 entries each way, about 14 ms per worker. In huge
    pages it is ~60 entries; a worker that writes to one gets its own copy of just the 4 KB it
    wrote. The pages the zygote itself writes to while serving go back to 4 KB entries after its
    first fork (about 30 MB of ~150) and stay so. Folding costs ~0.25 s once, so it is for
    zygotes that will fork many workers.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        with open("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size") as size:
            huge = int(size.read())  # 2 MB on x86-64; more on some arm64 kernels
        with open("/proc/self/maps") as maps:
            regions = [line.split() for line in maps]
        madvise = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, ValueError, AttributeError):  # no transparent huge pages here
        return
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    for fields in regions:
        # Private writable memory that is not a file's: the heap and anonymous maps.
        if len(fields) < 5 or fields[1] != "rw-p" or fields[5:] not in ([], ["[heap]"]):
            continue
        low, high = (int(address, 16) for address in fields[0].split("-"))
        start, end = -(-low // huge) * huge, high // huge * huge
        if end > start:
            madvise(start, end - start, _MADV_COLLAPSE)  # refused (thread stacks, old kernels): left as it is


def main(argv: list[str] | None = None) -> None:
    """argv: the control socket's descriptor, then the options as JSON (see client.ForkServer.launch)."""
    argv = sys.argv[1:] if argv is None else argv
    control_fd = int(argv[0])
    options = json.loads(argv[1])
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if options.get("spread"):  # started by a grading process pinned to one CPU: the zygote may use all the run's CPUs
        limits.run_on(set(options["spread"]))
    who = options.get("identity")
    wanted = identity.Identity(**who) if isinstance(who, dict) else None
    scratch_root = options["scratch_root"]
    namespaces.isolate(wanted, landlock.runtime_roots(), (scratch_root,), close_in_parent=(control_fd,))
    control = protocol.Channel(socket.socket(fileno=control_fd))
    scratches = _Scratches(scratch_root, int(options.get("disk_bytes", 0)))
    status = 0
    try:
        serve(control, list(options.get("preload", ())), scratches, many=bool(options.get("many")))
    except BaseException:  # the grader's end closing mid-message (a reset) lands here too
        traceback.print_exc()
        status = 1
    finally:
        scratches.remove_all()
    # Everything is cleaned up: leave without tearing down PyTorch's and NumPy's modules, which
    # kept the grader waiting 0.2-0.6 s at the end of every run.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    main()
