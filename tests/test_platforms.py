"""Platforms: the student release, Gradescope, Classroom 50 and GitHub Actions, each run as the platform would.

Every platform's output is validated against a schema written from the
platform's own contract (ci/schemas/), and the same submission must score the
same everywhere: grade, grade batch, Gradescope, Classroom 50 (whole points)
and the grading reporter.
"""

from __future__ import annotations

import ast
import base64
import csv
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml

from grader.api import grade
from grader.cli import main
from grader.course import load_assignment
from grader.errors import UsageError
from grader.model import CheckResult, SubmissionReport
from grader.platforms.release import build_release
from grader.report import classroom50, github, gradescope, junit

from .conftest import COURSE, FIXTURES

SCHEMAS = COURSE / "ci" / "schemas"
MISTAKES = COURSE / "examples" / "assignment2" / "common_mistakes.py"
INJECTION = FIXTURES / "assignment2" / "injects_workflow_commands.py"
BIN = str(Path(sys.executable).parent)
RUNNER_ENV = {  # what Classroom 50's runner hands an autograder
    "CLASSROOM": "dl-week1",
    "ASSIGNMENT": "assignment2",
    "ASSIGNMENT_TYPE": "individual",
    "USERNAME": "alice",
    "OWNER": "alice",
    "SUBMISSION_TAG": "submit/20261122T101500Z-1a2b3c4",
    "COMMIT_URL": "https://github.com/dl-week1/dl-week1-assignment2-alice/commit/1a2b3c4",
    "RELEASE_URL": "https://github.com/dl-week1/dl-week1-assignment2-alice/releases/tag/submit%2F20261122T101500Z",
    "REVIEW_URL": "https://github.com/dl-week1/dl-week1-assignment2-alice/compare/0000000...1a2b3c4",
    "GITHUB_REPOSITORY": "dl-week1/dl-week1-assignment2-alice",
    "GITHUB_SHA": "1a2b3c4",
    "GITHUB_ACTIONS": "true",
}


def validate(data: dict, schema: str) -> None:
    jsonschema.validate(data, json.loads((SCHEMAS / schema).read_text()))


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GRADER_", "CLASSROOM"))}
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def reference_report():
    return grade(load_assignment(COURSE, "assignment2"), MISTAKES)


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "assignment2"
    build_release(COURSE, "assignment2", out, github=True)
    return out


def student_checkout(release: Path, target: Path, submission: Path, assignment: str = "assignment2") -> Path:
    """A student's repository made from the release, with their work in the template's place."""
    shutil.copytree(release, target)
    shutil.copy(submission, target / "assignments" / assignment / f"{assignment}.py")
    os.utime(target / "assignments" / assignment / f"{assignment}.py", (0, 0))  # older than the notebook
    return target


# -- the student release -----------------------------------------------------------------------------


def _reference_bodies(name: str) -> list[str]:
    """The code of every function in the reference solution, docstrings left out, whitespace squeezed."""
    source = (COURSE / "reference" / name / "solution.py").read_text()
    bodies = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body[1:] if ast.get_docstring(node) is not None else node.body
            text = "\n".join(ast.get_source_segment(source, stmt) for stmt in body)
            if len(text) > 40:
                bodies.append(" ".join(text.split()))
    return bodies


@pytest.mark.parametrize("name", ["assignment1", "assignment2", "assignment3", "assignment4", "assignment5"])
def test_a_release_holds_nothing_from_reference(name, tmp_path):
    out = tmp_path / name
    files = build_release(COURSE, name, out)
    assert not [p for p in files if "reference" in p.relative_to(out).parts]
    secret = {p.read_bytes() for p in (COURSE / "reference" / name).rglob("*.py")}
    hidden = [spec.name for spec in load_assignment(COURSE, name).checks() if spec.visibility == "hidden"]
    bodies = _reference_bodies(name)
    assert hidden and bodies  # the checks below look for something real
    for path in files:
        data = path.read_bytes()
        assert data not in secret, path
        text = " ".join(data.decode("utf-8", errors="replace").split())
        assert not [h for h in hidden if h in text], path
        assert not [b for b in bodies if b in text], path
    assert (out / "assignments" / name / "checks.py").is_file() and (out / "grader" / "cli.py").is_file()
    assert not (out / "examples").exists() and not (out / "tests").exists()


def _decorated_checks(path: Path) -> tuple[int, float]:
    """How many @check functions a checks file defines and their points, read from its syntax tree."""
    count, points = 0, 0.0
    for node in ast.walk(ast.parse(path.read_text())):
        for decorator in getattr(node, "decorator_list", []):
            if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", None) == "check":
                count += 1
                points += next(k.value.value for k in decorator.keywords if k.arg == "points")
    return count, points


@pytest.mark.parametrize("name", ["assignment1", "assignment2", "assignment3", "assignment4"])
def test_a_release_counts_the_hidden_checks_it_leaves_out(name, tmp_path):
    # The bundled settings no longer say how many hidden checks there are: the release writes what
    # reference/<name>/checks.py defines, and a student's copy reports that many as not run.
    out = tmp_path / name
    build_release(COURSE, name, out)
    released = load_assignment(out, name)
    count, points = _decorated_checks(COURSE / "reference" / name / "checks.py")
    assert released.reference is None and count > 0
    assert (released.hidden_count, released.hidden_points) == (count, points)
    assert released.functions == load_assignment(COURSE, name).functions


def test_a_release_refuses_a_copy_of_a_reference_file(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(COURSE / "assignments" / "assignment2", course / "assignments" / "assignment2")
    shutil.copytree(COURSE / "reference" / "assignment2", course / "reference" / "assignment2")
    shutil.copy(course / "reference" / "assignment2" / "solution.py", course / "assignments" / "assignment2")
    with pytest.raises(Exception, match="must stay with course staff"):
        build_release(course, "assignment2", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_release_grades_its_public_checks_and_names_the_hidden_ones(release, tmp_path, reference_report):
    checkout = student_checkout(release, tmp_path / "repo", MISTAKES)
    run = subprocess.run([sys.executable, "-m", "grader", "assignment2", "--format", "json"], cwd=checkout,
                         env=environment(), capture_output=True, text=True)
    data = json.loads(run.stdout)
    public = [r for r in reference_report.results if r.visibility == "visible"]
    assert data["score"] == sum(r.score for r in public) and data["max_score"] == sum(r.max_score for r in public)
    assert data["hidden_not_run"] == 8 and data["hidden_points_not_run"] == 9
    assert data["submission"].endswith("assignment2.py")  # the edited file, though the notebook is newer
    assert "unchanged template" in data["notes"][0]["text"]


def test_an_existing_folder_is_never_overwritten(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(UsageError, match="not an empty folder"):
        build_release(COURSE, "assignment2", tmp_path / "out")


# -- Gradescope --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory):
    out = tmp_path_factory.mktemp("gradescope") / "assignment2.zip"
    assert main(["gradescope", "assignment2", "--out", str(out), "--course", str(COURSE)]) == 0
    return out


def gradescope_root(autograder_zip: Path, root: Path, submission: Path | None, name: str = "assignment2.py") -> Path:
    """A folder laid out like /autograder: source/ unpacked from the zip, submission/ from the student."""
    with zipfile.ZipFile(autograder_zip) as archive:
        archive.extractall(root / "source")
        for info in archive.infolist():  # zipfile does not restore permissions
            os.chmod(root / "source" / info.filename, (info.external_attr >> 16) & 0o777)
    (root / "submission").mkdir()
    if submission is not None:
        shutil.copy(submission, root / "submission" / name)
    return root


@pytest.fixture(scope="module")
def gradescope_run(autograder_zip, tmp_path_factory):
    root = gradescope_root(autograder_zip, tmp_path_factory.mktemp("autograder"), MISTAKES)
    run = subprocess.run(["bash", str(root / "source" / "run_autograder")], cwd=root, capture_output=True,
                         text=True, env=environment(AUTOGRADER_ROOT=str(root)))
    return run, json.loads((root / "results" / "results.json").read_text())


def test_every_install_path_builds_the_grader_with_the_pinned_backend():
    """Gradescope's setup.sh, the Classroom 50 autograder and the Actions workflow install the grader
    from its source with pip, which builds it in an isolated environment from [build-system].requires:
    that range must read license as an SPDX expression (setuptools 77 on) and stop before releases
    nobody has built it with."""
    import tomllib
    from packaging.requirements import Requirement

    project = tomllib.loads((COURSE / "pyproject.toml").read_text())
    assert project["project"]["license"] == "MIT"
    (backend,) = [Requirement(r) for r in project["build-system"]["requires"]]
    assert backend.name == "setuptools" and project["build-system"]["build-backend"] == "setuptools.build_meta"
    assert not backend.specifier.contains("77.0.2") and backend.specifier.contains("77.0.3")
    assert not backend.specifier.contains("999")
    for path, source in (("gradescope/setup.sh", '"$SOURCE/grader-src"'),
                         ("classroom50/autograder.py", 'str(BUNDLE / "grader-src")'),
                         ("github/classroom.yml", "pip install --quiet .")):
        text = (COURSE / "ci" / path).read_text()
        assert source in text, path
        assert "--no-build-isolation" not in text and "--no-use-pep517" not in text, path


def test_the_zip_follows_gradescopes_layout(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        infos = {info.filename: info for info in archive.infolist()}
    for script in ("setup.sh", "run_autograder"):
        assert (infos[script].external_attr >> 16) & 0o111, f"{script} must be executable"
    assert "course/reference/assignment2/checks.py" in infos and "grader-src/pyproject.toml" in infos
    assert not [n for n in infos if "__pycache__" in n or n.startswith("course/examples")]
    with zipfile.ZipFile(autograder_zip) as archive:
        setup = archive.read("setup.sh").decode()
        runner = archive.read("run_autograder").decode()
    assert "torch==" in setup and "grader-src" in setup and "@" not in setup.replace("@v", "")
    assert '"assignment2"' in runner and "--format gradescope" in runner
    for script in (setup, runner):
        assert subprocess.run(["bash", "-n"], input=script, text=True).returncode == 0


def test_run_autograder_writes_results_gradescope_accepts(gradescope_run, reference_report):
    run, results = gradescope_run
    assert run.returncode == 0, run.stderr
    validate(results, "gradescope-results.schema.json")
    assert results["score"] == reference_report.score
    assert sum(t["score"] for t in results["tests"]) == reference_report.score
    assert all(0 <= t["score"] <= t["max_score"] for t in results["tests"])
    hidden = {r.title for r in reference_report.results if r.visibility == "hidden"}
    assert {t["visibility"] for t in results["tests"] if t["name"] in hidden} == {"after_published"}
    assert {t["visibility"] for t in results["tests"] if t["name"] not in hidden} == {"visible"}
    assert results["stdout_visibility"] == "hidden"


def test_nothing_gradescope_shows_carries_hidden_details(gradescope_run, reference_report):
    run, results = gradescope_run
    shown = json.dumps(results) + run.stdout + run.stderr
    details = [r.details for r in reference_report.results if r.visibility == "hidden" and r.details]
    assert details  # the submission does fail hidden checks with staff-only details
    assert not [d for d in details if d in shown or json.dumps(d)[1:-1] in shown]


def test_run_autograder_without_any_grader_says_so_in_results(autograder_zip, tmp_path):
    root = gradescope_root(autograder_zip, tmp_path, MISTAKES)
    run = subprocess.run(["bash", str(root / "source" / "run_autograder")], cwd=root, capture_output=True,
                         text=True, env={"PATH": "/usr/bin:/bin", "AUTOGRADER_ROOT": str(root)})
    assert run.returncode == 1 and "setup.sh" in run.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    validate(results, "gradescope-results.schema.json")
    assert results["score"] == 0 and "not with your work" in results["output"]


def test_an_empty_submission_folder_is_a_result_not_a_crash(autograder_zip, tmp_path):
    root = gradescope_root(autograder_zip, tmp_path, None)
    (root / "submission" / "notes.txt").write_text("forgot the file")
    run = subprocess.run(["bash", str(root / "source" / "run_autograder")], cwd=root, capture_output=True,
                         text=True, env=environment(AUTOGRADER_ROOT=str(root)))
    results = json.loads((root / "results" / "results.json").read_text())
    validate(results, "gradescope-results.schema.json")
    assert run.returncode == 0 and results["score"] == 0 and len(results["tests"]) == 29
    assert "assignment2.py" in results["output"] and "notes.txt" not in results["output"].split("(it has")[0]


# -- Classroom 50 ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("classroom50")
    assert main(["classroom50", "assignment2", "--out", str(out), "--course", str(COURSE)]) == 0
    return out / "assignment2"


def run_classroom50(bundle: Path, checkout: Path, output: Path) -> subprocess.CompletedProcess:
    """What Classroom 50's runner does: the bundle's autograder.py, in the student's checkout."""
    env = environment(**RUNNER_ENV, GITHUB_OUTPUT=str(output), CLASSROOM50_BUNDLE_DIR=str(bundle))
    return subprocess.run([sys.executable, str(bundle / "autograder.py")], cwd=checkout, env=env,
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def classroom50_run(bundle, release, tmp_path_factory):
    checkout = student_checkout(release, tmp_path_factory.mktemp("c50") / "repo", MISTAKES)
    # The student's repository holds a grader and public checks of its own; neither may be used.
    (checkout / "grader" / "__init__.py").write_text("raise SystemExit('the student grader ran')\n")
    (checkout / "assignments" / "assignment2" / "checks.py").write_text("raise SystemExit('student checks ran')\n")
    run = run_classroom50(bundle, checkout, checkout.parent / "github_output")
    return run, checkout


def test_classroom50_result_passes_the_runners_contract(classroom50_run, reference_report):
    run, checkout = classroom50_run
    assert run.returncode == 0, run.stdout + run.stderr  # points were lost, yet grading finished
    result = json.loads((checkout / "result.json").read_text())
    validate(result, "classroom50-result-v1.schema.json")
    assert (result["classroom"], result["assignment"], result["owner"], result["submission"]) == (
        RUNNER_ENV["CLASSROOM"], RUNNER_ENV["ASSIGNMENT"], RUNNER_ENV["OWNER"], RUNNER_ENV["SUBMISSION_TAG"])
    assert result["commit"] == RUNNER_ENV["COMMIT_URL"] and result["review"] == RUNNER_ENV["REVIEW_URL"]
    assert all(t["score"] <= t["max-score"] for t in result["tests"]) and result["score"] <= result["max-score"]
    assert result["score"] == sum(t["score"] for t in result["tests"]) == reference_report.score
    assert result["max-score"] == reference_report.max_score
    body = (checkout / "release-body.md").read_text()
    assert f"Score: {reference_report.score:g}/{reference_report.max_score:g}" in body


def test_classroom50_grades_with_the_bundle_not_the_students_copy(classroom50_run):
    run, checkout = classroom50_run
    assert "grader ran" not in run.stdout + run.stderr and "checks ran" not in run.stdout + run.stderr
    result = json.loads((checkout / "result.json").read_text())
    assert len(result["tests"]) == 29  # the bundle's public and hidden checks


def test_classroom50_log_cannot_carry_workflow_commands(bundle, release, tmp_path):
    checkout = student_checkout(release, tmp_path / "repo", INJECTION)
    run = run_classroom50(bundle, checkout, tmp_path / "github_output")
    assert run.returncode == 0
    assert_commands_disabled(run.stdout)


def test_fractional_points_are_scaled_to_whole_ones():
    results = (CheckResult("a", "A", ("f",), "passed", 1.5, 1.5, "", "visible"),
               CheckResult("b", "B", ("f",), "failed", 0.0, 0.25, "wrong", "visible"),
               CheckResult("c", "C", ("g",), "passed", 2.0, 2.0, "", "hidden"))
    report = SubmissionReport("a9", "s.py", results, seed=1, device="cpu")
    result = classroom50.result(report, RUNNER_ENV)
    validate(result, "classroom50-result-v1.schema.json")
    assert classroom50.scale_factor(report) == 100
    assert [(t["score"], t["max-score"]) for t in result["tests"]] == [(150, 150), (0, 25), (200, 200)]
    assert (result["score"], result["max-score"]) == (350, 375)
    assert "multiplied by 100" in classroom50.release_body(report)
    whole = SubmissionReport("a9", "s.py", results[2:], seed=1, device="cpu")
    assert classroom50.scale_factor(whole) == 1 and "multiplied" not in classroom50.release_body(whole)


# -- GitHub Actions with the grading reporter ----------------------------------------------------------


def workflow(release: Path) -> dict:
    return yaml.safe_load((release / ".github" / "workflows" / "classroom.yml").read_text())


def run_grading_step(release: Path, checkout: Path, runner: Path) -> tuple[subprocess.CompletedProcess, dict]:
    """The workflow's grading step in a simulated runner: its env, files and working folder."""
    flow = workflow(release)
    job = flow["jobs"]["run-autograding-tests"]
    step = next(s for s in job["steps"] if s.get("id") == "grade")
    runner.mkdir()
    files = {name: runner / name.lower() for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV")}
    for path in files.values():
        path.touch()
    env = environment(**{k: str(v) for k, v in flow["env"].items()}, **{k: str(v) for k, v in files.items()},
                      GITHUB_ACTIONS="true", GITHUB_WORKSPACE=str(checkout), RUNNER_TEMP=str(runner))
    run = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=checkout, env=env, capture_output=True, text=True)
    return run, files


def reporter_input(flow: dict, files: dict) -> list[tuple[str, dict]]:
    """What the reporter step reads (its src/main.js): the runner ids its `runners` input expands to,
    and for each the variable <ID>_RESULTS, which the grading step put into $GITHUB_ENV."""
    job = flow["jobs"]["run-autograding-tests"]
    reporter = next(s for s in job["steps"] if "autograding-grading-reporter" in s.get("uses", ""))
    assert reporter["uses"].endswith("@v1") and "env" not in reporter
    assert reporter["with"]["runners"] == "${{ steps.grade.outputs.runners }}"
    outputs = dict(line.split("=", 1) for line in files["GITHUB_OUTPUT"].read_text().splitlines())
    env = dict(line.split("=", 1) for line in files["GITHUB_ENV"].read_text().splitlines())
    runners = outputs["runners"].split(",")
    assert sorted(env) == sorted(f"{r.upper()}_RESULTS" for r in runners)  # nothing else set for later steps
    return [(r, json.loads(base64.b64decode(env[f"{r.upper()}_RESULTS"]))) for r in runners]


def test_the_workflow_step_feeds_the_reporter(release, tmp_path, reference_report):
    checkout = student_checkout(release, tmp_path / "repo", MISTAKES)
    run, files = run_grading_step(release, checkout, tmp_path / "runner")
    assert run.returncode == 0, run.stderr  # the reporter step decides pass or fail
    runs = reporter_input(workflow(release), files)
    for _, results in runs:
        validate(results, "grading-reporter.schema.json")
    public = [r for r in reference_report.results if r.visibility == "visible"]
    assert [runner for runner, _ in runs] == [r.name for r in public]  # one runner per public check
    assert [results["max_score"] for _, results in runs] == [r.max_score for r in public]
    assert sum(t["score"] for _, results in runs for t in results["tests"]) == sum(r.score for r in public)
    assert {results["status"] for _, results in runs} == {"pass", "fail", "error"}
    assert "| FAIL | 0/2 |" in files["GITHUB_STEP_SUMMARY"].read_text()


def assert_commands_disabled(log: str) -> None:
    """Every line the runner could read as a command sits between stop-commands and its token."""
    lines = log.splitlines()
    assert lines[0].startswith("::stop-commands::")
    token = lines[0].split("::")[2]
    assert len(token) >= 32 and lines[-1] == f"::{token}::"
    assert not [line for line in lines[1:-1] if line.lstrip().startswith(("::", "##["))]


def test_student_text_cannot_become_workflow_commands(release, tmp_path):
    checkout = student_checkout(release, tmp_path / "repo", INJECTION)
    run, files = run_grading_step(release, checkout, tmp_path / "runner")
    assert run.returncode == 0, run.stderr
    assert_commands_disabled(run.stdout)
    assert "pwned" in run.stdout  # shown, but inert
    assert [line.split("=")[0] for line in files["GITHUB_OUTPUT"].read_text().splitlines()] == ["runners"]
    assert "forged" not in files["GITHUB_ENV"].read_text() + files["GITHUB_STEP_SUMMARY"].read_text()
    runs = reporter_input(workflow(release), files)  # also: $GITHUB_ENV holds our variables and nothing else
    messages = "\n".join(t.get("message", "") for _, results in runs for t in results["tests"])
    assert "pwned" in messages
    assert not [line for line in messages.splitlines() if line.lstrip().startswith(("::", "##["))]


def test_defuse_leaves_other_text_alone():
    assert github.defuse("a :: b\n  ::error::x\n##[group]y") == "a :: b\n  \uff1a:error::x\n#\uff03[group]y"


# -- the same score everywhere --------------------------------------------------------------------------


def test_every_platform_gives_the_same_score(reference_report, gradescope_run, classroom50_run, tmp_path, capsys):
    scores = {"grade": reference_report.score}
    assert main(["assignment2", "--course", str(COURSE), "--submission", str(MISTAKES), "--format", "json"]) == 1
    scores["grade --format json"] = json.loads(capsys.readouterr().out)["score"]
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    shutil.copy(MISTAKES, submissions / "alice.py")
    assert main(["batch", "assignment2", str(submissions), "--out", str(tmp_path / "out"), "--jobs", "1",
                 "--course", str(COURSE)]) == 0
    with open(tmp_path / "out" / "grades.csv") as table:
        scores["grade batch"] = float(next(csv.DictReader(table))["score"])
    with open(tmp_path / "out" / "lms" / "canvas.csv") as table:
        scores["canvas csv"] = float(list(csv.DictReader(table))[1][reference_report_title()])
    scores["gradescope"] = gradescope_run[1]["score"]
    result = json.loads((classroom50_run[1] / "result.json").read_text())
    scores["classroom50"] = result["score"] / classroom50.scale_factor(reference_report)
    output = tmp_path / "github_output"
    env = {"GITHUB_OUTPUT": str(output)}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        patch.delenv("GITHUB_STEP_SUMMARY", raising=False)
        patch.delenv("GITHUB_ENV", raising=False)
        assert main(["assignment2", "--course", str(COURSE), "--submission", str(MISTAKES), "--format", "github"]) == 0
    # Without $GITHUB_ENV the variables are printed; with $GITHUB_OUTPUT the runner ids go there.
    printed = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines() if "_RESULTS=" in line)
    runners = output.read_text().strip().removeprefix("runners=").split(",")
    runs = [json.loads(base64.b64decode(printed[f"{r.upper()}_RESULTS"])) for r in runners]
    # The reporter's own arithmetic (src/helpers/test-helpers.js): passing tests / tests x max_score per runner.
    scores["grading reporter"] = sum(sum(t["status"] == "pass" for t in r["tests"]) / len(r["tests"]) * r["max_score"]
                                     for r in runs)
    assert len(set(scores.values())) == 1, scores


def reference_report_title() -> str:
    return load_assignment(COURSE, "assignment2").title


def test_assignment5_takes_the_gradescope_and_classroom50_paths_with_grades_score(tmp_path, torch_server):
    """Assignment 5 preloads PyTorch, drives probes and gates functions by rules that require something (autograd,
    vectorised code); a submission that loses Part A's points to a rule, on public and hidden checks, scores the same
    on Gradescope and Classroom 50 as in grade."""
    part_a = (FIXTURES / "assignment5" / "closed_form_gradients.py").read_text().split("# --- Part B ---")[0]
    submission = tmp_path / "assignment5.py"  # Part B unfinished: the platforms' own costs are what this measures
    submission.write_text(part_a + "".join(f"\n\ndef {name}(*args):\n    raise NotImplementedError\n" for name in (
        "sigmoid", "initialize_with_zeros", "propagate", "optimize", "predict", "model")))
    assignment = load_assignment(COURSE, "assignment5")
    expected = grade(assignment, submission, server=torch_server)
    assert 0 < expected.score < expected.max_score and any(
        r.visibility == "hidden" and r.message.startswith("No points for") for r in expected.results)
    out = tmp_path / "assignment5.zip"
    assert main(["gradescope", "assignment5", "--out", str(out), "--course", str(COURSE)]) == 0
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
    assert {"course/assignments/assignment5/probes.py", "course/reference/assignment5/checks.py"} <= names
    root = gradescope_root(out, tmp_path / "autograder", submission, name="assignment5.py")
    run = subprocess.run(["bash", str(root / "source" / "run_autograder")], cwd=root, capture_output=True,
                         text=True, env=environment(AUTOGRADER_ROOT=str(root)))
    assert run.returncode == 0, run.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    validate(results, "gradescope-results.schema.json")
    assert results["score"] == expected.score and len(results["tests"]) == len(expected.results)
    assert main(["classroom50", "assignment5", "--out", str(tmp_path / "bundles"), "--course", str(COURSE)]) == 0
    release = tmp_path / "release"
    build_release(COURSE, "assignment5", release)
    checkout = student_checkout(release, tmp_path / "c50" / "repo", submission, "assignment5")
    ran = run_classroom50(tmp_path / "bundles" / "assignment5", checkout, checkout.parent / "github_output")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    result = json.loads((checkout / "result.json").read_text())
    validate(result, "classroom50-result-v1.schema.json")
    assert result["score"] / classroom50.scale_factor(expected) == expected.score


# -- formats on their own ------------------------------------------------------------------------------


def _report_with_everything() -> SubmissionReport:
    results = (
        CheckResult("f_values", "f matches", ("f",), "passed", 2.0, 2.0, "", "visible", seconds=0.01),
        CheckResult("f_shape", "f keeps the shape", ("f",), "failed", 0.0, 1.0,
                    "f returned shape (3,) \x1b[31m\x00, expected (3, 1)", "visible", output="hello\x07\n"),
        CheckResult("g_hidden", "g on edge cases", ("g",), "error", 0.0, 1.0, "g raised ValueError.", "hidden",
                    details="input was [[1, 2]] and expected 7"),
        CheckResult("g_time", "g is fast", ("g",), "timeout", 0.0, 1.0, "g took too long", "visible"),
    )
    return SubmissionReport("a9", "s.py", results, seed=3, device="cpu", seconds=0.5)


def test_junit_is_well_formed_and_counts_failures_and_errors():
    tree = ET.fromstring(junit.render(_report_with_everything()).split("\n", 1)[1])
    suite = tree.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "1", "2")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["f_shape"].find("failure") is not None and cases["g_time"].find("error") is not None
    assert "\x00" not in junit.render(_report_with_everything())
    assert "expected 7" not in junit.render(_report_with_everything())  # hidden details stay out
    # The NUL the student printed was removed where text enters the result model (grader.model).
    assert cases["f_shape"].find("system-out").text.endswith("Your code printed:\nhello\n")
    assert not [c for c in cases.values() if c.find("properties") is not None]  # Jenkins refuses those
    points = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert (points["points.f_values"], points["points.f_shape"], points["score"]) == ("2/2", "0/1", "2")


def test_gradescope_results_keep_hidden_details_out_and_follow_the_visibility_asked_for():
    report = _report_with_everything()
    results = gradescope.results(report, hidden_visibility="after_due_date")
    validate(results, "gradescope-results.schema.json")
    assert "expected 7" not in json.dumps(results) and "g_hidden" not in json.dumps(results)
    assert [t["name"] for t in results["tests"]] == ["f matches", "f keeps the shape", "g is fast", "g on edge cases"]
    assert [t["visibility"] for t in results["tests"]] == ["visible", "visible", "visible", "after_due_date"]
    assert [t["status"] for t in results["tests"]] == ["passed", "failed", "failed", "failed"]
    assert "grade a9 --only f_shape" in results["tests"][1]["output"]
    assert "--only" not in results["tests"][3]["output"]
    assert results["output"].startswith("Public checks: 1 of 3 passed, 2/4 points.")


def test_reporter_runner_statuses():
    runs = github.runners(_report_with_everything())
    for runner in runs:
        validate(runner.results, "grading-reporter.schema.json")
    assert [r.results["status"] for r in runs] == ["pass", "fail", "error", "error"]
    assert [r.results["max_score"] for r in runs] == [2, 1, 1, 1]
    assert [r.id for r in runs] == ["f_values", "f_shape", "hidden_check_1", "g_time"]
    assert "expected 7" not in json.dumps([r.results for r in runs])


def test_gradescope_format_with_a_broken_setup_still_writes_results(tmp_path, capsys):
    target = tmp_path / "results.json"
    code = main(["nope", "--course", str(COURSE), "--format", "gradescope", "--output", str(target)])
    assert code == 2 and "no assignment called 'nope'" in capsys.readouterr().err
    results = json.loads(target.read_text())
    validate(results, "gradescope-results.schema.json")
    assert results["score"] == 0 and "no assignment called 'nope'" in results["output"]


# -- LMS gradebooks ---------------------------------------------------------------------------------------


CANVAS_EXPORT = """Student,ID,SIS User ID,SIS Login ID,Section,Assignment 2 (1234),Current Score
    Points Possible,,,,,38,
"Lovelace, Ada",101,S001,ada@uni.example,DL-01,,
"Turing, Alan",102,S002,alan,DL-01,,
"Student, Test",999,,,DL-01,,
"Hopper, Grace",103,S003,grace,DL-02,,
"""


def test_canvas_csv_takes_its_identifiers_from_the_roster(tmp_path):
    from grader.batch import lms

    roster = tmp_path / "export.csv"
    roster.write_text(CANVAS_EXPORT, encoding="utf-8")
    export = lms.canvas_csv({"ada": 38.0, "alan": 12.5, "grace": None, "=cmd|' /C calc'!A0": 3.0},
                            "Assignment 2 (1234)", 38.0, roster)
    rows = list(csv.reader(export.text.splitlines()))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Assignment 2 (1234)"]
    assert rows[1][0] == "Points Possible" and rows[1][-1] == "38"
    assert rows[2:] == [["Lovelace, Ada", "101", "S001", "ada@uni.example", "DL-01", "38"],
                        ["Turing, Alan", "102", "S002", "alan", "DL-01", "12.5"],
                        ["Hopper, Grace", "103", "S003", "grace", "DL-02", ""]]  # empty: Canvas leaves it alone
    assert export.unmatched == ("=cmd|' /C calc'!A0",)


def test_lms_files_without_a_roster_quote_what_a_spreadsheet_would_run():
    from grader.batch import lms

    canvas = list(csv.reader(lms.canvas_csv({"=1+1": 2.0, "bo": None}, "A2", 38.0).text.splitlines()))
    moodle = list(csv.reader(lms.moodle_csv({"=1+1": 2.0, "bo": None}, "A2").text.splitlines()))
    assert canvas[2] == ["'=1+1", "", "", "'=1+1", "", "2"] and canvas[3][-1] == ""
    assert moodle == [["Username", "A2"], ["'=1+1", "2"], ["bo", ""]]


def test_a_roster_that_is_not_a_canvas_export_stops_the_batch_before_grading(tmp_path, capsys):
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\nada,ada@uni.example\n")
    (tmp_path / "subs").mkdir()
    shutil.copy(MISTAKES, tmp_path / "subs" / "ada.py")
    code = main(["batch", "assignment2", str(tmp_path / "subs"), "--out", str(tmp_path / "out"),
                 "--roster", str(roster), "--course", str(COURSE)])
    assert code == 2 and "not a Canvas gradebook export" in capsys.readouterr().err
    assert not (tmp_path / "out" / "ada.json").exists()


# -- where the course secret goes (grader.seeds) -----------------------------------------------------


def test_the_course_secret_travels_only_where_students_never_look(autograder_zip, bundle, release):
    from grader import seeds

    secret_name = f"course/reference/{seeds.SECRET_FILE}"
    with zipfile.ZipFile(autograder_zip) as archive:
        shipped = archive.read(secret_name).decode().strip()
    assert bytes.fromhex(shipped) == seeds.course_secret(COURSE)  # staff reproduce Gradescope's runs
    published = bundle / "course" / "reference" / seeds.SECRET_FILE
    assert published.read_text().strip() == seeds.PUBLIC  # a public bundle: no secret, none made from it
    assert seeds.course_secret(bundle / "course") is None
    assert not [p for p in release.rglob("*") if p.name == seeds.SECRET_FILE or shipped in _text_of(p)]


def test_the_platform_autograders_refuse_to_grade_without_their_isolation():
    assert "--require-isolation gradescope" in (COURSE / "ci" / "gradescope" / "run_autograder").read_text()
    assert '"--require-isolation", "classroom50"' in (COURSE / "ci" / "classroom50" / "autograder.py").read_text()


def _text_of(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8") if path.is_file() else ""
    except (UnicodeDecodeError, OSError):
        return ""


@pytest.mark.skipif(os.geteuid() != 0, reason="only a root grader can be told to keep student code as root")
def test_gradescope_refuses_to_grade_where_student_code_would_keep_root(autograder_zip, tmp_path):
    root = gradescope_root(autograder_zip, tmp_path, MISTAKES)
    run = subprocess.run(["bash", str(root / "source" / "run_autograder")], cwd=root, capture_output=True, text=True,
                         env=environment(AUTOGRADER_ROOT=str(root), GRADER_SANDBOX_USER="none"))
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0 and not results.get("tests")
    # Exit 2 (a configuration problem) marks the run as the autograder's failure on Gradescope; staff read why.
    assert run.returncode == 2 and "grade doctor" in run.stderr
    assert "cannot isolate student code" in results["output"] and "not with your work" in results["output"]
