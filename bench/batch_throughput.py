"""Batch grading against its floor, against nbgrader, and its memory, measured in one run.

    python bench/batch_throughput.py [--small 10] [--large 110] [--repeat 5] [--nbgrader PATH/TO/nbgrader]

Prints these figures for assignment 1 (tensor operations: every submission needs torch, as in the
nbgrader comparison) and assignment 2 (NumPy only):

1. Isolation cost: the seconds per submission of `grade batch --jobs 1` (wall, and CPU of its whole
   process tree read from /proc, between its progress reports after the first --small submissions
   and after the last, so start-up and the closing summary are left out) divided by the floor: the
   same grading in this process with no sandbox at all (reading the submission, the static reading
   for the loops rule, every check with its traced calls, the report; no worker, no encoding, no
   lockdown). The batch is run --repeat times, with the floor measured before the first run and
   after each; each run is divided by the mean of the floors just before and just after it, and
   the figure is the median of these ratios. The floor must give every submission the score
   grade batch gives it.
2. Throughput: submissions per second of `grade batch --jobs 2`, divided by that of
   `nbgrader autograde` on the same submissions as notebooks with equivalent tests (nbgrader is
   not a dependency; pass --nbgrader or have it on PATH, in an environment with torch).
3. Memory: the peak resident memory of the whole batch process tree, at both batch sizes (in runs
   of their own: sampling it takes CPU time from the batch being timed).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import csv
import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from grader import seeds  # noqa: E402
from grader.api import DeviceChoice, _run, load_reference, select  # noqa: E402
from grader.course import load_assignment  # noqa: E402
from grader.model import SubmissionReport, format_points  # noqa: E402
from grader.sandbox import protocol, staticscan, worker  # noqa: E402
from grader.sandbox.codec import RemoteRef  # noqa: E402
from grader.sandbox.session import Loaded, Reply, Session, Unit, _note  # noqa: E402
from grader.submission import read  # noqa: E402

# Students make different mistakes: a few variants of each example, all of which finish normally.
VARIANTS = {
    "assignment1": [
        ("", ""),
        ("return torch.tensor(values)", "return torch.Tensor(values)"),
        ("torch.sqrt(torch.sum(v * v))", "torch.sum(v * v)"),
        ("return torch.cat((x, y), dim=0), torch.cat((x, y), dim=1)",
         "return torch.cat((x, y), dim=1), torch.cat((x, y), dim=0)"),
    ],
    "assignment2": [
        ("", ""),
        ("            x[i, j] += y[i, j]", "            x[i, j] -= y[i, j]"),
        ("    z = 0.", "    z = 1."),
        ("            x[i, j] = max(x[i, j], 0)", "            x[i, j] = min(x[i, j], 0)"),
    ],
}


def example(assignment: str) -> Path:
    return ROOT / "examples" / assignment / "full_marks.py"


def submissions(assignment: str, folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    source = example(assignment).read_text()
    variants = VARIANTS[assignment]
    paths = []
    for index in range(count):
        old, new = variants[index % len(variants)]
        assert not old or old in source, old
        path = folder / f"student{index:04d}.py"
        path.write_text(f"# student {index}\n" + (source.replace(old, new) if old else source))
        paths.append(path)
    return paths


# --- the floor: the same grading, in this process, no sandbox -----------------------------------


class InProcessSession(Session):
    """A Session whose submission runs in this process: the grader's own parsing, static reading,
    traced calls and fault reports, with no worker, no message encoding and no lockdown.

    Arguments are copied before each call, as crossing to a worker copies them, so a submission
    that changes its inputs cannot change the expected values computed after the call.
    """

    def start(self) -> Loaded:
        if self.loaded is None:
            module = self.module_name
            self._table = worker.ObjectTable(module)
            self._submission = worker.Submission(module, [vars(u).copy() for u in self.units])
            self._out = io.StringIO()
            parsed, notes = worker.parse(self._submission)
            findings = staticscan.scan(parsed, {rule: list(names) for rule, names in self.rules.items()})
            probes = worker.load_probes({"filename": self.probes.filename, "source": self.probes.source}
                                        if self.probes else None)
            with contextlib.redirect_stdout(self._out):
                notes += worker.run_units(self._submission)
            self._server = worker.Server(None, self._submission, self._table, probes)
            raw = protocol.read_loaded(protocol.loaded_message(notes, {}, 0.0))
            self.loaded = Loaded(findings=worker.findings_data(findings), notes=tuple(_note(n) for n in raw.notes),
                                 defined=worker._defined_names(self._submission.module), protection={},
                                 broken=None)
        return self.loaded

    def request(self, message: dict, function: str, timeout: float | None = None) -> Reply:
        message = {**message, "on": self._local(message.get("on")),
                   "args": copy.deepcopy(self._local(message.get("args"))),
                   "kwargs": copy.deepcopy(self._local(message.get("kwargs"))),
                   "value": self._local(message.get("value"))}
        with contextlib.redirect_stdout(self._out):
            reply = protocol.read_reply(self._server.answer(message))
        if isinstance(reply, protocol.Value):
            return Reply(self._remote(reply.value), self._remote(reply.args), self._remote(reply.kwargs), reply.trace)
        raise self._fault(function, reply)

    def _local(self, value):
        """RemoteRefs the checks hold, back to the objects they stand for."""
        if isinstance(value, RemoteRef):
            return self._table.resolve(value)
        if isinstance(value, (list, tuple)):
            return type(value)(self._local(v) for v in value)
        if isinstance(value, dict):
            return {k: self._local(v) for k, v in value.items()}
        return value

    def _remote(self, value):
        """Objects that are not data, as RemoteRefs, as a worker would send them."""
        if value is None or isinstance(value, (bool, int, float, complex, str, bytes, np.ndarray, np.generic)):
            return value
        if "torch" in sys.modules and isinstance(value, sys.modules["torch"].Tensor):
            return value
        if isinstance(value, (list, tuple)):
            return type(value)(self._remote(v) for v in value)
        if isinstance(value, dict):
            return {k: self._remote(v) for k, v in value.items()}
        return self._table.register(value)

    def take_output(self) -> tuple[str, int]:
        text = self._out.getvalue()
        self._out.seek(0)
        self._out.truncate()
        return text, len(text.encode())

    def close(self) -> None:
        pass


def floor_seconds(assignment_name: str, paths: list[Path]) -> tuple[float, float, dict[str, float]]:
    """(wall, CPU) seconds per submission of grading in this process, on one thread as the workers are:
    the same checks, static reading, traced calls and report as grade batch, minus the isolation."""
    import torch

    torch.set_num_threads(1)
    assignment = load_assignment(ROOT, assignment_name)
    checks = select(assignment.checks(), ())
    reference = load_reference(assignment)
    secret = seeds.course_secret(assignment.course)
    probes = Unit("", str(assignment.probes), assignment.probes.read_text()) if assignment.probes else None
    started = cpu = None
    scores = {}
    for index, path in enumerate([paths[0]] + paths):  # the first is a warm-up
        if index == 1:
            started, cpu = time.perf_counter(), time.process_time()
        submission = read(path)
        session = InProcessSession(None, list(submission.units), assignment.name, limits=assignment.limits,
                                   rules=assignment.rules, expected_names=assignment.functions, probes=probes)
        loaded = session.start()
        session.take_output()
        # The seed grade batch draws for this submission (from the course secret and its code), so both grade alike.
        seed = seeds.run_seed(secret, submission.digest) if secret else assignment.seed
        results = _run(checks, session, loaded.findings, assignment, seed, secret, DeviceChoice("cpu"), reference)
        report = SubmissionReport(assignment=assignment.name, submission=path.name, results=tuple(results),
                                  seed=seed, device="cpu", notes=submission.notes + loaded.notes)
        scores[path.stem] = float(format_points(report.score))  # as the gradebook writes it
    return (time.perf_counter() - started) / len(paths), (time.process_time() - cpu) / len(paths), scores


# --- grade batch, timed, with the peak memory of its process tree --------------------------------


def _tree(root: int) -> list[int]:
    """root and every process below it, as /proc shows them now."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as stat:
                    children.setdefault(int(stat.read().rsplit(b")", 1)[1].split()[1]), []).append(int(name))
            except (OSError, ValueError, IndexError):
                continue
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, []))
    return found


def tree_rss(root: int) -> int:
    total = 0
    for pid in _tree(root):
        try:
            with open(f"/proc/{pid}/statm") as statm:
                total += int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):  # ended just now
            continue
    return total


def tree_cpu(root: int) -> float:
    """CPU seconds used so far by root and every process below it, those that ended included: each
    process's own time and the time of the children it has collected (cutime, cstime)."""
    ticks, total = os.sysconf("SC_CLK_TCK"), 0
    for pid in _tree(root):
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:  # ended just now: its parent has its time, or will
            continue
        total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return total / ticks


def timed_batch(assignment: str, folder: Path, out: Path, skip: int) -> tuple[float, float, int]:
    """Wall and CPU seconds per submission of `grade batch --jobs 1`, and how many submissions they
    cover: from its progress report once `skip` submissions are graded to its last one, so that
    start-up (interpreters, imports, the zygote) and the closing summary are left out."""
    command = [shutil.which("grade") or "grade", "batch", assignment, str(folder), "--out", str(out),
               "--jobs", "1", "--force"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    marks = []
    for line in process.stderr:  # without a terminal, a line per tenth of the class: "33/110 graded, ETA 0:04"
        progress = re.match(r"(\d+)/(\d+) graded", line)
        if progress and ((not marks and int(progress[1]) >= skip) or progress[1] == progress[2]):
            marks.append((int(progress[1]), time.perf_counter(), tree_cpu(process.pid)))
    if process.wait() != 0 or len(marks) < 2:
        sys.exit(f"grade batch failed with exit status {process.returncode}")
    (first, wall_first, cpu_first), (last, wall_last, cpu_last) = marks[0], marks[-1]
    return (wall_last - wall_first) / (last - first), (cpu_last - cpu_first) / (last - first), last - first


def run_batch(assignment: str, folder: Path, out: Path, jobs: int, memory: bool = False) -> tuple[float, int]:
    """Wall seconds, and (when memory) the peak resident memory of the whole process tree.

    Sampling the memory reads /proc for every process 20 times a second, on the CPUs the batch
    runs on, so runs that measure time do not sample.
    """
    command = [shutil.which("grade") or "grade", "batch", assignment, str(folder), "--out", str(out),
               "--jobs", str(jobs), "--force"]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    stop = threading.Event()

    def sample():
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, tree_rss(process.pid))
            stop.wait(0.05)

    sampler = threading.Thread(target=sample)
    if memory:
        sampler.start()
    process.wait()
    stop.set()
    if memory:
        sampler.join()
    if process.returncode != 0:
        sys.exit(f"grade batch failed with exit status {process.returncode}")
    return time.perf_counter() - started, peak


# --- nbgrader, on the same submissions as notebooks -------------------------------------------------

NB_TESTS = [
    "assert tensor_from_list([[1, 2], [3, 4]]).dtype == torch.int64",
    "a = np.arange(6.0)\nt = tensor_sharing_memory(a)\na[0] = 9\nassert t[0] == 9",
    "t = torch.ones(2, 3, requires_grad=True)\nassert np.array_equal(numpy_from_tensor(t), np.ones((2, 3)))",
    "t = torch.rand(3, 4)\nr = like(t)\n"
    "assert torch.equal(r['zeros'], torch.zeros_like(t)) and r['rand'].shape == t.shape",
    "assert tensor_info(torch.rand(3, 4))['shape'] == (3, 4)",
    "x, y = torch.rand(4) + 0.5, torch.tensor([1, 2, 3, 1])\nassert torch.allclose(elementwise(x, y)[4], x ** y)",
    "x, y = torch.rand(3, 4), torch.rand(3, 4)\nassert torch.equal(concatenate(x, y)[0], torch.cat((x, y), 0))",
    "x = torch.rand(4, 5)\nassert torch.equal(pick(x)['column_1'], x[:, 1])",
    "x = torch.rand(4, 3)\ny = fill_rows(x.clone(), 2.0)\nassert (y[:2] == 2).all() and torch.equal(y[2:], x[2:])",
    "assert flatten_samples(torch.rand(5, 3, 4)).shape == (5, 12)",
    "assert [len(b) for b in make_batches(torch.rand(300, 2))] == [128, 128, 44]",
    "v = torch.rand(6)\nassert torch.allclose(vector_norms(v)[1], torch.linalg.vector_norm(v))",
    "m = torch.rand(3, 5)\nassert torch.allclose(frobenius_norm(m), torch.linalg.matrix_norm(m))",
    "m = torch.rand(4, 4)\nassert is_symmetric(m + m.T) and not is_symmetric(m)",
    "q, _ = torch.linalg.qr(torch.rand(4, 4, dtype=torch.float64))\nassert is_orthogonal(q)",
    "a, b = torch.rand(2, 3), torch.rand(3, 4)\nassert torch.allclose(matrix_product(a, b), a @ b)",
    "a = torch.rand(2, 5)\nassert torch.equal(transpose(a), a.T)",
]


def nbgrader_course(root: Path, paths: list[Path]) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    def cell(source, kind, grade_id):
        meta = {"grade_id": grade_id, "schema_version": 3, "locked": kind == "test",
                "solution": kind == "solution", "grade": kind == "test"}
        if kind == "test":
            meta["points"] = 1
        return new_code_cell(source, metadata={"nbgrader": meta})

    def notebook(solution: str):
        nb = new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [cell(solution, "solution", "solution")] + [
            cell("import numpy as np\nimport torch\n" + test, "test", f"test{i}") for i, test in enumerate(NB_TESTS)]
        return nb

    root.mkdir(parents=True)
    (root / "nbgrader_config.py").write_text(
        f'c = get_config()\nc.CourseDirectory.course_id = "bench"\nc.CourseDirectory.root = {str(root)!r}\n'
        "c.ExecutePreprocessor.timeout = 300\n")
    (root / "source" / "ps1").mkdir(parents=True)
    source = example("assignment1").read_text()
    nbformat.write(notebook("### BEGIN SOLUTION\n" + source + "\n### END SOLUTION"),
                   root / "source" / "ps1" / "ps1.ipynb")
    for path in paths:
        target = root / "submitted" / path.stem / "ps1"
        target.mkdir(parents=True)
        nbformat.write(notebook(path.read_text()), target / "ps1.ipynb")


def nbgrader_seconds(nbgrader: str, paths: list[Path], work: Path) -> float:
    root = work / "nbgrader-course"
    nbgrader_course(root, paths)
    # nbgrader runs tools (alembic) installed beside it: its environment's bin comes first on PATH.
    env = {**os.environ, "PATH": f"{Path(nbgrader).resolve().parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    quiet = {"cwd": root, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    subprocess.run([nbgrader, "generate_assignment", "ps1", "--force"], check=True, **quiet)
    started = time.perf_counter()
    subprocess.run([nbgrader, "autograde", "ps1", "--create", "--force"], check=True, **quiet)
    return time.perf_counter() - started


def measure(assignment: str, args, work: Path) -> list[Path]:
    small = submissions(assignment, work / assignment / "small", args.small)
    large = submissions(assignment, work / assignment / "large", args.large)
    # Each batch run sits between two floor measurements and is compared with their mean, so that a
    # machine that is slower for a minute (a neighbour on the host, the CPU clock) slows both sides
    # of a ratio alike.
    floors, runs, cpu_runs = [floor_seconds(assignment, large)], [], []
    for _ in range(args.repeat):
        wall, cpu, counted = timed_batch(assignment, large[0].parent, work / assignment / "out2", args.small)
        runs.append(wall)
        cpu_runs.append(cpu)
        floors.append(floor_seconds(assignment, large))
    floor, floor_cpu = (statistics.median(values) for values in list(zip(*floors))[:2])
    floor_scores = floors[0][2]
    around = [[(before[i] + after[i]) / 2 for i in (0, 1)] for before, after in zip(floors, floors[1:])]
    ratio = statistics.median(run / turn[0] for run, turn in zip(runs, around))
    ratio_cpu = statistics.median(run / turn[1] for run, turn in zip(cpu_runs, around))
    memory_small = run_batch(assignment, small[0].parent, work / assignment / "out4", 1, memory=True)[1]
    memory_large = run_batch(assignment, large[0].parent, work / assignment / "out5", 1, memory=True)[1]
    per_student, per_student_cpu = statistics.median(runs), statistics.median(cpu_runs)
    with open(work / assignment / "out2" / "grades.csv", newline="") as gradebook:
        batch_scores = {row["id"]: float(row["score"]) for row in csv.DictReader(gradebook)}
    if batch_scores != floor_scores:  # then the floor would not be the same grading
        sys.exit(f"the in-process floor and grade batch disagree: {floor_scores} != {batch_scores}")
    two_large, _ = run_batch(assignment, large[0].parent, work / assignment / "out3", 2)
    print(f"== {assignment} ({len(VARIANTS[assignment])} submission variants)")
    print(f"floor, the same grading in-process:       {floor * 1000:7.1f} ms wall, {floor_cpu * 1000:.1f} ms CPU "
          f"per submission (CPU, in order: {', '.join(f'{turn[1] * 1000:.1f}' for turn in floors)} ms)")
    print(f"grade batch --jobs 1, per submission:     {per_student * 1000:7.1f} ms wall, "
          f"{per_student_cpu * 1000:.1f} ms CPU "
          f"(the last {counted}; CPU, in order: {', '.join(f'{r * 1000:.1f}' for r in cpu_runs)} ms)")
    ratios = ", ".join(f"{run / turn[1]:.2f}" for run, turn in zip(cpu_runs, around))
    print(f"isolation cost (batch / floor), CPU:      {ratio_cpu:7.2f}x   (target: at most 3; median of {ratios})")
    print(f"isolation cost (batch / floor), wall:     {ratio:7.2f}x")
    print(f"grade batch --jobs 2 throughput:          {args.large / two_large:7.2f} submissions/s "
          f"({two_large:.1f} s for {args.large})")
    print(f"peak memory of the batch process tree:    {memory_small / 2**20:7.0f} MB for {args.small}, "
          f"{memory_large / 2**20:.0f} MB for {args.large} submissions")
    return large


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10)
    parser.add_argument("--large", type=int, default=110)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--assignments", nargs="+", default=["assignment1", "assignment2"])
    parser.add_argument("--nbgrader", default=shutil.which("nbgrader"), help="the nbgrader command to compare with")
    parser.add_argument("--nbgrader-students", type=int, default=6)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        measured = {assignment: measure(assignment, args, work) for assignment in args.assignments}
        if "assignment1" in measured and args.nbgrader:
            large = measured["assignment1"]
            ours_seconds, _ = run_batch("assignment1", large[0].parent, work / "out-nb-compare", 2)
            ours = len(large) / ours_seconds
            count = args.nbgrader_students
            seconds = nbgrader_seconds(args.nbgrader, large[:count], work)
            theirs = count / seconds
            print("== assignment1 against nbgrader autograde (same submissions, equivalent tests)")
            print(f"grade batch --jobs 2 throughput:          {ours:7.2f} submissions/s ({ours_seconds:.1f} s for "
                  f"{len(large)}, start-up included)")
            print(f"nbgrader autograde throughput:            {theirs:7.2f} submissions/s "
                  f"({seconds:.1f} s for {count})")
            print(f"throughput ratio (grade batch / nbgrader): {ours / theirs:6.1f}x   (target: at least 20)")
        elif "assignment1" in measured:
            print("nbgrader autograde: not measured (install nbgrader with torch and pass --nbgrader PATH)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
