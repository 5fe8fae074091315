"""Where things live in the course repository."""

from __future__ import annotations

from pathlib import Path

#: the ``autograder`` package directory.
PACKAGE_DIR = Path(__file__).resolve().parent
#: the repository root (the directory that holds ``autograder/`` and ``rlkit/``).
REPO_ROOT = PACKAGE_DIR.parent
#: the instructor's jupytext sources, one per assignment.
SOLUTIONS_DIR = REPO_ROOT / "solutions"
#: the committed student release, generated from ``SOLUTIONS_DIR``.
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
#: the bundled sample class: ``<student>/<assignment>/<notebook>.ipynb``.
SAMPLE_CLASS_DIR = PACKAGE_DIR / "frontends" / "sample_class"


def source_files(solutions_dir: Path = SOLUTIONS_DIR) -> list[Path]:
    """Return the instructor sources ``NN_topic.py`` in ``solutions_dir``, sorted by name."""
    return sorted(p for p in Path(solutions_dir).glob("*.py") if not p.name.startswith("_"))


def assignment_id(source: Path) -> str:
    """Return the assignment id of a source: its stem (``solutions/01_mdps.py`` -> ``01_mdps``)."""
    return Path(source).stem
