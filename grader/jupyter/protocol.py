"""Every message between a kernel and its grading process, and their framing: both sides import this.

A frame is a 4-byte big-endian length and that many bytes of UTF-8 JSON holding one object. Each
request carries an ``id``; its reply carries the same one, so a side that gave up waiting (an
interrupted ``%grade``) can tell a late reply from the one it waits for. What is read is bounded
before anything is allocated for it.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any, Literal, TypedDict

MAX_FRAME = 64 * 1024 * 1024  # the cells of a long session, with room to spare
_LENGTH = struct.Struct(">I")


class WarmRequest(TypedDict):
    """Get an assignment ready (checks loaded, sandbox started) before anyone asks for a grade."""

    op: Literal["warm"]
    id: int
    cwd: str  # the kernel's working folder: where the course and assignment are looked for
    notebook: str  # the notebook's path as Jupyter names it ($JPY_SESSION_NAME), or ""
    assignment: str  # as asked for, or "" to infer it


class GradeRequest(TypedDict):
    op: Literal["grade"]
    id: int
    cwd: str
    notebook: str
    assignment: str
    names: list[str]  # only these checks, or the checks of these functions ([]: all)
    cells: list[tuple[int, str]]  # (execution count, the cell as typed), in the order they ran
    interrupted: list[int]  # cells interrupted in the kernel: left out, as they did not finish there
    seed: int | None
    device: str


class Reply(TypedDict, total=False):
    id: int
    ok: bool
    error: str  # what went wrong, for the student (ok False)
    fault: bool  # the grader itself failed (ok False): error says so, details are in the service's log
    interrupted: bool
    assignment: str
    score: float
    max_score: float
    html: str  # the report, for the notebook (grader.report.html.fragment)
    text: str  # the report, for a terminal


class ProtocolError(Exception):
    """The other side sent something that is not a frame of this protocol."""


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    body = json.dumps(message, ensure_ascii=False).encode("utf-8")
    if len(body) > MAX_FRAME:
        raise ProtocolError(f"a message of {len(body)} bytes is more than {MAX_FRAME} may be")
    sock.sendall(_LENGTH.pack(len(body)) + body)


def receive(sock: socket.socket) -> dict[str, Any] | None:
    """The next message, or None once the other side has closed."""
    head = _exactly(sock, _LENGTH.size)
    if head is None:
        return None
    (length,) = _LENGTH.unpack(head)
    if length > MAX_FRAME:
        raise ProtocolError(f"a frame of {length} bytes announced; at most {MAX_FRAME} may come")
    body = _exactly(sock, length)
    if body is None:
        raise ProtocolError("the connection closed in the middle of a message")
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(f"a frame that is not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise ProtocolError("a message that is not an object")
    return message


def _exactly(sock: socket.socket, size: int) -> bytes | None:
    chunks, got = [], 0
    while got < size:
        chunk = sock.recv(min(size - got, 1 << 20))
        if not chunk:
            if got:
                raise ProtocolError("the connection closed in the middle of a message")
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)
