"""How long `grade` takes on a correct submission of each assignment, next to `import torch`.

Every command runs as a fresh process, interleaved with the others, several
times in one run, so each ratio compares like with like on the same machine at
the same moment:

    python bench/grade_vs_torch_import.py [--runs N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = ("assignment1", "assignment2", "assignment3", "assignment4", "assignment5")


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    grade = shutil.which("grade") or sys.exit("grade is not on PATH: pip install -e . first")
    torch_import = 'python -c "import torch"'
    commands = {torch_import: [sys.executable, "-c", "import torch"]}
    for name in ASSIGNMENTS:
        submission = ROOT / "examples" / name / "full_marks.py"
        commands[f"grade {name} (correct submission)"] = [grade, name, "--submission", str(submission)]
    for command in commands.values():  # warm the page cache for both
        timed(command)
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, command in commands.items():
            samples[name].append(timed(command))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    for name, value in medians.items():
        spread = f"{min(samples[name]):.2f}-{max(samples[name]):.2f}"
        print(f"{name:42s} median {value:6.2f} s  (range {spread} s, {args.runs} runs)")
    for name in ASSIGNMENTS:
        ratio = medians[f"grade {name} (correct submission)"] / medians[torch_import]
        print(f"ratio grade {name} / import torch: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
