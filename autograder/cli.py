"""``python -m autograder``: release, grade, self-check, and the whole cycle on a sample class."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from autograder.course import DEFAULT_TIMEOUT, GradingSettings
from autograder.paths import NOTEBOOKS_DIR, SAMPLE_CLASS_DIR, SOLUTIONS_DIR

#: the demo's per-cell timeout: the sample class has a student whose function never returns.
DEMO_TIMEOUT = 10

EPILOG = """\
exit codes: 0 done (a batch that completed is a success even if students scored 0);
1 check: some check failed / demo: a sample student did not get the expected score;
2 bad input (a source breaking the cell conventions, an unknown assignment, an unreadable
notebook, a missing directory) or an nbgrader failure outside any single submission.

typical cycle:
  python -m autograder release                      # solutions/*.py -> notebooks/*.ipynb
  python -m autograder grade SUBMISSIONS --out grading/
  python -m autograder check notebooks/01_mdps.ipynb  # a student's self-check
  python -m autograder demo                          # all of it on the bundled sample class
"""


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _assignment_list(text: str) -> list[str]:
    return [a.strip() for a in text.split(",") if a.strip()]


def _add_timeout(parser: argparse.ArgumentParser, default: int) -> None:
    parser.add_argument(
        "--timeout", type=_positive_int, default=default, metavar="S",
        help=f"per-cell time limit in seconds; a cell running longer is interrupted and "
             f"scores 0 (default {default})",
    )


def _add_solutions(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--solutions", type=Path, default=SOLUTIONS_DIR, metavar="DIR",
        help="the instructor's jupytext sources NN_topic.py (default: the repo's solutions/)",
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="python -m autograder",
        description="Release, autograde and self-check the course notebooks with nbgrader.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    release = commands.add_parser(
        "release", help="build every solutions/*.py and write the student notebooks",
        description="Build every instructor source and write the student release (solutions "
                    "replaced by stubs, test cells locked, no outputs, canonical bytes).",
    )
    _add_solutions(release)
    release.add_argument("--out", type=Path, default=NOTEBOOKS_DIR, metavar="DIR",
                         help="where the student notebooks go (default: the repo's notebooks/)")

    grade = commands.add_parser(
        "grade", help="autograde a batch of submissions into a gradebook, feedback, grades.csv",
        description="Autograde SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb student by "
                    "student. Writes DIR/grades.csv (one row per graded cell: student, "
                    "assignment, notebook, grade_id, score, max_score, status, reason), the "
                    "gradebook, DIR/feedback/<student>/<assignment>/<notebook>.html and "
                    "nbgrader's working course in DIR/course; prints the gradebook table. "
                    "A bad submission (corrupt file, exception, hanging cell, missing "
                    "notebook) scores 0 on its own cells and the batch goes on. Statuses: ok; "
                    "failed (a check failed: reason = case, problem, hint); error (another "
                    "exception, the timeout, or nbgrader failing on the notebook); manual "
                    "(a written answer to grade by hand, score empty); blank (a written answer "
                    "left empty); missing (no usable notebook: absent or corrupt).",
    )
    grade.add_argument("submissions", type=Path, metavar="SUBMISSIONS",
                       help="directory of <student>/<assignment>/<notebook>.ipynb")
    grade.add_argument("--out", type=Path, required=True, metavar="DIR",
                       help="output directory (created; the gradebook in it is kept across "
                            "runs, everything else is regenerated)")
    grade.add_argument("--db", metavar="URL",
                       help="gradebook SQLAlchemy URL (default sqlite:///DIR/gradebook.db)")
    _add_timeout(grade, DEFAULT_TIMEOUT)
    grade.add_argument("--seed", type=int, metavar="N",
                       help="seed of the checks' hidden cases (RLKIT_GRADING_SEED; default: "
                            "the checks' built-in grading seed)")
    grade.add_argument("--assignments", type=_assignment_list, metavar="A,B",
                       help="grade only these assignment ids, comma-separated (default: all)")
    _add_solutions(grade)

    check = commands.add_parser(
        "check", help="a student's self-check of one notebook (visible cases only)",
        description="Run a notebook top to bottom like the grader does, with the visible "
                    "cases only, and report each check cell's points and failure hint.",
    )
    check.add_argument("notebook", type=Path, metavar="NOTEBOOK", help="the .ipynb to check")
    _add_timeout(check, DEFAULT_TIMEOUT)
    check.add_argument("--skip-slow", action="store_true",
                       help="skip the training demos guarded by is_nbgrader() "
                            "(runs with NBGRADER_EXECUTION=validate)")

    sample = commands.add_parser(
        "sample-class", help="regenerate the bundled sample class from the release and specs",
        description="Write alice (reference), bob (known bugs), carol (release), dave "
                    "(raises), erin (infinite loop) and frank (corrupt file) submissions.",
    )
    _add_solutions(sample)
    sample.add_argument("--out", type=Path, default=SAMPLE_CLASS_DIR, metavar="DIR",
                        help="where the sample class goes (default: autograder/sample_class/)")

    demo = commands.add_parser(
        "demo", help="the instructor's whole cycle on the bundled sample class",
        description="release -> grade the bundled sample class -> feedback -> grades.csv -> "
                    "gradebook table, and compare every student's total with the expected one.",
    )
    demo.add_argument("--out", type=Path, default=Path("grading-demo"), metavar="DIR",
                      help="output directory (default ./grading-demo)")
    _add_timeout(demo, DEMO_TIMEOUT)
    return parser


# ----------------------------------------------------------------------------- commands


def _release(args: argparse.Namespace) -> int:
    from autograder.pipeline import release

    for path in release(args.solutions, args.out):
        print(f"wrote {path}")
    return 0


def _grade(args: argparse.Namespace) -> int:
    from autograder.grading import grade
    from autograder.report import format_table

    settings = GradingSettings(timeout=args.timeout, seed=args.seed)
    result = grade(args.submissions, args.out, db_url=args.db, settings=settings,
                   assignments=args.assignments, solutions_dir=args.solutions)
    print(format_table(result.rows))
    print(f"\ngrades: {result.csv_path}\ngradebook: {result.db_url}\n"
          f"feedback: {result.out_dir / 'feedback'}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from autograder.selfcheck import format_report, self_check
    from autograder.submissions import InvalidNotebook

    try:
        reports = self_check(args.notebook, args.timeout, args.skip_slow)
    except (InvalidNotebook, FileNotFoundError) as exc:
        print(f"cannot check {args.notebook}: {exc}", file=sys.stderr)
        return 2
    print(format_report(args.notebook, reports, args.skip_slow))
    return 0 if all(r.points is None or r.points == r.max_points for r in reports) else 1


def _sample_class(args: argparse.Namespace) -> int:
    from autograder.sample_class import write_sample_class

    for path in write_sample_class(args.out, args.solutions):
        print(f"wrote {path}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from autograder.build import write_notebook
    from autograder.grading import grade
    from autograder.pipeline import load_assignments, release_notebooks
    from autograder.report import format_table
    from autograder.sample_class import expected_scores

    out = args.out.resolve()
    print(f"1/3 release: building solutions/ into student notebooks in {out / 'release'}")
    assignments = load_assignments()
    releases = release_notebooks(assignments)
    for assignment_id, nb in releases.items():
        write_notebook(nb, out / "release" / f"{assignment_id}.ipynb")
    print(f"2/3 grade: the bundled sample class {SAMPLE_CLASS_DIR} "
          f"(per-cell timeout {args.timeout} s)")
    result = grade(SAMPLE_CLASS_DIR, out, settings=GradingSettings(timeout=args.timeout))
    print("3/3 gradebook:\n")
    print(format_table(result.rows))
    print(f"\ngrades: {result.csv_path}\nfeedback: {out / 'feedback'}\ngradebook: {result.db_url}")
    expected = expected_scores(assignments, releases)
    wrong = {key: (result.totals[key].score, want) for key, want in expected.items()
             if key in result.totals and result.totals[key].score != want}
    for (student, assignment), (got, want) in sorted(wrong.items()):
        print(f"UNEXPECTED: {student}/{assignment} scored {got:g}, expected {want:g}")
    if not wrong:
        print("every sample student got the autograded score the plan predicts")
    return 1 if wrong else 0


_COMMANDS = {"release": _release, "grade": _grade, "check": _check,
             "sample-class": _sample_class, "demo": _demo}


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; returns the exit code (see ``--help``)."""
    from autograder.build import BuildError
    from autograder.course import NbGraderError

    args = build_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except (BuildError, NbGraderError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
