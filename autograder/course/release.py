"""Assignments from the instructor sources, and the student release.

One assignment per source file: ``solutions/01_mdps.py`` is assignment ``01_mdps`` with a single
notebook ``01_mdps.ipynb``. The student release goes through nbgrader's ``generate_assignment``
(solutions stubbed, test cells locked, checksums recorded) in a throw-away course and is written
as canonical JSON, so that releasing twice gives the same bytes.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from autograder.course.build import GradedCell, build_source, graded_cells, write_notebook
from autograder.course.directory import Course, GradingSettings
from autograder.paths import SOLUTIONS_DIR, assignment_id, source_files


@dataclass(frozen=True)
class Assignment:
    """One assignment: its instructor source and the nbgrader source notebook built from it."""

    id: str
    source_path: Path
    nb: NotebookNode

    @property
    def notebook(self) -> str:
        """The notebook name (without ``.ipynb``): the assignment id."""
        return self.id

    @cached_property
    def cells(self) -> list[GradedCell]:
        """The graded cells of the built notebook."""
        return graded_cells(self.nb)

    @property
    def autograded_points(self) -> float:
        """The points of all check cells (written answers are graded by hand)."""
        return sum(c.points or 0 for c in self.cells if c.kind == "check")


def load_assignments(
    solutions_dir: Path = SOLUTIONS_DIR, only: Sequence[str] | None = None
) -> list[Assignment]:
    """Build every source in ``solutions_dir`` (or those in ``only``), sorted by id.

    Raises:
        ValueError: no sources, or ``only`` names an assignment that has no source.
        BuildError: a source breaks the cell conventions.

    """
    paths = {assignment_id(p): p for p in source_files(solutions_dir)}
    if not paths:
        raise ValueError(f"no instructor sources (*.py) in {solutions_dir}")
    wanted = sorted(paths) if only is None else list(only)
    unknown = [a for a in wanted if a not in paths]
    if unknown:
        raise ValueError(f"unknown assignment(s) {unknown}; known: {sorted(paths)}")
    return [Assignment(a, paths[a], build_source(paths[a])) for a in sorted(set(wanted))]


def generate_assignments(course: Course, assignments: Sequence[Assignment], *,
                         only_changed: bool = False) -> list[str]:
    """Put the sources into ``course`` and run ``generate_assignment`` on each.

    With ``only_changed``, an assignment the course already holds unchanged (see
    :meth:`Course.is_generated`) is left as it is. Returns the ids generated.
    """
    generated = []
    for assignment in assignments:
        if only_changed and course.is_generated(assignment.id, assignment.notebook,
                                                assignment.nb):
            continue
        course.add_source(assignment.id, assignment.notebook, assignment.nb)
        course.generate_assignment(assignment.id)
        generated.append(assignment.id)
    return generated


def released_notebook(course: Course, assignment: Assignment) -> NotebookNode:
    """Read the student version nbgrader generated in ``course``."""
    path = course.path("release", None, assignment.id, assignment.notebook)
    return nbformat.read(path, as_version=4)


def release_notebooks(assignments: Sequence[Assignment]) -> dict[str, NotebookNode]:
    """Return the student version of each assignment, generated in a throw-away course."""
    with tempfile.TemporaryDirectory(prefix="autograder-release-") as tmp:
        course = Course.open(Path(tmp) / "course", f"sqlite:///{Path(tmp) / 'release.db'}",
                               GradingSettings())
        generate_assignments(course, assignments)
        return {a.id: released_notebook(course, a) for a in assignments}


def release(solutions_dir: Path, out_dir: Path) -> list[Path]:
    """Write the student notebooks ``out_dir/<assignment>.ipynb`` for every source."""
    notebooks = release_notebooks(load_assignments(solutions_dir))
    return [write_notebook(nb, Path(out_dir) / f"{a}.ipynb") for a, nb in notebooks.items()]
