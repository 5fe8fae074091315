"""What a graded cell earned and why: the rows of ``grades.csv`` and the gradebook table.

The score comes from the gradebook (:class:`Mark`: the autograde, or the grader's manual score
from formgrader, which wins); the *reason* comes from the grader's judgement (the failing case,
problem and hint of a check, or why the notebook's process stopped). The self-check reads
reasons from a cell's error output instead (:func:`cell_failure`).
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from nbformat import NotebookNode

#: the status of a graded cell.
OK, FAILED, ERROR, MANUAL, BLANK, MISSING = "ok", "failed", "error", "manual", "blank", "missing"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: what a cell interrupted at the timeout shows: the kernel's KeyboardInterrupt, or nbclient's
#: own error when the kernel did not answer the interrupt.
_TIMEOUT_ENAMES = ("CellTimeoutError", "KeyboardInterrupt")


@dataclass(frozen=True)
class GradeRow:
    """One graded cell of one student's notebook: a row of ``grades.csv``."""

    student: str
    assignment: str
    notebook: str
    grade_id: str
    score: float | None
    """None while a written answer waits for manual grading."""
    max_score: float
    status: str
    reason: str = ""
    late_penalty: float = 0.0
    """points this cell loses to the late penalty (its share of the submission's penalty:
    the penalty is a share of the points earned, so each cell loses that share of its score)."""
    time_source: str = ""
    """with a due date: where the submission's time came from (``timestamp.txt``,
    ``receipt``, ``file time`` or ``arrival``) and what was flagged
    (:attr:`autograder.records.late.SubmissionTime.column`); "" without a due date."""

    @property
    def net_score(self) -> float:
        """The score after the late penalty (0 while waiting for manual grading)."""
        return (self.score or 0.0) - self.late_penalty


CSV_FIELDS = tuple(f.name for f in fields(GradeRow))


@dataclass(frozen=True)
class Mark:
    """A graded cell as the gradebook holds it: what formgrader shows and edits."""

    auto_score: float | None = None
    manual_score: float | None = None
    """the grader's score; when set it replaces the autograde (as in nbgrader)."""
    extra_credit: float | None = None
    comment: str = ""
    """the grader's comment on the cell ("" for none)."""
    max_score: float = 0.0

    @property
    def score(self) -> float | None:
        """The score as nbgrader's ``Grade.score``: manual over auto, plus extra credit.

        None when neither is set (a written answer waiting for manual grading).
        """
        base = self.manual_score if self.manual_score is not None else self.auto_score
        return None if base is None else base + (self.extra_credit or 0.0)

    @property
    def overridden(self) -> bool:
        """True when the grader set a score that differs from the autograde."""
        return (self.manual_score is not None and self.auto_score is not None
                and self.manual_score != self.auto_score)

    def override_note(self) -> str:
        """``autograded 0, set by hand to 2`` when :attr:`overridden`, else ``""``."""
        if not self.overridden:
            return ""
        return f"autograded {self.auto_score:g}, set by hand to {self.manual_score:g}"


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def write_csv(rows: Iterable[GradeRow], path: Path,
              columns: Sequence[str] = CSV_FIELDS) -> Path:
    """Write ``rows`` (already in their final order) as ``grades.csv``, or only ``columns``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8", errors="replace") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            values = asdict(row)
            writer.writerow(_number(values[c]) if isinstance(values[c], float | int | None)
                            else values[c] for c in columns)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    """Read a ``grades.csv`` back as dictionaries (for tests and tools)."""
    with Path(path).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# ----------------------------------------------------------------------------- reasons


def _clean(text: str) -> str:
    return _ANSI.sub("", str(text)).strip()


def check_failure_reason(message: str) -> str:
    """Condense a ``CheckFailed`` report to one line: failing case, problem and hint."""
    lines = [_clean(line) for line in message.splitlines() if line.strip()]
    parts = {}
    for line in lines[1:]:
        key, sep, value = line.partition(": ")
        if sep and key in ("case", "problem", "hint"):
            parts[key] = value.strip()
    if "problem" not in parts:
        return lines[0] if lines else "CheckFailed"
    reason = f"{parts['case']}: {parts['problem']}" if "case" in parts else parts["problem"]
    return f"{reason} (hint: {parts['hint']})" if "hint" in parts else reason


def error_reason(ename: str, evalue: str, timeout: int | None = None) -> str:
    """One line for an error output of a cell."""
    if ename == "CheckFailed":
        return check_failure_reason(evalue)
    if ename in _TIMEOUT_ENAMES:
        limit = f" {timeout} s" if timeout else ""
        return f"CellTimeoutError: interrupted at the{limit} per-cell time limit"
    first = (_clean(evalue).splitlines() or [""])[0]
    return f"{ename}: {first}" if first else ename


def cell_failure(cell: NotebookNode, timeout: int | None = None) -> tuple[str, str] | None:
    """``(status, reason)`` of an executed code cell that failed, or None if it did not."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            status = FAILED if output.get("ename") == "CheckFailed" else ERROR
            return status, error_reason(output.get("ename", ""), output.get("evalue", ""), timeout)
    return None


# ----------------------------------------------------------------------------- table


@dataclass(frozen=True)
class Total:
    """One student's total on one assignment."""

    score: float
    """the points earned, after the late penalty."""
    max_score: float
    pending: bool
    """True while some written answer waits for manual grading."""
    late_penalty: float = 0.0
    """the points the late penalty took off (already out of ``score``)."""

    def __str__(self) -> str:
        return f"{self.score:g}/{self.max_score:g}{'*' if self.pending else ''}"


def totals(rows: Iterable[GradeRow]) -> dict[tuple[str, str], Total]:
    """(student, assignment) -> the total of its rows."""
    out: dict[tuple[str, str], Total] = {}
    for row in rows:
        key = (row.student, row.assignment)
        old = out.get(key, Total(0.0, 0.0, False))
        out[key] = Total(old.score + row.net_score, old.max_score + row.max_score,
                         old.pending or row.score is None, old.late_penalty + row.late_penalty)
    return out


def format_table(rows: Sequence[GradeRow]) -> str:
    """Return the gradebook as a text table: a line per student, a column per assignment."""
    by_key = totals(rows)
    students = sorted({s for s, _ in by_key})
    assignments = sorted({a for _, a in by_key})
    header = ["student", *assignments, "total"]
    body = []
    for student in students:
        cells = [by_key.get((student, a)) for a in assignments]
        present = [c for c in cells if c is not None]
        overall = Total(sum(c.score for c in present), sum(c.max_score for c in present),
                        any(c.pending for c in present))
        body.append([student, *(str(c) if c else "-" for c in cells), str(overall)])
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
             for r in [header, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if any(t.pending for t in by_key.values()):
        lines.append("* written answers still to be graded by hand "
                     "(python -m autograder formgrader DIR)")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class CellGrade:
    """What one graded cell (a test cell or a written answer) earned, and why."""

    grade_id: str
    kind: str
    """``"check"`` or ``"written"``."""
    score: float | None
    """None while a written answer waits for manual grading."""
    max_score: float
    status: str
    reason: str = ""
    reports: tuple[str, ...] = ()
    """the full report of each check of the cell that failed (case, expected, got, hint)."""
    answer: str = ""
    """a written answer's :func:`answer_digest` (blank ones too); "" for a check, or when
    there was no usable notebook. A hand grade counts only for the answer it was given to."""


def answer_digest(text: str) -> str:
    """The SHA-256 of a written answer's text, blanks at its ends ignored.

    Stored with each graded result, so that a regrade can tell whether the student changed
    the answer a hand grade was given to (nbgrader's gradebook keeps no submitted source).

    Examples:
        >>> answer_digest(" Yes. ") == answer_digest("Yes.")
        True
        >>> answer_digest("Yes.") == answer_digest("No.")
        False

    """
    return hashlib.sha256(text.strip().encode("utf-8", "replace")).hexdigest()


@dataclass
class NotebookResult:
    """Everything the batch needs to record one graded notebook."""

    student: str
    assignment: str
    notebook: str
    cells: list[CellGrade]
    status: str | None = None
    """``missing`` when the file could not be used at all; None otherwise."""
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    """what the restore put back or ignored."""
    cell_errors: list[str] = field(default_factory=list)
    """the student's own cells that raised or timed out, one line each."""
    ended: str = ""
    """why the notebook's process stopped early (``timeout: ...``, ``memory: ...``, ...)."""
    output: str = ""
    """the (capped) stdout and stderr of the notebook's process."""
    restored: NotebookNode | None = None
    seconds: float = 0.0
    time_source: str = ""
    """where the submission's time came from, with the flags (``grades.csv``'s column)."""
    time_note: str = ""
    """the same in words, for the feedback's sentence on lateness."""

    @property
    def score(self) -> float:
        """The autograded points earned."""
        return sum(c.score or 0.0 for c in self.cells)

    @property
    def max_score(self) -> float:
        """The points at stake, written answers included."""
        return sum(c.max_score for c in self.cells)
