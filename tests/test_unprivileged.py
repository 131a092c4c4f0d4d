"""The sandbox as an ordinary user sets it up: the same attacks, and a whole grading run, without root.

Run as root, these tests start a user that is not root (uid 4242, in a private
mount namespace where a Python installed under /root is visible, as it would be
for a user with their own Python) and run the isolation tests and ``grade``
again as that user. Run as an ordinary user, the suite already is that run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from grader.sandbox.layers.identity import Identity, blocked_ancestor

from .conftest import COURSE
from .test_isolation import RAW

UID = 4242
TA = Identity("ta", UID, UID)
_TOOLS = all(shutil.which(tool) for tool in ("unshare", "setpriv", "mount"))

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.geteuid() != 0 or not _TOOLS,
    reason="starts an ordinary user, which needs root, unshare and setpriv (as an ordinary user the suite is this run)")


def _runtime_paths() -> list[str]:
    return sorted({os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, str(COURSE))})


def _as_ta(command: list[str], home: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    """command as uid 4242, seeing under any folder it could not enter only the runtime and the project."""
    binds = []
    for path in _runtime_paths():
        top = blocked_ancestor(path, TA)
        if top is not None:
            binds.append((top, path))
    tops = {top for top, _ in binds}
    if len(tops) > 1:
        pytest.skip(f"the runtime is hidden under several folders ({', '.join(sorted(tops))})")
    script = []
    stages = []
    for _top, path in binds:
        stage = tempfile.mkdtemp(prefix="grader-stage-")
        stages.append(stage)
        script.append(f"mount --bind '{path}' '{stage}'")
    for top in tops:
        script.append(f"mount -t tmpfs -o mode=0755 tmpfs '{top}'")
    for (_top, path), stage in zip(binds, stages):
        script.append(f"mkdir -p '{path}' && mount --move '{stage}' '{path}'")
    script.append(f'exec setpriv --reuid={UID} --regid={UID} --clear-groups --inh-caps=-all '
                  f'env -i PATH=/usr/bin:/bin HOME={home} USER=ta LANG=C.UTF-8 "$@"')
    try:
        return subprocess.run(["unshare", "--mount", "--propagation", "private", "--", "bash", "-c",
                               " && ".join(script), "--", *command],
                              capture_output=True, text=True, timeout=timeout, cwd=str(home))
    finally:
        for stage in stages:
            os.rmdir(stage)


@pytest.fixture
def ta_home():
    home = Path(tempfile.mkdtemp(prefix="grader-ta-"))
    os.chown(home, UID, UID)
    home.chmod(0o700)
    yield home
    shutil.rmtree(home, ignore_errors=True)


def _owned_by_ta(path: Path) -> None:
    for folder, dirs, files in os.walk(path):
        for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
            os.chown(name, UID, UID)


def test_the_isolation_tests_pass_as_an_ordinary_user(ta_home):
    basetemp = ta_home / "pytest"
    result = _as_ta([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--basetemp={basetemp}",
                     "--rootdir", str(COURSE), "-c", str(COURSE / "pyproject.toml"),
                     str(COURSE / "tests" / "test_isolation.py")], ta_home)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    summary = result.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "skipped" not in summary and "failed" not in summary, summary


def test_grading_works_as_an_ordinary_user_whose_own_files_stay_out_of_reach(ta_home):
    course = ta_home / "course"
    for part in ("assignments/assignment2", "reference/assignment2"):
        shutil.copytree(COURSE / part, course / part)
    secret = ta_home / "token.txt"
    secret.write_text("ghp_a_token_of_the_teaching_assistant")
    honest, thief = course / "hw.py", course / "thief.py"
    honest.write_text((COURSE / "examples" / "assignment2" / "full_marks.py").read_text())
    # Read through libc from code the audit hook takes for NumPy's: only the kernel stands in the way. (The
    # static reading takes its points for reaching past its work; what matters here is what it could read.)
    thief.write_text(honest.read_text() + RAW + (
        f"\nSTOLEN = raw_read({str(secret)!r})\n"
        "if STOLEN:\n    raise SystemExit(STOLEN.decode())  # would show in the report's notes\n"))
    _owned_by_ta(ta_home)
    grade = Path(sys.executable).with_name("grade")
    reports = []
    for submission in (honest, thief):
        result = _as_ta([str(grade), "assignment2", "--course", str(course), "--submission", str(submission),
                         "--json", "-"], ta_home, timeout=300)
        assert result.returncode in (0, 1), result.stdout[-3000:] + result.stderr[-3000:]
        assert "ghp_" not in result.stdout
        reports.append(json.loads(result.stdout))
    report = reports[0]
    assert report["score"] == report["max_score"] == 38
    layers = {layer["layer"]: layer for layer in report["isolation"]}
    assert layers["capabilities"]["active"] and layers["landlock"]["active"] and layers["seccomp"]["active"]
    assert "user namespace" in layers["namespaces"]["detail"]
