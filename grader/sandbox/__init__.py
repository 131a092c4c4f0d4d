"""Everything about the processes that run student code.

Worker side (imported by the zygote and its forks; must not import the grading
side): ``codec`` (data-only values, measured before they are built),
``protocol`` (every message and its framing; both sides import it),
``hardening`` and the ``layers`` it applies (identity and namespaces, limits,
Landlock, seccomp, the audit hook), ``staticscan``, ``tracing``, ``hooks``,
``worker``, ``zygote``. Grading side: ``client`` (fork server and worker
transport), ``session`` (one submission's connection), ``faults`` (what went
wrong, in words for students), ``isolation`` (what protected a run, and
whether that meets a platform's promise).
"""
