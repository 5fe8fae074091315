"""``python -m autograder``: release, grade, feedback, formgrader, self-check, and a demo."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from autograder.box.sandbox import Limits
from autograder.course.directory import DEFAULT_BUDGET, DEFAULT_TIMEOUT, GradingSettings
from autograder.paths import NOTEBOOKS_DIR, SAMPLE_CLASS_DIR, SOLUTIONS_DIR

#: the demo's per-step timeout: short, since the sample class has a student whose function
#: never returns, but long enough for the learning checks (a few seconds each on a quiet
#: machine, well over 10 on a busy one).
DEMO_TIMEOUT = 30

EPILOG = """\
exit codes: 0 done (a batch that completed is a success even if students scored 0);
1 check: some check failed / demo: a sample student did not get the expected score;
2 bad input (a source breaking the cell conventions, an unknown assignment, an unreadable
notebook, a missing directory), no sandbox for student code (see grade --unsandboxed), or an
nbgrader failure outside any single submission.

typical cycle:
  python -m autograder release                      # solutions/*.py -> notebooks/*.ipynb
  python -m autograder grade SUBMISSIONS --out grading/ --workers 2
  python -m autograder similarity SUBMISSIONS --out similarity/  # copies across the class
  python -m autograder formgrader grading/           # grade the written answers by hand
  python -m autograder feedback grading/             # hand grades -> feedback, CSVs
  python -m autograder check notebooks/01_mdps.ipynb  # a student's self-check
  python -m autograder gradescope 01_mdps --seed N   # grade on Gradescope instead
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
        help=f"time limit in seconds of each step: one of the student's cells, or one check "
             f"(all its cases); a step running longer is interrupted and scores 0 "
             f"(default {default})",
    )


def _add_grading_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", type=_positive_int, default=1, metavar="N",
                        help="grade N notebooks at once, each in its own sandboxed process; "
                             "the results are the same as with 1 (default 1)")
    parser.add_argument("--memory", type=_positive_int, default=Limits().memory_mb,
                        metavar="MiB",
                        help="memory limit of one notebook's process (real use, swap "
                             f"included; default {Limits().memory_mb})")
    parser.add_argument("--unsandboxed", action="store_true",
                        help="run student code WITHOUT the sandbox (still in its own process, "
                             "judged by the grader, with time and file-size limits, but able "
                             "to read and write whatever you can). Only for code you trust; "
                             "without this flag the grader refuses when it cannot build a "
                             "sandbox (it needs bubblewrap and writable cgroups: run as root)")
    parser.add_argument("--fresh-process", action="store_true",
                        help="start every notebook's sandboxed process fresh (imports "
                             "included) instead of forking it from a pre-imported fork server "
                             "(the default where the grader runs as root); the grades are the "
                             "same, only slower")


def _add_late(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--late", type=Path, metavar="FILE",
                        help="late policy (TOML: due dates and the penalty per assignment, "
                             "see README); kept as DIR/late.toml and used by later runs "
                             "(default: the kept one; none: no due date, no penalty)")


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
        description="Autograde SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb. Each "
                    "notebook's code runs in its own sandboxed process (bubblewrap: no "
                    "network, no view of solutions/, the gradebook or other submissions; "
                    "cgroup limits on memory, processes and CPU; a time limit per step); the "
                    "grader calls the student's functions there and judges their outputs in "
                    "its own process, so student code never judges itself. Writes "
                    "DIR/grades.csv (one row per graded cell: student, assignment, notebook, "
                    "grade_id, score, max_score, status, reason, late_penalty), the nbgrader "
                    "gradebook, DIR/feedback/<student>/<assignment>/<notebook>.html, "
                    "DIR/exports/ (canvas.csv, checks_long.csv), DIR/logs/ and nbgrader's "
                    "course directory DIR/course (for formgrader); prints the gradebook "
                    "table. Incremental: a run into a DIR that holds a graded class replaces "
                    "what it grades and keeps the rest (other assignments, students absent "
                    "from SUBMISSIONS, a student's assignments absent from their directory); "
                    "grades.csv and the exports are rebuilt from the gradebook. "
                    "A bad submission (corrupt or huge file, exception, "
                    "hang, memory or fork bomb, exit) scores 0 on its own cells and the batch "
                    "goes on. Statuses: ok; failed (a check failed: reason = case, problem, "
                    "hint); error (reason starts with timeout:, memory: or crash: when the "
                    "notebook's process was stopped); manual (a written answer to grade by "
                    "hand, score empty); blank (a written answer left empty); missing (no "
                    "usable notebook: absent, corrupt, too large, or a symbolic link). Then "
                    "writes the similarity report (see similarity) of every submission graded in "
                    "DIR into DIR/similarity/. A progress bar on stderr counts the notebooks "
                    "graded and names the ones running, with their time. A hand grade of a "
                    "written answer the student has since changed is cleared (its comment "
                    "kept, marked as about the earlier answer): the answer is to be graded "
                    "again.",
    )
    grade.add_argument("submissions", type=Path, metavar="SUBMISSIONS",
                       help="directory of <student>/<assignment>/<notebook>.ipynb")
    grade.add_argument("--out", type=Path, required=True, metavar="DIR",
                       help="output directory (created; a later run into it replaces what it "
                            "regrades and keeps the rest)")
    grade.add_argument("--db", metavar="URL",
                       help="gradebook SQLAlchemy URL (default sqlite:///DIR/gradebook.db)")
    _add_timeout(grade, DEFAULT_TIMEOUT)
    grade.add_argument("--budget", type=_positive_int, default=DEFAULT_BUDGET, metavar="S",
                       help="time limit in seconds of one whole notebook, start-up included: "
                            "its process is then stopped, the checks judged before keep their "
                            "points and the rest score 0 with the reason (default "
                            f"{DEFAULT_BUDGET}; a correct notebook of this course grades in "
                            "under 10 s on a quiet machine)")
    grade.add_argument("--seed", type=int, metavar="N",
                       help="seed of the checks' hidden cases (RLKIT_GRADING_SEED; default: "
                            "the checks' built-in grading seed)")
    grade.add_argument("--assignments", type=_assignment_list, metavar="A,B",
                       help="grade these assignment ids, comma-separated, whether submitted "
                            "or not (default: every assignment some student in SUBMISSIONS "
                            "submitted; the others are neither graded nor exported)")
    _add_late(grade)
    grade.add_argument("--receipts", type=Path, metavar="CSV",
                       help="your own record of when each submission arrived (CSV with the "
                            "columns student,assignment,received; see README): a submission "
                            "then counts as no earlier than its receipt, whatever its "
                            "timestamp.txt says")
    _add_solutions(grade)
    _add_grading_options(grade)
    grade.add_argument("--scheduler", metavar="tcp://HOST:8786",
                       help="grade on the Dask cluster of this scheduler instead of --workers "
                            "here (workers started with `dask worker`, each with the kit and "
                            "bubblewrap installed; see README); this process still reads the "
                            "submissions and writes everything")

    similarity = commands.add_parser(
        "similarity", help="per graded function, the students whose code is most alike",
        description="Compare every graded function across a class: the pairs of students "
                    "whose code is most alike once names, comments, docstrings and "
                    "formatting are normalised, and each student's similarity to rlkit's "
                    "own implementation of the function. Writes DIR/index.html (the pairs "
                    "ranked, the two versions side by side) and DIR/similarity.csv. Notebooks "
                    "are read like grade reads them (size cap, no symbolic links); functions "
                    "left as the release stub are not compared. It reports; it never changes "
                    "a grade, and similarity alone does not prove copying (grade writes the "
                    "same report into its OUT/similarity/).",
    )
    similarity.add_argument("submissions", type=Path, metavar="SUBMISSIONS",
                            help="directory of <student>/<assignment>/<notebook>.ipynb")
    similarity.add_argument("--out", type=Path, default=Path("similarity"), metavar="DIR",
                            help="output directory (default ./similarity)")
    similarity.add_argument("--assignments", type=_assignment_list, metavar="A,B",
                            help="compare only these assignment ids (default: every release "
                                 "notebook)")
    similarity.add_argument("--release", type=Path, default=NOTEBOOKS_DIR, metavar="DIR",
                            help="the student release <assignment>.ipynb (default: the repo's "
                                 "notebooks/)")
    similarity.add_argument("--top", type=_positive_int, default=10, metavar="N",
                            help="pairs and students closest to rlkit shown per function in "
                                 "the HTML (default 10; the CSV has every pair)")

    fb = commands.add_parser(
        "feedback", help="rebuild feedback and grades.csv from the gradebook (after hand grading)",
        description="Rebuild DIR/feedback/, DIR/grades.csv and DIR/exports/ from the gradebook "
                    "and the results `grade` stored, without running any student code: the "
                    "manual scores and comments given in formgrader, a changed late policy "
                    "or a granted extension reach the students' feedback.",
    )
    fb.add_argument("out", type=Path, metavar="DIR", help="the output directory of `grade`")
    fb.add_argument("--db", metavar="URL",
                    help="gradebook SQLAlchemy URL (default: the course's, DIR/course/"
                         "nbgrader_config.py)")
    _add_late(fb)

    fg = commands.add_parser(
        "formgrader", help="nbgrader's formgrader on a graded course (manual grading)",
        description="Start JupyterLab in DIR/course with nbgrader's formgrader (nbgrader 0.9 "
                    "has no `nbgrader formgrader` command) and print its address: grade the "
                    "written answers under Manual Grading (or JupyterLab's Nbgrader > "
                    "Formgrader), then run `feedback DIR`. nbgrader's Autograde, Release, "
                    "Collect and feedback buttons are hidden and refused (the grader grades, "
                    "`feedback` writes what students get); its scores are before the late "
                    "penalty, which an assignment's Manage Submissions page lists.",
    )
    fg.add_argument("out", type=Path, metavar="DIR", help="the output directory of `grade`")
    fg.add_argument("--ip", default="127.0.0.1",
                    help="address to listen on (default 127.0.0.1: this machine only)")
    fg.add_argument("--port", type=_positive_int, default=8888, help="port (default 8888)")
    fg.add_argument("--token", help="the access token (default: a random one, printed)")
    fg.add_argument("--browser", action="store_true", help="open a browser on it")

    check = commands.add_parser(
        "check", help="a student's self-check of one notebook (visible cases only)",
        description="Run a notebook top to bottom in a local kernel, with the visible "
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
                        help="where the sample class goes "
                        "(default: autograder/frontends/sample_class/)")

    demo = commands.add_parser(
        "demo", help="the instructor's whole cycle on the bundled sample class",
        description="release -> grade the bundled sample class -> feedback -> grades.csv -> "
                    "gradebook table, and compare every student's total with the expected one.",
    )
    demo.add_argument("--out", type=Path, default=Path("grading-demo"), metavar="DIR",
                      help="output directory (default ./grading-demo)")
    _add_timeout(demo, DEMO_TIMEOUT)
    demo.add_argument("--workers", type=_positive_int, default=2, metavar="N",
                      help="notebooks graded at once (default 2)")

    gradescope = commands.add_parser(
        "gradescope", help="build a Gradescope autograder zip from the same check specs",
        description="Write a Gradescope autograder zip (setup.sh, run_autograder, the course "
                    "code and the release) for one assignment. On Gradescope, run_autograder "
                    "grades /autograder/submission/*.ipynb with the same pipeline and writes "
                    "/autograder/results/results.json: one test per check, its points from "
                    "the spec, the failure report (never the hidden tests) as output. The zip "
                    "carries the seed of the hidden cases: give your own with --seed N and keep "
                    "the zip private (the built-in seed is public and refused unless "
                    "--public-seed).",
    )
    gradescope.add_argument("assignment", metavar="ASSIGNMENT",
                            help="the assignment id, e.g. 01_mdps")
    seed = gradescope.add_mutually_exclusive_group()
    seed.add_argument("--seed", type=int, metavar="N",
                      help="your private seed of the hidden cases (the same as `grade --seed "
                           "N` gives the same grades locally; default: RLKIT_GRADING_SEED)")
    seed.add_argument("--public-seed", action="store_true",
                      help="accept the checks' built-in seed, which anyone with this "
                           "repository can read (a try-out zip whose hidden cases are not "
                           "hidden)")
    gradescope.add_argument("--out", type=Path, metavar="ZIP",
                            help="the zip to write (default: ./<assignment>-gradescope.zip)")
    gradescope.add_argument("--visibility", default="visible",
                            choices=("visible", "after_due_date", "after_published", "hidden"),
                            help="when students see each check's result (default visible)")
    _add_timeout(gradescope, DEFAULT_TIMEOUT)
    _add_solutions(gradescope)

    run = commands.add_parser(
        "gradescope-run", help="(inside Gradescope) grade one submission into results.json",
        description="What the zip's run_autograder calls: grade the one notebook in "
                    "SUBMISSION_DIR and write RESULTS (Gradescope's results.json).",
    )
    run.add_argument("--root", type=Path, default=Path("/autograder"), metavar="DIR",
                     help="Gradescope's autograder directory (default /autograder)")
    return parser


# ----------------------------------------------------------------------------- commands


def _release(args: argparse.Namespace) -> int:
    from autograder.course.release import release

    for path in release(args.solutions, args.out):
        print(f"wrote {path}")
    return 0


def _grade(args: argparse.Namespace) -> int:
    from autograder.grading.batch import grade, make_sandbox
    from autograder.grading.executors import DaskCluster
    from autograder.records.report import format_table

    settings = GradingSettings(timeout=args.timeout, budget=args.budget, seed=args.seed,
                               limits=Limits(memory_mb=args.memory))
    sandbox = (make_sandbox(settings, args.unsandboxed).fresh_process()
               if args.fresh_process else None)
    result = grade(args.submissions, args.out, db_url=args.db, settings=settings,
                   assignments=args.assignments, solutions_dir=args.solutions,
                   workers=args.workers, unsandboxed=args.unsandboxed, sandbox=sandbox,
                   late_policy=args.late, receipts=args.receipts,
                   executor=DaskCluster(args.scheduler) if args.scheduler else None)
    print(format_table(result.rows))
    _print_outputs(result.out_dir, result.db_url)
    report = result.out_dir / "similarity" / "index.html"
    if report.is_file():
        print(f"similarity: {report}")
    return 0


def _similarity(args: argparse.Namespace) -> int:
    from autograder.grading import similarity

    if not args.submissions.is_dir():
        raise FileNotFoundError(f"no submissions directory {args.submissions}")
    releases = similarity.releases_from(args.release, args.assignments)
    report = similarity.analyse(args.submissions, releases,
                                max_bytes=int(GradingSettings().max_notebook_mb * 2**20))
    written = similarity.write(report, args.out, args.top)
    for title, matches in (("most alike pairs", report.top_pairs(args.top)),
                           ("closest to rlkit's own code", report.top_reference(args.top))):
        print(f"{title}:")
        for m in matches:
            print(f"  {m.similarity:>5.0%}  {m.spec:<34} {m.a} ~ {m.b}")
    print(f"\n{report.summary()}\nreport: {written.html}\ncsv: {written.csv}")
    if report.notes:
        print(f"notes: {len(report.notes)} (in the report)")
    return 0


def _print_outputs(out: Path, db_url: str) -> None:
    print(f"\ngrades: {out / 'grades.csv'}\ngradebook: {db_url}\n"
          f"feedback: {out / 'feedback'}\nexports: {out / 'exports'}")


def _feedback(args: argparse.Namespace) -> int:
    from autograder.records.outputs import rebuild
    from autograder.records.report import format_table

    published, db_url = rebuild(args.out, db_url=args.db, late_policy=args.late)
    print(format_table(published.rows))
    print(f"\n{len(published.feedback)} feedback page(s) rebuilt from the gradebook")
    _print_outputs(args.out.resolve(), db_url)
    return 0


def _formgrader(args: argparse.Namespace) -> int:
    from autograder.frontends.formgrader import run

    run(args.out, ip=args.ip, port=args.port, token=args.token, open_browser=args.browser)
    return 0  # not reached: run() replaces this process with the server


def _check(args: argparse.Namespace) -> int:
    from autograder.frontends.selfcheck import format_report, self_check
    from autograder.grading.submissions import InvalidNotebook

    try:
        result = self_check(args.notebook, args.timeout, args.skip_slow)
    except (InvalidNotebook, FileNotFoundError) as exc:
        print(f"cannot check {args.notebook}: {exc}", file=sys.stderr)
        return 2
    reports = result.reports
    print(format_report(args.notebook, reports, args.skip_slow, result.cell_errors))
    return 0 if all(r.points is None or r.points == r.max_points for r in reports) else 1


def _sample_class(args: argparse.Namespace) -> int:
    from autograder.frontends.sample_class import write_sample_class

    for path in write_sample_class(args.out, args.solutions):
        print(f"wrote {path}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from autograder.box.sandbox import SandboxUnavailable
    from autograder.course.build import write_notebook
    from autograder.course.release import load_assignments, release_notebooks
    from autograder.frontends.sample_class import expected_scores
    from autograder.grading.batch import grade, make_sandbox
    from autograder.records.report import format_table

    out = args.out.resolve()
    print(f"1/3 release: building solutions/ into student notebooks in {out / 'release'}")
    assignments = load_assignments()
    releases = release_notebooks(assignments)
    for assignment_id, nb in releases.items():
        write_notebook(nb, out / "release" / f"{assignment_id}.ipynb")
    print(f"2/3 grade: the bundled sample class {SAMPLE_CLASS_DIR} "
          f"(time limit per step {args.timeout} s, {args.workers} workers)")
    settings = GradingSettings(timeout=args.timeout)
    try:
        sandbox = make_sandbox(settings, unsandboxed=False)
    except SandboxUnavailable as exc:
        # the sample class is our own code: the demo may run it without the sandbox
        print(f"warning: {exc}\nThe demo grades the bundled sample class (our own code) "
              "unsandboxed; `grade` would refuse.", file=sys.stderr)
        sandbox = make_sandbox(settings, unsandboxed=True)
    result = grade(SAMPLE_CLASS_DIR, out, settings=settings, workers=args.workers,
                   sandbox=sandbox)
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


def _gradescope(args: argparse.Namespace) -> int:
    from autograder.frontends.gradescope import build_zip

    path = build_zip(args.assignment, args.out or Path(f"{args.assignment}-gradescope.zip"),
                     solutions_dir=args.solutions, timeout=args.timeout,
                     visibility=args.visibility, seed=args.seed, public_seed=args.public_seed)
    print(f"wrote {path}")
    return 0


def _gradescope_run(args: argparse.Namespace) -> int:
    from autograder.frontends.gradescope import run_autograder

    path = run_autograder(args.root)
    print(f"wrote {path}")
    return 0


_COMMANDS = {"release": _release, "grade": _grade, "similarity": _similarity,
             "feedback": _feedback, "formgrader": _formgrader, "check": _check,
             "sample-class": _sample_class, "demo": _demo, "gradescope": _gradescope,
             "gradescope-run": _gradescope_run}


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; returns the exit code (see ``--help``)."""
    from autograder.box.sandbox import SandboxUnavailable
    from autograder.course.build import BuildError
    from autograder.course.directory import NbGraderError
    from autograder.grading.executors import SchedulerUnreachable

    args = build_parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except (BuildError, NbGraderError, SandboxUnavailable, SchedulerUnreachable, ValueError,
            FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
