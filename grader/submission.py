"""Reading a submission: a .py file or a notebook (grader.finder chooses which file).

Reading never runs student code, never follows a symbolic link and never reads
more than a submission may hold. A notebook becomes one unit per code cell,
turned into Python as Jupyter does it (``grader.notebooks.cell_units``). A file
that cannot be read at all is not a usage error: it is the student's result.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from grader.model import LoadNote
from grader.names import printable
from grader.sandbox.session import Unit

MAX_SOURCE_BYTES = 5 * 1024 * 1024
MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024
MAX_CELLS = 2000


@dataclass(frozen=True)
class Submission:
    """A submission ready to hand to a sandbox worker.

    problem: set when the file could not be read; every check then reports it.
    digest: SHA-256 of the code as written, comments included: what a run's
        seed is drawn from (grader.seeds), so that code changed in any way
        cannot carry answers from one run into the next. For a .py file, the
        whole file; for a notebook, its code cells (cells_digest), so that
        outputs and metadata Jupyter saves do not change the run, and %grade on
        the same cells run in a kernel gets the same seed as grade on the file.
    """

    path: Path
    units: tuple[Unit, ...]
    notes: tuple[LoadNote, ...] = ()
    problem: str | None = None
    digest: str = ""


def read(path: Path) -> Submission:
    """The submission at path (a .py or .ipynb file the finder chose), read but never run."""
    if path.suffix.lower() == ".ipynb":
        return _read_notebook(path)
    source = _read_text(path, MAX_SOURCE_BYTES)
    if isinstance(source, Submission):
        return source
    return Submission(path, (Unit("", printable(path.name), source),), digest=_digest(source))


class Unreadable(Exception):
    """A file the grader will not or cannot read; the message says why, for the student.

    why: the words that follow the file's name ("is a symbolic link, ...").
    """

    def __init__(self, name: str, why: str) -> None:
        super().__init__(f"{name} {why}.")
        self.why = why


def read_limited(path: Path, limit: int) -> bytes:
    """The bytes of the regular file at path, at most limit of them; raises Unreadable otherwise.

    A symbolic link is refused rather than followed (it could point at the reference solution or
    at a file only the grader may read), and so is anything that is not a regular file (a FIFO
    would block, a device could be endless). The size is checked before anything is read, and
    the read itself stops at the limit whatever the size said.
    """
    name = printable(path.name)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) \
        | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Unreadable(name, "is a symbolic link, which the grader does not follow: "
                                   "submit the file itself") from None
        raise Unreadable(name, f"could not be read ({(exc.strerror or str(exc)).lower()})") from None
    with os.fdopen(fd, "rb") as stream:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise Unreadable(name, f"is {file_kind(mode)}, not a regular file")
        size = os.fstat(fd).st_size
        data = b"" if size > limit else stream.read(limit + 1)
        if size > limit or len(data) > limit:
            shown = max(size, len(data))
            raise Unreadable(name, f"is {shown / 1e6:.1f} MB, more than the {limit / 1e6:.0f} MB "
                                   "a submission may be")
    return data


def file_kind(mode: int) -> str:
    """What a file that is not a regular one is, in words."""
    kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a named pipe"),
             (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))
    return next((words for test, words in kinds if test(mode)), "a special file")


def _read_text(path: Path, limit: int) -> str | Submission:
    """The file's text, or a Submission saying why it cannot be read (too big, unreadable, not UTF-8)."""
    data = _read_bytes(path, limit)
    return data if isinstance(data, Submission) else _decode(path, data)


def _read_bytes(path: Path, limit: int) -> bytes | Submission:
    try:
        return read_limited(path, limit)
    except Unreadable as exc:
        return Submission(path, (), problem=str(exc))


def _decode(path: Path, data: bytes) -> str | Submission:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return Submission(path, (), problem=(
            f"{printable(path.name)} is not UTF-8 text (byte {exc.start} cannot be read). "
            "Save it as UTF-8 in your editor and submit again."))


def _read_notebook(path: Path) -> Submission:
    text = _read_text(path, MAX_NOTEBOOK_BYTES)
    if isinstance(text, Submission):
        return text
    if text.count('"cell_type"') > MAX_CELLS:  # counted before any parsing: reading each cell costs this process
        return Submission(path, (), problem=(
            f"{printable(path.name)} has more than {MAX_CELLS} cells, more than a notebook for this course "
            "should need. Merge small cells and submit again."))
    cells = notebook_cells(text)
    if cells is None:
        import nbformat

        try:
            cells = nbformat.reads(text, as_version=4).get("cells", [])
        except Exception as exc:  # nbformat raises several types for broken files
            return Submission(path, (), problem=(
                f"{printable(path.name)} could not be read as a Jupyter notebook ({type(exc).__name__}). "
                "Open it in Jupyter, save it, and submit again."))
    from grader.notebooks import cell_units, code_sources

    units, notes = cell_units({"cells": cells}, printable(path.name))
    return Submission(path, tuple(units), tuple(notes), digest=cells_digest(code_sources({"cells": cells})))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def cells_digest(sources: list[str]) -> str:
    """The digest of code in cells, in order, blanks at their ends aside (Jupyter's file and a
    kernel's history keep them differently); cells of nothing but blanks are left out."""
    return _digest(json.dumps([source.rstrip() for source in sources if source.strip()]))


def notebook_cells(text: str) -> list[dict] | None:
    """The cells of a notebook in format 4 (every Jupyter since 2015 writes it), read as plain JSON.

    None for anything else (an older format, not a notebook at all), which nbformat then reads or
    refuses. nbformat reads format 4 into the same cells, but its import and its schema validation
    cost the grading process up to a second before anything could be graded.
    """
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # nested past the parser's depth: nbformat then refuses it
        return None
    if not isinstance(data, dict) or data.get("nbformat") != 4 or not isinstance(data.get("cells"), list):
        return None
    cells = data["cells"]
    return cells if all(isinstance(cell, dict) for cell in cells) else None

