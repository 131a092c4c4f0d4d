"""One submission's connection to its code.

A session forks a worker for the submission, reads the static analysis the
worker sends before running anything, waits for the load, and then forwards
calls. When a call ends the worker (timeout, crash, memory, garbage on the
channel) the session turns that into a ``StudentFault`` and starts a fresh
worker for the next call. When loading itself fails, every later call reports
that failure without trying again.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from grader.errors import GraderError
from grader.model import LoadNote
from grader.sandbox import faults, protocol
from grader.sandbox.client import (
    ForkServer,
    TransportLimits,
    Worker,
    WorkerGarbled,
    WorkerGone,
    WorkerOverDisk,
    WorkerOverMemory,
    WorkerTimedOut,
)
from grader.sandbox.codec import DecodeError, RemoteRef

_ANALYSIS_TIMEOUT = 60.0
_NOTE_KINDS = ("dropped", "syntax_error", "exception", "fatal", "file")


@dataclass(frozen=True)
class Limits:
    """How much a submission may use; an assignment can override each."""

    call_timeout: float = 10.0
    load_timeout: float = 60.0
    memory_mb: int = 2048
    output_kb: int = 1024
    file_mb: int = 64
    disk_mb: int = 256

    def __post_init__(self) -> None:
        for name in ("call_timeout", "load_timeout", "memory_mb", "output_kb", "file_mb", "disk_mb"):
            if not getattr(self, name) > 0:
                raise ValueError(f"limit {name} must be positive, not {getattr(self, name)!r}")


@dataclass(frozen=True)
class Unit:
    """Source the worker runs: a whole .py file (label "") or one notebook cell."""

    label: str
    filename: str
    source: str


@dataclass(frozen=True)
class Reply:
    value: Any
    args: list | None = None
    kwargs: dict | None = None
    trace: dict[str, dict[str, int]] = field(default_factory=dict)  # rule -> operation -> count


@dataclass(frozen=True)
class Loaded:
    """What the grader learned while the submission loaded."""

    findings: dict[str, dict[str, list[dict]]]  # rule -> function -> findings
    notes: tuple[LoadNote, ...]
    defined: dict[str, str]
    protection: dict[str, Any]  # the layers in force, as the worker measured them before student code ran
    broken: faults.SubmissionBroken | None


class Session:
    def __init__(self, server: ForkServer, units: list[Unit], module_name: str, *, limits: Limits,
                 rules: dict[str, tuple[str, ...]] | None = None, protected: tuple[str, ...] = (),
                 readable: tuple[str, ...] = (), use_rlimit_memory: bool = True, threads: int = 1,
                 expected_names: tuple[str, ...] = (), probes: Unit | None = None) -> None:
        """protected: paths student code may never read; readable: what it may read beyond the Python runtime.

        probes: the assignment's probe module (grader code run inside the worker), if it has one.
        """
        self.server = server
        self.units = units
        self.module_name = module_name
        self.limits = limits
        self.rules = rules or {}
        self.protected = protected
        self.readable = readable
        self.use_rlimit_memory = use_rlimit_memory
        self.threads = threads
        self.expected_names = expected_names
        self.probes = probes
        self.worker: Worker | None = None
        self.generation = 0
        self.loaded: Loaded | None = None
        self._printed: list[str] = []
        self._printed_total = 0
        # Functions that hung once are not run again: a second wait would only
        # make the report slower, not different.
        self._hung: dict[str, float] = {}

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> Loaded:
        if self.loaded is None:
            self.loaded = self._start_worker()
        return self.loaded

    def _config(self) -> protocol.Config:
        memory = self.limits.memory_mb * 1024 * 1024
        return {
            "kind": "config",
            "module_name": self.module_name,
            "units": [{"label": u.label, "filename": u.filename, "source": u.source} for u in self.units],
            "protected": list(self.protected),
            "readable": list(self.readable),
            "memory_bytes": memory if self.use_rlimit_memory else None,
            "file_bytes": self.limits.file_mb * 1024 * 1024,
            "rules": {rule: list(functions) for rule, functions in self.rules.items()},
            "threads": self.threads,
            "probes": {"label": "", "filename": self.probes.filename, "source": self.probes.source}
            if self.probes else None,
            "env": {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"},
        }

    def _start_worker(self) -> Loaded:
        rss = None if self.use_rlimit_memory else self.limits.memory_mb * 1024 * 1024
        transport = TransportLimits(output_bytes=self.limits.output_kb * 1024, rss_bytes=rss,
                                    disk_bytes=self.limits.disk_mb * 1024 * 1024)
        self.worker = self.server.fork(self._config(), transport)
        self.generation += 1
        try:
            analysis = protocol.read_analysis(self.worker.receive(_ANALYSIS_TIMEOUT))
        except (WorkerGone, WorkerTimedOut, WorkerGarbled, WorkerOverMemory, WorkerOverDisk, DecodeError) as exc:
            text, _ = self.worker.take_output()
            self._discard_worker()
            raise GraderError(f"the sandbox worker failed before running any student code ({exc!r}):\n{text}") from exc
        broken = None
        loaded = protocol.Loaded((), {})
        try:
            loaded = protocol.read_loaded(self.worker.receive(self.limits.load_timeout))
        except WorkerTimedOut:
            broken = faults.SubmissionBroken(
                f"Loading your file did not finish within {self.limits.load_timeout:g} s, so the grader stopped it. "
                "Is there an endless loop or a long computation at the top level (outside any function)?",
                status="timeout")
        except WorkerGone as gone:
            cause = faults.StudentCrashed("", gone.status).cause()
            broken = faults.SubmissionBroken(f"{cause} while loading your file, so nothing could be graded.")
        except WorkerOverMemory:
            broken = faults.SubmissionBroken(
                f"Loading your file used more than {self.limits.memory_mb} MB of memory, so the grader stopped it.")
        except WorkerOverDisk:
            broken = faults.SubmissionBroken(
                f"Loading your file wrote more than {self.limits.disk_mb} MB of files, so the grader stopped it.")
        except (WorkerGarbled, DecodeError):
            broken = faults.SubmissionBroken(
                "While loading, your code interfered with the grader's connection to it, so nothing could be graded.")
        notes = tuple(_note(n) for n in loaded.notes)
        if broken is None and self.units and not self.units[0].label:
            syntax = next((n for n in loaded.notes if n.kind == "syntax_error"), None)
            if syntax is not None:
                broken = faults.SubmissionBroken(f"Your file has a syntax error at {syntax.where}, so none "
                                                 f"of it could run: {syntax.problem}")
        if broken is not None:
            self._discard_worker()
        return Loaded(
            findings={rule: {name: [vars(f) for f in found] for name, found in by_name.items()}
                      for rule, by_name in analysis.findings.items()},
            notes=notes,
            defined=loaded.defined,
            protection=analysis.protection,
            broken=broken,
        )

    def _live_worker(self) -> Worker:
        loaded = self.start()
        if loaded.broken is not None:
            raise loaded.broken
        if self.worker is None or not self.worker.alive:
            self._collect_output()
            restarted = self._start_worker()
            if restarted.broken is not None:
                raise restarted.broken
        return self.worker

    def _discard_worker(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self._collect_output()
            self.worker = None

    def close(self) -> None:
        self._discard_worker()

    # -- output ------------------------------------------------------------------

    def _collect_output(self) -> None:
        if self.worker is not None:
            text, total = self.worker.take_output()
            if total:
                self._printed.append(text)
                self._printed_total += total

    def take_output(self) -> tuple[str, int]:
        """What student code printed since the last call of this, and its true size in bytes."""
        self._collect_output()
        text, total = "".join(self._printed), self._printed_total
        self._printed, self._printed_total = [], 0
        return text, total

    # -- requests ----------------------------------------------------------------

    def request(self, message: protocol.Request, function: str, timeout: float | None = None) -> Reply:
        """Send one request about function; return its reply or raise a StudentFault."""
        timeout = self.limits.call_timeout if timeout is None else timeout
        if function in self._hung:
            raise faults.StudentTimeout(function, self._hung[function], earlier=True)
        worker = self._live_worker()
        try:
            worker.send(dict(message), timeout)
            reply = protocol.read_reply(worker.receive(timeout))
        except WorkerTimedOut:
            self._discard_worker()
            self._hung[function] = timeout
            raise faults.StudentTimeout(function, timeout) from None
        except WorkerGone as gone:
            self._discard_worker()
            raise faults.StudentCrashed(function, gone.status) from None
        except WorkerOverMemory:
            self._discard_worker()
            raise faults.StudentOutOfMemory(function, self.limits.memory_mb) from None
        except WorkerOverDisk:
            self._discard_worker()
            raise faults.StudentWroteTooMuch(function, self.limits.disk_mb) from None
        except WorkerGarbled:
            self._discard_worker()
            raise faults.ProtocolViolation(function) from None
        if isinstance(reply, protocol.Value):
            return Reply(reply.value, reply.args, reply.kwargs, reply.trace)
        raise self._fault(function, reply)

    def _fault(self, function: str, failure: protocol.Failure) -> faults.StudentFault:
        if failure.kind == "missing":
            hint = ""
            if failure.owner is None:
                # A typo looks like the expected name, but is not another expected name.
                candidates = [n for n in (self.loaded.defined if self.loaded else {}) if n not in self.expected_names]
                suggestions = difflib.get_close_matches(failure.name, candidates, n=2, cutoff=0.8)
                if self.loaded and any(n.kind in ("exception", "syntax_error") for n in self.loaded.notes):
                    hint = "Loading your file ran into an error (see the notes above), which may be why."
            else:
                suggestions = []
            return faults.MissingName(function, failure.name, suggestions, hint)
        if failure.kind == "raised" and "MemoryError" in failure.mro:
            return faults.StudentOutOfMemory(function, self.limits.memory_mb)
        if failure.kind == "raised":
            return faults.StudentRaised(function, failure.name, list(failure.mro), failure.message,
                                        [vars(frame) for frame in failure.frames])
        if failure.kind == "unsendable":
            return faults.Unsendable(function, failure.message)
        return faults.ProtocolViolation(function)

    def check_ref(self, ref: RemoteRef, generation: int, function: str) -> None:
        if generation != self.generation:
            raise faults.LostObject(function, ref.type_name)


def _note(raw: protocol.RawNote) -> LoadNote:
    kind = raw.kind if raw.kind in _NOTE_KINDS else "exception"
    return LoadNote(kind=kind, where=raw.where, text=raw.text)
