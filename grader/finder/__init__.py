"""Finding what to grade in what a student handed in: a file, a folder, a .zip archive, or several.

One finder serves ``grade --submission``, ``grade batch`` (every entry of the submissions folder)
and Gradescope's ``run_autograder`` (the upload: a file, a repository, a zip packed or unpacked).
It reads files and never runs them, and it decides by content, never by date:

- folders are searched all the way down, .zip archives opened in place (nothing is extracted to
  where its name points), and what systems and editors leave behind (``__MACOSX``, ``.DS_Store``,
  ``.ipynb_checkpoints``, dot files, ``__pycache__``, virtual environments) is skipped;
- the submission is the .py or .ipynb file that defines the assignment's functions (read with
  ``ast``); of those, one whose code still is the template's loses to one that differs, and then
  the one that implements more of the functions wins; the remark says which file and why;
- a symbolic link is never followed and a special file never opened: either is named, with why;
- every read is bounded: entries walked, bytes examined, an archive's size and member count.

Whatever cannot be graded raises ``NothingToGrade``, whose message is the reason people read.
"""

from grader.finder.choice import Found, NothingToGrade, Wanted, find, locate, opened
from grader.finder.code import TEMPLATE_HASHES, file_code_digest
from grader.finder.tree import is_litter, walk

__all__ = ["Found", "NothingToGrade", "TEMPLATE_HASHES", "Wanted", "file_code_digest", "find", "is_litter",
           "locate", "opened", "walk"]
