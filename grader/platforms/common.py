"""What the builders share: the grader's source, the ci/ templates, copying without clutter."""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
import shutil
from pathlib import Path
from typing import Literal

import grader
from grader import seeds
from grader.course import Assignment, load_assignment, settings_as_shipped
from grader.errors import SpecError, UsageError

SOURCE_ROOT = Path(grader.__file__).resolve().parent.parent
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", ".DS_Store", "*.egg-info")
_PLACEHOLDER = re.compile(r"@[A-Z][A-Z_]*@")


def grader_source() -> Path:
    """The folder holding the grader's pyproject.toml and grader/ package."""
    if not (SOURCE_ROOT / "pyproject.toml").is_file() or not (SOURCE_ROOT / "ci").is_dir():
        raise UsageError(f"Packaging needs the grader's source checkout (pyproject.toml and ci/ beside grader/), "
                         f"but the grader here is installed from {SOURCE_ROOT}. Run it from a clone of the "
                         "grader's repository, installed with pip install -e.")
    return SOURCE_ROOT


def template(relative: str, values: dict[str, str]) -> str:
    """A file from ci/ with its @NAME@ placeholders filled; every placeholder must be given."""
    text = (grader_source() / "ci" / relative).read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    left = sorted(set(_PLACEHOLDER.findall(text)))
    if left:
        raise SpecError(f"ci/{relative} has placeholders nobody filled: {', '.join(left)}")
    return text


def torch_version() -> str:
    """The PyTorch release this grader runs with here (without a local build tag such as +cpu)."""
    return importlib.metadata.version("torch").split("+")[0]


def copy_grader(destination: Path, with_readme: bool = True) -> None:
    """The grader as an installable project: pyproject.toml, the grader package, and its README."""
    source = grader_source()
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / "pyproject.toml", destination / "pyproject.toml")
    if with_readme:
        shutil.copy2(source / "README.md", destination / "README.md")
    shutil.copytree(source / "grader", destination / "grader", ignore=IGNORED)


def graded_assignment(course: Path, name: str, *, with_reference: bool) -> Assignment:
    """The assignment, loaded and its checks validated, before anything is written."""
    assignment = load_assignment(course, name)
    assignment.checks()  # a checks file that does not load, or reaches what the assignment lacks, stops here
    if with_reference and assignment.reference is None:
        raise UsageError(f"{course / 'reference' / name} does not exist: without the reference solution and hidden "
                         "checks, the platform could grade the public checks only.")
    return assignment


def copy_course(assignment: Assignment, destination: Path, *, with_reference: bool,
                secret: Literal["keep", "public"] | None = None) -> None:
    """assignments/<name>/ and, for graders, reference/<name>/ under destination.

    secret: "keep" copies the course secret beside the reference (made first if
    the course has none yet), for an autograder students never see; "public"
    writes in its place a secret file saying these hidden checks are published,
    so no secret is ever made from them (see grader.seeds).
    """
    shutil.copytree(assignment.folder, destination / "assignments" / assignment.name, ignore=IGNORED)
    (destination / "assignments" / assignment.name / "assignment.yaml").write_text(
        settings_as_shipped(assignment), encoding="utf-8")
    if with_reference:
        shutil.copytree(assignment.reference, destination / "reference" / assignment.name, ignore=IGNORED)
        target = destination / "reference" / seeds.SECRET_FILE
        if secret == "keep":
            seeds.course_secret(assignment.course)
            shutil.copy2(assignment.course / "reference" / seeds.SECRET_FILE, target)
        elif secret == "public":
            target.write_text(seeds.PUBLIC + "\n", encoding="ascii")


def empty_folder(path: Path) -> Path:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise UsageError(f"{path} already exists and is not an empty folder; choose another --out or remove it.")
    path.mkdir(parents=True, exist_ok=True)
    return path


def publish(staging: Path, out: Path) -> Path:
    """Copy what was built in staging into out. Only the contents: staging is a private temporary
    folder (0700), and copying it whole would give out that mode instead of the umask's."""
    for item in staging.iterdir():
        if item.is_dir():
            shutil.copytree(item, out / item.name)
        else:
            shutil.copy2(item, out / item.name)
    return out


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())
