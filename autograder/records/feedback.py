"""The HTML feedback a student gets for one graded notebook.

It shows, per graded cell, the points and what happened: for a failed check the failing case,
the problem, expected vs. got and the hint (the same report the notebook's ``check`` prints);
for a written answer the grader's score once it is graded by hand; the grader's comment on any
cell, and a score the grader changed by hand (both from the gradebook, as formgrader stored
them); for the student's own cells, the errors and time-outs; why the notebook's process
stopped, if it did; when it was submitted against the due date and the late penalty; and what
the grader restored. It never shows a test's source, a hidden case's inputs or the reference
solution (nbgrader's stock feedback prints the hidden tests).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path

from autograder.records.late import ON_TIME, Lateness
from autograder.records.report import (
    BLANK,
    ERROR,
    FAILED,
    MANUAL,
    MISSING,
    OK,
    CellGrade,
    Mark,
    NotebookResult,
)

_STATUS = {OK: "passed", FAILED: "failed", ERROR: "error", MANUAL: "to be graded by hand",
           BLANK: "no answer", MISSING: "not graded"}
_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }
table { border-collapse: collapse; width: 100%; }
td, th { border-bottom: 1px solid #ddd; padding: .35rem .5rem; text-align: left;
         vertical-align: top; }
.ok, .graded { color: #176317; } .failed, .error, .missing { color: #a11; }
.comment { margin-top: .3rem; padding: .3rem .5rem; background: #eef4ff; }
pre { background: #f6f6f6; padding: .6rem; white-space: pre-wrap; }
"""


def _e(text: object) -> str:
    return html.escape(str(text))


def cell_score(cell: CellGrade, mark: Mark | None) -> float | None:
    """The cell's score as the gradebook has it (a manual score wins); None while pending."""
    if mark is not None and mark.score is not None:
        return mark.score
    return cell.score


def _result(cell: CellGrade, mark: Mark | None) -> tuple[str, str]:
    """(css class, words) of a cell's outcome."""
    if mark is not None and mark.manual_score is not None:
        if cell.kind == "written" or cell.status in (BLANK, MANUAL):
            return "graded", "graded by hand"
        if mark.overridden:
            return cell.status, f"{_STATUS.get(cell.status, cell.status)}; score set by hand"
    return cell.status, _STATUS.get(cell.status, cell.status)


def _why(cell: CellGrade, mark: Mark | None) -> str:
    reason = "" if cell.status == MANUAL else cell.reason
    if mark is not None and cell.kind != "written":
        reason = "; ".join(filter(None, [reason, mark.override_note()]))
    parts = [_e(reason)]
    if mark is not None and mark.comment:
        parts.append(f'<div class="comment"><b>Grader\'s comment:</b> {_e(mark.comment)}</div>')
    return "".join(parts)


def render(result: NotebookResult, marks: Mapping[str, Mark] | None = None,
           late: Lateness = ON_TIME) -> str:
    """The feedback page of one graded notebook.

    Args:
        result: what the grader found.
        marks: cell name -> the gradebook's score and comment (manual grades); a cell that
            is not graded (a solution cell) contributes its comment only. Without it the page
            shows the autograde only.
        late: the submission's lateness; its penalty comes off the points earned.

    """
    marks = marks or {}
    scores = {c.grade_id: cell_score(c, marks.get(c.grade_id)) for c in result.cells}
    earned = sum(s for s in scores.values() if s is not None)
    penalty = late.fraction * earned
    possible = sum(c.max_score for c in result.cells)
    pending = [c for c in result.cells if scores[c.grade_id] is None]
    title = f"{result.assignment}: feedback for {result.student}"
    parts = [
        "<!DOCTYPE html>", '<html><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p><b>Score: {earned - penalty:g} / {possible:g} points.</b>",
    ]
    if pending:
        parts.append(f" Written answers worth {sum(c.max_score for c in pending):g} points "
                     "are still to be graded by hand; they count 0 until then.")
    parts.append("</p>")
    if late.describe():
        parts.append(f"<p>{_e(late.describe(penalty))}</p>")
    if result.status:
        parts.append(f"<p>This submission could not be graded: {_e(result.reason)}. "
                     "Every graded cell scored 0.</p>")
    if result.ended:
        parts.append("<p>The notebook's process was stopped early: "
                     f"<b>{_e(result.ended)}</b>. Checks after that point scored 0.</p>")
    parts += ["<table><tr><th>cell</th><th>points</th><th>result</th><th>why</th></tr>"]
    for cell in result.cells:
        mark = marks.get(cell.grade_id)
        score = scores[cell.grade_id]
        css, words = _result(cell, mark)
        points = "-" if score is None else f"{score:g}"
        parts.append(f'<tr><td>{_e(cell.grade_id)}</td><td>{points} / {cell.max_score:g}</td>'
                     f'<td class="{_e(css)}">{_e(words)}</td>'
                     f"<td>{_why(cell, mark)}</td></tr>")
    parts.append("</table>")
    comments = [(grade_id, mark.comment) for grade_id, mark in marks.items()
                 if grade_id not in scores and mark.comment]
    if comments:
        parts.append("<h2>The grader's comments on your code</h2>")
        parts += [f'<p><b>{_e(grade_id)}</b></p><div class="comment">{_e(comment)}</div>'
                  for grade_id, comment in comments]
    failed = [c for c in result.cells if c.reports]
    if failed:
        parts.append("<h2>What failed</h2>")
        for cell in failed:
            parts.append(f"<h3>{_e(cell.grade_id)}</h3>")
            parts += [f"<pre>{_e(report)}</pre>" for report in cell.reports]
    if result.cell_errors:
        parts.append("<h2>Errors in your own cells</h2><ul>")
        parts += [f"<li>{_e(line)}</li>" for line in result.cell_errors]
        parts.append("</ul>")
    if result.notes:
        parts.append("<h2>Notes from the grader</h2><ul>")
        parts += [f"<li>{_e(note)}</li>" for note in result.notes]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write(result: NotebookResult, path: Path, marks: Mapping[str, Mark] | None = None,
          late: Lateness = ON_TIME) -> Path:
    """Write :func:`render`'s page to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(result, marks, late), encoding="utf-8", errors="replace")
    return path
