"""The output formats of ``grade --format``: one module each in this package, found by looking.

A format module defines ``FORMAT``, an ``OutputFormat``: its name, a line of
help, and a writer that puts the report where it goes. Adding a format is
adding a module here; the command line lists and dispatches whatever is found.
Writers only read the report (``grader.report`` holds the renderers they call).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TextIO

from grader.model import SubmissionReport


@dataclass(frozen=True)
class Destination:
    """Where a report goes: --output (a file or, for some formats, a folder), and what writers may read.

    stdout: the command's standard output; environ: its environment (the
    platform formats read theirs); hidden_visibility: the gradescope option.
    """

    output: Path | None
    stdout: TextIO
    environ: Mapping[str, str]
    hidden_visibility: str = "after_published"


@dataclass(frozen=True)
class OutputFormat:
    """name: what --format takes. help: a few words for --help.

    write: puts the report where it goes; returns True when standard output is
        still free, so the text report is printed there too.
    platform: a platform reads the score from what is written, not from the
        exit status: grading exits 0 once done, and a missing submission is a
        zero-point report instead of a usage error.
    job_log: standard output is a CI job's log, which student text must not
        be able to command (the text report is defused).
    """

    name: str
    help: str
    write: Callable[[SubmissionReport, Destination], bool]
    platform: bool = False
    job_log: bool = False
    order: int = 100  # where it is listed; text first


@cache
def registry() -> dict[str, OutputFormat]:
    """Every format of this package, in the order they are listed."""
    found = []
    for module in pkgutil.iter_modules(__path__):
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        chosen = getattr(loaded, "FORMAT", None)
        if isinstance(chosen, OutputFormat):
            found.append(chosen)
    found.sort(key=lambda f: (f.order, f.name))
    names = [f.name for f in found]
    if len(set(names)) != len(names):
        raise RuntimeError(f"two output formats share a name: {names}")
    return {f.name: f for f in found}


def names() -> tuple[str, ...]:
    return tuple(registry())


def get(name: str) -> OutputFormat:
    return registry()[name]


def help_text() -> str:
    return "; ".join(f"{f.name} ({f.help})" if f.help else f.name for f in registry().values())


def write_document(document: str, destination: Destination) -> bool:
    """A format that is one document: to --output (then the text report follows on stdout), else to stdout."""
    from grader.report.jsonreport import write_atomic

    if destination.output is None:
        destination.stdout.write(document)
        return False
    write_atomic(destination.output, document)
    return True
