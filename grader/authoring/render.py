"""Writers of ``grade check``'s verdict: text for the author, JSON for scripts (schema version 1).

Both only read the verdict. The text shows a line per step, the mutation
table, then each problem with what shows it: for a surviving mutant, its diff
and the line that would mark it equivalent.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from grader.authoring.verdict import STEPS, Row, Verdict

SCHEMA_VERSION = 1
_HEADER = ("function", "made", "killed", "survived", "equivalent")


def table(rows: Sequence[Row], total: Row) -> list[str]:
    """The mutation table, one line per function, then the total."""
    crashed = any(row.crashed for row in (*rows, total))
    header = _HEADER + (("crashed",) if crashed else ())
    width = max([len(header[0]), *(len(row.function) for row in rows)])
    lines = ["  ".join([header[0].ljust(width), *(h.rjust(len(h)) for h in header[1:])])]
    for row in (*rows, total):
        numbers = [row.made, row.killed, row.survived, row.equivalent] + ([row.crashed] if crashed else [])
        lines.append("  ".join([row.function.ljust(width), *(str(n).rjust(len(h)) for n, h in zip(numbers,
                                                                                                   header[1:]))]))
    return lines


def text(verdict: Verdict) -> str:
    out = [f"grade check {verdict.assignment}"
           + (f" (seeds {', '.join(map(str, verdict.seeds))})" if verdict.seeds else "")]
    summaries = dict(verdict.summaries)
    ran = dict(verdict.seconds)
    for step in STEPS:
        problems = verdict.problems_of(step)
        if step in verdict.skipped or (step not in ran and not problems):
            if step in verdict.skipped:
                out.append(f"  skipped  {step}")
            continue
        mark = "FAILED " if problems else "ok     "
        said = summaries.get(step) or f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        out.append(f"  {mark}  {step:<9}  {said}")
    if verdict.mutants:
        out += ["", "Mutation table (mutants of the reference solution, by the function changed):"]
        out += ["  " + line for line in table(verdict.rows(), verdict.total())]
    if verdict.problems:
        out += ["", "Problems:"]
        settings = f"assignments/{verdict.assignment}/assignment.yaml"
        for problem in verdict.problems:
            out.append(f"- {problem.step}: {problem.text}")
            if problem.detail:
                out += ["    " + line for line in problem.detail.rstrip("\n").splitlines()]
            if problem.text.startswith("mutant survived: "):
                mutant_id = problem.text[len("mutant survived: "):].rsplit(" (line ", 1)[0]
                out.append(f"    A check that this mutant passes is too weak. Only if no check could ever tell it "
                           f"from the reference, mark it equivalent in {settings}:")
                out.append("      equivalent_mutants:")
                out.append(f"        {json.dumps(mutant_id, ensure_ascii=False)}: \"<why no check can tell>\"")
    if verdict.notes:
        out += ["", "Notes:"] + [f"- {note}" for note in verdict.notes]
    timing = ", ".join(f"{step} {seconds:.1f}" for step, seconds in verdict.seconds)
    state = "sound" if verdict.sound else f"NOT SOUND ({len(verdict.problems)} problems)"
    out += ["", f"{verdict.assignment}: {state} in {verdict.total_seconds:.1f} s ({timing})"]
    return "\n".join(out) + "\n"


def summary(verdicts: Sequence[Verdict]) -> str:
    """One line per assignment, for grade check --all."""
    width = max([len("assignment"), *(len(v.assignment) for v in verdicts)])
    lines = [f"{'assignment'.ljust(width)}  verdict    problems  mutants  killed  survived  equivalent  seconds"]
    for v in verdicts:
        total = v.total()
        lines.append(f"{v.assignment.ljust(width)}  {'sound' if v.sound else 'NOT SOUND':<9}  {len(v.problems):>8}  "
                     f"{total.made:>7}  {total.killed:>6}  {total.survived:>8}  {total.equivalent:>10}  "
                     f"{v.total_seconds:>7.1f}")
    return "\n".join(lines) + "\n"


def data(verdict: Verdict) -> dict[str, Any]:
    return {
        "assignment": verdict.assignment,
        "sound": verdict.sound,
        "seeds": list(verdict.seeds),
        "seconds": {step: seconds for step, seconds in verdict.seconds},
        "skipped": list(verdict.skipped),
        "summaries": {step: said for step, said in verdict.summaries},
        "problems": [{"step": p.step, "text": p.text, "detail": p.detail} for p in verdict.problems],
        "notes": list(verdict.notes),
        "stubs": [{"function": s.function, "kind": s.kind, "score": s.score, "max_score": s.max_score,
                   "earned": list(s.earned), "crashed": s.crashed,
                   "gated": list(s.gated)} for s in verdict.stubs],
        "mutation_table": [_row(row) for row in (*verdict.rows(), verdict.total())],
        "mutants": [{"id": o.mutant.id, "function": o.mutant.function, "family": o.mutant.family,
                     "line": o.mutant.line, "verdict": o.verdict, "by": o.by, "checks": list(o.checks),
                     **({"diff": o.diff} if o.verdict != "killed" else {})} for o in verdict.mutants],
    }


def _row(row: Row) -> dict[str, Any]:
    return {"function": row.function, "made": row.made, "killed": row.killed, "survived": row.survived,
            "equivalent": row.equivalent, "crashed": row.crashed}


def dumps(verdicts: Sequence[Verdict]) -> str:
    return json.dumps({"schema_version": SCHEMA_VERSION, "assignments": [data(v) for v in verdicts]},
                      indent=2, ensure_ascii=False) + "\n"
