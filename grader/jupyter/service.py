"""The grading process beside a Jupyter kernel: it grades the cells the kernel sends, in the sandbox.

Started by ``%load_ext grader`` (``magic.Connection``) in a session of its own, with one end of a
socket pair; it serves requests one at a time until the kernel's end closes, and ends with the
kernel however the kernel ends (the kernel closing the socket, or, if the kernel is killed, a
SIGTERM the kernel's death sends). For each assignment it keeps the checks loaded and one fork
server whose zygote stays warm; every grade is still a new session, whose worker is a fresh
fork. A SIGINT (the kernel forwards the notebook's interrupt) stops the grade in progress; that
assignment's sandbox is then started again, since an interrupted exchange may leave it mid-message.

Student code never runs here: the cells arrive as text and go to the sandbox as units, exactly as
a notebook's cells do when ``grade`` grades an .ipynb file.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
import traceback
from pathlib import Path
from typing import Any

from grader.api import grade, load_reference
from grader.course import Assignment, find_course, list_assignments, load_assignment
from grader.errors import GraderError, GraderFault, UsageError
from grader.jupyter import protocol
from grader.model import LoadNote
from grader.notebooks import history_units
from grader.report import html, text
from grader.sandbox.client import ForkServer, SandboxError
from grader.submission import Submission, cells_digest

_PR_SET_PDEATHSIG = 1


class Service:
    """Warm assignments, by course folder and name: each with its fork server."""

    def __init__(self) -> None:
        self._servers: dict[tuple[Path, str], ForkServer] = {}
        self._settings: dict[Path, tuple[int, Assignment]] = {}  # assignment.yaml -> (its mtime, as loaded)

    def handle(self, request: dict[str, Any]) -> protocol.Reply:
        reply: protocol.Reply = {"id": request.get("id", 0)}
        try:
            assignment = self._assignment(request)
            server = self._server(assignment)
            if request.get("op") == "warm":  # what the first grade would do first, done while the student works
                assignment.checks()  # and what they import (PyTorch)
                load_reference(assignment)
                history_units([(0, "%time pass")])  # IPython's input transformer
                return {**reply, "ok": True, "assignment": assignment.name}
            if request.get("op") != "grade":
                raise UsageError(f"unknown request {request.get('op')!r}")
            return {**reply, **self._grade(assignment, server, request)}
        except KeyboardInterrupt:
            self._restart(request)
            return {**reply, "ok": False, "interrupted": True, "error": "Grading was interrupted."}
        except SandboxError as exc:
            self._restart(request)
            return {**reply, "ok": False, "error": f"{exc} The sandbox has been started again: run %grade again."}
        except GraderFault as exc:
            print(f"grade: {exc}\n  details: {exc.details}", file=sys.stderr, flush=True)
            return {**reply, "ok": False, "fault": True, "error": str(exc)}
        except GraderError as exc:
            return {**reply, "ok": False, "error": str(exc)}
        except Exception as exc:  # a bug here must not end the kernel's grading for good
            traceback.print_exc()
            return {**reply, "ok": False, "fault": True,
                    "error": f"the grader itself failed ({type(exc).__name__}); this is not a fault of your work."}

    def _grade(self, assignment: Assignment, server: ForkServer, request: dict[str, Any]) -> dict[str, Any]:
        cells = [(int(number), str(source)) for number, source in request.get("cells", [])]
        stopped = {int(number) for number in request.get("interrupted", ())}
        units, notes = history_units([cell for cell in cells if cell[0] not in stopped])
        notes += [LoadNote("dropped", f"In [{number}]", "not run: it was interrupted in the kernel, so it never "
                           "finished there either") for number, _ in cells if number in stopped]
        if not units:
            raise UsageError("This kernel has run no code yet: run the cells with your work, then %grade.")
        shown = f"the cells this kernel ran (In [{cells[0][0]}] to In [{cells[-1][0]}])"
        # What the code may read besides the assignment's folder: the notebook's own folder when it is in there.
        cwd = Path(str(request.get("cwd") or ".")).resolve()
        place = cwd if cwd.is_relative_to(assignment.folder.resolve()) else assignment.folder
        ran = [source for number, source in cells if number not in stopped]
        submission = Submission(place, tuple(units), tuple(notes), digest=cells_digest(ran))  # as grade's seed
        report = grade(assignment, place, submission=submission, server=server, shown_as=shown,
                       seed=request.get("seed"), device=str(request.get("device") or "auto"),
                       only=tuple(str(name) for name in request.get("names", ())))
        return {"ok": True, "assignment": assignment.name, "score": report.score, "max_score": report.max_score,
                "html": html.fragment(report), "text": text.render(report)}

    def _assignment(self, request: dict[str, Any]) -> Assignment:
        cwd = Path(str(request.get("cwd") or ".")).resolve()
        course = find_course(start=cwd)
        name = str(request.get("assignment") or "") or _inferred(course, cwd, str(request.get("notebook") or ""))
        if not name:
            raise UsageError(f"Which assignment is this? Open the notebook from {course / 'assignments'}/NAME/, or "
                             "say it: %grade --assignment NAME (assignments here: "
                             f"{', '.join(list_assignments(course)) or 'none'}).")
        settings = course / "assignments" / name / "assignment.yaml"
        try:
            changed = settings.stat().st_mtime_ns
        except OSError:
            return load_assignment(course, name)  # says there is no such assignment
        if self._settings.get(settings, (None,))[0] != changed:  # read again when the course changes it
            self._settings[settings] = (changed, load_assignment(course, name))
        return self._settings[settings][1]

    def _server(self, assignment: Assignment) -> ForkServer:
        key = (assignment.course, assignment.name)
        if key not in self._servers:
            server = ForkServer(assignment.preload, assignment.threads, disk_mb=assignment.limits.disk_mb)
            server.launch()
            self._servers[key] = server
        return self._servers[key]

    def _restart(self, request: dict[str, Any]) -> None:
        """Replace the sandbox of the request's assignment (an interrupted exchange may be mid-message)."""
        try:
            assignment = self._assignment(request)
        except (GraderError, KeyboardInterrupt):
            return
        server = self._servers.pop((assignment.course, assignment.name), None)
        if server is not None:
            server.close()
        try:
            self._server(assignment)  # warming again at once
        except GraderError:
            pass

    def close(self) -> None:
        while self._servers:
            _, server = self._servers.popitem()
            server.close()


def _inferred(course: Path, cwd: Path, notebook: str) -> str:
    """The assignment whose folder holds the kernel's working folder, or whose name the notebook has."""
    known = list_assignments(course)
    root = (course / "assignments").resolve()
    if cwd.is_relative_to(root) and cwd != root:
        first = cwd.relative_to(root).parts[0]
        if first in known:
            return first
    stem = Path(notebook).stem
    return stem if stem in known else ""


def _end_with(parent: int) -> None:
    """Have the kernel's death end this process (cleanly: SIGTERM), and end at once if it is already gone."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        raise SystemExit(0)


def main(argv: list[str] | None = None) -> None:
    """argv: the socket's descriptor, then the kernel's process id."""
    argv = sys.argv[1:] if argv is None else argv
    channel = socket.socket(fileno=int(argv[0]))

    def stop(number: int, frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    _end_with(int(argv[1]))
    service = Service()
    try:
        while True:
            try:
                request = protocol.receive(channel)
            except KeyboardInterrupt:  # an interrupt that came after its grade had finished
                continue
            except (OSError, protocol.ProtocolError):
                break
            if request is None:
                break
            try:
                protocol.send(channel, dict(service.handle(request)))
            except KeyboardInterrupt:
                continue
            except OSError:
                break
    finally:
        with _ignoring(signal.SIGINT, signal.SIGTERM):
            service.close()
    # The sandboxes are closed: leave without PyTorch's teardown (a second or two the kernel's shutdown waits for).
    sys.stderr.flush()
    os._exit(0)


class _ignoring:
    """While the sandboxes shut down, an interrupt must not leave one half closed."""

    def __init__(self, *numbers: int) -> None:
        self.numbers = numbers
        self.saved: dict[int, Any] = {}

    def __enter__(self) -> None:
        self.saved = {number: signal.signal(number, signal.SIG_IGN) for number in self.numbers}

    def __exit__(self, *exc: object) -> None:
        for number, handler in self.saved.items():
            signal.signal(number, handler)


if __name__ == "__main__":
    main()
