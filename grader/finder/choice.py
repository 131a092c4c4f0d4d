"""The finder itself: survey what was handed in, examine each candidate, choose, and say why."""

from __future__ import annotations

import hashlib
import os
import stat
import struct
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.errors import UsageError
from grader.finder import tree
from grader.finder.archive import Archive, safe_member
from grader.finder.code import Definition, Template, code_chunks, code_digest, definitions, template
from grader.finder.tree import Entry, is_litter, os_problem, walk
from grader.names import printable
from grader.submission import MAX_NOTEBOOK_BYTES, MAX_SOURCE_BYTES, Unreadable, file_kind, read_limited

SOURCES = (".py", ".ipynb")
ARCHIVE = ".zip"
MAX_EXAMINED_BYTES = 64 * 2**20  # source read to see what the candidates define
_LINK = "is a symbolic link, which the grader does not follow: submit the file itself"


class NothingToGrade(UsageError):
    """Nothing in what was handed in can be graded; the message says why."""


@dataclass(frozen=True)
class Wanted:
    """What the finder looks for: the assignment's name, its functions, and where its templates are."""

    name: str
    functions: tuple[str, ...] = ()
    templates: Path | None = None


@dataclass(frozen=True)
class Found:
    """The file to grade: on disk (member None), or a member of the archive at path.

    shown: how reports name it (printable); remark: why this file, when there was a choice.
    """

    path: Path
    shown: str
    member: str | None = None
    remark: str | None = None
    data: bytes | None = field(default=None, repr=False, compare=False)  # an archive member's bytes


# -- surveying -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    path: Path  # the file, or the archive that holds it
    shown: str
    suffix: str
    depth: int
    archive: Archive | None = None
    member: str | None = None


@dataclass(frozen=True)
class _Refusal:
    shown: str
    why: str  # words that follow the name: "is a symbolic link, which ..."

    def __str__(self) -> str:
        return f"{self.shown} {self.why}"


@dataclass
class _Survey:
    candidates: list[_Candidate] = field(default_factory=list)
    refused: list[_Refusal] = field(default_factory=list)  # links, special files, unreadable ones
    others: list[str] = field(default_factory=list)  # files that are not candidates, by name
    complete: bool = True


def _survey(roots: Sequence[Path], stack: ExitStack) -> _Survey:
    entries, complete = walk(roots)
    survey = _Survey(complete=complete)
    for entry in entries:
        suffix = Path(entry.shown).suffix.lower()
        wanted = suffix in SOURCES or suffix == ARCHIVE
        if entry.problem:
            survey.refused.append(_Refusal(entry.shown, entry.problem))
        elif stat.S_ISDIR(entry.mode):
            continue
        elif stat.S_ISLNK(entry.mode):
            if wanted or entry.depth == 0:
                survey.refused.append(_Refusal(entry.shown, _LINK))
        elif not stat.S_ISREG(entry.mode):
            if wanted or entry.depth == 0:
                survey.refused.append(_Refusal(entry.shown, f"is {file_kind(entry.mode)}, not a regular file"))
        elif suffix in SOURCES:
            survey.candidates.append(_Candidate(entry.path, entry.shown, suffix, entry.depth))
        elif suffix == ARCHIVE:
            _survey_archive(entry, stack, survey)
        else:
            survey.others.append(entry.shown)
    return survey


def _survey_archive(entry: Entry, stack: ExitStack, survey: _Survey) -> None:
    try:
        archive = Archive(entry, stack)
    except Unreadable as exc:
        survey.refused.append(_Refusal(entry.shown, exc.why))
        return
    except OSError as exc:
        survey.refused.append(_Refusal(entry.shown, os_problem(exc)))
        return
    except (zipfile.BadZipFile, EOFError, ValueError, struct.error) as exc:
        survey.refused.append(_Refusal(entry.shown, f"could not be opened as a .zip archive ({exc})"))
        return
    for info in archive.zip.infolist():
        name = info.filename
        parts = PurePosixPath(name).parts
        shown = f"{entry.shown}/{printable(name)}"
        suffix = PurePosixPath(name).suffix.lower()
        if not safe_member(name):
            survey.refused.append(_Refusal(shown, "points outside the archive, so it was left alone"))
        elif info.is_dir() or any(is_litter(part) for part in parts):
            continue
        elif stat.S_ISLNK(info.external_attr >> 16):
            if suffix in SOURCES:
                survey.refused.append(_Refusal(shown, _LINK))
        elif info.flag_bits & 0x1:
            if suffix in SOURCES:
                survey.refused.append(_Refusal(shown, "is encrypted: submit it without a password"))
        elif suffix in SOURCES:
            survey.candidates.append(_Candidate(entry.path, shown, suffix, entry.depth + len(parts), archive, name))
        else:
            survey.others.append(shown)


# -- examining -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Examined:
    candidate: _Candidate
    data: bytes
    digests: frozenset[str]  # of its code, and of its bytes
    defined: dict[str, Definition]
    implemented: frozenset[str] = frozenset()
    unchanged: bool = False


def _read(candidate: _Candidate) -> bytes:
    """The candidate's bytes, from disk or its archive, bounded by what a file of its kind may hold."""
    limit = MAX_NOTEBOOK_BYTES if candidate.suffix == ".ipynb" else MAX_SOURCE_BYTES
    if candidate.archive is not None:
        return candidate.archive.read(candidate.member, limit)
    return read_limited(candidate.path, limit)


def _examine(candidate: _Candidate, wanted: Wanted, knowledge: Template) -> _Examined:
    data = _read(candidate)
    chunks = code_chunks(data, candidate.suffix)
    digests = frozenset({code_digest(chunks), hashlib.sha256(data).hexdigest()})
    every = definitions(chunks)
    defined = {name: every[name] for name in wanted.functions if name in every}
    implemented = knowledge.implemented(defined)
    return _Examined(candidate, data, digests, defined, implemented, bool(digests & knowledge.digests))


# -- choosing --------------------------------------------------------------------------------------


def find(entries: Sequence[Path], wanted: Wanted) -> Found:
    """The file to grade among entries (files, folders, .zip archives); raises NothingToGrade."""
    with ExitStack() as stack:
        survey = _survey(entries, stack)
        if len(survey.candidates) == 1 and not survey.refused and survey.complete:
            return _only(survey.candidates[0])
        # In a student's own copy, the templates' folder holds their work, not the templates.
        pristine = wanted.templates is not None and not any(_inside(e, wanted.templates) for e in entries)
        knowledge = template(wanted.name, wanted.templates, pristine, frozenset(c.suffix for c in survey.candidates))
        examined: list[_Examined] = []
        budget = MAX_EXAMINED_BYTES
        for candidate in sorted(survey.candidates, key=lambda c: (c.depth, c.shown)):
            if budget <= 0:
                survey.refused.append(_Refusal(candidate.shown, "was not looked at: the submission holds more "
                                               f"source than the {MAX_EXAMINED_BYTES // 2**20} MB the grader "
                                               "reads to find the file to grade"))
                continue
            try:
                found = _examine(candidate, wanted, knowledge)
            except Unreadable as exc:
                survey.refused.append(_Refusal(candidate.shown, exc.why))
                continue
            budget -= len(found.data)
            examined.append(found)
        return _choose(examined, survey, wanted, entries)


def _only(candidate: _Candidate) -> Found:
    """The one candidate, when nothing else was handed in: there is nothing to choose between and
    nothing to remark on, so its code is not examined (that parses it twice), only read, as
    examining would, so that a file that cannot be read is refused in the same words."""
    try:
        data = _read(candidate)
    except Unreadable as exc:
        raise NothingToGrade(f"{_Refusal(candidate.shown, exc.why)}.") from None
    if candidate.archive is None:
        return Found(candidate.path, candidate.shown)
    return Found(candidate.path, candidate.shown, candidate.member, None, data)


def locate(path: Path, wanted: Wanted) -> Found:
    """find() for one path given by a person: the path itself may be a link (theirs to name);
    nothing inside it is followed. A file must be a .py, an .ipynb or a .zip."""
    if os.path.islink(path):
        path = path.resolve()
    if not path.exists():
        raise NothingToGrade(f"{printable(str(path))} does not exist; give a .py or .ipynb file, or a folder or "
                             ".zip archive holding one.")
    if path.is_file() and path.suffix.lower() not in SOURCES + (ARCHIVE,):
        raise NothingToGrade(_not_source(printable(path.name)))
    return find([path], wanted)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except (ValueError, OSError, RuntimeError):
        return False


def _not_source(shown: str) -> str:
    return f"{shown} is not a .py or .ipynb file, nor a folder or .zip archive holding one."


def _rank(examined: _Examined, wanted: Wanted) -> tuple:
    candidate = examined.candidate
    named = PurePosixPath(candidate.shown).stem == wanted.name
    return (examined.unchanged, -len(examined.implemented), -len(examined.defined), not named,
            candidate.suffix != ".py", candidate.depth, candidate.shown)


def _choose(examined: list[_Examined], survey: _Survey, wanted: Wanted, entries: Sequence[Path]) -> Found:
    if not examined:
        raise NothingToGrade(_nothing(survey, entries, wanted))
    relevant = [e for e in examined if e.defined] if wanted.functions else examined
    if not relevant:
        if len(examined) > 1:
            names = [e.candidate.shown for e in examined]
            which = f"neither {names[0]} nor {names[1]}" if len(names) == 2 else f"none of {_listed(names)}"
            raise NothingToGrade(f"{which} defines any of the assignment's functions "
                                 f"({_listed(list(wanted.functions))}).")
        relevant = examined
    ranked = sorted(relevant, key=lambda e: _rank(e, wanted))
    best = ranked[0]
    chosen = {id(e) for e in relevant}
    others = ranked[1:] + [e for e in examined if id(e) not in chosen]
    remark = _remark(best, others, survey, wanted)
    candidate = best.candidate
    if candidate.archive is None:
        return Found(candidate.path, candidate.shown, remark=remark)
    return Found(candidate.path, candidate.shown, candidate.member, remark, best.data)


def _nothing(survey: _Survey, entries: Sequence[Path], wanted: Wanted) -> str:
    if survey.refused:
        more = len(survey.refused) - 3
        return " ".join(f"{refusal}." for refusal in survey.refused[:3]) + (
            f" ({more} more like {'this' if more == 1 else 'these'})" if more > 0 else "")
    names = [printable(e.name) for e in entries]
    if not any(os.path.isdir(e) for e in entries):
        verb = "is" if len(names) == 1 else "are"
        return f"{_listed(names)} {verb} not a .py or .ipynb file, nor a folder or .zip archive holding one."
    verb = "holds" if len(names) == 1 else "hold"
    missing = f"{_listed(names)} {verb} no .py or .ipynb file such as {wanted.name}.py"
    return f"{missing} (it has {_listed(survey.others)})." if survey.others else f"{missing}."


def _listed(names: list[str], most: int = 5) -> str:
    shown = names[:most] + ([f"{len(names) - most} more"] if len(names) > most else [])
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _remark(best: _Examined, others: list[_Examined], survey: _Survey, wanted: Wanted) -> str | None:
    """Which file was taken and why, when there was anything to choose from or to skip."""
    if not others and not survey.refused and survey.complete:
        return None
    total = len(wanted.functions)
    what = f"graded {best.candidate.shown}"
    if best.unchanged:
        what += ", which is still the unchanged template"
    elif total and others:
        what += f", which implements {len(best.implemented)} of the {total} functions"
    reasons = [_why_not(other, best, wanted) for other in others[:4]]
    if len(others) > 4:
        reasons.append(f"{len(others) - 4} more files lost out the same way")
    reasons += [str(refusal) for refusal in survey.refused[:3]]
    if len(survey.refused) > 3:
        reasons.append(f"{len(survey.refused) - 3} more files were skipped the same way")
    if not survey.complete:
        reasons.append(f"the search stopped after {tree.MAX_ENTRIES} files and folders")
    return what + (": " + "; ".join(reasons) if reasons else "") + "."


def _why_not(other: _Examined, best: _Examined, wanted: Wanted) -> str:
    shown = other.candidate.shown
    if wanted.functions and not other.defined:
        return f"{shown} defines none of them"
    if other.unchanged:
        return f"{shown} is {'too' if best.unchanged else 'still the unchanged template'}"
    if len(other.implemented) != len(best.implemented):
        return f"{shown} implements {len(other.implemented)}"
    if len(other.defined) != len(best.defined):
        return f"{shown} defines {len(other.defined)}"
    named = PurePosixPath(best.candidate.shown).stem == wanted.name
    if named and PurePosixPath(shown).stem != wanted.name:
        return f"{shown} implements as many, and {best.candidate.shown} is named after the assignment"
    if best.candidate.suffix != other.candidate.suffix:
        return f"{shown} implements as many, and the .py file comes first"
    return f"{shown} implements as many, and {best.candidate.shown} comes first (nearer the top, then by name)"


# -- opening ---------------------------------------------------------------------------------------


@contextmanager
def opened(found: Found) -> Iterator[Path]:
    """A path to the file found, for as long as the block runs: the file itself, or an archive
    member written alone (under a plain name, never its own path) into a private folder."""
    if found.member is None:
        yield found.path
        return
    name = PurePosixPath(found.member).name
    suffix = PurePosixPath(name).suffix.lower()
    if printable(name) != name or is_litter(name) or len(name) > 100:
        name = f"submission{suffix}"
    with tempfile.TemporaryDirectory(prefix="grade-unzipped-") as folder:
        target = Path(folder) / name
        target.write_bytes(found.data or b"")
        yield target
