"""Grading a whole class: grade batch ASSIGNMENT SUBMISSIONS_DIR --out DIR.

students: who is in the submissions folder, and a fingerprint of their work
    (which file each of them is graded on is grader.finder's to say).
work: grading one student, in whatever process an executor runs it.
executors: where jobs run (a local pool, or a Dask cluster).
pool: the local grading processes, and stopping them without leaving anything behind.
gradebook, lms, similarity, summary: the class-level outputs.
run: the orchestration (resume, progress, files), shared by every executor.
"""
