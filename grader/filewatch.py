"""Knowing when a submission is saved: inotify where Linux has it, polling elsewhere.

What is watched is a set of folders, each with the names that matter in it (``Spot``): the
folder holding a file rather than the file itself, because editors save by writing a new file
and renaming it over the old one (vim, Jupyter), which a watch on the old file would miss. A
folder handed in whole is watched all the way down, for its .py, .ipynb and .zip files.

``wait()`` returns once something that matters has changed and then stayed quiet for a moment,
so one save (which an editor may do as a truncate, several writes and a rename) is one change.
inotify is reached through ctypes (no dependency); where it is missing, refused (its watch limit
reached) or cannot see the writes (a network file system written from another machine: set
``GRADER_WATCH_POLL=SECONDS``), the files' sizes, times and inodes are compared instead.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import stat
import struct
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from grader.finder.tree import is_litter

SOURCES = (".py", ".ipynb", ".zip")
POLL_ENV = "GRADER_WATCH_POLL"
QUIET_SECONDS = 0.05  # a save is over once nothing more happened for this long
MOST_SECONDS = 2.0  # ...or once this long has passed since it began
MAX_FOLDERS = 1_000  # folders watched below a folder handed in whole

# <sys/inotify.h>
_IN_MODIFY, _IN_ATTRIB, _IN_CLOSE_WRITE = 0x2, 0x4, 0x8
_IN_MOVED_FROM, _IN_MOVED_TO, _IN_CREATE, _IN_DELETE = 0x40, 0x80, 0x100, 0x200
_IN_DELETE_SELF, _IN_MOVE_SELF, _IN_Q_OVERFLOW, _IN_IGNORED, _IN_ISDIR = 0x400, 0x800, 0x4000, 0x8000, 0x40000000
_IN_NONBLOCK, _IN_CLOEXEC = os.O_NONBLOCK, getattr(os, "O_CLOEXEC", 0o2000000)
_MASK = (_IN_MODIFY | _IN_ATTRIB | _IN_CLOSE_WRITE | _IN_MOVED_FROM | _IN_MOVED_TO | _IN_CREATE | _IN_DELETE
         | _IN_DELETE_SELF | _IN_MOVE_SELF)
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of name


@dataclass(frozen=True)
class Spot:
    """A folder to watch: the names in it that matter, or (names None) every source file below it."""

    folder: Path
    names: frozenset[str] | None = None

    def matters(self, name: str) -> bool:
        if self.names is not None:
            return name in self.names
        return not is_litter(name) and name.lower().endswith(SOURCES)


def spots_for(path: Path) -> list[Spot]:
    """What to watch for a submission given as path (a file, or a folder handed in whole)."""
    path = Path(os.path.abspath(path))
    if path.is_dir() and not path.is_symlink():
        return [Spot(path)]
    return [Spot(path.parent, frozenset({path.name}))]


class Watcher:
    """Waits for a change to what spots name; close() when done."""

    def wait(self, timeout: float | None = None) -> bool:
        """True once something changed (and the change has settled), False when timeout passed first."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> Watcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def watcher(spots: list[Spot]) -> Watcher:
    """inotify where it works here, else polling (every GRADER_WATCH_POLL seconds, 0.5 by default)."""
    poll = os.environ.get(POLL_ENV, "").strip()
    if not poll and sys.platform.startswith("linux"):
        try:
            return Inotify(spots)
        except OSError:
            pass
    try:
        interval = float(poll) if poll else 0.5
    except ValueError:
        interval = 0.5
    return Polling(spots, max(0.05, interval))


class Inotify(Watcher):
    def __init__(self, spots: list[Spot]) -> None:
        name = ctypes.util.find_library("c")
        self._libc = ctypes.CDLL(name, use_errno=True)
        self._libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        self._fd = self._libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if self._fd < 0:
            raise _os_error()
        self._by_wd: dict[int, tuple[Path, list[Spot]]] = {}  # a folder is watched once, for every spot in it
        self._folders = 0
        try:
            for spot in spots:
                self._add(spot.folder, spot, recursive=spot.names is None)
        except OSError:
            self.close()
            raise

    def _add(self, folder: Path, spot: Spot, recursive: bool) -> None:
        self._folders += 1
        if self._folders > MAX_FOLDERS:
            raise OSError(f"more than {MAX_FOLDERS} folders to watch")
        wd = self._libc.inotify_add_watch(self._fd, os.fsencode(folder), _MASK)
        if wd < 0:
            raise _os_error()
        self._by_wd.setdefault(wd, (folder, []))[1].append(spot)
        if not recursive:
            return
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        for entry in entries:
            if entry.is_dir(follow_symlinks=False) and not is_litter(entry.name):
                self._add(Path(entry.path), spot, recursive)

    def _events(self, timeout: float | None) -> bool:
        """Read what is waiting (after up to timeout seconds); True if any of it matters."""
        if not select.select([self._fd], [], [], timeout)[0]:
            return False
        try:
            data = os.read(self._fd, 1 << 16)
        except BlockingIOError:
            return False
        matters = False
        offset = 0
        while offset + _EVENT.size <= len(data):
            wd, mask, _, length = _EVENT.unpack_from(data, offset)
            name = os.fsdecode(data[offset + _EVENT.size: offset + _EVENT.size + length].rstrip(b"\0"))
            offset += _EVENT.size + length
            if mask & _IN_Q_OVERFLOW:  # events were lost: something may have changed
                matters = True
                continue
            folder, spots = self._by_wd.get(wd, (None, []))
            if folder is None:
                continue
            if mask & (_IN_DELETE_SELF | _IN_MOVE_SELF | _IN_IGNORED):
                self._by_wd.pop(wd, None)
                matters = True
            elif mask & _IN_ISDIR:
                for spot in spots:
                    if spot.names is None and not is_litter(name):
                        matters = True
                        if mask & (_IN_CREATE | _IN_MOVED_TO):
                            try:
                                self._add(folder / name, spot, recursive=True)
                            except OSError:
                                pass
            elif any(spot.matters(name) for spot in spots):
                matters = True
        return matters

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if self._events(remaining):
                break
            if deadline is not None and time.monotonic() >= deadline:
                return False
        settled_by = time.monotonic() + MOST_SECONDS
        while time.monotonic() < settled_by and self._events(QUIET_SECONDS):
            pass
        return True

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class Polling(Watcher):
    def __init__(self, spots: list[Spot], interval: float) -> None:
        self.spots = spots
        self.interval = interval
        self._seen = self._look()

    def _look(self) -> dict[str, tuple[int, int, int, int]]:
        found: dict[str, tuple[int, int, int, int]] = {}
        for spot in self.spots:
            for path in _files(spot):
                try:
                    info = os.lstat(path)
                except OSError:
                    continue
                found[str(path)] = (info.st_mtime_ns, info.st_size, info.st_ino, info.st_mode)
        return found

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            now = self._look()
            if now != self._seen:
                break
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(self.interval if deadline is None else min(self.interval, max(0.0, deadline - time.monotonic())))
        settled_by = time.monotonic() + MOST_SECONDS
        while time.monotonic() < settled_by:  # settled: two looks a moment apart agree
            time.sleep(QUIET_SECONDS)
            later = self._look()
            if later == now:
                break
            now = later
        self._seen = now
        return True


def _files(spot: Spot) -> Iterable[Path]:
    if spot.names is not None:
        yield from (spot.folder / name for name in sorted(spot.names))
        return
    pending, folders = [spot.folder], 0
    while pending and folders < MAX_FOLDERS:
        folder = pending.pop()
        folders += 1
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if is_litter(entry.name):
                continue
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError:
                continue
            if stat.S_ISDIR(mode):
                pending.append(Path(entry.path))
            elif spot.matters(entry.name):
                yield Path(entry.path)


def _os_error() -> OSError:
    number = ctypes.get_errno()
    return OSError(number, os.strerror(number))
