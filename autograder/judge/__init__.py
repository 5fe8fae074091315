"""The judge: check specs for every graded student function, and the machinery that judges them.

``specs/`` holds one module per notebook part (``mdps`` for notebook 01, ``bellman`` for 02,
...), each registering its specs on import (:func:`load_all` imports them all). The machinery,
by concern: :mod:`~autograder.judge.spec` (specs and cases), :mod:`~autograder.judge.compare`
(comparators), :mod:`~autograder.judge.learning` (learning checks),
:mod:`~autograder.judge.judging` (the :class:`Judge`), :mod:`~autograder.judge.diagnose` (how a
wrong output differs), :mod:`~autograder.judge.inputs` (the in-place test),
:mod:`~autograder.judge.withhold` (rlkit's references kept out of the box),
:mod:`~autograder.judge.registry` and :mod:`~autograder.judge.notebook` (``check()`` in a
student's kernel, with :mod:`~autograder.judge.guard`: a time limit per case, the student's
frames). :mod:`~autograder.judge.core` names them all in one place for the specs.
Nothing here is ever imported inside the grader's box (:mod:`autograder.box`).
"""

from __future__ import annotations

from autograder.judge.judging import CheckReport, run_check
from autograder.judge.notebook import CHECK_MIME, CheckFailed, check, is_grading, is_nbgrader
from autograder.judge.registry import all_specs, get_spec
from autograder.judge.spec import Bug, Case, CheckSpec
from autograder.judge.specs import SPEC_MODULES, load_all

__all__ = [
    "Bug",
    "Case",
    "CHECK_MIME",
    "CheckFailed",
    "CheckReport",
    "CheckSpec",
    "SPEC_MODULES",
    "all_specs",
    "check",
    "get_spec",
    "is_grading",
    "is_nbgrader",
    "load_all",
    "run_check",
]
