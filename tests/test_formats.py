"""Output formats come from one registry: one module per format under grader/report/formats/."""

from __future__ import annotations

import json
import re

import pytest

from grader.cli import main
from grader.report import formats

from .conftest import COURSE

FULL_MARKS = COURSE / "examples" / "assignment2" / "full_marks.py"


def test_the_registry_lists_every_format_with_what_the_command_line_needs():
    found = formats.registry()
    assert list(found) == ["text", "json", "gradescope", "classroom50", "github", "junit"]
    assert {name for name, f in found.items() if f.platform} == {"gradescope", "classroom50", "github"}
    assert {name for name, f in found.items() if f.job_log} == {"classroom50", "github"}
    assert "junit (JUnit XML for CI systems)" in formats.help_text()


NEW_FORMAT = '''
from grader.report.formats import Destination, OutputFormat, write_document


def _write(report, destination):
    return write_document(f"{report.assignment},{report.score:g},{report.max_score:g}\\n", destination)


FORMAT = OutputFormat("scoreline", "assignment,score,max", _write)
'''


@pytest.fixture
def extra_format(tmp_path, monkeypatch):
    (tmp_path / "scoreline.py").write_text(NEW_FORMAT)
    monkeypatch.setattr(formats, "__path__", [*formats.__path__, str(tmp_path)])
    formats.registry.cache_clear()
    yield
    formats.registry.cache_clear()


def test_a_new_format_is_one_module(extra_format, capsys, tmp_path):
    code = main(["assignment2", "--course", str(COURSE), "--submission", str(FULL_MARKS), "--format", "scoreline",
                 "--seed", "3"])
    line = capsys.readouterr().out
    assert code == 0 and re.fullmatch(r"assignment2,(\d+),\1\n", line)  # full marks, as the format writes it
    target = tmp_path / "line.csv"
    main(["assignment2", "--course", str(COURSE), "--submission", str(FULL_MARKS), "--format", "scoreline",
          "--output", str(target)])
    assert target.read_text() == line and "naive_relu" in capsys.readouterr().out  # and the text report


def test_text_with_json_dash_prints_the_json_report(capsys):
    main(["assignment2", "--course", str(COURSE), "--submission", str(FULL_MARKS), "--json", "-"])
    data = json.loads(capsys.readouterr().out)
    assert data["score"] == data["max_score"] > 0
