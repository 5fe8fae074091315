"""Autograde a batch of submissions: gradebook, feedback and ``grades.csv``.

The batch runs student by student through nbgrader in a fresh course directory
(``OUT/course``). Whatever one submission does, it only loses its own points:

* an invalid file (not JSON, not a notebook, wrong nbformat) or a missing notebook never reaches
  nbgrader; its cells are set to zero in the gradebook with the reason;
* an exception or a hanging cell costs that cell (nbgrader runs on after errors, and interrupts
  a cell at the per-cell timeout);
* if nbgrader fails on a whole notebook (e.g. the kernel died), that notebook scores zero with
  the error as reason and the full log in ``OUT/logs/``;
* tampered or deleted test cells are restored from the gradebook (``OverwriteCells``).

Outputs in ``OUT``: ``grades.csv`` (one row per graded cell), the gradebook (``gradebook.db`` by
default), ``feedback/<student>/<assignment>/<notebook>.html`` and ``course/`` (nbgrader's working
directory, kept for inspection and for manual grading with ``nbgrader formgrader``).
"""

from __future__ import annotations

import html
import re
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from autograder.course import Course, GradingSettings, NbGraderError
from autograder.paths import SOLUTIONS_DIR
from autograder.pipeline import Assignment, generate_assignments, load_assignments
from autograder.report import (
    BLANK,
    ERROR,
    FAILED,
    MANUAL,
    MISSING,
    OK,
    GradeRow,
    Total,
    cell_outcomes,
    totals,
    write_csv,
)
from autograder.submissions import find_students, ignored_entries, load_submission

Log = Callable[[str], None]
_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit)): ?(.*)$")


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
    """(student, assignment) -> wall time of grading that submission (with its feedback)."""

    @property
    def csv_path(self) -> Path:
        """``OUT/grades.csv``."""
        return self.out_dir / "grades.csv"

    @property
    def totals(self) -> dict[tuple[str, str], Total]:
        """(student, assignment) -> total."""
        return totals(self.rows)


@dataclass(frozen=True)
class _Outcome:
    """Why a whole notebook scored zero (None fields: it was autograded)."""

    status: str | None = None
    reason: str = ""


def default_db_url(out_dir: Path) -> str:
    """``sqlite:///OUT/gradebook.db``."""
    return f"sqlite:///{Path(out_dir).resolve() / 'gradebook.db'}"


# ----------------------------------------------------------------------------- gradebook


def zero_submission(course: Course, assignment: str, student: str) -> None:
    """Record a submission whose every graded cell scores 0 (like nbgrader's missing notebook)."""
    from nbgrader.api import Gradebook

    with course.environment(), Gradebook(course.db_url) as gb:
        gb.update_or_create_student(student)
        submission = gb.update_or_create_submission(assignment, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score = 0.0
                grade.manual_score = None
                grade.needs_manual_grade = False
        gb.db.commit()


def _gradebook_rows(
    db_url: str, assignment: Assignment, student: str, outcome: _Outcome,
    cell_results: dict[str, tuple[str, str]],
) -> list[GradeRow]:
    """Return the rows of one student's notebook, in cell order, scores from the gradebook."""
    from nbgrader.api import Gradebook

    rows = []
    with Gradebook(db_url) as gb:
        for cell in assignment.cells:
            if cell.kind == "solution":
                continue
            grade = gb.find_grade(cell.grade_id, assignment.notebook, assignment.id, student)
            status, reason = _status(cell.kind, grade, outcome, cell_results.get(cell.grade_id))
            score = None if status == MANUAL and grade.manual_score is None else grade.score
            rows.append(GradeRow(student, assignment.id, assignment.notebook, cell.grade_id,
                                 score, grade.max_score, status, reason))
    return rows


def _status(
    kind: str, grade: Any, outcome: _Outcome, failure: tuple[str, str] | None
) -> tuple[str, str]:
    if outcome.status is not None:
        return outcome.status, outcome.reason
    if kind == "written":
        if grade.manual_score is not None or grade.needs_manual_grade:
            return MANUAL, "" if grade.manual_score is not None else "to be graded by hand"
        return BLANK, "no answer written"
    if grade.score >= grade.max_score:
        return OK, ""
    return failure or (FAILED, "no points (the cell printed no error)")


# ----------------------------------------------------------------------------- one notebook


def _exception_summary(text: str) -> str:
    """Return the last exception line of a log that is not nbgrader's own wrapper."""
    lines = (line.strip() for line in text.splitlines())
    matches = [m for m in map(_EXCEPTION_LINE.match, lines)
               if m and "NbGraderException" not in m.group(1)]
    if not matches:
        return "nbgrader could not grade this notebook"
    name, message = matches[-1].group(1).rsplit(".", 1)[-1], matches[-1].group(2)
    return f"{name}: {message}"[:200] if message else name


def _failure_reason(nb: nbformat.NotebookNode, assignment: Assignment, log: str) -> str:
    """Why nbgrader could not grade a notebook, in one line."""
    present = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}
    if not present & {c.grade_id for c in assignment.cells}:
        return ("the notebook has none of the assignment's graded cells (its nbgrader metadata "
                "is gone: was the work copied into a new notebook?)")
    return f"nbgrader failed on this notebook: {_exception_summary(log)}"


def _note_feedback(path: Path, assignment: str, reason: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>"
        f"{html.escape(assignment)}</title></head><body><h1>{html.escape(assignment)}</h1>"
        f"<p>This submission could not be graded: {html.escape(reason)}.</p>"
        "<p>Every graded cell scored 0.</p></body></html>\n",
        encoding="utf-8",
    )


class _BatchGrader:
    """Grades the notebooks of a batch one by one into one course and gradebook."""

    def __init__(self, course: Course, submissions_dir: Path, out_dir: Path, log: Log) -> None:
        self.course = course
        self.submissions_dir = submissions_dir
        self.out_dir = out_dir
        self.log = log
        self.seconds: dict[tuple[str, str], float] = {}

    def grade(self, assignment: Assignment, student: str) -> list[GradeRow]:
        start = time.perf_counter()
        outcome = self._autograde(assignment, student)
        cell_results: dict[str, tuple[str, str]] = {}
        if outcome.status is None:
            autograded = self.course.path("autograded", student, assignment.id,
                                          assignment.notebook)
            nb = nbformat.read(autograded, as_version=4)
            cell_results = cell_outcomes(nb, self.course.settings.timeout)
            self._feedback(assignment, student)
        else:
            _note_feedback(self._feedback_path(assignment, student), assignment.id, outcome.reason)
        rows = _gradebook_rows(self.course.db_url, assignment, student, outcome, cell_results)
        total = totals(rows)[(student, assignment.id)]
        seconds = self.seconds[(student, assignment.id)] = time.perf_counter() - start
        note = f"  [{outcome.status}: {outcome.reason}]" if outcome.status else ""
        self.log(f"  {student:<12} {assignment.id:<14} {str(total):>10}  ({seconds:.1f} s){note}")
        return rows

    def _autograde(self, assignment: Assignment, student: str) -> _Outcome:
        submission = load_submission(self.submissions_dir, student, assignment.id,
                                     assignment.notebook)
        if not submission.valid:
            zero_submission(self.course, assignment.id, student)
            return _Outcome(MISSING, submission.problem or "no submission")
        assert submission.nb is not None
        self.course.submit(student, assignment.id, assignment.notebook, submission.nb)
        try:
            self.course.autograde(assignment.id, student)
        except NbGraderError as exc:
            log_path = self.out_dir / "logs" / f"{student}__{assignment.id}.log"
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log_path.write_text(str(exc), encoding="utf-8")
            zero_submission(self.course, assignment.id, student)
            return _Outcome(ERROR, _failure_reason(submission.nb, assignment, str(exc)))
        return _Outcome()

    def _feedback_path(self, assignment: Assignment, student: str) -> Path:
        return self.out_dir / "feedback" / student / assignment.id / f"{assignment.notebook}.html"

    def _feedback(self, assignment: Assignment, student: str) -> None:
        try:
            self.course.generate_feedback(assignment.id, student)
        except NbGraderError as exc:
            self.log(f"  warning: no feedback for {student}/{assignment.id}: "
                     f"{_exception_summary(str(exc))}")
            return
        source = self.course.path("feedback", student, assignment.id, assignment.notebook,
                                  ext=".html")
        target = self._feedback_path(assignment, student)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


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
) -> GradeResult:
    """Autograde every student directory of ``submissions_dir`` into ``out_dir``.

    Args:
        submissions_dir: ``<student>/<assignment>/<notebook>.ipynb`` files.
        out_dir: where ``grades.csv``, ``feedback/``, ``course/`` and the default gradebook go.
        db_url: the gradebook's SQLAlchemy URL (default ``sqlite:///OUT/gradebook.db``). It is
            kept across runs, so manual grades survive a re-run.
        settings: per-cell timeout, grading seed, stderr filter.
        assignments: grade only these assignment ids (default: all sources).
        solutions_dir: the instructor sources.
        log: receives one progress line per graded notebook.

    Returns:
        The rows of ``grades.csv`` (sorted by student, assignment, notebook, cell order).

    """
    submissions_dir, out_dir = Path(submissions_dir), Path(out_dir).resolve()
    if not submissions_dir.is_dir():
        raise FileNotFoundError(f"no submissions directory {submissions_dir}")
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out_dir / "feedback", ignore_errors=True)
    shutil.rmtree(out_dir / "logs", ignore_errors=True)
    db_url = db_url or default_db_url(out_dir)
    start = time.perf_counter()
    chosen = load_assignments(solutions_dir, assignments)
    course = Course.create(out_dir / "course", db_url, settings or GradingSettings())
    log(f"building {len(chosen)} assignment(s) into {course.root}")
    generate_assignments(course, chosen)
    setup_seconds = time.perf_counter() - start
    for name in ignored_entries(submissions_dir):
        log(f"  warning: ignoring {submissions_dir / name} (not a student directory)")
    grader = _BatchGrader(course, submissions_dir, out_dir, log)
    rows = [row for student in find_students(submissions_dir) for assignment in chosen
            for row in grader.grade(assignment, student)]
    result = GradeResult(rows, out_dir, db_url, setup_seconds, grader.seconds)
    write_csv(rows, result.csv_path)
    return result
