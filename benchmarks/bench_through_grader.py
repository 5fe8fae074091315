"""One notebook's checks through the real grader: the reference on many seeds, variants, bugs.

Run: ``python benchmarks/bench_through_grader.py 07_rlhf [--seeds 20] [--workers 2]
[--checks rlhf.rebel_loss,rlhf.rloo_advantages]`` (``--checks``: only those checks' variants and
bank bugs).

The check tests (``tests/test_<topic>_checks.py``, ``tests/test_bug_bank.py``) call the judge
in-process; this grades whole notebooks with ``python -m autograder grade``, sandboxed, as an
instructor would. It prints

* the reference solution's score on ``--seeds`` grader seeds (``--seed 0`` ... ``N - 1``);
* a class with one student per correct variant of ``VARIANTS`` in the checks' test module
  (``tests/test_ppo_checks.py``, ``tests/test_rlhf_checks.py``), each written into the
  reference notebook in place of its function: full marks expected;
* one student per bug of every bank of the notebook's checks (the sample class's
  :func:`~autograder.frontends.sample_class.bug_source`, renamed to the student's function): the
  bug's own check must lose its points with the bug's hint in the reason, and no other check may.

Not a test (it takes minutes): it prints figures.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from autograder.course.build import write_notebook  # noqa: E402
from autograder.course.release import load_assignments, release_notebooks  # noqa: E402
from autograder.frontends.sample_class import (  # noqa: E402
    Change,
    StudentPlan,
    bug_source,
    solved_notebook,
    student_notebook,
)
from autograder.judge import all_specs, load_all  # noqa: E402

#: the test module that holds each notebook's written-otherwise ``VARIANTS``.
VARIANT_MODULES = {"06_ppo": "test_ppo_checks", "07_rlhf": "test_rlhf_checks",
                   "08_alphago": "test_alphago_checks"}


def grade(subs: Path, out: Path, assignment: str, seed: int, workers: int) -> list[dict]:
    """``python -m autograder grade`` on ``subs``; the check rows of grades.csv."""
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", str(subs), "--out",
                          str(out), "--assignments", assignment, "--seed", str(seed),
                          "--workers", str(workers)], capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"grading failed:\n{run.stderr[-2000:]}")
    with open(out / "grades.csv", newline="") as f:
        return [row for row in csv.DictReader(f) if row["grade_id"].startswith("check_")]


def main() -> None:
    """Build the submissions, grade them, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--checks", default="", help="comma-separated check names (default: all)")
    args = parser.parse_args()
    only = set(filter(None, args.checks.split(",")))
    load_all()
    (assignment,) = load_assignments(only=[args.assignment])
    release = release_notebooks([assignment])[assignment.id]
    grade_id = {c.function: c.grade_id for c in assignment.cells if c.kind == "solution"}
    check_of = {spec.name: f"check_{spec.name.replace('.', '_')}" for spec in all_specs()}
    tmp = Path(tempfile.mkdtemp(prefix="through-grader-"))
    target = f"{assignment.notebook}.ipynb"

    # the reference on many seeds
    write_notebook(solved_notebook(assignment, release), tmp / "ref" / "alice" / assignment.id
                   / target)
    full = 0
    for seed in range(args.seeds):
        rows = grade(tmp / "ref", tmp / f"ref-out-{seed}", assignment.id, seed, 1)
        lost = [r["grade_id"] for r in rows if float(r["score"]) < float(r["max_score"])]
        full += not lost
        if lost:
            print(f"seed {seed}: the reference lost points on {lost}")
    print(f"reference: full marks on {full} of {args.seeds} grader seeds")

    # one student per variant and per bank bug
    students: dict[str, tuple[str, str | None, str | None]] = {}  # -> (kind, check, hint)
    module = VARIANT_MODULES.get(assignment.id)  # notebooks with no variants module: none
    variants = getattr(importlib.import_module(module), "VARIANTS", []) if module else []
    checked = {name for c in assignment.cells for name in c.specs}
    if only:
        variants = [(spec, fn) for spec, fn in variants if spec.name in only]
        checked &= only
    specs = [s for s in all_specs()
             if s.name in checked and isinstance(s.function, str) and not s.learning]
    for i, (spec, fn) in enumerate(variants):
        changes = {grade_id[spec.function]: Change("bug", bug_source(fn, spec.function))}
        students[f"variant{i:02d}"] = ("variant", None, None)
        write_notebook(student_notebook(assignment, release, StudentPlan(
            f"variant{i:02d}", assignment.id, "solved", changes)),
            tmp / "class" / f"variant{i:02d}" / assignment.id / target)
    skipped = 0
    for spec in specs:
        for bug in spec.bugs:
            source = bug_source(bug.fn, spec.function)
            if source is None:
                skipped += 1
                continue
            name = f"bug_{spec.function}_{bug.name}"
            students[name] = ("bug", check_of[spec.name], bug.hint)
            changes = {grade_id[spec.function]: Change("bug", source, bug.name)}
            write_notebook(student_notebook(assignment, release, StudentPlan(
                name, assignment.id, "solved", changes)),
                tmp / "class" / name / assignment.id / target)
    rows = grade(tmp / "class", tmp / "class-out", assignment.id, 0, args.workers)
    by_student: dict[str, list[dict]] = {}
    for row in rows:
        by_student.setdefault(row["student"], []).append(row)
    variants_full = named = own_only = 0
    for student, (kind, check, hint) in students.items():
        lost = {r["grade_id"]: r for r in by_student[student]
                if float(r["score"]) < float(r["max_score"])}
        if kind == "variant":
            variants_full += not lost
            if lost:
                print(f"{student}: a correct variant lost points on {sorted(lost)}")
            continue
        caught = check in lost
        named += caught and hint[:60] in lost[check]["reason"]
        own_only += caught and all(g == check or g.endswith("learns") for g in lost)
        if not caught:
            print(f"{student}: not caught by {check}")
        elif set(lost) - {check}:
            print(f"{student}: also lost points on {sorted(set(lost) - {check})}")
    bugs = sum(kind == "bug" for kind, _, _ in students.values())
    print(f"correct variants: full marks for {variants_full} of {len(variants)}")
    print(f"bank bugs: {bugs} graded ({skipped} not plain defs, skipped); their own check "
          f"named them in {named}; points lost only there (or on a learning check) in "
          f"{own_only}")


if __name__ == "__main__":
    main()
