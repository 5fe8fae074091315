"""The self-check in the student's kernel: a time limit per case, and the student's frames only.

A looping function stops its check with a message naming the function and the case (a small
limit here); a function that raises, and an interrupt, show the frames of the student's code and
none of the check machinery's. While nbgrader autogrades there is no limit. The last test runs
the checks in a real IPython kernel, where the limit must work on the kernel's main thread.
"""

from __future__ import annotations

import time

import nbformat
import numpy as np
import pytest

from autograder.judge import CheckFailed, check, get_spec, guard
from autograder.judge.judging import CaseResult, CheckReport

SPEC = get_spec("mdps.discounted_return")
FIRST_CASE = SPEC.cases(grading=False)[0].name


@pytest.fixture
def small_limit(monkeypatch):
    monkeypatch.setattr(guard, "CASE_SECONDS", 0.3)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)


def correct(rewards, gamma):
    return float(sum(r * gamma**t for t, r in enumerate(rewards)))


def looping(rewards, gamma):
    total, t = 0.0, 0
    give_up = time.monotonic() + 60  # if the limit failed, the test fails rather than hangs
    while time.monotonic() < give_up:
        try:
            total += rewards[t] * gamma**t
        except Exception:  # a student's catch-all must not swallow the time limit
            t = 0
    return total


def raising(rewards, gamma):
    total = 0.0
    for t, r in enumerate(rewards):
        total += r * gamma**t
    return total + next_value  # noqa: F821 - the student's bug


def interrupted(rewards, gamma):
    raise KeyboardInterrupt  # what Kernel > Interrupt raises in the running frame


def failure(fn) -> str:
    with pytest.raises(CheckFailed) as raised:  # outside a kernel a failed check raises
        check(SPEC.name, fn)
    return str(raised.value)


def test_a_looping_function_is_stopped_with_a_message_naming_it_and_the_case(small_limit):
    report = failure(looping)
    assert report.startswith(f"\u2717 {SPEC.name}: case 1 of 8 did not finish")
    assert (f"problem: discounted_return did not return within 0.3 s on case '{FIRST_CASE}': "
            "look for a loop that never ends") in report
    where = report.split("in your code (most recent call last):\n", 1)[1].splitlines()
    assert len(where) == 2  # the student's frame and line, where it was looping
    line = int(where[0].split(", line ", 1)[1].split(",")[0])
    first = looping.__code__.co_firstlineno
    assert where[0].endswith(", in looping") and first < line <= first + 7
    assert "autograder" not in report and "withhold" not in report


def test_a_raising_function_shows_the_students_frame_and_line(small_limit):
    report = failure(raising)
    assert "problem: your function raised NameError: name 'next_value' is not defined" in report
    trace = report.split("in your code (most recent call last):\n", 1)[1].splitlines()
    assert trace[0].endswith(f"line {raising.__code__.co_firstlineno + 4}, in raising")
    assert trace[1].strip() == "return total + next_value  # noqa: F821 - the student's bug"
    assert "autograder" not in report and "site-packages" not in report
    assert "hint:" in report  # the report goes on as before


def test_an_interrupt_is_shown_in_a_few_lines_of_the_students_code(small_limit):
    with pytest.raises(KeyboardInterrupt) as raised:
        check(SPEC.name, interrupted)
    assert isinstance(raised.value, guard.CheckInterrupted)
    shown = "\n".join(raised.value._render_traceback_())  # what IPython prints for it
    assert f"{SPEC.name} was interrupted on case '{FIRST_CASE}'" in shown
    assert "in interrupted" in shown and "raise KeyboardInterrupt" in shown
    assert "autograder" not in shown and len(shown.splitlines()) <= 4


def test_a_correct_function_passes_and_the_alarm_is_put_back(small_limit):
    import signal

    before = signal.getsignal(signal.SIGALRM)
    check(SPEC.name, correct)  # passes: nothing raised
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def slow_but_correct(rewards, gamma):
    time.sleep(0.05)
    return correct(rewards, gamma)


def test_no_time_limit_while_nbgrader_autogrades(monkeypatch):
    monkeypatch.setattr(guard, "CASE_SECONDS", 0.01)
    monkeypatch.setenv("NBGRADER_EXECUTION", "validate")
    with pytest.raises(CheckFailed, match="did not return within 0.01 s"):
        check(SPEC.name, slow_but_correct)  # the student's Validate has the limit
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    check(SPEC.name, slow_but_correct)  # passes: no grade depends on the self-check's limit


def test_without_sigalrm_or_off_the_main_thread_there_is_no_limit_but_the_frames_stay(
        monkeypatch):
    import signal
    import threading

    monkeypatch.setattr(guard, "CASE_SECONDS", 0.01)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    errors: list[BaseException] = []

    def in_a_thread():
        try:
            check(SPEC.name, slow_but_correct)
        except BaseException as exc:  # noqa: BLE001 - reported by the assert below
            errors.append(exc)

    thread = threading.Thread(target=in_a_thread)
    thread.start()
    thread.join()
    assert errors == []  # no signal handler off the main thread: the case ran to its end
    monkeypatch.delattr(signal, "setitimer")  # as on Windows
    check(SPEC.name, slow_but_correct)
    assert "in your code (most recent call last):" in failure(raising)


def test_a_learning_case_gets_the_larger_limit():
    calls = guard.GuardedCalls(get_spec("dqn.learns"), {}, 1)
    assert calls.seconds(get_spec("dqn.learns").cases(grading=False)[0]) == (
        guard.LEARNING_CASE_SECONDS)
    assert guard.GuardedCalls(SPEC, correct, 8).seconds(SPEC.cases(grading=False)[0]) == (
        guard.CASE_SECONDS)
    assert guard.LEARNING_CASE_SECONDS > guard.CASE_SECONDS


@pytest.mark.parametrize(("results", "line"), [
    ((CaseResult("c", None),), "\u2713 demo.f: its one case passed (1/1 point)"),
    ((CaseResult("c", None), CaseResult("d", None)), "\u2713 demo.f: all 2 cases passed"),
    ((CaseResult("c", "wrong"),), "\u2717 demo.f: its one case failed (0/1 point)"),
])
def test_the_report_counts_one_case_in_the_singular(results, line):
    assert CheckReport("demo.f", 1, results).summary().startswith(line)


def test_the_limit_works_in_a_real_kernel_and_names_the_cell(tmp_path):
    """ipykernel runs cells on its main thread, where SIGALRM can stop them."""
    from autograder.frontends.selfcheck import execute

    cells = [
        "from autograder.judge import guard\nguard.CASE_SECONDS = 0.5\n"
        "from autograder.checks import check",
        "def discounted_return(rewards, gamma):\n    while True:\n        pass",
        'check("mdps.discounted_return")',
        "def discounted_return(rewards, gamma):\n    return sum(rewards) + next_value",
        'check("mdps.discounted_return")',
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    out = execute(nb, tmp_path, timeout=60).cells
    stopped = out[2].outputs[0]["data"]["text/plain"]
    assert "discounted_return did not return within 0.5 s" in stopped
    assert "Cell In[2], line 2, in discounted_return" in stopped
    raised = out[4].outputs[0]["data"]["text/plain"]
    assert "Cell In[4], line 2, in discounted_return" in raised
    assert "return sum(rewards) + next_value" in raised
    assert not any(o.get("output_type") == "error" for cell in out for o in cell.outputs)
    assert np.all([cell.execution_count for cell in out])


def test_a_timer_running_before_the_check_gets_back_what_is_left_of_it():
    import signal

    def outer_handler(signum, frame):
        raise AssertionError("the outer timer fired during the test")

    previous = signal.signal(signal.SIGALRM, outer_handler)
    signal.setitimer(signal.ITIMER_REAL, 1000.0)
    try:
        with guard.time_limit(5.0):
            assert signal.getitimer(signal.ITIMER_REAL)[0] <= 5.0  # the case's own limit
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 900.0 < left <= 1000.0
        assert signal.getsignal(signal.SIGALRM) is outer_handler
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
