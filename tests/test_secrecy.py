"""Hidden checks stay hidden: nothing a student chose reaches their feedback, and leaked inputs replay nothing.

The course here is a copy of assignment 2 with its own secret, so each test
knows what the grader knows: the secret, and therefore which inputs hidden
checks drew.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from grader import seeds
from grader.api import grade, load_reference
from grader.course import load_assignment
from grader.report import classroom50, gradescope, html, jsonreport, junit, markdown

from .conftest import COURSE, FIXTURES, TEST_LIMITS

LEAKS = FIXTURES / "secrecy" / "leaks_hidden_inputs.py"


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("course")
    for part in ("assignments/assignment2", "reference/assignment2"):
        shutil.copytree(COURSE / part, root / part)
    return root


@pytest.fixture(scope="module")
def assignment(course):
    return load_assignment(course, "assignment2")


def _grade(assignment, path, server, **options):
    return grade(assignment, path, server=server, limits=TEST_LIMITS, **options)


def _student_views(report) -> dict[str, str]:
    """Everything a student reads, in every format, with hidden checks shown as soon as the format allows."""
    return {
        "markdown": markdown.render(report),
        "html": html.render(report),
        "gradescope": gradescope.dumps(report, hidden_visibility="visible"),
        "junit": junit.render(report),
        "classroom50": classroom50.release_body(report),
        "hidden messages": "\n".join(r.message for r in report.results if r.visibility == "hidden"),
        "hidden output": "\n".join(r.output for r in report.results if r.visibility == "hidden"),
    }


def test_no_route_puts_a_hidden_input_into_what_the_student_reads(assignment, server):
    report = _grade(assignment, LEAKS, server)
    hidden = [r for r in report.results if r.visibility == "hidden"]
    assert hidden and all(r.status != "passed" for r in hidden)  # every route was taken
    for name, text in _student_views(report).items():
        assert "LEAK" not in text, name  # class names, source lines, messages, printed output, type names
    for result in hidden:
        assert not re.search(r"\d{3,}", result.message), result.message  # line numbers, exit statuses, lengths
        assert "line" not in result.message and "status" not in result.message, result.message
        assert "x)" not in result.message or "(x" in result.message  # no counted operations ("(301x)")
    # Staff still see what happened, in the details JSON keeps for them.
    staff = jsonreport.dumps(report)
    assert "LEAK" in staff or any(r.details for r in hidden)


def test_hidden_inputs_differ_between_submissions_and_runs_reproduce_with_the_seed(assignment, server, course,
                                                                                  tmp_path):
    honest = (COURSE / "examples" / "assignment2" / "full_marks.py").read_text()
    other = tmp_path / "other.py"
    other.write_text(honest + "\n# the same code, another student\n")
    first = _grade(assignment, COURSE / "examples" / "assignment2" / "full_marks.py", server)
    second = _grade(assignment, other, server)
    assert first.seed != second.seed  # drawn from the secret and the code
    secret = seeds.course_secret(course)
    draws = {seed: seeds.hidden_rng(secret, seed, "naive_add_edge_shapes").standard_normal(4).tolist()
             for seed in (first.seed, second.seed)}
    assert draws[first.seed] != draws[second.seed]
    again = _grade(assignment, other, server, seed=second.seed)
    assert [(r.name, r.status, r.message) for r in again.results] == [
        (r.name, r.status, r.message) for r in second.results]


class _Recorder:
    """Stands in for the student in a hidden check, recording the inputs and answering as the reference."""

    def __init__(self, reference, function):
        self.reference, self.function, self.seen = reference, function, []

    def __getattr__(self, name):
        def call(*args):
            answer = getattr(self.reference, name)(*args)
            if name == self.function:
                self.seen.append((args, answer))
            return answer
        return call


def test_a_submission_that_replays_leaked_hidden_answers_gains_nothing(assignment, server, course, tmp_path):
    # A student whose naive_broadcast_add handles 2-D arrays only fails the hidden check on other ranks.
    # Suppose every hidden input of that check leaked in their run: they hard-code the answers.
    partial = tmp_path / "partial.py"
    partial.write_text((COURSE / "examples" / "assignment2" / "full_marks.py").read_text() + '''

_full_broadcast_add = naive_broadcast_add


def naive_broadcast_add(x, y):
    if x.ndim > 2 or y.ndim > 2 or x.ndim == 0:
        raise ValueError("only up to 2-D here")
    return _full_broadcast_add(x, y)
''')
    before = _grade(assignment, partial, server)
    assert before.score < before.max_score
    check = next(spec for spec in assignment.checks() if spec.name == "naive_broadcast_add_any_rank")
    recorder = _Recorder(load_reference(assignment), "naive_broadcast_add")
    check.run(student=recorder, reference=recorder.reference,
              rng=seeds.hidden_rng(seeds.course_secret(course), before.seed, check.name))
    table = {_key(*args): answer.tolist() for args, answer in recorder.seen}
    replay = tmp_path / "replay.py"
    replay.write_text(partial.read_text() + f'''

import hashlib
import numpy as np
_ANSWERS = {table!r}
_partial_broadcast_add = naive_broadcast_add


def naive_broadcast_add(x, y):
    key = hashlib.sha256(np.ascontiguousarray(x).tobytes() + np.ascontiguousarray(y).tobytes()).hexdigest()
    if key in _ANSWERS:
        return np.array(_ANSWERS[key])
    return _partial_broadcast_add(x, y)
''')
    replayed = _grade(assignment, replay, server)
    assert replayed.score == before.score  # the answers were for another run's inputs
    # The table itself is right: replayed against the very inputs it was taken from, it would have scored.
    forced = _grade(assignment, replay, server, seed=before.seed)
    assert forced.score > before.score


def _key(x, y) -> str:
    return hashlib.sha256(np.ascontiguousarray(x).tobytes() + np.ascontiguousarray(y).tobytes()).hexdigest()


def test_code_cannot_tell_a_public_call_from_a_hidden_one_by_its_random_state(assignment, server, tmp_path):
    # It knows the public seed and every public check's name, and the old way of seeding calls: it behaves
    # only when it recognises a public call, to look right where people look.
    names = [spec.name for spec in assignment.checks() if spec.visibility == "visible"]
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text((COURSE / "examples" / "assignment2" / "full_marks.py").read_text() + f'''

import random
import zlib
_EXPECTED = set()
for _name in {names!r}:
    random.seed(zlib.crc32(f"{assignment.seed}:student:{{_name}}".encode()))
    _EXPECTED.add(random.random())
_honest_relu = naive_relu


def naive_relu(x):
    state = random.getstate()
    recognised = random.random() in _EXPECTED
    random.setstate(state)
    if recognised:
        return _honest_relu(x)
    return _honest_relu(x) * 0 + 1.0  # wrong where it thinks nobody is looking
''')
    report = _grade(assignment, sneaky, server)
    relu = [r for r in report.results if "naive_relu" in r.functions and r.name.endswith(("values", "shapes"))]
    assert relu and all(not r.passed for r in relu)  # it could not recognise a single call, public ones included


def test_gradescope_results_name_no_hidden_check_when_they_are_hidden(assignment, server):
    report = _grade(assignment, LEAKS, server)
    data = json.loads(gradescope.dumps(report, hidden_visibility="hidden"))
    visible_text = json.dumps({k: v for k, v in data.items() if k != "tests"}) + json.dumps(
        [t for t in data["tests"] if t.get("visibility") != "hidden"])
    for result in report.results:
        if result.visibility == "hidden":
            assert result.name not in visible_text
    assert "LEAK" not in json.dumps(data)
