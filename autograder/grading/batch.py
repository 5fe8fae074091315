"""Autograde a batch of submissions: gradebook, feedback and ``grades.csv``.

nbgrader keeps doing what it is good at: the course directory, ``generate_assignment`` (which
records the assignment, its notebooks and graded cells in the gradebook), the gradebook itself
(SQLite by default, any SQLAlchemy URL with ``--db``) and formgrader for the written answers. It
no longer executes anything: nbgrader's ``autograde`` runs student code with the instructor's
rights and judges it inside the student's own kernel (a solution cell can turn every later test
cell into ``pass``). Instead each notebook is graded by
:func:`autograder.grading.notebook.grade_notebook`: the student's code runs in a sandboxed process
of its own and the grader judges the outputs of the student's functions in its own process.

The batch grades the assignments some student in the submissions directory handed in (or
those asked for: an assignment nobody submitted would give everyone a 0), and for each
student and assignment (in parallel with ``workers`` > 1 or on a Dask cluster,
:mod:`autograder.grading.executors`, a progress bar on stderr naming the notebooks being graded
and for how long; results are recorded in a fixed order, each submission once, so they do not
depend on the number of workers or where they ran):

* grades the notebook (a missing, corrupt or huge file scores 0 with the reason; a notebook
  that runs past its budget is stopped, the checks judged before keeping their points);
* records the scores in the gradebook (``auto_score`` of each graded cell; written answers are
  left for manual grading, blank ones get 0 like nbgrader does), keeping any manual grade an
  instructor already gave unless the student has since changed the written answer it was
  given to (:func:`record`), and the submission time: the latest of ``timestamp.txt``, the
  notebook's own modification time and the instructor's receipt, or without a readable
  ``timestamp.txt`` its arrival on disk (:func:`autograder.records.late.submission_time`);
* replaces that submission's files: the submitted and the restored, annotated notebook under
  ``course/submitted`` and ``course/autograded`` for formgrader, both sanitised first
  (:mod:`autograder.records.sanitise`: no script in a written answer or an output reaches the
  instructor's browser), ``logs/<student>__<assignment>
  .log`` (what was restored, errors, the captured output) and ``.json`` (the result the
  feedback is built from, :mod:`autograder.records.outputs`);
* and finally rebuilds, from the gradebook, the feedback of what it graded and ``grades.csv``
  and the exports of everything (:func:`autograder.records.outputs.publish`), and the
  similarity report of every submission graded in the output directory
  (:func:`similarity_section`).

Every step after grading has its own error handling (:func:`take`) and works on text cleaned
of lone surrogates and terminal escapes (:mod:`autograder.records.text`): one submission, however
malformed its output, costs only its own files, and the batch ends with everyone's rows.

Re-grading is incremental: a run replaces what it grades and keeps the rest. Grading one
assignment (``assignments``) leaves the others' grades, feedback and files as they are; a
student who has no directory in ``submissions_dir`` keeps every earlier grade; a student whose
directory lacks an assignment keeps an earlier grade of it (and scores 0, "no submission", when
there is none yet). Nothing is deleted wholesale: a formgrader may be serving ``course/``.
"""

from __future__ import annotations

import json
import multiprocessing
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat

from autograder.box.sandbox import Sandbox
from autograder.course.build import CHECK_TAG, WRITTEN_TAG, notebook_text, write_notebook
from autograder.course.directory import Course, GradingSettings
from autograder.course.release import (
    Assignment,
    generate_assignments,
    load_assignments,
    released_notebook,
)
from autograder.grading.executors import Executor, LocalPool, Log, Progress, make_sandbox
from autograder.grading.notebook import Job, NotebookResult
from autograder.grading.submissions import (
    find_students,
    ignored_entries,
    read_nofollow,
    stat_nofollow,
    submission_parts,
)
from autograder.paths import SOLUTIONS_DIR, assignment_id, source_files
from autograder.records.late import (
    ARRIVAL,
    TIMESTAMP_FILE,
    FileTimes,
    LatePolicy,
    SubmissionTime,
    read_receipts,
    submission_time,
    timestamp_from_text,
)
from autograder.records.outputs import (
    load_result,
    log_path,
    publish,
    result_path,
    save_result,
)
from autograder.records.report import ERROR, GradeRow, Total, totals
from autograder.records.sanitise import sanitise_notebook
from autograder.records.text import clean_result, safe_text


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class GradeResult:
    """What a grading run produced."""

    rows: list[GradeRow]
    """every row of ``grades.csv``: this run's and the earlier ones the gradebook keeps."""
    out_dir: Path
    db_url: str
    setup_seconds: float = 0.0
    """wall time of building the sources and generating the assignments."""
    seconds: dict[tuple[str, str], float] = field(default_factory=dict)
    """(student, assignment) -> wall time of grading that notebook (in its worker); the keys
    are what this run graded."""
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


def record(gb: Any, assignment: Assignment, result: NotebookResult,
           timestamp: datetime | None = None, earlier: Mapping[str, str] | None = None) -> None:
    """Store one notebook's grades in the gradebook.

    A manual grade already in the gradebook (formgrader) is kept and wins over the autograde,
    as in nbgrader; the cell is then flagged for review. A hand grade counts only for the
    answer it was given to, though: where ``earlier`` (grade id -> the
    :attr:`~autograder.records.report.CellGrade.answer` of the result graded before) shows that
    the student changed a written answer, its manual score is cleared, so that the answer is
    to be graded again everywhere, and the grader's comment is kept, marked as about the
    earlier answer (:func:`about_earlier_answer`). ``timestamp`` is the submission time (None:
    unknown, never late).
    """
    earlier = earlier or {}
    gb.update_or_create_student(result.student)
    gb.update_or_create_submission(assignment.id, result.student, timestamp=timestamp)
    grades = [gb.find_grade(cell.grade_id, assignment.notebook, assignment.id, result.student)
              for cell in result.cells]
    for cell, grade in zip(result.cells, grades, strict=True):
        if cell.kind == WRITTEN_TAG and earlier.get(cell.grade_id, cell.answer) != cell.answer:
            comment = gb.find_comment(cell.grade_id, assignment.notebook, assignment.id,
                                      result.student)
            comment.manual_comment = about_earlier_answer(
                comment.manual_comment, grade.manual_score, grade.extra_credit, cell.max_score)
            grade.manual_score = grade.extra_credit = None
        grade.auto_score = cell.score
        grade.needs_manual_grade = grade.manual_score is not None or cell.score is None
    for info in assignment.cells:
        if info.kind == "solution" or info.kind == "written":
            comment = gb.find_comment(info.grade_id, assignment.notebook, assignment.id,
                                      result.student)
            blank = next((c.status for c in result.cells if c.grade_id == info.grade_id),
                         None) in ("blank", "missing")
            comment.auto_comment = "No response." if blank else None
    gb.db.commit()


#: how a grader's comment on a written answer the student has since changed begins.
EARLIER_ANSWER = "[on an earlier answer"


def about_earlier_answer(comment: str | None, score: float | None, extra: float | None,
                         max_score: float) -> str | None:
    """A grader's comment marked as about the answer the student has since replaced.

    The hand score it came with is named in the mark, since the gradebook no longer holds it.
    A comment already marked, or none, is returned as it is.

    Examples:
        >>> about_earlier_answer("Name the contraction.", 1.0, None, 3.0)
        '[on an earlier answer, graded 1/3 by hand] Name the contraction.'
        >>> about_earlier_answer(None, 1.0, None, 3.0) is None
        True

    """
    if not comment or comment.startswith(EARLIER_ANSWER):
        return comment
    graded = "" if score is None else f", graded {score + (extra or 0.0):g}/{max_score:g} by hand"
    return f"{EARLIER_ANSWER}{graded}] {comment}"


def earlier_answers(out_dir: Path, student: str, assignment: str) -> dict[str, str]:
    """Grade id -> the written answer's digest the stored result of a submission holds.

    Empty when there is no stored result, or one from before digests were stored: then no
    answer counts as changed.
    """
    path = result_path(out_dir, student, assignment)
    if not path.is_file():
        return {}
    try:
        cells = load_result(path).cells
    except ValueError:
        return {}
    return {c.grade_id: c.answer for c in cells if c.kind == WRITTEN_TAG and c.answer}


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


def _sanitised(data: bytes | None, log: list[str]) -> bytes | None:
    """The submitted notebook as formgrader may show it (None: not a notebook's JSON)."""
    if data is None:
        return None
    try:
        nb = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        log.append(f"note: the submitted notebook was not copied to course/ ({exc})")
        return None
    return notebook_text(sanitise_notebook(nb)).encode("utf-8")


def _replace(data: bytes | None, target: Path) -> None:
    """Write ``data`` to ``target``, or with None remove a stale ``target`` (files only)."""
    if data is None:
        target.unlink(missing_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _submitted_bytes(submissions_dir: Path, parts: Sequence[str], course: Course, log: list[str],
                     quiet_if_absent: bool = False) -> bytes | None:
    """A submitted file, read again as grading read it: a link swapped in is not followed."""
    try:
        return read_nofollow(submissions_dir, parts,
                             max_bytes=int(course.settings.max_notebook_mb * 2**20))
    except FileNotFoundError:
        if not quiet_if_absent:
            log.append(f"note: {'/'.join(parts)} was not copied to course/ (not found)")
    except (OSError, ValueError) as exc:
        log.append(f"note: {'/'.join(parts)} was not copied to course/ ({exc})")
    return None


def _write_files(course: Course, out_dir: Path, submissions_dir: Path, assignment: Assignment,
                 result: NotebookResult) -> None:
    """Replace this submission's files in ``course/`` and ``logs/`` (feedback: ``publish``)."""
    student = result.student
    log = [f"{student} / {assignment.id}: {result.score:g}/{result.max_score:g} "
           f"({result.seconds:.1f} s)"]
    notebook = _submitted_bytes(submissions_dir, submission_parts(
        student, assignment.id, assignment.notebook), course, log)
    annotated = _annotated(result) if notebook is not None else None
    submitted = course.path("submitted", student, assignment.id, assignment.notebook)
    autograded = course.path("autograded", student, assignment.id, assignment.notebook)
    _replace(_sanitised(notebook, log) if annotated is not None else None, submitted)
    if annotated is None:
        autograded.unlink(missing_ok=True)
    else:
        write_notebook(sanitise_notebook(annotated), autograded)
    # formgrader counts a submission as autograded when the timestamps of both copies match
    stamp = (_submitted_bytes(submissions_dir, (student, assignment.id, TIMESTAMP_FILE),
                              course, log, quiet_if_absent=True)
             if annotated is not None else None)
    for copy in (submitted, autograded):
        _replace(stamp, copy.parent / TIMESTAMP_FILE)
    if result.status:
        log.append(f"not graded: {result.reason}")
    if result.ended:
        log.append(f"stopped: {result.ended}")
    log += [f"note: {n}" for n in result.notes] + [f"cell: {e}" for e in result.cell_errors]
    log += [f"{c.grade_id}: {c.status} {c.reason}".rstrip() for c in result.cells]
    log += ["", "---- output of the notebook's process (capped) ----", result.output]
    path = log_path(out_dir, student, assignment.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    # no escape sequence or control character reaches an instructor's terminal (`cat`)
    path.write_text(safe_text("\n".join(log)), encoding="utf-8", errors="replace")


def _submission_time(submissions_dir: Path, result: NotebookResult,
                     receipts: dict[tuple[str, str], datetime] | None,
                     now: datetime) -> SubmissionTime:
    """When this submission counts as submitted (:func:`autograder.records.late.submission_time`).

    Read here, in the grader's process: ``timestamp.txt`` (the student's claim) and the times of
    the notebook file on this disk, both without following a link.
    """
    parts = (result.student, result.assignment, TIMESTAMP_FILE)
    claim, problem = None, ""
    try:
        text = read_nofollow(submissions_dir, parts, max_bytes=4096).decode("utf-8", "replace")
        claim = timestamp_from_text(text, TIMESTAMP_FILE)
    except FileNotFoundError:
        problem = "no timestamp.txt"
    except (ValueError, OSError) as exc:
        problem = f"timestamp.txt unreadable ({safe_text(exc)[:200]})"
    files = None
    try:
        info = stat_nofollow(submissions_dir, submission_parts(
            result.student, result.assignment, result.notebook))
        files = FileTimes(info.st_mtime, info.st_ctime)
    except (ValueError, OSError):
        pass  # no usable notebook: nothing to date it by (it scores 0 anyway)
    receipt = None if receipts is None else receipts.get((result.student, result.assignment))
    return submission_time(claim, problem, files, receipt=receipt,
                           receipts_given=receipts is not None, now=now)


def _failed(result: NotebookResult, reason: str) -> NotebookResult:
    """``result`` with every cell at 0 and ``reason`` (the grader could not record it)."""
    from dataclasses import replace

    cells = [replace(c, score=0.0, status=ERROR, reason=reason, reports=())
             for c in result.cells]
    return NotebookResult(result.student, result.assignment, result.notebook, cells, ERROR,
                          reason, seconds=result.seconds)


def take(gb: Any, course: Course, out_dir: Path, submissions_dir: Path, assignment: Assignment,
         result: NotebookResult, when: SubmissionTime | None, log: Log) -> None:
    """Record one graded notebook: gradebook, ``course/`` and ``logs/``; never raises.

    Each step has its own error handling, so one submission (whatever its text) or one
    failing write costs only that submission's files, and the batch goes on. A gradebook
    record that fails is replaced by one with every cell at 0 and the reason, so the student
    still has their rows.
    """
    who = f"{result.student}/{result.assignment}"

    def warn(step: str, exc: BaseException) -> None:
        log(safe_text(f"  warning: {who}: {step} failed ({type(exc).__name__}: {exc})")[:500])

    try:
        clean_result(result)
    except Exception as exc:  # noqa: BLE001 - its text then goes through the writers' handlers
        warn("cleaning its text", exc)
    try:
        earlier = earlier_answers(out_dir, result.student, result.assignment)
    except Exception as exc:  # noqa: BLE001 - then no hand grade counts as out of date
        warn("reading its earlier result", exc)
        earlier = {}
    try:
        record(gb, assignment, result, when.time if when is not None else None, earlier)
    except Exception as exc:  # noqa: BLE001 - one submission must not stop the batch
        warn("recording in the gradebook", exc)
        gb.db.rollback()
        reason = f"error: the grader could not record this notebook ({type(exc).__name__})"
        result = _failed(result, reason)
        try:
            record(gb, assignment, result, when.time if when is not None else None, earlier)
        except Exception as again:  # noqa: BLE001
            warn("recording it as failed", again)
            gb.db.rollback()
    try:
        _write_files(course, out_dir, submissions_dir, assignment, result)
    except Exception as exc:  # noqa: BLE001
        warn("writing its log and course files", exc)
    try:
        save_result(result, result_path(out_dir, result.student, result.assignment))
    except Exception as exc:  # noqa: BLE001 - its rows then come from the gradebook alone
        warn("storing its result", exc)


# ----------------------------------------------------------------------------- the batch


def _submitted(submissions_dir: Path, student: str, assignment: str) -> bool:
    """True when the student's directory holds the assignment's directory."""
    return (submissions_dir / student / assignment).is_dir()


def submitted_assignments(submissions_dir: Path, assignments: Sequence[Assignment]
                          ) -> tuple[list[Assignment], list[Assignment]]:
    """``assignments`` split into those some student submitted in ``submissions_dir`` and the rest.

    A run grades only the first unless told which (``--assignments``): an assignment nobody
    handed in would otherwise give every student a 0, "no submission", and a column of zeros
    in ``canvas.csv`` (issue 22).
    """
    students = find_students(submissions_dir)
    handed_in = [a for a in assignments
                 if any(_submitted(submissions_dir, s, a.id) for s in students)]
    return handed_in, [a for a in assignments if a not in handed_in]


def _jobs(submissions_dir: Path, chosen: Sequence[Assignment], releases: dict[str, Any],
          settings: GradingSettings, sandbox: Sandbox, db_url: str, course: Course,
          log: Log) -> list[Job]:
    """One job per student directory and assignment, but keep what the batch does not hold.

    A student directory without the assignment's directory keeps an earlier grade of it (a
    batch of only the students to regrade, or only the assignment to regrade); without one it
    is graded (and scores 0, "no submission").
    """
    from nbgrader.api import Gradebook

    from autograder.judge.core import grading_seed

    with course.environment(), Gradebook(db_url) as gb:
        earlier = {(s.student.id, a.id) for a in chosen
                   for s in gb.find_assignment(a.id).submissions}
    seed = grading_seed() if settings.seed is None else settings.seed
    jobs, kept = [], 0
    for student in find_students(submissions_dir):
        for a in chosen:
            if (student, a.id) in earlier and not _submitted(submissions_dir, student, a.id):
                kept += 1
                continue
            jobs.append(Job(student, a.id, a.notebook, submissions_dir, releases[a.id],
                            settings, seed, sandbox))
    if kept:
        log(f"keeping {kept} earlier grade(s) of students whose directory lacks the assignment")
    return jobs


def _dated(submissions_dir: Path, result: NotebookResult,
           receipts: dict[tuple[str, str], datetime] | None, now: datetime,
           log: Log) -> SubmissionTime:
    """:func:`_submission_time`, noted on ``result``; fails closed (dated ``now``, flagged)."""
    try:
        when = _submission_time(submissions_dir, result, receipts, now)
    except Exception as exc:  # noqa: BLE001 - fail closed: dated now, and flagged
        log(safe_text(f"  warning: {result.student}/{result.assignment}: no "
                      f"submission time ({type(exc).__name__}: {exc})")[:500])
        when = SubmissionTime(now, ARRIVAL, ("no readable time",),
                              ("no time could be read; dated when graded",))
    result.time_source, result.time_note = when.column, when.explained
    return when


def _result_line(result: NotebookResult, when: SubmissionTime, policy: LatePolicy) -> str:
    """The batch's log line of one graded notebook: its total, time and what went wrong."""
    pending = any(c.score is None for c in result.cells)
    total = Total(result.score, result.max_score, pending)
    note = f"  [{result.status}: {result.reason}]" if result.status else ""
    note += f"  [stopped: {result.ended}]" if result.ended else ""
    if when.flags and result.assignment in policy.due:
        note += f"  [time: {when.column}]"
    return safe_text(f"  {result.student:<12} {result.assignment:<14} {str(total):>10}  "
                     f"({result.seconds:.1f} s){note}")


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
    late_policy: Path | None = None,
    receipts: Path | None = None,
    executor: Executor | None = None,
) -> GradeResult:
    """Autograde every student directory of ``submissions_dir`` into ``out_dir``.

    Re-grading into the same ``out_dir`` replaces what this run grades and keeps the rest
    (see the module docstring).

    Args:
        submissions_dir: ``<student>/<assignment>/<notebook>.ipynb`` files (and nbgrader's
            ``timestamp.txt`` next to them, for late submissions).
        out_dir: where ``grades.csv``, ``feedback/``, ``logs/``, ``course/``, ``exports/`` and
            the default gradebook go.
        db_url: the gradebook's SQLAlchemy URL (default ``sqlite:///OUT/gradebook.db``). It is
            kept across runs, so manual grades survive a re-run.
        settings: time limit per step, grading seed, resource limits, largest notebook.
        assignments: grade these assignment ids, submitted or not (default: every source
            some student in ``submissions_dir`` submitted).
        solutions_dir: the instructor sources.
        log: receives one line per graded notebook (the progress bar goes to stderr).
        workers: notebooks graded at once (each in its own process and sandbox).
        unsandboxed: run student code without the sandbox (own process and rlimits only).
        sandbox: use this sandbox instead of detecting one (tests, benchmarks).
        late_policy: a late policy file (:mod:`autograder.records.late`), kept as ``OUT/late.toml``
            for later runs; default: the kept one, if any.
        receipts: the instructor's own record of when each submission arrived (a CSV
            ``student,assignment,received``, :func:`autograder.records.late.read_receipts`);
            a submission is then never earlier than its receipt.
        executor: where the notebooks are graded (default: ``LocalPool(workers)``; a
            :class:`~autograder.grading.executors.DaskCluster` for a cluster). It is opened
            before anything is written and closed at the end.

    Returns:
        The rows of ``grades.csv`` (sorted by student, assignment, cell order).

    Raises:
        SandboxUnavailable: no sandbox can be built here and ``unsandboxed`` is not set.
        SchedulerUnreachable: ``executor`` is a cluster whose scheduler did not answer.

    """
    from nbgrader.api import Gradebook

    executor = executor or LocalPool(workers)
    executor.open()  # a cluster that does not answer stops the run before anything is written
    try:
        start = time.perf_counter()
        submissions_dir, out_dir = Path(submissions_dir).resolve(), Path(out_dir).resolve()
        if not submissions_dir.is_dir():
            raise FileNotFoundError(f"no submissions directory {submissions_dir}")
        settings = settings or GradingSettings()
        known = {assignment_id(p) for p in source_files(solutions_dir)}
        policy = LatePolicy.for_output(out_dir, late_policy, known=known)
        receipt_times = read_receipts(receipts) if receipts is not None else None
        sandbox = sandbox or make_sandbox(settings, unsandboxed)
        log(f"student code runs {sandbox.describe()}")
        out_dir.mkdir(parents=True, exist_ok=True)
        db_url = db_url or default_db_url(out_dir)
        chosen = load_assignments(solutions_dir, assignments)
        if assignments is None:
            chosen, nobody = submitted_assignments(submissions_dir, chosen)
            if nobody:
                log(f"not grading {len(nobody)} assignment(s) nobody submitted here: "
                    f"{', '.join(a.id for a in nobody)} (name them with --assignments to grade "
                    "them anyway: every student then scores 0 on them)")
        course = Course.open(out_dir / "course", db_url, settings)
        generated = generate_assignments(course, chosen, only_changed=True)
        log(f"{len(chosen)} assignment(s) in {course.root}"
            + (f" (generated: {', '.join(generated)})" if generated else " (unchanged)"))
        releases = {a.id: released_notebook(course, a) for a in chosen}
        setup_seconds = time.perf_counter() - start
        for name in ignored_entries(submissions_dir):
            log(f"  warning: ignoring {submissions_dir / name} (not a student directory)")
        jobs = _jobs(submissions_dir, chosen, releases, settings, sandbox, db_url, course, log)
        by_id = {a.id: a for a in chosen}
        seconds: dict[tuple[str, str], float] = {}
        log(f"grading {len(jobs)} notebook(s) with {executor.describe()}")
        now = datetime.now(UTC).replace(tzinfo=None)
        events = multiprocessing.get_context("spawn").Queue()
        progress = Progress(len(jobs), events)

        def shown(message: str) -> None:
            progress.write(log, message)

        try:
            with course.environment(), Gradebook(db_url) as gb:
                for result in executor.run(jobs, events):
                    if (result.student, result.assignment) in seconds:
                        # a job a cluster ran twice (a worker lost after it finished)
                        shown(f"  warning: {result.student}/{result.assignment} came back "
                              "twice; the first result is kept")
                        continue
                    seconds[(result.student, result.assignment)] = result.seconds
                    when = _dated(submissions_dir, result, receipt_times, now, shown)
                    take(gb, course, out_dir, submissions_dir, by_id[result.assignment], result,
                         when, shown)
                    shown(_result_line(result, when, policy))
        finally:
            progress.close()
        published = publish(out_dir, db_url, policy, feedback_for=set(seconds), log=log)
        similarity_section(course, out_dir / "similarity", log)
        return GradeResult(published.rows, out_dir, db_url, setup_seconds, seconds,
                           sandbox.describe(), time.perf_counter() - start)
    finally:
        executor.close()


def similarity_section(course: Course, out_dir: Path, log: Log) -> None:
    """Write the similarity report of every submission graded in ``course`` into ``out_dir``.

    It compares the copies the grader keeps under ``course/submitted`` (the code cells as
    submitted) of every student and assignment in the gradebook, not only what this run
    graded: a regrade of one student or one assignment still reports on the whole class
    (:mod:`autograder.grading.similarity`). It reports and never changes a grade: a failure is
    logged and the grading run still ends normally.
    """
    from nbgrader.api import Gradebook

    from autograder.grading import similarity

    try:
        with course.environment(), Gradebook(course.db_url) as gb:
            graded = sorted(a.name for a in gb.assignments if a.submissions)
            students = sorted({s.student.id for a in gb.assignments for s in a.submissions})
        # one notebook per assignment, named like it (autograder.course.release)
        releases = {a: nbformat.read(course.path("release", None, a, a), as_version=4)
                    for a in graded if course.path("release", None, a, a).is_file()}
        report = similarity.analyse(course.root / "submitted", releases, students=students,
                                    max_bytes=int(course.settings.max_notebook_mb * 2**20))
        written = similarity.write(report, out_dir)
    except Exception as exc:  # noqa: BLE001 - a report must never cost the grades
        log(f"warning: no similarity report ({type(exc).__name__}: {exc}); "
            "the grades are unaffected")
        return
    log(f"similarity report: {written.html} and {written.csv.name}: {report.summary()}")
