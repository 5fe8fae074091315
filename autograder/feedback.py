"""The HTML feedback a student gets for one graded notebook.

It shows, per graded cell, the points and what happened: for a failed check the failing case,
the problem, expected vs. got and the hint (the same report the notebook's ``check`` prints);
for the student's own cells, the errors and time-outs; why the notebook's process stopped, if
it did; and what the grader restored. It never shows a test's source, a hidden case's inputs
or the reference solution (nbgrader's stock feedback prints the hidden tests).
"""

from __future__ import annotations

import html
from pathlib import Path

from autograder.autograde import NotebookResult
from autograder.report import BLANK, ERROR, FAILED, MANUAL, MISSING, OK

_STATUS = {OK: "passed", FAILED: "failed", ERROR: "error", MANUAL: "graded by hand",
           BLANK: "no answer", MISSING: "not graded"}
_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }
table { border-collapse: collapse; width: 100%; }
td, th { border-bottom: 1px solid #ddd; padding: .35rem .5rem; text-align: left;
         vertical-align: top; }
.passed { color: #176317; } .failed, .error, .not.graded { color: #a11; }
pre { background: #f6f6f6; padding: .6rem; white-space: pre-wrap; }
"""


def _e(text: object) -> str:
    return html.escape(str(text))


def render(result: NotebookResult) -> str:
    """The feedback page of one graded notebook."""
    auto = [c for c in result.cells if c.kind == "check"]
    earned = sum(c.score or 0 for c in auto)
    possible = sum(c.max_score for c in auto)
    manual = [c for c in result.cells if c.kind == "written"]
    title = f"{result.assignment}: feedback for {result.student}"
    parts = [
        "<!DOCTYPE html>", '<html><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p><b>Autograded: {earned:g} / {possible:g} points.</b>",
    ]
    if manual:
        parts.append(f" Written answers ({sum(c.max_score for c in manual):g} points) are "
                     "graded by hand.")
    parts.append("</p>")
    if result.status:
        parts.append(f"<p>This submission could not be graded: {_e(result.reason)}. "
                     "Every graded cell scored 0.</p>")
    if result.ended:
        parts.append("<p>The notebook's process was stopped early: "
                     f"<b>{_e(result.ended)}</b>. Checks after that point scored 0.</p>")
    parts += ["<table><tr><th>cell</th><th>points</th><th>result</th><th>why</th></tr>"]
    for cell in result.cells:
        status = _STATUS.get(cell.status, cell.status)
        points = "-" if cell.score is None else f"{cell.score:g}"
        parts.append(f'<tr><td>{_e(cell.grade_id)}</td><td>{points} / {cell.max_score:g}</td>'
                     f'<td class="{_e(status)}">{_e(status)}</td>'
                     f"<td>{_e(cell.reason)}</td></tr>")
    parts.append("</table>")
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


def write(result: NotebookResult, path: Path) -> Path:
    """Write :func:`render`'s page to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(result), encoding="utf-8")
    return path
