"""The instructor's grading runs through the real CLI (issue 22, items 10-13).

One sequence, into one output directory:

1. a class that handed in only 01 and 02: alice (reference) both, bob (known bugs) 02 and
   lou 01 (alice's, with a cell that loops forever halfway), graded without ``--assignments``
   and with a notebook budget shorter than the step time limit;
2. alice's written answers on 02 are graded by hand (through the Gradebook API formgrader uses);
3. alice resubmits 02 with one written answer rewritten: a folder holding only her 02 is
   regraded with ``--assignments 02_bellman``.

Checked: an assignment nobody submitted is neither graded nor exported, a student who skipped
one others submitted gets "missing" (12); the batch shows its progress and the budget stops
the looping notebook, the checks before it keeping their points (13); the hand grade of the
rewritten answer is cleared everywhere and its comment kept, marked, while the unchanged
answer keeps its grade (10); the similarity report still covers the whole class (11).

The sandbox is not what is tested here, so the batches run ``--unsandboxed``.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import run_cli

from autograder.paths import SAMPLE_CLASS_DIR
from autograder.records.report import read_csv

pytestmark = pytest.mark.slow

A1, A2 = "01_mdps", "02_bellman"
NOT_SUBMITTED = ("03_dqn", "04_reinforce", "05_actor_critic", "06_ppo", "07_rlhf",
                 "08_alphago")
#: the whole-notebook budget of the first run: far more than a correct 01 or 02 needs (a few
#: seconds; about 5 s under load), far less than erin's looping check may take (STEP_TIMEOUT).
BUDGET, STEP_TIMEOUT = 40, 240
REWRITTEN, KEPT = "written_vi_converges", "written_vi_vs_pi"
COMMENT = "Name the contraction and its modulus."


def _copy(student: str, assignment: str, subs: Path, source: str | None = None) -> Path:
    target = subs / student / assignment / f"{assignment}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    origin = SAMPLE_CLASS_DIR / (source or student) / assignment / f"{assignment}.ipynb"
    shutil.copyfile(origin, target)
    return target


def _looping(path: Path) -> list[str]:
    """Put a cell that never ends before the third check cell; the grade ids from there on."""
    nb = json.loads(path.read_text())

    def check_id(cell: dict) -> str:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id", "")
        return grade_id if grade_id.startswith("check_") else ""

    third = [i for i, c in enumerate(nb["cells"]) if check_id(c)][2]
    nb["cells"].insert(third, {"cell_type": "code", "metadata": {}, "outputs": [],
                               "execution_count": None, "source": "while True:\n    pass"})
    path.write_text(json.dumps(nb))
    return [check_id(c) for c in nb["cells"][third + 1:] if check_id(c)]


def _rewrite(path: Path, grade_id: str, text: str) -> None:
    nb = json.loads(path.read_text())
    cell = next(c for c in nb["cells"]
                if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)
    cell["source"] = text
    path.write_text(json.dumps(nb))


def _grade(subs: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return run_cli("grade", str(subs), "--out", str(out), "--unsandboxed", "--workers", "2",
                   *extra)


def _grade_by_hand(out: Path) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        for cell, score in ((REWRITTEN, 1), (KEPT, 2)):
            grade = gb.find_grade(cell, A2, A2, "alice")
            grade.manual_score, grade.needs_manual_grade = score, False
        gb.find_comment(REWRITTEN, A2, A2, "alice").manual_comment = COMMENT
        gb.db.commit()


def _canvas(out: Path) -> list[list[str]]:
    with (out / "exports" / "canvas.csv").open(newline="") as f:
        return list(csv.reader(f))


def _similar_students(out: Path) -> set[str]:
    rows = read_csv(out / "similarity" / "similarity.csv")
    return {r["student_a"] for r in rows} | {r["student_b"] for r in rows if r["kind"] == "pair"}


@dataclass
class Runs:
    out: Path
    first: subprocess.CompletedProcess
    first_rows: list[dict[str, str]]
    first_similar: set[str]
    stopped: list[str]
    """the grade ids of lou's checks after the looping cell."""
    regrade: subprocess.CompletedProcess
    rows: list[dict[str, str]]

    def row(self, student: str, grade_id: str) -> dict[str, str]:
        return next(r for r in self.rows if r["student"] == student and r["grade_id"] == grade_id)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Runs:
    root = tmp_path_factory.mktemp("regrade")
    subs, out = root / "class", root / "grading"
    for student, assignment in (("alice", A1), ("alice", A2), ("bob", A2)):
        _copy(student, assignment, subs)
    stopped = _looping(_copy("lou", A1, subs, source="alice"))
    first = _grade(subs, out, "--budget", str(BUDGET), "--timeout", str(STEP_TIMEOUT))
    first_rows = read_csv(out / "grades.csv")
    first_similar = _similar_students(out)
    _grade_by_hand(out)
    again = root / "resubmitted"
    _rewrite(_copy("alice", A2, again), REWRITTEN,
             "Each backup is a gamma-contraction in the max norm, so V_k converges.")
    regrade = _grade(again, out, "--assignments", A2)
    return Runs(out, first, first_rows, first_similar, stopped, regrade,
                read_csv(out / "grades.csv"))


def test_both_runs_succeed(runs):
    for proc in (runs.first, runs.regrade):
        assert proc.returncode == 0, proc.stderr[-3000:]


# ----------------------------------------------------------------------------- 12. unsubmitted


def test_an_assignment_nobody_submitted_is_not_graded_or_exported(runs):
    from nbgrader.api import Gradebook

    assert {r["assignment"] for r in runs.first_rows} == {A1, A2}
    skipped = ", ".join(NOT_SUBMITTED)
    assert (f"not grading {len(NOT_SUBMITTED)} assignment(s) nobody submitted here: {skipped}"
            in runs.first.stderr)
    assert _canvas(runs.out)[0][5:] == [A1, A2]
    with Gradebook(f"sqlite:///{runs.out / 'gradebook.db'}") as gb:
        assert sorted(a.name for a in gb.assignments) == [A1, A2]


def test_a_student_who_skipped_an_assignment_others_submitted_is_missing(runs):
    for student, assignment in (("bob", A1), ("lou", A2)):
        rows = [r for r in runs.first_rows
                if r["student"] == student and r["assignment"] == assignment]
        assert rows and all(r["status"] == "missing" and r["score"] == "0" for r in rows)
        assert all(r["reason"] == "no submission" for r in rows)


# ----------------------------------------------------------------------------- 13. progress


def test_the_batch_shows_its_progress(runs):
    lines = re.split(r"[\r\n]", runs.first.stderr)
    assert any(re.search(r"grading: .*\b6/6\b", line) for line in lines)
    running = [line for line in lines if "running: " in line]
    for notebook in ("alice/01_mdps", "alice/02_bellman", "bob/02_bellman", "lou/01_mdps"):
        assert any(re.search(rf"{notebook} \d\d:\d\d", line) for line in running), notebook


def test_the_budget_stops_a_looping_notebook_and_keeps_what_came_before(runs):
    lou = {r["grade_id"]: r for r in runs.first_rows
           if r["student"] == "lou" and r["assignment"] == A1
           and r["grade_id"].startswith("check_")}
    alice = {r["grade_id"]: r for r in runs.first_rows
             if r["student"] == "alice" and r["assignment"] == A1}
    budget = f"the notebook's total time budget of {BUDGET} s"
    assert len(runs.stopped) >= 2
    for grade_id in runs.stopped:
        assert lou[grade_id]["score"] == "0" and lou[grade_id]["status"] == "error"
        assert budget in lou[grade_id]["reason"] and "could not run" in lou[grade_id]["reason"]
    before = [g for g in lou if g not in runs.stopped]
    assert len(before) == 2 and all(lou[g]["score"] == alice[g]["score"] != "0" for g in before)
    log = (runs.out / "logs" / f"lou__{A1}.log").read_text()
    assert f"did not stop at {budget}" in log


# ----------------------------------------------------------------------------- 10. hand grades


def test_a_hand_grade_of_a_changed_answer_is_cleared_and_its_comment_kept(runs):
    row = runs.row("alice", REWRITTEN)
    assert row["score"] == "" and row["status"] == "manual"
    assert f"[on an earlier answer, graded 1/3 by hand] {COMMENT}" in row["reason"]
    kept = runs.row("alice", KEPT)
    assert kept["score"] == "2" and kept["status"] == "manual"


def test_every_output_shows_the_changed_answer_as_to_be_graded(runs):
    from nbgrader.api import Gradebook

    table = runs.regrade.stdout.splitlines()
    alice = next(line for line in table if line.startswith("alice"))
    assert alice.split()[2].endswith("*")  # 02's total: pending
    by_login = {row[3]: row for row in _canvas(runs.out)[2:]}
    assert by_login["alice"][6] == ""  # nothing final to import
    page = (runs.out / "feedback" / "alice" / A2 / f"{A2}.html").read_text()
    line = next(x for x in page.splitlines() if f"<td>{REWRITTEN}</td>" in x)
    assert "- / 3" in line and "to be graded by hand" in line and "on an earlier answer" in line
    assert "still to be graded by hand" in page
    with Gradebook(f"sqlite:///{runs.out / 'gradebook.db'}") as gb:  # what formgrader shows
        grade = gb.find_grade(REWRITTEN, A2, A2, "alice")
        assert grade.manual_score is None and grade.needs_manual_grade
        assert gb.find_grade(KEPT, A2, A2, "alice").manual_score == 2


# ----------------------------------------------------------------------------- 11. similarity


def test_a_one_student_regrade_reports_on_the_whole_class(runs):
    assert runs.first_similar >= {"alice", "bob", "lou"}
    assert _similar_students(runs.out) == runs.first_similar
    line = next(x for x in runs.regrade.stderr.splitlines() if "similarity report:" in x)
    assert "most alike: none" not in line
