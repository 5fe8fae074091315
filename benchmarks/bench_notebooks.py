"""What a student waits: each notebook run top to bottom, its slowest cells, and its checks.

Run: ``python benchmarks/bench_notebooks.py [--only 03_dqn ...]``.

Every notebook must run top to bottom in 120 s or less on the course's reference machine (two
CPU cores, no GPU). This executes each notebook as a student who has solved it would run it in
JupyterLab (the release with the model solutions filled in; the check cells run, nbgrader's
``NBGRADER_EXECUTION`` is not set, so the training cells run too) in a fresh kernel, and prints
the total against the budget, the three slowest cells, and the seconds of the check cells.
Not a test: machines are noisy. ``tests/test_progress_bars.py`` asserts that the long cells show
progress.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from nbclient import NotebookClient

from autograder.course.release import load_assignments, release_notebooks
from autograder.frontends.sample_class import solved_notebook

#: the longest a notebook may take top to bottom on the reference machine
BUDGET_SECONDS = 120.0


def cell_seconds(nb, workdir: Path) -> list[tuple[float, int, str]]:
    """(seconds, cell number, first line) of every code cell, run in order in one kernel."""
    env = {k: v for k, v in os.environ.items() if k != "NBGRADER_EXECUTION"}
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}})
    times = []
    with client.setup_kernel(env=env):
        for number, cell in enumerate(nb.cells, start=1):
            if cell.cell_type != "code":
                continue
            start = time.perf_counter()
            client.execute_cell(cell, number - 1)
            first = cell.source.splitlines()[0] if cell.source else ""
            times.append((time.perf_counter() - start, number, first[:60]))
    return times


def main() -> None:
    """Run and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="assignment ids (default: all)")
    args = parser.parse_args()
    assignments = load_assignments(only=args.only)
    released = release_notebooks(assignments)
    print(f"{'notebook':<14} {'top to bottom':>13} {'checks':>8}  slowest cells")
    for assignment in assignments:
        nb = solved_notebook(assignment, released[assignment.id])
        with tempfile.TemporaryDirectory() as tmp:
            times = cell_seconds(nb, Path(tmp))
        total = sum(t for t, _, _ in times)
        checks = sum(t for t, _, line in times if line.startswith("check("))
        slowest = "; ".join(f"cell {n} {t:.1f}s ({line})" for t, n, line in
                            sorted(times, reverse=True)[:3])
        verdict = "ok" if total <= BUDGET_SECONDS else f"OVER {BUDGET_SECONDS:g} s"
        print(f"{assignment.id:<14} {total:>11.1f} s {checks:>6.1f} s  {verdict}; {slowest}",
              flush=True)


if __name__ == "__main__":
    main()
