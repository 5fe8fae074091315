"""Submissions that are symbolic links to a classmate's work (or to a file outside the class).

Each :class:`LinkAttack` lays out one student folder in a submissions directory that already
holds the victim's honest ``<victim>/<assignment>/<assignment>.ipynb``. Followed, each link
would be graded as the victim's notebook and get the victim's grade. ``tests/test_links.py``
grades them next to the honest students through the real CLI.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LinkAttack:
    """One linking student."""

    name: str
    make: Callable[[Path, str, str, Path], None]
    """``make(submissions, victim, assignment, outside)`` lays out ``submissions/<name>``;
    ``outside`` is a copy of the victim's notebook outside the submissions directory."""
    reason: str
    """what the reason of every graded cell must contain."""


def _notebook(subs: Path, student: str, assignment: str) -> Path:
    return subs / student / assignment / f"{assignment}.ipynb"


def _link_notebook(name: str) -> Callable[[Path, str, str, Path], None]:
    def make(subs: Path, victim: str, assignment: str, outside: Path) -> None:
        path = _notebook(subs, name, assignment)
        path.parent.mkdir(parents=True)
        path.symlink_to(Path("..", "..", victim, assignment, path.name))
    return make


def _link_outside(name: str) -> Callable[[Path, str, str, Path], None]:
    def make(subs: Path, victim: str, assignment: str, outside: Path) -> None:
        path = _notebook(subs, name, assignment)
        path.parent.mkdir(parents=True)
        path.symlink_to(outside)  # absolute, out of the class
    return make


def _link_student(name: str) -> Callable[[Path, str, str, Path], None]:
    def make(subs: Path, victim: str, assignment: str, outside: Path) -> None:
        (subs / name).symlink_to(victim, target_is_directory=True)
    return make


def _link_assignment(name: str) -> Callable[[Path, str, str, Path], None]:
    def make(subs: Path, victim: str, assignment: str, outside: Path) -> None:
        (subs / name).mkdir()
        (subs / name / assignment).symlink_to(Path("..", victim, assignment),
                                              target_is_directory=True)
    return make


def _link_nested(name: str) -> Callable[[Path, str, str, Path], None]:
    """A real notebook file, in an assignment folder reached through a linked folder."""
    def make(subs: Path, victim: str, assignment: str, outside: Path) -> None:
        hidden = subs / name / ".real"
        hidden.mkdir(parents=True)
        shutil.copytree(subs / victim / assignment, hidden / assignment)
        (subs / name / assignment).symlink_to(Path(".real", assignment),
                                              target_is_directory=True)
    return make


_LINK = "is a symbolic link"
LINKS = [
    LinkAttack("x-link-notebook", _link_notebook("x-link-notebook"),
               f"{_LINK} (to '../../alice/"),
    LinkAttack("x-link-outside", _link_outside("x-link-outside"), _LINK),
    LinkAttack("x-link-student", _link_student("x-link-student"),
               f"x-link-student {_LINK} (to 'alice'): submit the folder itself"),
    LinkAttack("x-link-assignment", _link_assignment("x-link-assignment"),
               f"x-link-assignment/02_bellman {_LINK}"),
    LinkAttack("x-link-nested", _link_nested("x-link-nested"), _LINK),
]
