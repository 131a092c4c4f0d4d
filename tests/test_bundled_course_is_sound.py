"""Every bundled assignment passes grade check: its checks tell right from wrong.

This is ``grade check --all`` on the course in this repository, one test per
assignment: the reference gets full marks under three seeds and the same report
twice, the template and every stub of every function get nothing, and every
mutant of the reference loses a point or is marked equivalent with a reason.
It stands in for the per-assignment tests that checked the reference and the
stubs by hand; on failure it prints what ``grade check`` prints.
"""

from __future__ import annotations

import pytest

from grader.authoring import render
from grader.authoring.soundness import Options, check
from grader.course import list_assignments

from .conftest import COURSE


def test_the_whole_course_is_checked():
    assert len(list_assignments(COURSE)) >= 4


@pytest.mark.parametrize("name", list_assignments(COURSE))
def test_every_bundled_assignment_is_sound(name):
    verdict = check(COURSE, name, Options())
    assert verdict.sound, render.text(verdict)
    assert verdict.total().made > 0 and not verdict.skipped  # every step ran, mutants included
