"""The self-check's calls in the student's kernel: a time limit per case, the student's frames.

``check()`` in a notebook (:mod:`autograder.judge.notebook`) runs the student's function on the
visible cases in the student's own kernel (:func:`~autograder.judge.judging.run_check` with
``guarded=True``, through :class:`GuardedCalls`). There, and only there:

* **Each case has a time limit** of wall time: :data:`CASE_SECONDS`, or
  :data:`LEARNING_CASE_SECONDS` for a learning run. A function that never returns stops the
  check with a report that names the function, the case and the line of the student's code it
  was running (:class:`CheckStopped`), instead of leaving the cell at ``[*]``. The limit is a
  ``SIGALRM`` timer (``signal.setitimer``), which interrupts Python code on the main thread,
  the thread an IPython kernel runs its cells on; like *Kernel > Interrupt*, it waits for a
  single long numpy or torch call to return. Where there is no ``SIGALRM`` (Windows) or off the
  main thread, a case has no limit; *Kernel > Interrupt* still stops it, with the same short
  message.
* **An error shows the student's frames only**: a function that raises gets, under the case's
  problem, the frames of the traceback in the student's own code (the notebook's cells), not
  the check machinery's, rlkit's or a library's (:func:`your_frames`); so does a case stopped
  by its time limit or by *Kernel > Interrupt* (:class:`CheckInterrupted`).

The grader never uses any of this: its box has its own limits (:mod:`autograder.box.runner`),
and ``check()`` turns it off while nbgrader autogrades, so no grade depends on it.

Why by hand: the timer is the standard library's (``signal``); the packages that wrap it
(``timeout-decorator``) add nothing we need, and those that run the call in a thread
(``func-timeout``) cannot stop a loop on the kernel's main thread. The frames are the standard
library's ``traceback`` summaries, kept by where their code lives.
"""

from __future__ import annotations

import functools
import signal
import sysconfig
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from autograder.box.calls import Raised, call_case
from autograder.judge.judging import points_text

#: the self-check's time limit of one case, in seconds of wall time (the slowest visible case
#: of a reference takes under 1 s here, with the self-check's call watch on).
CASE_SECONDS = 15.0

#: the time limit of one learning-run case, in seconds (the references reach their target in
#: about 2-4 s; a broken agent trains its whole budget in about 7-10 s).
LEARNING_CASE_SECONDS = 120.0

#: the most frames of the student's code a report shows (the innermost ones).
MAX_FRAMES = 6


class CaseTimeout(BaseException):
    """Raised by the timer of :func:`time_limit`.

    A ``BaseException``, like ``KeyboardInterrupt``, so that a student's ``except Exception``
    around the loop does not swallow it.
    """


class CheckStopped(Exception):  # noqa: N818 - what happened to the check, not our error
    """A case ran past its time limit; the message is the check's report."""


class CheckInterrupted(KeyboardInterrupt):
    """*Kernel > Interrupt* during a check: still a KeyboardInterrupt, shown in a few lines."""

    def _render_traceback_(self) -> list[str]:
        # IPython shows this instead of a traceback through the check machinery.
        return [f"\x1b[0;31mKeyboardInterrupt\x1b[0m: {self}"]


def can_limit() -> bool:
    """Whether :func:`time_limit` can stop a call here (a ``SIGALRM`` timer, main thread)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`CaseTimeout` inside the block once ``seconds`` of wall time have passed.

    No limit when ``seconds`` is None or 0, or where :func:`can_limit` is False. The previous
    ``SIGALRM`` handler is put back afterwards, and a timer that was running before (e.g. a
    test runner's) gets back what is left of it.

    Example:
        >>> import time
        >>> try:
        ...     with time_limit(0.05):
        ...         while True:
        ...             time.sleep(0.01)
        ... except CaseTimeout:
        ...     print("stopped")
        stopped

    """
    if not seconds or not can_limit():
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise CaseTimeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    start = time.monotonic()
    outer, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)  # before the old handler (SIG_DFL would exit)
        signal.signal(signal.SIGALRM, previous)
        if outer:
            left = outer - (time.monotonic() - start)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3))


def _library_dirs() -> tuple[str, ...]:
    """Where code that is not the student's lives: the check machinery, rlkit, Python's libs."""
    import autograder
    import rlkit

    paths = sysconfig.get_paths()
    dirs = [Path(autograder.__file__).parent, Path(rlkit.__file__).parent,
            *(Path(paths[key]) for key in ("stdlib", "platstdlib", "purelib", "platlib"))]
    return tuple(str(d.resolve()) for d in dirs)


def _place(filename: str) -> str:
    """IPython's name of a notebook cell's code (``Cell In[4]``), else ``File "path"``."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
        named = shell.compile.format_code_name(filename) if shell is not None else None
    except Exception:  # noqa: BLE001 - an old or replaced IPython: the file name will do
        named = None
    return " ".join(named) if named else f'File "{filename}"'


def your_frames(exc: BaseException) -> str:
    """The frames of ``exc``'s traceback in the student's own code, innermost last, or "".

    Frames in the check machinery, rlkit, the standard library and installed packages are left
    out; at most :data:`MAX_FRAMES` of the innermost are kept. Each is two lines, indented
    under a report's ``problem`` line.

    Example:
        >>> def student():
        ...     return undefined_name
        >>> try:
        ...     student()
        ... except NameError as exc:
        ...     print(your_frames(exc).splitlines()[-1])
              return undefined_name

    """
    libraries = _library_dirs()
    frames = [
        frame for frame in traceback.extract_tb(exc.__traceback__)
        if not frame.filename.startswith("<frozen")
        and not str(Path(frame.filename).resolve()).startswith(libraries)
    ]
    if not frames:
        return ""
    lines = ["  in your code (most recent call last):"]
    if len(frames) > MAX_FRAMES:
        lines.append(f"    ... {len(frames) - MAX_FRAMES} outer frames left out")
    for frame in frames[-MAX_FRAMES:]:
        lines.append(f"    {_place(frame.filename)}, line {frame.lineno}, in {frame.name}")
        if frame.line:
            lines.append(f"      {frame.line.strip()}")
    return "\n".join(lines)


def _traced(fn: Any, raised: list[BaseException]) -> Any:
    """``fn`` (or each function of a dict of them) that keeps what it raised in ``raised``."""
    if isinstance(fn, Mapping):
        return {name: _traced(f, raised) for name, f in fn.items()}

    @functools.wraps(fn)
    def traced(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BaseException as exc:  # kept, and raised on unchanged
            raised.append(exc)
            raise

    return traced


class GuardedCalls:
    """The self-check's calls of a student's function: each case under its time limit.

    ``calls(i, case, inputs)`` is :func:`~autograder.box.calls.call_case` on the student's
    function, except that a case past its time limit raises :class:`CheckStopped` and an
    interrupt :class:`CheckInterrupted`, each with the student's frames; :attr:`traces` keeps
    the student's frames of each case whose function raised.
    """

    def __init__(self, spec: Any, fn: Callable | Mapping[str, Callable], n_cases: int) -> None:
        self.spec, self.n_cases = spec, n_cases
        self._raised: list[BaseException] = []
        self.fn = _traced(fn, self._raised)
        self.traces: dict[int, str] = {}
        """case index -> the student's frames of what the function raised on it."""

    def seconds(self, case: Any) -> float:
        """The time limit of ``case``."""
        learning = self.spec.learning or case.training
        return LEARNING_CASE_SECONDS if learning else CASE_SECONDS

    def __call__(self, i: int, case: Any, inputs: list | None = None) -> Any:
        """``call_case(case, fn, inputs)`` for case number ``i``, under its time limit."""
        self._raised.clear()
        seconds = self.seconds(case)
        try:
            with time_limit(seconds):
                got = call_case(case, self.fn, inputs)
        except CaseTimeout as exc:
            raise CheckStopped(self._stopped(i, case, seconds, exc)) from None
        except KeyboardInterrupt as exc:
            where = your_frames(exc)
            raise CheckInterrupted(
                f"{self.spec.name} was interrupted on case '{case.name}'"
                + (f"\n{where}" if where else "")) from None
        if isinstance(got, Raised) and self._raised:
            trace = your_frames(self._raised[-1])
            if trace:
                self.traces[i] = trace
        return got

    def _stopped(self, i: int, case: Any, seconds: float, exc: BaseException) -> str:
        spec = self.spec
        names = " and ".join(spec.functions)
        if spec.learning or case.training:
            problem = (f"the learning run with your {names} did not finish within {seconds:g} s "
                       f"on case '{case.name}': look for a loop that never ends, or a step far "
                       "slower than it needs to be (a correct agent takes a few seconds)")
        else:
            problem = (f"{names} did not return within {seconds:g} s on case '{case.name}': "
                       "look for a loop that never ends")
        lines = [f"\u2717 {spec.name}: case {i + 1} of {self.n_cases} did not finish, the check "
                 f"stopped there ({points_text(0, spec.points)})",
                 f"  case: {case.name}", f"  problem: {problem}"]
        where = your_frames(exc)
        return "\n".join(lines + ([where] if where else []))
