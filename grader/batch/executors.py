"""Where batch jobs run: a local pool of grading processes, or a Dask cluster.

Both take jobs and yield outcomes as they finish, in any order; everything
else (resume, files, progress) is the same whichever runs them. Grading
processes are started fresh (spawn), never forked from a process that may have
initialised CUDA; each keeps its own fork server for the sandbox workers and,
locally, runs on a CPU of its own with them.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Iterator, Protocol

from grader.batch import work
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
    """A pool of `processes` grading processes on this machine."""

    def __init__(self, processes: int) -> None:
        self.processes = max(1, processes)
        self._pool: ProcessPoolExecutor | None = None

    def _fresh_pool(self) -> ProcessPoolExecutor:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        context = multiprocessing.get_context("spawn")
        cpus = cpus_to_pin(self.processes)
        pinning = {"initializer": work.pin, "initargs": (context.Value("i", 0), cpus)} if cpus else {}
        self._pool = ProcessPoolExecutor(self.processes, mp_context=context, **pinning)
        return self._pool

    def map(self, jobs: list[work.Job]) -> Iterator[work.Done]:
        """Start the jobs now; the outcomes come from the iterator, as they finish."""
        first = self._fresh_pool()
        return self._outcomes(first, list(jobs))

    def _outcomes(self, pool: ProcessPoolExecutor, jobs: list[work.Job]) -> Iterator[work.Done]:
        futures: dict[Future, work.Job] = {pool.submit(work.run, job): job for job in jobs}
        attempts = {job.student: 0 for job in jobs}
        while futures:
            pending = []
            try:
                for future in as_completed(futures):
                    yield future.result()
            except BrokenProcessPool:
                # A grading process died (which student code cannot cause): retry what was left once.
                for future, job in futures.items():
                    if future.done() and not future.exception():
                        continue
                    attempts[job.student] += 1
                    if attempts[job.student] > 1:
                        yield _lost(job, "the grading process stopped unexpectedly, twice")
                    else:
                        pending.append(job)
            pool = self._fresh_pool() if pending else pool
            futures = {pool.submit(work.run, job): job for job in pending}

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


class DaskExecutor:
    """Jobs sent to a Dask distributed cluster; its workers need the grader installed and the
    course and submission folders at the same paths (a shared file system)."""

    def __init__(self, scheduler: str) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise UsageError("--executor dask needs Dask's distributed package: pip install 'dl-grader[dask]'") from None
        try:
            self.client = Client(scheduler, timeout="30s")
        except OSError as exc:
            raise UsageError(f"could not reach the Dask scheduler at {scheduler}: {exc}") from None

    def map(self, jobs: list[work.Job]) -> Iterator[work.Done]:
        """Submit the jobs now; the outcomes come from the iterator, as they finish."""
        futures = {self.client.submit(work.run, job, pure=False, retries=1, key=f"grade-{job.student}-{id(job)}"): job
                   for job in jobs}
        return self._outcomes(futures)

    def _outcomes(self, futures: dict) -> Iterator[work.Done]:
        from distributed import as_completed as dask_completed

        for future in dask_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # a worker died or could not run the job: that student's row says so
                yield _lost(futures[future], f"the Dask worker failed: {type(exc).__name__}: {exc}")

    def close(self) -> None:
        self.client.close()


def make(kind: str, processes: int, scheduler: str | None) -> Executor:
    if kind == "local":
        return LocalExecutor(processes)
    if kind == "dask":
        if not scheduler:
            raise UsageError("--executor dask needs --scheduler ADDRESS (for example tcp://10.0.0.5:8786)")
        return DaskExecutor(scheduler)
    raise UsageError(f"unknown executor {kind!r}; use local or dask")
