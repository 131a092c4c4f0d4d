"""The fork server that makes sandbox workers cheap.

Started once per grading run in a fresh, isolated interpreter (``python -I``),
it imports NumPy (and PyTorch when an assignment needs it) and the worker code,
then forks one worker per request. A worker therefore costs a fork, not a new
interpreter and a 1.5 s torch import. The zygote never sees student code, never
imports the grading side or the reference solution, and never initialises
CUDA, so a forked worker starts clean.

Control protocol (one socket to the grader; requests answered in order):
  {"op": "fork", "config": {...}} + fds [channel, output] -> {"pid": int}
  {"op": "reap", "pid": int, "kill": bool, "wait": float}  -> {"status": int | None}
When the grader's end closes, the zygote kills its workers and exits.
"""

from __future__ import annotations

import importlib
import os
import signal
import socket
import sys
import time
import traceback

from grader.sandbox import codec

_MAX_FDS = 4


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


def _start_worker(control: socket.socket, fds: list[int], config: dict) -> None:
    """In the forked child: become a session leader, wire up fds, run the worker."""
    status = 70
    try:
        os.setsid()
        from grader.sandbox import hardening, worker

        hardening.die_with_parent()
        channel_fd, output_fd = fds
        control.detach()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        keep = sorted({0, 1, 2, channel_fd})
        low = 3
        for fd in keep[3:]:
            os.closerange(low, fd)
            low = fd + 1
        os.closerange(low, 1 << 16)
        for stream in (sys.stdout, sys.stderr):
            stream.reconfigure(line_buffering=True)
        worker.run(socket.socket(fileno=channel_fd), config)
        status = 0
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(status)


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


def _kill(pid: int) -> None:
    # The whole group: anything the worker managed to start dies with it.
    for kill in (os.killpg, os.kill):
        try:
            kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def serve(control: socket.socket, preload: list[str]) -> None:
    failed = {}
    for name in preload:
        try:
            importlib.import_module(name)
        except Exception as exc:  # reported to the grader, which decides what it means
            failed[name] = f"{type(exc).__name__}: {exc}"
    from grader.sandbox import worker  # noqa: F401  (imported now so forks share it)

    send_message(control, {"pid": os.getpid(), "failed": failed})
    workers: set[int] = set()
    try:
        while True:
            message, fds = recv_message(control)
            if message is None:
                break
            if message.get("op") == "fork":
                pid = os.fork()
                if pid == 0:
                    _start_worker(control, fds, message["config"])
                for fd in fds:
                    os.close(fd)
                workers.add(pid)
                send_message(control, {"pid": pid})
            elif message.get("op") == "reap":
                pid = int(message["pid"])
                status = _reap(pid, bool(message.get("kill")), float(message.get("wait", 0)))
                workers.discard(pid)
                send_message(control, {"status": status})
            else:
                send_message(control, {"error": f"unknown operation {message.get('op')!r}"})
    finally:
        for pid in workers:
            _reap(pid, kill=True, wait=0)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    control = socket.socket(fileno=int(argv[0]))
    preload = [name for name in (argv[1] if len(argv) > 1 else "").split(",") if name]
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    serve(control, preload)


if __name__ == "__main__":
    main()
