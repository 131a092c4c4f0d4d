"""``grade check``: whether an assignment's checks can tell right from wrong.

In order, for one assignment of a staff checkout (one with ``reference/``):

1. settings: it loads (which validates settings, checks and what checks
   reach), and its files agree (``grader.authoring.layout``);
2. reference: the reference solution gets full marks under several seeds, and
   the same seed gives the same report twice;
3. template: the untouched template gets nothing;
4. stubs: each declared function replaced by a stub (``grader.authoring.stubs``)
   gets nothing from that function's checks;
5. mutants: each mutant of the reference (``grader.authoring.mutants``) loses
   a point on some check, unless the author marked it equivalent with a reason
   (``equivalent_mutants:`` in assignment.yaml).

Stubs and mutants are graded in the sandbox like any submission. A mutant is
graded first on the quick checks of the function it changes, then on those of
the functions that call it, then on the slow ones (trainings), and stops at its
first lost point.
"""

from __future__ import annotations

import ast
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.authoring import layout
from grader.authoring.mutants import Mutant, mutants
from grader.authoring.pool import Pool
from grader.authoring.solution import exercised, reach
from grader.authoring.stubs import Stub, stubs
from grader.authoring.verdict import MutantOutcome, Problem, Step, StubOutcome, Verdict
from grader.checks import CheckSpec
from grader.course import Assignment, load_assignment
from grader.errors import GraderError, UsageError
from grader.model import SubmissionReport
from grader.report.jsonreport import report_dict
from grader.runner import BESIDES

Progress = Callable[[str], None]
_SLOW = 0.25  # seconds a check took on the reference, past which a mutant meets it only after the quick ones


@dataclass(frozen=True)
class Options:
    """seeds: how many seeds the reference is graded under, from seed (default: the assignment's) on.

    jobs: versions graded at once. only: stub and mutate just these functions.
    mutate: False leaves the mutants out (a quicker look while writing checks).
    """

    seeds: int = 3
    seed: int | None = None
    jobs: int = os.cpu_count() or 1
    device: str = "cpu"
    only: tuple[str, ...] = ()
    mutate: bool = True


class _Run:
    """The state of one check of one assignment, step after step."""

    def __init__(self, assignment: Assignment, checks: list[CheckSpec], solution: str, options: Options,
                 progress: Progress) -> None:
        self.assignment = assignment
        self.checks = checks
        self.solution = solution
        self.options = options
        self.progress = progress
        base = assignment.seed if options.seed is None else options.seed
        self.seeds = tuple(base + k for k in range(max(1, options.seeds)))
        self.problems: list[Problem] = []
        self.notes: list[str] = []
        self.summaries: list[tuple[Step, str]] = []
        self.seconds: list[tuple[Step, float]] = []
        self.skipped: list[Step] = []
        self.stub_outcomes: list[StubOutcome] = []
        self.durations: dict[str, float] = {}  # each check's seconds on the reference
        self.mutant_outcomes: list[MutantOutcome] = []

    def problem(self, step: Step, text: str, detail: str = "") -> None:
        self.problems.append(Problem(step, text, detail))

    def problems_of(self, step: Step) -> list[Problem]:
        return [p for p in self.problems if p.step == step]

    def timed(self, step: Step, work: Callable[[], None]) -> None:
        started = time.perf_counter()
        self.progress(f"{self.assignment.name}: {step}")
        work()
        self.seconds.append((step, round(time.perf_counter() - started, 3)))

    def verdict(self) -> Verdict:
        return Verdict(self.assignment.name, self.seeds, tuple(self.problems), tuple(self.notes),
                       tuple(self.summaries), tuple(self.stub_outcomes), tuple(self.mutant_outcomes),
                       tuple(self.seconds), tuple(self.skipped))

    def names(self, function: str) -> tuple[str, ...]:
        return tuple(c.name for c in self.checks if exercised(function, c.functions))


def check(course: Path, name: str, options: Options = Options(), progress: Progress = lambda line: None) -> Verdict:
    """Check one assignment of the course at course; see the module's docstring."""
    started = time.perf_counter()
    try:
        assignment = load_assignment(course, name)
    except UsageError:
        raise
    except GraderError as exc:
        return Verdict(name, (), (Problem("settings", str(exc)),), seconds=(("settings", _since(started)),))
    if assignment.reference is None:
        raise UsageError(f"grade check needs the staff checkout: {course / 'reference' / name} does not exist")
    unknown = [f for f in options.only if f not in assignment.functions and not f.startswith("_")]
    if unknown:
        raise UsageError(f"--only {', '.join(unknown)}: not a function of {name} "
                         f"(its functions: {', '.join(assignment.functions)})")
    solution_path = assignment.reference / "solution.py"
    try:
        checks = assignment.checks(require_hidden=False)  # a function without one is reported with the rest
        solution = solution_path.read_text(encoding="utf-8")
        ast.parse(solution, str(solution_path))
    except (GraderError, OSError, SyntaxError) as exc:
        return Verdict(name, (), (Problem("settings", str(exc)),), seconds=(("settings", _since(started)),))
    run = _Run(assignment, checks, solution, options, progress)
    found = layout.inspect(assignment, checks, solution)
    run.problems += found.problems
    run.notes += found.notes
    run.summaries.append(("settings", found.summary))
    run.seconds.append(("settings", _since(started)))
    try:
        assignment.checks()  # as grading loads it: a function without a hidden check stops grading
    except GraderError:
        run.skipped += ["reference", "template", "stubs", "mutants"]
        run.notes.append("nothing was graded: grading refuses this assignment until the settings problems above "
                         "are mended")
        return run.verdict()
    with Pool(assignment, jobs=options.jobs, device=options.device) as pool:
        run.timed("reference", lambda: _reference(run, pool))
        run.timed("template", lambda: _template(run, pool))
        if run.problems_of("reference"):
            run.skipped += ["stubs", "mutants"]
            run.notes.append("stubs and mutants were not graded: they are measured against a reference that gets "
                             "full marks")
        else:
            run.timed("stubs", lambda: _stubs(run, pool))
            if options.mutate:
                run.timed("mutants", lambda: _mutants(run, pool))
            else:
                run.skipped.append("mutants")
    return run.verdict()


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 3)


# --- reference and template -------------------------------------------------------------


def _reference(run: _Run, pool: Pool) -> None:
    seeds = run.seeds
    first = pool.grade(run.solution, seed=seeds[0])  # alone first: it loads the checks and the reference
    run.durations = {r.name: r.seconds for r in first.results}
    reports = [first, *pool.map(lambda seed: pool.grade(run.solution, seed=seed), [seeds[0], *seeds[1:]])]
    for seed, report in zip([seeds[0], *seeds], reports):
        lost = [r for r in report.results if r.score < r.max_score]
        if lost:
            shown = "\n".join(f"{r.name} ({r.status}): {r.message} {r.details}".strip() for r in lost)
            run.problem("reference", f"the reference solution loses points under seed {seed} on "
                                     f"{', '.join(r.name for r in lost)}", shown)
    once, again = _comparable(first), _comparable(reports[1])
    if once != again:
        differ = [a["name"] for a, b in zip(once["tests"], again["tests"]) if a != b]
        run.problem("reference", f"the same seed ({seeds[0]}) gave two different reports; these checks differ: "
                                 f"{', '.join(differ) or 'the notes'}. A check or the reference draws random numbers "
                                 "from outside the generators it is given (rng, seed)")
    if not run.problems_of("reference"):
        run.summaries.append(("reference", f"full marks ({first.score:g}/{first.max_score:g}) under seeds "
                                           f"{', '.join(map(str, seeds))}; the same seed gives the same report"))


def _comparable(report: SubmissionReport) -> dict[str, Any]:
    data = report_dict(report)
    data.pop("seconds")
    for test in data["tests"]:
        test.pop("seconds")
    return data


def _template(run: _Run, pool: Pool) -> None:
    template = run.assignment.folder / f"{run.assignment.name}.py"
    if not template.is_file():
        run.skipped.append("template")
        return
    report = pool.grade_file(template, seed=run.seeds[0])
    earning = [r for r in report.results if r.score > 0]
    if earning:
        run.problem("template", f"the untouched template earns {report.score:g} points, from "
                                f"{', '.join(r.name for r in earning)}")
    else:
        run.summaries.append(("template", f"the untouched template gets 0 of {report.max_score:g} points"))


# --- stubs -------------------------------------------------------------------------------


def _stubs(run: _Run, pool: Pool) -> None:
    wanted = [f for f in run.assignment.functions if not run.options.only or f in run.options.only]
    made = [s for s in stubs(run.solution, tuple(wanted)) if run.names(s.function)]
    run.stub_outcomes += pool.map(lambda stub: _grade_stub(run, pool, stub), made)
    for function in wanted:
        bad = [s for s in run.stub_outcomes if s.function == function and (s.score > 0 or s.crashed or s.gated)]
        if not bad:
            continue
        said = "; ".join(_stub_said(s) for s in bad)
        of = sum(1 for s in run.stub_outcomes if s.function == function)
        run.problem("stubs", f"{function}: {len(bad)} of its {of} stubs earn points, crash a check, or get 0 only "
                             "from a rule", said)
    if not run.problems_of("stubs"):
        run.summaries.append(("stubs", f"{len(made)} stubs of {len(wanted)} functions get 0 points each"))


def _stub_said(stub: StubOutcome) -> str:
    if stub.crashed:
        return f"{stub.kind}: a check crashed on it ({stub.crashed})"
    if stub.score > 0:
        return f"{stub.kind}: {stub.score:g} of {stub.max_score:g} points from {', '.join(stub.earned)}"
    return (f"{stub.kind}: a rule, not the checks, took the points of {', '.join(stub.gated)}, so whether the "
            "checks would pass it is unknown")


def _grade_stub(run: _Run, pool: Pool, stub: Stub) -> StubOutcome:
    only = run.names(stub.function)
    try:
        report = pool.grade(stub.source, seed=run.seeds[0], only=only)
    except GraderError as exc:
        return StubOutcome(stub.function, stub.kind, 0.0, 0.0, crashed=str(exc))
    earned = tuple(r.name for r in report.results if r.score > 0)
    # A rule's gate puts its own message in place of a check that passed (grader.runner.classify); one that failed
    # as well keeps its own words after BESIDES, and then the checks did give the stub nothing.
    gated = tuple(r.name for r in report.results if r.message.startswith("No points for ") and BESIDES not in r.message)
    return StubOutcome(stub.function, stub.kind, report.score, report.max_score, earned, gated=gated)


# --- mutants -----------------------------------------------------------------------------


def _mutants(run: _Run, pool: Pool) -> None:
    only = run.options.only
    made = mutants(run.solution, lambda name: not only or name in only or name.split(".")[0] in only)
    reached = reach(run.solution)
    marked = dict(run.assignment.equivalent_mutants)
    done = [0]

    def grade_one(mutant: Mutant) -> MutantOutcome:
        outcome = _grade_mutant(run, pool, mutant, reached.get(mutant.function, {mutant.function}), marked)
        done[0] += 1
        if done[0] % 25 == 0:
            run.progress(f"{run.assignment.name}: mutants {done[0]}/{len(made)}")
        return outcome

    run.mutant_outcomes += pool.map(grade_one, made)
    ids = {o.mutant.id for o in run.mutant_outcomes}
    for outcome in run.mutant_outcomes:
        mutant = outcome.mutant
        if outcome.verdict == "survived":
            run.problem("mutants", f"mutant survived: {mutant.id} (line {mutant.line}; full marks from "
                                   f"{', '.join(outcome.checks)})", outcome.diff)
        elif outcome.verdict == "unreached":
            run.problem("mutants", f"mutant survived: {mutant.id} (line {mutant.line}; no check exercises "
                                   f"{mutant.function} or anything that calls it)", outcome.diff)
        elif outcome.verdict == "crashed":
            run.problem("mutants", f"a check crashed on mutant {mutant.id}: {outcome.by}", outcome.diff)
        elif outcome.verdict == "killed" and mutant.id in marked:
            run.problem("mutants", f"{mutant.id} is marked equivalent in assignment.yaml, but {outcome.by} "
                                   "tells it from the reference: remove the mark")
    if not only:
        for stale in sorted(set(marked) - ids):
            run.problem("mutants", f"equivalent_mutants in assignment.yaml names {stale!r}, which is no longer made "
                                   "(the code it quotes changed): remove it, or mark the mutant grade check prints")
    total = run.verdict().total()
    run.summaries.append(("mutants", f"{total.made} made, {total.killed} killed, {total.survived} survived, "
                                     f"{total.equivalent} marked equivalent"))


def _grade_mutant(run: _Run, pool: Pool, mutant: Mutant, callers: Iterable[str],
                  marked: dict[str, str]) -> MutantOutcome:
    own = run.names(mutant.function)
    others = tuple(dict.fromkeys(name for caller in callers for name in run.names(caller) if name not in own))
    diff = mutant.diff(run.solution)
    ran: list[str] = []
    # Most mutants lose a point on a quick check of their own function; slow checks (a training) run
    # only for those that get past every quick one. The order changes what it costs, never the verdict.
    quick = [tuple(n for n in names if run.durations.get(n, 0.0) <= _SLOW) for names in (own, others)]
    slow = [tuple(n for n in names if run.durations.get(n, 0.0) > _SLOW) for names in (own, others)]
    for only in (*quick, *slow):
        if not only:
            continue
        try:
            report = pool.grade(mutant.source, seed=run.seeds[0], only=only, stop_at_first_loss=True)
        except GraderError as exc:
            return MutantOutcome(mutant, "crashed", str(exc), tuple(ran), diff)
        ran += [r.name for r in report.results]
        lost = [r for r in report.results if r.score < r.max_score]
        if lost:
            return MutantOutcome(mutant, "killed", lost[0].name, tuple(ran), diff)
    if not ran:
        return MutantOutcome(mutant, "unreached", "", (), diff)
    if mutant.id in marked:
        return MutantOutcome(mutant, "equivalent", marked[mutant.id], tuple(ran), diff)
    return MutantOutcome(mutant, "survived", "", tuple(ran), diff)
