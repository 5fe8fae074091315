"""The instructor's day through the real CLI (issue 10): incremental re-grading under a running
formgrader, hand grades reaching the feedback, the exports and late submissions.

One sequence, into one output directory, as an instructor runs it:

1. grade alice (reference) and carol (the release) on 01 and 02;
2. start the formgrader on it (``python -m autograder formgrader``, a real Jupyter server);
3. while it runs, carol resubmits 01 (alice's notebook): regrade ``--assignments 01_mdps``;
4. stop it; alice resubmits 02 late: regrade a folder holding only alice's 02, with a policy;
5. grade by hand through nbgrader's Gradebook API (what formgrader stores), then ``feedback``
   without the submissions and with grading patched to fail: no student code runs.

The sandbox is not what is tested here, so the batches run ``--unsandboxed``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import REPO_ROOT, TEST_TIMEOUT, run_cli

from autograder.paths import SAMPLE_CLASS_DIR
from autograder.records.report import read_csv

pytestmark = pytest.mark.slow

A1, A2 = "01_mdps", "02_bellman"
POLICY = """\
[default]
percent_per_day = 10
max_percent = 50

[02_bellman]
due = 2026-10-01T23:59:00Z
"""
#: 1 d 10 h 1 min after the due date: 2 started days, 20 % of the points earned.
LATE_STAMP = "2026-10-03 10:00:00.000000 UTC"
LATE_FRACTION = 0.2
#: what every other submission's timestamp.txt says, and when its notebook was last saved.
ON_TIME_STAMP = "2026-09-30 12:00:00.000000 UTC"
SAVED = datetime(2026, 9, 30, 11, 0, tzinfo=UTC).timestamp()
TOKEN = "instructor-day-token"
#: what the grader writes per submission, by path inside the output directory.
TRACKED = ("feedback", "logs", "course/submitted", "course/autograded")


def _files(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for top in TRACKED for p in sorted((out / top).rglob("*")) if p.is_file()}


@dataclass
class Snapshot:
    """The output directory after one step."""

    proc: subprocess.CompletedProcess
    rows: list[dict[str, str]]
    files: dict[str, str]
    inodes: dict[str, int]

    def of(self, student: str, assignment: str) -> list[dict[str, str]]:
        return [r for r in self.rows if r["student"] == student and r["assignment"] == assignment]

    def files_of(self, student: str, assignment: str) -> dict[str, str]:
        return {k: v for k, v in self.files.items()
                if f"/{student}/{assignment}/" in k or f"/{student}__{assignment}." in k}


def _snapshot(proc, out: Path) -> Snapshot:
    rows = read_csv(out / "grades.csv") if (out / "grades.csv").is_file() else []
    inodes = {d: (out / d).stat().st_ino for d in ("course", "feedback", "logs")}
    return Snapshot(proc, rows, _files(out), inodes)


def _grade(subs: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return run_cli("grade", str(subs), "--out", str(out), "--timeout", str(TEST_TIMEOUT),
                   "--unsandboxed", "--workers", "2", *extra)


def _copy(student: str, assignment: str, subs: Path, source: str | None = None) -> Path:
    """A submission as nbgrader collects it: the notebook, saved before its timestamp.txt.

    Both times are fixed, so that no lateness depends on when the test runs (a submission
    without a timestamp would be dated by its arrival on disk: now).
    """
    target = subs / student / assignment / f"{assignment}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    origin = SAMPLE_CLASS_DIR / (source or student) / assignment / f"{assignment}.ipynb"
    shutil.copyfile(origin, target)
    (target.parent / "timestamp.txt").write_text(ON_TIME_STAMP + "\n")
    os.utime(target, (SAVED, SAVED))
    return target


# ----------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(port: int, path: str) -> tuple[int, str]:
    url = f"http://127.0.0.1:{port}/{path}{'&' if '?' in path else '?'}token={TOKEN}"
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


@dataclass
class Server:
    """``python -m autograder formgrader DIR`` on a free port, with a token."""

    out: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "autograder", "formgrader", str(self.out),
             "--port", str(self.port), "--token", TOKEN],
            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the formgrader exited: {self.proc.stdout.read()[-3000:]}")
            try:
                if http_get(self.port, "formgrader/api/status")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"the formgrader did not answer within {timeout:g} s")

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        self.proc.terminate()  # SIGTERM: the Jupyter server shuts down cleanly
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None


def _ask(port: int) -> dict[str, tuple[int, str]]:
    return {path: http_get(port, path) for path in
            ("formgrader/api/assignments", f"formgrader/api/submissions/{A2}",
             "formgrader/manage_assignments", "formgrader/gradebook")}


# ----------------------------------------------------------------------------- the day


@dataclass
class Day:
    out: Path
    first: Snapshot
    second: Snapshot
    third: Snapshot
    fourth: Snapshot
    served_before: dict = field(default_factory=dict)
    served_after: dict = field(default_factory=dict)
    server_error: str = ""
    server_exit: int | None = None
    port_free_after: bool = False


def _grade_by_hand(out: Path) -> None:
    """What a grader does in formgrader, through the same Gradebook API it uses."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        def grade(student: str, cell: str, score: float | None = None, comment: str = ""):
            if score is not None:
                g = gb.find_grade(cell, A2, A2, student)
                g.manual_score, g.needs_manual_grade = score, False
            if comment:
                gb.find_comment(cell, A2, A2, student).manual_comment = comment

        grade("alice", "written_vi_converges", 3, "Right: the backup is a contraction.")
        grade("alice", "written_vi_vs_pi", 1, "Policy iteration needs fewer sweeps, not more.")
        grade("carol", "check_bellman_q_from_v", 2)  # an override of an autograded cell
        grade("carol", "q_from_v", comment="Index V by the next state, then you are there.")
        gb.db.commit()


def _feedback_without_student_code(out: Path) -> subprocess.CompletedProcess:
    """``feedback DIR`` in-process, with every way of running student code patched to fail."""
    import contextlib
    import io

    from autograder.box import session
    from autograder.cli import main
    from autograder.grading import executors
    from autograder.grading import notebook as autograde

    def forbidden(*args, **kwargs):
        raise AssertionError("feedback ran student code")

    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        for module, name in ((autograde, "grade_notebook"), (executors, "grade_notebook"),
                             (executors, "run_jobs"), (session.Session, "start")):
            mp.setattr(module, name, forbidden)
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main(["feedback", str(out)])
    return subprocess.CompletedProcess(["feedback"], code, stdout.getvalue(), stderr.getvalue())


@pytest.fixture(scope="module")
def day(tmp_path_factory) -> Day:
    root = tmp_path_factory.mktemp("instructor_day")
    subs, out = root / "submitted", root / "grading"
    for student in ("alice", "carol"):
        for assignment in (A1, A2):
            _copy(student, assignment, subs)
    first = _snapshot(_grade(subs, out, "--assignments", f"{A1},{A2}"), out)
    (out / "course" / "instructor-notes.txt").write_text("kept\n")

    server, served_before, served_after, error = Server(out), {}, {}, ""
    try:
        server.start()
        served_before = _ask(server.port)
    except RuntimeError as exc:
        error = str(exc)
    try:
        _copy("carol", A1, subs, source="alice")  # carol resubmits 01
        second = _snapshot(_grade(subs, out, "--assignments", A1), out)
        if not error:
            served_after = _ask(server.port)
    finally:
        exit_code = server.stop()
    with socket.socket() as sock:  # nothing listens any more
        port_free = sock.connect_ex(("127.0.0.1", server.port)) != 0

    late = root / "late-02"  # only alice, only 02, late, with a policy
    _copy("alice", A2, late)
    (late / "alice" / A2 / "timestamp.txt").write_text(LATE_STAMP + "\n")
    policy = root / "policy.toml"
    policy.write_text(POLICY)
    third = _snapshot(_grade(late, out, "--assignments", f"{A1},{A2}", "--late", str(policy)),
                      out)

    _grade_by_hand(out)
    shutil.rmtree(subs)
    shutil.rmtree(late)
    fourth = _snapshot(_feedback_without_student_code(out), out)
    return Day(out, first, second, third, fourth, served_before, served_after, error,
               exit_code, port_free)


# ----------------------------------------------------------------------------- 1. incremental


def test_every_step_succeeds(day):
    for step in (day.first, day.second, day.third, day.fourth):
        assert step.proc.returncode == 0, step.proc.stderr[-3000:]


def test_regrading_one_assignment_keeps_the_others(day):
    first, second = day.first, day.second
    for student in ("alice", "carol"):  # assignment 02: rows and files untouched
        assert second.of(student, A2) == first.of(student, A2)
        assert second.files_of(student, A2) == first.files_of(student, A2)
        assert second.files_of(student, A2)
    assert {r["assignment"] for r in second.rows} == {A1, A2}  # grades.csv holds both
    assert all(r["status"] == "failed" for r in first.of("carol", A1)
               if r["grade_id"].startswith("check_"))
    assert all(r["status"] == "ok" for r in second.of("carol", A1)
               if r["grade_id"].startswith("check_"))
    assert second.of("alice", A1) == first.of("alice", A1)


def test_nothing_a_server_may_serve_is_deleted(day):
    for later in (day.second, day.third, day.fourth):
        assert later.inodes == day.first.inodes
    assert (day.out / "course" / "instructor-notes.txt").read_text() == "kept\n"
    assert "(unchanged)" in day.second.proc.stderr  # no generate_assignment: release kept


def test_regrading_one_students_folder_keeps_everyone_else(day):
    second, third = day.second, day.third
    def without_time_source(rows):  # the third run brings a due date for 02: it says which
        return [{k: v for k, v in r.items() if k != "time_source"} for r in rows]

    assert {r["time_source"] for r in third.of("carol", A2)} == {"timestamp.txt"}
    for assignment in (A1, A2):  # carol is absent from the folder
        assert (without_time_source(third.of("carol", assignment))
                == without_time_source(second.of("carol", assignment)))
        assert third.files_of("carol", assignment) == second.files_of("carol", assignment)
    # alice's folder lacks 01: her earlier 01 grade stays
    assert third.of("alice", A1) == second.of("alice", A1)
    assert third.files_of("alice", A1) == second.files_of("alice", A1)
    assert "keeping 1 earlier grade" in third.proc.stderr
    assert third.files_of("alice", A2) != second.files_of("alice", A2)  # regraded


# ----------------------------------------------------------------------------- 2. hand grades


def test_hand_grades_and_comments_reach_the_feedback(day):
    assert day.fourth.proc.returncode == 0, day.fourth.proc.stderr  # no student code ran
    page = (day.out / "feedback" / "alice" / A2 / f"{A2}.html").read_text()
    row = next(line for line in page.splitlines() if "<td>written_vi_converges</td>" in line)
    assert "3 / 3" in row and "graded by hand" in row and "to be graded" not in row
    assert "Right: the backup is a contraction." in row
    assert "Policy iteration needs fewer sweeps, not more." in page
    assert "still to be graded by hand" not in page  # both written answers are graded
    carol = (day.out / "feedback" / "carol" / A2 / f"{A2}.html").read_text()
    row = next(line for line in carol.splitlines() if "<td>check_bellman_q_from_v</td>" in line)
    assert "2 / 2" in row and "autograded 0, set by hand to 2" in row
    assert "Index V by the next state, then you are there." in carol  # a solution cell's


def test_grades_csv_is_rebuilt_with_the_hand_grades(day):
    rows = {(r["student"], r["grade_id"]): r for r in day.fourth.rows}
    written = rows[("alice", "written_vi_converges")]
    assert written["score"] == "3" and written["status"] == "manual"
    assert "the backup is a contraction" in written["reason"]
    override = rows[("carol", "check_bellman_q_from_v")]
    assert override["score"] == "2" and "set by hand to 2" in override["reason"]
    assert {r["assignment"] for r in day.fourth.rows} == {A1, A2}


def test_the_stored_results_hold_no_hidden_inputs_or_output(day):
    import inspect

    from autograder.judge.specs import bellman_qlearning as bellman

    hidden = [ln.strip() for ln in inspect.getsource(bellman._eps_hidden).splitlines()
              if ln.strip()]
    for path in (day.out / "logs").glob("*.json"):
        data = json.loads(path.read_text())
        assert "output" not in data and "restored" not in data
        text = path.read_text()
        assert not [ln for ln in hidden if ln in text]
        for marker in ("BEGIN SOLUTION", "def ", "check("):
            assert marker not in text


# ----------------------------------------------------------------------------- 3. formgrader


def test_the_formgrader_starts_lists_the_assignments_and_survives_a_regrade(day):
    assert not day.server_error, day.server_error
    for served in (day.served_before, day.served_after):
        status, body = served["formgrader/api/assignments"]
        assert status == 200 and {a["name"] for a in json.loads(body)} == {A1, A2}
        status, body = served[f"formgrader/api/submissions/{A2}"]
        assert status == 200 and {s["student"] for s in json.loads(body)} == {"alice", "carol"}
        assert all(s["autograded"] for s in json.loads(body))
        for page in ("formgrader/manage_assignments", "formgrader/gradebook"):
            assert served[page][0] == 200
    assert day.server_exit == 0 and day.port_free_after  # SIGTERM: a clean shutdown


# ----------------------------------------------------------------------------- 4. late, exports


def test_the_late_penalty_is_in_grades_csv_and_the_feedback(day):
    late = day.third.of("alice", A2)
    earned = sum(float(r["score"] or 0) for r in late)
    assert earned == 16  # autograded; the written answers are not graded yet
    for r in late:
        assert float(r["late_penalty"]) == pytest.approx(LATE_FRACTION * float(r["score"] or 0))
    on_time = [r for r in day.third.rows if r not in late]
    assert on_time and all(r["late_penalty"] == "0" for r in on_time)
    page = (day.out / "feedback" / "alice" / A2 / f"{A2}.html").read_text()
    assert "1 d 10 h 1 min late" in page and "due 2026-10-01 23:59 UTC" in page
    # after hand grading, feedback recomputes it from the new total: 20 % of 16 + 4
    final = day.fourth.of("alice", A2)
    assert sum(float(r["late_penalty"]) for r in final) == pytest.approx(4)
    assert "-4 points" in page and "Score: 16 / 21 points." in page
    assert (day.out / "late.toml").read_text() == POLICY


def test_the_gradebook_holds_the_due_date_the_time_and_the_penalty(day):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{day.out / 'gradebook.db'}") as gb:
        submission = gb.find_submission(A2, "alice")
        assert str(submission.assignment.duedate) == "2026-10-01 23:59:00"
        assert str(submission.timestamp) == "2026-10-03 10:00:00"
        assert submission.late_submission_penalty == pytest.approx(4)
        assert gb.find_submission(A2, "carol").late_submission_penalty == 0
    stamp = day.out / "course" / "submitted" / "alice" / A2 / "timestamp.txt"
    assert stamp.read_text().strip() == LATE_STAMP  # formgrader compares it with the gradebook


def test_the_canvas_export(day):
    import csv

    with (day.out / "exports" / "canvas.csv").open(newline="") as f:
        table = list(csv.reader(f))
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", A1, A2]
    assert table[1] == ["Points Possible", "", "", "", "", "17", "21"]
    by_login = {row[3]: row for row in table[2:]}
    assert by_login["alice"] == ["alice", "", "", "alice", "", "", "16"]  # 01: written pending
    assert by_login["carol"] == ["carol", "", "", "carol", "", "", "2"]


def test_the_long_per_check_export(day):
    rows = read_csv(day.out / "exports" / "checks_long.csv")
    assert list(rows[0]) == ["student", "assignment", "grade_id", "score", "max_score",
                             "status", "late_penalty"]
    assert [(r["student"], r["grade_id"], r["score"], r["late_penalty"]) for r in rows] == [
        (r["student"], r["grade_id"], r["score"], r["late_penalty"]) for r in day.fourth.rows]
