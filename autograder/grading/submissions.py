"""Finding and validating student submissions before anything runs them.

Submissions follow nbgrader's layout, ``SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb``.
A file that is too large, not valid JSON, not a notebook, or not nbformat 4 is *invalid*: it is
never run and its cells score zero with the reason recorded, so one bad file costs only its own
points.

A submission is read only from inside its own student folder: a symbolic link anywhere below
the submissions directory (the student folder, the assignment folder or the notebook) is not
followed, so a folder that links to a classmate's notebook is not graded as that notebook (it is
recorded as missing, with the reason). :func:`read_nofollow` opens each component relative to
its parent with ``O_NOFOLLOW``, so a link swapped in after a check is refused by the kernel
too, and every name is one path component, so the file read cannot lie outside the folder.
Hard links are not symbolic links and are read like any file (an upload as a zip cannot carry
one); a hard-linked copy shows up in the similarity report as an identical pair.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import stat
from collections.abc import Iterator, Sequence
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
    """why ``nb`` is None: ``"no submission"``, ``"corrupt notebook: ..."`` or
    ``"not graded: ... is a symbolic link ..."``."""

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


def _too_large(size: int, max_bytes: int) -> InvalidNotebook:
    return InvalidNotebook(
        f"corrupt notebook: the file is {size / 2**20:.1f} MiB, more than the "
        f"{max_bytes / 2**20:g} MiB a notebook may have (clear its outputs)")


def parse_notebook(data: bytes, *, drop_outputs: bool = False) -> NotebookNode:
    """Validate the bytes of a notebook file and return the notebook.

    Args:
        data: the file's content.
        drop_outputs: drop the outputs before validating (the grader never reads them, and a
            notebook full of outputs validates slowly).

    Raises:
        InvalidNotebook: with a one-line reason (``corrupt notebook: ...``).

    """
    try:
        text = data.decode("utf-8")
        parsed = json.loads(text)
    except UnicodeDecodeError:
        raise InvalidNotebook("corrupt notebook: not a UTF-8 text file") from None
    except json.JSONDecodeError as exc:
        raise InvalidNotebook(
            f"corrupt notebook: not valid JSON ({exc.msg}, line {exc.lineno})"
        ) from None
    except RecursionError:
        raise InvalidNotebook("corrupt notebook: JSON nested too deeply") from None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("cells"), list):
        raise InvalidNotebook("corrupt notebook: JSON but not a Jupyter notebook (no cells)")
    if parsed.get("nbformat") != NBFORMAT:
        raise InvalidNotebook(
            f"corrupt notebook: nbformat {parsed.get('nbformat')!r} is not supported "
            f"(expected {NBFORMAT})"
        )
    try:
        if drop_outputs:
            _drop_outputs(parsed)
            nb = nbformat.reads(json.dumps(parsed), as_version=NBFORMAT)
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


def load_notebook(path: Path, *, max_bytes: int | None = None,
                  drop_outputs: bool = False) -> NotebookNode:
    """Read and validate a notebook file the user names (a symbolic link is followed).

    Args:
        path: the ``.ipynb`` file.
        max_bytes: a bigger file is not read at all (it is invalid: too large).
        drop_outputs: see :func:`parse_notebook`.

    Raises:
        InvalidNotebook: with a one-line reason (``corrupt notebook: ...``).

    """
    try:
        size = Path(path).stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise _too_large(size, max_bytes)
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidNotebook(f"corrupt notebook: cannot read it ({exc.strerror})") from None
    return parse_notebook(data, drop_outputs=drop_outputs)


# ----------------------------------------------------------------------------- reading safely

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
#: O_NONBLOCK: opening a FIFO must not wait for a writer (it is then refused: not a file).
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def _link_reason(shown: str, dir_fd: int, name: str, is_file: bool) -> InvalidNotebook:
    try:
        target = os.readlink(name, dir_fd=dir_fd)
    except OSError:
        target = "?"
    what = ("submit the notebook file itself" if is_file
            else "submit the folder itself, not a link to one")
    return InvalidNotebook(
        f"not graded: {shown} is a symbolic link (to {target[:200]!r}): {what}")


def _is_link(dir_fd: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _open_below(dir_fd: int, name: str, flags: int, shown: str, is_file: bool) -> int:
    """Open ``name`` in the directory ``dir_fd`` without following a link (see the module)."""
    try:
        return os.open(name, flags, dir_fd=dir_fd)
    except OSError as exc:
        # a link is ELOOP with O_NOFOLLOW, or ENOTDIR with O_DIRECTORY as well
        if exc.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(dir_fd, name):
            raise _link_reason(shown, dir_fd, name, is_file) from None
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            raise FileNotFoundError(errno.ENOENT, "no submission", shown) from None
        raise InvalidNotebook(f"corrupt notebook: cannot read {shown} ({exc.strerror})") from None


@contextlib.contextmanager
def _opened_nofollow(root: Path, parts: Sequence[str]) -> Iterator[int]:
    """The descriptor of ``root/parts...``, each component opened without following a link."""
    for part in parts:
        if part in ("", ".", "..") or "/" in part or "\0" in part:
            raise ValueError(f"not a single path component: {part!r}")
    fds = [os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)]
    try:
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            shown = "/".join(parts[: depth + 1])
            fds.append(_open_below(fds[-1], part, _FILE_FLAGS if last else _DIR_FLAGS, shown,
                                   is_file=last))
        yield fds[-1]
    finally:
        for fd in fds:
            os.close(fd)


def read_nofollow(root: Path, parts: Sequence[str], *, max_bytes: int | None = None) -> bytes:
    """Read the file ``root/parts[0]/.../parts[-1]`` without following a symbolic link below root.

    ``root`` itself (the submissions directory the instructor names) may be a link; below it,
    each folder and the file are opened relative to their parent with ``O_NOFOLLOW``.

    Args:
        root: the trusted directory.
        parts: the path below it, one name per component (no ``/``, ``.`` or ``..``).
        max_bytes: a bigger file is not read at all (it is invalid: too large).

    Raises:
        FileNotFoundError: the file or a folder on the way is absent.
        InvalidNotebook: a component is a symbolic link (``not graded: ...``), the file is not a
            regular file or too large, or cannot be read (``corrupt notebook: ...``).
        ValueError: a name of ``parts`` is not a single path component.

    """
    with _opened_nofollow(root, parts) as fd:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidNotebook(f"corrupt notebook: {'/'.join(parts)} is not a regular file")
        if max_bytes is not None and info.st_size > max_bytes:
            raise _too_large(info.st_size, max_bytes)
        with os.fdopen(os.dup(fd), "rb") as file:
            data = file.read(-1 if max_bytes is None else max_bytes + 1)
    if max_bytes is not None and len(data) > max_bytes:  # it grew while we read it
        raise _too_large(len(data), max_bytes)
    return data


def stat_nofollow(root: Path, parts: Sequence[str]) -> os.stat_result:
    """``os.stat`` of the regular file ``root/parts...``, reached as :func:`read_nofollow` does.

    Raises:
        FileNotFoundError, InvalidNotebook, ValueError: as :func:`read_nofollow`.

    """
    with _opened_nofollow(root, parts) as fd:
        info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise InvalidNotebook(f"corrupt notebook: {'/'.join(parts)} is not a regular file")
    return info


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
    return Path(root).joinpath(*submission_parts(student, assignment, notebook))


def submission_parts(student: str, assignment: str, notebook: str) -> tuple[str, str, str]:
    """The path of a submission below the submissions directory, one name per component."""
    return student, assignment, f"{notebook}.ipynb"


def load_submission(root: Path, student: str, assignment: str, notebook: str,
                    max_bytes: int | None = None) -> Submission:
    """Load ``root/student/assignment/notebook.ipynb``, recording why it is unusable if it is.

    It is read with :func:`read_nofollow` (a symbolic link below ``root`` is refused, with the
    reason) and the outputs are dropped (``max_bytes``: see :func:`read_nofollow`).
    """
    path = submission_path(root, student, assignment, notebook)
    try:
        data = read_nofollow(root, submission_parts(student, assignment, notebook),
                             max_bytes=max_bytes)
        nb = parse_notebook(data, drop_outputs=True)
    except FileNotFoundError:
        return Submission(student, assignment, notebook, path, None, "no submission")
    except ValueError as exc:  # InvalidNotebook, or a name that is not one path component
        return Submission(student, assignment, notebook, path, None, str(exc))
    return Submission(student, assignment, notebook, path, nb)
