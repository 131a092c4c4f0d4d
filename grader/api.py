"""Grading one submission, as a library call.

``grade`` reads the submission, starts a sandbox session for it, runs every
check the course has (public, and hidden where ``reference/`` exists), applies
the loops-only rule and returns a ``SubmissionReport``. Usage and configuration
problems raise ``GraderError``; everything the submission does is in the report.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from grader import failed_imports, seeds
from grader.checks import CheckSpec
from grader.course import Assignment
from grader.errors import SpecError, UsageError
from grader.model import CheckResult, IsolationLayer, LoadNote, SubmissionReport
from grader.runner import Outcome, capture, classify, rule_gates
from grader.sandbox import hooks, isolation
from grader.sandbox.client import ForkServer
from grader.sandbox.faults import SubmissionBroken
from grader.sandbox.session import Limits, Session, Unit
from grader.student import Student
from grader.submission import Submission, read

DEVICES = ("auto", "cpu", "cuda")


class DeviceChoice:
    """Resolves --device when first needed, so NumPy-only grading never imports torch."""

    def __init__(self, requested: str) -> None:
        if requested not in DEVICES:
            raise UsageError(f"--device must be one of {', '.join(DEVICES)}, not {requested!r}")
        self.requested = requested
        self.resolved: str | None = "cpu" if requested == "cpu" else None
        if requested == "cuda":
            self.get()

    def get(self) -> str:
        if self.resolved is None:
            import torch

            available = torch.cuda.is_available()
            if self.requested == "cuda" and not available:
                raise UsageError("--device cuda was asked for, but PyTorch sees no CUDA GPU on this machine.")
            self.resolved = "cuda" if available else "cpu"
        return self.resolved

    @property
    def name(self) -> str:
        return self.resolved or "cpu"


def load_reference(assignment: Assignment) -> ModuleType | None:
    if assignment.reference is None:
        return None
    path = assignment.reference / "solution.py"
    if not path.is_file():
        raise SpecError(f"{assignment.reference}: there is no solution.py")
    # Keyed by location: two courses may both have an assignment2.
    name = f"_grader_reference.{assignment.name}_{zlib.crc32(str(path.resolve()).encode()):08x}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise SpecError(f"{path}: the reference solution failed to load: {type(exc).__name__}: {exc}") from exc
    return module


def grade(assignment: Assignment, path: Path, *, seed: int | None = None, device: str = "auto",
          server: ForkServer | None = None, protected: tuple[Path, ...] = (), shown_as: str | None = None,
          notes: tuple[LoadNote, ...] = (), limits: Limits | None = None,
          only: tuple[str, ...] = (), require: str | None = None,
          stop_at_first_loss: bool = False, submission: Submission | None = None) -> SubmissionReport:
    """Grade the submission at path (a .py or .ipynb file) for assignment.

    seed: reproduces a run; by default the assignment's seed, or, where the
        course secret exists (staff machines), one drawn from it and the
        submission's code (see grader.seeds).
    server: a running ForkServer to fork workers from (batch grading shares
        one); by default one is started and stopped for this submission.
    protected: more paths the student's code may never read; the course's
        reference/ always is (it reads by allow-list anyway).
    limits: replaces the assignment's limits (tests use short timeouts).
    only: run just the checks with these names, or that exercise these functions.
    require: an isolation profile (isolation.PROFILES) this run must meet, else IsolationError.
    stop_at_first_loss: run no check after the first that loses points; the report holds the checks
        run (grade check asks only whether a mutant loses any point).
    submission: the code already read, in place of the file at path (the cells a Jupyter kernel ran,
        for %grade); path is then only what the code may read beside the assignment's folder.
    """
    started = time.perf_counter()
    if limits is not None:
        assignment = dataclasses.replace(assignment, limits=limits)
    devices = DeviceChoice(device)
    owns_server = server is None
    if owns_server:
        server = ForkServer(assignment.preload, assignment.threads, disk_mb=assignment.limits.disk_mb)
    server.launch()  # the sandbox imports NumPy and PyTorch while the checks load here
    session = None
    layers: tuple[IsolationLayer, ...] = ()
    try:
        checks = select(assignment.checks(), only)
        reference = load_reference(assignment)
        secret = seeds.course_secret(assignment.course) if assignment.reference is not None else None
        submission = read(path) if submission is None else submission
        if seed is None:
            seed = seeds.run_seed(secret, submission.digest) if secret is not None and submission.digest \
                else assignment.seed
        if submission.problem is not None:
            results = _all_broken(checks, SubmissionBroken(submission.problem))
            load_notes: tuple[LoadNote, ...] = ()
        else:
            session = _session(assignment, submission, path, server, devices, protected)
            loaded = session.start()
            layers = isolation.layers(loaded.protection)
            if require is not None:
                isolation.require(layers, require)
            session.take_output()  # printed while loading: not any check's output
            load_notes = loaded.notes
            results = _run(checks, session, loaded.findings, assignment, seed, secret, devices, reference,
                           stop_at_first_loss)
            results = list(failed_imports.link(results, submission.units, load_notes))
    finally:
        if session is not None:
            session.close()
        if owns_server:
            server.close()
    hidden_missing = assignment.reference is None
    return SubmissionReport(
        assignment=assignment.name,
        submission=shown_as or str(path),
        results=tuple(results),
        seed=seed,
        device=devices.name,
        hidden_not_run=assignment.hidden_count if hidden_missing else 0,
        hidden_points_not_run=assignment.hidden_points if hidden_missing else 0.0,
        notes=notes + submission.notes + load_notes,
        seconds=round(time.perf_counter() - started, 3),
        isolation=layers,
    )


@functools.lru_cache(maxsize=16)
def _probes(path: Path) -> Unit:
    return Unit("", str(path), path.read_text(encoding="utf-8"))


def select(checks: list[CheckSpec], only: tuple[str, ...]) -> list[CheckSpec]:
    """The checks named in only (by check name or by function), or all of them."""
    if not only:
        return checks
    unknown = [name for name in only if not any(name == c.name or name in c.functions for c in checks)]
    if unknown:
        names = ", ".join(sorted({c.name for c in checks} | {f for c in checks for f in c.functions}))
        raise UsageError(f"No check is named or exercises {', '.join(unknown)}. Choose from: {names}.")
    return [c for c in checks if c.name in only or set(c.functions) & set(only)]


def _session(assignment: Assignment, submission: Submission, path: Path, server: ForkServer, devices: DeviceChoice,
             protected: tuple[Path, ...]) -> Session:
    guarded = tuple(str(p) for p in protected)
    if (assignment.course / "reference").is_dir():
        guarded += (str(assignment.course / "reference"),)
    # What student code may read beyond the Python runtime: the assignment's public files and its own
    # submission (a notebook may open a data file beside it).
    readable = (str(assignment.folder), str(path))
    # CUDA's driver allocates outside what RLIMIT_DATA can limit cleanly, so
    # GPU workers are limited by resident memory, watched from here.
    on_gpu = devices.requested == "cuda" or ("torch" in assignment.preload and devices.get() == "cuda")
    probes = _probes(assignment.probes) if assignment.probes is not None else None
    return Session(server, list(submission.units), assignment.name, limits=assignment.limits,
                   rules=assignment.rules, protected=guarded, readable=readable, use_rlimit_memory=not on_gpu,
                   threads=assignment.threads, expected_names=assignment.functions, probes=probes)


def _run(checks: list[CheckSpec], session: Session, findings: dict, assignment: Assignment, seed: int,
         secret: bytes | None, devices: DeviceChoice, reference: ModuleType | None,
         stop_at_first_loss: bool = False) -> list[CheckResult]:
    """Run every check: all visible ones first, then the hidden ones.

    The order matters for secrecy: student code keeps its state from call to
    call, so a hidden input it saw could otherwise come back in a later visible
    check's output or message. What hidden calls did (their traces) is kept
    apart for the same reason.
    """
    if "torch" in sys.modules:  # expected values computed with the settings the sandbox uses
        hooks.reproducible_torch(sys.modules["torch"])
    traces: dict[str, dict[str, Counter]] = {}
    hidden_traces: dict[str, dict[str, Counter]] = {}
    ordered = sorted(checks, key=lambda spec: spec.visibility == "hidden")
    outcomes: dict[str, Outcome] = {}
    for spec in ordered:
        hidden = spec.visibility == "hidden"
        fixtures: dict[str, Callable[[], Any]] = {
            "student": lambda spec=spec, hidden=hidden: Student(
                session, frozenset(spec.functions), assignment.rules, hidden_traces if hidden else traces,
                seed=seeds.call_seed(secret, seed, spec.name), timeout=spec.timeout),
            "rng": lambda spec=spec, hidden=hidden: (seeds.hidden_rng(secret, seed, spec.name) if hidden
                                                     else seeds.public_rng(seed, spec.name)),
            "reference": lambda: reference,
            "seed": lambda: seed,
            "device": devices.get,
        }
        outcomes[spec.name] = capture(spec, fixtures, session)
        if stop_at_first_loss and (outcomes[spec.name].failure or outcomes[spec.name].fault):
            break
    gates = rule_gates(assignment.rules, findings, traces, hidden_traces)
    return [classify(spec, outcomes[spec.name], gates) for spec in checks if spec.name in outcomes]


def _all_broken(checks: list[CheckSpec], fault: SubmissionBroken) -> list[CheckResult]:
    return [classify(spec, Outcome(fault=fault), {}) for spec in checks]


def report_without_submission(assignment: Assignment, problem: str, *, seed: int | None = None, device: str = "auto",
                              shown_as: str = "", only: tuple[str, ...] = ()) -> SubmissionReport:
    """The report of a student with nothing gradable: every check says why."""
    checks = select(assignment.checks(), only)
    hidden_missing = assignment.reference is None
    return SubmissionReport(
        assignment=assignment.name,
        submission=shown_as,
        results=tuple(_all_broken(checks, SubmissionBroken(problem))),
        seed=assignment.seed if seed is None else seed,
        device=DeviceChoice(device).name,
        hidden_not_run=assignment.hidden_count if hidden_missing else 0,
        hidden_points_not_run=assignment.hidden_points if hidden_missing else 0.0,
        notes=(LoadNote("file", shown_as, problem),),
    )
