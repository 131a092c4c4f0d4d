"""The grade command: exit codes, default submission, JSON output."""

import json
import shutil

import pytest

from grader.cli import main
from grader.platforms.release import build_release

from .conftest import COURSE, FIXTURES

CORRECT = str(COURSE / "examples" / "assignment2" / "full_marks.py")


@pytest.fixture
def in_course(monkeypatch):
    monkeypatch.chdir(COURSE)
    monkeypatch.delenv("GRADER_COURSE", raising=False)


def test_all_passed_is_exit_0_and_json_is_written(in_course, tmp_path, capsys):
    target = tmp_path / "report.json"
    assert main(["assignment2", "--submission", CORRECT, "--json", str(target), "--no-color"]) == 0
    data = json.loads(target.read_text())
    assert data["score"] == data["max_score"] > 0 and data["schema_version"] == 1
    assert "Score: 38/38" in capsys.readouterr().out


def test_lost_points_is_exit_1(in_course, capsys):
    assert main(["assignment2", "--submission", str(FIXTURES / "assignment2" / "wrong_shape.py")]) == 1


def test_a_broken_submission_is_exit_1_with_a_report(in_course, capsys):
    assert main(["assignment2", "--submission", str(FIXTURES / "assignment2" / "syntax_error.py")]) == 1
    assert "syntax error at line 4" in capsys.readouterr().out


def test_json_to_stdout(in_course, capsys):
    assert main(["assignment2", "--submission", CORRECT, "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["assignment"] == "assignment2"


def test_default_submission_is_the_template_in_the_course(tmp_path, monkeypatch, capsys):
    build_release(COURSE, "assignment2", tmp_path)  # a student's copy: it says how many hidden checks there are
    (tmp_path / "assignments" / "assignment2" / "assignment2.ipynb").unlink()
    shutil.copy(CORRECT, tmp_path / "assignments" / "assignment2" / "assignment2.py")
    monkeypatch.chdir(tmp_path / "assignments")
    monkeypatch.delenv("GRADER_COURSE", raising=False)
    assert main(["assignment2", "--no-color"]) == 0
    out = capsys.readouterr().out
    assert "assignment2.py" in out and "8 hidden checks (9 points) were not run here" in out


@pytest.mark.parametrize("argv, words", [
    (["nope"], "no assignment called 'nope'"),
    (["assignment2", "--submission", "missing.py"], "does not exist"),
])
def test_usage_problems_are_exit_2_with_what_to_do(in_course, capsys, argv, words):
    assert main(argv) == 2
    assert words in capsys.readouterr().err


def test_no_course_is_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GRADER_COURSE", raising=False)
    assert main(["assignment2"]) == 2
    assert "No course found" in capsys.readouterr().err


def test_missing_default_submission_is_exit_2(tmp_path, monkeypatch, capsys):
    build_release(COURSE, "assignment2", tmp_path)  # a student's copy, whose settings list the functions
    for template in (tmp_path / "assignments" / "assignment2").glob("assignment2.*"):
        template.unlink()
    monkeypatch.chdir(tmp_path)
    assert main(["assignment2"]) == 2
    assert "No submission found" in capsys.readouterr().err


def test_bad_arguments_and_help_exit_like_argparse(in_course, capsys):
    assert main(["assignment2", "--device", "tpu"]) == 2
    assert main(["--help"]) == 0
    assert "Exit status" in capsys.readouterr().out


def test_cuda_without_a_gpu_is_a_usage_error(in_course, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert main(["assignment2", "--submission", CORRECT, "--device", "cuda"]) == 2
    assert "no CUDA GPU" in capsys.readouterr().err


def test_only_runs_the_named_checks_or_functions(in_course, capsys):
    assert main(["assignment2", "--submission", CORRECT, "--only", "naive_add", "--only", "naive_relu_values",
                 "--json", "-"]) == 0
    names = [t["name"] for t in json.loads(capsys.readouterr().out)["tests"]]
    assert names and all(n.startswith("naive_add") or n == "naive_relu_values" for n in names)
    assert main(["assignment2", "--submission", CORRECT, "--only", "naive_nothing"]) == 2
    assert "No check is named or exercises naive_nothing" in capsys.readouterr().err


def test_help_lists_every_command_with_one_line_each(capsys):
    from grader.cli import COMMANDS

    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    listed = {line.split()[0]: line for line in out.split("commands:\n", 1)[1].split("\n\n", 1)[0].splitlines()}
    assert set(listed) == set(COMMANDS) >= {"batch", "release", "gradescope", "classroom50", "make-notebook"}
    assert all(len(line.split(maxsplit=1)) == 2 for line in listed.values())  # each has its line
    for command in COMMANDS:
        assert main([command, "--help"]) == 0
        assert f"usage: grade {command}" in capsys.readouterr().out


def test_a_misspelt_command_is_suggested(in_course, capsys):
    assert main(["btach", "assignment2", "submissions/", "--out", "results/"]) == 2
    assert "Did you mean: grade batch?" in capsys.readouterr().err
    assert main(["gradescpoe", "assignment2"]) == 2
    assert "Did you mean: grade gradescope?" in capsys.readouterr().err
    assert main(["assignment9"]) == 2  # not near any command: the assignment is what is missing
    assert "Did you mean" not in capsys.readouterr().err


@pytest.mark.parametrize("name", ["answers.txt", "assignment2.md", "hw.pdf"])
def test_a_submission_that_is_no_python_notebook_folder_or_zip_is_a_usage_error(in_course, tmp_path, capsys, name):
    (tmp_path / name).write_text("def naive_add(x, y):\n    return x + y\n")
    assert main(["assignment2", "--submission", str(tmp_path / name)]) == 2
    assert f"{name} is not a .py or .ipynb file, nor a folder or .zip archive holding one." in capsys.readouterr().err


def test_a_zip_submission_is_graded_and_named_by_its_member(in_course, tmp_path, capsys):
    import zipfile

    with zipfile.ZipFile(tmp_path / "hw.zip", "w") as archive:
        archive.write(CORRECT, "hw2/assignment2.py")
    assert main(["assignment2", "--submission", str(tmp_path / "hw.zip"), "--json", "-"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["submission"] == "hw.zip/hw2/assignment2.py" and report["score"] == report["max_score"]


def test_the_installed_command_leaves_quickly_with_everything_written_and_its_exit_status(tmp_path):
    """grade as a command (grader.cli.entry) skips PyTorch's teardown; its output, files and status stay whole."""
    import subprocess
    import sys

    from grader.cli import entry  # noqa: F401  (what [project.scripts] and python -m grader run)

    wrong = FIXTURES / "assignment1"
    submission = next(p for p in sorted(wrong.glob("*.py")))  # any assignment-1 fixture: PyTorch gets imported
    report = tmp_path / "report.json"
    run = subprocess.run([sys.executable, "-m", "grader", "assignment1", "--submission", str(submission),
                          "--json", str(report), "--course", str(COURSE)], capture_output=True, text=True, timeout=600)
    data = json.loads(report.read_text())
    assert run.returncode == (0 if data["score"] == data["max_score"] else 1), run.stderr
    assert run.stdout.rstrip().splitlines()[-1].startswith("Score:") or "hidden check" in run.stdout.splitlines()[-1]
    head = subprocess.Popen([sys.executable, "-m", "grader", "assignment1", "--submission", str(submission),
                             "--course", str(COURSE)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    head.stdout.close()  # grade ... | head: the reader went away
    head.wait(timeout=600)
    assert head.returncode == 1 and head.stderr.read() == b""
