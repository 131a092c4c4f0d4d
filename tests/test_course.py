"""Courses are found from where grade runs, and assignment settings are validated on load."""

import re
import textwrap

import pytest

from grader import notebooks
from grader.course import find_course, list_assignments, load_assignment, settings_as_shipped
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


def test_hidden_counts_are_counted_from_the_reference_and_written_into_a_copy(tmp_path):
    course = make_course(tmp_path, "functions: [f]\nhidden: {checks: 2, points: 3}\n"
                                   "equivalent_mutants:\n  'f: secret_code(x) -> x': the reason\nseed: 4\n")
    reference = course / "reference" / "hw"
    reference.mkdir(parents=True)
    (reference / "checks.py").write_text(
        "from grader.checks import check\n@check(points=1.5, functions='f')\ndef a(student): pass\n")
    hw = load_assignment(course, "hw")
    assert len(hw.checks()) == 1  # the stale hand-written count no longer stops anything
    shipped = settings_as_shipped(hw)
    assert "hidden: {checks: 1, points: 1.5}" in shipped and "checks: 2" not in shipped
    assert "secret_code" not in shipped and "seed: 4" in shipped  # the reference's code stays in the course
    copy = tmp_path / "copy"
    (copy / "assignments" / "hw").mkdir(parents=True)
    (copy / "assignments" / "hw" / "assignment.yaml").write_text(shipped)
    copied = load_assignment(copy, "hw")
    assert (copied.reference, copied.hidden_count, copied.hidden_points) == (None, 1, 1.5)


def test_functions_are_read_from_the_template_when_not_listed(tmp_path):
    course = make_course(tmp_path, "seed: 3\n")
    (course / "assignments" / "hw" / "hw.py").write_text(textwrap.dedent("""
        import numpy as np

        def first(x):
            raise NotImplementedError

        def _helper():
            pass

        class Net:
            def __init__(self):
                pass

            def forward(self, x):
                raise NotImplementedError

        def second(x, y):
            raise NotImplementedError
    """))
    hw = load_assignment(course, "hw")
    assert hw.functions == ("first", "Net.forward", "second") and not hw.functions_listed
    assert 'functions: ["first", "Net.forward", "second"]' in settings_as_shipped(hw)
    assert load_assignment(make_course(tmp_path / "b", "functions: [first]\n"), "hw").functions == ("first",)


def test_no_template_and_no_functions_list_fails_naming_the_file(tmp_path):
    with pytest.raises(SpecError, match=r"assignment.yaml: without a functions list.*hw.py"):
        load_assignment(make_course(tmp_path, "seed: 3\n"), "hw")


@pytest.mark.parametrize("yaml_text, words", [
    ("functions: [f]\npublic_only:\n  g: no such function\n", "public_only names g"),
    ("functions: [f]\nequivalent_mutants: [x]\n", "equivalent_mutants must map"),
    ("functions: [f]\nequivalent_mutants: {'f: a -> b': ''}\n", "gives no reason for 'f: a -> b'"),
])
def test_authoring_settings_are_validated(tmp_path, yaml_text, words):
    with pytest.raises(SpecError, match=re.escape(words)):
        load_assignment(make_course(tmp_path, yaml_text), "hw")


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


@pytest.mark.parametrize("yaml_text, words", [
    ("functions: [f]\nrequires_autograd: [g]\n", "requires_autograd names g, which functions does not list"),
    ("functions: [f]\nvectorised: f\n", "vectorised must be a list of names"),
    ("functions: [f, g]\nno_autograd: [f]\nrequires_autograd: [f, g]\n",
     "f cannot be under both no_autograd and requires_autograd"),
    ("functions: [f]\nloops_only: [f]\nvectorised: [f]\n", "f cannot be under both loops_only and vectorised"),
])
def test_rules_that_require_are_validated_on_load(tmp_path, yaml_text, words):
    with pytest.raises(SpecError, match=re.escape(words)):
        load_assignment(make_course(tmp_path, yaml_text), "hw")


def test_each_rule_setting_names_the_rule_it_declares(tmp_path):
    hw = load_assignment(make_course(tmp_path, "functions: [f, g, h]\nrequires_autograd: [f]\nvectorised: [g, h]\n"),
                         "hw")
    assert hw.rules == {"requires_autograd": ("f",), "vectorised": ("g", "h")}
