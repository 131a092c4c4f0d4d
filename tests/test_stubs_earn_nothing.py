"""Every function of every bundled assignment: a stub of it earns nothing for it.

A score must say how much of the exercise works. For each function, variants
of the reference solution made from its syntax tree (tests/stubs.py) replace
just that function with a stub: it returns None, returns its first argument,
returns zeros shaped like the right answer, or raises. Each is graded with the
checks of that function only, through one fork server per preload, and every
one of those checks must give 0 points, through its own verdict (not a rule
such as loops-only taking the points away).
"""

from __future__ import annotations

import pytest

from grader.api import grade
from grader.course import list_assignments, load_assignment

from . import stubs
from .conftest import COURSE, TEST_LIMITS

LIMITS = TEST_LIMITS.__class__(call_timeout=60.0, load_timeout=60.0, memory_mb=2048)


def _cases():
    for name in list_assignments(COURSE):
        assignment = load_assignment(COURSE, name)
        for target in stubs.targets(assignment.functions):
            for kind in stubs.VARIANTS:
                yield pytest.param(name, target, kind, id=f"{name}-{target}-{kind.replace(' ', '_')}")


def test_every_bundled_assignment_is_covered():
    names = {case.values[0] for case in _cases()}
    assert names == set(list_assignments(COURSE)) and len(names) >= 4


@pytest.fixture(scope="module")
def servers(server, torch_server):
    return {"numpy": server, "torch": torch_server}


@pytest.mark.parametrize("name, target, kind", list(_cases()))
def test_a_stub_earns_nothing_for_its_function(servers, tmp_path, name, target, kind):
    assignment = load_assignment(COURSE, name)
    source = (COURSE / "reference" / name / "solution.py").read_text()
    stubbed = stubs.variant(source, target, kind)
    if stubbed is None:
        pytest.skip(f"{kind} makes no sense for {target}")
    path = tmp_path / "submission.py"
    path.write_text(stubbed)
    function = target.removesuffix(".__init__")
    server = servers["torch" if "torch" in assignment.preload else "numpy"]
    report = grade(assignment, path, server=server, limits=LIMITS, only=(function,))
    assert report.results, f"no check exercises {function}"
    earned = [(r.name, r.score, r.message) for r in report.results if r.score > 0]
    assert not earned, f"{kind} earned points for {function}: {earned}"
    # A rule may add its own word (a stub of a gradient is not autograd's), but the check must have failed too.
    gated = [r.name for r in report.results
             if r.message.startswith("No points for") and "Besides that:" not in r.message]
    assert not gated, f"a rule, not the checks, took the points of {gated}"
