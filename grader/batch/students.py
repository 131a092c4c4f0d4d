"""Who is in a submissions folder, and what exactly each of them submitted.

Each entry of the folder is one student: a .py or .ipynb file, or a folder
holding the submission (as LMS exports lay them out). The student id is the
entry's name without its extension. A fingerprint of the files (and of the
assignment's checks and the run's options) tells a re-run what changed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from grader.errors import UsageError

_SUFFIXES = (".py", ".ipynb")


@dataclass(frozen=True)
class Student:
    id: str
    path: Path  # a file, or a folder holding the submission


def discover(folder: Path, exclude: tuple[Path, ...] = ()) -> list[Student]:
    """The students in folder, sorted by id; entries sharing an id are one student."""
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder of submissions.")
    excluded = {p.resolve() for p in exclude}
    entries: dict[str, list[Path]] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name == "__pycache__" or entry.resolve() in excluded:
            continue
        if entry.is_dir():
            entries.setdefault(entry.name, []).append(entry)
        elif entry.suffix in _SUFFIXES:
            entries.setdefault(entry.stem, []).append(entry)
    students = []
    for student_id, paths in sorted(entries.items()):
        if len(paths) == 1:
            students.append(Student(student_id, paths[0]))
        else:  # alice.py next to alice.ipynb, or next to a folder alice/: grade the newest
            students.append(Student(student_id, max(paths, key=_modified)))
    return students


def _modified(path: Path) -> float:
    if path.is_dir():
        return max((p.stat().st_mtime for p in path.rglob("*") if p.is_file()), default=path.stat().st_mtime)
    return path.stat().st_mtime


def _hash_tree(digest, path: Path) -> None:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        digest.update(str(file.relative_to(path.parent if path.is_file() else path)).encode())
        digest.update(b"\0")
        digest.update(file.read_bytes())
        digest.update(b"\0")


def fingerprint(student: Student, context: str) -> str:
    """A hash of the student's files and of context (the assignment's checks and the options)."""
    digest = hashlib.sha256(context.encode())
    _hash_tree(digest, student.path)
    return digest.hexdigest()


def assignment_fingerprint(folders: list[Path], options: str) -> str:
    """A hash of everything that decides grades besides the submission."""
    digest = hashlib.sha256(options.encode())
    for folder in folders:
        if folder.is_dir():
            _hash_tree(digest, folder)
    return digest.hexdigest()
