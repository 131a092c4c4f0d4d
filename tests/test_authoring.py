"""Course authoring: grade new scaffolds an assignment that grade check passes, and grade check catches
weak checks (stubs that earn points, mutants that survive) with the evidence an author needs.

The end-to-end tests build an assignment in a temporary course with ``grade new``, fill it the way an
author would, and run ``grade check`` through ``main([...])`` as the command line does.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from grader import notebooks
from grader.authoring import render, soundness
from grader.authoring.mutants import mutants
from grader.authoring.solution import reach
from grader.authoring.soundness import Options, check
from grader.authoring.stubs import KINDS, Stub, stubs
from grader.cli import main
from grader.course import load_assignment
from grader.model import CheckResult, SubmissionReport

# --- mutants, read from the syntax tree ---------------------------------------------------

SOURCE = '''"""A module."""

import numpy as np


def total(x):
    """Sum with a loop."""
    out = 0.0
    for i in range(len(x)):
        out += x[i]
    return out


def scaled(a, b):
    if a.shape[0] < 2:
        return None
    return -2 * (a @ b).sum(axis=0)


def pick(x):
    return x[1:3], x[:, 0]
'''


def ids(source=SOURCE, **options):
    return [m.id for m in mutants(source, **options)]


def test_every_family_the_issue_names_is_made_and_each_id_quotes_the_change():
    made = {m.id: m.family for m in mutants(SOURCE)}
    expected = {
        "total: out = 0.0 -> (deleted)": "statement",
        "total: for i in range(len(x)): ... -> (deleted)": "statement",
        "total: range(len(x)) -> range(1, len(x))": "off-by-one",
        "total: range(len(x)) -> range(len(x) + 1)": "off-by-one",
        "total: range(len(x)) -> range(len(x) - 1)": "off-by-one",
        "total: out += x[i] -> out -= x[i]": "arithmetic",
        "total: return out -> return None": "return",
        "scaled: a.shape[0] < 2 -> (a.shape[0] >= 2)": "comparison",
        "scaled: a.shape[0] < 2 -> (a.shape[0] <= 2)": "comparison",
        "scaled: a.shape[0] -> a.shape[1]": "off-by-one",
        "scaled: -2 * (a @ b).sum(axis=0) -> (2 * (a @ b).sum(axis=0))": "sign",
        "scaled: a @ b -> (b @ a)": "matrix",
        "scaled: a @ b -> (a.T @ b)": "matrix",
        "scaled: a @ b -> (a @ b.T)": "matrix",
        "scaled: (a @ b).sum(axis=0) -> (a @ b).mean(axis=0)": "reduction",
        "scaled: (a @ b).sum(axis=0) -> (a @ b).sum(axis=1)": "reduction",
        "scaled: if a.shape[0] < 2: ... -> (deleted)": "statement",
        "pick: x[1:3] -> x[2:3]": "off-by-one",
        "pick: x[1:3] -> x[1:4]": "off-by-one",
        "pick: x[:, 0] -> x[:, 1]": "off-by-one",
        "pick: x[:, 0] -> x[1:, 0]": "off-by-one",
        "pick: x[:, 0] -> x[:-1, 0]": "off-by-one",
    }
    assert {k: made.get(k) for k in expected} == expected
    assert "total: return out -> (deleted)" not in made  # the same as returning None
    assert "pick: x[:, 0] -> x[:, -1]" not in made  # counting from the end is another mistake
    assert not [i for i in made if "A module" in i or "Sum with a loop" in i]  # docstrings stay


def test_each_mutant_changes_one_place_compiles_and_keeps_the_rest_of_the_file():
    for mutant in mutants(SOURCE):
        compile(mutant.source, "mutant", "exec")
        diff = mutant.diff(SOURCE)
        added = [line for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
        removed = [line for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
        assert len(added) == 1 and len(removed) == (2 if mutant.id.endswith("... -> (deleted)") else 1), mutant.id
        assert mutant.source.count('"""A module."""') == 1


def test_ids_stay_the_same_when_other_code_moves_and_twins_are_numbered():
    moved = SOURCE.replace("import numpy as np\n", "import numpy as np\n\nCONSTANT = 3\n\n\n")
    assert ids(moved) == ids()
    twice = "def f(x):\n    a = x[0] + 1\n    b = x[0] + 1\n    return a * b\n"
    made = ids(twice)
    assert "f: x[0] + 1 -> (x[0] - 1)" in made and "f: x[0] + 1 -> (x[0] - 1) (#2)" in made


def test_an_elif_is_not_deleted_with_its_else_and_a_sign_reads_with_its_statement():
    source = ("def f(x):\n    if x > 0:\n        return 1\n    elif x < 0:\n        return -1\n"
              "    else:\n        return 0\n")
    made = ids(source)
    assert not [i for i in made if i.startswith("f: elif")]
    assert "f: return -1 -> return 1" in made and "f: x < 0 -> (x >= 0)" in made


def test_mutants_that_change_nothing_or_do_not_compile_are_dropped():
    # Deleting the only statement of a branch leaves `pass`, which is kept; the same code made twice is not.
    source = "def f(x):\n    return x\n\n\ndef g():\n    pass\n"
    assert ids(source) == ["f: return x -> return None"]
    assert ids(SOURCE, only=lambda name: name == "pick") == [i for i in ids() if i.startswith("pick:")]


def test_reach_follows_helpers_methods_and_constructors():
    source = textwrap.dedent('''
        def _helper(x):
            return x

        def public(x):
            return _helper(x)

        def outer(x):
            return public(x)

        class Net:
            def __init__(self):
                self.w = 1

            def _forward(self, x):
                return self.w * x

            def predict(self, x):
                return self._forward(x)

        def make():
            return Net()
    ''')
    found = reach(source)
    assert found["_helper"] == {"_helper", "public", "outer"}
    assert found["Net._forward"] == {"Net._forward", "Net.predict", "make"}  # make hands out a Net to use
    assert found["Net.__init__"] >= {"Net.__init__", "Net.predict", "Net._forward", "make"}


def test_stubs_replace_one_function_each_way_and_the_zeros_stub_never_raises():
    source = "import numpy as np\n\n\ndef f(x, y=2, *rest, k=1):\n    assert x.ndim == 2\n    return x * y\n\n\n" \
             "def g(x):\n    return x\n"
    made = stubs(source, ("f",))
    assert [s.kind for s in made] == list(KINDS) and all(s.function == "f" for s in made)
    for stub in made:
        assert "def g(x):\n    return x\n" in stub.source
    namespace: dict = {}
    exec(compile(next(s for s in made if s.kind == "returns zeros").source, "stub", "exec"), namespace)
    import numpy as np

    x = np.ones((2, 3))
    assert np.array_equal(namespace["f"](x, 3), np.zeros((2, 3)))
    assert namespace["f"](np.ones(3)) is None  # the reference refused the input; the stub does not
    exec(compile(next(s for s in made if s.kind == "returns its first argument").source, "stub", "exec"), namespace)
    assert namespace["f"](x) is x


# --- grade new, then grade check, end to end ----------------------------------------------

FILLED_TEMPLATE_CELL = '''# `clip_negative(x)` takes a NumPy array `x` and returns a **new** array in which every
# negative entry is 0 and every other entry is as in `x`.

# %%
def clip_negative(x):
    # YOUR CODE HERE
    raise NotImplementedError
'''

FILLED_SOLUTION = '''"""Reference solution for hw."""


def clip_negative(x):
    out = x.copy()
    out[out < 0] = 0
    return out
'''

FILLED_PUBLIC = '''"""Public checks for hw."""

import numpy as np

from grader.checks import assert_same, check


@check(points=2, functions="clip_negative")
def clip_negative_values(student, rng):
    """clip_negative matches np.maximum(x, 0) on random matrices"""
    for shape in [(3, 4), (5, 2)]:
        x = INPUTS
        assert_same(student.clip_negative(x), np.maximum(x, 0), what=f"clip_negative(x) for x of shape {shape}")
'''

FILLED_HIDDEN = '''"""Hidden checks for hw."""

from grader.checks import assert_same, check


@check(points=1, functions="clip_negative")
def clip_negative_edge_shapes(student, reference, rng):
    """clip_negative on a single element, a single row and a single column"""
    for shape in [(1, 1), (1, 5), (6, 1)]:
        x = INPUTS
        assert_same(student.clip_negative(x), reference.clip_negative(x), what="clip_negative(x)")
'''

EQUIVALENT = "clip_negative: out < 0 -> (out <= 0)"
DELETED = "clip_negative: out[out < 0] = 0 -> (deleted)"


def check_command(course: Path, capsys, *extra: str) -> tuple[int, str]:
    code = main(["check", "hw", "--course", str(course), "--seeds", "2", "--jobs", "2", *extra])
    return code, capsys.readouterr().out


def fill(course: Path, inputs: str) -> None:
    folder, reference = course / "assignments" / "hw", course / "reference" / "hw"
    template = folder / "hw.py"
    text = template.read_text()
    start = text.index("# `clip_negative(x)` takes")
    template.write_text(text[:start] + FILLED_TEMPLATE_CELL)
    notebooks.write_twin(template)
    readme = folder / "README.md"
    readme.write_text(readme.read_text().replace("a new array of the same shape holding `2 * x`",
                                                 "a new array with every negative entry 0"))
    (reference / "solution.py").write_text(FILLED_SOLUTION)
    (folder / "checks.py").write_text(FILLED_PUBLIC.replace("INPUTS", inputs.replace("SHAPE", "shape")))
    (reference / "checks.py").write_text(FILLED_HIDDEN.replace("INPUTS", inputs.replace("SHAPE", "shape")))


@pytest.fixture
def course(tmp_path):
    (tmp_path / "assignments").mkdir()
    assert main(["new", "hw", "--function", "clip_negative", "--course", str(tmp_path), "--title", "Homework"]) == 0
    return tmp_path


def test_a_new_assignment_is_sound_as_scaffolded(course, capsys):
    capsys.readouterr()
    code, out = check_command(course, capsys)
    assert code == 0, out
    assert "hw: sound" in out
    for step in ("settings", "reference", "template", "stubs", "mutants"):
        assert f"ok       {step}" in out, out
    expected_files = {"assignments/hw/hw.py", "assignments/hw/hw.ipynb", "assignments/hw/README.md",
                      "assignments/hw/assignment.yaml", "assignments/hw/checks.py", "reference/hw/solution.py",
                      "reference/hw/checks.py"}
    assert {str(p.relative_to(course)) for p in course.rglob("*") if p.is_file() and "course-secret" not in p.name} \
        == expected_files
    settings = (course / "assignments" / "hw" / "assignment.yaml").read_text()
    assert "functions:" not in settings.replace("# The functions", "") and "hidden:" not in settings  # derived


def test_filled_then_weakened_grade_check_names_the_surviving_mutant(course, capsys, tmp_path):
    fill(course, "rng.standard_normal(SHAPE)")
    code, out = check_command(course, capsys, "--json", str(tmp_path / "check.json"))
    # The one mutant no check can tell apart: out <= 0 sets zeros to zero.
    assert code == 1 and f"mutant survived: {EQUIVALENT}" in out and out.count("mutant survived") == 1, out
    assert f'"{EQUIVALENT}": "<why no check can tell>"' in out  # how to mark it
    data = json.loads((tmp_path / "check.json").read_text())["assignments"][0]
    assert not data["sound"] and data["mutation_table"][-1]["survived"] == 1

    settings = course / "assignments" / "hw" / "assignment.yaml"
    mark = f'equivalent_mutants:\n  "{EQUIVALENT}": "a zero stays zero either way"\n'
    settings.write_text(settings.read_text() + mark)
    code, out = check_command(course, capsys)
    assert code == 0 and "hw: sound" in out, out
    assert "1 survived" not in out and "0 survived, 1 marked equivalent" in out

    # Weakened: inputs without negative entries cannot tell a function that clips nothing from one that does.
    fill(course, "rng.uniform(0.1, 1.0, SHAPE)")
    code, out = check_command(course, capsys)
    assert code == 1 and f"mutant survived: {DELETED}" in out, out
    diff = out[out.index(f"mutant survived: {DELETED}"):]
    assert "-    out[out < 0] = 0\n" in diff and "+    pass\n" in diff
    assert "returns its first argument: 3 of 3 points" in out  # and a stub that returns x now earns everything
    assert "hw: NOT SOUND" in out


def test_a_stub_that_earns_points_and_a_reference_that_loses_them_are_reported(course, capsys):
    fill(course, "rng.standard_normal(SHAPE)")
    reference = course / "reference" / "hw" / "solution.py"
    reference.write_text(FILLED_SOLUTION.replace("out[out < 0] = 0", "out[out < -1] = 0"))
    code, out = check_command(course, capsys)
    assert code == 1 and "the reference solution loses points under seed" in out
    assert "skipped  stubs" in out and "skipped  mutants" in out


class _OneReport:
    """A pool that answers every grading with one report."""

    def __init__(self, results):
        self.report = SubmissionReport("hw", "stub.py", tuple(results), seed=1, device="cpu")

    def grade(self, source, **options):
        return self.report


def _result(name, score, message):
    return CheckResult(name, "a check", ("f",), "passed" if score else "failed", score, 1.0, message, "visible")


@pytest.mark.parametrize("results, said", [
    ([_result("f_values", 0.0, "No points for f: it computes with whole arrays. Found: x + y.")],
     "returns None: a rule, not the checks, took the points of f_values, so whether the checks would pass it is "
     "unknown"),
    ([_result("f_values", 0.0, "f(x) returned None."), _result("f_keeps", 1.0, "")],
     "returns None: 1 of 2 points from f_keeps"),
])
def test_a_stub_is_reported_when_it_earns_points_or_only_a_rule_takes_them(results, said):
    run = SimpleNamespace(names=lambda function: ("f_values", "f_keeps"), seeds=(1,))
    outcome = soundness._grade_stub(run, _OneReport(results), Stub("f", "returns None", "def f(x):\n    return None\n"))
    assert soundness._stub_said(outcome) == said
    fine = soundness._grade_stub(run, _OneReport([_result("f_values", 0.0, "f(x) returned None.")]),
                                 Stub("f", "returns None", ""))
    assert not fine.gated and not fine.earned and fine.score == 0


def test_settings_problems_readme_twin_and_hidden_coverage(course):
    folder = course / "assignments" / "hw"
    (folder / "README.md").write_text("# Homework\n\nNothing about the function.\n")
    template = folder / "hw.py"
    template.write_text(template.read_text() + "\n\ndef another(x):\n    raise NotImplementedError\n")
    verdict = check(course, "hw", Options(seeds=1, jobs=1, mutate=False))
    texts = [p.text for p in verdict.problems if p.step == "settings"]
    assert any("README.md does not name clip_negative, another" in t for t in texts), texts
    assert any("hw.ipynb differs from its template hw.py" in t for t in texts)
    assert any("no check exercises another" in t for t in texts)
    assert any("solution.py does not define another" in t for t in texts)
    assert not verdict.sound and "settings" in render.text(verdict)


def test_a_template_importing_torch_without_preloading_it_gets_a_note(course):
    from grader.authoring import layout

    folder = course / "assignments" / "hw"
    assert "requires_autograd, vectorised" in (folder / "assignment.yaml").read_text()  # the rules are named
    template = folder / "hw.py"
    template.write_text(template.read_text().replace("import numpy as np", "import numpy as np\nimport torch"))
    assignment = load_assignment(course, "hw")
    found = layout.inspect(assignment, assignment.checks(), (course / "reference" / "hw" / "solution.py").read_text())
    assert any("imports torch, which" in n and "add it to preload:" in n for n in found.notes), found.notes


def test_grade_new_refuses_what_exists_and_names_that_are_not_python(course, capsys):
    assert main(["new", "hw", "--course", str(course)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["new", "hw2", "--function", "not-a-name", "--course", str(course)]) == 2
    assert main(["check", "--course", str(course)]) == 2  # neither names nor --all


def test_a_release_of_a_new_assignment_carries_what_was_derived_and_no_mark(course, tmp_path, capsys):
    settings = course / "assignments" / "hw" / "assignment.yaml"
    settings.write_text(settings.read_text() + 'equivalent_mutants:\n  "clip_negative: 2 * x -> (2 / x)": "reason"\n')
    out = tmp_path / "release"
    assert main(["release", "hw", "--course", str(course), "--out", str(out)]) == 0
    released = load_assignment(out, "hw")
    assert (released.reference, released.functions, released.hidden_count, released.hidden_points) == (
        None, ("clip_negative",), 1, 1.0)
    assert "2 * x" not in (out / "assignments" / "hw" / "assignment.yaml").read_text()
