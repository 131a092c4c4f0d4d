"""Grading a whole class: grade batch ASSIGNMENT SUBMISSIONS_DIR --out DIR.

students: who is in the submissions folder, and a fingerprint of their work.
work: grading one student, in whatever process an executor runs it.
executors: where jobs run (a local process pool, or a Dask cluster).
gradebook, similarity, summary: the class-level outputs.
run: the orchestration (resume, progress, files), shared by every executor.
"""
