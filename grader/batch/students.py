"""Who is in a submissions folder, and a fingerprint of what each of them handed in.

Every entry of the folder belongs to a student, whatever it is: a .py or .ipynb file, a folder
(as LMS exports lay them out), a .zip archive, or a file that cannot be graded (whose row then
says why). Only what systems and editors leave behind (``__MACOSX``, ``.DS_Store``, dot files) is
not a student. The id is the entry's name without its extension, made printable; entries that
share an id (``alice.py`` beside ``alice.ipynb`` or ``alice/``) are one student, and the finder
chooses among them by content. A fingerprint of the entries, of the assignment's checks and of
the run's options tells a re-run what changed; it reads every file with a bound and never
follows a link.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from grader.errors import UsageError
from grader.finder import is_litter, walk
from grader.names import printable
from grader.submission import Unreadable, read_limited

FINGERPRINT_FILE_BYTES = 64 * 2**20  # larger files are known by size and time, not content


@dataclass(frozen=True)
class Student:
    id: str
    entries: tuple[Path, ...]  # the submissions folder's entries with this id


def student_id(entry: Path) -> str:
    """alice.py, alice.ipynb, alice.zip, alice.txt and the folder alice all belong to alice."""
    name = entry.name if entry.is_dir() and not entry.is_symlink() else entry.stem
    return printable(name or entry.name)


def discover(folder: Path, exclude: tuple[Path, ...] = ()) -> list[Student]:
    """The students in folder, sorted by id; raises UsageError when there is no one."""
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder of submissions.")
    excluded = [os.stat(p) for p in exclude if p.exists()]
    entries: dict[str, list[Path]] = {}
    try:
        names = sorted(os.listdir(folder))
    except OSError as exc:
        raise UsageError(f"cannot list {folder}: {exc.strerror}") from None
    for name in names:
        entry = folder / name
        if is_litter(name) or any(_same(entry, other) for other in excluded):
            continue
        entries.setdefault(student_id(entry), []).append(entry)
    if not entries:
        raise UsageError(f"{folder} holds no submissions. Give the folder that holds one file, folder or .zip "
                         "archive per student.")
    return [Student(student, tuple(paths)) for student, paths in sorted(entries.items())]


def _same(entry: Path, other: os.stat_result) -> bool:
    try:
        mine = os.lstat(entry)
    except OSError:
        return False
    return (mine.st_dev, mine.st_ino) == (other.st_dev, other.st_ino)


def _hash_entries(digest, roots: list[Path]) -> None:
    entries, complete = walk(roots)
    for entry in entries:
        digest.update(f"{entry.shown}\0{stat.S_IFMT(entry.mode)}\0{entry.problem}\0".encode("utf-8", "replace"))
        if stat.S_ISLNK(entry.mode):
            try:
                digest.update(os.fsencode(os.readlink(entry.path)))
            except OSError:
                pass
        elif stat.S_ISREG(entry.mode):
            digest.update(_file_digest(entry.path, entry.size))
        digest.update(b"\0")
    digest.update(b"complete" if complete else b"cut short")


def _file_digest(path: Path, size: int) -> bytes:
    try:
        if size > FINGERPRINT_FILE_BYTES:
            info = os.lstat(path)
            return f"{info.st_size}:{info.st_mtime_ns}".encode()
        return hashlib.sha256(read_limited(path, FINGERPRINT_FILE_BYTES)).digest()
    except Unreadable as exc:  # the student's row will say so; what it says is what is hashed
        return str(exc).encode("utf-8", "replace")
    except OSError as exc:
        return str(exc).encode("utf-8", "replace")


def fingerprint(student: Student, context: str) -> str:
    """A hash of the student's entries and of context (the assignment's checks and the options)."""
    digest = hashlib.sha256(context.encode())
    _hash_entries(digest, list(student.entries))
    return digest.hexdigest()


def assignment_fingerprint(folders: list[Path], options: str) -> str:
    """A hash of everything that decides grades besides the submission."""
    digest = hashlib.sha256(options.encode())
    _hash_entries(digest, [folder for folder in folders if folder.is_dir()])
    return digest.hexdigest()
