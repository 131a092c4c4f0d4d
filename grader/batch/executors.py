"""Where batch jobs run: a local pool of grading processes, or a Dask cluster.

Both take jobs and yield outcomes as they finish, in any order; everything
else (resume, files, progress) is the same whichever runs them. Grading
processes are started fresh, never forked from a process that may have
initialised CUDA; each keeps its own fork server for the sandbox workers and,
locally, runs on a CPU of its own with them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Protocol

from grader.batch import work
from grader.batch.pool import Pool
from grader.errors import UsageError


class Executor(Protocol):
    def map(self, jobs: list[work.Job]) -> Iterator[work.Done]: ...

    def close(self) -> None: ...


def _lost(job: work.Job, why: str) -> work.Done:
    return work.Done(job.student, "grader-error", None, why)


def cpus_to_pin(processes: int) -> tuple[int, ...]:
    """The CPUs to pin `processes` grading processes to, one each; none where that cannot be done.

    A grading process and its sandbox worker take turns, so they share a CPU well; pinning saves
    the wake-ups across CPUs (about a sixth of the CPU time per student). With more processes
    than CPUs the scheduler balances them better than a fixed assignment could.
    """
    if not hasattr(os, "sched_setaffinity"):
        return ()
    allowed = sorted(os.sched_getaffinity(0), reverse=True)  # the last first: CPU 0 takes most interrupts
    return tuple(allowed) if processes <= len(allowed) else ()


class LocalExecutor:
    """A pool of `processes` grading processes on this machine (see grader.batch.pool)."""

    def __init__(self, processes: int) -> None:
        self.pool = Pool(max(1, processes), cpus_to_pin(max(1, processes)))

    def map(self, jobs: list[work.Job]) -> Iterator[work.Done]:
        """Start the jobs now; the outcomes come from the iterator, as they finish."""
        return self.pool.run(list(jobs))

    def close(self) -> None:
        self.pool.close()


class DaskExecutor:
    """Jobs sent to a Dask distributed cluster; its workers need the grader installed and the
    course and submission folders at the same paths (a shared file system)."""

    def __init__(self, scheduler: str) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise UsageError("--executor dask needs Dask's distributed package: "
                             "pip install 'dl-grader[dask]'") from None
        try:
            self.client = Client(scheduler, timeout="30s")
        except OSError as exc:
            raise UsageError(f"could not reach the Dask scheduler at {scheduler}: {exc}") from None

    def map(self, jobs: list[work.Job]) -> Iterator[work.Done]:
        """Submit the jobs now; the outcomes come from the iterator, as they finish."""
        futures = {self.client.submit(work.run, job, pure=False, retries=1, key=f"grade-{job.student}-{id(job)}"): job
                   for job in jobs}
        self._futures = list(futures)
        return self._outcomes(futures)

    def _outcomes(self, futures: dict) -> Iterator[work.Done]:
        from distributed import as_completed as dask_completed

        for future in dask_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # a worker died or could not run the job: that student's row says so
                yield _lost(futures[future], f"the Dask worker failed: {type(exc).__name__}: {exc}")

    def close(self) -> None:
        try:
            self.client.cancel(getattr(self, "_futures", []))  # an interrupted batch leaves nothing queued
        finally:
            self.client.close()


def make(kind: str, processes: int, scheduler: str | None) -> Executor:
    if kind == "local":
        return LocalExecutor(processes)
    if kind == "dask":
        if not scheduler:
            raise UsageError("--executor dask needs --scheduler ADDRESS (for example tcp://10.0.0.5:8786)")
        return DaskExecutor(scheduler)
    raise UsageError(f"unknown executor {kind!r}; use local or dask")
