"""grade doctor: the layers this machine gives student code, and what a determined student's code meets."""

import json
import os

import pytest

from grader import doctor
from grader.cli import main


def test_the_doctor_reports_every_layer_and_every_attempt(capsys):
    status = main(["doctor", "--json"])
    found = json.loads(capsys.readouterr().out)
    assert {layer["layer"] for layer in found["layers"]} == {
        "user", "capabilities", "namespaces", "landlock", "seccomp", "limits", "audit hook"}
    assert len(found["attempts"]) == 9 and set(found["profiles"]) == {"strict", "gradescope", "classroom50"}
    assert status == (0 if found["isolated"] else 1)
    if found["isolated"]:
        assert all(attempt["outcome"] == "refused" for attempt in found["attempts"])


def test_the_text_names_what_each_layer_stops_and_gives_a_verdict(capsys):
    main(["doctor"])
    text = capsys.readouterr().out
    assert "stops:" in text and "Verdict: student code is" in text and "become root" in text


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="only a root grader can keep workers as root")
def test_workers_kept_as_root_are_not_called_isolated(monkeypatch, capsys):
    monkeypatch.setenv("GRADER_SANDBOX_USER", "none")
    assert main(["doctor"]) == 1
    text = capsys.readouterr().out
    assert "[OFF] user" in text and "NOT isolated" in text and "gradescope: would refuse to grade" in text


def test_a_diagnosis_is_isolated_only_when_every_attempt_was_refused():
    layers = ()
    missing = {"strict": [], "gradescope": [], "classroom50": []}
    assert doctor.Diagnosis(layers, (doctor.Attempt("x", "refused"),), missing).isolated
    assert not doctor.Diagnosis(layers, (doctor.Attempt("x", "ALLOWED"),), missing).isolated
    assert not doctor.Diagnosis(layers, (), {**missing, "strict": ["landlock"]}).isolated
