"""Where a batch's notebooks are graded: a pool on this machine, or a Dask cluster.

The batch (:mod:`autograder.grading.batch`) makes one :class:`~autograder.grading.notebook.Job`
per student and assignment and records the results in the jobs' order; an executor only runs
the jobs. Both executors here have the same small interface (:class:`Executor`):

* :class:`LocalPool` (``--workers N``): ``N`` processes of this machine, each grading one
  notebook at a time with :func:`~autograder.grading.notebook.grade_notebook`;
* :class:`DaskCluster` (``--scheduler tcp://HOST:8786``): the workers of a Dask distributed
  cluster (started with ``dask worker``), for a class that outgrows one machine.

On a cluster the grader's process stays the only one that reads the submissions directory and
writes anything: each job carries the submission's bytes (read here, without following a link,
with the size cap), the release, the settings and the seed, as plain data (:class:`Shipment`);
a worker writes the bytes into a private temporary directory, builds its own sandbox (its
machine's bubblewrap and cgroups, the grader's limits) and returns the
:class:`~autograder.records.report.NotebookResult`, a dataclass of strings, numbers and the
restored notebook's JSON. A worker that dies or is lost has its jobs run again elsewhere
(Dask's rescheduling on worker loss, and ``retries``); a job the cluster gives up on scores 0
with the reason, like any notebook the grader could not grade. The same seed gives the same
grade on any worker: the job holds everything the grade depends on.

Example (two terminals, then the grader)::

    dask scheduler                               # prints tcp://HOST:8786
    dask worker tcp://HOST:8786 --nworkers 2 --nthreads 1
    python -m autograder grade SUBS --out grading/ --scheduler tcp://HOST:8786
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from autograder.box.sandbox import Capabilities, Limits, Sandbox, detect, require
from autograder.course.directory import GradingSettings
from autograder.grading.notebook import Job, grade_notebook, missing_result
from autograder.grading.submissions import read_nofollow, submission_parts
from autograder.records.report import ERROR, NotebookResult

Log = Callable[[str], None]


def make_sandbox(settings: GradingSettings, unsandboxed: bool,
                 caps: Capabilities | None = None) -> Sandbox:
    """Detect what the machine offers and build the sandbox (or refuse; see ``require``).

    Raises:
        SandboxUnavailable: no sandbox can be built and ``unsandboxed`` is False.

    """
    if unsandboxed:
        return Sandbox(None, settings.limits, isolate=False)
    caps = detect() if caps is None else caps
    require(caps, unsandboxed)
    return Sandbox(caps, settings.limits)


# ----------------------------------------------------------------------------- progress


class Progress:
    """The class's progress on stderr: notebooks graded of the total, and those being graded.

    A tqdm bar (``12/40``) whose postfix names each notebook being graded and for how long
    (``running: erin/05_actor_critic 02:10``), redrawn when a notebook starts or ends and
    every ``interval`` seconds between, so that a submission that hangs shows while it hangs.
    Workers report their starts and ends on ``events`` (a queue shared with the pool; on a
    Dask cluster, the starts the workers log on an event topic and the ends from the futures'
    callbacks here); a thread of this process reads it, since the results themselves come back
    in the jobs' order. Lines logged meanwhile (:meth:`write`) appear above the bar.

    Written by hand over tqdm because tqdm counts what the loop hands it, not what other
    processes are doing.
    """

    #: seconds between redraws on a terminal, and in a log file (each redraw is kept there).
    INTERVAL, FILE_INTERVAL = 1.0, 30.0

    def __init__(self, total: int, events: Any, file: Any = None) -> None:
        import queue
        import threading

        from tqdm import tqdm

        self.file = file or sys.stderr
        self.events = events
        self.running: dict[str, float] = {}
        self.ended: set[str] = set()  # a start that arrives after its end (a cluster's topic)
        self.interval = self.INTERVAL if self.file.isatty() else self.FILE_INTERVAL
        self.bar = tqdm(total=total, desc="grading", unit="notebook", file=self.file,
                        dynamic_ncols=True, mininterval=0, disable=total == 0)
        self._empty = queue.Empty
        self._thread = threading.Thread(target=self._listen, name="grading-progress",
                                        daemon=True)
        self._thread.start()

    @staticmethod
    def event(kind: str, job: Job) -> tuple[str, str]:
        """What a worker puts on the queue when it starts (``start``) or ends a job."""
        return kind, f"{job.student}/{job.assignment}"

    def _listen(self) -> None:
        while True:
            try:
                item = self.events.get(timeout=self.interval)
            except self._empty:
                item = ("tick", "")
            except (EOFError, OSError, ValueError):
                return  # the queue was closed under us
            if item is None:
                return
            kind, name = item
            if kind == "start" and name not in self.ended:
                self.running[name] = time.monotonic()
            elif kind == "end":
                self.running.pop(name, None)
                self.ended.add(name)
            self._show(done=kind == "end")

    def _show(self, done: bool) -> None:
        from tqdm import tqdm

        now = time.monotonic()
        running = ", ".join(f"{name} {tqdm.format_interval(now - since)}"
                            for name, since in sorted(self.running.items(),
                                                      key=lambda item: item[1]))
        self.bar.set_postfix_str(f"running: {running}" if running else "", refresh=not done)
        if done:
            self.bar.update(1)  # redraws

    def write(self, log: Log, message: str) -> None:
        """Log ``message`` above the bar."""
        from tqdm import tqdm

        with tqdm.external_write_mode(file=self.file):
            log(message)

    def close(self) -> None:
        """Stop the thread (after the events already queued) and close the bar."""
        self.events.put(None)
        self._thread.join()
        self.bar.close()


# ----------------------------------------------------------------------------- the interface


class Executor(Protocol):
    """Runs a batch's jobs; :func:`autograder.grading.batch.grade` records what comes back."""

    def open(self) -> None:
        """Get ready (connect to a cluster); called before the batch writes anything.

        Raises:
            SchedulerUnreachable: a cluster's scheduler did not answer in time.

        """

    def describe(self) -> str:
        """Where the notebooks are graded, for the batch's log (``2 worker(s)``)."""

    def run(self, jobs: Sequence[Job], events: Any = None) -> Iterator[NotebookResult]:
        """Grade ``jobs``; one result per job, in the jobs' order.

        ``events``, a queue of the ``spawn`` context, receives the jobs' starts and ends
        (:class:`Progress`).
        """

    def close(self) -> None:
        """Let go of what :meth:`open` took."""


# ----------------------------------------------------------------------------- this machine


#: the queue a pool worker reports its jobs' starts and ends on (set by ``_warm_up``).
_EVENTS: Any = None


def _die_with(grader: int) -> None:
    """End this worker when the grader's process ends, even by SIGKILL (Linux).

    A pool worker waits on a queue whose pipe the other workers hold open too, so it would
    never see the grader go: a grading run killed with ``kill -9`` (or the OOM killer) would
    leave its workers, and through them their fork servers, running. The kernel's parent-death
    signal ends it; a grader that died before the signal was set is caught by the pid check.
    """
    if sys.platform != "linux":
        return
    import signal

    from autograder.box.forkserver import PR_SET_PDEATHSIG, _System

    _System().prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != grader:
        os._exit(1)


def _warm_up(events: Any, grader: int | None = None) -> None:
    """Tie the worker to the grader; import the check specs once; keep the progress queue."""
    global _EVENTS
    from autograder.judge import load_all

    if grader is not None:
        _die_with(grader)
    _EVENTS = events
    load_all()


def _grade_reporting(job: Job, events: Any = None) -> NotebookResult:
    """:func:`grade_notebook`, its start and end put on ``events`` (default: the worker's)."""
    events = _EVENTS if events is None else events
    if events is not None:
        events.put(Progress.event("start", job))
    try:
        return grade_notebook(job)
    finally:
        if events is not None:
            events.put(Progress.event("end", job))


def run_jobs(jobs: Sequence[Job], workers: int, events: Any = None) -> Iterator[NotebookResult]:
    """Grade ``jobs``, in parallel with ``workers`` > 1; results come in the jobs' order.

    ``events``, a queue of the ``spawn`` context, receives each job's start and end as they
    happen (:class:`Progress`).
    """
    if workers <= 1 or len(jobs) <= 1:
        yield from (_grade_reporting(job, events) for job in jobs)
        return
    context = multiprocessing.get_context("spawn")  # no inherited threads or open gradebook
    with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                             initializer=_warm_up, initargs=(events, os.getpid())) as pool:
        yield from pool.map(_grade_reporting, jobs, chunksize=1)


@dataclass(frozen=True)
class LocalPool:
    """``workers`` processes of this machine (:func:`run_jobs`)."""

    workers: int = 1

    def open(self) -> None:
        """Nothing to connect to."""

    def describe(self) -> str:
        """``N worker(s)``."""
        return f"{max(self.workers, 1)} worker(s)"

    def run(self, jobs: Sequence[Job], events: Any = None) -> Iterator[NotebookResult]:
        """:func:`run_jobs` with this pool's workers."""
        return run_jobs(jobs, self.workers, events)

    def close(self) -> None:
        """Nothing to let go of (:func:`run_jobs` ends its pool)."""


# ----------------------------------------------------------------------------- a Dask cluster


class SchedulerUnreachable(ConnectionError):
    """A Dask scheduler did not answer; the message names it and what to check."""


@dataclass(frozen=True)
class Shipment:
    """What a cluster worker gets of one job: plain data, nothing of the grader's machine.

    The job's ``path`` and ``sandbox`` are the grader's (its submissions directory, its
    bubblewrap and cgroups): they are left out, and the worker puts in its own.
    """

    job: Job
    """the job, its ``path`` and ``sandbox`` emptied."""
    notebook: bytes
    """the submitted file, as the grader read it."""
    limits: Limits
    """the sandbox's limits on the grader's side."""
    isolate: bool
    """False: the grader runs student code unsandboxed (``--unsandboxed``), and so does the
    worker."""
    fork_server: bool = True
    """False: every submission in a fresh sandboxed process (``--fresh-process``), on the
    worker too."""


def ship(job: Job) -> Shipment | None:
    """The shipment of ``job``: the submission read here (None: no usable file to send).

    Read like :func:`~autograder.grading.submissions.load_submission` reads it (no link
    followed, at most ``max_notebook_mb``); a file that cannot be read is graded here instead,
    where :func:`grade_notebook` gives the reason without running anything.
    """
    try:
        data = read_nofollow(job.path, submission_parts(job.student, job.assignment, job.notebook),
                             max_bytes=int(job.settings.max_notebook_mb * 2**20))
    except (OSError, ValueError):
        return None
    return Shipment(replace(job, path=Path(), sandbox=None), data, job.sandbox.limits,
                    job.sandbox.isolate, job.sandbox.fork_server)


#: the sandbox of each (limits, isolate, fork_server) in this worker process, detected once.
_SANDBOXES: dict[tuple[Limits, bool, bool], Sandbox] = {}


def grade_shipment(shipment: Shipment, topic: str | None = None) -> NotebookResult:
    """Grade a shipped job on a cluster worker: :func:`grade_notebook` in a private directory.

    The worker's sandbox is built from its own machine (:func:`make_sandbox`; it refuses, and
    the job fails with the reason, where a sandbox was asked for and none can be built).
    ``topic``: the Dask event topic the job's start is announced on, for the grader's
    progress bar.
    """
    from autograder.judge import load_all

    if topic is not None:
        _announce(topic, Progress.event("start", shipment.job)[1])
    load_all()
    key = (shipment.limits, shipment.isolate, shipment.fork_server)
    if key not in _SANDBOXES:
        settings = replace(shipment.job.settings, limits=shipment.limits)
        sandbox = make_sandbox(settings, unsandboxed=not shipment.isolate)
        _SANDBOXES[key] = sandbox if shipment.fork_server else sandbox.fresh_process()
    job = shipment.job
    with tempfile.TemporaryDirectory(prefix="autograder-job-") as tmp:
        target = Path(tmp).joinpath(*submission_parts(job.student, job.assignment, job.notebook))
        target.parent.mkdir(parents=True)
        target.write_bytes(shipment.notebook)
        return grade_notebook(replace(job, path=Path(tmp), sandbox=_SANDBOXES[key]))


def _announce(topic: str, name: str) -> None:
    """Log ``name`` on the Dask event ``topic`` from the worker running this job (if any)."""
    try:
        from distributed import get_worker

        get_worker().log_event(topic, name)
    except (ImportError, ValueError):  # not on a Dask worker: nobody to tell
        pass


def lost_result(job: Job, reason: str) -> NotebookResult:
    """The result of a job the cluster gave up on: every cell 0, ``error``, with ``reason``."""
    cells = [replace(c, status=ERROR) for c in missing_result(job, reason).cells]
    return NotebookResult(job.student, job.assignment, job.notebook, cells, ERROR, reason)


@dataclass
class DaskCluster:
    """The workers of a Dask distributed cluster, reached through its scheduler.

    Written over Dask's futures: Dask places the jobs, runs a lost worker's jobs again on
    another (up to its ``distributed.scheduler.allowed-failures``, 3 by default), and retries a
    job that raised (``retries``; :func:`grade_notebook` itself never raises). What is ours is
    the shipment (:func:`ship`) and the order: the results are handed back in the jobs' order,
    whichever worker finished first.

    Examples:
        >>> DaskCluster("tcp://127.0.0.1:8786").describe()
        'the Dask cluster at tcp://127.0.0.1:8786'

    """

    address: str
    """the scheduler's address, ``tcp://HOST:8786``."""
    timeout: float = 10.0
    """seconds to wait for the scheduler to answer before giving up (nothing is written then)."""
    retries: int = 2
    """times a job that raised on a worker is run again."""
    client: Any = None
    """the ``distributed.Client`` while open."""

    def open(self) -> None:
        """Connect to the scheduler, or raise :class:`SchedulerUnreachable` in ``timeout`` s.

        Raises:
            SchedulerUnreachable: the scheduler did not answer (or Dask is not installed).

        """
        try:
            from distributed import Client
        except ImportError as exc:
            raise SchedulerUnreachable(
                "grading on a Dask cluster needs Dask distributed: "
                "pip install 'rl-course-kit[cluster]'") from exc
        try:
            self.client = Client(self.address, timeout=self.timeout, set_as_default=False)
        except (OSError, ValueError, TypeError) as exc:
            raise SchedulerUnreachable(
                f"no Dask scheduler answered at {self.address} within {self.timeout:g} s "
                f"({type(exc).__name__}: {exc}); start one with `dask scheduler` and check "
                "the address and that its port is open; nothing was written") from exc

    def describe(self) -> str:
        """Where the jobs run."""
        return f"the Dask cluster at {self.address}"

    def run(self, jobs: Sequence[Job], events: Any = None) -> Iterator[NotebookResult]:
        """Send every job, then hand the results back in the jobs' order.

        A job whose submission cannot be read is graded here (nothing of it runs). Each job
        carries its release notebook (20-50 KB): not scattered once per assignment, since data
        scattered to the cluster is lost with the workers that hold it, while a job's own
        arguments are sent again with its retry. ``events`` receives each job's start, which
        the worker logs on an event topic of this run, and its end as its result arrives.
        """
        if self.client is None:
            raise RuntimeError("DaskCluster.run before open()")
        run = uuid.uuid4().hex[:8]
        topic = None
        if events is not None:
            topic = f"autograder-start-{run}"
            self.client.subscribe_topic(topic, lambda event: events.put(("start", event[1])))
        try:
            yield from self._results(jobs, events, run, topic)
        finally:
            if topic is not None:
                with contextlib.suppress(Exception):  # a lost scheduler: nothing to undo
                    self.client.unsubscribe_topic(topic)

    def _results(self, jobs: Sequence[Job], events: Any, run: str,
                 topic: str | None) -> Iterator[NotebookResult]:
        futures = []
        for job in jobs:
            shipment = ship(job)
            if shipment is None:
                futures.append(None)
                continue
            future = self.client.submit(grade_shipment, shipment, topic, retries=self.retries,
                                        key=f"grade-{job.student}-{job.assignment}-{run}")
            if events is not None:
                future.add_done_callback(
                    lambda _, job=job: events.put(Progress.event("end", job)))
            futures.append(future)
        for job, future in zip(jobs, futures, strict=True):
            if future is None:
                yield _grade_reporting(job, events)
                continue
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - KilledWorker, a lost scheduler: 0 with why
                result = lost_result(job, f"error: the cluster could not grade this notebook "
                                          f"({type(exc).__name__}: {str(exc)[:200]})")
            finally:
                future.release()
            yield result

    def close(self) -> None:
        """Disconnect from the scheduler (the cluster keeps running)."""
        if self.client is not None:
            self.client.close()
            self.client = None
