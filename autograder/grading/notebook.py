"""Grade one submitted notebook: restore it, run it in the sandbox, judge it here.

:func:`grade_notebook` is a pure function of its :class:`Job` (the submission file, the release,
the settings and the sandbox): it touches no gradebook and no output file, so a process pool can
run many at once and the batch (:mod:`autograder.grading.batch`) records the results in order.

1. The file is read with a size cap and validated
   (:func:`autograder.grading.submissions.load_submission`) and restored against the release
   (:func:`autograder.grading.restore.restore`): test cells put back, duplicated grade ids
   and foreign metadata ignored.
2. One :class:`~autograder.box.session.Session` runs the student's code cells in notebook order in
   the sandbox. Where a test cell stands, the grader asks the runner to call the checked function
   on every case of the check (visible and hidden) and send back the outputs as plain data.
3. The grader judges those outputs in its own process with the check's
   :class:`~autograder.judge.core.Judge` (reference values and known-bug outputs computed here,
   once per check), so nothing the submission does in its process can make a wrong output pass.
   Points come from the specs, never from the notebook.

If the runner dies (a memory bomb, ``os._exit``) or is killed at a step's deadline or at the
notebook's budget (``GradingSettings.budget``), every check not judged yet scores 0 with the
reason (``timeout``, ``memory``, ``crash``); the checks before keep their points.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbformat import NotebookNode

from autograder.box.sandbox import Sandbox
from autograder.box.session import Session, SessionEnded
from autograder.course.build import CHECK_TAG, WRITTEN_TAG, graded_cells
from autograder.course.directory import GradingSettings
from autograder.grading.restore import Restored, Step, is_blank, restore
from autograder.grading.submissions import load_submission
from autograder.records.report import (
    BLANK,
    ERROR,
    FAILED,
    MANUAL,
    MISSING,
    OK,
    CellGrade,
    NotebookResult,
    answer_digest,
    check_failure_reason,
)


@dataclass(frozen=True)
class Job:
    """One notebook of one student to grade."""

    student: str
    assignment: str
    notebook: str
    path: Path
    """the submissions directory (``<student>/<assignment>/<notebook>.ipynb`` inside)."""
    release: NotebookNode
    settings: GradingSettings
    seed: int
    sandbox: Sandbox


# ----------------------------------------------------------------------------- judging

_JUDGES: dict[tuple[str, int], Any] = {}


def judge_for(name: str, seed: int) -> Any:
    """The grader's :class:`Judge` of a check for this seed (built once per process)."""
    from autograder.judge import get_spec
    from autograder.judge.core import Judge

    key = (name, seed)
    if key not in _JUDGES:
        _JUDGES[key] = Judge.for_spec(get_spec(name), grading=True, seed=seed)
    return _JUDGES[key]


def decode_inputs(item: Any) -> Any:
    """The record of an output's arguments before and after the call (None when absent)."""
    from autograder.box import wire

    if not isinstance(item, dict) or "in" not in item:
        return None
    try:
        return wire.decode(item["in"])
    except Exception:  # noqa: BLE001 - garbled: no in-place verdict either way
        return None


@dataclass(frozen=True)
class _SpecOutcome:
    points: float
    status: str
    reason: str
    report: str = ""


def _reply_problem(spec: Any, reply: dict[str, Any], timeout: float) -> _SpecOutcome | None:
    """The outcome of a reply that holds no outputs (function missing, timeout, error)."""
    from autograder.judge.core import missing_function_message

    status = reply.get("status")
    if status in ("undefined", "not_callable"):
        function = reply.get("function")  # from the sandbox: only a name the spec knows
        function = function if function in spec.functions else spec.functions[0]
        found = None if status == "undefined" else str(reply.get("type"))[:80]
        message = missing_function_message(spec.name, function, found)
        return _SpecOutcome(0, FAILED, message, message)
    if status == "timeout":
        message = (f"timeout: {spec.name} ran longer than the {timeout} s time limit of a check "
                   "(all its cases) and was interrupted")
        return _SpecOutcome(0, ERROR, message, message)
    if status != "ok":
        message = (f"error: the check {spec.name} could not run: "
                   f"{str(reply.get('error'))[:300]}")
        return _SpecOutcome(0, ERROR, message, message)
    return None


class _Stop(BaseException):
    """A driven case's box run gave no output: the check's outcome, or the session's end.

    A ``BaseException``, so that the case's error handling (:func:`call_case`) lets it by.
    """

    def __init__(self, outcome: _SpecOutcome | None, ended: SessionEnded | None = None) -> None:
        self.outcome, self.ended = outcome, ended


def _judge_calls(session: Session, checker: Any, job: Job) -> _SpecOutcome:
    """Send the cases' calls into the box, read back raw outcomes, judge them here.

    The box receives the function names and, per case, the arguments or a procedure's name and
    parameters (:mod:`autograder.box.calls`); expected values, thresholds and comparisons never
    leave this process. A learning case drives its runs from here, one request per run, and
    scores what each returns (the trained parameters) with rlkit's own code.
    """
    from autograder.box.calls import call_case, decode_outcome, encode_call
    from autograder.judge.core import outcome_or_raise

    spec, timeout = checker.spec, job.settings.timeout
    functions = list(spec.functions)
    direct = [i for i, c in enumerate(checker.cases) if c.drive is None]
    decoded: list[Any] = [None] * len(checker.cases)
    inputs: list[Any] = [None] * len(checker.cases)
    if direct:
        reply = session.request("calls", timeout, f"check {spec.name}", functions=functions,
                                calls=[encode_call(checker.cases[i].box_call()) for i in direct],
                                record=spec.records_inputs)
        problem = _reply_problem(spec, reply, timeout)
        if problem is not None:
            return problem
        outputs = reply.get("outputs")
        if not isinstance(outputs, list) or len(outputs) != len(direct):
            message = f"error: {spec.name}: the notebook's process did not answer every case"
            return _SpecOutcome(0, ERROR, message, message)
        for i, item in zip(direct, outputs, strict=True):
            decoded[i], inputs[i] = decode_outcome(item), decode_inputs(item)

    def box_run(run: Any) -> Any:
        try:
            reply = session.request("calls", timeout, f"check {spec.name}",
                                    functions=functions, calls=[encode_call(run)], record=False)
        except SessionEnded as ended:
            raise _Stop(None, ended) from None
        problem = _reply_problem(spec, reply, timeout)
        if problem is not None:
            raise _Stop(problem)
        outputs = reply.get("outputs")
        item = outputs[0] if isinstance(outputs, list) and len(outputs) == 1 else None
        return outcome_or_raise(decode_outcome(item))

    for i, case in enumerate(checker.cases):
        if case.drive is not None:
            try:
                decoded[i] = call_case(lambda _fn, case=case: case.drive(box_run), None)
            except _Stop as stop:
                if stop.ended is not None:
                    raise stop.ended from None
                assert stop.outcome is not None
                return stop.outcome
    position = {i: n for n, i in enumerate(direct)}

    def rerun(i: int) -> Any:
        if i not in position:
            return decoded[i]
        try:
            again = session.request("rerun", timeout, f"check {spec.name} (run again)",
                                    case=position[i])
        except SessionEnded:
            return decoded[i]
        return decode_outcome(again.get("output")) if again.get("status") == "ok" else decoded[i]

    report = checker(decoded, rerun, inputs)
    if report.passed:
        return _SpecOutcome(spec.points, OK, "", report.summary())
    summary = report.summary()
    return _SpecOutcome(0, FAILED, check_failure_reason(summary), summary)


def _grade_check(session: Session | None, step: Step, points: float, job: Job,
                 ended: SessionEnded | None) -> tuple[CellGrade, SessionEnded | None]:
    outcomes: list[_SpecOutcome] = []
    for name in step.specs:
        if ended is None and session is not None:
            try:
                outcomes.append(_judge_calls(session, judge_for(name, job.seed), job))
                continue
            except SessionEnded as exc:
                ended = exc
                outcomes.append(_SpecOutcome(0, ERROR, f"{exc.cause}: {exc.detail}"))
                continue
        assert ended is not None
        outcomes.append(_SpecOutcome(0, ERROR, f"{ended.cause}: {ended.detail}; this check "
                                               "could not run"))
    score = float(sum(o.points for o in outcomes))
    failed = [o for o in outcomes if o.status != OK]
    status = OK if not failed else (ERROR if any(o.status == ERROR for o in failed) else FAILED)
    reason = "; ".join(o.reason for o in failed)
    return CellGrade(step.grade_id, CHECK_TAG, score, float(points), status, reason,
                     tuple(o.report or o.reason for o in failed)), ended


# ----------------------------------------------------------------------------- one notebook


def _zero(job: Job, status: str, reason: str) -> list[CellGrade]:
    return [CellGrade(c.grade_id, c.kind, 0.0, float(c.points or 0), status, reason)
            for c in graded_cells(job.release) if c.kind in (CHECK_TAG, WRITTEN_TAG)]


def missing_result(job: Job, reason: str) -> NotebookResult:
    """The result of a notebook that could not be used at all: every cell 0, ``missing``."""
    return NotebookResult(job.student, job.assignment, job.notebook,
                          _zero(job, MISSING, reason), MISSING, reason)


def _written(job: Job, restored: Restored) -> dict[str, CellGrade]:
    out = {}
    for cell in graded_cells(job.release):
        if cell.kind != WRITTEN_TAG:
            continue
        answer = restored.answers.get(cell.grade_id, "")
        stub = job.release.cells[cell.index].source
        if is_blank(answer, stub):
            out[cell.grade_id] = CellGrade(cell.grade_id, WRITTEN_TAG, 0.0,
                                           float(cell.points or 0), BLANK, "no answer written",
                                           answer=answer_digest(answer))
        else:
            out[cell.grade_id] = CellGrade(cell.grade_id, WRITTEN_TAG, None,
                                           float(cell.points or 0), MANUAL,
                                           "to be graded by hand", answer=answer_digest(answer))
    return out


def withheld_build(steps: list[Step]) -> Path | None:
    """The redacted rlkit the notebook of ``steps`` runs against (None: nothing withheld).

    Its checks' references are not in it (:mod:`autograder.judge.withhold`); built once per
    process.
    """
    from autograder.judge import get_spec
    from autograder.judge.withhold import notebook_withheld, redacted_rlkit

    names = notebook_withheld(get_spec(name) for step in steps if step.kind == "check"
                              for name in step.specs)
    return redacted_rlkit(names) if names else None


def grade_notebook(job: Job) -> NotebookResult:
    """Grade one submitted notebook (see the module docstring); never raises.

    A failure of the grader itself on one notebook (a bug) zeroes that notebook with the reason
    and the traceback in its log, so that the batch still finishes with a row for everyone.
    """
    start = time.perf_counter()
    try:
        return _grade_notebook(job, start)
    except Exception as exc:  # noqa: BLE001 - one notebook's problem must not stop the batch
        import traceback

        reason = f"error: the grader failed on this notebook ({type(exc).__name__}: {exc})"
        result = NotebookResult(job.student, job.assignment, job.notebook,
                                _zero(job, ERROR, reason[:300]), ERROR, reason[:300])
        result.output = traceback.format_exc()
        result.seconds = time.perf_counter() - start
        return result


def _grade_notebook(job: Job, start: float) -> NotebookResult:
    max_bytes = int(job.settings.max_notebook_mb * 2**20)
    submission = load_submission(job.path, job.student, job.assignment, job.notebook, max_bytes)
    if submission.nb is None:
        result = missing_result(job, submission.problem or "no submission")
        result.seconds = time.perf_counter() - start
        return result
    result = NotebookResult(job.student, job.assignment, job.notebook, [])
    restored = restore(submission.nb, job.release)
    result.notes, result.restored = restored.notes, restored.nb
    points = {c.grade_id: c.points or 0 for c in graded_cells(job.release)}
    checks: dict[str, CellGrade] = {}
    sandbox = job.sandbox.withholding(withheld_build(restored.steps)).boxed()
    session = Session(sandbox, job.seed, job.settings.budget)
    ended: SessionEnded | None = None
    try:
        try:
            session.start()
        except SessionEnded as exc:
            ended = exc
        for step in restored.steps:
            if step.kind == "check":
                checks[step.grade_id], ended = _grade_check(
                    session, step, points[step.grade_id], job, ended)
            elif ended is None:
                ended = _run_cell(session, step, job, result)
    finally:
        session.close()
        result.output = session.output_text()
    if ended is not None:
        result.ended = f"{ended.cause}: {ended.detail}"
    if session.pids_limit_hit:
        result.notes.append(f"the notebook tried to start more than "
                            f"{job.sandbox.limits.pids} processes/threads (refused)")
    written = _written(job, restored)
    result.cells = [checks.get(c.grade_id) or written[c.grade_id]
                    for c in graded_cells(job.release) if c.kind in (CHECK_TAG, WRITTEN_TAG)]
    result.seconds = time.perf_counter() - start
    return result


def _run_cell(session: Session, step: Step, job: Job,
              result: NotebookResult) -> SessionEnded | None:
    number = step.index + 1
    try:
        reply = session.request("cell", job.settings.timeout, f"cell {number}",
                                source=step.source)
    except SessionEnded as exc:
        result.cell_errors.append(f"cell {number}: {exc.cause}: {exc.detail}")
        return exc
    if reply.get("status") == "timeout":
        result.cell_errors.append(f"cell {number}: timeout: interrupted at the "
                                  f"{job.settings.timeout} s time limit")
    elif reply.get("status") != "ok":
        result.cell_errors.append(f"cell {number}: {str(reply.get('error'))[:300]}")
    return None
