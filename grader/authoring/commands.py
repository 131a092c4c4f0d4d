"""``grade check`` and ``grade new``: the course author's commands (parse, call the library, print).

Exit status of grade check: 0 every assignment checked is sound, 1 some is
not (each problem printed, a surviving mutant with its diff), 2 a usage or
configuration problem (``grader.cli.main`` maps GraderError to it).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from grader.authoring import render, scaffold, soundness
from grader.course import find_course, list_assignments
from grader.errors import UsageError
from grader.report.jsonreport import write_atomic


def _check_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grade check",
        description="Check that an assignment's checks are sound (staff checkout, with reference/): the reference "
                    "gets full marks under several seeds and the same report twice for one seed, the template and "
                    "stubs of every function get nothing, and every mutant of the reference solution loses points.",
        epilog="Exit status: 0 sound, 1 some problem found (each one printed, a surviving mutant as a diff), "
               "2 usage or configuration problem.")
    parser.add_argument("assignments", nargs="*", metavar="ASSIGNMENT")
    parser.add_argument("--all", action="store_true", help="check every assignment of the course")
    parser.add_argument("--seeds", type=int, default=3, metavar="N",
                        help="grade the reference under N seeds (default 3)")
    parser.add_argument("--seed", type=int, metavar="N", help="the first of those seeds (default: the assignment's)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                        help="versions graded at once (default: one per CPU)")
    parser.add_argument("--only", action="append", default=[], metavar="FUNCTION",
                        help="stub and mutate only this function (repeatable); while writing its checks")
    parser.add_argument("--no-mutants", action="store_true", help="leave mutation testing out (a quicker look)")
    parser.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu",
                        help="where the checks' tensors go (default: cpu)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the findings as JSON to FILE")
    parser.add_argument("--course", type=Path, metavar="DIR", help="course folder (default: found from here)")
    return parser


def run_check(argv: list[str]) -> int:
    args = _check_parser().parse_args(argv)
    if args.all == bool(args.assignments):
        raise UsageError("name the assignments to check, or give --all (not both)")
    if args.seeds < 1 or args.jobs < 1:
        raise UsageError("--seeds and --jobs must be at least 1")
    course = find_course(explicit=args.course)
    names = list_assignments(course) if args.all else args.assignments
    options = soundness.Options(seeds=args.seeds, seed=args.seed, jobs=args.jobs, device=args.device,
                                only=tuple(args.only), mutate=not args.no_mutants)
    verdicts = []
    for name in names:
        verdict = soundness.check(course, name, options, progress=_progress)
        _progress("")
        sys.stdout.write(render.text(verdict) + "\n")
        sys.stdout.flush()
        verdicts.append(verdict)
    if len(verdicts) > 1:
        sys.stdout.write(render.summary(verdicts))
    if args.json is not None:
        write_atomic(args.json, render.dumps(verdicts))
    return 0 if all(v.sound for v in verdicts) else 1


def _progress(line: str) -> None:
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\033[K{line}")
    sys.stderr.flush()


def run_new(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="grade new",
        description="Start an assignment: assignments/NAME/ (template with cells, notebook twin, README, settings, "
                    "public checks) and reference/NAME/ (solution, hidden checks), with one worked function per "
                    "--function that grade check passes. Replace each with your own, then run grade check NAME.")
    parser.add_argument("name", help="the assignment's name (a Python identifier, such as assignment5)")
    parser.add_argument("--function", action="append", default=[], metavar="NAME",
                        help="a function students write (repeatable; default: one called double)")
    parser.add_argument("--title", help="the assignment's title (default: its name)")
    parser.add_argument("--course", type=Path, metavar="DIR", help="course folder (default: found from here)")
    args = parser.parse_args(argv)
    course = find_course(explicit=args.course)
    written = scaffold.new_assignment(course, args.name, tuple(args.function) or ("double",), title=args.title)
    for path in written:
        print(f"wrote {path.relative_to(course)}")
    print(f"Next: write each function in reference/{args.name}/solution.py, its contract in the template and "
          f"README, and its checks; then run grade check {args.name}.")
    return 0
