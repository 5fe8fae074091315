"""The check-spec machinery: one spec per graded student function.

A test cell in a notebook is one line, ``check("bellman.q_from_v")``. The spec it names holds
everything else: the cases (visible ones for the student, hidden ones drawn from the grader's
seed at grading time), the reference implementation, the comparison with its tolerance, the
points, and a bank of *known bugs*. When a case fails, the student's output is compared with the
output of every known bug on that case; a match names the bug and prints its hint. The same bank
is what ``tests/test_bug_bank.py`` runs to prove every typical bug loses its points.

A failed check raises :class:`CheckFailed`, so nbgrader scores the cell 0; a passed check prints
one line, so nbgrader gives the cell its points.
"""

from __future__ import annotations

import copy
import os
import sys
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: the grader's default seed for hidden cases; ``RLKIT_GRADING_SEED`` overrides it.
DEFAULT_GRADING_SEED = 20261121

Comparator = Callable[[Any, Any], "str | None"]


class CheckFailed(AssertionError):
    """A check did not pass; the message says which case, expected vs got, and a hint."""

    def _render_traceback_(self) -> list[str]:
        # IPython shows this instead of a traceback: the report is the useful part.
        return [f"\x1b[0;31mCheckFailed\x1b[0m: {self}"]


@dataclass(frozen=True)
class Case:
    """One input on which the student's function is compared with the reference.

    By default the case calls ``fn(*args, **kwargs)``. A case can instead give ``run``, a
    function of ``fn`` that returns what is compared (e.g. empirical frequencies of a random
    choice), and ``expected``, the exact value to compare with when it is not the reference's
    output (statistical checks compare with the exact value or distribution, not a sample,
    within the case's own ``compare``).
    """

    name: str
    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    run: Callable[[Callable], Any] | None = None
    expected: Any = None
    compare: Comparator | None = None
    """this case's own comparison (e.g. a statistical bound), instead of the spec's"""

    def call(self, fn: Callable) -> Any:
        """Run ``fn`` on a private copy of the inputs: mutating them harms nothing."""
        if self.run is not None:
            return self.run(fn)
        args = copy.deepcopy(self.args)
        kwargs = copy.deepcopy(dict(self.kwargs))
        return fn(*args, **kwargs)


@dataclass(frozen=True)
class Bug:
    """A plausible wrong implementation and the hint a student who wrote it should read."""

    name: str
    fn: Callable
    hint: str


@dataclass(frozen=True)
class CheckSpec:
    """Everything about grading one student function."""

    name: str
    """``<notebook topic>.<function>``, e.g. ``"bellman.q_from_v"``."""
    function: str
    """the name the student's function has in the notebook."""
    points: int
    reference: Callable
    visible_cases: Callable[[], Sequence[Case]]
    """deterministic cases the student sees and can run."""
    hidden_cases: Callable[[np.random.Generator], Sequence[Case]] = lambda rng: ()
    """cases drawn from the grader's seed; they run only when grading."""
    compare: Comparator = field(default=None)  # type: ignore[assignment]
    """returns ``None`` when ``got`` matches ``expected`` and otherwise says how it differs."""
    bugs: tuple[Bug, ...] = ()
    hint: str = ""
    """shown when a case fails and no known bug matches."""
    diagnose: Comparator | None = None
    """how a student's output is matched with a known bug's (default: ``compare``)."""

    def __post_init__(self) -> None:
        if self.compare is None:
            object.__setattr__(self, "compare", allclose())

    def cases(self, *, grading: bool, seed: int | None = None) -> list[Case]:
        """The visible cases, plus the hidden ones when grading."""
        cases = list(self.visible_cases())
        if grading:
            cases += list(self.hidden_cases(self.hidden_rng(seed)))
        return cases

    def hidden_rng(self, seed: int | None = None) -> np.random.Generator:
        """A generator for this spec's hidden cases, independent across specs."""
        seed = grading_seed() if seed is None else seed
        return np.random.default_rng([seed, zlib.crc32(self.name.encode())])


# --- comparators


def _as_array(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def describe(value: Any, max_chars: int = 400) -> str:
    """A short, readable rendering of a value for a failure message."""
    if isinstance(value, np.ndarray) or hasattr(value, "detach"):
        arr = _as_array(value)
        text = np.array2string(arr, precision=4, suppress_small=True, threshold=40)
        text = f"{text}  (shape {arr.shape}, dtype {arr.dtype})"
    else:
        text = repr(value)
    return text if len(text) <= max_chars else text[: max_chars - 3] + "..."


def allclose(*, rtol: float = 1e-6, atol: float = 1e-8, integer: bool = False) -> Comparator:
    """Compare numbers or arrays: same shape, finite where expected is, and close.

    With ``integer=True`` the values must also be whole numbers (e.g. an action index or a
    deterministic policy), and are compared exactly.
    """

    def compare(got: Any, expected: Any) -> str | None:
        exp = _as_array(expected)
        try:
            arr = _as_array(got)
            if arr.dtype == object or not (
                np.issubdtype(arr.dtype, np.number) or arr.dtype == bool
            ):
                raise TypeError
        except Exception:  # noqa: BLE001 - anything non-numeric is a wrong type
            return f"expected a number or numeric array, got {type(got).__name__}"
        if arr.shape != exp.shape:
            return f"wrong shape: expected {exp.shape}, got {arr.shape}"
        if integer:
            if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
                return "expected whole numbers (indices), got fractional values"
            if not np.array_equal(arr.astype(np.int64), exp.astype(np.int64)):
                return "values differ"
            return None
        if np.any(np.isnan(arr) & ~np.isnan(exp)):
            return "the result contains NaN"
        if not np.allclose(arr, exp, rtol=rtol, atol=atol, equal_nan=True):
            err = np.max(np.abs(arr.astype(float) - exp.astype(float)))
            return f"values differ (largest absolute difference {err:.3g})"
        return None

    return compare


# --- running


@dataclass(frozen=True)
class CaseResult:
    """What one case gave: ``problem`` is None when it passed."""

    case: str
    problem: str | None
    expected: Any = None
    got: Any = None


@dataclass(frozen=True)
class CheckReport:
    """The outcome of one check: all-or-nothing points, the failing case, and the hint."""

    name: str
    points: int
    results: tuple[CaseResult, ...]
    hint: str | None = None
    bug: str | None = None

    @property
    def passed(self) -> bool:
        """True when every case passed."""
        return bool(self.results) and all(r.problem is None for r in self.results)

    @property
    def score(self) -> int:
        """The points this check earns: all of them or none."""
        return self.points if self.passed else 0

    @property
    def first_failure(self) -> CaseResult | None:
        """The first case that failed, if any."""
        return next((r for r in self.results if r.problem is not None), None)

    def summary(self) -> str:
        """The readable report: one line on success, the failing case with a hint otherwise."""
        n = len(self.results)
        if self.passed:
            return f"\u2713 {self.name}: all {n} cases passed ({self.points}/{self.points} points)"
        fail = self.first_failure
        assert fail is not None
        n_failed = sum(r.problem is not None for r in self.results)
        lines = [
            f"\u2717 {self.name}: {n_failed} of {n} cases failed (0/{self.points} points)",
            f"  case: {fail.case}",
            f"  problem: {fail.problem}",
        ]
        if fail.expected is not None or fail.got is not None:
            lines.append(f"  expected: {describe(fail.expected)}")
            lines.append(f"  got:      {describe(fail.got)}")
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


@dataclass(frozen=True)
class _Raised:
    """Stands for "the function raised this" when outputs are matched with known bugs."""

    error: str


def _call(case: Case, fn: Callable) -> Any:
    """``case.call(fn)``, with an exception turned into a :class:`_Raised` value."""
    try:
        with np.errstate(all="ignore"):
            return case.call(fn)
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - a raised error is an outcome to report
        return _Raised(_first_line(exc))


def _same(spec: CheckSpec, case: Case, got: Any, out: Any) -> bool:
    if isinstance(got, _Raised) or isinstance(out, _Raised):
        return isinstance(got, _Raised) and isinstance(out, _Raised) and got.error == out.error
    try:
        return (spec.diagnose or case.compare or spec.compare)(got, out) is None
    except Exception:  # noqa: BLE001 - incomparable outputs do not match
        return False


def _diagnose(spec: CheckSpec, outputs: list[tuple[Case, Any]]) -> Bug | None:
    """The known bug whose outputs match the student's on the most cases (ties: bank order).

    ``outputs`` pairs each case with what the student's function gave (a value or a
    :class:`_Raised`), the first failing case first. A bug must match on that one.
    """
    best: tuple[int, Bug] | None = None
    for bug in spec.bugs:
        matches = 0
        for i, (case, got) in enumerate(outputs):
            try:
                ok = _same(spec, case, got, _call(case, bug.fn))
            except NotImplementedError:
                ok = False
            if i == 0 and not ok:
                break
            matches += ok
        else:
            if best is None or matches > best[0]:
                best = (matches, bug)
            if matches == len(outputs):
                break
    return None if best is None else best[1]


def run_check(
    spec: CheckSpec, fn: Callable, *, grading: bool = False, seed: int | None = None
) -> CheckReport:
    """Run ``fn`` on the spec's cases and compare with the reference, case by case.

    When a case fails, the student's outputs are matched with the known bugs' to pick the
    hint, and the failing case is run a second time: a function that gives different results
    on identical inputs is told to draw its randomness from the given seed or generator.
    """
    results: list[CaseResult] = []
    outputs: list[tuple[Case, Any]] = []  # what fn gave on each case, first failure first
    first_failure: Case | None = None
    not_implemented = False
    for case in spec.cases(grading=grading, seed=seed):
        expected = case.expected if case.expected is not None else case.call(spec.reference)
        try:
            got = _call(case, fn)
        except NotImplementedError:
            not_implemented = True
            results.append(
                CaseResult(case.name, "not implemented yet (it raises NotImplementedError)"))
            continue
        if isinstance(got, _Raised):
            results.append(CaseResult(case.name, f"your function raised {got.error}"))
        else:
            problem = (case.compare or spec.compare)(got, expected)
            results.append(CaseResult(case.name, problem, expected if problem else None,
                                      got if problem else None))
        if results[-1].problem and first_failure is None:
            first_failure = case
            outputs.insert(0, (case, got))
        else:
            outputs.append((case, got))
    hint: str | None = None
    bug: Bug | None = None
    if not_implemented:
        hint = "Replace `raise NotImplementedError()` with your implementation."
    elif first_failure is not None:
        if not _same(spec, first_failure, outputs[0][1], _call(first_failure, fn)):
            hint = ("Your function gave different results on two runs with the same inputs: "
                    "draw all randomness from the given seed or `rng`.")
        else:
            bug = _diagnose(spec, outputs)
            hint = bug.hint if bug is not None else (spec.hint or None)
    return CheckReport(spec.name, spec.points, tuple(results), hint,
                       bug.name if bug is not None else None)


# --- the notebook API


def is_grading() -> bool:
    """True inside ``nbgrader autograde`` (which sets ``NBGRADER_EXECUTION=autograde``)."""
    return os.environ.get("NBGRADER_EXECUTION") == "autograde"


def is_nbgrader() -> bool:
    """True whenever nbgrader runs the notebook (autograde or validate): skip long training."""
    return "NBGRADER_EXECUTION" in os.environ


def grading_seed() -> int:
    """The seed of the hidden cases: the grader's ``RLKIT_GRADING_SEED`` or the default."""
    return int(os.environ.get("RLKIT_GRADING_SEED", DEFAULT_GRADING_SEED))


_REGISTRY: dict[str, CheckSpec] = {}


def register(*specs: CheckSpec) -> None:
    """Add specs to the registry (each name once)."""
    for spec in specs:
        if spec.name in _REGISTRY and _REGISTRY[spec.name] is not spec:
            raise ValueError(f"two check specs are named {spec.name!r}")
        _REGISTRY[spec.name] = spec


def get_spec(name: str) -> CheckSpec:
    """The spec called ``name``; a clear error lists the known names otherwise."""
    from autograder.checks import load_all

    load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"no check named {name!r}; known checks: {known}") from None


def all_specs() -> list[CheckSpec]:
    """Every registered spec, sorted by name."""
    from autograder.checks import load_all

    load_all()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def check(name: str, fn: Callable | None = None) -> None:
    """Run the check ``name`` on the student's function and print the report.

    With ``fn`` omitted, the function is looked up by the spec's function name in the calling
    notebook's namespace, so a renamed or deleted function gets a message saying so.

    It returns nothing, so the cell has no ``execute_result`` that nbgrader could read as a
    partial score.

    Raises:
        CheckFailed: if any case fails (so that nbgrader scores the test cell 0).

    """
    spec = get_spec(name)
    if fn is None:
        namespace = sys._getframe(1).f_globals
        fn = namespace.get(spec.function)
        if fn is None:
            raise CheckFailed(
                f"{name}: the function `{spec.function}` is not defined. Did you rename or delete "
                "it, or not run its cell? Keep the name and signature from the notebook."
            )
    if not callable(fn):
        raise CheckFailed(
            f"{name}: `{spec.function}` should be a function, got {type(fn).__name__}")
    report = run_check(spec, fn, grading=is_grading())
    if not report.passed:
        raise CheckFailed(report.summary())
    print(report.summary())


__all__ = [
    "Bug",
    "Case",
    "CaseResult",
    "CheckFailed",
    "CheckReport",
    "CheckSpec",
    "all_specs",
    "allclose",
    "check",
    "describe",
    "get_spec",
    "grading_seed",
    "is_grading",
    "is_nbgrader",
    "register",
    "run_check",
]
