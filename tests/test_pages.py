"""The pages people open: the class summary and a student's feedback, parsed as a browser would read them."""

from __future__ import annotations

from html.parser import HTMLParser

from grader.batch import summary
from grader.model import CheckResult, Curve, DiagnosisRow, LoadNote, SubmissionReport
from grader.report import html, markdown, text


class Page(HTMLParser):
    """Links, tables (as rows of cell texts), SVG texts, code elements and visible text of a page."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.tables: list[list[list[str]]] = []
        self.svg_texts: list[str] = []
        self.code: list[str] = []
        self.text: list[str] = []
        self.scripts = 0
        self.ids: dict[str, dict] = {}
        self._href: str | None = None
        self._cell: list[str] | None = None
        self._stack: list[str] = []
        self.feed(source)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids[attributes["id"]] = attributes
        self._stack.append(tag)
        if tag == "a":
            self._href = attributes.get("href")
            self.links.append((self._href, ""))
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "script":
            self.scripts += 1

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None
        if self._stack and self._stack[-1] == tag:
            self._stack.pop()

    def handle_data(self, data):
        if "script" in self._stack or "style" in self._stack:
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._stack and self._stack[-1] == "a" and self.links:
            self.links[-1] = (self.links[-1][0], self.links[-1][1] + data)
        if "svg" in self._stack and self._stack[-1] == "text":
            self.svg_texts.append(data)
        if self._stack and self._stack[-1] == "code":
            self.code.append(data)


def result(name, status="passed", score=1.0, visibility="visible", message="", functions=("f",), **extra):
    return CheckResult(name=name, title=f"{name} works", functions=functions, status=status, score=score,
                       max_score=1.0, message=message, visibility=visibility, **extra)


ROWS = (DiagnosisRow("w1", "0.82", "-0.82", 2.0, "the sign is flipped"),
        DiagnosisRow("b3", "1.79", "1.21", 0.325, ""))
CURVES = (Curve("your loss", (0.3, 0.2, 0.1), "epoch", 10.0), Curve("reference", (0.3, 0.15, 0.05), "epoch", 10.0))
NAME_ERROR = "f raised NameError: name 'np' is not defined (at line 3)."


def report(results, **extra) -> SubmissionReport:
    return SubmissionReport(assignment="hw", submission="hw.py", seed=1, device="cpu", results=tuple(results), **extra)


CLASS = {
    "ann": report([result("f_values"), result("f_hidden", visibility="hidden"), result("g_train", functions=("g",))]),
    "bob": report([
        result("f_values", "error", 0.0, message=NAME_ERROR),
        # The hidden check failed the same way; its brief message differs, its staff-only details do not.
        result("f_hidden", "error", 0.0, "hidden", "f raised NameError (at line 3).", details=NAME_ERROR),
        result("g_train", "failed", 0.0, message="The weights after `train(data)` are wrong for w1, b3.",
               functions=("g",), diagnosis=ROWS, curves=CURVES)]),
    "cy d": report([result(n, "error", 0.0, v, "No submission to grade: there is no hw.py.") for n, v in
                    (("f_values", "visible"), ("f_hidden", "hidden"), ("g_train", "visible"))],
                   notes=(LoadNote("file", "cy d", "No submission to grade: there is no hw.py."),)),
}
STATUSES = {"ann": "passed", "bob": "failed", "cy d": "no-submission", "dee": "grader-error"}


def class_summary():
    return summary.compute("hw", CLASS, STATUSES, {"dee": "GraderError: boom"}, [])


def test_the_summary_lists_every_student_with_score_status_and_a_link_sortable_by_score():
    page = Page(summary.to_html(class_summary()))
    students = page.tables[0]
    assert students[0] == ["Student", "Score", "Status"]
    assert [row[0] for row in students[1:]] == ["ann", "bob", "cy d", "dee"]
    assert students[1][1:] == ["3/3 (100%)", "passed"] and students[4][1:] == ["–", "grader-error"]
    assert ("../ann.html", "ann") in page.links and ("../cy%20d.html", "cy d") in page.links
    assert ("../dee.error.txt", "dee") in page.links
    assert "sortable" in " ".join(page.ids["students"]) and page.scripts == 1  # the sorting script
    data = summary.to_html(class_summary())
    assert 'data-sort="100.0000"' in data and 'data-type="number"' in data


def test_the_summary_charts_have_a_fixed_axis_and_labelled_bars():
    page = Page(summary.to_html(class_summary()))
    assert [t for t in page.svg_texts if t.endswith("%")] == [f"{p}%" for p in range(0, 101, 10)]
    assert "score" in page.svg_texts and "students" in page.svg_texts
    visible = " ".join(page.text)
    for title, share in (("f_values works", "1/3 (33%)"), ("g_train works", "1/3 (33%)")):
        assert title in visible and share in visible


def test_one_failure_is_one_row_whatever_the_hidden_wording():
    failures = class_summary().failures
    assert (1, "f", NAME_ERROR) in failures
    assert not [f for f in failures if "f raised NameError (at line 3)." == f[2]]
    assert (1, "f", "No submission to grade: there is no hw.py.") in failures


def test_a_students_page_has_a_link_back_a_diagnosis_table_code_and_a_plot_with_axes():
    page = Page(html.render(CLASS["bob"]))
    assert page.links[0] == ("summary/index.html", "← Class summary")
    diagnosis = next(t for t in page.tables if t[0][0] == "Parameter")
    assert diagnosis == [["Parameter", "Expected", "Yours", "Relative error", "Likely mistake"],
                         ["w1", "0.82", "-0.82", "2", "the sign is flipped"], ["b3", "1.79", "1.21", "0.325", ""]]
    assert "train(data)" in page.code and "`" not in "".join(page.text)
    assert {"epoch", "loss", "your loss", "reference", "0", "20"} <= set(page.svg_texts)
    assert "The weights after " in "".join(page.text)


def test_a_problem_every_check_shares_is_said_once_without_repeating_it_per_check():
    rendered = html.render(CLASS["cy d"])
    assert rendered.count("No submission to grade") == 1
    assert markdown.render(CLASS["cy d"]).count("No submission to grade") == 1
    assert Page(rendered).tables[0][1][0] == "ERROR"  # the checks are still listed


def test_the_markdown_page_has_the_same_table_and_code():
    page = markdown.render(CLASS["bob"])
    assert "| Parameter | Expected | Yours | Relative error | Likely mistake |" in page
    assert "| `w1` | `0.82` | `-0.82` | 2 | the sign is flipped |" in page
    assert "The weights after `train(data)` are wrong for w1, b3." in page


def test_a_carriage_return_is_a_line_break_to_every_escaper():
    sneaky = "fine\r# Score: 100/100\r<img src=x onerror=alert(1)>"
    assert "\n\\# Score" in markdown.escape(sneaky)
    assert "\r" not in markdown.escape(sneaky) and "\r" not in markdown.fenced(sneaky)
    assert html.escape(sneaky) == "fine\n# Score: 100/100\n&lt;img src=x onerror=alert(1)&gt;"


def test_the_terminal_gets_no_control_sequences_from_student_text():
    hostile = report([result("f_values", "error", 0.0, message="boom\x1b[2J\x1b]52;c;bWFsaWNl\x07\x9b31m\rScore: 9/9",
                              output="tick\rtock\x1b[1A\x00")])
    out = text.render(hostile, colour=True)
    assert "\x1b[2J" not in out and "\x1b]52" not in out and "\x9b" not in out and "\x00" not in out and "\r" not in out
    assert "Score: 9/9" in out.split("boom", 1)[1]  # still there, on a line of its own, as plain text
    assert "\x1b[31mERROR\x1b[0m" in out  # the writer's own colour stays


def test_the_feedback_notebook_puts_each_functions_results_after_its_cell():
    import nbformat
    import pytest

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("Notes <script>alert(1)</script>"),
                      nbformat.v4.new_code_cell("import numpy as np"),
                      nbformat.v4.new_code_cell("def f(x):\n    return x", outputs=[nbformat.v4.new_output(
                          "display_data", {"text/html": "<iframe src=x></iframe>"})]),
                      nbformat.v4.new_code_cell("%%time\nclass g:\n    pass")]
    from grader.report import notebook as feedback_notebook

    annotated = feedback_notebook.annotated(CLASS["bob"], notebook)
    kinds = [(c.cell_type, c.source.splitlines()[2] if c.source.startswith("<div") else c.source[:12])
             for c in annotated.cells]
    assert kinds[1:] == [("markdown", "Notes &lt;sc"), ("code", "import numpy"), ("code", "def f(x):\n  "),
                         ("markdown", "- **ERROR** 0/1 f\\_values works\\"), ("code", "%%time\nclass"),
                         ("markdown", "- **FAIL** 0/1 g\\_train works\\")]
    assert all(not c.get("outputs") for c in annotated.cells if c.cell_type == "code")
    assert "| `w1` | `0.82` | `-0.82` | 2 | the sign is flipped |" in annotated.cells[-1].source
    assert "f raised NameError (at line 3)." in annotated.cells[4].source  # hidden: the brief message only
    pytest.importorskip("nbconvert")
    page = Page(feedback_notebook.render(CLASS["bob"], notebook, back="bob.html"))
    assert page.scripts == 0 and page.links[0] == ("bob.html", "← Feedback page")
    assert "Parameter" in [cell for table in page.tables for row in table for cell in row]


def test_the_class_summary_states_the_isolation_layers_in_force():
    from grader.model import IsolationLayer

    def report(seccomp: bool) -> SubmissionReport:
        layers = (IsolationLayer("user", True, "runs as user nobody", "x"),
                  IsolationLayer("seccomp", seccomp, "system call filter in force" if seccomp else "none", "y"))
        return SubmissionReport("hw", "s.py", (), 1, "cpu", isolation=layers)

    held = summary.compute("hw", {"a": report(True), "b": report(True)}, {"a": "passed", "b": "passed"}, {}, [])
    assert [(r.layer, r.active, r.students) for r in held.isolation] == [("user", True, 2), ("seccomp", True, 2)]
    assert "Every layer was in force for every graded student." in summary.to_markdown(held)
    weak = summary.compute("hw", {"a": report(True), "b": report(False)}, {"a": "passed", "b": "passed"}, {}, [])
    page = summary.to_html(weak)
    assert "Some layers were not in force: seccomp" in page and "<strong>NO</strong>" in page
    assert '"isolation"' in summary.to_json(weak)
