"""The student release and the bundled sample class are in sync with solutions/."""

from __future__ import annotations

import json

import pytest

from autograder.course.build import notebook_text
from autograder.frontends.sample_class import STUDENTS, write_sample_class
from autograder.paths import NOTEBOOKS_DIR, SAMPLE_CLASS_DIR


def _files(root, pattern):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.glob(pattern))}


def test_committed_notebooks_are_the_release_of_solutions(releases):
    fresh = {f"{a}.ipynb": notebook_text(nb).encode() for a, nb in releases.items()}
    committed = {str(k): v for k, v in _files(NOTEBOOKS_DIR, "*.ipynb").items()}
    assert sorted(committed) == sorted(fresh), "run: python -m autograder release"
    for name, content in fresh.items():
        assert committed[name] == content, f"stale notebooks/{name}: python -m autograder release"


@pytest.mark.parametrize("assignment", ["01_mdps", "02_bellman"])
def test_the_release_hides_every_answer(releases, assignment):
    nb = releases[assignment]
    text = json.dumps(nb)
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    kinds = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        assert cell.get("outputs", []) == [] and cell.get("execution_count") is None
        if not meta:
            continue
        if cell.cell_type == "markdown":
            kinds.setdefault("written", []).append(cell.source)
            assert cell.source.strip().endswith("YOUR ANSWER HERE")
        elif meta["grade"]:
            kinds.setdefault("check", []).append(cell.source)
            assert meta["locked"] and cell.metadata["editable"] is False
        else:
            kinds.setdefault("solution", []).append(cell.source)
            assert "raise NotImplementedError()" in cell.source
    assert set(kinds) == {"solution", "check", "written"}


def test_committed_sample_class_is_generated_from_solutions(tmp_path, assignments, releases):
    write_sample_class(tmp_path, assignments=assignments, releases=releases)
    fresh, committed = _files(tmp_path, "*/*/*.ipynb"), _files(SAMPLE_CLASS_DIR, "*/*/*.ipynb")
    assert sorted(committed) == sorted(fresh), "run: python -m autograder sample-class"
    stale = [str(k) for k in fresh if committed[k] != fresh[k]]
    assert not stale, f"stale sample class files {stale}: python -m autograder sample-class"


def test_sample_class_plan_is_what_it_says(assignments, releases):
    from autograder.frontends.sample_class import expected_scores

    expected = expected_scores(assignments, releases)  # every source, not just the bundled
    for assignment in assignments:
        full = assignment.autograded_points
        got = {s: expected[(s, assignment.id)] for s in STUDENTS}
        assert got["alice"] == full and got["carol"] == 0
        assert 0 < got["bob"] < full and 0 < got["dave"] < full
        assert got["erin"] < full if assignment.id == assignments[0].id else got["erin"] == full
        assert got["frank"] == (0 if assignment.id == assignments[0].id else full)
