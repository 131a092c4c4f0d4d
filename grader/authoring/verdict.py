"""What ``grade check`` found about one assignment: a frozen model its writers read.

Each step (settings, reference, template, stubs, mutants) yields problems,
which make the assignment unsound, and notes, which do not. Mutants are kept
one by one with their verdict, so the table per function and the totals are
derived, never stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from grader.authoring.mutants import Mutant

Step = Literal["settings", "reference", "template", "stubs", "mutants"]
STEPS: tuple[Step, ...] = ("settings", "reference", "template", "stubs", "mutants")
# killed: some check lost points; survived: full marks on every check that reaches the function;
# equivalent: survived, and the author says why no check could tell it apart; unreached: no check
# exercises the function or anything that calls it; crashed: a check itself raised on it.
MutantVerdict = Literal["killed", "survived", "equivalent", "unreached", "crashed"]


@dataclass(frozen=True)
class Problem:
    """Something that makes the assignment unsound; detail holds what shows it (a diff, messages)."""

    step: Step
    text: str
    detail: str = ""


@dataclass(frozen=True)
class MutantOutcome:
    mutant: Mutant
    verdict: MutantVerdict
    by: str = ""  # killed or crashed: the check; equivalent: the author's reason
    checks: tuple[str, ...] = ()  # the checks that ran on it
    diff: str = ""


@dataclass(frozen=True)
class StubOutcome:
    function: str
    kind: str
    score: float
    max_score: float
    earned: tuple[str, ...] = ()  # the checks that gave it points
    crashed: str = ""  # a check raised on it: what it said
    gated: tuple[str, ...] = ()  # checks whose points a rule (loops only, no autograd) took, not their own verdict


@dataclass(frozen=True)
class Row:
    """The mutation table's line for one function of the reference."""

    function: str
    made: int
    killed: int
    survived: int
    equivalent: int
    crashed: int = 0


@dataclass(frozen=True)
class Verdict:
    assignment: str
    seeds: tuple[int, ...]
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()
    summaries: tuple[tuple[Step, str], ...] = ()  # one line per step that ran, saying what it found
    stubs: tuple[StubOutcome, ...] = ()
    mutants: tuple[MutantOutcome, ...] = ()
    seconds: tuple[tuple[Step, float], ...] = ()  # time per step
    skipped: tuple[Step, ...] = field(default=())

    @property
    def sound(self) -> bool:
        return not self.problems

    @property
    def total_seconds(self) -> float:
        return round(sum(seconds for _, seconds in self.seconds), 3)

    def problems_of(self, step: Step) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.step == step)

    def rows(self) -> tuple[Row, ...]:
        """One row per mutated function, in the order of the reference."""
        order: list[str] = []
        for outcome in self.mutants:
            if outcome.mutant.function not in order:
                order.append(outcome.mutant.function)
        return tuple(_row(name, [o for o in self.mutants if o.mutant.function == name]) for name in order)

    def total(self) -> Row:
        return _row("total", self.mutants)


def _row(name: str, outcomes: Iterable[MutantOutcome]) -> Row:
    verdicts = [o.verdict for o in outcomes]
    return Row(name, len(verdicts), verdicts.count("killed"), verdicts.count("survived") + verdicts.count("unreached"),
               verdicts.count("equivalent"), verdicts.count("crashed"))
