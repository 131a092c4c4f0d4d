"""Where inputs come from: public ones reproducible by anyone, hidden ones by nobody without the secret."""

import os
import stat

import pytest

from grader import seeds
from grader.errors import SpecError


def draw(rng):
    return rng.standard_normal(3).tolist()


def test_public_inputs_depend_on_the_seed_and_the_check_name_only():
    assert draw(seeds.public_rng(1, "a")) == draw(seeds.public_rng(1, "a"))
    assert draw(seeds.public_rng(1, "a")) != draw(seeds.public_rng(2, "a"))
    assert draw(seeds.public_rng(1, "a")) != draw(seeds.public_rng(1, "b"))


def test_hidden_inputs_need_the_secret():
    one, two = os.urandom(32), os.urandom(32)
    assert draw(seeds.hidden_rng(one, 5, "h")) == draw(seeds.hidden_rng(one, 5, "h"))
    assert draw(seeds.hidden_rng(one, 5, "h")) != draw(seeds.hidden_rng(two, 5, "h"))
    assert draw(seeds.hidden_rng(one, 5, "h")) != draw(seeds.public_rng(5, "h"))  # not what a student can compute
    assert draw(seeds.hidden_rng(one, 5, "h")) != draw(seeds.hidden_rng(one, 6, "h"))


def test_call_seeds_reveal_the_check_only_without_a_secret():
    # In a student's copy every check is public and the seed says nothing worth hiding.
    assert seeds.call_seed(None, 5, "a") == seeds.call_seed(None, 5, "a")
    secret = os.urandom(32)
    with_secret = {seeds.call_seed(secret, 5, name) for name in ("a", "b")}
    assert len(with_secret) == 2 and not with_secret & {seeds.call_seed(None, 5, "a"), seeds.call_seed(None, 5, "b")}
    assert all(0 <= value < 2**63 for value in with_secret)


def test_the_run_seed_follows_the_submissions_whole_file(tmp_path):
    from grader.submission import read

    secret = os.urandom(32)
    first = tmp_path / "a.py"
    first.write_text("def f():\n    return 1\n")
    again = tmp_path / "b.py"
    again.write_text("def f():\n    return 1\n")
    comment = tmp_path / "c.py"
    comment.write_text("def f():\n    return 1\n# answers: 0.5, 0.25\n")  # not code, still part of the file
    seed = seeds.run_seed(secret, read(first).digest)
    assert seed == seeds.run_seed(secret, read(again).digest)
    assert seed != seeds.run_seed(secret, read(comment).digest)
    assert seed != seeds.run_seed(os.urandom(32), read(first).digest)


def test_the_secret_is_made_once_beside_the_reference_and_only_its_owner_may_read_it(tmp_path):
    assert seeds.course_secret(tmp_path) is None  # a student's copy: no reference/, no secret
    (tmp_path / "reference").mkdir()
    secret = seeds.course_secret(tmp_path)
    path = tmp_path / "reference" / seeds.SECRET_FILE
    assert len(secret) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert seeds.course_secret(tmp_path) == secret


def test_a_damaged_secret_is_a_course_problem(tmp_path):
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / seeds.SECRET_FILE).write_text("not hex")
    with pytest.raises(SpecError, match="not a course secret"):
        seeds.course_secret(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_reference_folder_that_cannot_hold_the_secret_says_how_to_make_one(tmp_path):
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference").chmod(0o500)
    try:
        with pytest.raises(SpecError, match="os.urandom"):
            seeds.course_secret(tmp_path)
    finally:
        (tmp_path / "reference").chmod(0o700)
