"""The fork server that makes sandbox workers cheap.

Started once per grading run in a fresh, isolated interpreter (``python -I``),
it imports NumPy (and PyTorch when an assignment needs it) and the worker code,
then forks one worker per request. A worker therefore costs a fork, not a new
interpreter and a 1.5 s torch import. The zygote never sees student code, never
imports the grading side or the reference solution, never initialises CUDA
and forks from a single thread (a fork copies only the thread that calls it,
so a library whose threads stayed behind could hang in the worker; OpenBLAS
ends its own at a fork), so a forked worker starts clean. PyTorch's thread
count is therefore set by each worker, not here: above one it starts a thread.

Before its first fork the zygote rehearses what every worker does, on sample
code of its own (worker.rehearse), so that the caches and specialised bytecode
that creates are inherited rather than rebuilt, and copied, by each worker.

A spare worker is always forked ahead of time, so handing one out costs no
fork: the spare sets up its channel and output pipe, then waits for its
configuration on the channel. The grader receives the spare's ends of the
channel and pipe with the reply, sends the configuration, and the zygote forks
the next spare while the grader works. A zygote that will fork many workers
(batch grading) also folds its memory into huge pages (compact_memory).

In batch grading each grading process is pinned to a CPU; the zygote may use
all the run's CPUs, and each worker moves to its grading process's CPU.

Control protocol (one socket to the grader; requests answered in order):
  {"op": "fork", "protected": [...], "scratch_root": str}   -> {"pid": int} + fds [channel, output]
  {"op": "reap", "pid": int, "kill": bool, "wait": float}  -> {"status": int | None}
  {"op": "kill", "pid": int}                               -> {} (reaped in the background)
When the grader's end closes, the zygote kills its workers and exits.
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import os
import select
import signal
import socket
import sys
import time
import traceback

from grader.sandbox import codec

_MAX_FDS = 4
_COLLECT_SECONDS = 0.02  # how often killed workers are looked for while any has not died yet


def send_message(sock: socket.socket, message: dict, fds: list[int] | tuple[int, ...] = ()) -> None:
    data = codec.frame(codec.Encoder().encode(message))
    if fds:
        sent = socket.send_fds(sock, [data], list(fds))
        data = data[sent:]
    if data:
        sock.sendall(data)


def recv_message(sock: socket.socket) -> tuple[dict | None, list[int]]:
    """The next message and any file descriptors sent with it; (None, []) at EOF."""
    header, fds = bytearray(), []
    while len(header) < codec.HEADER_SIZE:
        data, new_fds, _flags, _addr = socket.recv_fds(sock, codec.HEADER_SIZE - len(header), _MAX_FDS)
        fds.extend(new_fds)
        if not data:
            for fd in fds:
                os.close(fd)
            return None, []
        header += data
    length = codec.frame_length(bytes(header))
    body = bytearray()
    while len(body) < length:
        chunk = sock.recv(length - len(body))
        if not chunk:
            return None, []
        body += chunk
    return codec.Decoder().decode(bytes(body)), fds


def _start_worker(control: socket.socket, channel_fd: int, output_fd: int) -> None:
    """In the forked child: become a session leader, wire up fds, then serve as a worker."""
    status = 70
    try:
        os.setsid()
        from grader.sandbox import hardening, worker

        hardening.die_with_parent()
        control.detach()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        keep = sorted({0, 1, 2, channel_fd, *hardening.shared_layer_fds()})
        low = 3
        for fd in keep[3:]:
            os.closerange(low, fd)
            low = fd + 1
        os.closerange(low, 1 << 16)
        for stream in (sys.stdout, sys.stderr):
            stream.reconfigure(line_buffering=True)
        worker.run(socket.socket(fileno=channel_fd))
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

    def __init__(self, control: socket.socket) -> None:
        ours, theirs = socket.socketpair()
        read_end, write_end = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            _start_worker(control, theirs.fileno(), write_end)
        theirs.close()
        os.close(write_end)
        self.channel, self.output = ours, read_end

    def alive(self) -> bool:
        try:
            return os.waitpid(self.pid, os.WNOHANG)[0] == 0
        except ChildProcessError:
            return False

    def hand_over(self, control: socket.socket) -> int:
        send_message(control, {"pid": self.pid}, (self.channel.fileno(), self.output))
        self.channel.close()
        os.close(self.output)
        return self.pid

    def discard(self) -> None:
        _reap(self.pid, kill=True, wait=0)
        self.channel.close()
        os.close(self.output)


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


def serve(control: socket.socket, preload: list[str], many: bool = False) -> None:
    """many: this zygote will fork many workers (batch grading); see the module's description."""
    failed = {}
    for name in preload:
        try:
            importlib.import_module(name)
        except Exception as exc:  # reported to the grader, which decides what it means
            failed[name] = f"{type(exc).__name__}: {exc}"
    from grader.sandbox import hardening, worker  # imported now so forks share them

    hardening.prepare()

    if "numpy" in sys.modules:
        import numpy.random  # noqa: F401  (NumPy 2 loads it lazily: 15 ms in every worker otherwise)
        try:
            worker.rehearse()
        except Exception:  # it only saves time: grading goes on without it, and the log says why
            traceback.print_exc()

    # Everything loaded so far is shared with every fork. Frozen objects are never
    # traversed by the collector again, so a worker does not copy the pages it
    # merely inherited just to scan them.
    gc.collect()
    if many:
        compact_memory()
    gc.freeze()
    send_message(control, {"pid": os.getpid(), "failed": failed})
    workers: set[int] = set()
    killed: set[int] = set()  # killed but perhaps not dead yet; their status is not wanted
    spare = _Spare(control)
    try:
        while True:
            # Killed workers are collected as soon as they die, so none lingers as a zombie. They are
            # polled for rather than caught by SIGCHLD: a signal that lands just before a blocking
            # receive is only handled once the next request arrives, which may be never.
            killed -= _reaped(killed)
            if killed and not select.select([control], [], [], _COLLECT_SECONDS)[0]:
                continue
            message, fds = recv_message(control)
            if message is None:
                break
            for fd in fds:
                os.close(fd)
            killed -= _reaped(killed)  # whatever ended before this request is collected before its answer
            if message.get("op") == "fork":
                if not spare.alive():
                    spare.discard()
                    spare = _Spare(control)
                workers.add(spare.hand_over(control))
                # for the spares to come
                hardening.prepare(tuple(message.get("protected") or ()), message.get("scratch_root"))
                spare = _Spare(control)  # the next one, while the grader works
            elif message.get("op") == "kill":
                pid = int(message["pid"])
                workers.discard(pid)
                killed.add(pid)
                _kill(pid)
                send_message(control, {})
            elif message.get("op") == "reap":
                pid = int(message["pid"])
                status = _reap(pid, bool(message.get("kill")), float(message.get("wait", 0)))
                workers.discard(pid)
                send_message(control, {"status": status})
            else:
                send_message(control, {"error": f"unknown operation {message.get('op')!r}"})
    finally:
        spare.discard()
        for pid in workers | killed:
            _reap(pid, kill=True, wait=0)


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


def run_on(cpus: set[int]) -> None:
    """Keep this process on cpus, where the platform allows it (Linux); elsewhere nothing changes."""
    if hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, cpus)
        except OSError:  # a CPU that is not ours (any more): stay where we are
            pass


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    control = socket.socket(fileno=int(argv[0]))
    preload = [name for name in (argv[1] if len(argv) > 1 else "").split(",") if name]
    spread = {int(cpu) for cpu in (argv[2] if len(argv) > 2 else "").split(",") if cpu}
    if spread:  # started by a grading process pinned to one CPU: the zygote may use all the run's CPUs
        run_on(spread)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    serve(control, preload, many=len(argv) > 3 and argv[3] == "many")


if __name__ == "__main__":
    main()
