"""Reading a .zip archive in place: every bound checked before zipfile allocates, nothing extracted."""

from __future__ import annotations

import os
import re
import stat
import struct
import zipfile
from contextlib import ExitStack
from pathlib import PurePosixPath
from typing import IO

from grader.finder.tree import Entry
from grader.names import printable
from grader.submission import Unreadable, file_kind

MAX_ARCHIVE_BYTES = 256 * 2**20
MAX_ARCHIVE_MEMBERS = 5_000
MAX_DIRECTORY_BYTES = 16 * 2**20  # the list of members, which zipfile reads whole

_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")


def _archive_counts(stream: IO[bytes], size: int) -> tuple[int, int]:
    """(members, central directory bytes) as the archive's end record states them, read before
    zipfile builds an object per member; raises zipfile.BadZipFile when there is no end record."""
    tail_size = min(size, _EOCD.size + 65535)
    stream.seek(size - tail_size)
    tail = stream.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + _EOCD.size > len(tail):
        raise zipfile.BadZipFile("no end of central directory")
    _, _, _, _, members, directory, _, _ = _EOCD.unpack_from(tail, at)
    if (members == 0xFFFF or directory == 0xFFFFFFFF) and at >= _ZIP64_LOCATOR.size:
        signature, _, offset, _ = _ZIP64_LOCATOR.unpack_from(tail, at - _ZIP64_LOCATOR.size)
        if signature == b"PK\x06\x07" and offset + _ZIP64_EOCD.size <= size:
            stream.seek(offset)
            record = stream.read(_ZIP64_EOCD.size)
            if record[:4] == b"PK\x06\x06":
                members, directory = _ZIP64_EOCD.unpack(record)[7:9]
    return members, directory


def safe_member(name: str) -> bool:
    """A member name that stays inside the archive's folder (it is never written there anyway)."""
    if not name or "\0" in name or "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return False
    return ".." not in PurePosixPath(name).parts


class Archive:
    """A .zip archive opened for reading members, with every bound checked before zipfile allocates."""

    def __init__(self, entry: Entry, stack: ExitStack) -> None:
        self.entry = entry
        fd = os.open(entry.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_CLOEXEC", 0))
        stream = stack.enter_context(os.fdopen(fd, "rb"))
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Unreadable(entry.shown, f"is {file_kind(info.st_mode)}, not a regular file")
        if info.st_size > MAX_ARCHIVE_BYTES:
            raise Unreadable(entry.shown, f"is {info.st_size / 1e6:.0f} MB, more than the "
                                          f"{MAX_ARCHIVE_BYTES / 1e6:.0f} MB an archive may be")
        members, directory = _archive_counts(stream, info.st_size)
        if members > MAX_ARCHIVE_MEMBERS:
            raise Unreadable(entry.shown, f"holds {members} files, more than the {MAX_ARCHIVE_MEMBERS} "
                                          "an archive may hold")
        if directory > min(info.st_size, MAX_DIRECTORY_BYTES):
            raise Unreadable(entry.shown, "is damaged, or lists its files in more than the "
                                          f"{MAX_DIRECTORY_BYTES // 2**20} MB an archive may use for that")
        stream.seek(0)
        self.zip = stack.enter_context(zipfile.ZipFile(stream))

    def read(self, member: str, limit: int) -> bytes:
        info = self.zip.getinfo(member)
        shown = f"{self.entry.shown}/{printable(member)}"
        if info.file_size > limit:
            raise Unreadable(shown, f"is {info.file_size / 1e6:.1f} MB, more than the {limit / 1e6:.0f} MB "
                                    "a submission may be")
        try:
            with self.zip.open(info) as stream:
                data = stream.read(limit + 1)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError, ValueError) as exc:
            raise Unreadable(shown, f"could not be unpacked ({exc})") from None
        if len(data) > limit:
            raise Unreadable(shown, f"unpacks to more than the {limit / 1e6:.0f} MB a submission may be")
        return data
