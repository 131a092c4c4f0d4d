"""Removing a folder student code may have filled, however it filled it.

A worker's folder can hold anything its code made: links pointing anywhere,
folders nested thousands deep, names of any length. shutil.rmtree recurses (a
deep enough chain raises RecursionError and leaves the folder behind), and a
path-based walk can exceed PATH_MAX. remove_tree walks with one descriptor at
a time, descending by name and coming back through "..", follows no link, and
never recurses. Worker side and grading side both use it.
"""

from __future__ import annotations

import os
import stat

_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def remove_tree(path: str) -> None:
    """Delete path and everything beneath it; what cannot be deleted is left, silently."""
    try:
        current = os.open(path, _DIRECTORY)
    except FileNotFoundError:
        return
    except OSError:  # a file, or a link: not a folder to walk
        _quietly(os.unlink, path)
        return
    names: list[str] = []  # the path from path down to current
    try:
        while True:
            child = _first_entry(current)
            if child is not None:
                name, is_folder = child
                if is_folder:
                    try:
                        below = os.open(name, _DIRECTORY, dir_fd=current)
                    except OSError:  # gone, or not a folder after all: unlink what is there
                        _quietly(os.unlink, name, dir_fd=current)
                        continue
                    os.close(current)
                    current = below
                    names.append(name)
                    continue
                if not _quietly(os.unlink, name, dir_fd=current):
                    break  # cannot make progress here
                continue
            if not names:
                break
            above = os.open("..", _DIRECTORY, dir_fd=current)
            os.close(current)
            current = above
            if not _quietly(os.rmdir, names.pop(), dir_fd=current):
                break
    finally:
        os.close(current)
    _quietly(os.rmdir, path)


def _first_entry(folder: int) -> tuple[str, bool] | None:
    with os.scandir(folder) as entries:
        for entry in entries:
            try:
                return entry.name, stat.S_ISDIR(entry.stat(follow_symlinks=False).st_mode)
            except OSError:
                return entry.name, False
    return None


def _quietly(operation, *args, **kwargs) -> bool:
    try:
        operation(*args, **kwargs)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True
