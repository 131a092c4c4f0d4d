"""The ``grade`` command line: parse, call the library, write, map to an exit code.

    grade ASSIGNMENT [--submission PATH] [--format FORMAT] [--output FILE] [--seed N] [--device ...]
    grade ASSIGNMENT --watch [--submission PATH]
    grade batch ASSIGNMENT SUBMISSIONS_DIR --out DIR
    grade release ASSIGNMENT --out DIR
    grade gradescope ASSIGNMENT --out FILE.zip
    grade classroom50 ASSIGNMENT --out DIR
    grade make-notebook TEMPLATE.py [...]
    grade check ASSIGNMENT... | --all
    grade new NAME [--function NAME]...
    grade doctor [--json]

``grade --help`` lists every command in COMMANDS, each with the first line of its docstring.

Exit status: 0 every check passed; 1 some check lost points (a broken
submission included); 2 a usage or configuration problem, with what to do;
3 the grader itself failed (an internal error, never the submission's fault).
The platform formats (gradescope, classroom50, github) exit 0 once grading
is done whatever the score: the platform reads the score from the files.
"""

from __future__ import annotations

import argparse
import atexit
import dataclasses
import difflib
import json
import os
import shutil
import signal
import sys
import threading
from enum import IntEnum
from pathlib import Path

from grader import __version__
from grader.api import DEVICES, grade, report_without_submission
from grader.course import Assignment, find_course, load_assignment
from grader.errors import GraderError, GraderFault, UsageError
from grader.finder import Found, Wanted, find, locate, opened
from grader.model import LoadNote, SubmissionReport
from grader.report import formats, github, gradescope, jsonreport, text
from grader.report.jsonreport import write_atomic
from grader.sandbox.client import ForkServer
from grader.sandbox.isolation import PROFILES


class ExitCode(IntEnum):
    OK = 0
    POINTS_LOST = 1
    USAGE = 2
    INTERNAL = 3


def exit_code(report: SubmissionReport) -> ExitCode:
    return ExitCode.OK if report.all_passed else ExitCode.POINTS_LOST


def _grade_parser() -> argparse.ArgumentParser:
    commands = "\n".join(f"  {name:<14} {_summary(run)}" for name, run in COMMANDS.items())
    parser = argparse.ArgumentParser(
        prog="grade",
        usage="grade ASSIGNMENT [options]\n       grade COMMAND [options]   (grade COMMAND --help for its options)",
        description="Grade a submission for an assignment and print what passed and what to fix.\n\n"
                    f"commands:\n{commands}",
        epilog="Exit status: 0 all checks passed, 1 some check lost points, 2 usage or configuration problem.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("assignment", help="assignment name, such as assignment2")
    parser.add_argument("--submission", type=Path, metavar="PATH",
                        help="a .py or .ipynb file, or a folder or .zip archive holding one "
                             "(default: assignments/ASSIGNMENT/ASSIGNMENT.py or .ipynb)")
    parser.add_argument("--format", choices=formats.names(), default="text",  # grader/report/formats/: one each
                        help=formats.help_text())
    parser.add_argument("--output", type=Path, metavar="PATH",
                        help="write the format to PATH instead of stdout, and print the text report "
                             "(classroom50: the folder for its two files, default: here)")
    parser.add_argument("--hidden-visibility", choices=gradescope.VISIBILITIES, default="after_published",
                        help="gradescope: when students see hidden checks (default: after_published)")
    parser.add_argument("--json", type=Path, metavar="FILE",
                        help="also write the report as JSON to FILE ('-' for stdout)")
    parser.add_argument("--seed", type=int, metavar="N", help="seed for the random inputs (reproduces a run)")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="where tensors go (default: auto)")
    parser.add_argument("--course", type=Path, metavar="DIR", help="course folder (default: found from here)")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="run only this check, or the checks of this function (repeatable)")
    parser.add_argument("--require-isolation", choices=sorted(PROFILES), metavar="PROFILE",
                        help="refuse to grade unless the sandbox holds the layers PROFILE needs "
                             f"({', '.join(sorted(PROFILES))}; the platform autograders use theirs)")
    parser.add_argument("--watch", action="store_true",
                        help="grade again each time the submission is saved, showing what changed (Ctrl-C to stop)")
    parser.add_argument("--no-color", action="store_true", help="plain text even on a terminal")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _summary(run) -> str:
    return (run.__doc__ or "").strip().splitlines()[0] if run.__doc__ else ""


def _default_submission(assignment: Assignment) -> Found:
    present = [p for p in assignment.default_submissions if p.is_file()]
    if not present:
        raise UsageError(f"No submission found: expected {assignment.folder / assignment.name}.py or .ipynb. "
                         "Pass the file to grade with --submission PATH.")
    return find(present, _wanted(assignment))


def _wanted(assignment: Assignment) -> Wanted:
    return Wanted(assignment.name, assignment.functions, assignment.folder)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def run_grade(argv: list[str]) -> int:
    args = _grade_parser().parse_args(argv)
    if args.watch:
        return _watch(args)
    if args.format == "github" and args.output is not None:
        raise UsageError("--format github writes where the runner says ($GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY); "
                         "leave out --output")
    if args.json is not None and str(args.json) == "-" and args.format != "text":
        raise UsageError(f"--json - would mix JSON into the {args.format} output on stdout; "
                         "use --format json, or --json FILE")
    try:
        report = _grade_from_args(args)
    except Exception as exc:  # Gradescope shows students results.json only: say there what went wrong
        if args.format == "gradescope" and args.output is not None:
            problem = str(exc) if isinstance(exc, GraderError) else f"the grader failed: {type(exc).__name__}: {exc}"
            write_atomic(args.output, gradescope.failure(problem))
        raise
    _write(report, args)
    if args.json is not None and str(args.json) != "-":
        jsonreport.write(report, args.json)
    if formats.get(args.format).platform:
        return ExitCode.OK
    return exit_code(report)


def _grade_from_args(args: argparse.Namespace) -> SubmissionReport:
    course = find_course(explicit=args.course)
    assignment = load_assignment(course, args.assignment)
    # The sandbox starts importing NumPy (and PyTorch) now, while this process finds the file and loads the checks.
    with ForkServer(assignment.preload, assignment.threads, disk_mb=assignment.limits.disk_mb) as server:
        server.launch()
        return _grade_found(args, assignment, server)


def _grade_found(args: argparse.Namespace, assignment: Assignment, server: ForkServer) -> SubmissionReport:
    try:
        found = _find(args, assignment)
    except UsageError as exc:
        if not formats.get(args.format).platform:
            raise
        # On a platform the folder is whatever the student handed in: nothing gradable is their result.
        return report_without_submission(assignment, str(exc), seed=args.seed, device=args.device,
                                         shown_as=_shown(args.submission or assignment.folder),
                                         only=tuple(args.only))
    return _grade_file(args, assignment, found, server)


def _find(args: argparse.Namespace, assignment: Assignment) -> Found:
    if args.submission is not None:
        return locate(args.submission, _wanted(assignment))
    return _default_submission(assignment)


def _grade_file(args: argparse.Namespace, assignment: Assignment, found: Found, server: ForkServer) -> SubmissionReport:
    shown = _shown_found(found)
    notes = (LoadNote("file", shown, found.remark),) if found.remark else ()
    with opened(found) as path:
        return grade(assignment, path, seed=args.seed, device=args.device, shown_as=shown, notes=notes,
                     only=tuple(args.only), require=args.require_isolation, server=server)


def _shown_found(found: Found) -> str:
    return _shown(found.path) if found.member is None else found.shown


def _watch(args: argparse.Namespace) -> int:
    from grader import filewatch, watch

    if args.format != "text" or args.output is not None or (args.json is not None and str(args.json) == "-"):
        raise UsageError("--watch prints its reports as text: leave out --format, --output and --json -")
    course = find_course(explicit=args.course)
    assignment = load_assignment(course, args.assignment)
    if args.submission is not None:
        if not args.submission.exists():
            raise UsageError(f"{args.submission} does not exist; give the file (or folder) to watch.")
        spots = filewatch.spots_for(args.submission)
    else:
        spots = [filewatch.Spot(assignment.folder, frozenset(p.name for p in assignment.default_submissions))]
    display = watch.Display(full=lambda report: _text(report, plain=args.no_color),
                            width=shutil.get_terminal_size().columns, colour=_colour(args.no_color))

    def new_server() -> ForkServer:
        return ForkServer(assignment.preload, assignment.threads, disk_mb=assignment.limits.disk_mb)

    def grade_found(found: Found, server: ForkServer) -> SubmissionReport:
        return _grade_file(args, assignment, found, server)

    def located() -> Found:
        found = _find(args, assignment)
        return dataclasses.replace(found, shown=_shown_found(found))

    return watch.run(new_server, located, grade_found, spots, display, json_path=args.json)


def _write(report: SubmissionReport, args: argparse.Namespace) -> None:
    """The report in the format asked for, and the text report wherever the format leaves stdout free."""
    chosen = formats.get("json" if args.format == "text" and str(args.json) == "-" else args.format)
    destination = formats.Destination(args.output, sys.stdout, os.environ, args.hidden_visibility)
    if not chosen.write(report, destination):
        return
    rendered = _text(report, plain=args.format != "text" or args.no_color)
    if chosen.job_log:  # the job log: student text must not become commands
        rendered = github.guarded_log(rendered)
    sys.stdout.write(rendered)


def _colour(plain: bool) -> bool:
    return not plain and sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _text(report: SubmissionReport, plain: bool) -> str:
    colour = _colour(plain)
    ascii_only = "utf" not in (sys.stdout.encoding or "").lower()
    return text.render(report, width=shutil.get_terminal_size().columns, colour=colour, ascii_only=ascii_only)


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
    parser.add_argument("--roster", type=Path, metavar="CSV",
                        help="Canvas gradebook export; lms/canvas.csv then carries Canvas's own student identifiers")
    parser.add_argument("--lms-column", metavar="NAME",
                        help="the assignment's name in the LMS gradebook (default: its title)")
    return parser


def run_batch_command(argv: list[str]) -> int:
    """grade every submission in a folder: reports, feedback, grades.csv, LMS files and a class summary"""
    from grader.batch.run import BatchOptions, run_batch

    args = _batch_parser().parse_args(argv)
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    course = find_course(explicit=args.course)
    options = BatchOptions(assignment=args.assignment, submissions=args.submissions, out=args.out, jobs=args.jobs,
                           force=args.force, seed=args.seed, device=args.device, executor=args.executor,
                           scheduler=args.scheduler, roster=args.roster, lms_column=args.lms_column)
    totals = run_batch(course, options)
    return ExitCode.POINTS_LOST if totals.grader_errors else ExitCode.OK


def _packaging_parser(prog: str, description: str, out_help: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("assignment")
    parser.add_argument("--out", type=Path, required=True, metavar="PATH", help=out_help)
    parser.add_argument("--course", type=Path, metavar="DIR", help="course folder (default: found from here)")
    return parser


def run_release(argv: list[str]) -> int:
    """write what students receive: the template, its notebook, README, public checks and the grader"""
    from grader.platforms.release import build_release

    parser = _packaging_parser("grade release", "Write what students receive: the template, its notebook twin, "
                               "README, public checks and the grader; nothing from reference/.",
                               "a new or empty folder for the release")
    parser.add_argument("--github", action="store_true",
                        help="add .github/workflows/classroom.yml, which grades every push with the grading reporter")
    args = parser.parse_args(argv)
    files = build_release(find_course(explicit=args.course), args.assignment, args.out, github=args.github)
    print(f"Wrote the release of {args.assignment} to {args.out} ({len(files)} files).")
    return ExitCode.OK


def run_gradescope(argv: list[str]) -> int:
    """build the autograder zip to upload to a Gradescope programming assignment"""
    from grader.platforms.gradescope import build_gradescope

    parser = _packaging_parser("grade gradescope", "Build the Gradescope autograder zip (setup.sh, run_autograder, "
                               "the grader, public and hidden checks, the reference).", "the zip file to write")
    parser.add_argument("--hidden-visibility", choices=gradescope.VISIBILITIES, default="after_published",
                        help="when students see hidden checks' results (default: after_published)")
    args = parser.parse_args(argv)
    names = build_gradescope(find_course(explicit=args.course), args.assignment, args.out,
                             hidden_visibility=args.hidden_visibility)
    print(f"Wrote {args.out} ({len(names)} files). Upload it as the assignment's autograder on Gradescope.")
    return ExitCode.OK


def run_classroom50(argv: list[str]) -> int:
    """build the Classroom 50 autograder bundle for a classroom's config repository"""
    from grader.platforms.classroom50 import build_classroom50

    parser = _packaging_parser("grade classroom50", "Build the Classroom 50 bundle (autograder.py, the grader, "
                               "public and hidden checks, the reference).",
                               "folder to write the bundle folder into")
    parser.add_argument("--slug", metavar="SLUG", help="the assignment's slug on Classroom 50 (default: its name)")
    args = parser.parse_args(argv)
    bundle = build_classroom50(find_course(explicit=args.course), args.assignment, args.out, slug=args.slug)
    print(f"Wrote {bundle}. Commit it to your classroom's config repository as "
          f"CLASSROOM/autograders/{bundle.name}/.")
    return ExitCode.OK


def run_doctor(argv: list[str]) -> int:
    """say which isolation layers protect student code on this machine, and try them as a student would"""
    from grader import doctor

    parser = argparse.ArgumentParser(
        prog="grade doctor",
        description="Start the sandbox as grading does, try what a determined student would, and say which "
                    "isolation layers hold on this machine for this user and what each stops.",
        epilog="Exit status: 0 student code is isolated here, 1 it is not.")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    args = parser.parse_args(argv)
    diagnosis = doctor.diagnose()
    if args.json:
        print(json.dumps(doctor.to_data(diagnosis), indent=2))
    else:
        print(doctor.render(diagnosis, max(60, shutil.get_terminal_size().columns)), end="")
    return ExitCode.OK if diagnosis.isolated else ExitCode.POINTS_LOST


def run_make_notebook(argv: list[str]) -> int:
    """write the .ipynb twin of a template .py (percent format: "# %%" starts a cell)"""
    from grader import notebooks

    parser = argparse.ArgumentParser(prog="grade make-notebook", description=_summary(run_make_notebook).capitalize()
                                     + "; the notebook is written beside it.")
    parser.add_argument("templates", nargs="+", type=Path, metavar="TEMPLATE.py")
    args = parser.parse_args(argv)
    for template in args.templates:
        if template.suffix != ".py" or not template.is_file():
            raise UsageError(f"{template} is not a .py template; give the assignment's .py file.")
        print(f"Wrote {notebooks.write_twin(template)}.")
    return ExitCode.OK


def run_check(argv: list[str]) -> int:
    """prove an assignment sound: full marks for the reference, nothing for stubs and mutants"""
    from grader.authoring import commands

    return commands.run_check(argv)


def run_new(argv: list[str]) -> int:
    """make a new assignment's folders, ready for grade check"""
    from grader.authoring import commands

    return commands.run_new(argv)


COMMANDS = {
    "batch": run_batch_command,
    "release": run_release,
    "gradescope": run_gradescope,
    "classroom50": run_classroom50,
    "make-notebook": run_make_notebook,
    "doctor": run_doctor,
    "check": run_check,
    "new": run_new,
}


def _misspelt_command(argv: list[str]) -> str | None:
    """The command argv[0] is most likely a typo of, when it is no command and no assignment."""
    if not argv or argv[0] in COMMANDS or argv[0].startswith("-"):
        return None
    close = difflib.get_close_matches(argv[0], list(COMMANDS), n=1, cutoff=0.7)
    if not close:
        return None
    explicit = argv[argv.index("--course") + 1] if "--course" in argv[:-1] else None
    try:
        course = find_course(explicit=Path(explicit) if explicit else None)
    except GraderError:
        return close[0]
    return None if (course / "assignments" / argv[0]).is_dir() else close[0]


def entry() -> None:
    """The grade command as installed (and ``python -m grader``): main(), then a quick exit.

    Once PyTorch is loaded, an interpreter's orderly shutdown (tearing down its modules and
    libtorch's) takes half as long again as importing it did: 1-2 s on the 2-core development VM.
    Everything grade makes is written and closed by then (reports replaced atomically, the sandbox
    ended), so it runs the atexit callbacks, flushes its output and leaves. Without PyTorch it
    leaves the same way: an orderly shutdown puts Ctrl-C back to the system's default before it
    has finished, and a second press in that window (a TA pressing twice) killed grade by signal
    instead of letting it exit with 130.
    """
    try:
        try:
            code = main()
        finally:
            # Everything is written: a Ctrl-C from here on (a second press while the first is being answered)
            # ends the leaving at once with the status an interrupt has, not with a KeyboardInterrupt raised
            # inside the teardown, which Python answers by killing itself with SIGINT.
            signal.signal(signal.SIGINT, _leave_interrupted)
    except BrokenPipeError:  # the reader went away (grade ... | head): say nothing more, as Python's docs advise
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = ExitCode.POINTS_LOST  # the report was not all read: not a success to a script
    except KeyboardInterrupt:  # pressed again as main() returned
        code = 130
    if threading.active_count() > 1:  # a thread still running is waited for
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (grade ... | head): nothing more can be said
            pass
    os._exit(code)


def _leave_interrupted(*_: object) -> None:
    os._exit(130)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = COMMANDS.get(argv[0], run_grade) if argv else run_grade
    if argv and argv[0] in COMMANDS:
        argv = argv[1:]
    typo = _misspelt_command(argv) if command is run_grade else None
    if typo is not None:
        print(f"grade: there is no command or assignment called {argv[0]!r}. Did you mean: grade {typo}?",
              file=sys.stderr)
        return ExitCode.USAGE
    try:
        return int(command(argv))
    except SystemExit as exc:  # argparse: --help, --version, or a usage error
        return int(exc.code or 0) if isinstance(exc.code, int) else ExitCode.USAGE
    except GraderFault as exc:  # the details name checks: staff read this log, students read the reports
        print(f"grade: {exc}\n  details: {exc.details}", file=sys.stderr)
        return ExitCode.INTERNAL
    except GraderError as exc:
        print(f"grade: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except KeyboardInterrupt:
        print("grade: interrupted", file=sys.stderr)
        return 130
