"""Restoring a submission against its release before anything runs it."""

from __future__ import annotations

import copy

import nbformat
import pytest
from conftest import EDGE_ASSIGNMENT

from autograder.grading.restore import restore
from autograder.paths import SAMPLE_CLASS_DIR


@pytest.fixture(scope="module")
def release(releases):
    return releases[EDGE_ASSIGNMENT]


@pytest.fixture()
def alice():
    path = SAMPLE_CLASS_DIR / "alice" / EDGE_ASSIGNMENT / f"{EDGE_ASSIGNMENT}.ipynb"
    return nbformat.read(path, as_version=4)


def _gid(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _checks(nb):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
            and c.cell_type == "code"]


def _unique(nb):
    ids = [c.get("id") for c in nb.cells]
    return len(ids) == len(set(ids))


def _steps(restored):
    return [(s.kind, s.grade_id or s.source) for s in restored.steps]


def test_an_untouched_submission_is_unchanged(alice, release):
    restored = restore(alice, release)
    assert restored.notes == []
    assert [c.source for c in restored.nb.cells] == [c.source for c in alice.cells]
    checks = [s for s in restored.steps if s.kind == "check"]
    assert [s.grade_id for s in checks] == [_gid(c) for c in _checks(release)]
    assert all(s.specs for s in checks)


def test_tampered_test_cells_get_their_source_and_points_back(alice, release):
    for cell in _checks(alice):
        cell.source = "pass"
        cell.metadata.nbgrader["points"] = 100
        cell.cell_type = "markdown"
    restored = restore(alice, release)
    for cell, original in zip(_checks(restored.nb), _checks(release), strict=True):
        assert cell.source == original.source and cell.metadata == original.metadata
    assert any("was modified: restored" in n for n in restored.notes)


def test_deleted_test_cells_are_put_back_after_their_solution(alice, release):
    alice.cells = [c for c in alice.cells if c not in _checks(alice)]
    restored = restore(alice, release)
    ids = [_gid(c) for c in restored.nb.cells if _gid(c)]
    assert ids == [_gid(c) for c in release.cells if _gid(c)]
    assert sum("was missing" in n for n in restored.notes) == len(_checks(release))


def test_stripped_metadata_is_recognised_by_source(alice, release):
    for cell in alice.cells:
        cell.metadata = {}
    restored = restore(alice, release)
    assert _steps(restored) == _steps(restore(
        nbformat.read(SAMPLE_CLASS_DIR / "alice" / EDGE_ASSIGNMENT / f"{EDGE_ASSIGNMENT}.ipynb",
                      as_version=4), release))


def test_duplicated_grade_ids_count_once(alice, release):
    first = _checks(alice)[0]
    alice.cells += [copy.deepcopy(first) for _ in range(3)]
    written = next(c for c in alice.cells if c.cell_type == "markdown" and _gid(c))
    alice.cells.insert(0, copy.deepcopy(written))
    restored = restore(alice, release)
    checks = [s.grade_id for s in restored.steps if s.kind == "check"]
    assert checks.count(_gid(first)) == 1
    assert sum("second copy" in n for n in restored.notes) == 4
    assert _unique(restored.nb)


def test_kernelspec_and_outputs_are_the_releases(alice, release):
    alice.metadata["kernelspec"] = {"name": "evil", "display_name": "x", "language": "bash"}
    code = next(c for c in alice.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", text="fake")]
    restored = restore(alice, release)
    assert restored.nb.metadata == release.metadata
    assert all(not c.get("outputs") for c in restored.nb.cells)
    assert any("kernelspec" in n for n in restored.notes)
