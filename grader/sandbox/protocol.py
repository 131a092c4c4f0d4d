"""Every message between the grading process, the zygote and a worker, and how bytes carry them.

Two channels:

- **control**, grading process <-> zygote. Both ends are trusted: the zygote
  never runs student code. Requests are answered in order; a fork's answer
  carries the worker's descriptors.
- **work**, grading process <-> one worker. The worker runs student code, so
  everything it sends is hostile until ``read_*`` below has checked its shape,
  capped its text and cleaned it: the grading side never looks at a raw reply.

Framing is written once, here: a 4-byte big-endian length, then a body encoded
by ``codec`` (data only, bounded before it is built). ``FrameReader`` collects
frames from a non-blocking socket; ``Channel`` sends and receives on a blocking
one.
"""

from __future__ import annotations

import os
import socket
import struct
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from grader.sandbox import codec
from grader.sandbox.codec import DecodeError, RemoteRef
from grader.untrusted import clean_name, clean_text

MAX_FRAME = 64 * 1024 * 1024
_HEADER = struct.Struct(">I")
HEADER_SIZE = _HEADER.size
_MAX_FDS = 4
_RECEIVE_CHUNK = 1 << 16

# Caps on what a worker's reply may put in front of people.
MESSAGE_LIMIT = 2000
NAME_LIMIT = 100
CODE_LIMIT = 200
MAX_FRAMES = 6
MAX_NOTES = 20
MAX_NAMES = 2000
MAX_FINDINGS = 50


# --- framing ---------------------------------------------------------------------


def frame(body: bytes) -> bytes:
    """The bytes that carry one message on a stream: a length, then the body."""
    if len(body) > MAX_FRAME:
        raise ValueError("a message larger than the channel allows")
    return _HEADER.pack(len(body)) + body


def frame_length(header: bytes | bytearray) -> int:
    (length,) = _HEADER.unpack(bytes(header[:HEADER_SIZE]))
    if length > MAX_FRAME:
        raise DecodeError("a message larger than the channel allows")
    return length


class FrameReader:
    """Collects bytes as they arrive and hands out whole frames' bodies."""

    def __init__(self) -> None:
        self._inbox = bytearray()

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        self._inbox += data

    def next_body(self) -> bytes | None:
        inbox = self._inbox
        if len(inbox) < HEADER_SIZE:
            return None
        end = HEADER_SIZE + frame_length(inbox)
        if len(inbox) < end:
            return None
        body = bytes(inbox[HEADER_SIZE:end])
        del inbox[:end]
        return body


class Channel:
    """Framed messages over a blocking socket: the worker's end of its channel, and both ends of control.

    Reads go into one reused buffer, as many bytes as have arrived: a request
    usually takes a single recv, header and body together.
    """

    def __init__(self, sock: socket.socket, encoder: codec.Encoder | None = None,
                 decoder: codec.Decoder | None = None) -> None:
        self.sock = sock
        self.encoder = encoder or codec.Encoder()
        self.decoder = decoder or codec.Decoder()
        self._reader = FrameReader()
        self._chunk = bytearray(_RECEIVE_CHUNK)

    def send(self, message: dict, fds: list[int] | tuple[int, ...] = ()) -> None:
        data = frame(self.encoder.encode(message))
        if fds:
            sent = socket.send_fds(self.sock, [data], list(fds))
            data = data[sent:]
        if data:
            self.sock.sendall(data)

    def receive(self) -> dict | None:
        """The next message; None once the other end has closed."""
        while True:
            body = self._reader.next_body()
            if body is not None:
                return _mapping(self.decoder.decode(body))
            size = self.sock.recv_into(self._chunk)
            if not size:
                return None
            self._reader.feed(memoryview(self._chunk)[:size])

    def receive_with_fds(self) -> tuple[dict | None, list[int]]:
        """The next message and the descriptors sent with it; (None, []) at the end.

        Reads exactly one frame's bytes, so descriptors are never taken from the message after it.
        """
        header, fds = bytearray(), []
        while len(header) < HEADER_SIZE:
            data, new_fds, _flags, _addr = socket.recv_fds(self.sock, HEADER_SIZE - len(header), _MAX_FDS)
            fds.extend(new_fds)
            if not data:
                _close_all(fds)
                return None, []
            header += data
        length = frame_length(header)
        body = bytearray()
        while len(body) < length:
            chunk = self.sock.recv(min(length - len(body), 1 << 20))
            if not chunk:
                _close_all(fds)
                return None, []
            body += chunk
        return _mapping(self.decoder.decode(bytes(body))), fds


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        os.close(fd)


def _mapping(value: Any) -> dict:
    if not isinstance(value, dict):
        raise DecodeError("a message that is not a mapping")
    return value


# --- control: grading process <-> zygote ----------------------------------------------


class ForkRequest(TypedDict):
    op: Literal["fork"]


class ReapRequest(TypedDict):
    op: Literal["reap"]
    pid: int
    kill: bool
    wait: float


class KillRequest(TypedDict):
    op: Literal["kill"]
    pid: int


class Hello(TypedDict):
    """The zygote's first message: it is ready, and what it could not import."""

    pid: int
    failed: dict[str, str]
    identity_note: str  # why workers could not become the unprivileged user, when they could not


class ForkReply(TypedDict):
    """A worker, handed over with its descriptors: its channel, its output pipe and, where there is one, a pidfd."""

    pid: int  # as the zygote knows it (its own PID namespace), for reap and kill
    scratch: str  # the worker's own folder, which the zygote made
    quota: bool  # whether that folder is a size-limited tmpfs (else the grading process watches its size)
    pidfd: bool  # whether a pidfd came as the third descriptor


class ReapReply(TypedDict):
    status: int | None


# --- work: grading process -> worker -----------------------------------------------------


class UnitSpec(TypedDict):
    label: str  # "" for a .py file, "cell 3" for a notebook cell
    filename: str
    source: str


class Config(TypedDict, total=False):
    """What a worker needs before student code exists in it."""

    kind: Literal["config"]
    module_name: str
    units: list[UnitSpec]
    protected: list[str]  # paths no rule may open, even inside a readable one
    readable: list[str]  # more paths student code may read (the assignment's public folder, its own submission)
    memory_bytes: int | None
    file_bytes: int
    rules: dict[str, list[str]]
    threads: int
    probes: UnitSpec | None
    env: dict[str, str]
    cpu: int
    notebook: bool


class CallRequest(TypedDict, total=False):
    op: Literal["call"]
    on: RemoteRef | None
    path: list[str]
    args: list
    kwargs: dict
    trace: list[str]
    return_args: bool
    seed: int


class ProbeRequest(TypedDict, total=False):
    op: Literal["probe"]
    name: str
    args: list
    kwargs: dict
    trace: list[str]
    seed: int


class GetRequest(TypedDict):
    op: Literal["get"]
    on: RemoteRef | None
    path: list[str]


class SetRequest(TypedDict):
    op: Literal["set"]
    on: RemoteRef | None
    path: list[str]
    value: Any


Request = CallRequest | ProbeRequest | GetRequest | SetRequest


# --- work: worker -> grading process, as the worker builds it ---------------------------------


# The operation a watched call's trace names when the modules that watch it were changed by the submission.
TAMPERED = "changes to the grader's own code that watches it"
# What a call watched by "requires_autograd" reports, once per call that returned (assignment 5).
AUTOGRAD_RAN = "autograd derived its result"
AUTOGRAD_SKIPPED = "returned without autograd deriving anything"
# What a call watched by "vectorised" reports when it switched off the count of its lines (sys.settrace).
LINES_HIDDEN = "switched off the count of the lines it runs"
# The reason the static reading gives where a function under "vectorised" reaches Python's tracing (sys.settrace).
TRACING_REASON = "reaches Python's tracing, with which the grader counts the lines it runs"
# How the static reading's reason ends where code anywhere in the file reaches past its own work (escapes.py):
# such a finding counts against every watched function, and nothing seen while it ran clears it.
ESCAPE_REASON_END = ", which graded code may not do"


def analysis_message(protection: dict, findings: dict) -> dict:
    """Sent after the lock-down and before any student code runs, so the submission cannot forge it."""
    return {"kind": "analysis", "protection": protection, "findings": findings}


def loaded_message(notes: list[dict], defined: dict[str, str], seconds: float) -> dict:
    return {"kind": "loaded", "notes": notes, "defined": defined, "seconds": seconds}


def value_reply(value: Any, trace: dict, args: Any = None, kwargs: Any = None, return_args: bool = False) -> dict:
    reply = {"ok": True, "value": value, "trace": trace}
    if return_args:
        reply["args"], reply["kwargs"] = args, kwargs
    return reply


def error_reply(kind: str, **fields: Any) -> dict:
    return {"ok": False, "error": {"kind": kind, **fields}}


# --- work: worker -> grading process, as the grading process reads it ---------------------------


@dataclass(frozen=True)
class Finding:
    """A place where the source breaks a rule, as the worker read it before running anything."""

    where: str
    code: str
    reason: str


@dataclass(frozen=True)
class Analysis:
    protection: dict[str, Any]
    findings: dict[str, dict[str, tuple[Finding, ...]]]  # rule -> function -> findings


@dataclass(frozen=True)
class RawNote:
    kind: str
    where: str
    text: str
    problem: str = ""


@dataclass(frozen=True)
class Loaded:
    notes: tuple[RawNote, ...]
    defined: dict[str, str]


@dataclass(frozen=True)
class Value:
    """A call that came back with a value."""

    value: Any
    args: list | None = None
    kwargs: dict | None = None
    trace: dict[str, dict[str, int]] = field(default_factory=dict)  # rule -> operation -> count


@dataclass(frozen=True)
class StudentFrame:
    where: str
    line: int
    function: str
    code: str


@dataclass(frozen=True)
class Failure:
    """A call that came back without a value: what kind of failure, with its cleaned facts."""

    kind: Literal["missing", "raised", "unsendable", "protocol"]
    name: str = ""  # missing: the name; raised: the exception type
    owner: str | None = None  # missing: the object that lacks it
    mro: tuple[str, ...] = ()
    message: str = ""
    frames: tuple[StudentFrame, ...] = ()


def read_kind(message: dict) -> str:
    kind = message.get("kind")
    return kind if isinstance(kind, str) else ""


def read_analysis(message: dict) -> Analysis:
    if read_kind(message) != "analysis":
        raise DecodeError("a message other than the analysis came first")
    findings: dict[str, dict[str, tuple[Finding, ...]]] = {}
    for rule, by_function in _dict(message.get("findings")).items():
        findings[clean_name(rule)] = {
            clean_name(function): tuple(_finding(f) for f in _list(found)[:MAX_FINDINGS])
            for function, found in list(_dict(by_function).items())[:MAX_NAMES]
        }
    return Analysis(_dict(message.get("protection")), findings)


def _finding(raw: Any) -> Finding:
    raw = _dict(raw)
    return Finding(where=clean_name(raw.get("where", ""), CODE_LIMIT), code=clean_name(raw.get("code", ""), CODE_LIMIT),
                   reason=clean_name(raw.get("reason", ""), CODE_LIMIT))


def read_loaded(message: dict) -> Loaded:
    if read_kind(message) != "loaded":
        raise DecodeError("an unexpected message while loading")
    notes = []
    for raw in _list(message.get("notes"))[:MAX_NOTES]:
        raw = _dict(raw)
        notes.append(RawNote(kind=clean_name(raw.get("kind", ""), 20),
                             where=clean_name(raw.get("where", ""), CODE_LIMIT),
                             text=clean_text(raw.get("text", ""), MESSAGE_LIMIT),
                             problem=clean_text(raw.get("problem", ""), MESSAGE_LIMIT)))
    defined = {clean_name(k): clean_name(v) for k, v in list(_dict(message.get("defined")).items())[:MAX_NAMES]}
    return Loaded(tuple(notes), defined)


def read_reply(message: dict) -> Value | Failure:
    if message.get("ok") is True:
        args, kwargs = message.get("args"), message.get("kwargs")
        return Value(message.get("value"), args if isinstance(args, list) else None,
                     kwargs if isinstance(kwargs, dict) else None, _trace(message.get("trace")))
    error = _dict(message.get("error"))
    kind = error.get("kind")
    if kind == "missing":
        owner = error.get("owner")
        return Failure("missing", name=clean_name(error.get("name", "")),
                       owner=clean_name(owner) if isinstance(owner, str) else None)
    if kind == "raised":
        return Failure("raised", name=clean_name(error.get("type", "")),
                       mro=tuple(clean_name(m) for m in _list(error.get("mro"))[:32] if isinstance(m, str)),
                       message=clean_text(error.get("message", ""), MESSAGE_LIMIT),
                       frames=tuple(_frame(f) for f in _list(error.get("frames"))[-MAX_FRAMES:]))
    if kind == "unsendable":
        return Failure("unsendable", message=clean_text(error.get("message", ""), MESSAGE_LIMIT))
    return Failure("protocol", message="an answer the grader does not understand")


def _frame(raw: Any) -> StudentFrame:
    raw = _dict(raw)
    line = raw.get("line")
    return StudentFrame(where=clean_name(raw.get("where", ""), CODE_LIMIT),
                        line=line if isinstance(line, int) and not isinstance(line, bool) else 0,
                        function=clean_name(raw.get("function", "")), code=clean_name(raw.get("code", ""), CODE_LIMIT))


def _trace(raw: Any) -> dict[str, dict[str, int]]:
    return {clean_name(rule): {clean_name(op): n for op, n in list(_dict(ops).items())[:200]
                               if isinstance(n, int) and not isinstance(n, bool) and n >= 0}
            for rule, ops in list(_dict(raw).items())[:8]}


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []
