"""The JSON report (schema version 1), the format other tools script against."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from grader.model import CheckResult, Curve, DiagnosisRow, IsolationLayer, LoadNote, SubmissionReport


def result_dict(result: CheckResult) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": result.name,
        "title": result.title,
        "functions": list(result.functions),
        "score": result.score,
        "max_score": result.max_score,
        "status": result.status,
        "visibility": result.visibility,
        "message": result.message,
        "seconds": result.seconds,
    }
    if result.details:
        entry["details"] = result.details
    if result.output:
        entry["output"] = result.output
    if result.curves:
        entry["curves"] = [{"label": c.label, "values": list(c.values),
                            **({"x_label": c.x_label, "x_step": c.x_step} if c.x_label or c.x_step != 1 else {})}
                           for c in result.curves]
    if result.diagnosis:
        entry["diagnosis"] = [{"parameter": d.parameter, "expected": d.expected, "actual": d.actual,
                               "relative_error": d.relative_error, "mistake": d.mistake} for d in result.diagnosis]
    return entry


def report_dict(report: SubmissionReport) -> dict[str, Any]:
    return {
        "schema_version": report.schema_version,
        "assignment": report.assignment,
        "submission": report.submission,
        "score": report.score,
        "max_score": report.max_score,
        "seed": report.seed,
        "device": report.device,
        "seconds": report.seconds,
        "hidden_not_run": report.hidden_not_run,
        "hidden_points_not_run": report.hidden_points_not_run,
        "notes": [{"kind": n.kind, "where": n.where, "text": n.text} for n in report.notes],
        "isolation": [{"layer": layer.name, "active": layer.active, "detail": layer.detail, "stops": layer.stops}
                      for layer in report.isolation],
        "tests": [result_dict(r) for r in report.results],
    }


def dumps(report: SubmissionReport) -> str:
    return json.dumps(report_dict(report), indent=2, ensure_ascii=False) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Write text to path so that readers see the old file or the new one, never half of one.

    The rename is what makes it atomic; there is no fsync, so a power cut may
    lose the newest files (batch grading then regrades those students). The
    file gets the permissions any new file gets (0666 less the umask), so a
    course team sharing a folder can read each other's results.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = _create_new(path)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


def _create_new(path: Path) -> tuple[int, str]:
    """A new file beside path, created as open() creates files (mkstemp would make it 0600)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    while True:
        temporary = str(path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:
            continue


def write(report: SubmissionReport, path: Path) -> None:
    write_atomic(path, dumps(report))


def load(path: Path) -> SubmissionReport:
    """A report written by write(), read back (batch grading resumes and summarises from these)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return SubmissionReport(
        assignment=data["assignment"],
        submission=data["submission"],
        results=tuple(CheckResult(
            name=t["name"], title=t.get("title", t["name"]), functions=tuple(t["functions"]), status=t["status"],
            score=float(t["score"]), max_score=float(t["max_score"]), message=t.get("message", ""),
            visibility=t["visibility"], details=t.get("details", ""), output=t.get("output", ""),
            seconds=float(t.get("seconds", 0.0)),
            curves=tuple(Curve(c["label"], tuple(c["values"]), c.get("x_label", ""), float(c.get("x_step", 1.0)))
                         for c in t.get("curves", ())),
            diagnosis=tuple(DiagnosisRow(d["parameter"], d["expected"], d["actual"], d.get("relative_error"),
                                         d.get("mistake", "")) for d in t.get("diagnosis", ())),
        ) for t in data["tests"]),
        seed=data.get("seed", 0),
        device=data.get("device", "cpu"),
        hidden_not_run=data.get("hidden_not_run", 0),
        hidden_points_not_run=data.get("hidden_points_not_run", 0.0),
        notes=tuple(LoadNote(n["kind"], n["where"], n["text"]) for n in data.get("notes", ())),
        seconds=data.get("seconds", 0.0),
        isolation=tuple(IsolationLayer(i["layer"], bool(i["active"]), i.get("detail", ""), i.get("stops", ""))
                        for i in data.get("isolation", ())),
        schema_version=data.get("schema_version", 1),
    )
