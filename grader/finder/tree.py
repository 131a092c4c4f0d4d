"""Walking a submission: every file and folder, links never followed, litter skipped, bounded."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.names import printable

MAX_ENTRIES = 5_000  # files and folders looked at in one submission
MAX_DEPTH = 12
_LITTER = frozenset({"__MACOSX", "__pycache__", "node_modules", "site-packages", "Thumbs.db", "desktop.ini"})


@dataclass(frozen=True)
class Entry:
    """A file or folder met on the way down, as lstat saw it (links are never followed)."""

    path: Path
    shown: str  # printable, from the handed-in entry's own name down
    mode: int  # 0 when it could not be looked at
    size: int = 0
    depth: int = 0
    problem: str = ""  # why it could not be looked at, as words that follow its name


def is_litter(name: str) -> bool:
    """What operating systems and editors leave beside work: never a submission, never a student."""
    return name.startswith(".") or name in _LITTER


def walk(roots: Sequence[Path]) -> tuple[list[Entry], bool]:
    """Every entry under roots, roots included, links not followed, litter skipped.

    Returns the entries and whether the walk saw everything (False when a bound stopped it).
    """
    entries: list[Entry] = []
    pending: list[tuple[Path, str, int]] = [(root, printable(root.name or str(root)), 0) for root in roots]
    pending.reverse()
    while pending:
        if len(entries) >= MAX_ENTRIES:
            return entries, False
        path, shown, depth = pending.pop()
        try:
            info = os.lstat(path)
        except OSError as exc:
            entries.append(Entry(path, shown, 0, depth=depth, problem=os_problem(exc)))
            continue
        entries.append(Entry(path, shown, info.st_mode, info.st_size, depth))
        if not stat.S_ISDIR(info.st_mode):
            continue
        if depth >= MAX_DEPTH:
            return entries, False
        try:
            names = sorted(os.listdir(path))
        except OSError as exc:
            entries[-1] = Entry(path, shown, info.st_mode, depth=depth, problem=os_problem(exc))
            continue
        if "pyvenv.cfg" in names and depth > 0:  # a virtual environment someone handed in too
            continue
        pending.extend((path / name, f"{shown}/{printable(name)}", depth + 1)
                       for name in reversed(names) if not is_litter(name))
    return entries, True


def os_problem(exc: OSError) -> str:
    return f"could not be read ({(exc.strerror or str(exc)).lower()})"
