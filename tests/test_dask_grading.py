"""Grading on a Dask cluster (issue 19, part 2): the same rows as ``--workers 2``, nothing lost
when a worker dies, a clear error before anything is written when no scheduler answers.

Loopback only: a ``LocalCluster`` of two worker processes (a nanny each, which restarts a
killed worker; the sandbox's ``bwrap`` is a ``subprocess``, so the workers' daemon flag does
not get in its way). The sample class's ``01_mdps`` (six submissions, one corrupt) is the
subset graded in the default run; the whole class is marked slow.
"""

from __future__ import annotations

import os
import pickle
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
from conftest import REQUIRE_SANDBOX, TEST_TIMEOUT, sample_assignments, sandbox_problems

distributed = pytest.importorskip("distributed")

SUBSET = ["01_mdps"]


def _settings():
    from autograder.course.directory import GradingSettings

    return GradingSettings(timeout=TEST_TIMEOUT)


def _unsandboxed() -> bool:
    return bool(sandbox_problems()) and not REQUIRE_SANDBOX


def _grade(out: Path, assignments: list[str], **kwargs):
    from autograder.grading.batch import grade
    from autograder.paths import SAMPLE_CLASS_DIR

    lines: list[str] = []
    result = grade(SAMPLE_CLASS_DIR, out, settings=_settings(), assignments=assignments,
                   unsandboxed=_unsandboxed(), log=lines.append, **kwargs)
    return result, lines


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes of one thread each, on loopback, no dashboard."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as local:
        yield local


@pytest.fixture(scope="module")
def pool_subset(tmp_path_factory):
    """The subset graded with ``--workers 2`` on this machine."""
    result, _ = _grade(tmp_path_factory.mktemp("pool") / "out", SUBSET, workers=2)
    return result


def _cluster_grade(out: Path, cluster, assignments: list[str]):
    from autograder.grading.executors import DaskCluster

    return _grade(out, assignments, executor=DaskCluster(cluster.scheduler_address))


def test_a_cluster_grades_the_subset_to_the_pools_rows(cluster, pool_subset, tmp_path):
    result, lines = _cluster_grade(tmp_path / "out", cluster, SUBSET)
    assert result.csv_path.read_text() == pool_subset.csv_path.read_text()
    assert sorted(result.seconds) == sorted(pool_subset.seconds)
    assert any(f"the Dask cluster at {cluster.scheduler_address}" in line for line in lines)
    assert not any("came back twice" in line for line in lines)
    # the logs are written here, by the grader's process, as with the pool
    for student, assignment in result.seconds:
        assert (result.out_dir / "logs" / f"{student}__{assignment}.log").is_file()


def test_a_worker_killed_mid_run_loses_nothing(cluster, pool_subset, tmp_path):
    """SIGKILL the worker process that holds a grading job; its nanny starts a new one."""
    killed: list[tuple[str, list[str]]] = []
    stop = threading.Event()

    def kill_a_busy_worker() -> None:
        with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
            while not stop.is_set():
                busy = {w: [k for k in keys if str(k).startswith("grade-")]
                        for w, keys in client.processing().items()}
                busy = {w: keys for w, keys in busy.items() if keys}
                if busy:
                    worker, keys = sorted(busy.items())[0]
                    pid = client.run(os.getpid, workers=[worker])[worker]
                    os.kill(pid, signal.SIGKILL)
                    killed.append((worker, keys))
                    return
                time.sleep(0.05)

    killer = threading.Thread(target=kill_a_busy_worker, daemon=True)
    killer.start()
    try:
        result, lines = _cluster_grade(tmp_path / "out", cluster, SUBSET)
    finally:
        stop.set()
        killer.join(timeout=30)
    assert killed, "no worker was killed while it held a grading job"
    assert result.csv_path.read_text() == pool_subset.csv_path.read_text()
    assert sorted(result.seconds) == sorted(pool_subset.seconds)  # every submission, once
    assert not any("could not grade" in line for line in lines)


def _nobody_listening() -> str:
    """A loopback address whose port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{s.getsockname()[1]}"


def test_an_unreachable_scheduler_stops_before_anything_is_written(tmp_path):
    from autograder.grading.executors import DaskCluster, SchedulerUnreachable

    address, out = _nobody_listening(), tmp_path / "out"
    with pytest.raises(SchedulerUnreachable, match="no Dask scheduler answered at"):
        _grade(out, SUBSET, executor=DaskCluster(address, timeout=2))
    assert not out.exists()


def test_the_cli_names_the_unreachable_scheduler(tmp_path, capsys):
    from autograder.cli import main
    from autograder.paths import SAMPLE_CLASS_DIR

    address, out = _nobody_listening(), tmp_path / "out"
    code = main(["grade", str(SAMPLE_CLASS_DIR), "--out", str(out), "--scheduler", address])
    assert code == 2
    err = capsys.readouterr().err
    assert f"error: no Dask scheduler answered at {address}" in err
    assert "nothing was written" in err
    assert not out.exists()


def test_a_result_that_comes_back_twice_is_recorded_once(tmp_path):
    """Whatever an executor hands back, the batch records each (student, assignment) once."""
    from autograder.grading.notebook import missing_result

    class Twice:
        def open(self): ...
        def close(self): ...
        def describe(self):
            return "an executor that repeats itself"

        def run(self, jobs, events=None):
            for job in jobs:
                first = missing_result(job, "first")
                yield first
                yield missing_result(job, "second")

    result, lines = _grade(tmp_path / "out", SUBSET, executor=Twice())
    assert sum("came back twice" in line for line in lines) == len(result.seconds) == 6
    reasons = {row.reason for row in result.rows if row.assignment == SUBSET[0]}
    assert reasons == {"first"}


def test_a_shipment_is_plain_data_without_the_graders_machine(tmp_path):
    """What goes to a worker: the submission's bytes, not the grader's paths or sandbox."""
    from autograder.course.release import load_assignments, release_notebooks
    from autograder.grading.executors import grade_shipment, make_sandbox, ship
    from autograder.grading.notebook import Job, grade_notebook
    from autograder.paths import SAMPLE_CLASS_DIR

    assignment = load_assignments(only=SUBSET)[0]
    release = release_notebooks([assignment])[assignment.id]
    settings = _settings()
    sandbox = make_sandbox(settings, unsandboxed=_unsandboxed())
    job = Job("alice", assignment.id, assignment.notebook, SAMPLE_CLASS_DIR, release, settings,
              7, sandbox)
    shipment = pickle.loads(pickle.dumps(ship(job)))
    assert shipment.job.sandbox is None and shipment.job.path == Path()
    assert shipment.notebook == (SAMPLE_CLASS_DIR / "alice" / assignment.id /
                                 f"{assignment.notebook}.ipynb").read_bytes()
    assert shipment.isolate == sandbox.isolate
    shipped = pickle.loads(pickle.dumps(grade_shipment(shipment)))  # as it comes back
    here = grade_notebook(job)
    assert [(c.grade_id, c.score, c.status) for c in shipped.cells] == \
        [(c.grade_id, c.score, c.status) for c in here.cells]
    assert shipped.score > 0
    frank = Job("frank", assignment.id, assignment.notebook, SAMPLE_CLASS_DIR / "nobody",
                release, settings, 7, sandbox)
    assert ship(frank) is None  # unreadable: graded by the grader, nothing runs


@pytest.mark.slow
def test_a_cluster_grades_the_whole_sample_class_like_two_workers(cluster, graded_class,
                                                                  tmp_path):
    result, _ = _cluster_grade(tmp_path / "out", cluster, sample_assignments())
    assert graded_class.returncode == 0
    assert result.csv_path.read_text() == (graded_class.out / "grades.csv").read_text()


def test_the_progress_bar_hears_each_jobs_start_from_the_worker(cluster, tmp_path):
    """A cluster job's start is logged by the worker that runs it; its end by the result."""
    import queue

    from autograder.course.release import load_assignments, release_notebooks
    from autograder.grading.executors import DaskCluster, make_sandbox
    from autograder.grading.notebook import Job
    from autograder.paths import SAMPLE_CLASS_DIR

    assignment = load_assignments(only=SUBSET)[0]
    release = release_notebooks([assignment])[assignment.id]
    settings = _settings()
    sandbox = make_sandbox(settings, unsandboxed=_unsandboxed())
    jobs = [Job(student, assignment.id, assignment.notebook, SAMPLE_CLASS_DIR, release,
                settings, 7, sandbox) for student in ("alice", "carol")]
    events: queue.Queue = queue.Queue()
    executor = DaskCluster(cluster.scheduler_address)
    executor.open()
    try:
        results = list(executor.run(jobs, events))
    finally:
        executor.close()
    assert [r.student for r in results] == ["alice", "carol"]
    seen: set[tuple[str, str]] = set()
    deadline = time.monotonic() + 60  # the scheduler forwards topic events asynchronously
    while len(seen) < 4 and time.monotonic() < deadline:
        try:
            seen.add(events.get(timeout=1))
        except queue.Empty:
            pass
    names = [f"{s}/{assignment.id}" for s in ("alice", "carol")]
    assert seen == {(kind, name) for kind in ("start", "end") for name in names}
