"""Grading many versions of one solution: stubs and mutants, side by side, through one fork server.

Every version is graded as any submission is (``grader.api.grade``, in a
sandbox worker; the grading process never runs it), from a file of its own in
a scratch folder. The fork server is started once with the assignment's
preloads and ``many=True``, as batch grading does, so each version costs a
hand-over of a warm worker. Several versions are graded at once on threads:
each waits on its own worker most of the time, and the server hands workers
out one at a time.
"""

from __future__ import annotations

import ast
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from grader.api import grade
from grader.course import Assignment
from grader.model import SubmissionReport
from grader.sandbox import hooks
from grader.sandbox.client import ForkServer

T = TypeVar("T")
R = TypeVar("R")


class Pool:
    """Grades sources for one assignment; use as a context manager."""

    def __init__(self, assignment: Assignment, *, jobs: int = 1, device: str = "cpu") -> None:
        self.assignment = assignment
        self.jobs = max(1, jobs)
        self.device = device
        self._server = ForkServer(assignment.preload, assignment.threads, many=True,
                                  disk_mb=assignment.limits.disk_mb)
        self._folder = Path(tempfile.mkdtemp(prefix="grade-check-"))
        self._folder.chmod(0o755)  # workers run as another user and are handed the file's folder to read
        self._count = 0
        self._lock = threading.Lock()
        self._finder: hooks.AfterImport | None = None

    def __enter__(self) -> Pool:
        # Versions are graded side by side: PyTorch's own threads in this process would only compete.
        self._finder = hooks.when_imported("torch", _one_thread)
        if self.jobs > 1:
            _serialise_parsing(True)
        try:
            self._server.start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.jobs > 1:
            _serialise_parsing(False)
        hooks.forget(self._finder)
        self._server.close()
        shutil.rmtree(self._folder, ignore_errors=True)

    def grade(self, source: str, *, seed: int, only: tuple[str, ...] = (),
              stop_at_first_loss: bool = False) -> SubmissionReport:
        """Grade source as a submission (a .py file) with this seed, only these checks if given."""
        with self._lock:
            self._count += 1
            path = self._folder / f"version{self._count}" / "solution.py"
        path.parent.mkdir(mode=0o755)
        path.write_text(source, encoding="utf-8")
        path.chmod(0o644)
        try:
            return grade(self.assignment, path, seed=seed, device=self.device, server=self._server,
                         shown_as="solution.py", only=only, stop_at_first_loss=stop_at_first_loss)
        finally:
            shutil.rmtree(path.parent, ignore_errors=True)

    def grade_file(self, path: Path, *, seed: int, only: tuple[str, ...] = ()) -> SubmissionReport:
        return grade(self.assignment, path, seed=seed, device=self.device, server=self._server,
                     shown_as=path.name, only=only)

    def map(self, work: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """work(item) for every item, self.jobs at a time; results in the order of items."""
        items = list(items)
        if self.jobs == 1 or len(items) < 2:
            yield from map(work, items)
            return
        with ThreadPoolExecutor(self.jobs, thread_name_prefix="grade-check") as executor:
            yield from executor.map(work, items)


_parse = ast.parse
_parsing = threading.Lock()
_serialised = 0


def _parse_alone(*args: Any, **kwargs: Any) -> Any:
    with _parsing:
        return _parse(*args, **kwargs)


def _serialise_parsing(on: bool) -> None:
    """One ast.parse at a time while pools grade on threads.

    CPython 3.11 keeps the depth counter of its AST converter in state the
    whole interpreter shares (CPython issue 106905), so two threads parsing at
    once can fail with "AST constructor recursion depth mismatch". Grading
    parses each submission once (to link failed imports), a small share of the
    time.
    """
    global _serialised
    with _parsing:
        _serialised += 1 if on else -1
        ast.parse = _parse_alone if _serialised else _parse


def _one_thread() -> None:
    sys.modules["torch"].set_num_threads(1)
