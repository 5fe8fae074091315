"""Wall time of autograding: per notebook (sandboxed vs not), and a generated class of 100.

Run: ``python benchmarks/bench_grading.py [--students 100] [--repeat 3] [--timeout 60]
[--only 07_rlhf ...] [--fresh-process] [--scheduler [tcp://HOST:8786]]``.
It prints

* seconds per notebook submission (a correct one, every notebook that has a source), graded
  alone through :func:`autograder.grading.notebook.grade_notebook`, sandboxed (bubblewrap +
  cgroups) and forked from the worker's pre-imported fork server
  (:mod:`autograder.box.forkserver`), sandboxed in a fresh process (``--fresh-process``,
  the path before the fork server), and unsandboxed (its own process only): what the fork
  server saves and what the sandbox itself costs. The first grading of each notebook, which
  starts its fork server (and builds the grader's references), is not counted but printed;
* the wall time of ``python -m autograder grade`` (the same code path, gradebook, feedback and
  grades.csv included) on a generated class of ``--students`` students x every notebook, with
  1 and with 2 workers (forked, or fresh with ``--fresh-process``), and the extrapolation to
  100 students x 8 notebooks;
* with ``--scheduler``, the same class graded through a Dask cluster (the one at the address,
  or without one a ``LocalCluster`` of two worker processes on loopback), next to the workers.

The machine's load average is printed with the figures: on a shared machine they are only
comparable within one run.

The generated class mixes the sample class's kinds of student: 40 % reference solutions, 40 %
known bugs from the bug banks (the diagnosis of a bug costs the grader extra), 10 % raising
functions, 10 % untouched release. Students whose code hangs are left out: each costs one time
limit (``--timeout``) per hanging check, whatever the grader does, so they would only measure
the timeout.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from autograder.box.sandbox import Sandbox
from autograder.course.build import BuildError, write_notebook
from autograder.course.directory import GradingSettings
from autograder.course.release import Assignment, load_assignments, release_notebooks
from autograder.frontends.sample_class import plan_class, solved_notebook, student_notebook
from autograder.grading.batch import grade, make_sandbox
from autograder.grading.notebook import Job, grade_notebook
from autograder.judge.core import grading_seed

#: the kind of sample student each generated student copies, cycled.
MIX = ("alice", "bob", "alice", "bob", "dave", "alice", "bob", "carol", "alice", "bob")
#: the course's notebooks once complete (01-08).
FULL_COURSE = 8


def _quiet(_: str) -> None:
    """Drop the progress lines."""


def buildable_assignments() -> list[Assignment]:
    """Every source that builds (a notebook still being written is skipped, with a note)."""
    try:
        return load_assignments()
    except (BuildError, KeyError):
        pass
    from autograder.paths import assignment_id, source_files

    found = []
    for path in source_files():
        try:
            found += load_assignments(only=[assignment_id(path)])
        except (BuildError, KeyError) as exc:
            print(f"(skipping {path.name}: {str(exc).splitlines()[0][:100]})")
    return found


def generate_class(root: Path, assignments: list[Assignment], releases: dict,
                   students: int) -> Path:
    """Write ``students`` students x every assignment into ``root`` (nbgrader's layout)."""
    plans = {(p.student, p.assignment): p for p in plan_class(assignments, releases)}
    for i in range(students):
        kind = MIX[i % len(MIX)]
        for a in assignments:
            nb = student_notebook(a, releases[a.id], plans[(kind, a.id)])
            write_notebook(nb, root / f"s{i:03d}" / a.id / f"{a.notebook}.ipynb")
    return root


def per_notebook(assignments: list[Assignment], releases: dict, sandbox: Sandbox,
                 settings: GradingSettings, repeat: int, tmp: Path,
                 first: dict[str, float] | None = None) -> dict[str, float]:
    """Median seconds to grade one correct submission of each notebook, alone.

    ``first`` receives the seconds of each notebook's first, uncounted grading.
    """
    out = {}
    for a in assignments:
        write_notebook(solved_notebook(a, releases[a.id]),
                       tmp / "one" / "alice" / a.id / f"{a.notebook}.ipynb")
        job = Job("alice", a.id, a.notebook, tmp / "one", releases[a.id], settings,
                  grading_seed(), sandbox)
        start = time.perf_counter()
        grade_notebook(job)  # warm: the grader's references, the fork server
        if first is not None:
            first[a.id] = time.perf_counter() - start
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            result = grade_notebook(job)
            times.append(time.perf_counter() - start)
        if result.score != a.autograded_points:
            print(f"(warning: the reference {a.id} scored {result.score:g}/"
                  f"{a.autograded_points:g})")
        out[a.id] = statistics.median(times)
    return out


def _load() -> str:
    """The 1, 5 and 15 minute load averages."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def through_cluster(address: str | None, subs: Path, out: Path, settings: GradingSettings,
                    sandbox: Sandbox, n: int) -> str:
    """Grade the class ``subs`` on a Dask cluster; print its wall time; its ``grades.csv``."""
    import contextlib

    from distributed import LocalCluster

    from autograder.grading.executors import DaskCluster

    with contextlib.ExitStack() as stack:
        if address is None:
            address = stack.enter_context(LocalCluster(
                n_workers=2, threads_per_worker=1, host="127.0.0.1",
                dashboard_address=None)).scheduler_address
        start = time.perf_counter()
        grade(subs, out, settings=settings, sandbox=sandbox, log=_quiet,
              executor=DaskCluster(address))
        wall = time.perf_counter() - start
    print(f"class of {n} submissions through the Dask cluster at {address}: {wall:7.1f} s wall "
          f"({wall / n:.2f} s per submission)")
    return (out / "grades.csv").read_text()


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=int, default=60, help="time limit per step (s)")
    parser.add_argument("--workers", default="1,2", help="worker counts to time the class with")
    parser.add_argument("--skip-per-notebook", action="store_true",
                        help="only time the class")
    parser.add_argument("--skip-class", action="store_true",
                        help="only time one submission per notebook")
    parser.add_argument("--only", nargs="*", help="assignment ids (default: all)")
    parser.add_argument("--fresh-process", action="store_true",
                        help="no fork server: every submission in a fresh sandboxed process")
    parser.add_argument("--skip-unsandboxed", action="store_true",
                        help="leave the unsandboxed column out")
    parser.add_argument("--scheduler", nargs="?", const="", metavar="tcp://HOST:8786",
                        help="also grade the class on this Dask cluster (none given: a "
                             "LocalCluster of 2 worker processes)")
    args = parser.parse_args()
    worker_counts = [int(w) for w in args.workers.split(",")]
    settings = GradingSettings(timeout=args.timeout)
    assignments = buildable_assignments()
    if args.only:
        assignments = [a for a in assignments if a.id in args.only]
    releases = release_notebooks(assignments)
    fresh = make_sandbox(settings, unsandboxed=False).fresh_process()
    sandboxed = fresh if args.fresh_process else make_sandbox(settings, unsandboxed=False)
    plain = make_sandbox(settings, unsandboxed=True)
    print(f"notebooks: {', '.join(a.id for a in assignments)}")
    print(f"sandbox: {sandboxed.describe()}")
    print(f"load average at the start: {_load()} on {os.cpu_count()} cores (a shared machine "
          "slows every figure down)\n")
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp_name:
        tmp = Path(tmp_name)
        if not args.skip_per_notebook:
            columns: dict[str, dict[str, float]] = {}
            first: dict[str, float] = {}
            if not args.fresh_process:
                columns["forked"] = per_notebook(assignments, releases, sandboxed, settings,
                                                 args.repeat, tmp, first)
            columns["fresh"] = per_notebook(assignments, releases, fresh, settings,
                                            args.repeat, tmp)
            if not args.skip_unsandboxed:
                columns["unsandboxed"] = per_notebook(assignments, releases, plain, settings,
                                                      args.repeat, tmp)
            print("seconds per notebook submission (a correct one, graded alone, median of "
                  f"{args.repeat}; sandboxed: forked from the fork server, or fresh):")
            print(f"  {'notebook':<14}" + "".join(f" {name:>12}" for name in columns)
                  + (f" {'first forked':>13}" if first else ""))
            for a in assignments:
                print(f"  {a.id:<14}" + "".join(f" {col[a.id]:>11.2f}s"
                                                 for col in columns.values())
                      + (f" {first[a.id]:>12.2f}s" if first else ""))
            print(f"  {'mean':<14}" + "".join(f" {statistics.mean(col.values()):>11.2f}s"
                                              for col in columns.values()))
            print(f"load average at the end: {_load()}\n")

        if args.skip_class:
            return
        subs = generate_class(tmp / "class", assignments, releases, args.students)
        n = args.students * len(assignments)
        walls = {}
        for workers in worker_counts:
            start = time.perf_counter()
            result = grade(subs, tmp / f"out-{workers}", settings=settings, workers=workers,
                           sandbox=sandboxed, log=_quiet)
            walls[workers] = time.perf_counter() - start
            print(f"class of {args.students} x {len(assignments)} notebooks = {n} submissions, "
                  f"{workers} worker(s): {walls[workers]:7.1f} s wall "
                  f"({walls[workers] / n:.2f} s per submission; "
                  f"setup {result.setup_seconds:.1f} s)")
        csvs = {(tmp / f"out-{w}" / "grades.csv").read_text() for w in worker_counts}
        if args.scheduler is not None:
            csvs.add(through_cluster(args.scheduler or None, subs, tmp / "out-dask", settings,
                                     sandboxed, n))
        if len(worker_counts) + (args.scheduler is not None) > 1:
            print(f"grades.csv identical with {args.workers} workers"
                  f"{' and the cluster' if args.scheduler is not None else ''}: {len(csvs) == 1}")
        most = max(worker_counts)
        per = (walls[most] - result.setup_seconds) / n
        full = 100 * FULL_COURSE
        print(f"\nextrapolation: 100 students x {FULL_COURSE} notebooks = {full} submissions "
              f"at {per:.2f} s each with {most} workers: {full * per / 60:.1f} min "
              f"(+ setup; measured on the notebooks above)")


if __name__ == "__main__":
    main()
