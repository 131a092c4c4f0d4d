"""Names that students chose (their ids, their files' names), made safe to print.

A file name may hold any byte but "/" and NUL: escape sequences that clear a
terminal or fake a score line, bidirectional overrides that reorder what a
reader sees, and bytes that are not UTF-8 (which Python keeps as lone
surrogates, and which a UTF-8 terminal cannot even encode). Such a name is
made printable once, where it enters the grader, and everything downstream
(progress lines, reports, file names in the results) uses the printable form.
"""

from __future__ import annotations

import unicodedata

# Characters that reorder the text around them (the "Trojan Source" set).
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(name: str, limit: int = 200) -> str:
    """name with control characters, bidi controls and undecodable bytes written as escapes.

    Each such character becomes \\xNN or \\uNNNN, so different names stay different
    and a reader can still tell what was there. Names longer than limit are cut.
    """
    out = []
    for char in name:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8, as os.fsdecode keeps it
            out.append(f"\\x{code - 0xDC00:02x}")
        elif char in _BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cs"):
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    text = "".join(out)
    return text if len(text) <= limit else text[: limit - 1] + "…"
