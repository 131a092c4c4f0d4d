"""Messages read as sentences: counts agree with their nouns, verbs with their subjects, and a question
keeps its question mark without a full stop after it."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import pytest

from grader.batch.lms import read_roster
from grader.batch.run import BatchTotals, Progress
from grader.diagnose import compare_parameters, require_close, require_parameters
from grader.errors import CheckFailed, UsageError
from grader.report import text

from .test_reports import REPORT, result


def test_a_question_in_a_diagnosis_ends_with_its_question_mark_only():
    entries = compare_parameters({"w": 12.0, "b": 24.0}, {"w": 1.0, "b": 2.0})
    with pytest.raises(CheckFailed) as caught:
        require_parameters(entries, what="The weights after train(data)", wording={})
    assert caught.value.summary == "The weights after train(data): wrong for w, b."  # no "is" for the weights
    with pytest.raises(CheckFailed) as caught:
        require_close(np.array([24.0, 48.0]), np.array([2.0, 4.0]), what="mse_loss(y, p)",
                      factors={"12 (the number of entries): did you sum?": 12})
    assert caught.value.summary.endswith("Likely: off by a factor of 12 (the number of entries): did you sum?")


def test_one_right_parameter_is_one_not_1():
    entries = compare_parameters({"w": 1.0, "b": 3.0}, {"w": 1.0, "b": 2.0})
    with pytest.raises(CheckFailed) as caught:
        require_parameters(entries, what="The gradients")
    assert caught.value.summary == "The gradients: wrong for b; the other one is right."


def test_a_text_report_counts_one_of_a_kind_in_the_singular():
    one = dataclasses.replace(REPORT, results=(result(), result("g", "error", 0.0, ("g",))), hidden_not_run=1,
                              hidden_points_not_run=1.0)
    out = text.render(one, width=100)
    assert "(1 passed, 1 error)" in out
    assert "1 hidden check (1 point) was not run here; it runs when your work is graded." in out


def test_batch_lines_count_in_the_singular_too():
    progress = Progress(io.StringIO())
    progress.start(1, 0)
    progress.finish(BatchTotals(students=1, graded=1, skipped=0, grader_errors=1, seconds=1.0, mean=0.0,
                                max_score=38.0), Path("out"))
    printed = progress.stream.getvalue()
    assert "Grading 1 submission\n" in printed and "1 student: 1 graded, 0 unchanged, 1 grader error in" in printed


def test_a_roster_missing_columns_names_them_with_or(tmp_path):
    (tmp_path / "roster.csv").write_text("Name,Email\nAda,ada@example.org\n")
    with pytest.raises(UsageError, match="it has no Student, ID or SIS Login ID column"):
        read_roster(tmp_path / "roster.csv")
