"""Where a course lives on disk, and what an assignment declares.

A course is a folder holding ``assignments/<name>/`` for each assignment (the
student template, README, ``assignment.yaml`` and the public ``checks.py``) and,
on staff machines only, ``reference/<name>/`` (``solution.py`` and the hidden
``checks.py``). A student's copy has no ``reference/``: only public checks run.

What can be derived is not written by hand: the functions students write are
read from the template unless ``functions:`` lists them, and the hidden checks
are counted from ``reference/``; a copy made for students gets both written
into its settings (``settings_as_shipped``).

Everything is validated when it is loaded, so a typo in a course fails at once
with the file named, never halfway through grading someone.
"""

from __future__ import annotations

import ast
import json
import os
import re
import zlib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from grader import checkscan
from grader.checks import CheckSpec, load_file, validate
from grader.errors import SpecError, UsageError
from grader.sandbox.session import Limits

COURSE_ENV = "GRADER_COURSE"
_KEYS = {"title", "functions", "loops_only", "no_autograd", "requires_autograd", "vectorised", "seed", "preload",
         "limits", "threads", "hidden", "probes", "public_only", "equivalent_mutants"}
# Each rule setting, the rule it declares (the name the sandbox watches for), and settings it cannot share a function
# with: a function cannot be asked both to use autograd and to avoid it, or to loop and to avoid loops.
_RULE_SETTINGS = {"loops_only": "loops", "no_autograd": "autograd", "requires_autograd": "requires_autograd",
                  "vectorised": "vectorised"}
_CONTRADICTIONS = (("no_autograd", "requires_autograd"), ("loops_only", "vectorised"))
_PRELOADABLE = {"numpy", "torch"}


@dataclass(frozen=True)
class Assignment:
    name: str
    title: str
    folder: Path
    reference: Path | None
    functions: tuple[str, ...]
    loops_only: tuple[str, ...]
    no_autograd: tuple[str, ...]
    seed: int
    preload: tuple[str, ...]
    limits: Limits
    threads: int
    probes: Path | None = None
    hidden_count: int = 0  # as a release writes it; beside reference/ the hidden checks are counted instead
    hidden_points: float = 0.0
    public_only: tuple[tuple[str, str], ...] = ()  # functions checked on public inputs only, on purpose: (name, why)
    equivalent_mutants: tuple[tuple[str, str], ...] = ()  # (mutant id, why it cannot be told apart)
    functions_listed: bool = True  # False: functions were read from the template, not assignment.yaml
    requires_autograd: tuple[str, ...] = ()  # functions whose gradient must come from PyTorch's autograd
    vectorised: tuple[str, ...] = ()  # functions that may not loop in Python over the data they are given

    @property
    def rules(self) -> dict[str, tuple[str, ...]]:
        """Each rule ("loops", "autograd", "requires_autograd", "vectorised") and the functions it applies to."""
        named = {rule: getattr(self, key) for key, rule in _RULE_SETTINGS.items()}
        return {rule: functions for rule, functions in named.items() if functions}

    @property
    def course(self) -> Path:
        return self.folder.parent.parent

    @property
    def default_submissions(self) -> tuple[Path, Path]:
        return self.folder / f"{self.name}.py", self.folder / f"{self.name}.ipynb"

    @property
    def _package(self) -> str:
        # Named after the course's location too: two courses may both have an assignment2.
        return f"_grader_checks.{self.name}_{zlib.crc32(str(self.folder.resolve()).encode()):08x}"

    def _search(self) -> tuple[Path, ...]:
        return (self.folder,) + ((self.reference,) if self.reference is not None else ())

    def public_checks(self) -> list[CheckSpec]:
        path = self.folder / "checks.py"
        if not path.is_file():
            return []
        return load_file(path, f"{self._package}.public", hidden=False, search=self._search())

    def hidden_checks(self) -> list[CheckSpec]:
        if self.reference is None or not (self.reference / "checks.py").is_file():
            return []
        return load_file(self.reference / "checks.py", f"{self._package}.hidden", hidden=True, search=self._search())

    def checks(self, *, require_hidden: bool = True) -> list[CheckSpec]:
        """Public and (beside reference/) hidden checks, validated: names, functions, and what each reaches.

        require_hidden: refuse a function without a hidden check (grading does); grade check reports it
        beside the assignment's other problems instead.
        """
        public, hidden = self.public_checks(), self.hidden_checks()
        found = public + hidden
        validate(found, self.functions, str(self.folder))
        for specs, path in ((public, self.folder / "checks.py"),
                            (hidden, self.reference / "checks.py" if self.reference else None)):
            if path is not None and path.is_file():
                listed = {spec.run.__name__: spec.functions for spec in specs}
                checkscan.verify(path, self.functions, listed, self.probes)
        if self.reference is not None and require_hidden:
            self._require_hidden_checks(hidden)
        return found

    def _require_hidden_checks(self, hidden: list[CheckSpec]) -> None:
        """Every function has a hidden check, or is public-only by the author's choice (not both).

        A function checked only on public inputs can be passed with answers
        remembered from the public run.
        """
        covered = {function for spec in hidden for function in spec.functions}
        public_only = dict(self.public_only)
        uncovered = [f for f in self.functions if f not in covered and f not in public_only]
        if uncovered:
            raise SpecError(
                f"{self.reference / 'checks.py'}: no hidden check exercises {', '.join(uncovered)}; answers "
                "remembered from the public checks would earn their points. Add a hidden check on other inputs, or "
                f"list the function under public_only in {self.folder / 'assignment.yaml'} with the reason")
        both = [f for f in public_only if f in covered]
        if both:
            raise SpecError(f"{self.folder / 'assignment.yaml'}: public_only lists {', '.join(both)}, which "
                            f"{self.reference / 'checks.py'} has hidden checks for; take it off public_only")


def settings_as_shipped(assignment: Assignment) -> str:
    """assignment.yaml as a copy without the template's author or without reference/ needs it.

    What was derived here is written out: the function list (read from the
    template, which in a student's copy is their own work) and, beside
    reference/, the count and points of the hidden checks (reported as not
    run in a student's copy). The equivalent mutants, which quote the
    reference, are left out. Everything else is kept as written.
    """
    text = (assignment.folder / "assignment.yaml").read_text(encoding="utf-8")
    # equivalent_mutants quotes the reference solution, so it never leaves the course.
    dropped = ("equivalent_mutants:",) + (("hidden:",) if assignment.reference is not None else ())
    kept: list[str] = []
    skipping = False
    for line in text.splitlines():
        if re.match(r"^[A-Za-z_]", line):
            skipping = line.startswith(dropped)
        elif skipping and not line.strip():
            skipping = False
        if not skipping:
            kept.append(line)
    added = []
    if not assignment.functions_listed:
        added.append(f"functions: {json.dumps(list(assignment.functions))}")
    if assignment.reference is not None:
        hidden = assignment.hidden_checks()
        added.append(f"hidden: {{checks: {len(hidden)}, points: {sum(c.points for c in hidden):g}}}")
    if added:
        kept += ["# Written from the course when this copy was made:"] + added
    return "\n".join(kept) + "\n"


def find_course(start: Path | None = None, explicit: Path | None = None) -> Path:
    """The course folder: explicit, else $GRADER_COURSE, else the nearest folder up with assignments/."""
    if explicit is not None or os.environ.get(COURSE_ENV):
        course = Path(explicit or os.environ[COURSE_ENV]).resolve()
        if not (course / "assignments").is_dir():
            raise UsageError(f"{course} is not a course folder: it has no assignments/ folder.")
        return course
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "assignments").is_dir():
            return folder
    raise UsageError("No course found here. Run grade inside your copy of the course (the folder that holds "
                     "assignments/), or point to it with --course DIR.")


def list_assignments(course: Path) -> list[str]:
    root = course / "assignments"
    return sorted(p.name for p in root.iterdir() if (p / "assignment.yaml").is_file())


def load_assignment(course: Path, name: str) -> Assignment:
    folder = course / "assignments" / name
    config_path = folder / "assignment.yaml"
    if not config_path.is_file():
        known = ", ".join(list_assignments(course)) or "none"
        raise UsageError(f"There is no assignment called {name!r} in {course} (assignments here: {known}).")
    try:
        config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SpecError(f"{config_path}: not valid YAML: {exc}") from None
    if not isinstance(config, dict):
        raise SpecError(f"{config_path}: expected a mapping of settings")
    unknown = set(config) - _KEYS
    if unknown:
        raise SpecError(f"{config_path}: unknown setting(s) {', '.join(sorted(unknown))}; "
                        f"known: {', '.join(sorted(_KEYS))}")
    listed = "functions" in config
    functions = _names(config, "functions", config_path, required=True) if listed else template_functions(folder)
    ruled = {key: _names(config, key, config_path) for key in _RULE_SETTINGS}
    public_only = _public_only(config.get("public_only", {}), functions, config_path)
    for key, names in ruled.items():
        stray = [f for f in names if f not in functions]
        if stray:
            raise SpecError(f"{config_path}: {key} names {', '.join(stray)}, which functions does not list")
    for one, other in _CONTRADICTIONS:
        both = [f for f in ruled[one] if f in ruled[other]]
        if both:
            raise SpecError(f"{config_path}: {', '.join(both)} cannot be under both {one} and {other}")
    preload = _names(config, "preload", config_path) or ("numpy",)
    if not all(name.split(".")[0] in _PRELOADABLE for name in preload):
        raise SpecError(f"{config_path}: preload may name {', '.join(sorted(_PRELOADABLE))} and their submodules only")
    seed = config.get("seed", 0)
    threads = config.get("threads", 1)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise SpecError(f"{config_path}: seed must be a non-negative integer")
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise SpecError(f"{config_path}: threads must be a positive integer")
    probes = config.get("probes")
    if probes is not None and (not isinstance(probes, str) or not (folder / probes).is_file()):
        raise SpecError(f"{config_path}: probes must name a file in {folder}")
    reference = course / "reference" / name
    return Assignment(
        name=name,
        title=str(config.get("title", name)),
        folder=folder,
        reference=reference if reference.is_dir() else None,
        functions=functions,
        loops_only=ruled["loops_only"],
        no_autograd=ruled["no_autograd"],
        seed=seed,
        preload=preload,
        limits=_limits(config.get("limits", {}), config_path),
        threads=threads,
        probes=folder / probes if probes else None,
        **_hidden(config.get("hidden", {}), config_path),
        public_only=public_only,
        equivalent_mutants=_equivalent(config.get("equivalent_mutants", {}), config_path),
        functions_listed=listed,
        requires_autograd=ruled["requires_autograd"],
        vectorised=ruled["vectorised"],
    )


def _public_only(raw: Any, functions: tuple[str, ...], path: Path) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) and v.strip()
                                            for k, v in raw.items()):
        raise SpecError(f"{path}: public_only must map each function to the reason it has no hidden check, "
                        "such as `fill_rows: every input shows the same thing`")
    stray = [f for f in raw if f not in functions]
    if stray:
        raise SpecError(f"{path}: public_only names {', '.join(stray)}, which functions does not list")
    return tuple((name, reason.strip()) for name, reason in raw.items())


def template_functions(folder: Path) -> tuple[str, ...]:
    """The functions a student writes, read from the template: public top-level functions and public methods
    of top-level classes (``Class.method``), in the order they appear."""
    path = folder / f"{folder.name}.py"
    config_path = folder / "assignment.yaml"
    if not path.is_file():
        raise SpecError(f"{config_path}: without a functions list, the functions are read from the template "
                        f"{path.name}, which does not exist; list them under functions:")
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    except SyntaxError as exc:
        raise SpecError(f"{path}:{exc.lineno}: the template is not valid Python: {exc.msg}") from None
    found: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
            found.append(node.name)
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            found += [f"{node.name}.{m.name}" for m in node.body
                      if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and not m.name.startswith("_")]
    if not found:
        raise SpecError(f"{path}: the template defines no function for students to write (and "
                        f"{config_path.name} lists none under functions:)")
    return tuple(found)


def _equivalent(raw: Any, path: Path) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise SpecError(f"{path}: equivalent_mutants must map each mutant's id (as grade check prints it) to the "
                        "reason it cannot be told apart from the reference")
    blank = [k for k, v in raw.items() if not v.strip()]
    if blank:
        raise SpecError(f"{path}: equivalent_mutants gives no reason for {blank[0]!r}; say why no check can tell "
                        "it from the reference")
    return tuple(raw.items())


def _hidden(raw: Any, path: Path) -> dict:
    if not isinstance(raw, dict) or set(raw) - {"checks", "points"}:
        raise SpecError(f"{path}: hidden must be a mapping with checks and points")
    count, points = raw.get("checks", 0), raw.get("points", 0)
    if not isinstance(count, int) or count < 0 or not isinstance(points, (int, float)) or points < 0:
        raise SpecError(f"{path}: hidden checks and points must be non-negative numbers")
    return {"hidden_count": count, "hidden_points": float(points)}


def _names(config: dict, key: str, path: Path, required: bool = False) -> tuple[str, ...]:
    value = config.get(key, [])
    if required and not value:
        raise SpecError(f"{path}: {key} must list at least one name")
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SpecError(f"{path}: {key} must be a list of names")
    if len(set(value)) != len(value):
        raise SpecError(f"{path}: {key} lists a name twice")
    return tuple(value)


def _limits(raw: Any, path: Path) -> Limits:
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: limits must be a mapping")
    known = {f.name for f in fields(Limits)}
    unknown = set(raw) - known
    if unknown:
        raise SpecError(f"{path}: unknown limit(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
    try:
        return Limits(**raw)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"{path}: {exc}") from None
