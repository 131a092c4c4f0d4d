"""Shared fixtures: the course in this repository, one fork server, short limits."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from grader.api import grade
from grader.course import load_assignment
from grader.sandbox.client import ForkServer
from grader.sandbox.session import Limits

COURSE = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Short enough to keep the suite fast, long enough for a loaded CI machine.
TEST_LIMITS = Limits(call_timeout=2.0, load_timeout=10.0, memory_mb=512)


@pytest.fixture(scope="session")
def course() -> Path:
    return COURSE


@pytest.fixture(scope="session")
def server():
    with ForkServer(("numpy",)) as running:
        running.start()
        yield running


@pytest.fixture(scope="session")
def torch_server():
    """A fork server with PyTorch loaded, for assignments whose submissions import it."""
    with ForkServer(("numpy", "torch")) as running:
        running.start()
        yield running


@pytest.fixture(scope="session")
def assignment2():
    return load_assignment(COURSE, "assignment2")


@pytest.fixture
def grade2(assignment2, server):
    """Grade a file (a fixture name or a path) for assignment 2 with the test limits."""

    def run(submission, **options):
        path = submission if isinstance(submission, Path) else FIXTURES / "assignment2" / submission
        options.setdefault("limits", TEST_LIMITS)
        return grade(assignment2, path, server=server, **options)

    return run


def zygote_pid(server) -> int:
    """The zygote as this process sees it: where the zygote has a PID namespace of its own, the child of
    the process the grader launched (which only waits for it), else that process itself."""
    launched = server._process.pid
    try:
        with open(f"/proc/{launched}/task/{launched}/children") as children:
            found = [int(pid) for pid in children.read().split()]
        if len(found) == 1:
            with open(f"/proc/{found[0]}/status") as status:
                nspid = next(line.split()[1:] for line in status if line.startswith("NSpid:"))
            if len(nspid) > 1 and nspid[-1] == "1":
                return found[0]
    except (OSError, StopIteration):
        pass
    return launched


def by_name(report):
    return {result.name: result for result in report.results}


def function_results(report, function):
    return [r for r in report.results if function in r.functions]


@pytest.fixture
def world_dir():
    """A folder every user can enter (pytest's tmp_path sits in a folder only its owner can)."""
    folder = Path(tempfile.mkdtemp(prefix="grader-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
