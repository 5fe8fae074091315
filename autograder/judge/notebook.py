"""The notebook's side of a check: ``check("bellman.q_from_v")`` in a student's kernel.

In a notebook, a check shows its report: one line when it passed, the failing case with its
hint when not (it raises :class:`CheckFailed` only under nbgrader, see :func:`check`): that is
the student's interactive self-check. The grader never runs check cells: it sends the cases'
calls into the submission's box and judges the raw outputs itself
(:mod:`autograder.grading.notebook`), with the same :class:`~autograder.judge.judging.Judge`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping

from autograder.judge.guard import CheckInterrupted, CheckStopped
from autograder.judge.judging import run_check
from autograder.judge.registry import get_spec
from autograder.judge.spec import CheckSpec, MissingFunction, missing_function_message


class CheckFailed(AssertionError):
    """A check did not pass; the message says which case, expected vs got, and a hint."""

    def _render_traceback_(self) -> list[str]:
        # IPython shows this instead of a traceback: the report is the useful part.
        return [f"\x1b[0;31mCheckFailed\x1b[0m: {self}"]


def is_grading() -> bool:
    """True inside ``nbgrader autograde`` (which sets ``NBGRADER_EXECUTION=autograde``)."""
    return os.environ.get("NBGRADER_EXECUTION") == "autograde"


def is_nbgrader() -> bool:
    """True whenever nbgrader runs the notebook (autograde or validate): skip long training."""
    return "NBGRADER_EXECUTION" in os.environ


#: the MIME type of a check cell's outcome: ``{"name", "passed", "points", "max_points"}``.
#: :func:`check` displays it next to the readable report, and ``python -m autograder check``
#: (:mod:`autograder.frontends.selfcheck`) scores a check cell by it.
CHECK_MIME = "application/vnd.rlkit.check+json"


def check(name: str, fn: Callable | None = None) -> None:
    """Run the check ``name`` on the student's function and show the report.

    With ``fn`` omitted, the function is looked up by the spec's function name in the calling
    notebook's namespace, so a renamed or deleted function gets a message saying so.

    In a student's kernel a failed check does not raise: it displays its report (red, with the
    hint) and the outcome as :data:`CHECK_MIME` data, so that "Run All" goes on to the other
    cells and shows every check's report. Under nbgrader (``NBGRADER_EXECUTION`` set, e.g. the
    Validate button) it raises, since nbgrader scores a test cell by whether it raised. It
    returns nothing, so the cell has no ``execute_result`` nbgrader could read as a score.

    Each case has a time limit in the student's kernel (15 s of wall time, 120 s for a learning
    run: :mod:`autograder.judge.guard`, where SIGALRM exists, so not on Windows): a function
    that does not return in time fails the check with a report that names it, the case and the
    line it was running. A function that raises, and *Kernel > Interrupt*, show only the frames
    of the student's own code. None of this applies while nbgrader autogrades.

    Raises:
        CheckFailed: if any case fails under nbgrader or outside an IPython kernel.
        KeyboardInterrupt: a :class:`~autograder.judge.guard.CheckInterrupted` that IPython
            shows in a few lines, on *Kernel > Interrupt*.

    """
    spec = get_spec(name)
    if fn is None:
        try:
            fn = spec.student_functions(sys._getframe(1).f_globals)
        except MissingFunction as exc:
            _outcome(spec, False, str(exc))
            return
    elif not callable(fn) and not isinstance(fn, Mapping):
        message = missing_function_message(name, str(spec.function), type(fn).__name__)
        _outcome(spec, False, message)
        return
    grading = is_grading()
    try:
        report = run_check(spec, fn, grading=grading, watch=True, guarded=not grading)
    except CheckStopped as stopped:  # a case ran past its time limit
        _outcome(spec, False, str(stopped))
        return
    except CheckInterrupted:
        raise
    except KeyboardInterrupt:  # outside the student's function: no frames of theirs to show
        raise CheckInterrupted(f"{spec.name} was interrupted") from None
    _outcome(spec, report.passed, report.summary())


def _outcome(spec: CheckSpec, passed: bool, text: str) -> None:
    """Show a check's report in a kernel, else raise :class:`CheckFailed` (see :func:`check`)."""
    from IPython import get_ipython

    in_kernel = get_ipython() is not None
    if not passed and (is_nbgrader() or not in_kernel):
        raise CheckFailed(text)
    if not in_kernel:  # a script or a test: print the one-line success
        print(text)
        return
    from IPython.display import display

    shown = text if passed else f"\x1b[0;31mCheckFailed\x1b[0m: {text}"
    outcome = {"name": spec.name, "passed": passed, "points": spec.points if passed else 0,
               "max_points": spec.points}
    display({"text/plain": shown, CHECK_MIME: outcome}, raw=True)
