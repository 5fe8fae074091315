"""A student's self-check: run a notebook and report what each check cell would earn.

The notebook runs top to bottom in a local Jupyter kernel (this Python, the course on the path),
check cells included, with only the visible cases (``NBGRADER_EXECUTION`` unset; with
``skip_slow`` it is ``validate``, which skips the training demos guarded by ``is_nbgrader()``
but still runs no hidden case). It is the student's own tool on their own machine, so it runs
in the student's process like the in-notebook ``check()``; the grader never does (see
:mod:`autograder.grading.batch`), but it judges with the same code, so a check that passes here
fails there only on a hidden case. In a kernel a failed ``check()`` does not raise (so that
Run All reaches every check): it displays its outcome as :data:`~autograder.judge.CHECK_MIME`
data, which is what scores a check cell here; a cell without it (e.g. under ``validate``, where
``check()`` raises as nbgrader expects) earns its points when it raises no error.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from nbformat import NotebookNode

from autograder.course.directory import (
    DEFAULT_STDERR_PATTERN,
    DEFAULT_TIMEOUT,
    KERNEL_NAME,
    TRANSPORT_ENCRYPTION,
    jupyter_environment,
    write_kernelspec,
)
from autograder.grading.submissions import load_notebook
from autograder.judge import CHECK_MIME
from autograder.records.report import ERROR, FAILED, MANUAL, OK, cell_failure, error_reason

#: what a timed-out cell gets as its error output (the same as nbgrader's ``Execute``).
TIMEOUT_ERROR = {
    "ename": "CellTimeoutError",
    "evalue": "",
    "traceback": ["\x1b[0;31mCellTimeoutError\x1b[0m: No reply from kernel before timeout"],
}


@dataclass(frozen=True)
class CellReport:
    """The self-check outcome of one graded cell."""

    grade_id: str
    points: float | None
    """None for a written answer (graded by hand)."""
    max_points: float
    status: str
    message: str = ""
    """the failure report: the check's summary with its hint, or the error line."""


def execute(nb: NotebookNode, cwd: Path, timeout: int = DEFAULT_TIMEOUT,
            skip_slow: bool = False) -> NotebookNode:
    """Run ``nb`` in the grading kernel (errors do not stop it; a hanging cell is interrupted)."""
    from nbclient import NotebookClient
    from traitlets.config import Config

    client = NotebookClient(
        nb,
        config=Config({"KernelManager": {"transport_encryption": TRANSPORT_ENCRYPTION}}),
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        allow_errors=True,
        interrupt_on_timeout=True,
        error_on_timeout=TIMEOUT_ERROR,
        resources={"metadata": {"path": str(cwd)}},
    )
    with tempfile.TemporaryDirectory(prefix="autograder-kernel-") as data_dir:
        write_kernelspec(Path(data_dir))
        mode = "validate" if skip_slow else None
        with jupyter_environment(Path(data_dir), NBGRADER_EXECUTION=mode):
            client.execute()
    return nb


def _check_outcome(cell: NotebookNode) -> tuple[dict, str] | None:
    """The outcome ``check()`` displayed in ``cell`` and its readable report, if it did."""
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if output.get("output_type") == "display_data" and CHECK_MIME in data:
            report = str(data.get("text/plain", ""))
            return dict(data[CHECK_MIME]), report.replace("\x1b[0;31mCheckFailed\x1b[0m: ", "")
    return None


def _failure_message(cell: NotebookNode, timeout: int) -> str:
    for output in cell.get("outputs", []):
        if output.get("output_type") != "error":
            continue
        if output.get("ename") == "CheckFailed":
            return str(output.get("evalue", "")).strip()
        return error_reason(output.get("ename", ""), output.get("evalue", ""), timeout)
    return ""


def grade_cells(nb: NotebookNode, timeout: int = DEFAULT_TIMEOUT) -> list[CellReport]:
    """Score the grade cells of an executed notebook the way nbgrader's autograder would."""
    from nbgrader.preprocessors import IgnorePattern
    from nbgrader.utils import determine_grade, is_grade

    nb, _ = IgnorePattern(pattern=DEFAULT_STDERR_PATTERN).preprocess(nb, {})
    reports = []
    for cell in nb.cells:
        if not is_grade(cell):
            continue
        grade_id = cell.metadata.nbgrader["grade_id"]
        max_points = float(cell.metadata.nbgrader["points"])
        if cell.cell_type != "code":
            reports.append(CellReport(grade_id, None, max_points, MANUAL))
            continue
        outcome = _check_outcome(cell)
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if outcome is not None and not errors:
            passed = bool(outcome[0].get("passed"))
            reports.append(CellReport(grade_id, max_points if passed else 0.0, max_points,
                                      OK if passed else FAILED, "" if passed else outcome[1]))
            continue
        points, _ = determine_grade(cell)
        if points == max_points:
            status, message = OK, ""
        else:
            failure = cell_failure(cell, timeout)
            status = failure[0] if failure else FAILED
            message = _failure_message(cell, timeout) or "no points (the cell printed no error)"
        reports.append(CellReport(grade_id, points, max_points, status, message))
    return reports


@dataclass(frozen=True)
class SelfCheck:
    """A self-check's outcome: the graded cells, and the student's cells that did not finish."""

    reports: list[CellReport]
    cell_errors: list[str]
    """one line per ungraded code cell that raised or was cut at the time limit."""


def cell_errors(nb: NotebookNode, timeout: int = DEFAULT_TIMEOUT) -> list[str]:
    """``cell N: reason`` for every executed code cell, not a graded one, that failed."""
    from nbgrader.utils import is_grade

    out = []
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code" or is_grade(cell):
            continue
        failure = cell_failure(cell, timeout)
        if failure is not None:
            out.append(f"cell {number}: {failure[1]}")
    return out


def self_check(path: Path, timeout: int = DEFAULT_TIMEOUT,
               skip_slow: bool = False) -> SelfCheck:
    """Load, run and score a student's notebook.

    Raises:
        InvalidNotebook: the file is not a readable notebook.

    """
    nb = execute(load_notebook(path), Path(path).resolve().parent, timeout, skip_slow)
    return SelfCheck(grade_cells(nb, timeout), cell_errors(nb, timeout))


def _indent(text: str, prefix: str = "      ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def format_report(path: Path, reports: list[CellReport], skip_slow: bool = False,
                  errors: list[str] | None = None) -> str:
    """Return the self-check report: a line per graded cell, failures in full, the total.

    ``errors`` (:func:`cell_errors`) are listed after the total: a demo that raised or was
    interrupted at the time limit earns nothing and costs nothing, but its output is missing.
    """
    scope = "visible cases only" + (", training demos skipped" if skip_slow else "")
    lines = [f"Self-check of {path} ({scope}; the grader also runs hidden cases)", ""]
    width = max([len(r.grade_id) for r in reports] + [10])
    for r in reports:
        earned = "-" if r.points is None else f"{r.points:g}"
        mark = {OK: "passed", FAILED: "FAILED", ERROR: "ERROR", MANUAL: "graded by hand"}
        lines.append(f"  {r.grade_id:<{width}}  {earned:>3}/{r.max_points:<3g} {mark[r.status]}")
        if r.message:
            lines.append(_indent(r.message))
    auto = [r for r in reports if r.points is not None]
    manual = sum(r.max_points for r in reports if r.points is None)
    lines += ["", f"Total: {sum(r.points or 0 for r in auto):g}/"
              f"{sum(r.max_points for r in auto):g} autograded points"
              + (f" (+{manual:g} points of written answers graded by hand)" if manual else "")]
    if not reports:
        lines.insert(2, "  (this notebook has no graded cells)")
    if errors:
        lines += ["", f"{len(errors)} of your other cells did not finish (no points depend on "
                      "them, but what they show is missing):"]
        lines += [f"  {e}" for e in errors]
    return "\n".join(lines)
