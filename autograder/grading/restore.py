"""Put a submitted notebook back into the shape of its release before anything runs it.

What nbgrader's ``OverwriteCells``, ``DeduplicateIds`` and ``OverwriteKernelspec`` do, from the
release notebook in memory (no gradebook needed, so parallel workers can do it), and a little
more:

* every test (check) cell gets the release's source, type and metadata back, whatever the
  student changed (a test cell turned into ``pass``, its points raised, its outputs faked);
* a deleted test cell is put back after the nearest graded cell before it in the release;
  a cell whose metadata was stripped but whose source is still a release test cell's is
  recognised as that test cell;
* a grade id that appears twice counts once (the first); the copies, and cells claiming grade
  ids the release does not have, become plain cells;
* solution and written-answer cells keep the student's source and get the release's metadata
  and cell type back (points never come from the submission: they come from the check specs);
* the kernelspec and language info are the release's; all outputs are dropped.

The result lists the *steps* of a grading session in notebook order: the student's code cells
(run in the sandbox) and the test cells (never run: the grader calls the student's functions
on the checks' cases instead).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import nbformat
from nbformat import NotebookNode

from autograder.course.build import CHECK_TAG, SOLUTION_TAG, WRITTEN_TAG, GradedCell, graded_cells


@dataclass(frozen=True)
class Step:
    """One thing a grading session does, in notebook order."""

    kind: str
    """``"cell"`` (run the student's code) or ``"check"`` (judge the check cell's specs)."""
    index: int
    """the cell's index in the restored notebook."""
    source: str = ""
    grade_id: str = ""
    specs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Restored:
    """A submission restored against its release."""

    nb: NotebookNode
    steps: list[Step]
    answers: dict[str, str]
    """written answer grade id -> the student's text (the release stub when missing)."""
    notes: list[str] = field(default_factory=list)
    """what was put back, for the log and the feedback."""


def _nbgrader(cell: Any) -> dict[str, Any] | None:
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    value = meta.get("nbgrader") if isinstance(meta, dict) else None
    return value if isinstance(value, dict) else None


def _grade_id(cell: Any) -> str | None:
    meta = _nbgrader(cell)
    gid = meta.get("grade_id") if meta else None
    return gid if isinstance(gid, str) else None


def _plain(cell: NotebookNode) -> NotebookNode:
    new = copy.deepcopy(cell)
    new.metadata.pop("nbgrader", None)
    return new


def _source(cell: Any) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _with(release_cell: NotebookNode, source: str) -> NotebookNode:
    new = copy.deepcopy(release_cell)
    new.source = source
    if new.cell_type == "code":
        new.outputs, new.execution_count = [], None
    return new


def restore(submitted: NotebookNode, release: NotebookNode) -> Restored:
    """Restore ``submitted`` against ``release`` (see the module docstring)."""
    graded = {c.grade_id: c for c in graded_cells(release)}
    order = [c.grade_id for c in graded_cells(release)]
    check_sources = {_source(release.cells[c.index]).strip(): c.grade_id
                     for c in graded.values() if c.kind == CHECK_TAG}
    notes: list[str] = []
    cells: list[NotebookNode] = []
    placed: dict[str, int] = {}  # grade id -> its position in ``cells``
    for number, cell in enumerate(submitted.cells, start=1):
        gid = _grade_id(cell)
        if gid is None and cell.cell_type == "code":
            gid = check_sources.get(_source(cell).strip())
            if gid is not None and gid not in placed:
                notes.append(f"cell {number} is test cell {gid} without its metadata: restored")
            elif gid is not None:
                gid = None
        if gid in graded and gid not in placed:
            cells.append(_restored_cell(cell, graded[gid], release, number, notes))
            placed[gid] = len(cells) - 1
            continue
        if gid is not None:
            why = "a second copy of" if gid in placed else "an unknown"
            notes.append(f"cell {number} carries {why} grade id {gid!r}: graded as a plain cell")
        new = _plain(cell)
        if new.cell_type == "code":
            new.outputs, new.execution_count = [], None
        cells.append(new)
    for position, gid in enumerate(order):
        cell = graded[gid]
        if gid in placed or cell.kind == SOLUTION_TAG:
            continue
        before = [placed[g] for g in order[:position] if g in placed]
        at = max(before) + 1 if before else 0
        cells.insert(at, _with(release.cells[cell.index], _source(release.cells[cell.index])))
        placed = {g: i + (i >= at) for g, i in placed.items()}
        placed[gid] = at
        notes.append(f"{'test' if cell.kind == CHECK_TAG else 'answer'} cell {gid} was missing: "
                     "put back from the release")
    missing = [g for g in order if g not in placed]
    if missing:
        notes.append("solution cell(s) " + ", ".join(missing) + " missing: their functions are "
                     "looked up wherever the notebook defines them")
    _unique_ids(cells)
    nb = nbformat.v4.new_notebook()  # cells set afterwards: no validation of student JSON
    nb.cells = cells
    nb.nbformat_minor = release.get("nbformat_minor", 5)
    nb.metadata = copy.deepcopy(release.metadata)
    if _kernel(submitted) != _kernel(release):
        notes.append("the kernelspec was changed: the release's is used")
    return Restored(nb, _steps(nb, graded), _answers(nb, graded), notes)


def _unique_ids(cells: list[NotebookNode]) -> None:
    seen: set[str] = set()
    for number, cell in enumerate(cells):
        cell_id = cell.get("id")
        if not isinstance(cell_id, str) or cell_id in seen:
            cell_id = f"cell-{number:04d}"
            while cell_id in seen:
                cell_id += "-x"
            cell["id"] = cell_id
        seen.add(cell_id)


def _kernel(nb: NotebookNode) -> Any:
    meta = nb.get("metadata")
    return meta.get("kernelspec") if isinstance(meta, dict) else None


def _restored_cell(cell: NotebookNode, graded: GradedCell, release: NotebookNode, number: int,
                   notes: list[str]) -> NotebookNode:
    original = release.cells[graded.index]
    if graded.kind == CHECK_TAG:
        if _source(cell) != _source(original) or _nbgrader(cell) != _nbgrader(original):
            notes.append(f"test cell {graded.grade_id} (cell {number}) was modified: restored")
        return _with(original, _source(original))
    if cell.cell_type != original.cell_type:
        notes.append(f"cell {number} ({graded.grade_id}) was turned into a {cell.cell_type} "
                     f"cell: it is a {original.cell_type} cell again")
    return _with(original, _source(cell))


def _steps(nb: NotebookNode, graded: dict[str, GradedCell]) -> list[Step]:
    steps = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        gid = _grade_id(cell)
        if gid in graded and graded[gid].kind == CHECK_TAG:
            steps.append(Step("check", index, grade_id=gid, specs=graded[gid].specs))
        elif _source(cell).strip():
            steps.append(Step("cell", index, source=_source(cell)))
    return steps


def _answers(nb: NotebookNode, graded: dict[str, GradedCell]) -> dict[str, str]:
    answers = {}
    for cell in nb.cells:
        gid = _grade_id(cell)
        if gid in graded and graded[gid].kind == WRITTEN_TAG:
            answers[gid] = _source(cell)
    return answers


def is_blank(answer: str, release_answer: str) -> bool:
    """True when a written answer is empty or still the release's stub."""
    return not answer.strip() or answer.strip() == release_answer.strip()
