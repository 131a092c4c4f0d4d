"""Everything about the processes that run student code.

Worker side (imported by the zygote and its forks; must not import the
grading side): ``codec``, ``hardening``, ``staticscan``, ``tracing``,
``worker``, ``zygote``. Grading side: ``client`` (fork server and worker
transport), ``session`` (one submission's connection), ``faults`` (what went
wrong, in words for students).
"""
