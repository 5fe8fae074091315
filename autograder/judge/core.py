"""The check machinery's names in one place, for the spec modules (``from ... core import``).

A check spec names one graded student function (:mod:`~autograder.judge.spec`): its cases,
the reference, the comparison (:mod:`~autograder.judge.compare`), the points and a bank of
known bugs. :mod:`~autograder.judge.judging` judges a function's outputs case by case and picks
the hint; :mod:`~autograder.judge.learning` makes seeded learning checks; the registry
(:mod:`~autograder.judge.registry`) and the notebook API (:mod:`~autograder.judge.notebook`)
find and run a check by name. This module defines nothing.
"""

from __future__ import annotations

from autograder.box.calls import (
    NOT_IMPLEMENTED,
    Call,
    CaseProblem,
    Problem,
    Raised,
    Run,
    call_case,
)
from autograder.box.wire import Unreadable
from autograder.judge.compare import (
    FLOAT32_RTOL,
    Comparator,
    allclose,
    describe,
    numpy_output,
    promised_type,
    tolerances,
    type_name,
)
from autograder.judge.judging import (
    CaseResult,
    CheckReport,
    Judge,
    expected_output,
    judge,
    run_check,
    withheld_problem,
)
from autograder.judge.learning import (
    best_evaluation,
    best_rule,
    broken_agent,
    learning_case,
    learning_rule,
)
from autograder.judge.notebook import CHECK_MIME, CheckFailed, check, is_grading, is_nbgrader
from autograder.judge.registry import _REGISTRY, all_specs, get_spec, register
from autograder.judge.spec import (
    DEFAULT_GRADING_SEED,
    Bug,
    Case,
    CheckSpec,
    Deferred,
    MissingFunction,
    deferred_compare,
    grading_seed,
    missing_function_message,
    outcome_or_raise,
)

__all__ = [
    "NOT_IMPLEMENTED",
    "Bug",
    "Problem",
    "Case",
    "CaseProblem",
    "CaseResult",
    "CHECK_MIME",
    "CheckFailed",
    "CheckReport",
    "CheckSpec",
    "Deferred",
    "MissingFunction",
    "missing_function_message",
    "all_specs",
    "allclose",
    "FLOAT32_RTOL",
    "tolerances",
    "check",
    "deferred_compare",
    "describe",
    "numpy_output",
    "promised_type",
    "get_spec",
    "grading_seed",
    "is_grading",
    "is_nbgrader",
    "Judge",
    "judge",
    "best_evaluation",
    "best_rule",
    "broken_agent",
    "learning_case",
    "learning_rule",
    "Raised",
    "register",
    "run_check",
    "type_name",
    "withheld_problem",
    "Unreadable",
    "Call",
    "Comparator",
    "DEFAULT_GRADING_SEED",
    "Run",
    "outcome_or_raise",
    "_REGISTRY",
    "call_case",
    "expected_output",
]
