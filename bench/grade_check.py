"""How long `grade check` takes per assignment, step by step, with its mutation counts.

Each assignment is checked by a fresh `grade check` process (start-up, the
torch import and the fork server included), so the wall time is what an
author waits; the steps' times come from its JSON findings:

    python bench/grade_check.py [ASSIGNMENT ...] [--seeds N] [--jobs N] [--runs N]

The exit status of grade check (1 while some mutant survives) is reported, not
taken as a failure of the benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEPS = ("settings", "reference", "template", "stubs", "mutants")


def check_once(name: str, seeds: int, jobs: int) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as folder:
        findings = Path(folder) / "check.json"
        command = [sys.executable, "-m", "grader", "check", name, "--seeds", str(seeds), "--jobs", str(jobs),
                   "--json", str(findings)]
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds = time.perf_counter() - started
        if not findings.is_file():
            sys.exit(f"grade check {name} wrote no findings; run it by hand to see why")
        return seconds, json.loads(findings.read_text())["assignments"][0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--runs", type=int, default=1, help="runs per assignment; the median is shown")
    args = parser.parse_args()
    names = args.assignments or sorted(p.name for p in (ROOT / "assignments").iterdir()
                                       if (p / "assignment.yaml").is_file())
    header = f"{'assignment':<14}{'wall s':>8}" + "".join(f"{step:>11}" for step in STEPS) + \
        f"{'mutants':>9}{'killed':>8}{'survived':>10}{'equiv.':>8}  verdict"
    print(f"grade check, {args.seeds} seeds, {args.jobs} jobs, median of {args.runs} run(s); seconds")
    print(header)
    for name in names:
        runs = [check_once(name, args.seeds, args.jobs) for _ in range(args.runs)]
        wall = statistics.median(seconds for seconds, _ in runs)
        data = runs[-1][1]
        steps = {step: statistics.median(d["seconds"].get(step, 0.0) for _, d in runs) for step in STEPS}
        total = data["mutation_table"][-1]
        print(f"{name:<14}{wall:>8.1f}" + "".join(f"{steps[step]:>11.1f}" for step in STEPS) +
              f"{total['made']:>9}{total['killed']:>8}{total['survived']:>10}{total['equivalent']:>8}  "
              f"{'sound' if data['sound'] else 'not sound: ' + str(len(data['problems'])) + ' problems'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
