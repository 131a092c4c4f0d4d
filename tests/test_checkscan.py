"""Course mistakes are the author's: what a checks file reaches is verified when the course loads.

Each case is a checks file with one mistake; loading the assignment must fail
with the file and the line of the mistake, before any student is graded.
"""

from __future__ import annotations

import textwrap

import pytest

from grader.course import load_assignment
from grader.errors import SpecError

PROBES = '''
def after_change(student, array):
    return student.f(array)


def _helper(x):
    return x
'''


def course_with(tmp_path, public="", hidden="", probes=True):
    folder = tmp_path / "assignments" / "hw"
    folder.mkdir(parents=True)
    settings = "functions: [f, g, Net.forward]\n" + ("probes: probes.py\n" if probes else "")
    (folder / "assignment.yaml").write_text(settings)
    if probes:
        (folder / "probes.py").write_text(PROBES)
    header = "from grader.checks import check\n"
    (folder / "checks.py").write_text(header + textwrap.dedent(public))
    if hidden:
        reference = tmp_path / "reference" / "hw"
        reference.mkdir(parents=True)
        (reference / "checks.py").write_text(header + textwrap.dedent(hidden))
    return tmp_path


GOOD = '''
@check(points=1, functions="f")
def f_values(student):
    student.f(1)
    student.run("f", (1,))
    student.probe("after_change", [1], function="f")


@check(points=1, functions="Net.forward")
def net_forward(student):
    net = student.Net()
    net.call("forward", 1)


def shared(student):
    return student.g(2)
'''


def test_good_checks_load(tmp_path):
    assert [c.name for c in load_assignment(course_with(tmp_path, GOOD), "hw").checks()] == ["f_values", "net_forward"]


@pytest.mark.parametrize("body, line, words", [
    ('''
     @check(points=1, functions="f")
     def f_values(student):
         student.probe("after_chnage", [1], function="f")
     ''', 5, "check f_values runs probe 'after_chnage', which the assignment does not define (its probes are "
             "after_change in"),
    ('''
     @check(points=1, functions="f")
     def f_values(student):
         x = 1
         return student.ff(x)
     ''', 6, "check f_values calls student.ff, which the assignment does not define (its functions: f, g, "
             "Net.forward)"),
    ('''
     @check(points=1, functions="f")
     def f_values(student):
         student.run("h", (1,))
     ''', 5, "calls student.h, which the assignment does not define"),
    ('''
     @check(points=1, functions="f")
     def f_values(student):
         student.g(1)
     ''', 5, "check f_values calls student.g but its @check lists functions=['f']; add 'g' there"),
    ('''
     @check(points=1, functions="f")
     def f_values(student):
         student.probe("after_change", [1], function="g")
     ''', 5, "check f_values calls student.g but its @check lists functions=['f']"),
    ('''
     def helper(student):
         return student.missing()
     ''', 4, "this code calls student.missing, which the assignment does not define"),
])
def test_a_check_that_reaches_what_the_assignment_lacks_fails_at_load_naming_file_and_line(tmp_path, body, line,
                                                                                          words):
    course = course_with(tmp_path, body)
    with pytest.raises(SpecError) as caught:
        load_assignment(course, "hw").checks()
    message = str(caught.value)
    assert message.startswith(f"{course / 'assignments' / 'hw' / 'checks.py'}:{line}: "), message
    assert words in message


def test_hidden_checks_are_read_too_and_a_course_without_probes_says_so(tmp_path):
    hidden = '''
    @check(points=1, functions="f")
    def f_hidden(student, reference):
        student.probe("after_change", [1], function="f")
    '''
    public = GOOD.replace('    student.probe("after_change", [1], function="f")\n', "")
    course = course_with(tmp_path, public, hidden, probes=False)
    with pytest.raises(SpecError) as caught:
        load_assignment(course, "hw").checks()
    assert str(caught.value).startswith(f"{course / 'reference' / 'hw' / 'checks.py'}:5: check f_hidden runs probe "
                                        "'after_change', which the assignment does not define (it has no probes file")
