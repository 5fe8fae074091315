"""Issue 22 item 14: the formgrader's pages fit a course the grader keeps.

A class of two on 02 (alice on time, bob two days late under a 10 %-a-day policy), graded
through the real CLI, then ``python -m autograder formgrader`` serving it; the pages are read
as served (HTML, no browser):

- Manage Assignments has no exchange or course-id banner, and the Release, Collect, Generate
  Feedback and Release Feedback columns are hidden; nbgrader's feedback API answers with the
  command to run instead and writes nothing;
- Manage Submissions lists the late submission with the points before the penalty (what
  nbgrader's list shows), the penalty, and the score bob's feedback and grades.csv show, and
  after a hand grade the penalty of the new points;
- every page says that nbgrader's scores are before the late penalty;
- the manual-grading page says why formulas show as source when MathJax (from its CDN) does not
  load (and stands in for the two MathJax calls nbgrader's own script makes, which would stop
  it), and the JupyterLab page it links to is served.

What a browser sees (the hidden columns, the MathJax note offline) is for ``test_browser.py``.
"""

from __future__ import annotations

import json
import posixpath
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import EDGE_ASSIGNMENT, grade_batch
from test_autograder_incremental import (
    LATE_FRACTION,
    LATE_STAMP,
    POLICY,
    Server,
    _copy,
    http_get,
)
from test_formgrader_xss import _call

from autograder.frontends.formgrader import FEEDBACK_ELSEWHERE
from autograder.records.report import read_csv

pytestmark = pytest.mark.slow
A2 = EDGE_ASSIGNMENT
#: the points bob's written answer gets by hand while the formgrader runs.
HAND_POINTS = 2.0


def _grade_by_hand(out: Path, student: str, cell: str, points: float) -> None:
    """What Manual Grading does, through the Gradebook API formgrader uses."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        grade = gb.find_grade(cell, A2, A2, student)
        grade.manual_score, grade.needs_manual_grade = points, False
        gb.db.commit()


@dataclass
class Served:
    out: Path
    pages: dict[str, tuple[int, str]]
    feedback_api: list[tuple[int, str]]
    feedback_files_after: list[str]


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Served:
    root = tmp_path_factory.mktemp("formgrader-pages")
    subs, out, policy = root / "subs", root / "out", root / "late.toml"
    _copy("alice", A2, subs)
    _copy("bob", A2, subs)
    (subs / "bob" / A2 / "timestamp.txt").write_text(LATE_STAMP + "\n")
    policy.write_text(POLICY)
    batch = grade_batch(subs, out, "--assignments", A2, "--late", str(policy),
                        "--workers", "2")
    assert batch.returncode == 0, batch.stderr[-3000:]
    shutil.rmtree(subs)
    server = Server(out)
    server.start()
    try:
        port = server.port
        pages = {path: http_get(port, path) for path in (
            "formgrader/manage_assignments", f"formgrader/manage_submissions/{A2}",
            "formgrader/gradebook", "formgrader/manage_students")}
        status, body = http_get(port, f"formgrader/api/submitted_notebooks/{A2}/{A2}")
        assert status == 200, body
        (bob,) = [n for n in json.loads(body) if n["student"] == "bob"]
        pages["submission"] = http_get(port, f"formgrader/submissions/{bob['id']}/")
        link = re.search(r'var lab = "/lab/tree/([^"]+)"', pages["submission"][1])
        pages["lab"] = (http_get(port, f"lab/tree/{posixpath.normpath(link.group(1))}")
                        if link else (0, ""))
        _grade_by_hand(out, "bob", "written_vi_converges", HAND_POINTS)
        pages["after a hand grade"] = http_get(port, f"formgrader/manage_submissions/{A2}")
        feedback_api = [_call(port, "POST", f"formgrader/api/assignment/{A2}/{step}")
                        for step in ("generate_feedback", "release_feedback")]
        feedback_api.append(_call(port, "POST",
                                  f"formgrader/api/assignment/{A2}/bob/generate_feedback"))
    finally:
        server.stop()
    written = sorted(str(p.relative_to(out)) for p in (out / "course" / "feedback").rglob("*")
                     ) if (out / "course" / "feedback").exists() else []
    return Served(out, pages, feedback_api, written)


def test_manage_assignments_has_no_exchange_banner_and_no_feedback_buttons(served):
    status, page = served.pages["formgrader/manage_assignments"]
    assert status == 200
    for gone in ("warning-exchange", "warning-course-id", "could not be created",
                 "course id has not been set", "Current configuration"):
        assert gone not in page
    # nbgrader's header and scripts are kept; its columns 7, 8, 10, 11 are hidden
    assert "<th class=\"text-center no-sort\">Generate Feedback</th>" in page
    for column in (7, 8, 10, 11):
        assert f"thead th:nth-child({column})" in page
        assert f"#main-table td:nth-child({column})" in page
    assert "nth-child(9)" not in page  # the number of submissions stays
    assert "python -m autograder feedback DIR" in page


def test_the_feedback_api_says_what_to_run_and_writes_nothing(served):
    for status, body in served.feedback_api:
        assert status == 200 and json.loads(body) == {"success": False,
                                                      "error": FEEDBACK_ELSEWHERE}
    assert served.feedback_files_after == []


def _late_table(page: str) -> list[list[str]]:
    table = re.search(r'<table[^>]*id="late-submissions".*?</table>', page, flags=re.S)
    assert table, page[:2000]
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(0), flags=re.S)
    return [re.findall(r"<td>(?:<b>)?(.*?)(?:</b>)?</td>", row, flags=re.S) for row in rows]


def test_manage_submissions_lists_the_late_penalty_as_the_feedback_counts_it(served):
    status, page = served.pages[f"formgrader/manage_submissions/{A2}"]
    assert status == 200
    header, *rows = _late_table(page)
    assert header == ["student", "score", "late penalty", "after the penalty", "why"]
    (bob,) = rows  # alice was on time
    graded = [r for r in read_csv(served.out / "grades.csv") if r["student"] == "bob"]
    earned = sum(float(r["score"] or 0) for r in graded)
    penalty = sum(float(r["late_penalty"] or 0) for r in graded)
    possible = sum(float(r["max_score"]) for r in graded)
    assert penalty == pytest.approx(LATE_FRACTION * earned) and penalty > 0
    assert bob[:4] == ["bob", f"{earned:g} / {possible:g}", f"&minus;{penalty:g}",
                       f"{earned - penalty:g} / {possible:g}"]
    assert "1 d 10 h 1 min late" in bob[4] and "20 % of the points earned" in bob[4]
    feedback = (served.out / "feedback" / "bob" / A2 / f"{A2}.ipynb").with_suffix(".html")
    assert f"-{penalty:g} points" in feedback.read_text()
    # its Autograde, Generate Feedback and Release Feedback columns are hidden
    assert all(f"#main-table td:nth-child({c})" in page for c in (6, 7, 8))
    assert "nbgrader autograde" not in page  # nbgrader's instructions are not shown

    # a hand grade counts at once, as the next `feedback` run will count it
    status, page = served.pages["after a hand grade"]
    (bob,) = _late_table(page)[1:]
    now = earned + HAND_POINTS
    assert bob[:4] == ["bob", f"{now:g} / {possible:g}", f"&minus;{LATE_FRACTION * now:g}",
                       f"{now - LATE_FRACTION * now:g} / {possible:g}"]


def test_every_page_says_the_scores_are_before_the_late_penalty(served):
    for path in ("formgrader/manage_assignments", f"formgrader/manage_submissions/{A2}",
                 "formgrader/gradebook", "formgrader/manage_students"):
        status, page = served.pages[path]
        assert status == 200 and 'id="autograder-note"' in page, path
        assert "before the late penalty" in page


def test_the_grading_page_explains_formulas_without_mathjax_and_links_jupyterlab(served):
    status, page = served.pages["submission"]
    assert status == 200
    # MathJax comes from its CDN (no copy in the Python packages): the note says so offline
    assert re.search(r'<script src="https://cdnjs\.cloudflare\.com/[^"]*mathjax', page)
    assert 'note.id = "mathjax-missing"' in page
    # and, without it, nbgrader's own script (which calls MathJax.Hub unguarded) gets its calls
    assert 'document.readyState !== "complete" || window.MathJax' in page
    assert "window.MathJax = {Hub: {Queue:" in page
    assert 'var lab = "/lab/tree/./autograded/bob/' in page
    status, lab = served.pages["lab"]
    assert status == 200 and "JupyterLab" in lab
