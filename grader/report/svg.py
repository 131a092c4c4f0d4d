"""Small self-contained SVG charts for the HTML reports: no plotting library, no JavaScript.

Every text placed in a chart is escaped; values are only ever numbers. Charts
scale with the page (a viewBox, 100% wide up to their natural width), axes have
ticks and titles, and a legend sits outside the plot, where it covers nothing.
"""

from __future__ import annotations

import math
from html import escape

_COLOURS = ("#1f77b4", "#d95f02", "#2ca02c", "#d62728", "#9467bd")
_DASHES = ("", "6 4", "2 3", "8 3 2 3", "1 2")
_FONT = 'font-family="sans-serif" font-size="12"'
_AXIS = "#555"
_GRID = "#e3e3e3"


def _number(value: float) -> str:
    return f"{value:.3g}"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round values from at most low to at least high, about count of them (1, 2 or 5 times a power of 10)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0, 1.0]
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / max(1, count - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step + 1e-9) * step
    ticks = []
    value = first
    while value < high + step * 1e-9 or len(ticks) < 2:
        ticks.append(round(value, 12))
        value = first + len(ticks) * step
    if ticks[-1] < high - 1e-12:
        ticks.append(round(value, 12))
    return ticks


def _open(width: int, height: int, label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" class="chart" role="img" aria-label="{escape(label)}" '
            f'style="max-width:100%;height:auto">')


def _y_label(text: str, middle: float) -> list[str]:
    """The vertical axis's title, turned to read upwards beside the axis."""
    if not text:
        return []
    return [f'<text x="14" y="{middle:.1f}" {_FONT} transform="rotate(-90 14 {middle:.1f})" '
            f'text-anchor="middle">{escape(text)}</text>']


def line_chart(series: list[tuple[str, list[float]]], *, width: int = 560, height: int = 300,
               x_label: str = "", y_label: str = "", x_step: float = 1.0) -> str:
    """The series as lines on one scale, with ticked axes and a legend under the plot.

    Value i of a series is drawn at x = i * x_step. Non-finite values are left
    out (the line breaks there).
    """
    values = [v for _, ys in series for v in ys if math.isfinite(v)]
    if not values:
        return ""
    y_ticks = nice_ticks(min(values), max(values))
    longest = max(len(ys) for _, ys in series)
    x_ticks = nice_ticks(0.0, max(1, longest - 1) * x_step, 6)
    low, high = y_ticks[0], y_ticks[-1]
    x_high = x_ticks[-1]
    legend_rows = math.ceil(len(series) / 2)
    left, right, top, bottom = 64, 16, 12, 44 + 20 * legend_rows
    plot_w, plot_h = width - left - right, height - top - bottom

    def x_at(x: float) -> float:
        return left + plot_w * x / x_high

    def y_at(y: float) -> float:
        return top + plot_h - (y - low) / (high - low) * plot_h

    parts = [_open(width, height, f"line chart: {', '.join(label for label, _ in series)}")]
    for tick in y_ticks:
        y = y_at(tick)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="{_GRID}"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" {_FONT}>{_number(tick)}</text>')
    for tick in x_ticks:
        x = x_at(tick)
        parts.append(f'<line x1="{x:.1f}" y1="{top + plot_h}" x2="{x:.1f}" y2="{top + plot_h + 4}" stroke="{_AXIS}"/>')
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 17}" text-anchor="middle" {_FONT}>{_number(tick)}</text>')
    parts.append(f'<polyline points="{left},{top} {left},{top + plot_h} {left + plot_w},{top + plot_h}" '
                 f'fill="none" stroke="{_AXIS}"/>')
    if x_label:
        parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h + 34}" text-anchor="middle" '
                     f'{_FONT}>{escape(x_label)}</text>')
    parts += _y_label(y_label, top + plot_h / 2)
    for index, (label, ys) in enumerate(series):
        colour, dash = _COLOURS[index % len(_COLOURS)], _DASHES[index % len(_DASHES)]
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        runs: list[list[str]] = [[]]
        for i, y in enumerate(ys):
            if math.isfinite(y):
                runs[-1].append(f"{x_at(i * x_step):.1f},{y_at(y):.1f}")
            elif runs[-1]:
                runs.append([])
        for run in runs:
            if len(run) == 1:
                x, y = run[0].split(",")
                parts.append(f'<circle cx="{x}" cy="{y}" r="2.5" fill="{colour}"/>')
            elif run:
                parts.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
                             f'stroke-width="2"{dashed}/>')
        row, column = divmod(index, 2)
        lx, ly = left + column * plot_w / 2, top + plot_h + 52 + 20 * row
        parts.append(f'<line x1="{lx:.1f}" y1="{ly - 4}" x2="{lx + 26:.1f}" y2="{ly - 4}" stroke="{colour}" '
                     f'stroke-width="2"{dashed}/>')
        parts.append(f'<text x="{lx + 32:.1f}" y="{ly}" {_FONT}>{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def histogram(counts: list[int], *, width: int = 560, height: int = 240, x_label: str = "score",
              y_label: str = "students") -> str:
    """counts of equal-width bins spanning 0–100%, drawn on that fixed axis, whatever the scores."""
    if not counts:
        return ""
    left, right, top, bottom = 52, 16, 12, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    y_ticks = nice_ticks(0, max(max(counts), 1), 5)
    y_ticks = [t for t in y_ticks if float(t).is_integer()] or [0.0, 1.0]
    top_value = y_ticks[-1]
    bins = len(counts)
    parts = [_open(width, height, "histogram of scores from 0 to 100%")]
    for tick in y_ticks:
        y = top + plot_h - plot_h * tick / top_value
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="{_GRID}"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" {_FONT}>{int(tick)}</text>')
    slot = plot_w / bins
    for index, count in enumerate(counts):
        bar_h = plot_h * count / top_value
        x = left + index * slot
        low, high = 100 * index / bins, 100 * (index + 1) / bins
        parts.append(f'<rect x="{x + 1:.1f}" y="{top + plot_h - bar_h:.1f}" width="{max(1.0, slot - 2):.1f}" '
                     f'height="{bar_h:.1f}" fill="{_COLOURS[0]}"><title>{low:g}–{high:g}%: {count}</title></rect>')
        if count:
            parts.append(f'<text x="{x + slot / 2:.1f}" y="{top + plot_h - bar_h - 3:.1f}" text-anchor="middle" '
                         f'{_FONT}>{count}</text>')
    for tick in range(0, 101, 10 if bins >= 10 else 20):
        x = left + plot_w * tick / 100
        parts.append(f'<line x1="{x:.1f}" y1="{top + plot_h}" x2="{x:.1f}" y2="{top + plot_h + 4}" stroke="{_AXIS}"/>')
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 17}" text-anchor="middle" {_FONT}>{tick}%</text>')
    parts.append(f'<polyline points="{left},{top} {left},{top + plot_h} {left + plot_w},{top + plot_h}" '
                 f'fill="none" stroke="{_AXIS}"/>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" {_FONT}>'
                 f'{escape(x_label)}</text>')
    parts += _y_label(y_label, top + plot_h / 2)
    parts.append("</svg>")
    return "".join(parts)
