"""Long work outside the page rerun: an import, an identity run, a backtest.

A page submits a job and keeps only its id; the work runs on a background
thread of the server, so it goes on while the user navigates away, and any
later rerun or session finds it again by id (or as the latest job of its kind
on the database). The page polls :meth:`JobRunner.get` for a snapshot:
state, stage, progress, and at the end the result or a one-line error. A
failure is reported on the job, never raised into the page.

Jobs run in lanes, one job at a time per lane: ``"write"`` for the work
that writes the stored data (imports and identity runs must not overlap),
``"read"`` for work that only reads (a backtest), so a backtest need not
wait for an identity run. The runner keeps the last :attr:`JobRunner.keep`
finished jobs; with a ``key``, a finished job is also a cached result.

The app's runner is one per server process (:func:`runner`, an
``st.cache_resource``); tests build their own :class:`JobRunner`.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import streamlit as st

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
Work = Callable[[Progress], object]

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
LANES = ("write", "read")
SUPERSEDED = "Replaced by a newer request before it started."


class JobFailed(Exception):
    """Raised by a job's work with a message fit to show the user (no personal data)."""


@dataclass(frozen=True)
class Job:
    """A snapshot of one job (the runner's copy changes; this one does not)."""

    id: str
    kind: str
    label: str
    database: str
    owner: str | None = None
    key: Hashable | None = None
    lane: str = "write"
    state: str = QUEUED
    stage: str = ""
    done: int = 0
    total: int = 0
    result: object = None
    error: str | None = None
    submitted_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Queued or running."""
        return self.state in (QUEUED, RUNNING)

    @property
    def fraction(self) -> float:
        """Progress through the current stage, 0 to 1."""
        return min(self.done / self.total, 1.0) if self.total else 0.0

    @property
    def status(self) -> str:
        """One line for the page: what the job is doing or how it ended."""
        if self.state == QUEUED:
            return f"{self.label}: waiting to start"
        if self.state == RUNNING:
            count = f" {self.done:,}/{self.total:,}" if self.total > 1 else ""
            return f"{self.label}: {self.stage or 'starting'}{count}"
        if self.state == DONE:
            return f"{self.label}: done"
        return f"{self.label}: failed. {self.error}"


class JobRunner:
    """Runs submitted work on one daemon thread per lane and keeps each job's state."""

    def __init__(self, keep: int = 50) -> None:
        self.keep = keep
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._work: dict[str, Work] = {}
        self._queues: dict[str, queue.Queue[str]] = {}
        self._ids = itertools.count(1)

    # ---- submit and read ------------------------------------------------------------
    def submit(
        self,
        kind: str,
        work: Work,
        *,
        database: str,
        label: str,
        owner: str | None = None,
        key: Hashable | None = None,
        lane: str = "write",
        coalesce: bool = False,
        supersede: bool = False,
    ) -> str:
        """Queue ``work(progress)``; returns the job's id.

        With ``key``, a job of the same key that is queued, running or done is
        returned instead of a new one (a failed one is tried again). With
        ``coalesce``, a job of the same kind and database that has not started
        yet is returned: it will see everything written before it starts. With
        ``supersede``, the owner's jobs of the same kind and database that have
        not started are dropped (a newer request replaces them).
        """
        if lane not in LANES:
            raise ValueError(f"unknown lane {lane!r}")
        with self._lock:
            for job in reversed(self._jobs.values()):
                if job.database != database or job.kind != kind:
                    continue
                if key is not None and job.key == key and job.state != FAILED:
                    return job.id
                if coalesce and job.state == QUEUED:
                    return job.id
            if supersede:
                self._drop_queued(kind, database, owner)
            job_id = f"{kind}-{next(self._ids)}"
            self._jobs[job_id] = Job(job_id, kind, label, database, owner, key, lane)
            self._work[job_id] = work
            self._forget_old()
            lane_queue = self._queues.get(lane)
            if lane_queue is None:
                lane_queue = self._queues[lane] = queue.Queue()
                threading.Thread(
                    target=self._serve, args=(lane_queue,), name=f"adapt-jobs-{lane}", daemon=True
                ).start()
        lane_queue.put(job_id)
        return job_id

    def get(self, job_id: str | None) -> Job | None:
        """The job's current snapshot, or None for an unknown (or forgotten) id."""
        with self._lock:
            return self._jobs.get(job_id) if job_id else None

    def latest(self, kind: str, database: str) -> Job | None:
        """The most recently submitted job of ``kind`` on ``database``."""
        with self._lock:
            for job in reversed(self._jobs.values()):
                if job.kind == kind and job.database == database:
                    return job
        return None

    def active(self, database: str) -> list[Job]:
        """The queued and running jobs on ``database``, oldest first."""
        with self._lock:
            return [j for j in self._jobs.values() if j.database == database and j.active]

    def wait(self, job_id: str, timeout: float = 600.0) -> Job:
        """Block until the job has finished (for tests and scripts; pages poll)."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.get(job_id)
            if job is None:
                raise KeyError(job_id)
            if not job.active:
                return job
            if time.monotonic() > deadline:
                raise TimeoutError(f"{job.label} still {job.state} after {timeout:g} s")
            time.sleep(0.05)

    # ---- the worker -----------------------------------------------------------------
    def _update(self, job_id: str, **changes: object) -> None:
        with self._lock:
            self._jobs[job_id] = replace(self._jobs[job_id], **changes)

    def _drop_queued(self, kind: str, database: str, owner: str | None) -> None:
        for job in list(self._jobs.values()):
            if (job.kind, job.database, job.owner, job.state) == (kind, database, owner, QUEUED):
                self._work.pop(job.id, None)
                self._jobs[job.id] = replace(
                    job, state=FAILED, error=SUPERSEDED, finished_at=datetime.now(UTC)
                )

    def _serve(self, lane_queue: queue.Queue[str]) -> None:
        while True:
            self._run(lane_queue.get())

    def _run(self, job_id: str) -> None:
        with self._lock:
            work = self._work.pop(job_id, None)
        if work is None:  # dropped while it waited
            return
        self._update(job_id, state=RUNNING, started_at=datetime.now(UTC))

        def progress(stage: str, done: int, total: int) -> None:
            self._update(job_id, stage=stage, done=int(done), total=int(total))

        try:
            result = work(progress)
        except JobFailed as err:
            self._update(job_id, state=FAILED, error=str(err), finished_at=datetime.now(UTC))
        except Exception as err:  # reported on the job; the log names the type only
            log.error("job %s failed: %s", job_id, type(err).__name__)
            self._update(
                job_id,
                state=FAILED,
                error=f"It stopped with an unexpected error ({type(err).__name__}).",
                finished_at=datetime.now(UTC),
            )
        else:
            self._update(job_id, state=DONE, result=result, finished_at=datetime.now(UTC))

    def _forget_old(self) -> None:
        finished = [j.id for j in self._jobs.values() if not j.active]
        for job_id in finished[: max(len(finished) - self.keep, 0)]:
            del self._jobs[job_id]


@st.cache_resource(show_spinner=False)
def runner() -> JobRunner:
    """The server's job runner, shared by every session."""
    return JobRunner()
