"""Preloaded by a test's zygote: a spare that warms up prints so, where its session can read it."""

from grader.sandbox import worker

_warm_up = worker.warm_up


def _announced_warm_up() -> None:
    print("warmed up")
    _warm_up()


worker.warm_up = _announced_warm_up
