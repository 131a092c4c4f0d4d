"""``grade ASSIGNMENT --watch``: grade, then grade again each time the submission is saved.

The grading process stays up with its checks loaded, PyTorch imported and a warm sandbox zygote,
so a re-grade costs what the checks do. Each run still gets fresh workers (``api.grade`` opens a
new session, whose worker is a fresh fork): nothing one run's code does can reach the next. The
first run prints the full report; each later one prints what changed (``report.changes``). A
save that leaves the code as it was (an editor's save without edits, a notebook's autosave of its
outputs) is said in one line and not graded again: the same code gets the same seed and report.

It ends on Ctrl-C (or SIGTERM, SIGHUP): the run in progress stops, the sandbox's processes end,
nothing is left behind, and the exit status is 130. A submission that crashes its worker, hangs
or cannot be read is that run's result; a sandbox that stopped answering is started again.
"""

from __future__ import annotations

import hashlib
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TextIO

from grader.errors import GraderError, GraderFault
from grader.filewatch import Spot, watcher
from grader.finder import Found
from grader.finder.code import code_chunks
from grader.model import SubmissionReport, format_points
from grader.report import changes, jsonreport
from grader.sandbox.client import ForkServer, SandboxError
from grader.submission import MAX_NOTEBOOK_BYTES, Unreadable, read_limited

INTERRUPTED = 130


@dataclass(frozen=True)
class Display:
    """How reports reach the terminal."""

    full: Callable[[SubmissionReport], str]  # the first run's report, as grade prints it
    width: int = 80
    colour: bool = False
    out: TextIO = sys.stdout
    err: TextIO = sys.stderr


def run(new_server: Callable[[], ForkServer], locate: Callable[[], Found],
        grade_found: Callable[[Found, ForkServer], SubmissionReport], spots: list[Spot], display: Display,
        json_path: Path | None = None, runs: int | None = None) -> int:
    """Grade until interrupted; runs: stop after that many runs (tests)."""
    server = new_server()
    server.launch()
    previous: SubmissionReport | None = None
    last_key: tuple | None = None
    graded = 0
    announced = False
    try:
        with _stopped_by_signals(), watcher(spots) as changed:  # watching before the first run: no save is missed
            while runs is None or graded < runs:
                try:
                    found = locate()
                except GraderError as exc:  # the file is gone (mid-rename) or was never there
                    _say(display.err, f"Waiting for a file to grade: {exc}")
                else:
                    key = _code_key(found)
                    if previous is not None and key is not None and key == last_key:
                        _say(display.out, f"{_now()}  {found.shown} saved; its code is unchanged, so its result "
                                          f"stands: {format_points(previous.score)}/"
                                          f"{format_points(previous.max_score)}.")
                    else:
                        report, server = _grade(server, new_server, grade_found, found, display, first=not graded)
                        graded += 1
                        if report is not None:
                            _show(previous, report, found, display)
                            if json_path is not None:
                                jsonreport.write(report, json_path)
                            previous, last_key = report, key
                    if not announced:
                        _say(display.out, f"Watching {found.shown} for changes (Ctrl-C to stop).")
                        announced = True
                if runs is not None and graded >= runs:
                    break
                changed.wait()
    except KeyboardInterrupt:
        _say(display.err, "Stopped watching.")
        return INTERRUPTED
    finally:
        with _signals_ignored():
            server.close()
    return 0


def _grade(server: ForkServer, new_server: Callable[[], ForkServer],
           grade_found: Callable[[Found, ForkServer], SubmissionReport], found: Found,
           display: Display, first: bool) -> tuple[SubmissionReport | None, ForkServer]:
    """One run; a sandbox that stopped answering is replaced and the run tried once more.

    first: a problem with the command or the course in the first run (an --only that names no
    check, an isolation profile not met) ends watching, as it ends grade; later, the course may be
    in the middle of an edit, so it is said and watching goes on.
    """
    for attempt in (1, 2):
        try:
            return grade_found(found, server), server
        except SandboxError as exc:
            server.close()
            server = new_server()
            if attempt == 2:
                if first:
                    raise
                _say(display.err, f"grade: {exc}")
        except GraderFault as exc:
            if first:
                raise
            _say(display.err, f"grade: {exc}\n  details: {exc.details}")
            break
        except GraderError as exc:
            if first:
                raise
            _say(display.err, f"grade: {exc}")
            break
    return None, server


def _show(previous: SubmissionReport | None, report: SubmissionReport, found: Found, display: Display) -> None:
    if previous is None:
        display.out.write(display.full(report))
    else:
        heading = f"{_now()}  {found.shown} saved, graded in {report.seconds:.2f} s"
        display.out.write("\n" + changes.render(changes.compare(previous, report), heading, display.width,
                                                display.colour))
    display.out.flush()


def _code_key(found: Found) -> tuple | None:
    """What decides the run: the file graded and its code (a notebook's outputs and metadata do not)."""
    try:
        data = found.data if found.member is not None else read_limited(found.path, MAX_NOTEBOOK_BYTES)
    except Unreadable:
        return None
    if data is None:
        return None
    suffix = PurePosixPath(found.member or found.path.name).suffix.lower()
    code = "\0".join(code_chunks(data, suffix)).encode("utf-8", "surrogatepass") if suffix == ".ipynb" else data
    return str(found.path), found.member, hashlib.sha256(code).hexdigest()


def _now() -> str:
    return time.strftime("%H:%M:%S")


def _say(stream: TextIO, line: str) -> None:
    stream.write(line + "\n")
    stream.flush()


@contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP (a closed terminal) end watching as Ctrl-C does, cleaning up."""
    def stop(number: int, frame: object) -> None:
        raise KeyboardInterrupt

    saved = {number: signal.signal(number, stop) for number in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


@contextmanager
def _signals_ignored() -> Iterator[None]:
    """While the sandbox shuts down: a second Ctrl-C must not leave it half closed."""
    saved = {number: signal.signal(number, signal.SIG_IGN) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)
