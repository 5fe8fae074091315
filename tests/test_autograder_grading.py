"""End to end through ``python -m autograder grade``: the sample class and the edge cases."""

from __future__ import annotations

import csv
import re

import nbformat
import pytest
from conftest import EDGE_ASSIGNMENT, TEST_TIMEOUT, sample_assignments

from autograder.frontends.sample_class import STUDENTS
from autograder.records.report import CSV_FIELDS

pytestmark = pytest.mark.slow


# ----------------------------------------------------------------------------- sample class


def test_the_batch_completes_and_prints_the_gradebook(graded_class):
    assert graded_class.returncode == 0, graded_class.stderr
    header = graded_class.stdout.splitlines()[0].split()
    assert header == ["student", *sample_assignments(), "total"]
    for student in STUDENTS:
        assert re.search(rf"^{student}\s", graded_class.stdout, re.M)


def test_every_sample_student_gets_the_expected_score(graded_class, expected):
    got = {key: graded_class.total(*key) for key in expected}
    assert got == expected


def test_reference_solutions_get_full_marks(graded_class, assignments):
    for assignment in (a for a in assignments if a.id in sample_assignments()):
        rows = [r for r in graded_class.rows
                if r["student"] == "alice" and r["assignment"] == assignment.id]
        checks = [r for r in rows if r["grade_id"].startswith("check_")]
        assert all(r["status"] == "ok" and r["score"] == r["max_score"] for r in checks)
        written = [r for r in rows if r["grade_id"].startswith("written_")]
        assert written and all(r["status"] == "manual" and r["score"] == "" for r in written)


def test_the_unmodified_release_scores_zero_with_a_reason(graded_class):
    rows = [r for r in graded_class.rows if r["student"] == "carol"]
    assert rows and all(float(r["score"]) == 0 for r in rows)
    checks = [r for r in rows if r["grade_id"].startswith("check_")]
    assert all(r["status"] == "failed" and "NotImplementedError" in r["reason"] for r in checks)
    assert all(r["status"] == "blank" for r in rows if r["grade_id"].startswith("written_"))


def test_known_bugs_fail_with_their_hint(graded_class):
    failed = [r for r in graded_class.rows if r["student"] == "bob" and r["status"] == "failed"]
    assert failed and all("hint:" in r["reason"] for r in failed)


def test_exceptions_and_hangs_cost_only_their_cells(graded_class):
    raised = [r for r in graded_class.rows if r["student"] == "dave" and r["status"] != "ok"
              and r["grade_id"].startswith("check_")]
    assert raised and all("RuntimeError: dave" in r["reason"] for r in raised)
    hung = [r for r in graded_class.rows if r["student"] == "erin" and r["status"] == "error"]
    assert len(hung) == 1 and hung[0]["reason"].startswith("timeout:")
    assert f"{TEST_TIMEOUT} s" in hung[0]["reason"]


def test_a_corrupt_file_scores_zero_with_the_reason(graded_class):
    rows = [r for r in graded_class.rows if r["student"] == "frank"
            and r["assignment"] == "01_mdps"]
    assert rows and all(r["score"] == "0" and r["status"] == "missing" for r in rows)
    assert all(r["reason"].startswith("corrupt notebook: not valid JSON") for r in rows)


def test_grades_csv_layout_and_order(graded_class):
    with (graded_class.out / "grades.csv").open(newline="") as f:
        header = next(csv.reader(f))
    assert tuple(header) == CSV_FIELDS
    keys = [(r["student"], r["assignment"]) for r in graded_class.rows]
    assert keys == sorted(keys)


def test_feedback_and_gradebook_are_written(graded_class, expected):
    from nbgrader.api import Gradebook

    for student, assignment in expected:
        html = graded_class.out / "feedback" / student / assignment / f"{assignment}.html"
        assert html.is_file() and html.stat().st_size > 0
    with Gradebook(f"sqlite:///{graded_class.out / 'gradebook.db'}") as gb:
        for (student, assignment), points in expected.items():
            submission = gb.find_submission(assignment, student)
            assert submission.score == pytest.approx(points)


def test_feedback_shows_failures_with_hints_but_never_test_source(graded_class):
    import inspect

    from autograder.judge.specs import bellman_qlearning as bellman

    html = (graded_class.out / "feedback" / "bob" / "02_bellman" / "02_bellman.html").read_text()
    assert "expected:" in html and "got:" in html and "hint:" in html
    hidden_source = inspect.getsource(bellman._eps_hidden)
    for line in filter(None, (ln.strip() for ln in hidden_source.splitlines())):
        assert line not in html
    for text in ("BEGIN SOLUTION", "def ", "check(", "import "):
        assert text not in html


def test_formgrader_sees_the_submitted_and_the_annotated_notebooks(graded_class):
    course = graded_class.out / "course"
    for step in ("submitted", "autograded"):
        assert (course / step / "bob" / "02_bellman" / "02_bellman.ipynb").is_file()
    nb = nbformat.read(course / "autograded" / "bob" / "02_bellman" / "02_bellman.ipynb", 4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors and all(o.ename == "CheckFailed" for o in errors)


# ----------------------------------------------------------------------------- edge cases


def _edge_rows(runs, student):
    return [r for r in runs.second.rows if r["student"] == student]


def _full(assignments):
    return next(a for a in assignments if a.id == EDGE_ASSIGNMENT).autograded_points


def test_regrading_with_two_workers_gives_identical_grades(edge_graded):
    assert edge_graded.first.returncode == 0, edge_graded.first.stderr
    assert edge_graded.second.returncode == 0, edge_graded.second.stderr
    assert (edge_graded.second.out / "grades.csv").read_text() == edge_graded.first_csv


def test_the_gradebook_can_live_elsewhere(edge_graded):
    assert edge_graded.db.is_file()
    assert not (edge_graded.second.out / "gradebook.db").exists()


@pytest.mark.parametrize(
    ("student", "reason"),
    [
        ("corrupt", "corrupt notebook: not valid JSON"),
        ("nbformat3", "corrupt notebook: nbformat 3 is not supported"),
        ("notanotebook", "corrupt notebook: JSON but not a Jupyter notebook"),
        ("nofile", "no submission"),
        ("killer", "crash: the notebook's process exited with code 1"),
    ],
)
def test_unusable_submissions_score_zero_with_a_reason(edge_graded, student, reason):
    rows = _edge_rows(edge_graded, student)
    if student == "killer":  # its written answers are still there, for grading by hand
        rows = [r for r in rows if r["grade_id"].startswith("check_")]
    assert rows and all(float(r["score"]) == 0 and reason in r["reason"] for r in rows)


@pytest.mark.parametrize("student", ["tampered", "deleted", "noisy"])
def test_test_cells_are_restored_and_stderr_is_ignored(edge_graded, assignments, student):
    assert edge_graded.second.total(student, EDGE_ASSIGNMENT) == _full(assignments)


def test_a_renamed_function_loses_its_checks_with_a_reason(edge_graded, assignments):
    row = edge_graded.second.row("renamed", "check_bellman_q_from_v")
    assert row["score"] == "0" and "`q_from_v` is not defined" in row["reason"]
    assert 0 < edge_graded.second.total("renamed", EDGE_ASSIGNMENT) < _full(assignments)


# ----------------------------------------------------------------------------- a killed grader


def _descendants(pid: int) -> set[int]:
    import psutil

    try:
        return {p.pid for p in psutil.Process(pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        return set()


def test_a_grader_killed_with_sigkill_leaves_no_worker_or_fork_server(tmp_path):
    """``kill -9`` of a grading run (or the OOM killer) ends its workers and their boxes too."""
    import signal
    import subprocess
    import sys
    import time

    import psutil
    from conftest import REPO_ROOT

    from autograder.paths import SAMPLE_CLASS_DIR

    grader = subprocess.Popen(
        [sys.executable, "-m", "autograder", "grade", str(SAMPLE_CLASS_DIR), "--out",
         str(tmp_path / "out"), "--workers", "2", "--assignments", "01_mdps,02_bellman",
         "--timeout", str(TEST_TIMEOUT)],
        cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        seen: set[int] = set()
        while grader.poll() is None:  # until both workers run a box of their own
            seen |= _descendants(grader.pid)
            workers = psutil.Process(grader.pid).children()
            if sum(bool(_descendants(w.pid)) for w in workers) >= 2:
                break
            time.sleep(0.05)
        assert grader.poll() is None, "the grading run ended before both workers were busy"
        seen |= _descendants(grader.pid)
        grader.send_signal(signal.SIGKILL)
        grader.wait()
        alive = {pid for pid in seen if psutil.pid_exists(pid)}
        for _ in range(600):  # a loaded machine reaps slowly; nothing here waits on speed
            alive = {pid for pid in alive if psutil.pid_exists(pid)
                     and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE}
            if not alive:
                break
            time.sleep(0.1)
        assert not alive, [psutil.Process(p).cmdline()[:3] for p in alive if psutil.pid_exists(p)]
    finally:
        if grader.poll() is None:
            grader.kill()
