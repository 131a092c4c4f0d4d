"""The JSON report (schema version 1), the format other tools script against."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from grader.model import CheckResult, SubmissionReport


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
        entry["curves"] = [{"label": c.label, "values": list(c.values)} for c in result.curves]
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
        "tests": [result_dict(r) for r in report.results],
    }


def dumps(report: SubmissionReport) -> str:
    return json.dumps(report_dict(report), indent=2, ensure_ascii=False) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Write text to path so that readers see the old file or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


def write(report: SubmissionReport, path: Path) -> None:
    write_atomic(path, dumps(report))
