"""Wall time of autograding: one notebook submission, and the whole bundled sample class.

Run: ``python benchmarks/bench_grading.py [--timeout S]``. It grades into a temporary
directory with the same code path as ``python -m autograder grade`` and prints

* the batch setup (build the sources, ``generate_assignment`` into a fresh gradebook),
* one correct submission graded on its own (setup included: what a single re-grade costs),
* every notebook of the sample class (autograde + feedback), and the whole batch.

The sample class includes a student whose function never returns, so the batch time grows by
about one per-cell timeout (``--timeout``, 10 s by default here).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from autograder.course import GradingSettings
from autograder.grading import GradeResult, grade
from autograder.paths import SAMPLE_CLASS_DIR


def _quiet(_: str) -> None:
    """Drop the progress lines."""


def timed_grade(
    submissions: Path, out: Path, timeout: int, assignments: list[str] | None = None
) -> tuple[GradeResult, float]:
    """Grade ``submissions`` into ``out``; returns the result and its wall time in seconds."""
    start = time.perf_counter()
    result = grade(submissions, out, settings=GradingSettings(timeout=timeout),
                   assignments=assignments, log=_quiet)
    return result, time.perf_counter() - start


def one_submission(tmp: Path, student: str = "alice", assignment: str = "01_mdps") -> Path:
    """Make a submissions directory holding a single correct notebook."""
    target = tmp / "one" / student / assignment
    shutil.copytree(SAMPLE_CLASS_DIR / student / assignment, target)
    return tmp / "one"


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=int, default=10, help="per-cell timeout (s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp_name:
        tmp = Path(tmp_name)
        single, single_wall = timed_grade(one_submission(tmp), tmp / "out-one", args.timeout,
                                          ["01_mdps"])
        batch, batch_wall = timed_grade(SAMPLE_CLASS_DIR, tmp / "out-class", args.timeout)
    (one_key, one_seconds), = single.seconds.items()
    per_notebook = sorted(batch.seconds.items(), key=lambda kv: kv[1])
    graded = [s for (student, a), s in per_notebook if s > 0.5]  # skip unreadable files
    print(f"setup (build + generate_assignment): {batch.setup_seconds:6.1f} s")
    print(f"one submission {'/'.join(one_key)}: {one_seconds:6.1f} s "
          f"({single_wall:.1f} s with setup)")
    print(f"sample class, {len(per_notebook)} notebooks: {batch_wall:6.1f} s "
          f"(median notebook {statistics.median(graded):.1f} s)")
    for (student, assignment), seconds in per_notebook:
        print(f"  {student:<8} {assignment:<12} {seconds:6.1f} s")


if __name__ == "__main__":
    main()
