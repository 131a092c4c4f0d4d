"""The terminal report: one line per check, its points, and what to fix.

Readable without colour (status words, not only colours) and in a narrow
terminal (everything wraps to the given width).
"""

from __future__ import annotations

import textwrap

import math

from grader.model import CheckResult, Curve, LoadNote, SubmissionReport, format_points

_WORDS = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "timeout": "TIMEOUT"}
_COLOURS = {"passed": "32", "failed": "31", "error": "31", "timeout": "33"}
_STATUS_WIDTH = 8
_MIN_WIDTH = 40
_BARS = "▁▂▃▄▅▆▇█"
_ASCII_BARS = "_.-:=+*#"
_SPARK_WIDTH = 24


def render(report: SubmissionReport, width: int = 80, colour: bool = False, ascii_only: bool = False) -> str:
    width = max(width, _MIN_WIDTH)
    lines = _wrap(f"{report.assignment}: {report.submission} (seed {report.seed})", width)
    if report.notes:
        lines += ["", "Notes on loading your file:"]
        for note in report.notes:
            lines += _wrap(_note_text(note), width, "  ", "    ")
    lines.append("")
    points_width = max((len(_points(r)) for r in report.results), default=3)
    said: set[str] = set()
    for result in by_function(report.results):
        lines += _result_lines(result, width, points_width, colour, result.message in said)
        lines += curve_lines(result.curves, width, " " * (_STATUS_WIDTH + points_width + 2), ascii_only)
        said.add(result.message)
    lines += ["", *_wrap(_total(report), width)]
    if report.hidden_not_run:
        one = report.hidden_not_run == 1
        points = format_points(report.hidden_points_not_run)
        lines += _wrap(
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


def _result_lines(result: CheckResult, width: int, points_width: int, colour: bool, repeated: bool) -> list[str]:
    word = _WORDS[result.status]
    shown = f"\033[{_COLOURS[result.status]}m{word}\033[0m" if colour else word
    shown += " " * (_STATUS_WIDTH - len(word))
    head = f"{_points(result):>{points_width}}  "
    indent = " " * (_STATUS_WIDTH + len(head))
    label = result.title + (" [hidden]" if result.visibility == "hidden" else "")
    title = textwrap.wrap(label, width - len(indent)) or [""]
    lines = [shown + head + title[0]] + [indent + t for t in title[1:]]
    if result.status != "passed":
        lines += _wrap("Same problem as above." if repeated else result.message, width, indent, indent)
        if result.output:
            lines.append(indent + "Your code printed:")
            lines += [f"{indent}| {line}"[:width] for line in result.output.splitlines()]
    return lines


def curve_lines(curves: tuple[Curve, ...], width: int, indent: str, ascii_only: bool) -> list[str]:
    """The curves as sparklines on one shared scale, so they can be compared by eye."""
    values = [v for c in curves for v in c.values if math.isfinite(v)]
    if not values:
        return []
    low, high = min(values), max(values)
    bars = _ASCII_BARS if ascii_only else _BARS
    label_width = max(len(c.label) for c in curves)
    room = max(8, min(_SPARK_WIDTH, width - len(indent) - label_width - 24))
    lines = []
    for curve in curves:
        points = _resample(curve.values, room)
        spark = "".join(_bar(v, low, high, bars) for v in points)
        ends = f"{curve.values[0]:.3g} -> {curve.values[-1]:.3g}" if curve.values else ""
        lines.append(f"{indent}{curve.label:<{label_width}}  {spark}  {ends}")
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


def _total(report: SubmissionReport) -> str:
    counts = [f"{report.count(status)} {label if report.count(status) == 1 else labels}"
              for status, label, labels in (("passed", "passed", "passed"), ("failed", "failed", "failed"),
                                            ("error", "error", "errors"), ("timeout", "timed out", "timed out"))
              if report.count(status)]
    summary = f" ({', '.join(counts)})" if counts else ""
    return f"Score: {format_points(report.score)}/{format_points(report.max_score)}{summary}"


def _wrap(text: str, width: int, first: str = "", rest: str = "") -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        lines += textwrap.wrap(paragraph, width, initial_indent=first, subsequent_indent=rest or first,
                               break_on_hyphens=False) or [first.rstrip()]
        first = rest or first
    return lines
