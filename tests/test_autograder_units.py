"""Fast units: submission validation, failure reasons, the table, the course config."""

from __future__ import annotations

import json
import sys

import pytest

from autograder.course.directory import (
    KERNEL_NAME,
    Course,
    GradingSettings,
    config_text,
    load_config,
    write_kernelspec,
)
from autograder.grading.submissions import (
    InvalidNotebook,
    find_students,
    ignored_entries,
    load_notebook,
    load_submission,
)
from autograder.judge import get_spec, run_check
from autograder.records.report import GradeRow, check_failure_reason, error_reason, format_table


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{ not json", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not a UTF-8 text file"),
        ("[1, 2]", "not a Jupyter notebook"),
        (json.dumps({"cells": [], "nbformat": 3, "nbformat_minor": 0, "metadata": {}}),
         "nbformat 3 is not supported"),
        (json.dumps({"cells": [{"cell_type": "bogus"}], "nbformat": 4, "nbformat_minor": 5,
                     "metadata": {}}), "does not follow the nbformat 4 schema"),
    ],
)
def test_invalid_notebooks_are_rejected_with_a_reason(tmp_path, content, reason):
    path = tmp_path / "nb.ipynb"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(InvalidNotebook, match=reason) as info:
        load_notebook(path)
    assert str(info.value).startswith("corrupt notebook: ")


def test_students_and_their_unusable_notebooks_are_found(tmp_path):
    (tmp_path / "ann" / "a1").mkdir(parents=True)
    (tmp_path / "ann" / "a1" / "a1.ipynb").write_text("nope")
    (tmp_path / "ben").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "bad name").mkdir()
    (tmp_path / "a1.ipynb").write_text("{}")
    (tmp_path / "notes.txt").write_text("x")
    assert find_students(tmp_path) == ["ann", "ben"]
    assert ignored_entries(tmp_path) == ["a1.ipynb", "bad name"]
    subs = [load_submission(tmp_path, s, "a1", "a1") for s in find_students(tmp_path)]
    assert [(s.valid, s.problem.split(":")[0]) for s in subs] == [
        (False, "corrupt notebook"), (False, "no submission")]


def test_a_check_failure_condenses_to_case_problem_and_hint():
    spec = get_spec("mdps.discounted_return")
    report = run_check(spec, spec.bugs[0].fn)
    reason = check_failure_reason(report.summary())
    assert reason.startswith(report.first_failure.case + ": ")
    assert reason.endswith(f"(hint: {report.hint})")
    assert "\n" not in reason


def test_error_reasons_are_one_line():
    assert error_reason("KeyboardInterrupt", "", 7).startswith("CellTimeoutError")
    assert "7 s" in error_reason("CellTimeoutError", "", 7)
    assert error_reason("NameError", "name 'x' is not defined\nmore") == (
        "NameError: name 'x' is not defined")
    assert error_reason("CheckFailed", "mdps.x: `f` is not defined.") == (
        "mdps.x: `f` is not defined.")


def test_the_table_totals_students_by_assignment():
    rows = [GradeRow("ann", "a1", "a1", "c1", 2, 2, "ok"),
            GradeRow("ann", "a1", "a1", "w1", None, 3, "manual"),
            GradeRow("ann", "a2", "a2", "c1", 0, 1, "failed"),
            GradeRow("ben", "a2", "a2", "c1", 1, 1, "ok")]
    lines = format_table(rows).splitlines()
    assert lines[0].split() == ["student", "a1", "a2", "total"]
    assert lines[2].split() == ["ann", "2/5*", "0/1", "2/6*"]
    assert lines[3].split() == ["ben", "-", "1/1", "1/1"]
    assert lines[-1].startswith("* written answers")


def test_the_course_config_sets_what_grading_relies_on(tmp_path):
    settings = GradingSettings(timeout=7, seed=3)
    course = Course.open(tmp_path / "course", "sqlite:///gb.db", settings)
    config = load_config(course.config_file)
    assert config.Execute.timeout == 7 and config.Execute.kernel_name == KERNEL_NAME
    assert config.IgnorePattern.pattern and config.OverwriteCells.add_missing_cells
    assert config.CourseDirectory.root == str(course.root)
    assert config.ClearSolutions.text_stub == "YOUR ANSWER HERE"
    assert config_text(course.root, "sqlite:///gb.db", settings) == course.config_file.read_text()
    spec = json.loads((write_kernelspec(tmp_path / "k", seed=3) / "kernel.json").read_text())
    assert spec["argv"][0] == sys.executable and spec["env"]["RLKIT_GRADING_SEED"] == "3"


def test_reopening_a_course_keeps_its_files_and_rewrites_its_config(tmp_path):
    course = Course.open(tmp_path / "course", "sqlite:///gb.db")
    (course.root / "autograded").mkdir()
    inode = course.root.stat().st_ino
    again = Course.open(tmp_path / "course", "sqlite:///other.db", GradingSettings(timeout=9))
    assert (course.root / "autograded").is_dir() and course.root.stat().st_ino == inode
    assert load_config(again.config_file).CourseDirectory.db_url == "sqlite:///other.db"
    assert course.config_changed and again.config_changed  # assignments get regenerated
    same = Course.open(tmp_path / "course", "sqlite:///other.db", GradingSettings(timeout=9))
    assert not same.config_changed


def test_stderr_in_a_passing_test_cell_keeps_its_points():
    import nbformat
    from nbgrader.preprocessors import IgnorePattern
    from nbgrader.utils import determine_grade

    from autograder.course.directory import DEFAULT_STDERR_PATTERN

    cell = nbformat.v4.new_code_cell('check("x")', outputs=[
        nbformat.v4.new_output("stream", name="stderr", text="RuntimeWarning: overflow\n"),
        nbformat.v4.new_output("stream", name="stdout", text="ok\n")])
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "points": 2,
                                 "grade_id": "c", "locked": True}
    assert determine_grade(cell) == (0, 2)  # what nbgrader does without the filter
    cell, _ = IgnorePattern(pattern=DEFAULT_STDERR_PATTERN).preprocess_cell(cell, {}, 0)
    assert determine_grade(cell) == (2, 2)


def test_a_grader_failure_costs_only_that_notebook(monkeypatch, tmp_path, releases):
    import autograder.grading.notebook as autograde
    from autograder.box.sandbox import Limits, Sandbox
    from autograder.paths import SAMPLE_CLASS_DIR

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the grader")

    monkeypatch.setattr(autograde, "restore", broken)
    job = autograde.Job("alice", "02_bellman", "02_bellman", SAMPLE_CLASS_DIR,
                        releases["02_bellman"], GradingSettings(), 1,
                        Sandbox(None, Limits(), isolate=False))
    result = autograde.grade_notebook(job)
    assert result.status == "error" and "a bug in the grader" in result.reason
    assert result.cells and all(c.score == 0 and c.status == "error" for c in result.cells)
    assert "RuntimeError" in result.output
