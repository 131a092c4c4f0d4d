"""One submission's connection to its code.

A session forks a worker for the submission, reads the static analysis the
worker sends before running anything, waits for the load, and then forwards
calls. When a call ends the worker (timeout, crash, memory, garbage on the
channel) the session turns that into a ``StudentFault`` and starts a fresh
worker for the next call. When loading itself fails, every later call reports
that failure without trying again.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Any

from grader.errors import GraderError
from grader.model import LoadNote
from grader.sandbox import faults, hardening
from grader.sandbox.client import (
    ForkServer, TransportLimits, Worker, WorkerGarbled, WorkerGone, WorkerOverMemory, WorkerTimedOut,
)
from grader.sandbox.codec import RemoteRef

_ANALYSIS_TIMEOUT = 60.0


@dataclass(frozen=True)
class Limits:
    """How much a submission may use; an assignment can override each."""

    call_timeout: float = 10.0
    load_timeout: float = 60.0
    memory_mb: int = 2048
    output_kb: int = 1024
    file_mb: int = 64

    def __post_init__(self) -> None:
        for name in ("call_timeout", "load_timeout", "memory_mb", "output_kb", "file_mb"):
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
    protection: str
    broken: faults.SubmissionBroken | None


class Session:
    def __init__(self, server: ForkServer, units: list[Unit], module_name: str, *, limits: Limits,
                 rules: dict[str, tuple[str, ...]] | None = None, protected: tuple[str, ...] = (), use_rlimit_memory: bool = True,
                 threads: int = 1, expected_names: tuple[str, ...] = (), probes: Unit | None = None) -> None:
        """probes: the assignment's probe module (grader code run inside the worker), if it has one."""
        self.server = server
        self.units = units
        self.module_name = module_name
        self.limits = limits
        self.rules = rules or {}
        self.protected = protected
        self.use_rlimit_memory = use_rlimit_memory
        self.threads = threads
        self.expected_names = expected_names
        self.probes = probes
        self.worker: Worker | None = None
        self.generation = 0
        self.loaded: Loaded | None = None
        self._scratch: str | None = None
        self._printed: list[str] = []
        self._printed_total = 0
        # Functions that hung once are not run again: a second wait would only
        # make the report slower, not different.
        self._hung: dict[str, float] = {}
        self.identity = hardening.sandbox_identity()

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> Loaded:
        if self.loaded is None:
            self.loaded = self._start_worker()
        return self.loaded

    def _config(self) -> dict:
        self._scratch = tempfile.mkdtemp(prefix="student-", dir=self.server.scratch_root)
        if self.identity is not None:  # the worker's own folder, once it is no longer root
            os.chown(self._scratch, self.identity.uid, self.identity.gid)
        memory = self.limits.memory_mb * 1024 * 1024
        return {
            "module_name": self.module_name,
            "units": [{"label": u.label, "filename": u.filename, "source": u.source} for u in self.units],
            "scratch": self._scratch,
            "protected": list(self.protected),
            "memory_bytes": memory if self.use_rlimit_memory else None,
            "file_bytes": self.limits.file_mb * 1024 * 1024,
            "rules": {rule: list(functions) for rule, functions in self.rules.items()},
            "threads": self.threads,
            "probes": {"filename": self.probes.filename, "source": self.probes.source} if self.probes else None,
            "identity": dataclasses.asdict(self.identity) if self.identity is not None else None,
            "env": {"HOME": self._scratch, "TMPDIR": self._scratch, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"},
        }

    def _start_worker(self) -> Loaded:
        rss = None if self.use_rlimit_memory else self.limits.memory_mb * 1024 * 1024
        transport = TransportLimits(output_bytes=self.limits.output_kb * 1024, rss_bytes=rss)
        self.worker = self.server.fork(self._config(), transport)
        self.generation += 1
        try:
            analysis = self.worker.receive(_ANALYSIS_TIMEOUT)
        except (WorkerGone, WorkerTimedOut, WorkerGarbled, WorkerOverMemory) as exc:
            text, _ = self.worker.take_output()
            raise GraderError(f"the sandbox worker failed before running any student code ({exc!r}):\n{text}")
        if analysis.get("kind") != "analysis":
            raise GraderError(f"the sandbox worker sent {analysis.get('kind')!r} before its analysis")
        broken = None
        try:
            loaded = self.worker.receive(self.limits.load_timeout)
            if loaded.get("kind") != "loaded":
                raise WorkerGarbled("an unexpected message while loading")
        except WorkerTimedOut:
            loaded, broken = {}, faults.SubmissionBroken(
                f"Loading your file did not finish within {self.limits.load_timeout:g} s, so the grader stopped it. "
                "Is there an endless loop or a long computation at the top level (outside any function)?",
                status="timeout")
        except WorkerGone as gone:
            cause = faults.StudentCrashed("", gone.status).cause()
            loaded, broken = {}, faults.SubmissionBroken(f"{cause} while loading your file, so nothing could be graded.")
        except WorkerOverMemory:
            loaded, broken = {}, faults.SubmissionBroken(
                f"Loading your file used more than {self.limits.memory_mb} MB of memory, so the grader stopped it.")
        except WorkerGarbled as garbled:
            loaded, broken = {}, faults.SubmissionBroken(
                f"While loading, your code interfered with the grader's connection to it ({garbled}).")
        raw_notes = [_dict(n) for n in _list(loaded.get("notes"))]
        notes = tuple(_note(n) for n in raw_notes)
        if broken is None and self.units and not self.units[0].label:
            syntax = next((n for n in raw_notes if n.get("kind") == "syntax_error"), None)
            if syntax is not None:
                broken = faults.SubmissionBroken(f"Your file has a syntax error at {syntax.get('where')}, so none "
                                                 f"of it could run: {syntax.get('problem', '')}")
        if broken is not None:
            self._discard_worker()
        return Loaded(
            findings=_findings(analysis.get("findings")),
            notes=notes,
            defined={str(k): str(v) for k, v in _dict(loaded.get("defined")).items()},
            protection=str(analysis.get("protection", "")),
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
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

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

    def request(self, message: dict, function: str, timeout: float | None = None) -> Reply:
        """Send one request about function; return its reply or raise a StudentFault."""
        timeout = self.limits.call_timeout if timeout is None else timeout
        if function in self._hung:
            raise faults.StudentTimeout(function, self._hung[function], earlier=True)
        worker = self._live_worker()
        try:
            worker.send(message, timeout)
            reply = worker.receive(timeout)
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
        except WorkerGarbled as garbled:
            self._discard_worker()
            raise faults.ProtocolViolation(function, str(garbled)) from None
        if reply.get("ok") is True:
            return Reply(reply.get("value"), _maybe_list(reply.get("args")), _maybe_dict(reply.get("kwargs")),
                         _trace(reply.get("trace")))
        raise self._fault(function, _dict(reply.get("error")))

    def _fault(self, function: str, error: dict) -> faults.StudentFault:
        kind = error.get("kind")
        if kind == "missing":
            name = str(error.get("name"))
            owner = error.get("owner")
            hint = ""
            if owner is None:
                # A typo looks like the expected name, but is not another expected name.
                candidates = [n for n in (self.loaded.defined if self.loaded else {}) if n not in self.expected_names]
                suggestions = difflib.get_close_matches(name, candidates, n=2, cutoff=0.8)
                if self.loaded and any(n.kind in ("exception", "syntax_error") for n in self.loaded.notes):
                    hint = "Loading your file ran into an error (see the notes above), which may be why."
            else:
                suggestions = []
            return faults.MissingName(function, name, [f"{s}" for s in suggestions], hint)
        if kind == "raised" and "MemoryError" in _list(error.get("mro")):
            return faults.StudentOutOfMemory(function, self.limits.memory_mb)
        if kind == "raised":
            return faults.StudentRaised(
                function, str(error.get("type")), [str(m) for m in _list(error.get("mro"))],
                str(error.get("message", "")), [f for f in _list(error.get("frames")) if isinstance(f, dict)])
        if kind == "unsendable":
            return faults.StudentRaised(function, "UnsendableResult", ["UnsendableResult"],
                                        f"its result could not be sent back to the grader: {error.get('message')}", [])
        return faults.ProtocolViolation(function, f"an answer the grader does not understand: {kind!r}")

    def check_ref(self, ref: RemoteRef, generation: int, function: str) -> None:
        if generation != self.generation:
            raise faults.LostObject(function, ref.type_name)


def _note(raw: Any) -> LoadNote:
    raw = _dict(raw)
    kind = raw.get("kind")
    if kind not in ("dropped", "syntax_error", "exception", "fatal", "file"):
        kind = "exception"
    return LoadNote(kind=kind, where=str(raw.get("where", ""))[:200], text=str(raw.get("text", ""))[:2000])


def _findings(raw: Any) -> dict[str, dict[str, list[dict]]]:
    return {str(rule): {str(name): [_dict(f) for f in _list(found)] for name, found in _dict(by_name).items()}
            for rule, by_name in _dict(raw).items()}


def _trace(raw: Any) -> dict[str, dict[str, int]]:
    return {str(rule): {str(op): int(n) for op, n in _dict(ops).items() if isinstance(n, int)}
            for rule, ops in _dict(raw).items()}


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _maybe_list(value: Any) -> list | None:
    return value if isinstance(value, list) else None


def _maybe_dict(value: Any) -> dict | None:
    return value if isinstance(value, dict) else None
