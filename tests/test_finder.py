"""The finder: what to grade in a file, a folder, a .zip archive or an LMS export, chosen by content.

Each scenario is a small folder built here; the assignment is assignment 2 of this course, whose
template defines seven functions as stubs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import zipfile
from pathlib import Path

import nbformat
import pytest

from grader import finder
from grader.course import load_assignment
from grader.finder import NothingToGrade, Wanted, find, locate, opened
from grader.finder.archive import MAX_ARCHIVE_MEMBERS
from grader.finder.code import code_chunks, code_digest, definitions
from grader.submission import MAX_SOURCE_BYTES

from .conftest import COURSE

ASSIGNMENT = load_assignment(COURSE, "assignment2")
WANTED = Wanted(ASSIGNMENT.name, ASSIGNMENT.functions, ASSIGNMENT.folder)
TEMPLATE_PY = ASSIGNMENT.folder / "assignment2.py"
TEMPLATE_NB = ASSIGNMENT.folder / "assignment2.ipynb"
FULL = (COURSE / "examples" / "assignment2" / "full_marks.py").read_text()
REFERENCE = COURSE / "reference" / "assignment2" / "solution.py"
# Two of the seven functions done, the rest still the template's stubs.
PARTLY = TEMPLATE_PY.read_text().replace(
    "def naive_relu(x):\n    # YOUR CODE HERE\n    raise NotImplementedError",
    "def naive_relu(x):\n    return [[max(v, 0) for v in row] for row in x]").replace(
    "def naive_add(x, y):\n    # YOUR CODE HERE\n    raise NotImplementedError",
    "def naive_add(x, y):\n    return [[a + b for a, b in zip(r, s)] for r, s in zip(x, y)]")


def write(path: Path, text: str | bytes, age: float | None = None) -> Path:
    """A file at path; age: seconds before now for its modification time (to show dates do not count)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    if age is not None:
        when = path.stat().st_mtime - age
        os.utime(path, (when, when))
    return path


def notebook_of(source: str, saved_in_jupyter: bool = False) -> str:
    """source's percent-format cells as a notebook; saved_in_jupyter adds what Jupyter writes on save."""
    from grader.notebooks import notebook_from_percent

    notebook = notebook_from_percent(source)
    if saved_in_jupyter:
        notebook.metadata["language_info"] = {"name": "python", "version": "3.11.7", "mimetype": "text/x-python"}
        for number, cell in enumerate(c for c in notebook.cells if c.cell_type == "code"):
            cell.execution_count = number + 1
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran\n")]
            cell.source = cell.source + "\n# tried it\n"  # a comment is not code
    return nbformat.writes(notebook)


# -- finding a file in a folder --------------------------------------------------------------------


def test_a_file_is_taken_as_it_is(tmp_path):
    path = write(tmp_path / "anything.py", "x = 1\n")
    found = locate(path, WANTED)
    assert (found.path, found.member, found.remark) == (path, None, None)


def test_the_file_that_defines_the_functions_is_found_and_named(tmp_path):
    write(tmp_path / "alice" / "scratch.py", "print('trying things')\n")
    write(tmp_path / "alice" / "hw.py", FULL, age=1000)  # older than the scratch file: dates do not count
    found = find([tmp_path / "alice"], WANTED)
    assert found.path == tmp_path / "alice" / "hw.py" and found.shown == "alice/hw.py"
    assert found.remark == ("graded alice/hw.py, which implements 7 of the 7 functions: "
                            "alice/scratch.py defines none of them.")


def test_nested_folders_are_searched_and_litter_is_ignored(tmp_path):
    folder = tmp_path / "submission"
    write(folder / "hw2" / "src" / "assignment2.py", FULL)
    write(folder / "__MACOSX" / "hw2" / "._assignment2.py", b"\x00\x05\x16\x07 resource fork")
    write(folder / ".ipynb_checkpoints" / "assignment2-checkpoint.py", FULL)
    write(folder / "hw2" / ".DS_Store", b"\x00\x00\x00\x01Bud1")
    write(folder / "hw2" / "__pycache__" / "assignment2.cpython-311.py", "junk")
    found = find([folder], WANTED)
    assert found.shown == "submission/hw2/src/assignment2.py" and found.remark is None


def test_a_folder_without_a_python_file_says_what_it_holds(tmp_path):
    write(tmp_path / "erin" / "answers.txt", "42\n")
    with pytest.raises(NothingToGrade,
                       match=r"^erin holds no \.py or \.ipynb file such as assignment2\.py "
                             r"\(it has erin/answers\.txt\)\.$"):
        find([tmp_path / "erin"], WANTED)
    (tmp_path / "gina").mkdir()
    with pytest.raises(NothingToGrade, match=r"^gina holds no \.py or \.ipynb file such as assignment2\.py\.$"):
        find([tmp_path / "gina"], WANTED)
    with pytest.raises(NothingToGrade, match=r"^notes\.txt is not a \.py or \.ipynb file, nor a folder or \.zip"):
        locate(write(tmp_path / "notes.txt", "hi"), WANTED)
    with pytest.raises(NothingToGrade, match="does not exist"):
        locate(tmp_path / "missing.py", WANTED)


def test_files_that_define_none_of_the_functions_are_not_guessed_between(tmp_path):
    write(tmp_path / "a.py", "x = 1\n")
    write(tmp_path / "b.py", "y = 2\n")
    with pytest.raises(NothingToGrade, match=r"neither .*a\.py nor .*b\.py defines any of the assignment's functions"):
        find([tmp_path], WANTED)
    (tmp_path / "b.py").unlink()
    assert find([tmp_path], WANTED).path == tmp_path / "a.py"  # alone, it is graded (and told what is missing)


def test_extensions_are_matched_without_case(tmp_path):
    found = find([write(tmp_path / "FRANK.PY", FULL)], WANTED)
    assert found.shown == "FRANK.PY"


def test_a_file_with_a_syntax_error_is_still_found_by_its_definitions(tmp_path):
    write(tmp_path / "hw.py", "def naive_add(x, y):\n    return x +\n")
    write(tmp_path / "helpers.py", "def unrelated():\n    pass\n")
    assert find([tmp_path], WANTED).path == tmp_path / "hw.py"


# -- choosing by content, never by date ----------------------------------------------------------------


def test_a_template_notebook_saved_in_jupyter_loses_to_worked_python(tmp_path):
    # The notebook is newer, has outputs, new metadata and comments: its code is still the template's.
    write(tmp_path / "assignment2.ipynb", notebook_of(TEMPLATE_PY.read_text(), saved_in_jupyter=True))
    write(tmp_path / "assignment2.py", PARTLY, age=3600)
    found = find([tmp_path], WANTED)
    assert found.path.name == "assignment2.py"
    assert "assignment2.ipynb is still the unchanged template" in found.remark


def test_a_worked_notebook_wins_over_the_template_python(tmp_path):
    write(tmp_path / "assignment2.ipynb", notebook_of(PARTLY), age=3600)
    write(tmp_path / "assignment2.py", TEMPLATE_PY.read_text().replace("# YOUR CODE HERE", "# to do"))  # newer
    found = find([tmp_path], WANTED)
    assert found.path.name == "assignment2.ipynb"
    assert found.remark == ("graded " + found.shown + ", which implements 2 of the 7 functions: "
                            + f"{tmp_path.name}/assignment2.py is still the unchanged template.")


@pytest.mark.parametrize("worked", [".py", ".ipynb"])
def test_when_both_differ_the_one_implementing_more_wins_whatever_their_dates(tmp_path, worked):
    more, fewer = (FULL, PARTLY) if worked == ".py" else (PARTLY, TEMPLATE_PY.read_text().replace(
        "def naive_relu(x):\n    # YOUR CODE HERE\n    raise NotImplementedError",
        "def naive_relu(x):\n    return x"))
    write(tmp_path / "hw.py", more if worked == ".py" else fewer, age=3600 if worked == ".py" else None)
    write(tmp_path / "hw.ipynb", notebook_of(more if worked == ".ipynb" else fewer),
          age=3600 if worked == ".ipynb" else None)
    found = find([tmp_path], WANTED)
    assert found.path.suffix == worked
    assert found.remark.endswith("hw.ipynb implements 2." if worked == ".py" else "hw.py implements 1.")


def test_in_a_students_own_copy_the_recorded_digests_tell_the_template(tmp_path):
    # The copy is the templates' folder itself: its files are the student's, only the release's record tells.
    copy = tmp_path / "assignments" / "assignment2"
    shutil.copytree(ASSIGNMENT.folder, copy)
    wanted = Wanted(ASSIGNMENT.name, ASSIGNMENT.functions, copy)
    digests = {name: code_digest(code_chunks((copy / name).read_bytes(), Path(name).suffix))
               for name in ("assignment2.py", "assignment2.ipynb")}
    (copy / finder.TEMPLATE_HASHES).write_text("".join(f"{d}  {n}\n" for n, d in digests.items()))
    write(copy / "assignment2.ipynb", notebook_of(TEMPLATE_PY.read_text(), saved_in_jupyter=True))
    write(copy / "assignment2.py", PARTLY, age=3600)
    assert find([copy / "assignment2.py", copy / "assignment2.ipynb"], wanted).path.name == "assignment2.py"
    write(copy / "assignment2.py", TEMPLATE_PY.read_text())
    write(copy / "assignment2.ipynb", notebook_of(PARTLY), age=3600)
    assert find([copy / "assignment2.py", copy / "assignment2.ipynb"], wanted).path.name == "assignment2.ipynb"


def test_stubs_and_the_templates_own_bodies_do_not_count_as_implemented():
    source = ('def naive_add(x, y):\n    """Add."""\n    ...\n\n'
              'def naive_relu(x):\n    raise NotImplementedError("later")\n\n'
              'class Net:\n    def forward(self):\n        return 1\n\n'
              'from helpers import naive_vector_dot\n')
    found = definitions([source])
    assert found["naive_add"].stub and found["naive_relu"].stub and not found["Net.forward"].stub
    assert "naive_vector_dot" in found  # imported from a helper module: defined all the same


# -- links, special files, unreadable files ----------------------------------------------------------------


def test_a_link_to_the_reference_solution_is_refused_never_read(tmp_path):
    os.symlink(REFERENCE, tmp_path / "assignment2.py")
    with pytest.raises(NothingToGrade, match="is a symbolic link, which the grader does not follow"):
        find([tmp_path], WANTED)
    write(tmp_path / "mine.py", FULL)
    found = find([tmp_path], WANTED)
    assert found.path.name == "mine.py" and "assignment2.py is a symbolic link" in found.remark


def test_a_link_to_process_memory_or_a_fifo_stops_nothing(tmp_path):
    os.symlink("/proc/self/mem", tmp_path / "hw.py")
    os.mkfifo(tmp_path / "pipe.py")  # reading it would block for ever
    with pytest.raises(NothingToGrade) as refused:
        find([tmp_path], WANTED)
    assert "hw.py is a symbolic link" in str(refused.value) and "pipe.py is a named pipe" in str(refused.value)


def test_a_file_the_grader_cannot_read_is_named(world_dir):
    write(world_dir / "hw.py", FULL).chmod(0)
    write(world_dir / "other.py", PARTLY)
    with _as_nobody_if_root():
        found = find([world_dir], WANTED)
    assert found.path.name == "other.py" and "hw.py could not be read (permission denied)" in found.remark


def test_a_lone_file_the_grader_cannot_read_is_named_in_the_same_words(world_dir):
    # With one candidate nothing is examined, only read: what cannot be read is refused as when there is a choice.
    write(world_dir / "hw.py", FULL).chmod(0)
    with _as_nobody_if_root(), pytest.raises(NothingToGrade) as refused:
        find([world_dir], WANTED)
    assert str(refused.value).endswith("/hw.py could not be read (permission denied).")


@contextlib.contextmanager
def _as_nobody_if_root():
    """Root reads every file: to see what an ordinary user sees, act as nobody for a moment."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(65534)
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


# -- archives ------------------------------------------------------------------------------------------------


def zipped(path: Path, members: dict[str, str | bytes], links: dict[str, str] | None = None) -> Path:
    links = links or {}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name, target in links.items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return path


def test_a_zipped_folder_is_read_in_place_and_the_member_graded(tmp_path):
    archive = zipped(tmp_path / "hana.zip", {"hw2/": b"", "hw2/assignment2.py": FULL, "hw2/notes.txt": "hi",
                                             "__MACOSX/hw2/._assignment2.py": b"\x00\x05"})
    found = find([archive], WANTED)
    assert (found.path, found.member, found.shown) == (archive, "hw2/assignment2.py", "hana.zip/hw2/assignment2.py")
    with opened(found) as path:
        assert path.read_text() == FULL and path.name == "assignment2.py" and tmp_path not in path.parents
    assert not path.exists()


def test_archive_members_never_escape_and_links_in_them_are_refused(tmp_path):
    archive = zipped(tmp_path / "evil.zip", {"../../outside.py": FULL, "/etc/cron.py": FULL},
                     links={"assignment2.py": str(REFERENCE)})
    with pytest.raises(NothingToGrade) as refused:
        find([archive], WANTED)
    message = str(refused.value)
    assert "evil.zip/../../outside.py points outside the archive" in message
    assert "evil.zip/assignment2.py is a symbolic link" in message
    assert not (tmp_path.parent / "outside.py").exists()


def test_archive_bounds_are_checked_before_anything_is_unpacked(tmp_path):
    bomb = zipped(tmp_path / "bomb.zip", {"assignment2.py": b"#" * (MAX_SOURCE_BYTES + 1)})
    with pytest.raises(NothingToGrade, match=r"bomb\.zip/assignment2\.py is 5\.2 MB, more than the 5 MB"):
        find([bomb], WANTED)
    crowded = zipped(tmp_path / "crowded.zip", {f"f{i}.txt": "" for i in range(MAX_ARCHIVE_MEMBERS + 1)})
    with pytest.raises(NothingToGrade, match=f"holds {MAX_ARCHIVE_MEMBERS + 1} files, more than the"):
        find([crowded], WANTED)
    write(tmp_path / "broken.zip", b"PK\x03\x04 not really")
    with pytest.raises(NothingToGrade, match="could not be opened as a .zip archive"):
        find([tmp_path / "broken.zip"], WANTED)


# -- bounds and names -------------------------------------------------------------------------------------


def test_the_search_is_bounded_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(finder.tree, "MAX_ENTRIES", 20)
    write(tmp_path / "a" / "assignment2.py", FULL)
    for i in range(40):
        write(tmp_path / "z" / f"data{i:02}.csv", "1,2\n")
    found = find([tmp_path], WANTED)
    assert found.path.name == "assignment2.py" and "the search stopped after" in found.remark


def test_names_that_would_drive_a_terminal_are_shown_escaped(tmp_path):
    write(tmp_path / "x\x1b[2J\u202eyp.py", FULL)
    found = find([tmp_path], WANTED)
    assert "\x1b" not in found.shown and "\u202e" not in found.shown
    assert found.shown.endswith("x\\x1b[2J\\u202eyp.py")
