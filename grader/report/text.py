"""The terminal report: one line per check, its points, and what to fix.

Readable without colour (status words, not only colours) and in a narrow
terminal (everything wraps to the given width). Nothing from the report reaches
the terminal as a control sequence: student text (messages quote exceptions,
output is what the code printed) could otherwise clear the screen, fake score
lines or write to the clipboard. Escape sequences and control characters are
removed, a carriage return becomes a line break; the writer's own colours are
added afterwards.
"""

from __future__ import annotations

import math
import re
import textwrap

from grader.model import CheckResult, Curve, DiagnosisRow, LoadNote, SubmissionReport, format_points

_WORDS = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "timeout": "TIMEOUT"}
_COLOURS = {"passed": "32", "failed": "31", "error": "31", "timeout": "33"}
_STATUS_WIDTH = 8
_MIN_WIDTH = 40
_BARS = "▁▂▃▄▅▆▇█"
_ASCII_BARS = "_.-:=+*#"
_SPARK_WIDTH = 24
# ESC sequences (CSI, OSC/DCS/APC/PM/SOS strings up to their terminator, and
# two-character ones), their 8-bit C1 forms, then any other C0/C1 control
# character except newline and tab.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """text without anything a terminal would act on; a carriage return becomes a line break."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


def render(report: SubmissionReport, width: int = 80, colour: bool = False, ascii_only: bool = False) -> str:
    width = max(width, _MIN_WIDTH)
    lines = wrap(clean(f"{report.assignment}: {report.submission} (seed {report.seed})"), width)
    if report.notes:
        lines += ["", "Notes on loading your file:"]
        for note in report.notes:
            lines += wrap(clean(_note_text(note)), width, "  ", "    ")
    lines.append("")
    points_width = max((len(_points(r)) for r in report.results), default=3)
    said: set[str] = set()
    for result in by_function(report.results):
        lines += result_lines(result, width, points_width, colour, result.message in said)
        lines += curve_lines(result.curves, width, " " * (_STATUS_WIDTH + points_width + 2), ascii_only)
        said.add(result.message)
    lines += ["", *wrap(total_line(report), width)]
    if report.hidden_not_run:
        one = report.hidden_not_run == 1
        points = format_points(report.hidden_points_not_run)
        lines += wrap(
            f"{report.hidden_not_run} hidden check{'' if one else 's'} ({points} point{'' if points == '1' else 's'}) "
            f"{'was' if one else 'were'} not run here; {'it runs' if one else 'they run'} when your work is graded.",
            width)
    return "\n".join(lines) + "\n"


def _points(result: CheckResult) -> str:
    return f"{format_points(result.score)}/{format_points(result.max_score)}"


def by_function(results: tuple[CheckResult, ...]) -> list[CheckResult]:
    """Results grouped by the function they exercise, in order of first appearance."""
    order: dict[str, int] = {}
    for result in results:
        order.setdefault(result.functions[0] if result.functions else "", len(order))
    return sorted(results, key=lambda r: order[r.functions[0] if r.functions else ""])


def result_lines(result: CheckResult, width: int, points_width: int, colour: bool, repeated: bool) -> list[str]:
    """One check as the report shows it: status, points, title, and (when it lost points) why."""
    word = _WORDS[result.status]
    shown = f"\033[{_COLOURS[result.status]}m{word}\033[0m" if colour else word
    shown += " " * (_STATUS_WIDTH - len(word))
    head = f"{_points(result):>{points_width}}  "
    indent = " " * (_STATUS_WIDTH + len(head))
    label = clean(result.title) + (" [hidden]" if result.visibility == "hidden" else "")
    title = textwrap.wrap(label, width - len(indent)) or [""]
    lines = [shown + head + title[0]] + [indent + t for t in title[1:]]
    if result.status != "passed":
        lines += wrap("Same problem as above." if repeated else clean(result.message), width, indent, indent)
        if result.diagnosis and not repeated:
            lines += [line for row in diagnosis_lines(result.diagnosis)
                      for line in wrap(row, width, indent + "  ", indent + "    ")]
        if result.output:
            lines.append(indent + "Your code printed:")
            lines += [f"{indent}| {line}"[:width] for line in clean(result.output).splitlines()]
    return lines


def diagnosis_lines(rows: tuple[DiagnosisRow, ...]) -> list[str]:
    """A diagnosis table as one line per parameter, for places without tables."""
    lines = []
    for row in rows:
        error = "" if row.relative_error is None else f", relative error {row.relative_error:.3g}"
        likely = f"; likely: {row.mistake}" if row.mistake else ""
        lines.append(clean(f"{row.parameter}: expected {row.expected}, yours {row.actual}{error}{likely}"))
    return lines


def curve_lines(curves: tuple[Curve, ...], width: int, indent: str, ascii_only: bool) -> list[str]:
    """The curves as sparklines on one shared scale, so they can be compared by eye."""
    values = [v for c in curves for v in c.values if math.isfinite(v)]
    if not values:
        return []
    low, high = min(values), max(values)
    bars = _ASCII_BARS if ascii_only else _BARS
    labels = [clean(c.label).replace("\n", " ") for c in curves]
    label_width = max(len(label) for label in labels)
    room = max(8, min(_SPARK_WIDTH, width - len(indent) - label_width - 24))
    lines = []
    for curve, label in zip(curves, labels):
        points = _resample(curve.values, room)
        spark = "".join(_bar(v, low, high, bars) for v in points)
        ends = f"{curve.values[0]:.3g} -> {curve.values[-1]:.3g}" if curve.values else ""
        lines.append(f"{indent}{label:<{label_width}}  {spark}  {ends}")
    return lines


def _resample(values: tuple[float, ...], count: int) -> list[float]:
    if len(values) <= count:
        return list(values)
    return [values[round(i * (len(values) - 1) / (count - 1))] for i in range(count)]


def _bar(value: float, low: float, high: float, bars: str) -> str:
    if not math.isfinite(value):
        return "!"
    if high == low:
        return bars[0]
    return bars[min(len(bars) - 1, int((value - low) / (high - low) * len(bars)))]


def _note_text(note: LoadNote) -> str:
    return f"{note.where}: {note.text}"


def total_line(report: SubmissionReport) -> str:
    """The score and how the checks ended: "Score: 2/8 (1 passed, 1 failed, 1 error, 1 timed out)"."""
    counts = []
    for status, one, many in (("passed", "passed", "passed"), ("failed", "failed", "failed"),
                              ("error", "error", "errors"), ("timeout", "timed out", "timed out")):
        number = report.count(status)
        if number:
            counts.append(f"{number} {one if number == 1 else many}")
    summary = f" ({', '.join(counts)})" if counts else ""
    return f"Score: {format_points(report.score)}/{format_points(report.max_score)}{summary}"


def wrap(text: str, width: int, first: str = "", rest: str = "") -> list[str]:
    """text wrapped to width, paragraph by paragraph, first indenting its first line and rest the others."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        lines += textwrap.wrap(paragraph, width, initial_indent=first, subsequent_indent=rest or first,
                               break_on_hyphens=False) or [first.rstrip()]
        first = rest or first
    return lines
