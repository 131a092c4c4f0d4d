"""The ``grade`` command line: parse, call the library, write, map to an exit code.

    grade ASSIGNMENT [--submission PATH] [--json FILE] [--seed N] [--device auto|cpu|cuda]

Exit status: 0 every check passed; 1 some check lost points (a broken
submission included); 2 a usage or configuration problem, with what to do.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from enum import IntEnum
from pathlib import Path

from grader import __version__
from grader.api import DEVICES, grade
from grader.course import find_course, load_assignment
from grader.errors import GraderError, UsageError
from grader.model import LoadNote, SubmissionReport
from grader.report import jsonreport, text
from grader.submission import choose, locate


class ExitCode(IntEnum):
    OK = 0
    POINTS_LOST = 1
    USAGE = 2


def exit_code(report: SubmissionReport) -> ExitCode:
    return ExitCode.OK if report.all_passed else ExitCode.POINTS_LOST


def _grade_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grade",
        description="Grade a submission for an assignment and print what passed and what to fix.",
        epilog="Exit status: 0 all checks passed, 1 some check lost points, 2 usage or configuration problem.",
    )
    parser.add_argument("assignment", help="assignment name, such as assignment2")
    parser.add_argument("--submission", type=Path, metavar="PATH",
                        help="a .py or .ipynb file, or a folder holding one "
                             "(default: assignments/ASSIGNMENT/ASSIGNMENT.py or .ipynb)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the report as JSON to FILE ('-' for stdout)")
    parser.add_argument("--seed", type=int, metavar="N", help="seed for the random inputs (reproduces a run)")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="where tensors go (default: auto)")
    parser.add_argument("--course", type=Path, metavar="DIR", help="course folder (default: found from here)")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="run only this check, or the checks of this function (repeatable)")
    parser.add_argument("--no-color", action="store_true", help="plain text even on a terminal")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _default_submission(folder: Path, name: str) -> tuple[Path, str | None]:
    found = [p for p in (folder / f"{name}.py", folder / f"{name}.ipynb") if p.is_file()]
    if not found:
        raise UsageError(f"No submission found: expected {folder / name}.py or .ipynb. "
                         "Pass the file to grade with --submission PATH.")
    return choose(found)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def run_grade(argv: list[str]) -> int:
    args = _grade_parser().parse_args(argv)
    course = find_course(explicit=args.course)
    assignment = load_assignment(course, args.assignment)
    if args.submission is not None:
        path, remark = locate(args.submission, assignment.name)
    else:
        path, remark = _default_submission(assignment.folder, assignment.name)
    notes = (LoadNote("file", path.name, remark),) if remark else ()
    report = grade(assignment, path, seed=args.seed, device=args.device, shown_as=_shown(path), notes=notes,
                   only=tuple(args.only))
    if args.json is not None and str(args.json) == "-":
        sys.stdout.write(jsonreport.dumps(report))
    else:
        colour = sys.stdout.isatty() and "NO_COLOR" not in os.environ and not args.no_color
        plain = "utf" not in (sys.stdout.encoding or "").lower()
        sys.stdout.write(text.render(report, width=shutil.get_terminal_size().columns, colour=colour,
                                     ascii_only=plain))
        if args.json is not None:
            jsonreport.write(report, args.json)
    return exit_code(report)


def _batch_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grade batch",
        description="Grade every submission in a folder: per-student reports and feedback, grades.csv, a summary.",
        epilog="Each entry of SUBMISSIONS is one student: a .py or .ipynb file, or a folder holding one. "
               "Re-running resumes: unchanged submissions are skipped unless --force. Exit status: 0 every "
               "student has a row, 1 some could not be graded (see the summary), 2 usage problem.",
    )
    parser.add_argument("assignment")
    parser.add_argument("submissions", type=Path, metavar="SUBMISSIONS_DIR")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="where the results go")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                        help="grading processes on this machine (default: one per CPU)")
    parser.add_argument("--force", action="store_true", help="regrade everyone, even unchanged submissions")
    parser.add_argument("--seed", type=int, metavar="N")
    parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.add_argument("--course", type=Path, metavar="DIR")
    parser.add_argument("--executor", choices=("local", "dask"), default="local",
                        help="local processes (default) or a Dask distributed cluster")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="the Dask scheduler, e.g. tcp://10.0.0.5:8786")
    return parser


def run_batch_command(argv: list[str]) -> int:
    from grader.batch.run import BatchOptions, run_batch

    args = _batch_parser().parse_args(argv)
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    course = find_course(explicit=args.course)
    options = BatchOptions(assignment=args.assignment, submissions=args.submissions, out=args.out, jobs=args.jobs,
                           force=args.force, seed=args.seed, device=args.device, executor=args.executor,
                           scheduler=args.scheduler)
    totals = run_batch(course, options)
    return ExitCode.POINTS_LOST if totals.grader_errors else ExitCode.OK


def run_make_notebook(argv: list[str]) -> int:
    from grader import notebooks

    return notebooks.main(argv)


COMMANDS = {"batch": run_batch_command, "make-notebook": run_make_notebook}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = COMMANDS.get(argv[0], run_grade) if argv else run_grade
    if argv and argv[0] in COMMANDS:
        argv = argv[1:]
    try:
        return int(command(argv))
    except SystemExit as exc:  # argparse: --help, --version, or a usage error
        return int(exc.code or 0) if isinstance(exc.code, int) else ExitCode.USAGE
    except GraderError as exc:
        print(f"grade: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except KeyboardInterrupt:
        print("grade: interrupted", file=sys.stderr)
        return 130
