"""%grade in a real IPython kernel, driven through jupyter_client as Jupyter drives it.

Each test starts a kernel in the assignment's folder (as a notebook opened from there runs), runs
cells in it, and reads what %grade displays. The grade must be the one `grade` gives for a notebook
of the same cells, and nothing of the grading may happen in the kernel. Skipped, with the reason,
where no kernel can start (ipykernel missing).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

import pytest

from grader.cli import main
from grader.course import load_assignment

from .conftest import COURSE

manager = pytest.importorskip("jupyter_client.manager", reason="jupyter_client is not installed")
pytest.importorskip("ipykernel", reason="ipykernel is not installed, so no Python kernel can start")

FOLDER = COURSE / "assignments" / "assignment2"
FULL = (COURSE / "examples" / "assignment2" / "full_marks.py").read_text()
MISTAKES = (COURSE / "examples" / "assignment2" / "common_mistakes.py").read_text()
BOUND = 300  # seconds any one cell may take on a loaded machine


class Kernel:
    def __init__(self, cwd: Path, env: dict[str, str] | None = None) -> None:
        try:
            self.manager, self.client = manager.start_new_kernel(
                kernel_name="python3", cwd=str(cwd), startup_timeout=BOUND, env=env or dict(os.environ))
        except Exception as exc:  # no kernel spec, no ZeroMQ, ...
            pytest.skip(f"no Jupyter kernel could start here: {type(exc).__name__}: {exc}")

    def run(self, code: str) -> tuple[dict, list[dict]]:
        """The reply to code, and what it displayed or printed."""
        outputs: list[dict] = []

        def keep(message: dict) -> None:
            if message["msg_type"] in ("display_data", "stream", "error", "execute_result"):
                outputs.append(message)

        reply = self.client.execute_interactive(code, output_hook=keep, timeout=BOUND)
        return reply["content"], outputs

    def grade(self, line: str = "") -> dict:
        """What %grade displayed: its data and metadata."""
        reply, outputs = self.run(f"%grade {line}".strip())
        shown = [o["content"] for o in outputs if o["msg_type"] == "display_data"]
        assert reply["status"] == "ok" and len(shown) == 1, outputs
        return shown[0]

    def printed(self, code: str) -> str:
        reply, outputs = self.run(code)
        assert reply["status"] == "ok", outputs
        return "".join(o["content"].get("text", "") for o in outputs if o["msg_type"] == "stream")

    def process_tree(self) -> set[int]:
        pid = self.manager.provisioner.process.pid
        found, pending = {pid}, [pid]
        while pending:
            current = pending.pop()
            try:
                with open(f"/proc/{current}/task/{current}/children") as children:
                    new = {int(p) for p in children.read().split()} - found
            except OSError:
                continue
            found |= new
            pending += list(new)
        return found

    def grading_process(self) -> int:
        """The process id of the kernel's grading process."""
        found = []
        for pid in self.process_tree():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                    if b"grader.jupyter.service" in cmdline.read():
                        found.append(pid)
            except OSError:
                continue
        assert len(found) == 1, found
        return found[0]

    def shutdown(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=False)


@pytest.fixture
def kernel():
    started: list[Kernel] = []

    def start(cwd: Path = FOLDER, env: dict[str, str] | None = None) -> Kernel:
        started.append(Kernel(cwd, env))
        return started[-1]

    yield start
    for one in started:
        if one.manager.is_alive():
            one.shutdown()


def graded_as_a_notebook(cells: list[str], tmp_path: Path, capsys) -> tuple[dict, str]:
    """grade's JSON report, and its text report, for a notebook holding cells."""
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(cell) for cell in cells]
    path = tmp_path / "assignment2.ipynb"
    nbformat.write(notebook, path)
    out = tmp_path / "report.json"
    capsys.readouterr()
    main(["assignment2", "--submission", str(path), "--course", str(COURSE), "--json", str(out)])
    return json.loads(out.read_text()), capsys.readouterr().out


@pytest.mark.parametrize("code", [FULL, MISTAKES], ids=["full_marks", "common_mistakes"])
def test_percent_grade_gives_the_report_grade_gives_for_the_same_cells(kernel, code, tmp_path, capsys, monkeypatch):
    cells = ["import numpy as np", code, "%load_ext grader", "%grade"]  # a notebook of what the kernel will run
    monkeypatch.setenv("COLUMNS", "80")  # the width %grade's text report has
    expected, expected_text = graded_as_a_notebook(cells, tmp_path, capsys)
    session = kernel()
    for cell in cells[:-1]:
        session.run(cell)
    shown = session.grade()
    assert shown["metadata"]["grader"]["score"] == expected["score"]
    assert shown["metadata"]["grader"]["max_score"] == expected["max_score"]
    html, text = shown["data"]["text/html"], shown["data"]["text/plain"]
    # The same report, every check and message, but for the name of what was graded (its heading).
    heading, rest = text.split("\n\n", 1)
    assert " ".join(heading.split()) == f"assignment2: the cells this kernel ran (In [1] to In [4]) " \
                                        f"(seed {expected['seed']})"
    # Places are named as each shows them: "cell 2" in a notebook file, "In [2]" in a kernel (same length).
    assert rest == re.sub(r"\bcell (\d+)", r"In [\1]", expected_text.split("\n\n", 1)[1])
    assert html.startswith('<div class="grader-report">') and "<html" not in html and "<body" not in html
    assert f"Score: {expected['score']:g}/{expected['max_score']:g}" in html


def test_percent_grade_with_names_grades_only_their_checks(kernel):
    session = kernel()
    session.run(FULL)
    session.run("%load_ext grader")
    shown = session.grade("naive_add")
    checks = [c for c in load_assignment(COURSE, "assignment2").checks() if "naive_add" in c.functions]
    assert shown["metadata"]["grader"]["max_score"] == sum(c.points for c in checks)
    assert "naive_relu" not in shown["data"]["text/plain"]


def test_nothing_is_graded_or_run_in_the_kernel(kernel):
    session = kernel()
    session.run("%load_ext grader")
    session.run("calls = []\n" + FULL.replace("def naive_add(x, y):\n", "def naive_add(x, y):\n    calls.append(1)\n"))
    assert session.grade()["metadata"]["grader"]["score"] > 0
    loaded = session.printed("import sys\nprint(len(calls), sorted(m for m in sys.modules\n"
                             "    if m.split('.')[0] in ('grader', '_grader_checks', '_grader_reference')))")
    count, modules = loaded.split(" ", 1)
    assert count == "0"  # the checks called naive_add in the sandbox, never here
    assert eval(modules) == ["grader", "grader.jupyter", "grader.jupyter.magic", "grader.jupyter.protocol"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find processes")
def test_the_grading_process_and_its_sandbox_end_with_the_kernel(kernel):
    session = kernel()
    session.run(FULL)
    session.run("%load_ext grader")
    session.grade()
    tree = session.process_tree()
    assert len(tree) >= 3  # the kernel, its grading process, the sandbox
    session.shutdown()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in tree):
        time.sleep(0.1)
    assert not [pid for pid in tree if Path(f"/proc/{pid}").exists()]


def interrupt_while_running(session: Kernel, code: str) -> str:
    """Run code, interrupt it three seconds in (the notebook's stop button), and return how it ended."""
    sent = session.client.execute(code)
    time.sleep(3)
    session.manager.interrupt_kernel()
    outcome = None
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        message = session.client.get_iopub_msg(timeout=BOUND)
        if message["parent_header"].get("msg_id") != sent:
            continue
        if message["msg_type"] == "error":
            outcome = message["content"]["ename"]
        elif message["msg_type"] == "display_data":
            outcome = "displayed"
        elif message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            break  # the kernel is done with it, and will take the next cell
    while session.client.get_shell_msg(timeout=BOUND)["parent_header"].get("msg_id") != sent:
        pass
    assert outcome is not None, "the interrupted cell never ended"
    return outcome


def test_a_cell_interrupted_in_the_kernel_is_left_out_of_the_grade(kernel):
    session = kernel()
    session.run("%load_ext grader")
    session.run(FULL)
    assert interrupt_while_running(session, "while True:\n    pass") == "KeyboardInterrupt"
    shown = session.grade()  # graded, it would never finish loading either
    assert shown["metadata"]["grader"]["score"] == shown["metadata"]["grader"]["max_score"]
    assert "In [3]: not run: it was interrupted in the kernel" in " ".join(shown["data"]["text/plain"].split())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find processes")
def test_interrupting_percent_grade_stops_the_grade_where_it_runs(kernel):
    session = kernel()
    session.run("%load_ext grader")
    session.run(FULL + "\nif __name__ != '__main__':  # only where it is graded\n    while True:\n        pass\n")
    service = session.grading_process()
    assert interrupt_while_running(session, "%grade") == "KeyboardInterrupt"
    assert session.grading_process() == service  # stopped there, not replaced: it was told, and it answered
    reply, _ = session.run("%grade -a no_such_assignment")  # and it answers the next request
    assert reply["status"] == "error" and "There is no assignment called 'no_such_assignment'" in reply["evalue"]


def test_a_kernel_outside_any_course_is_told_what_to_do(kernel, tmp_path):
    environment = {k: v for k, v in os.environ.items() if k != "GRADER_COURSE"}
    session = kernel(tmp_path, environment)
    session.run("%load_ext grader")
    reply, outputs = session.run("%grade")
    assert reply["status"] == "error" and reply["ename"] == "UsageError"
    assert "No course found here" in reply["evalue"]
    reply, _ = session.run(f"%cd {FOLDER}")
    assert session.grade("-a assignment2 naive_relu")["metadata"]["grader"]["assignment"] == "assignment2"
