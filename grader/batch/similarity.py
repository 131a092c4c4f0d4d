"""Groups of near-identical submissions, for a TA to look at (never a penalty by itself).

Each submission becomes the set of its 5-token shingles (comments, blank lines
and the template's own code removed), and two submissions are near-identical
when those sets overlap by `threshold` (Jaccard). Identifiers are kept as
written: two students who solved a short exercise the same textbook way share
structure, but rarely every name and constant as well.
"""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass
from itertools import combinations

_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.ENCODING, tokenize.ENDMARKER}
SHINGLE = 5
MIN_SHINGLES = 25


@dataclass(frozen=True)
class Group:
    students: tuple[str, ...]
    similarity: float  # the highest pairwise overlap inside the group


def tokens(source: str) -> list[str]:
    result = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type not in _SKIP:
                result.append(token.string if token.type not in (tokenize.INDENT, tokenize.DEDENT) else "\t")
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass  # a broken file still has the tokens read so far
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
        overlap = len(small & large) / len(small | large)
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
