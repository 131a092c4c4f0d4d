"""Packaging a course for where it is used: the student release, Gradescope and Classroom 50.

Each builder writes files only; grading itself always goes through ``grade``
with one of its formats, so every platform shows the score ``grade`` computes.
The platform files themselves (scripts, workflow, student README) live in the
repository's ci/ folder and are filled in here.
"""
