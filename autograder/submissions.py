"""Finding and validating student submissions before anything runs them.

Submissions follow nbgrader's layout, ``SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb``.
A file that is too large, not valid JSON, not a notebook, or not nbformat 4 is *invalid*: it is
never run and its cells score zero with the reason recorded, so one bad file costs only its own
points.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

#: the student ids we accept (they become directory names and glob parts inside nbgrader).
_STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")
#: the notebook format major version nbgrader and our tools read.
NBFORMAT = 4


class InvalidNotebook(ValueError):
    """A file that cannot be graded as a notebook; the message is the reason shown to people."""


@dataclass(frozen=True)
class Submission:
    """One notebook of one student's submission of one assignment, loaded or not."""

    student: str
    assignment: str
    notebook: str
    path: Path
    nb: NotebookNode | None
    problem: str | None = None
    """why ``nb`` is None: ``"no submission"`` or ``"corrupt notebook: ..."``."""

    @property
    def valid(self) -> bool:
        """True when the notebook loaded and can be graded."""
        return self.nb is not None


def _first_line(text: str) -> str:
    return (str(text).strip().splitlines() or [""])[0]


def _drop_outputs(data: dict) -> None:
    """Drop every output and execution count: the grader never reads them."""
    for cell in data["cells"]:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None


def load_notebook(path: Path, *, max_bytes: int | None = None,
                  drop_outputs: bool = False) -> NotebookNode:
    """Read and validate a notebook file.

    Args:
        path: the ``.ipynb`` file.
        max_bytes: a bigger file is not read at all (it is invalid: too large).
        drop_outputs: drop the outputs before validating (the grader never reads them, and a
            notebook full of outputs validates slowly).

    Raises:
        InvalidNotebook: with a one-line reason (``corrupt notebook: ...``).

    """
    try:
        size = Path(path).stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise InvalidNotebook(
                f"corrupt notebook: the file is {size / 2**20:.1f} MiB, more than the "
                f"{max_bytes / 2**20:g} MiB a notebook may have (clear its outputs)")
        text = Path(path).read_text(encoding="utf-8")
        data = json.loads(text)
    except UnicodeDecodeError:
        raise InvalidNotebook("corrupt notebook: not a UTF-8 text file") from None
    except json.JSONDecodeError as exc:
        raise InvalidNotebook(
            f"corrupt notebook: not valid JSON ({exc.msg}, line {exc.lineno})"
        ) from None
    except RecursionError:
        raise InvalidNotebook("corrupt notebook: JSON nested too deeply") from None
    except OSError as exc:
        raise InvalidNotebook(f"corrupt notebook: cannot read it ({exc.strerror})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise InvalidNotebook("corrupt notebook: JSON but not a Jupyter notebook (no cells)")
    if data.get("nbformat") != NBFORMAT:
        raise InvalidNotebook(
            f"corrupt notebook: nbformat {data.get('nbformat')!r} is not supported "
            f"(expected {NBFORMAT})"
        )
    try:
        if drop_outputs:
            _drop_outputs(data)
            nb = nbformat.reads(json.dumps(data), as_version=NBFORMAT)
        else:
            nb = nbformat.reads(text, as_version=NBFORMAT)
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        where = "/".join(str(p) for p in getattr(exc, "absolute_path", ())) or "top level"
        raise InvalidNotebook(
            f"corrupt notebook: does not follow the nbformat 4 schema (at {where})"
        ) from None
    except Exception as exc:  # noqa: BLE001 - nbformat raises several kinds; all mean invalid
        raise InvalidNotebook(f"corrupt notebook: {_first_line(exc)[:200]}") from None
    return nb


def find_students(root: Path) -> list[str]:
    """Return the student ids of a submissions directory: its sub-directories with a valid name."""
    return sorted(
        p.name for p in Path(root).iterdir() if p.is_dir() and _STUDENT_ID.match(p.name)
    )


def ignored_entries(root: Path) -> list[str]:
    """Return what looks like a misplaced submission in ``root`` (for a warning).

    That is a directory whose name is not a valid student id, or a notebook or archive lying
    at the top level instead of in ``<student>/<assignment>/``.
    """
    return sorted(
        p.name for p in Path(root).iterdir()
        if not p.name.startswith(".")
        and (p.is_dir() and not _STUDENT_ID.match(p.name) or p.suffix in (".ipynb", ".zip"))
    )


def submission_path(root: Path, student: str, assignment: str, notebook: str) -> Path:
    """``root/student/assignment/notebook.ipynb``."""
    return Path(root) / student / assignment / f"{notebook}.ipynb"


def load_submission(root: Path, student: str, assignment: str, notebook: str,
                    max_bytes: int | None = None) -> Submission:
    """Load ``root/student/assignment/notebook.ipynb``, recording why it is unusable if it is.

    The outputs are dropped (``max_bytes``: see :func:`load_notebook`).
    """
    path = submission_path(root, student, assignment, notebook)
    if not path.is_file():
        return Submission(student, assignment, notebook, path, None, "no submission")
    try:
        nb = load_notebook(path, max_bytes=max_bytes, drop_outputs=True)
    except InvalidNotebook as exc:
        return Submission(student, assignment, notebook, path, None, str(exc))
    return Submission(student, assignment, notebook, path, nb)
