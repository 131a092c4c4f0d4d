"""The kernel's side of %grade: collect the cells run so far, ask the grading process, show its answer.

This module runs inside the student's kernel, so it decides nothing: it sends text (IPython's
record of what was typed, ``In[]``) and shows the report that comes back. It imports no part of
the grading side (no checks, no reference, no sandbox client).
"""

from __future__ import annotations

import atexit
import itertools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display

from grader.jupyter import protocol

DEVICES = ("auto", "cpu", "cuda")
_INTERRUPT_GRACE = 15.0  # seconds an interrupted grade has to say it stopped, before the service is replaced


class Connection:
    """The grading process beside this kernel: started on first use, replaced if it dies."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.sock: socket.socket | None = None
        self._log: Any = None
        self._ids = itertools.count(1)

    def start(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        self.close()
        ours, theirs = socket.socketpair()
        self._log = tempfile.TemporaryFile()
        package_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        # The student's folder is not on the path: a numpy.py of theirs must not be imported in grading.
        bootstrap = ("import sys; sys.path[0] = sys.argv[1]; "
                     "from grader.jupyter.service import main; main(sys.argv[2:])")
        self.process = subprocess.Popen(
            [sys.executable, "-c", bootstrap, package_parent, str(theirs.fileno()), str(os.getpid())],
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
            cwd=tempfile.gettempdir(), start_new_session=True)  # the notebook's interrupts are forwarded, not shared
        theirs.close()
        self.sock = ours

    def ask(self, request: dict[str, Any]) -> protocol.Reply:
        """Send request and wait for its reply; an interrupt stops the grade in the grading process too."""
        self.start()
        request = {**request, "id": next(self._ids)}
        try:
            protocol.send(self.sock, request)
            return self._reply(request["id"])
        except KeyboardInterrupt:
            self._interrupt(request["id"])
            raise
        except (OSError, protocol.ProtocolError) as exc:
            log = self._log_tail()
            self.close()
            raise UsageError(f"The grader's process stopped ({exc}); %grade will start it again.\n{log}") from None

    def tell(self, request: dict[str, Any]) -> None:
        """Send request without waiting (its reply is read, and dropped, before the next one's)."""
        try:
            self.start()
            protocol.send(self.sock, {**request, "id": next(self._ids)})
        except OSError:
            self.close()

    def _reply(self, wanted: int) -> protocol.Reply:
        while True:
            message = protocol.receive(self.sock)
            if message is None:
                raise OSError("it closed the connection")
            if message.get("id") == wanted:
                return message  # type: ignore[return-value]

    def _interrupt(self, wanted: int) -> None:
        """Stop the grade in progress; a service that does not answer in time is replaced."""
        try:
            self.process.send_signal(signal.SIGINT)
            self.sock.settimeout(_INTERRUPT_GRACE)
            self._reply(wanted)
            self.sock.settimeout(None)
        except (OSError, protocol.ProtocolError, KeyboardInterrupt, AttributeError):
            self.close()

    def _log_tail(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read()[-2000:].decode(errors="replace")

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.process is not None:
            try:
                self.process.wait(timeout=15)  # it closes its sandboxes when the socket closes
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None


@magics_class
class GradeMagics(Magics):
    def __init__(self, shell: Any, connection: Connection) -> None:
        super().__init__(shell)
        self.connection = connection
        self.interrupted: set[int] = set()  # cells stopped here midway (known from %load_ext on)
        shell.events.register("post_run_cell", self._after_cell)

    def _after_cell(self, result: Any) -> None:
        if isinstance(result.error_in_exec, KeyboardInterrupt) and result.execution_count:
            self.interrupted.add(int(result.execution_count))

    @magic_arguments()
    @argument("names", nargs="*", metavar="NAME", help="grade only these checks, or the checks of these functions")
    @argument("-a", "--assignment", default="", help="the assignment (default: the one whose folder this kernel "
                                                       "works in, or whose name the notebook has)")
    @argument("--seed", type=int, default=None, help="seed for the random inputs (reproduces a run)")
    @argument("--device", default="auto", choices=DEVICES, help="where tensors go (default: auto)")
    @line_magic
    def grade(self, line: str) -> None:
        """Grade the code this kernel has run, in the order it ran, in the grader's sandbox.

        %grade                 every check of the assignment
        %grade naive_add       the checks of naive_add (or the check so named)
        %grade -a assignment2  when the notebook is not in the assignment's folder
        """
        args = parse_argstring(self.grade, line)
        cells = [[number, source] for number, source in enumerate(self.shell.history_manager.input_hist_raw)
                 if number > 0 and source.strip()]
        started = time.perf_counter()
        reply = self.connection.ask({"op": "grade", **_place(), "assignment": args.assignment, "names": args.names,
                                     "cells": cells, "interrupted": sorted(self.interrupted), "seed": args.seed,
                                     "device": args.device})
        if not reply.get("ok"):
            raise UsageError(str(reply.get("error") or "grading failed"))
        seconds = time.perf_counter() - started
        display({"text/html": reply["html"], "text/plain": reply["text"]}, raw=True,
                metadata={"grader": {"assignment": reply.get("assignment"), "score": reply.get("score"),
                                     "max_score": reply.get("max_score"), "seconds": round(seconds, 3)}})


def _place() -> dict[str, str]:
    return {"cwd": os.getcwd(), "notebook": os.environ.get("JPY_SESSION_NAME", "")}


_connection: Connection | None = None


def load(shell: Any) -> None:
    """%load_ext grader: register %grade and get the grading process ready while the student works."""
    global _connection
    if _connection is None:
        _connection = Connection()
        atexit.register(_connection.close)
    shell.register_magics(GradeMagics(shell, _connection))
    _connection.tell({"op": "warm", **_place(), "assignment": ""})


def unload(shell: Any) -> None:
    global _connection
    if _connection is not None:
        _connection.close()
        atexit.unregister(_connection.close)
        _connection = None
