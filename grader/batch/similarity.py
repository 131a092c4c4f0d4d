"""Groups of near-identical submissions, for a TA to look at (never a penalty by itself).

Each submission becomes the set of its 5-token shingles (comments, blank lines
and the template's own code removed), and two submissions are near-identical
when those sets overlap by `threshold` (Jaccard). Identifiers are kept as
written: two students who solved a short exercise the same textbook way share
structure, but rarely every name and constant as well.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import combinations

# One regular expression reads the tokens that matter for comparing code: about ten times faster
# than the tokenize module, and it never gives up on a file that does not parse.
_TOKEN = re.compile(r"""
    (?P<string>[rRbBuUfF]{0,2}(?:\'\'\'[\s\S]*?\'\'\'|\"\"\"[\s\S]*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"))
  | (?P<comment>\#[^\n]*)
  | (?P<newline>\n[ \t]*)
  | (?P<space>[ \t\f\r]+|\\\n)
  | (?P<word>\w+)
  | (?P<operator>\*\*=?|//=?|>>=?|<<=?|->|:=|[-+*/%@&|^=<>!]=|[^\s\w])
""", re.VERBOSE)
_OPEN, _CLOSE = frozenset("([{"), frozenset(")]}")
SHINGLE = 5
MIN_SHINGLES = 25


@dataclass(frozen=True)
class Group:
    students: tuple[str, ...]
    similarity: float  # the highest pairwise overlap inside the group


def tokens(source: str) -> list[str]:
    """The code's tokens without comments and line breaks; a change of indentation is one "\t"."""
    result: list[str] = []
    depth = indent = 0
    end = len(source)
    for match in _TOKEN.finditer(source):
        kind, text = match.lastgroup, match.group()
        if kind in ("comment", "space"):
            continue
        if kind == "newline":
            following = source[match.end()] if match.end() < end else "\n"
            if depth == 0 and following not in "\n#\r":  # a line of code, not blank or a comment
                width = len(text) - 1
                if width != indent:
                    result.append("\t")
                    indent = width
            continue
        if text in _OPEN:
            depth += 1
        elif text in _CLOSE:
            depth = max(0, depth - 1)
        result.append(text)
    return result


def shingles(source: str) -> set[int]:
    words = tokens(source)
    return {hash(tuple(words[i:i + SHINGLE])) for i in range(len(words) - SHINGLE + 1)}


def near_identical(sources: dict[str, str], template: str = "", threshold: float = 0.8) -> list[Group]:
    """Groups of students whose own code (beyond the template) overlaps by at least threshold."""
    shared = shingles(template)
    own = {student: shingles(source) - shared for student, source in sources.items()}
    own = {student: bag for student, bag in own.items() if len(bag) >= MIN_SHINGLES}
    parent = {student: student for student in own}
    best: dict[str, float] = {}

    def root(student: str) -> str:
        while parent[student] != student:
            parent[student] = parent[parent[student]]
            student = parent[student]
        return student

    for a, b in combinations(sorted(own), 2):
        small, large = sorted((own[a], own[b]), key=len)
        if len(small) < threshold * len(large):
            continue  # Jaccard cannot reach the threshold
        shared = len(small & large)
        overlap = shared / (len(small) + len(large) - shared)  # Jaccard, without building the union
        if overlap >= threshold:
            ra, rb = root(a), root(b)
            parent[ra] = rb
            best[rb] = max(best.get(rb, 0.0), best.get(ra, 0.0), overlap)
    groups: dict[str, list[str]] = {}
    for student in own:
        groups.setdefault(root(student), []).append(student)
    found = [Group(tuple(sorted(members)), round(best.get(top, 0.0), 3))
             for top, members in groups.items() if len(members) > 1]
    return sorted(found, key=lambda g: (-g.similarity, g.students))
