"""Text that student code chose, made safe to keep, print and store.

Applied where such text enters the grading process (the worker protocol) and
the result model, so every writer may assume it is clean: no terminal control
sequences, no bidirectional-text overrides, line breaks written as ``\\n`` only,
and a length cap. Writers still escape for their own format (HTML, Markdown,
CSV, workflow commands); this is the first line of defence, not the only one.
"""

from __future__ import annotations

import re

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), and two-character ESC sequences.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[ -~]?|\x9b[0-?]*[ -/]*[@-~]")
# C0 controls but tab and newline, DEL, C1 controls, and Unicode's invisible direction overrides.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CUT = " ... (cut)"


def clean_text(value: object, limit: int) -> str:
    """value as text without control sequences, with \\r as a line break, at most limit characters
    (what comes from a worker is typed by nobody: anything else is made text first)."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > 4 * limit + 64:  # cleaning cannot grow text: cut a hostile megabyte first
        text = text[: 4 * limit + 64]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROLS.sub("", _ESCAPES.sub("", text))
    if len(text) > limit:
        text = text[: max(limit - len(_CUT), 0)] + _CUT
    return text


def clean_name(text: str, limit: int = 100) -> str:
    """A one-line name (a type, a function): clean_text without line breaks."""
    return clean_text(text, limit).replace("\n", " ").replace("\t", " ")
