"""What changed between two runs on the same assignment: the compact report of ``grade --watch``.

``compare`` sorts the checks of the new report by how they moved (newly passing, newly losing
points, still losing points but differently, losing points as before); ``render`` writes that for
a terminal with the text report's own lines (``text.result_lines``), so a check reads the same in
both, hidden checks included (title, points and short message only).
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.model import CheckResult, LoadNote, SubmissionReport, format_points
from grader.report import text


@dataclass(frozen=True)
class Changes:
    """How the checks of after moved since before (None: there was no earlier run)."""

    before: SubmissionReport | None
    after: SubmissionReport
    now_passing: tuple[CheckResult, ...]  # lost points before, full points now
    now_failing: tuple[CheckResult, ...]  # full points before (or a check new to this run), points lost now
    changed: tuple[CheckResult, ...]  # lost points both times, but with another message or score
    unchanged_failing: tuple[CheckResult, ...]  # lost the same points for the same reason both times
    new_notes: tuple[LoadNote, ...]  # notes on loading the file that the earlier run did not have

    @property
    def score_delta(self) -> float:
        return self.after.score - self.before.score if self.before is not None else 0.0

    @property
    def moved(self) -> bool:
        return bool(self.now_passing or self.now_failing or self.changed or self.new_notes)


def _full(result: CheckResult) -> bool:
    return result.status == "passed" and result.score >= result.max_score


def compare(before: SubmissionReport | None, after: SubmissionReport) -> Changes:
    earlier = {r.name: r for r in before.results} if before is not None else {}
    now_passing, now_failing, changed, unchanged = [], [], [], []
    for result in after.results:
        old = earlier.get(result.name)
        if _full(result):
            if old is not None and not _full(old):
                now_passing.append(result)
        elif old is None or _full(old):
            now_failing.append(result)
        elif (old.status, old.score, old.message) != (result.status, result.score, result.message):
            changed.append(result)
        else:
            unchanged.append(result)
    old_notes = set(before.notes) if before is not None else set()
    return Changes(before, after, tuple(now_passing), tuple(now_failing), tuple(changed), tuple(unchanged),
                   tuple(n for n in after.notes if n not in old_notes))


def score_line(changes: Changes) -> str:
    """"Score: 36/38 (+4; 27 passed, 2 failed)", or "(no change; ...)"."""
    after = changes.after
    delta = changes.score_delta
    moved = "no change" if delta == 0 else f"{'+' if delta > 0 else '-'}{format_points(abs(delta))}"
    counts = text.total_line(after).partition(" (")[2].rstrip(")")
    return f"Score: {format_points(after.score)}/{format_points(after.max_score)} ({moved}" + \
        (f"; {counts})" if counts else ")")


def render(changes: Changes, heading: str, width: int = 80, colour: bool = False) -> str:
    """The compact report: heading, score and its change, and only the checks that moved."""
    width = max(width, 40)
    lines = [text.clean(heading), score_line(changes)]
    if changes.new_notes:
        lines += ["", "Notes on loading your file:"]
        for note in changes.new_notes:
            lines += text.wrap(text.clean(f"{note.where}: {note.text}"), width, "  ", "    ")
    points_width = max((len(_points(r)) for r in changes.after.results), default=3)
    said: set[str] = set()
    for title, results in (("Now passing:", changes.now_passing), ("Now losing points:", changes.now_failing),
                           ("Still losing points, differently now:", changes.changed)):
        if not results:
            continue
        lines += ["", title]
        for result in text.by_function(results):
            lines += text.result_lines(result, width, points_width, colour, result.message in said)
            said.add(result.message)
    if changes.unchanged_failing:
        lost = sum(r.max_score - r.score for r in changes.unchanged_failing)
        count = len(changes.unchanged_failing)
        names = ", ".join(r.title for r in changes.unchanged_failing)
        lines += [""] + text.wrap(text.clean(
            f"As before, {count} check{'' if count == 1 else 's'} lose{'s' if count == 1 else ''} "
            f"{format_points(lost)} point{'' if format_points(lost) == '1' else 's'}: {names}"), width)
    if not changes.moved and changes.before is not None:
        lines += ["", "Every check ended as in the last run."]
    return "\n".join(lines) + "\n"


def _points(result: CheckResult) -> str:
    return f"{format_points(result.score)}/{format_points(result.max_score)}"
