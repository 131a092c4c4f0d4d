"""Every graded function has hidden checks, or is public-only on purpose; a course that forgets fails to load."""

from __future__ import annotations

import textwrap

import pytest

from grader.course import list_assignments, load_assignment
from grader.errors import SpecError

from .conftest import COURSE


@pytest.mark.parametrize("name", list_assignments(COURSE))
def test_every_bundled_function_has_a_hidden_check(name):
    assignment = load_assignment(COURSE, name)
    checks = assignment.checks()
    hidden = {f for c in checks if c.visibility == "hidden" for f in c.functions}
    public_only = dict(assignment.public_only)
    assert all(f in hidden or f in public_only for f in assignment.functions)
    assert not public_only  # the bundled course checks every function on hidden inputs


def course(tmp_path, yaml_extra="", hidden_functions=("f",)):
    folder = tmp_path / "assignments" / "hw"
    folder.mkdir(parents=True)
    (folder / "assignment.yaml").write_text(
        f"functions: [f, g]\nhidden: {{checks: {len(hidden_functions)}, points: {len(hidden_functions)}}}\n"
        + textwrap.dedent(yaml_extra))
    (folder / "checks.py").write_text(textwrap.dedent('''
        from grader.checks import check

        @check(points=1, functions="f")
        def f_public(student):
            pass

        @check(points=1, functions="g")
        def g_public(student):
            pass
    '''))
    reference = tmp_path / "reference" / "hw"
    reference.mkdir(parents=True)
    (reference / "solution.py").write_text("def f(): pass\ndef g(): pass\n")
    (reference / "checks.py").write_text("from grader.checks import check\n" + "".join(
        f"\n@check(points=1, functions={function!r})\ndef {function}_hidden(student):\n    pass\n"
        for function in hidden_functions))
    return tmp_path


def test_a_function_without_a_hidden_check_fails_at_load_time_naming_the_files(tmp_path):
    with pytest.raises(SpecError) as caught:
        load_assignment(course(tmp_path), "hw").checks()
    said = str(caught.value)
    assert "no hidden check exercises g" in said
    assert str(tmp_path / "reference" / "hw" / "checks.py") in said and "public_only" in said


def test_public_only_on_purpose_with_a_reason_loads(tmp_path):
    hw = load_assignment(course(tmp_path, "public_only:\n  g: its one input shows all there is to see\n"), "hw")
    assert len(hw.checks()) == 3
    assert hw.public_only == (("g", "its one input shows all there is to see"),)


@pytest.mark.parametrize("yaml_extra, hidden, words", [
    ("public_only: [g]\n", ("f",), "public_only must map each function to the reason"),
    ("public_only:\n  g: ''\n", ("f",), "public_only must map each function to the reason"),
    ("public_only:\n  h: no such function\n", ("f",), "public_only names h, which functions does not list"),
    ("public_only:\n  g: but it has one\n", ("f", "g"), "public_only lists g, which"),
])
def test_public_only_is_validated(tmp_path, yaml_extra, hidden, words):
    with pytest.raises(SpecError, match=words):
        load_assignment(course(tmp_path, yaml_extra, hidden), "hw").checks()


def test_a_students_copy_without_reference_needs_no_hidden_checks(tmp_path):
    root = course(tmp_path)
    for path in sorted((root / "reference").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    (root / "reference").rmdir()
    assert len(load_assignment(root, "hw").checks()) == 2
