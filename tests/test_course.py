"""Courses are found from where grade runs, and assignment settings are validated on load."""

import textwrap

import pytest

from grader import notebooks
from grader.course import find_course, list_assignments, load_assignment
from grader.errors import SpecError, UsageError

from .conftest import COURSE


def make_course(tmp_path, yaml_text, checks=""):
    folder = tmp_path / "assignments" / "hw"
    folder.mkdir(parents=True)
    (folder / "assignment.yaml").write_text(textwrap.dedent(yaml_text))
    if checks:
        (folder / "checks.py").write_text("from grader.checks import check\n" + textwrap.dedent(checks))
    return tmp_path


def test_course_is_found_from_a_subfolder(tmp_path, monkeypatch):
    course = make_course(tmp_path, "functions: [f]\n")
    monkeypatch.delenv("GRADER_COURSE", raising=False)
    assert find_course(course / "assignments" / "hw") == course
    monkeypatch.setenv("GRADER_COURSE", str(course))
    assert find_course(tmp_path.parent) == course


def test_no_course_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv("GRADER_COURSE", raising=False)
    with pytest.raises(UsageError, match="--course DIR"):
        find_course(tmp_path)
    with pytest.raises(UsageError, match="no assignments/ folder"):
        find_course(explicit=tmp_path)


def test_unknown_assignment_lists_the_known_ones():
    with pytest.raises(UsageError, match=r"no assignment called 'nope'.*assignment2"):
        load_assignment(COURSE, "nope")
    assert "assignment2" in list_assignments(COURSE)


def test_settings_are_read_with_defaults(tmp_path):
    course = make_course(tmp_path, """
        title: Homework
        functions: [f, g]
        loops_only: [f]
        seed: 5
        limits: {call_timeout: 3}
    """)
    hw = load_assignment(course, "hw")
    assert (hw.title, hw.functions, hw.loops_only, hw.seed, hw.preload) == (
        "Homework", ("f", "g"), ("f",), 5, ("numpy",))
    assert hw.limits.call_timeout == 3 and hw.limits.memory_mb == 2048
    assert hw.reference is None


@pytest.mark.parametrize("yaml_text, words", [
    ("functions: [f]\ncolour: blue\n", "unknown setting(s) colour"),
    ("functions: []\n", "functions must list at least one name"),
    ("functions: f\n", "functions must be a list of names"),
    ("functions: [f, f]\n", "lists a name twice"),
    ("functions: [f]\nloops_only: [g]\n", "loops_only names g"),
    ("functions: [f]\nlimits: {call_timeout: -1}\n", "call_timeout must be positive"),
    ("functions: [f]\nlimits: {timeout: 1}\n", "unknown limit(s) timeout"),
    ("functions: [f]\nseed: -3\n", "seed must be a non-negative integer"),
    ("functions: [f]\npreload: [tensorflow]\n", "preload may name"),
    ("functions: [f\n", "not valid YAML"),
])
def test_bad_settings_fail_naming_the_file(tmp_path, yaml_text, words):
    course = make_course(tmp_path, yaml_text)
    with pytest.raises(SpecError) as caught:
        load_assignment(course, "hw")
    assert "assignment.yaml" in str(caught.value) and words in str(caught.value)


def test_hidden_counts_must_match_the_reference(tmp_path):
    course = make_course(tmp_path, "functions: [f]\nhidden: {checks: 2, points: 3}\n")
    reference = course / "reference" / "hw"
    reference.mkdir(parents=True)
    (reference / "checks.py").write_text(
        "from grader.checks import check\n@check(points=1, functions='f')\ndef a(student): pass\n")
    with pytest.raises(SpecError, match="says hidden: {checks: 2, points: 3}.*declares 1 hidden checks worth 1"):
        load_assignment(course, "hw").checks()


def test_assignment2_loads_and_its_checks_validate():
    assignment = load_assignment(COURSE, "assignment2")
    checks = assignment.checks()
    assert len({c.name for c in checks}) == len(checks)
    assert set(assignment.loops_only) == set(assignment.functions)


@pytest.mark.parametrize("name", list_assignments(COURSE))
def test_notebook_twin_is_generated_from_the_template(name):
    folder = COURSE / "assignments" / name
    expected = notebooks.render((folder / f"{name}.py").read_text(encoding="utf-8"))
    assert (folder / f"{name}.ipynb").read_text(encoding="utf-8") == expected, (
        f"run: grade make-notebook assignments/{name}/{name}.py")


@pytest.mark.parametrize("name", list_assignments(COURSE))
def test_hidden_counts_in_assignment_yaml_match_the_reference(name):
    assignment = load_assignment(COURSE, name)
    hidden = assignment.hidden_checks()
    assert hidden and (assignment.hidden_count, assignment.hidden_points) == (
        len(hidden), sum(c.points for c in hidden))
