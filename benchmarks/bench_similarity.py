"""Wall time of the similarity report on a generated class (default 100 students x 01-04).

Run: ``python benchmarks/bench_similarity.py [--students 100] [--repeat 3]``. It prints

* the seconds of :func:`autograder.grading.similarity.analyse` (reading every notebook with the
  grader's loader, extracting and fingerprinting every graded function, scoring every pair and
  every student against rlkit; wall and CPU: on a shared machine the CPU time is the steadier
  figure) and of writing the HTML and CSV, median of ``--repeat``;
* how many function versions and pairs that was;
* what scoring every pair with copydetect's own ``compare_files`` would cost instead (timed on
  a sample of pairs, extrapolated): the reason the scores are one sparse product per function.

The class is the grading benchmark's (``bench_grading.generate_class``: reference solutions,
known bugs, raising functions, the bare release), written once before the timing, with one
line unique to each student added to every function that is not a stub: every version is then
different code (identical code is fingerprinted once, which would flatter the figure).
"""

from __future__ import annotations

import argparse
import ast
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
from bench_grading import buildable_assignments, generate_class

from autograder.course.directory import GradingSettings
from autograder.grading import similarity
from autograder.paths import NOTEBOOKS_DIR


def personalise(subs: Path) -> None:
    """Add ``_student = <n>`` to every function that is not a stub, in every notebook."""
    for n, path in enumerate(sorted(subs.rglob("*.ipynb"))):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "code" or "def" not in cell.source:
                continue
            tree = ast.parse(cell.source)
            for node in tree.body:
                if isinstance(node, ast.FunctionDef) and not similarity.is_stub(node):
                    node.body.insert(0, ast.parse(f"_student = {n}").body[0])
            cell.source = ast.unparse(tree)
        nbformat.write(nb, path)


def time_compare_files(report: similarity.Report, sample: int) -> tuple[float, int]:
    """Seconds per pair of copydetect's ``compare_files``, and the number of pairs."""
    from copydetect import compare_files

    pairs = [(report.versions[m.spec][m.a], report.versions[m.spec][m.b])
             for ms in report.pairs.values() for m in ms]
    step = max(1, len(pairs) // sample)
    chosen = pairs[::step][:sample]
    start = time.perf_counter()
    for a, b in chosen:
        compare_files(a.fingerprint, b.fingerprint)
    return (time.perf_counter() - start) / max(len(chosen), 1), len(pairs)


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sample", type=int, default=2000,
                        help="pairs timed with copydetect's compare_files")
    args = parser.parse_args()
    assignments = [a for a in buildable_assignments()
                   if (NOTEBOOKS_DIR / f"{a.id}.ipynb").is_file()]
    releases = similarity.releases_from(NOTEBOOKS_DIR, [a.id for a in assignments])
    max_bytes = int(GradingSettings().max_notebook_mb * 2**20)
    with tempfile.TemporaryDirectory(prefix="bench-similarity-") as tmp_name:
        tmp = Path(tmp_name)
        subs = generate_class(tmp / "class", assignments, releases, args.students)
        personalise(subs)
        similarity.analyse(subs, releases, max_bytes=max_bytes, students=["s000"])  # imports
        analysed, cpu, written = [], [], []
        for n in range(args.repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            report = similarity.analyse(subs, releases, max_bytes=max_bytes)
            analysed.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            start = time.perf_counter()
            similarity.write(report, tmp / f"out{n}")
            written.append(time.perf_counter() - start)
        versions = sum(len(v) for v in report.versions.values())
        pairs = sum(len(p) for p in report.pairs.values())
        per_pair, _ = time_compare_files(report, args.sample)
    print(f"class: {args.students} students x {len(assignments)} notebooks "
          f"({', '.join(releases)}); {len(report.targets)} graded functions")
    print(f"compared: {versions} function versions, {pairs} pairs")
    print(f"similarity report, median of {args.repeat}: analyse "
          f"{statistics.median(analysed):.1f} s wall ({statistics.median(cpu):.1f} s CPU) + "
          f"write HTML/CSV {statistics.median(written):.1f} s")
    print(f"copydetect compare_files on every pair instead: {per_pair * 1e3:.2f} ms a pair "
          f"= {per_pair * pairs:.0f} s for the {pairs} pairs")


if __name__ == "__main__":
    main()
