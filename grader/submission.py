"""Finding and reading a submission: a .py file, a notebook, or a folder.

Reading never runs student code. A notebook becomes one unit per code cell,
turned into Python as Jupyter does it (``grader.notebooks.cell_units``). A file
that cannot be read at all is not a usage error: it is the student's result.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from grader.errors import UsageError
from grader.model import LoadNote
from grader.sandbox.session import Unit

MAX_SOURCE_BYTES = 5 * 1024 * 1024
MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class Submission:
    """A submission ready to hand to a sandbox worker.

    problem: set when the file could not be read; every check then reports it.
    """

    path: Path
    units: tuple[Unit, ...]
    notes: tuple[LoadNote, ...] = ()
    problem: str | None = None


TEMPLATE_HASHES = "templates.sha256"


def locate(path: Path, assignment: str, templates: Path | None = None) -> tuple[Path, str | None]:
    """The file to grade for path, and a remark when a choice had to be made.

    templates: the folder with the assignment's templates; when path holds
    both a .py and an .ipynb, the one that differs from its template wins.
    """
    if path.is_file():
        return path, None
    if not path.is_dir():
        raise UsageError(f"{path} does not exist; give a .py or .ipynb file, or a folder holding one.")
    found = [p for p in (path / f"{assignment}.py", path / f"{assignment}.ipynb") if p.is_file()]
    if found:
        return choose(found, unchanged_templates(templates, path))
    candidates = sorted(p for p in path.iterdir() if p.suffix in (".py", ".ipynb") and p.is_file())
    if len(candidates) == 1:
        return candidates[0], None
    names = ", ".join(p.name for p in candidates) or "no .py or .ipynb files"
    raise UsageError(f"{path} has no {assignment}.py or {assignment}.ipynb (it has {names}).")


def choose(found: list[Path], is_template: Callable[[Path], bool] | None = None) -> tuple[Path, str | None]:
    """Of a .py and an .ipynb of the same assignment, the one the student worked on.

    That is the only one that is not still the unchanged template, when
    is_template can tell (a fresh git checkout gives both files the same
    time); otherwise the one changed last.
    """
    if len(found) == 1:
        return found[0], None
    if is_template is not None:
        edited = [p for p in found if not is_template(p)]
        if len(edited) == 1:
            other = next(p for p in found if p != edited[0])
            return edited[0], (f"found both {edited[0].name} and {other.name}; graded {edited[0].name}, since "
                               f"{other.name} is still the unchanged template")
    newest = max(found, key=lambda p: p.stat().st_mtime)
    other = next(p for p in found if p != newest)
    return newest, f"found both {newest.name} and {other.name}; graded {newest.name}, the one changed most recently"


def unchanged_templates(templates: Path | None, folder: Path) -> Callable[[Path], bool] | None:
    """How to tell a file in folder that is still the assignment's template.

    By comparison with the templates folder when it is another folder; in the
    templates folder itself (a student's own copy), by the hashes a release
    recorded there when it was made.
    """
    if templates is None:
        return None
    if folder.resolve() != templates.resolve():
        return lambda path: _same_bytes(path, templates / path.name)
    try:
        lines = (templates / TEMPLATE_HASHES).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    recorded = {name.strip(): digest for digest, _, name in (line.partition("  ") for line in lines) if name}
    return lambda path: recorded.get(path.name) == file_hash(path)


def file_hash(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _same_bytes(path: Path, template: Path) -> bool:
    try:
        return template.is_file() and template.stat().st_size == path.stat().st_size \
            and template.read_bytes() == path.read_bytes()
    except OSError:
        return False


def read(path: Path) -> Submission:
    if path.suffix == ".ipynb":
        return _read_notebook(path)
    source = _read_text(path, MAX_SOURCE_BYTES)
    if isinstance(source, Submission):
        return source
    return Submission(path, (Unit("", path.name, source),))


def _read_text(path: Path, limit: int) -> str | Submission:
    """The file's text, or a Submission saying why it cannot be read (too big, unreadable, not UTF-8)."""
    data = _read_bytes(path, limit)
    return data if isinstance(data, Submission) else _decode(path, data)


def _read_bytes(path: Path, limit: int) -> bytes | Submission:
    try:
        size = path.stat().st_size
        if size > limit:
            return Submission(path, (), problem=(
                f"{path.name} is {size / 1e6:.1f} MB, more than the {limit / 1e6:.0f} MB a submission may be."))
        return path.read_bytes()
    except OSError as exc:
        return Submission(path, (), problem=f"{path.name} could not be read: {exc.strerror or exc}.")


def _decode(path: Path, data: bytes) -> str | Submission:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return Submission(path, (), problem=(
            f"{path.name} is not UTF-8 text (byte {exc.start} cannot be read). "
            "Save it as UTF-8 in your editor and submit again."))


def _read_notebook(path: Path) -> Submission:
    import nbformat

    from grader.notebooks import cell_units

    text = _read_text(path, MAX_NOTEBOOK_BYTES)
    if isinstance(text, Submission):
        return text
    try:
        notebook = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises several types for broken files
        return Submission(path, (), problem=(
            f"{path.name} could not be read as a Jupyter notebook ({type(exc).__name__}). "
            "Open it in Jupyter, save it, and submit again."))
    units, notes = cell_units(notebook, path.name)
    return Submission(path, tuple(units), tuple(notes))
