"""How quickly a student hears back, measured in one run beside a bare `import torch`.

    python bench/feedback_loop.py [--runs 5] [--regrades 7] [--assignments 1,2,3,4] [--no-kernel]

Prints, for correct submissions (examples/ASSIGNMENT/full_marks.py):

1. `python -c "import torch"` and `grade ASSIGNMENT` as fresh processes, interleaved, --runs times
   each: the first run a student waits for, as a ratio to the torch import.
2. `grade ASSIGNMENT --watch`: the time from starting it to its first report, and the median of
   --regrades re-grades, each from the moment a changed file is renamed into place (as an editor
   saves) to the moment the report of what changed is printed; beside it the grading itself
   (the run's own seconds, without noticing the save).
3. `%grade` in a Jupyter kernel started in the assignment's folder, after the example's code has
   run: the first call right after `%load_ext grader`, and the median of --regrades calls after
   it (as the client sees them: request sent to report displayed). Needs ipykernel.
4. Assignment 4 against its floor: the student's functions called once each, as the public
   checks call them (data, each classifier trained once and asked for its predictions), in a
   plain process that imports PyTorch and the example and nothing of the grader's, with one
   thread as the sandbox gives student code (OMP_NUM_THREADS=1, torch.set_num_threads(1)); then `grade
   assignment4` in a student's copy (`grade release`: public checks, so each classifier trains
   once) and in this course (hidden checks too, which train each classifier again).

The machine's load average is printed before and after: on a shared machine the figures move with
it, and the ratios (each taken between commands run in turn, at the same time) move less.
"""

from __future__ import annotations

import argparse
import os
import platform
import queue
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALL = ("assignment1", "assignment2", "assignment3", "assignment4")


def example(name: str) -> Path:
    return ROOT / "examples" / name / "full_marks.py"


def timed(command: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None) -> float:
    return timed_cpu(command, cwd, env)[0]


def timed_cpu(command: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds, and CPU seconds of the command's whole process tree (each process is waited for by its
    parent, so its time is counted in its parent's children's)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median_line(label: str, values: list[float], unit: float | None = None) -> str:
    middle = statistics.median(values)
    ratio = f"  {middle / unit:5.2f}x import torch" if unit else ""
    return f"  {label:58s} {middle:7.3f} s  (range {min(values):.3f}-{max(values):.3f}, {len(values)}){ratio}"


# -- 1. first runs ----------------------------------------------------------------------------------


def first_runs(names: list[str], runs: int) -> tuple[tuple[float, float], dict[str, tuple[list[float], list[float]]]]:
    """The torch import's median wall and CPU seconds, and each assignment's samples of both."""
    grade = shutil.which("grade") or sys.exit("grade is not on PATH: pip install -e . first")
    commands = {"torch": [sys.executable, "-c", "import torch"]}
    for name in names:
        commands[name] = [grade, name, "--submission", str(example(name))]
    for command in commands.values():  # the page cache warm for all of them
        timed(command)
    samples: dict[str, tuple[list[float], list[float]]] = {key: ([], []) for key in commands}
    for _ in range(runs):
        for key, command in commands.items():
            wall, cpu = timed_cpu(command)
            samples[key][0].append(wall)
            samples[key][1].append(cpu)
    walls, cpus = samples.pop("torch")
    return (statistics.median(walls), statistics.median(cpus)), samples


# -- 2. watch mode ----------------------------------------------------------------------------------


class Lines:
    def __init__(self, stream) -> None:
        self.queue: queue.Queue[tuple[float, str]] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            self.queue.put((time.perf_counter(), line))
        self.queue.put((time.perf_counter(), ""))

    def until(self, pattern: str, timeout: float = 600) -> tuple[float, str]:
        """When a line matching pattern came, and everything read until then."""
        seen = []
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            try:
                when, line = self.queue.get(timeout=1)
            except queue.Empty:
                continue
            if not line:
                raise RuntimeError("the command ended early:\n" + "".join(seen))
            seen.append(line)
            if re.search(pattern, line):
                return when, "".join(seen)
        raise RuntimeError(f"no {pattern!r} within {timeout} s:\n" + "".join(seen))


def watch(name: str, regrades: int) -> tuple[float, list[float], list[float]]:
    """Seconds to the first report, each re-grade as the student waits for it, and as grading took it."""
    folder = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    try:
        target = folder / f"{name}.py"
        source = example(name).read_text()
        target.write_text(source)
        environment = {**os.environ, "COLUMNS": "100"}
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "grader", name, "--watch", "--submission", str(target)],
                                   cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   text=True, start_new_session=True)
        lines = Lines(process.stdout)
        first, _ = lines.until(r"^Watching ")
        waited, graded = [], []
        for number in range(regrades):
            time.sleep(0.3)
            staged = folder / f".{name}.py.new"
            staged.write_text(f"{source}\n# edit {number}\n")  # a change of code, so it is graded again
            saved = time.perf_counter()
            os.replace(staged, target)
            when, printed = lines.until(r"^Score: ")
            waited.append(when - saved)
            graded.append(float(re.findall(r"graded in ([0-9.]+) s", printed)[-1]))
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=120)
        return first - started, waited, graded
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- 3. %grade in a kernel ----------------------------------------------------------------------------


def kernel_calls(name: str, regrades: int) -> tuple[float, list[float]] | str:
    try:
        from jupyter_client.manager import start_new_kernel
    except ImportError:
        return "jupyter_client is not installed"
    try:
        manager, client = start_new_kernel(kernel_name="python3", cwd=str(ROOT / "assignments" / name),
                                           startup_timeout=120)
    except Exception as exc:  # no ipykernel
        return f"no kernel could start ({type(exc).__name__}: {exc})"

    def run(code: str) -> float:
        started = time.perf_counter()
        reply = client.execute_interactive(code, timeout=600, output_hook=lambda message: None)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"{code!r} failed: {reply['content']}")
        return time.perf_counter() - started

    try:
        run(example(name).read_text())
        run("%load_ext grader")
        first = run("%grade")
        return first, [run("%grade") for _ in range(regrades)]
    finally:
        client.stop_channels()
        manager.shutdown_kernel()


# -- 4. assignment 4 against its floor ----------------------------------------------------------------

# The student's functions called once each, as the public checks call them; nothing of the grader's
# is imported (the data is made as assignments/assignment4/support.py makes it).
FLOOR = r'''
import importlib.util, sys
import numpy as np
import torch
from torch import nn

torch.set_num_threads(1)  # as the grader runs student code (the assignment's threads: 1)

spec = importlib.util.spec_from_file_location("student", sys.argv[1])
student = importlib.util.module_from_spec(spec)
spec.loader.exec_module(student)
rng = np.random.default_rng(0)
device = "cpu"

w, b = torch.tensor([2.0, -3.4]), 4.2
features, labels = student.synthetic_data(w, b, 1000)
for shuffle in (False, True):
    for _ in student.load_array((features, labels), 10, shuffle):
        pass
student.train_linear_regression(features, labels)
X = torch.as_tensor(rng.standard_normal((8, 4)))
student.cross_entropy(student.softmax(X), torch.as_tensor(rng.integers(0, 4, 8)))

net = nn.Sequential(nn.Linear(4, 4))
batches = [(torch.as_tensor(rng.standard_normal((4, 4)), dtype=torch.float32),
            torch.as_tensor(rng.integers(0, 4, 4))) for _ in range(6)]
student.train_epoch(net, batches, nn.CrossEntropyLoss(), torch.optim.SGD(net.parameters(), lr=0.1), device)
student.evaluate_accuracy(net, batches, device)

def spiral(per_class=200, classes=3, noise=0.1):
    xs, ys = [], []
    for c in range(classes):
        r = np.linspace(0.0, 1.0, per_class)
        t = np.linspace(c * 4.0, (c + 1) * 4.0, per_class) + rng.normal(0, noise, per_class)
        xs.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
        ys.append(np.full(per_class, c))
    return torch.as_tensor(np.concatenate(xs), dtype=torch.float32), torch.as_tensor(np.concatenate(ys))

X, y = spiral()
test_X, _ = spiral()
student.train_spiral_classifier(X, y, device)(test_X)

import gzip, importlib.util, os
path = os.path.join(importlib.util.find_spec("sklearn").submodule_search_locations[0], "datasets", "data",
                    "digits.csv.gz")
data = np.loadtxt(gzip.open(path), delimiter=",")
images, digits = np.clip(data[:, :-1] / 16.0 + rng.normal(0, 0.02, (len(data), 64)), 0, 1), data[:, -1].astype(np.int64)
order = rng.permutation(len(digits))
cut = int(len(digits) * 0.8)
train, test = order[:cut], order[cut:]
model = student.train_digits_classifier(torch.as_tensor(images[train], dtype=torch.float32),
                                        torch.as_tensor(digits[train]), device)
model(torch.as_tensor(images[test], dtype=torch.float32))
'''


def assignment4(runs: int) -> dict[str, list[float]]:
    grade = shutil.which("grade") or sys.exit("grade is not on PATH")
    folder = Path(tempfile.mkdtemp(prefix="bench-a4-"))
    try:
        floor_script = folder / "floor.py"
        floor_script.write_text(FLOOR)
        release = folder / "release"
        subprocess.run([grade, "release", "assignment4", "--out", str(release)], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        commands = {
            "floor": ([sys.executable, str(floor_script), str(example("assignment4"))], ROOT),
            "grade assignment4, a student's copy (public checks)":
                ([grade, "assignment4", "--submission", str(example("assignment4"))], release),
            "grade assignment4, this course (hidden checks too)":
                ([grade, "assignment4", "--submission", str(example("assignment4"))], ROOT),
        }
        environment = {k: v for k, v in os.environ.items() if k != "GRADER_COURSE"}
        # The floor runs the student's code with one thread, as the sandbox does (the assignment's threads):
        # with more threads than there were free CPUs, it took ten times as long.
        floor_environment = {**environment, **{name: "1" for name in
                                               ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}}
        environments = {key: floor_environment if key == "floor" else environment for key in commands}
        for key, (command, cwd) in commands.items():
            timed(command, cwd, environments[key])
        samples: dict[str, list[float]] = {key: [] for key in commands}
        for _ in range(runs):
            for key, (command, cwd) in commands.items():
                samples[key].append(timed(command, cwd, environments[key]))
        return samples
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -----------------------------------------------------------------------------------------------------


def machine() -> str:
    model = ""
    try:
        with open("/proc/cpuinfo") as info:
            model = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), "")
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model or platform.machine()}), Python {platform.python_version()}"


def load() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per command (default 5)")
    parser.add_argument("--regrades", type=int, default=7, help="re-grades per assignment (default 7)")
    parser.add_argument("--assignments", default="1,2,3,4", help="which, by number (default 1,2,3,4)")
    parser.add_argument("--no-kernel", action="store_true", help="leave out %%grade")
    args = parser.parse_args()
    names = [f"assignment{number.strip()}" for number in args.assignments.split(",") if number.strip()]
    print(f"machine: {machine()}; load average before: {load()}")

    (torch_import, torch_cpu), firsts = first_runs(names, args.runs)
    print(f"\n1. First run, fresh processes interleaved ({args.runs} each; CPU: the whole process tree's):")
    bare = 'python -c "import torch"'
    print(f"  {bare:58s} {torch_import:7.3f} s  (CPU {torch_cpu:.3f} s)")
    for name, (walls, cpus) in firsts.items():
        cpu = statistics.median(cpus)
        print(median_line(f"grade {name}", walls, torch_import) + f"  (CPU {cpu:.3f} s, {cpu / torch_cpu:.2f}x)")

    print(f"\n2. grade --watch ({args.regrades} re-grades each; a re-grade: save to report printed):")
    for name in names:
        first, waited, graded = watch(name, args.regrades)
        print(f"  {name}: first report after {first:.2f} s ({first / torch_import:.2f}x import torch)")
        print(median_line("  re-grade, as the student waits", waited, torch_import))
        print(median_line("  re-grade, the grading itself", graded, torch_import))

    if not args.no_kernel:
        print(f"\n3. %grade in a Jupyter kernel ({args.regrades} calls after the first):")
        for name in [n for n in names if n != "assignment4"]:
            measured = kernel_calls(name, args.regrades)
            if isinstance(measured, str):
                print(f"  skipped: {measured}")
                break
            first, calls = measured
            print(f"  {name}: first %grade right after %load_ext: {first:.2f} s")
            print(median_line("  %grade", calls, torch_import))

    if "assignment4" in names:
        samples = assignment4(args.runs)
        floor = statistics.median(samples.pop("floor"))
        print(f"\n4. Assignment 4 against its floor ({args.runs} runs each, interleaved):")
        print(f"  {'floor: its functions called once each, plain process':58s} {floor:7.3f} s")
        for key, values in samples.items():
            middle = statistics.median(values)
            print(f"  {key:58s} {middle:7.3f} s  {middle / floor:5.2f}x the floor")
    print(f"\nload average after: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
