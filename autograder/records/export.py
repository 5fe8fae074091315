"""Grade exports an LMS or a spreadsheet imports: a Canvas gradebook CSV and a long per-check CSV.

``exports/canvas.csv`` follows the layout of Canvas's gradebook CSV (what Canvas's Grades >
Export writes and Grades > Import reads; Canvas Instructor Guide "How do I import grades in the
Gradebook?", and e.g. Ohio State's "Import a CSV file to Carmen grades" guide, which lists the
required columns): the header starts with the fixed columns ``Student, ID, SIS User ID, SIS Login
ID, Section`` (Canvas finds the student from them), every further column is one assignment
with a submission in the gradebook (a name Canvas does not know becomes a new assignment on
import, so an assignment nobody submitted has no column), and the second row,
``Points Possible``, holds each assignment's points, as in Canvas's own export. One row per
student of the gradebook, the assignment's total after the late penalty in its column. What
we fill in: ``Student`` is ``Last, First`` when the gradebook has the names (formgrader's
Manage Students, or ``nbgrader db student import``), else the student id; the nbgrader student
id goes in ``SIS Login ID`` (on a JupyterHub where students log in with their Canvas login it
is the same); ``ID`` (Canvas's internal number), ``SIS User ID`` and ``Section`` stay empty.
A cell is empty when there is nothing final to import: no submission in the gradebook, or a
written answer still waiting for manual grading.

``exports/checks_long.csv`` has one row per graded cell of every submission (``student,
assignment, grade_id, score, max_score, status, late_penalty``): ``grades.csv`` without the
notebook and the reason, for pivot tables and per-check statistics.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

from autograder.records.report import GradeRow, totals, write_csv

#: the fixed columns a Canvas gradebook CSV starts with.
CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
#: the second row of a Canvas gradebook CSV.
POINTS_POSSIBLE = "Points Possible"
#: the columns of the long per-check export.
LONG_COLUMNS = ("student", "assignment", "grade_id", "score", "max_score", "status",
                "late_penalty")
CANVAS_FILE, LONG_FILE = "canvas.csv", "checks_long.csv"


def write_canvas_csv(rows: Sequence[GradeRow], students: Mapping[str, str],
                     points: Mapping[str, float], path: Path) -> Path:
    """Write the Canvas gradebook CSV (see the module docstring).

    Args:
        rows: every graded cell (``grades.csv``'s rows).
        students: student id -> display name; one CSV row each, sorted by id.
        points: assignment id -> points possible; one column each, sorted by id.
        path: the file to write.

    """
    by_key = totals(rows)
    assignments = sorted(points)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8", errors="replace") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow([*CANVAS_COLUMNS, *assignments])
        blank = [""] * (len(CANVAS_COLUMNS) - 1)
        writer.writerow([POINTS_POSSIBLE, *blank, *(f"{points[a]:g}" for a in assignments)])
        for student in sorted(students):
            cells = []
            for assignment in assignments:
                total = by_key.get((student, assignment))
                cells.append("" if total is None or total.pending else f"{total.score:g}")
            writer.writerow([students[student], "", "", student, "", *cells])
    return path


def write_all(rows: Sequence[GradeRow], students: Mapping[str, str],
              points: Mapping[str, float], out_dir: Path) -> list[Path]:
    """Write ``out_dir/canvas.csv`` and ``out_dir/checks_long.csv``."""
    out_dir = Path(out_dir)
    return [write_canvas_csv(rows, students, points, out_dir / CANVAS_FILE),
            write_csv(rows, out_dir / LONG_FILE, LONG_COLUMNS)]
