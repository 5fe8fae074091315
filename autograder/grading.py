"""Autograde a batch of submissions: gradebook, feedback and ``grades.csv``.

nbgrader keeps doing what it is good at: the course directory, ``generate_assignment`` (which
records the assignment, its notebooks and graded cells in the gradebook), the gradebook itself
(SQLite by default, any SQLAlchemy URL with ``--db``) and ``nbgrader formgrader`` for the written
answers. It no longer executes anything: nbgrader's ``autograde`` runs student code with the
instructor's rights and judges it inside the student's own kernel (a solution cell can turn
every later test cell into ``pass``). Instead each notebook is graded by
:func:`autograder.autograde.grade_notebook`: the student's code runs in a sandboxed process of its
own and the grader judges the outputs of the student's functions in its own process.

The batch, for each student and assignment (in parallel with ``workers`` > 1; results are
recorded in a fixed order, so they do not depend on the number of workers):

* grades the notebook (a missing, corrupt or huge file scores 0 with the reason);
* records the scores in the gradebook (``auto_score`` of each graded cell; written answers are
  left for manual grading, blank ones get 0 like nbgrader does), keeping any manual grade an
  instructor already gave;
* writes ``feedback/<student>/<assignment>/<notebook>.html`` (:mod:`autograder.feedback`), the
  submitted and the restored, annotated notebook under ``course/submitted`` and
  ``course/autograded`` for formgrader, and ``logs/<student>__<assignment>.log`` (what was
  restored, errors, the captured output);
* and finally ``grades.csv`` (one row per graded cell), with scores read back from the gradebook.
"""

from __future__ import annotations

import multiprocessing
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from autograder import feedback
from autograder.autograde import CellGrade, Job, NotebookResult, grade_notebook
from autograder.build import CHECK_TAG, write_notebook
from autograder.course import Course, GradingSettings
from autograder.paths import SOLUTIONS_DIR
from autograder.pipeline import (
    Assignment,
    generate_assignments,
    load_assignments,
    released_notebook,
)
from autograder.report import MANUAL, GradeRow, Total, totals, write_csv
from autograder.sandbox import Capabilities, Sandbox, detect, require
from autograder.submissions import (
    find_students,
    ignored_entries,
    read_nofollow,
    submission_parts,
)

Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class GradeResult:
    """What a grading run produced."""

    rows: list[GradeRow]
    out_dir: Path
    db_url: str
    setup_seconds: float = 0.0
    """wall time of building the sources and generating the assignments."""
    seconds: dict[tuple[str, str], float] = field(default_factory=dict)
    """(student, assignment) -> wall time of grading that notebook (in its worker)."""
    sandbox: str = ""
    """how student code ran (the sandbox and its limits)."""
    wall_seconds: float = 0.0
    """wall time of the whole run."""

    @property
    def csv_path(self) -> Path:
        """``OUT/grades.csv``."""
        return self.out_dir / "grades.csv"

    @property
    def totals(self) -> dict[tuple[str, str], Total]:
        """(student, assignment) -> total."""
        return totals(self.rows)


def default_db_url(out_dir: Path) -> str:
    """``sqlite:///OUT/gradebook.db``."""
    return f"sqlite:///{Path(out_dir).resolve() / 'gradebook.db'}"


# ----------------------------------------------------------------------------- gradebook


def record(gb: Any, assignment: Assignment, result: NotebookResult) -> list[GradeRow]:
    """Store one notebook's grades in the gradebook; return its rows (scores read back).

    A manual grade already in the gradebook (formgrader) is kept and wins over the autograde,
    as in nbgrader; the cell is then flagged for review.
    """
    gb.update_or_create_student(result.student)
    gb.update_or_create_submission(assignment.id, result.student)
    grades = [gb.find_grade(cell.grade_id, assignment.notebook, assignment.id, result.student)
              for cell in result.cells]
    for cell, grade in zip(result.cells, grades, strict=True):
        grade.auto_score = cell.score
        grade.needs_manual_grade = grade.manual_score is not None or cell.score is None
    for info in assignment.cells:
        if info.kind == "solution" or info.kind == "written":
            comment = gb.find_comment(info.grade_id, assignment.notebook, assignment.id,
                                      result.student)
            blank = next((c.status for c in result.cells if c.grade_id == info.grade_id),
                         None) in ("blank", "missing")
            comment.auto_comment = "No response." if blank else None
    gb.db.commit()  # expires the grades: their score (a SQL expression) is read afresh
    return [_row(assignment, result, cell, grade)
            for cell, grade in zip(result.cells, grades, strict=True)]


def _row(assignment: Assignment, result: NotebookResult, cell: CellGrade,
         grade: Any) -> GradeRow:
    status, reason = cell.status, cell.reason
    if cell.kind == "written" and grade.manual_score is not None:
        status, reason = MANUAL, ""
    score = None if status == MANUAL and grade.manual_score is None else grade.score
    return GradeRow(result.student, assignment.id, assignment.notebook, cell.grade_id,
                    score, grade.max_score, status, reason)


# ----------------------------------------------------------------------------- files


def _annotated(result: NotebookResult) -> nbformat.NotebookNode | None:
    """The restored notebook with each test cell's outcome as its output (for formgrader)."""
    if result.restored is None:
        return None
    nb = result.restored
    by_id = {c.grade_id: c for c in result.cells if c.kind == CHECK_TAG}
    for cell in nb.cells:
        grade = by_id.get(cell.metadata.get("nbgrader", {}).get("grade_id"))
        if grade is None or cell.cell_type != "code":
            continue
        if grade.status == "ok":
            cell.outputs = [nbformat.v4.new_output(
                "stream", name="stdout", text=f"passed ({grade.score:g}/{grade.max_score:g})\n")]
        else:
            cell.outputs = [nbformat.v4.new_output(
                "error", ename="CheckFailed", evalue=grade.reason,
                traceback=list(grade.reports) or [grade.reason])]
    return nb


def _write_files(course: Course, out_dir: Path, submissions_dir: Path, assignment: Assignment,
                 result: NotebookResult) -> None:
    student = result.student
    feedback.write(result, out_dir / "feedback" / student / assignment.id
                   / f"{assignment.notebook}.html")
    log = [f"{student} / {assignment.id}: {result.score:g}/{result.max_score:g} "
           f"({result.seconds:.1f} s)"]
    if result.restored is not None:
        # read again as grading read it: a link swapped in since then is not followed
        try:
            data = read_nofollow(submissions_dir, submission_parts(
                student, assignment.id, assignment.notebook),
                max_bytes=int(course.settings.max_notebook_mb * 2**20))
        except (OSError, ValueError) as exc:
            log.append(f"note: the submitted file was not copied to course/submitted ({exc})")
        else:
            target = course.path("submitted", student, assignment.id, assignment.notebook)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        annotated = _annotated(result)
        if annotated is not None:
            write_notebook(annotated, course.path("autograded", student, assignment.id,
                                                  assignment.notebook))
    if result.status:
        log.append(f"not graded: {result.reason}")
    if result.ended:
        log.append(f"stopped: {result.ended}")
    log += [f"note: {n}" for n in result.notes] + [f"cell: {e}" for e in result.cell_errors]
    log += [f"{c.grade_id}: {c.status} {c.reason}".rstrip() for c in result.cells]
    log += ["", "---- output of the notebook's process (capped) ----", result.output]
    path = out_dir / "logs" / f"{student}__{assignment.id}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(log), encoding="utf-8")


# ----------------------------------------------------------------------------- running jobs


def _warm_up() -> None:
    """Import the check specs once per worker process."""
    from autograder.checks import load_all

    load_all()


def run_jobs(jobs: Sequence[Job], workers: int) -> Iterator[NotebookResult]:
    """Grade ``jobs``, in parallel with ``workers`` > 1; results come in the jobs' order."""
    if workers <= 1 or len(jobs) <= 1:
        yield from map(grade_notebook, jobs)
        return
    context = multiprocessing.get_context("spawn")  # no inherited threads or open gradebook
    with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                             initializer=_warm_up) as pool:
        yield from pool.map(grade_notebook, jobs, chunksize=1)


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


# ----------------------------------------------------------------------------- the batch


def grade(
    submissions_dir: Path,
    out_dir: Path,
    *,
    db_url: str | None = None,
    settings: GradingSettings | None = None,
    assignments: Sequence[str] | None = None,
    solutions_dir: Path = SOLUTIONS_DIR,
    log: Log = _stderr,
    workers: int = 1,
    unsandboxed: bool = False,
    sandbox: Sandbox | None = None,
) -> GradeResult:
    """Autograde every student directory of ``submissions_dir`` into ``out_dir``.

    Args:
        submissions_dir: ``<student>/<assignment>/<notebook>.ipynb`` files.
        out_dir: where ``grades.csv``, ``feedback/``, ``logs/``, ``course/`` and the default
            gradebook go.
        db_url: the gradebook's SQLAlchemy URL (default ``sqlite:///OUT/gradebook.db``). It is
            kept across runs, so manual grades survive a re-run.
        settings: time limit per step, grading seed, resource limits, largest notebook.
        assignments: grade only these assignment ids (default: all sources).
        solutions_dir: the instructor sources.
        log: receives one progress line per graded notebook.
        workers: notebooks graded at once (each in its own process and sandbox).
        unsandboxed: run student code without the sandbox (own process and rlimits only).
        sandbox: use this sandbox instead of detecting one (tests, benchmarks).

    Returns:
        The rows of ``grades.csv`` (sorted by student, assignment, cell order).

    Raises:
        SandboxUnavailable: no sandbox can be built here and ``unsandboxed`` is not set.

    """
    from nbgrader.api import Gradebook

    from autograder.checks.core import grading_seed

    start = time.perf_counter()
    submissions_dir, out_dir = Path(submissions_dir).resolve(), Path(out_dir).resolve()
    if not submissions_dir.is_dir():
        raise FileNotFoundError(f"no submissions directory {submissions_dir}")
    settings = settings or GradingSettings()
    sandbox = sandbox or make_sandbox(settings, unsandboxed)
    log(f"student code runs {sandbox.describe()}")
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in ("feedback", "logs", "similarity"):
        shutil.rmtree(out_dir / name, ignore_errors=True)
    db_url = db_url or default_db_url(out_dir)
    chosen = load_assignments(solutions_dir, assignments)
    course = Course.create(out_dir / "course", db_url, settings)
    log(f"building {len(chosen)} assignment(s) into {course.root}")
    generate_assignments(course, chosen)
    releases = {a.id: released_notebook(course, a) for a in chosen}
    setup_seconds = time.perf_counter() - start
    for name in ignored_entries(submissions_dir):
        log(f"  warning: ignoring {submissions_dir / name} (not a student directory)")
    seed = grading_seed() if settings.seed is None else settings.seed
    jobs = [Job(student, a.id, a.notebook, submissions_dir, releases[a.id], settings, seed,
                sandbox)
            for student in find_students(submissions_dir) for a in chosen]
    by_id = {a.id: a for a in chosen}
    rows: list[GradeRow] = []
    seconds: dict[tuple[str, str], float] = {}
    log(f"grading {len(jobs)} notebook(s) with {max(workers, 1)} worker(s)")
    with course.environment(), Gradebook(db_url) as gb:
        for result in run_jobs(jobs, workers):
            assignment = by_id[result.assignment]
            new_rows = record(gb, assignment, result)
            _write_files(course, out_dir, submissions_dir, assignment, result)
            rows += new_rows
            seconds[(result.student, result.assignment)] = result.seconds
            total = totals(new_rows)[(result.student, result.assignment)]
            note = f"  [{result.status}: {result.reason}]" if result.status else ""
            note += f"  [stopped: {result.ended}]" if result.ended else ""
            log(f"  {result.student:<12} {result.assignment:<14} {str(total):>10}  "
                f"({result.seconds:.1f} s){note}")
    out = GradeResult(rows, out_dir, db_url, setup_seconds, seconds, sandbox.describe(),
                      time.perf_counter() - start)
    write_csv(rows, out.csv_path)
    similarity_section(submissions_dir, out_dir / "similarity", releases, settings, log)
    return out


def similarity_section(submissions_dir: Path, out_dir: Path, releases: dict[str, Any],
                       settings: GradingSettings, log: Log) -> None:
    """Write the class's similarity report (:mod:`autograder.similarity`) into ``out_dir``.

    It reports and never changes a grade: a failure is logged and the grading run still ends
    normally.
    """
    from autograder import similarity

    try:
        report = similarity.analyse(submissions_dir, releases,
                                    max_bytes=int(settings.max_notebook_mb * 2**20))
        written = similarity.write(report, out_dir)
    except Exception as exc:  # noqa: BLE001 - a report must never cost the grades
        log(f"warning: no similarity report ({type(exc).__name__}: {exc}); "
            "the grades are unaffected")
        return
    log(f"similarity report: {written.html} and {written.csv.name}: {report.summary()}")
