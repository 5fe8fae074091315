"""An output directory's score files, rebuilt from the gradebook without running student code.

``grade`` stores, next to each notebook's log, what the feedback needs:
``logs/<student>__<assignment>.json`` holds the grader's judgement of every graded cell (status,
reason, the failure reports), the errors of the student's own cells and the grader's notes:
the content of the feedback page, so never a test's source or a hidden case's input, and not
the notebook's captured output (that stays in the ``.log``, for the instructor).

Everything that depends on scores is then rebuilt from the gradebook, which holds every
assignment and every student graded into it: the autogrades, the manual scores and comments
formgrader stores, the submission times, the due dates and extensions. :func:`publish` writes

* ``grades.csv``: one row per graded cell of every submission in the gradebook (a submission
  graded without a stored result, e.g. by nbgrader itself, gets its scores with status
  ``unknown``), with the cell's share of the late penalty;
* ``feedback/<student>/<assignment>/<notebook>.html`` (:mod:`autograder.records.feedback`), for the
  submissions asked for, or all that have a stored result;
* ``exports/canvas.csv`` and ``exports/checks_long.csv`` (:mod:`autograder.records.export`);
* and, back into the gradebook, each submitted notebook's late penalty in points (nbgrader's
  ``late_submission_penalty``, which ``nbgrader export`` subtracts too).

``grade`` calls it after grading (feedback for what it graded, the CSVs for everything);
``python -m autograder feedback DIR`` calls it for everything, after manual grading.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from autograder.records import export, feedback
from autograder.records.late import Lateness, LatePolicy
from autograder.records.report import MANUAL, CellGrade, GradeRow, Mark, NotebookResult, write_csv
from autograder.records.text import scrub

Log = Callable[[str], None]
#: the version of the stored-result JSON.
RESULT_FORMAT = 1
#: the status of a row whose submission has no stored result.
UNKNOWN = "unknown"


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- stored results


def log_path(out_dir: Path, student: str, assignment: str, suffix: str = ".log") -> Path:
    """``OUT/logs/<student>__<assignment><suffix>`` (the log, or with ``.json`` the result)."""
    return Path(out_dir) / "logs" / f"{student}__{assignment}{suffix}"


def result_path(out_dir: Path, student: str, assignment: str) -> Path:
    """Where a graded notebook's result is stored: next to its log, as JSON."""
    return log_path(out_dir, student, assignment, ".json")


def feedback_path(out_dir: Path, student: str, assignment: str, notebook: str) -> Path:
    """``OUT/feedback/<student>/<assignment>/<notebook>.html``."""
    return Path(out_dir) / "feedback" / student / assignment / f"{notebook}.html"


def save_result(result: NotebookResult, path: Path) -> Path:
    """Store what the feedback needs of ``result`` (not its output or restored notebook)."""
    data = {"format": RESULT_FORMAT, "student": result.student,
            "assignment": result.assignment, "notebook": result.notebook,
            "cells": [asdict(c) for c in result.cells], "status": result.status,
            "reason": result.reason, "notes": result.notes, "cell_errors": result.cell_errors,
            "ended": result.ended, "seconds": result.seconds,
            "time_source": result.time_source, "time_note": result.time_note}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # scrubbed: JSON escapes a lone surrogate as \ud800, which would come back as one
    path.write_text(json.dumps(scrub(data), indent=1) + "\n", encoding="utf-8",
                    errors="replace")
    return path


def load_result(path: Path) -> NotebookResult:
    """Read a result :func:`save_result` stored.

    Raises:
        ValueError: the file is not such a result (with the path and what is wrong).

    """
    try:
        data = scrub(json.loads(Path(path).read_text(encoding="utf-8", errors="replace")))
        if data.pop("format", None) != RESULT_FORMAT:
            raise ValueError(f"not a stored result of format {RESULT_FORMAT}")
        cells = [CellGrade(**{**c, "reports": tuple(c["reports"])}) for c in data.pop("cells")]
        return NotebookResult(cells=cells, **data)
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ValueError(f"{path}: cannot read the stored result ({exc})") from None


# ----------------------------------------------------------------------------- gradebook


@dataclass(frozen=True)
class Graded:
    """One submitted notebook as the gradebook and its stored result describe it."""

    student: str
    assignment: str
    notebook: str
    result: NotebookResult | None
    """the stored result; None when the submission was graded without one."""
    marks: dict[str, Mark]
    """cell name -> its grade and comment in the gradebook (solution cells: comment only)."""
    late: Lateness
    graded_cells: tuple[str, ...] = ()
    """the gradebook's graded cells, for a submission without a stored result."""

    @property
    def rows(self) -> list[GradeRow]:
        """Its rows of ``grades.csv``, in notebook order."""
        if self.result is not None:
            return [self._row(cell, self.marks.get(cell.grade_id)) for cell in self.result.cells]
        reason = "graded without this grader's stored result (no logs/*.json)"
        return [GradeRow(self.student, self.assignment, self.notebook, name,
                         self.marks[name].score, self.marks[name].max_score, UNKNOWN, reason,
                         self.late.fraction * (self.marks[name].score or 0.0),
                         "unknown" if self.late.due is not None else "")
                for name in self.graded_cells]

    @property
    def late_penalty(self) -> float:
        """The points the late penalty takes off this notebook."""
        return sum(row.late_penalty for row in self.rows)

    def _row(self, cell: CellGrade, mark: Mark | None) -> GradeRow:
        status, reason = cell.status, cell.reason
        if mark is not None and mark.manual_score is not None and cell.kind == "written":
            status, reason = MANUAL, ""
        notes = [reason, mark.override_note() if mark and cell.kind != "written" else "",
                 f"grader's comment: {mark.comment}" if mark and mark.comment else ""]
        score = feedback.cell_score(cell, mark)
        source = self.result.time_source if self.result is not None else ""
        return GradeRow(self.student, self.assignment, self.notebook, cell.grade_id, score,
                        cell.max_score, status, "; ".join(filter(None, notes)),
                        self.late.fraction * (score or 0.0),
                        (source or "unknown") if self.late.due is not None else "")


def _marks(notebook: Any) -> dict[str, Mark]:
    comments = {c.name: c.manual_comment or "" for c in notebook.comments}
    marks = {g.name: Mark(g.auto_score, g.manual_score, g.extra_credit,
                          comments.pop(g.name, ""), float(g.max_score or 0.0))
             for g in notebook.grades}
    marks.update({name: Mark(comment=text) for name, text in comments.items()})
    return marks


def _read_submission(out_dir: Path, submission: Any, notebook: Any, policy: LatePolicy,
                     log: Log) -> Graded:
    student, assignment = submission.student.id, submission.assignment.name
    marks = _marks(notebook)
    path = result_path(out_dir, student, assignment)
    result = None
    if path.is_file():
        try:
            result = load_result(path)
        except ValueError as exc:
            log(f"  warning: {exc}; its rows come from the gradebook alone")
        if result is not None and result.notebook != notebook.name:
            result = None
    late = policy.lateness(assignment, submission.timestamp, submission.duedate,
                           submission.total_seconds_late,
                           result.time_note if result is not None else "")
    graded = tuple(sorted(g.name for g in notebook.grades))
    return Graded(student, assignment, notebook.name, result, marks, late, graded)


@dataclass
class Published:
    """What :func:`publish` rebuilt."""

    rows: list[GradeRow]
    """every row of ``grades.csv``, sorted by student, assignment, notebook order."""
    students: dict[str, str] = field(default_factory=dict)
    """student id -> display name (``Last, First`` from the gradebook, else the id)."""
    points: dict[str, float] = field(default_factory=dict)
    """assignment id -> its points possible, for each assignment with a submission."""
    feedback: list[Path] = field(default_factory=list)
    """the feedback pages written."""


def _display_name(student: Any) -> str:
    names = ", ".join(filter(None, [student.last_name, student.first_name]))
    return names or student.id


def _apply_due_dates(gb: Any, policy: LatePolicy) -> None:
    """Write the policy's due dates into the gradebook (where formgrader shows them)."""
    from nbgrader.api import MissingEntry

    for assignment, due in policy.due.items():
        try:
            gb.find_assignment(assignment).duedate = due
        except MissingEntry:
            continue  # not graded yet: set when it is
    gb.db.commit()


def read_gradebook(out_dir: Path, db_url: str, policy: LatePolicy,
                   log: Log = _stderr) -> tuple[list[Graded], Published]:
    """Read every submitted notebook of the gradebook; store the late penalties in it."""
    from nbgrader.api import Gradebook

    from autograder.course.directory import jupyter_environment

    graded: list[Graded] = []
    with jupyter_environment(Path(out_dir) / "course" / "share" / "jupyter"), \
            Gradebook(db_url) as gb:
        _apply_due_dates(gb, policy)
        for assignment in sorted(gb.assignments, key=lambda a: a.name):
            for submission in sorted(assignment.submissions, key=lambda s: s.student.id):
                for notebook in submission.notebooks:
                    one = _read_submission(out_dir, submission, notebook, policy, log)
                    notebook.late_submission_penalty = one.late_penalty
                    graded.append(one)
        gb.db.commit()
        published = Published(
            rows=[], students={s.id: _display_name(s) for s in gb.students},
            # an assignment nobody submitted has no column (an import would create it)
            points={a.name: float(a.max_score or 0.0) for a in gb.assignments
                    if a.submissions})
    graded.sort(key=lambda g: (g.student, g.assignment, g.notebook))
    published.rows = [row for one in graded for row in one.rows]
    return graded, published


# ----------------------------------------------------------------------------- publishing


def publish(out_dir: Path, db_url: str, policy: LatePolicy | None = None, *,
            feedback_for: Collection[tuple[str, str]] | None = None,
            log: Log = _stderr) -> Published:
    """Rebuild ``grades.csv``, the exports and the feedback from the gradebook (no student code).

    Args:
        out_dir: the output directory of ``grade``.
        db_url: its gradebook.
        policy: due dates and late penalty rules (default: none).
        feedback_for: (student, assignment) pairs whose feedback to write; None: every
            submission with a stored result.
        log: receives warnings (an unreadable stored result).

    """
    out_dir = Path(out_dir)
    graded, published = read_gradebook(out_dir, db_url, policy or LatePolicy(), log)
    for one in graded:
        wanted = feedback_for is None or (one.student, one.assignment) in feedback_for
        if one.result is not None and wanted:
            published.feedback.append(feedback.write(
                one.result, feedback_path(out_dir, one.student, one.assignment, one.notebook),
                one.marks, one.late))
    write_csv(published.rows, out_dir / "grades.csv")
    export.write_all(published.rows, published.students, published.points, out_dir / "exports")
    return published


def rebuild(out_dir: Path, *, db_url: str | None = None, late_policy: Path | None = None,
            log: Log = _stderr) -> tuple[Published, str]:
    """``python -m autograder feedback DIR``: :func:`publish` everything of a graded ``DIR``.

    Args:
        out_dir: the output directory of ``grade``.
        db_url: its gradebook (default: the one its course's ``nbgrader_config.py`` names).
        late_policy: a new late policy file (kept as ``DIR/late.toml``); default: the kept one.
        log: receives warnings.

    Returns:
        What was rebuilt, and the gradebook's URL.

    Raises:
        FileNotFoundError: ``out_dir`` holds no graded course.

    """
    from autograder.course.directory import course_db_url, graded_course

    root = graded_course(out_dir)
    db_url = db_url or course_db_url(root)
    policy = LatePolicy.for_output(out_dir, late_policy)
    return publish(out_dir, db_url, policy, log=log), db_url
