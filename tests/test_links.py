"""Links to a classmate's work are not read: the linking student gets nothing, nobody else pays.

The batch (through the real CLI, two workers) holds the honest sample students alice (full
marks) and bob (known bugs) on notebook 02, and every link of ``tests/attacks/links.py`` to
alice's notebook. The unit tests below pin :func:`autograder.grading.submissions.read_nofollow`.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from attacks.links import LINKS, LinkAttack
from conftest import EDGE_ASSIGNMENT, GradedBatch, grade_batch

from autograder.grading.submissions import InvalidNotebook, load_submission, read_nofollow
from autograder.paths import SAMPLE_CLASS_DIR

HONEST = ("alice", "bob")


@pytest.fixture(scope="module")
def link_batch(tmp_path_factory) -> GradedBatch:
    root = tmp_path_factory.mktemp("links")
    subs = root / "subs"
    for name in HONEST:
        source = SAMPLE_CLASS_DIR / name / EDGE_ASSIGNMENT / f"{EDGE_ASSIGNMENT}.ipynb"
        target = subs / name / EDGE_ASSIGNMENT / source.name
        target.parent.mkdir(parents=True)
        shutil.copyfile(source, target)
    outside = root / "elsewhere" / f"{EDGE_ASSIGNMENT}.ipynb"
    outside.parent.mkdir()
    shutil.copyfile(subs / "alice" / EDGE_ASSIGNMENT / outside.name, outside)
    for attack in LINKS:
        attack.make(subs, "alice", EDGE_ASSIGNMENT, outside)
    return grade_batch(subs, root / "out", "--assignments", EDGE_ASSIGNMENT, "--workers", "2")


def test_the_batch_finishes_with_a_row_for_everyone(link_batch):
    assert link_batch.returncode == 0, link_batch.stderr[-3000:]
    assert {r["student"] for r in link_batch.rows} == {*HONEST, *(a.name for a in LINKS)}


@pytest.mark.parametrize("attack", LINKS, ids=lambda a: a.name)
def test_a_linking_student_is_missing_with_the_reason(link_batch, attack: LinkAttack):
    rows = [r for r in link_batch.rows if r["student"] == attack.name]
    assert rows and all(r["status"] == "missing" for r in rows)
    assert all(float(r["score"] or 0) == 0 for r in rows)
    assert all(r["reason"].startswith("not graded: ") and attack.reason in r["reason"]
               for r in rows), rows[0]["reason"]
    course = link_batch.out / "course"
    assert not (course / "submitted" / attack.name).exists()
    assert not (course / "autograded" / attack.name).exists()


def test_the_students_linked_to_keep_their_grades(link_batch, expected):
    for name in HONEST:
        assert link_batch.total(name, EDGE_ASSIGNMENT) == expected[(name, EDGE_ASSIGNMENT)]
    alice = [r for r in link_batch.rows if r["student"] == "alice"]
    assert all(r["status"] in ("ok", "manual") for r in alice)
    submitted = link_batch.out / "course" / "submitted" / "alice" / EDGE_ASSIGNMENT
    assert (submitted / f"{EDGE_ASSIGNMENT}.ipynb").is_file()


def test_grading_writes_the_similarity_section(link_batch):
    report = link_batch.out / "similarity"
    assert (report / "index.html").is_file() and (report / "similarity.csv").is_file()
    line = next(x for x in link_batch.stderr.splitlines() if "similarity report:" in x)
    assert str(report / "index.html") in line and "most alike:" in line
    compared = (report / "similarity.csv").read_text()
    assert "alice" in compared and not any(a.name in compared for a in LINKS)


# ----------------------------------------------------------------------------- units


def _alice(tmp: Path, student: str = "ann") -> Path:
    path = tmp / "subs" / student / "a1" / "a1.ipynb"
    path.parent.mkdir(parents=True)
    shutil.copyfile(SAMPLE_CLASS_DIR / "alice" / EDGE_ASSIGNMENT / f"{EDGE_ASSIGNMENT}.ipynb",
                    path)
    return path


def test_read_nofollow_refuses_a_link_at_every_depth(tmp_path):
    real = _alice(tmp_path)
    subs = tmp_path / "subs"
    assert read_nofollow(subs, ("ann", "a1", "a1.ipynb")) == real.read_bytes()
    (subs / "dir").symlink_to("ann")
    (subs / "asg").mkdir()
    (subs / "asg" / "a1").symlink_to(subs / "ann" / "a1")
    (subs / "file" / "a1").mkdir(parents=True)
    (subs / "file" / "a1" / "a1.ipynb").symlink_to(real)
    for parts, shown in [(("dir", "a1", "a1.ipynb"), "dir"),
                         (("asg", "a1", "a1.ipynb"), "asg/a1"),
                         (("file", "a1", "a1.ipynb"), "file/a1/a1.ipynb")]:
        with pytest.raises(InvalidNotebook, match=f"not graded: {shown} is a symbolic link"):
            read_nofollow(subs, parts)
    with pytest.raises(FileNotFoundError):
        read_nofollow(subs, ("nobody", "a1", "a1.ipynb"))
    with pytest.raises(ValueError, match="single path component"):
        read_nofollow(subs, ("..", "subs", "ann", "a1", "a1.ipynb"))


def test_a_fifo_or_a_folder_is_not_read_and_does_not_block(tmp_path):
    (tmp_path / "f" / "a1").mkdir(parents=True)
    os.mkfifo(tmp_path / "f" / "a1" / "a1.ipynb")  # opening it for reading would wait
    (tmp_path / "d" / "a1" / "a1.ipynb").mkdir(parents=True)
    for student in ("f", "d"):
        sub = load_submission(tmp_path, student, "a1", "a1")
        assert not sub.valid and "is not a regular file" in sub.problem


def test_a_size_cap_applies_before_reading(tmp_path):
    _alice(tmp_path)
    sub = load_submission(tmp_path / "subs", "ann", "a1", "a1", max_bytes=100)
    assert not sub.valid and "more than the" in sub.problem


def test_the_copy_into_course_submitted_refuses_a_link_swapped_in_after_grading(tmp_path):
    from autograder.course.directory import Course
    from autograder.grading.batch import _write_files
    from autograder.grading.notebook import NotebookResult

    real = _alice(tmp_path)
    (tmp_path / "subs" / "mal" / "a1").mkdir(parents=True)
    (tmp_path / "subs" / "mal" / "a1" / "a1.ipynb").symlink_to(real)
    course = Course.open(tmp_path / "out" / "course", f"sqlite:///{tmp_path / 'gb.db'}")
    assignment = SimpleNamespace(id="a1", notebook="a1")
    for student in ("ann", "mal"):
        result = NotebookResult(student, "a1", "a1", [], restored=nbformat.v4.new_notebook())
        _write_files(course, tmp_path / "out", tmp_path / "subs", assignment, result)
    from autograder.course.build import notebook_text
    from autograder.records.sanitise import sanitise_notebook

    submitted = course.path("submitted", "ann", "a1", "a1")  # the file read, sanitised
    assert submitted.read_text() == notebook_text(sanitise_notebook(json.loads(
        real.read_text())))
    assert not course.path("submitted", "mal", "a1", "a1").exists()
    log = (tmp_path / "out" / "logs" / "mal__a1.log").read_text()
    assert "not copied to course/" in log and "is a symbolic link" in log
