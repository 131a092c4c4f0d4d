"""Small self-contained SVG charts for the HTML reports: no plotting library, no JavaScript.

Every text placed in a chart is escaped; values are only ever numbers.
"""

from __future__ import annotations

import math
from html import escape

_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")
_FONT = 'font-family="sans-serif" font-size="11"'


def _number(value: float) -> str:
    return f"{value:.3g}"


def line_chart(series: list[tuple[str, list[float]]], *, width: int = 360, height: int = 160,
               x_label: str = "", y_label: str = "") -> str:
    """The series as lines on one scale, with a legend; non-finite points are left out."""
    values = [v for _, ys in series for v in ys if math.isfinite(v)]
    if not values:
        return ""
    low, high = min(values), max(values)
    if high == low:
        high = low + 1.0
    left, right, top, bottom = 44, 10, 10, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    longest = max(len(ys) for _, ys in series)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">',
             f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>',
             f'<text x="{left - 4}" y="{top + 9}" text-anchor="end" {_FONT}>{_number(high)}</text>',
             f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" {_FONT}>{_number(low)}</text>',
             f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle" {_FONT}>{escape(x_label)}</text>']
    parts += _y_label(y_label, top + plot_h / 2)
    for index, (label, ys) in enumerate(series):
        colour = _COLOURS[index % len(_COLOURS)]
        points = []
        for i, y in enumerate(ys):
            if not math.isfinite(y):
                continue
            x = left + (plot_w * i / max(1, longest - 1))
            points.append(f"{x:.1f},{top + plot_h - (y - low) / (high - low) * plot_h:.1f}")
        dash = ' stroke-dasharray="4 3"' if index else ""
        parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        parts.append(f'<text x="{left + 6}" y="{top + 14 + 13 * index}" fill="{colour}" {_FONT}>{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _y_label(text: str, middle: float) -> list[str]:
    """The vertical axis's title, turned to read upwards beside the axis."""
    if not text:
        return []
    return [f'<text x="10" y="{middle}" {_FONT} transform="rotate(-90 10 {middle})" '
            f'text-anchor="middle">{escape(text)}</text>']


def bar_chart(bars: list[tuple[str, float]], *, width: int = 420, height: int = 180, y_label: str = "") -> str:
    """Vertical bars with their labels under them (a histogram when labels are bins)."""
    if not bars:
        return ""
    top_value = max(value for _, value in bars) or 1.0
    left, right, top, bottom = 36, 8, 12, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / len(bars)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#999"/>',
             f'<text x="{left - 4}" y="{top + 9}" text-anchor="end" {_FONT}>{_number(top_value)}</text>']
    parts += _y_label(y_label, top + plot_h / 2)
    for index, (label, value) in enumerate(bars):
        bar_h = plot_h * value / top_value
        x = left + index * slot
        parts.append(f'<rect x="{x + 2:.1f}" y="{top + plot_h - bar_h:.1f}" width="{max(1.0, slot - 4):.1f}" '
                     f'height="{bar_h:.1f}" fill="{_COLOURS[0]}"><title>{escape(label)}: {_number(value)}</title></rect>')
        if len(bars) <= 12 or index % max(1, len(bars) // 10) == 0:
            parts.append(f'<text x="{x + slot / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle" '
                         f'{_FONT}>{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
