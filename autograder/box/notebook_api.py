"""The stand-in of ``autograder.checks`` inside the grader's box.

A notebook imports ``from autograder.checks import check, is_nbgrader`` (its self-check). In
the box the grader mounts a package of its own in place of ``autograder``
(:func:`autograder.box.sandbox.box_package`): ``autograder.box`` and this module as
``autograder.checks``, nothing else, so that a notebook that runs there imports no spec, no
expected value and no comparison. The check cells never run in the box (the grader calls the
functions itself), so :func:`check` here only says so if a student's own cell calls it.
:func:`~autograder.box.unwritten.skip_if_unwritten` is the same here and in the kernel (it
knows no answer).
"""

from __future__ import annotations

import os
from typing import Any

from autograder.box.unwritten import skip_if_unwritten

#: the MIME type of a check cell's outcome (see :mod:`autograder.judge.notebook`).
CHECK_MIME = "application/vnd.rlkit.check+json"


def is_grading() -> bool:
    """True inside the grader (``NBGRADER_EXECUTION=autograde``)."""
    return os.environ.get("NBGRADER_EXECUTION") == "autograde"


def is_nbgrader() -> bool:
    """True whenever nbgrader or the grader runs the notebook: skip long training."""
    return "NBGRADER_EXECUTION" in os.environ


def check(name: str, fn: Any = None) -> None:
    """Checks are judged by the grader, outside this process: nothing to do here."""
    print(f"{name}: judged by the grader")


__all__ = ["CHECK_MIME", "check", "is_grading", "is_nbgrader", "skip_if_unwritten"]
