"""Student-chosen text is cleaned once, where it enters: the protocol and the result model."""

import pytest

from grader.model import CheckResult, LoadNote, SubmissionReport
from grader.untrusted import clean_name, clean_text


@pytest.mark.parametrize("text, cleaned", [
    ("plain", "plain"),
    ("a\r\nb\rc", "a\nb\nc"),
    ("\x1b[31mred\x1b[0m", "red"),
    ("tab\tstays", "tab\tstays"),
    ("bidi \u202eevil", "bidi evil"),
    ("\x00\x08\x7fend", "end"),
    ("\x9b31mred", "red"),
])
def test_clean_text(text, cleaned):
    assert clean_text(text, 100) == cleaned


def test_clean_text_caps_and_says_so():
    assert clean_text("y" * 500, 50).endswith("(cut)") and len(clean_text("y" * 500, 50)) == 50


def test_names_are_one_line():
    assert clean_name("evil\nname\tx", 100) == "evil name x"


def test_the_result_model_holds_only_clean_text_whoever_built_it():
    result = CheckResult(name="n", title="t", functions=("f",), status="failed", score=0, max_score=1,
                         message="\x1b[2J\x1b[HScore: 38/38\r", visibility="visible", details="\x07" + "d" * 10**6,
                         output="a\x1b]52;c;eA==\x07b")
    assert result.message == "Score: 38/38\n" and result.output == "ab"
    assert len(result.details) <= 20000 and "\x07" not in result.details
    note = LoadNote("exception", "line\r\n2", "\x1b[31mboom")
    assert note.where == "line 2" and note.text == "boom"
    report = SubmissionReport(assignment="a", submission="=cmd|' /C calc'!A0\x1b[2J", results=(result,), seed=1,
                              device="cpu", notes=(note,))
    assert "\x1b" not in report.submission
