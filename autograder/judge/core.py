"""The check-spec machinery: one spec per graded student function.

A test cell in a notebook is one line, ``check("bellman.q_from_v")``. The spec it names holds
everything else: the cases (visible ones for the student, hidden ones drawn from the grader's
seed at grading time), the reference implementation, the comparison with its tolerance, the
points, and a bank of *known bugs*. When a case fails, the student's output is compared with the
output of every known bug on that case; a match names the bug and prints its hint. The same bank
is what ``tests/test_bug_bank.py`` runs to prove every typical bug loses its points.

In a notebook, a check shows its report: one line when it passed, the failing case with its
hint when not (it raises :class:`CheckFailed` only under nbgrader, see :func:`check`): that is
the student's interactive self-check. The grader does not run check cells at all: it calls
the student's function on the cases inside the submission's sandboxed process, reads the
outputs back as plain data and judges them itself with :func:`judge`, the same code
:func:`run_check` uses for the self-check.
"""

from __future__ import annotations

import os
import sys
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograder.box.calls import (
    NOT_IMPLEMENTED,
    Call,
    CaseProblem,
    Problem,
    Raised,
    Reraised,
    Run,
    call_case,
    first_line,
)
from autograder.box.wire import Unreadable
from autograder.judge.inputs import changed_arguments, in_place_problem

#: the grader's default seed for hidden cases; ``RLKIT_GRADING_SEED`` overrides it.
DEFAULT_GRADING_SEED = 20261121

Comparator = Callable[[Any, Any], "str | None"]


class CheckFailed(AssertionError):
    """A check did not pass; the message says which case, expected vs got, and a hint."""

    def _render_traceback_(self) -> list[str]:
        # IPython shows this instead of a traceback: the report is the useful part.
        return [f"\x1b[0;31mCheckFailed\x1b[0m: {self}"]


@dataclass(frozen=True)
class Deferred:
    """A value computed only where a case is judged, never where the student's code runs.

    A case's ``expected`` (or a comparator's bound) often comes from the reference, or from an
    exact computation the submission does not need. The submission's sandbox builds the same
    cases to call the student's function on, but the references of its notebook are withheld
    there (:mod:`autograder.judge.withhold`): anything derived from them is given as
    ``Deferred(lambda: ...)`` and computed in the grader's process only (once per judge).
    """

    compute: Callable[[], Any]


def deferred_compare(make: Callable[[], Comparator]) -> Comparator:
    """A comparator built on first use (e.g. a statistical bound from the reference's moments).

    Comparators run only in the judge, so the reference they need is never called inside the
    submission's sandbox.
    """
    built: list[Comparator] = []

    def compare(got: Any, expected: Any) -> str | None:
        if not built:
            built.append(make())
        return built[0](got, expected)

    return compare


@dataclass(frozen=True)
class Case:
    """One input on which the student's function is compared with the reference.

    How the function is called is plain data the sandbox can receive
    (:mod:`autograder.box.calls`): by default ``fn(*args, **kwargs)``; with ``run``, a
    :class:`~autograder.box.calls.Run` of a registered box procedure (gradients, many draws of
    a random choice). ``expected`` is the exact value to compare with when it is not the
    reference's output (statistical checks compare with the exact value or distribution within
    the case's own ``compare``). A learning run gives ``drive`` instead: a function of
    ``call(run) -> output`` that asks for one or more runs (e.g. one training run per seed) and
    scores what they return in the judge's process (:func:`learning_case`).
    """

    name: str
    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    run: Run | None = None
    expected: Any = None
    """the exact value to compare with, or a :class:`Deferred` that computes it."""
    compare: Comparator | None = None
    """this case's own comparison (e.g. a statistical bound), instead of the spec's"""
    training: bool = False
    """a learning run (:func:`learning_case`): seconds per call, so the judge never runs it
    again, nor runs the known bugs on it to name a failure (the other cases name it)"""
    drive: Callable[[Callable[[Run], Any]], Any] | None = None
    """a judge-side driver of several box runs (see above); None for one call."""

    def box_call(self) -> Call | Run:
        """How the sandbox calls the function on this case (not for a ``drive`` case)."""
        if self.drive is not None:
            raise TypeError(f"case {self.name!r} is driven by the judge, run by run")
        return self.run if self.run is not None else Call(self.args, self.kwargs)

    def call(self, fn: Callable) -> Any:
        """Run ``fn`` on this case here (the self-check, the reference, the known bugs)."""
        if self.drive is not None:
            return self.drive(lambda run: outcome_or_raise(call_case(run, fn)))
        if self.run is not None and not isinstance(self.run, Run):
            return self.run(fn)  # a closure: only cases that never cross into the box
        return self.box_call()(fn)


def outcome_or_raise(got: Any) -> Any:
    """A run's output; a raised error, a problem or a stub raises again (a driver stops)."""
    if got is NOT_IMPLEMENTED:
        raise NotImplementedError
    if isinstance(got, Raised):
        raise Reraised(got.error)
    if isinstance(got, Problem):
        raise CaseProblem(got.text)
    return got


@dataclass(frozen=True)
class Bug:
    """A plausible wrong implementation and the hint a student who wrote it should read."""

    name: str
    fn: Callable
    hint: str


class MissingFunction(LookupError):
    """A function a check needs is not defined in the notebook, or is not a function."""

    def __init__(self, check: str, function: str, found: Any = None) -> None:
        self.check, self.function = check, function
        self.found_type = None if found is None else type(found).__name__
        super().__init__(missing_function_message(check, function, self.found_type))


def missing_function_message(check: str, function: str, found_type: str | None) -> str:
    """What a student reads when ``function`` is missing (``found_type`` None) or not callable."""
    if found_type is None:
        return (f"{check}: the function `{function}` is not defined. Did you rename or delete "
                "it, or does its cell fail? Keep the name and signature from the notebook.")
    return f"{check}: `{function}` should be a function, got {found_type[:80]}"


@dataclass(frozen=True)
class CheckSpec:
    """Everything about grading one student function."""

    name: str
    """``<notebook topic>.<function>``, e.g. ``"bellman.q_from_v"``."""
    function: str | tuple[str, ...]
    """the name the student's function has in the notebook; several names for a check of
    several functions together (a learning run of a whole agent): its cases, reference and
    bugs then take a dict ``{name: function}``."""
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
    learning: bool = False
    """a learning run (DESIGN.md section 5, layer 3): the trainer seeds everything, so a failing
    case is not run again, and the bugs are broken agents that must fail, not matched one by
    one (each would cost a training run): a failure gets ``hint``."""
    withhold: tuple[str, ...] = ()
    """rlkit's own implementations of this function (dotted names, e.g. ``rlkit.dp.q_from_v``,
    ``rlkit.buffers.ReplayBuffer.sample``), unreachable from the notebook's code while it is
    graded (:mod:`autograder.judge.withhold`); by default the reference when it is rlkit's."""
    uses: tuple[str, ...] = ()
    """rlkit helpers the notebook tells the student's function to use (never withheld in the
    same notebook)."""
    in_place: bool = False
    """True when changing an argument is the point (``update_target``); otherwise a function
    that changes one of its inputs fails the case (:mod:`autograder.judge.inputs`)."""

    @property
    def records_inputs(self) -> bool:
        """Whether the cases record the function's arguments before and after its call."""
        return not (self.in_place or self.learning or len(self.functions) > 1)

    def __post_init__(self) -> None:
        if self.compare is None:
            object.__setattr__(self, "compare", allclose())

    @property
    def functions(self) -> tuple[str, ...]:
        """The names of the student functions this check calls."""
        return (self.function,) if isinstance(self.function, str) else tuple(self.function)

    def student_functions(self, namespace: Mapping[str, Any]) -> Any:
        """The student's function from ``namespace`` (a dict of them for several).

        Raises:
            MissingFunction: if one is not defined or not callable.

        """
        found = {}
        for function in self.functions:
            fn = namespace.get(function)
            if fn is None or not callable(fn):
                raise MissingFunction(self.name, function, fn)
            found[function] = fn
        return found[self.function] if isinstance(self.function, str) else found

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
        # numpy scalars as numbers: 0.29, not np.float64(0.29)
        with np.printoptions(legacy="1.25"):
            text = repr(value)
    return text if len(text) <= max_chars else text[: max_chars - 3] + "..."


#: the relative tolerance of a float32 (or float16) output: float32 carries ~7 digits, and a
#: correct sum of a few hundred float32 terms is off by ~1e-5 relative.
FLOAT32_RTOL = 1e-4


def tolerances(got: np.ndarray, expected: np.ndarray, rtol: float, atol: float,
               ) -> tuple[float, float]:
    """The ``(rtol, atol)`` an output is compared with, relative to the values' magnitude.

    A float32 output (or lower) gets at least :data:`FLOAT32_RTOL`; and ``atol`` grows to
    ``rtol * max|expected|``, so that an entry near 0 in an array of large values may carry the
    rounding error of the large ones (a sum that cancels). An exact comparison (``rtol`` 0)
    keeps its tolerances: it is a statistical bound or a seeded exact sample.
    """
    if rtol <= 0:
        return rtol, atol
    if got.dtype.kind == "f" and got.dtype.itemsize < 8:
        rtol = max(rtol, FLOAT32_RTOL)
    finite = np.abs(expected[np.isfinite(expected)]) if expected.size else np.zeros(0)
    scale = float(finite.max()) if finite.size else 0.0
    return rtol, max(atol, rtol * scale)


def allclose(*, rtol: float = 1e-6, atol: float = 1e-8, integer: bool = False) -> Comparator:
    """Compare numbers or arrays: same shape, finite where expected is, and close.

    Close is relative to the values' magnitude, with the precision of the output's dtype
    (:func:`tolerances`): a correct float32 implementation passes wherever float64 does.
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
            return f"expected a number or numeric array, got {type_name(got)}"
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
        exp_f = exp.astype(float) if exp.dtype.kind in "biuf" else exp
        r, a = tolerances(arr, exp_f, rtol, atol)
        if not np.allclose(arr, exp, rtol=r, atol=a, equal_nan=True):
            err = np.max(np.abs(arr.astype(float) - exp.astype(float)))
            return f"values differ (largest absolute difference {err:.3g})"
        return None

    return compare


# --- learning runs (layer 3)


def learning_case(
    name: str,
    train: Callable[[Any, int], Any] | None = None,
    *,
    seeds: Sequence[int],
    cap: float,
    threshold: float,
    steps: int,
    untrained: str,
    run_seed: Callable[[int], Run] | None = None,
    score: Callable[[Any, int], float] | None = None,
) -> Case:
    """A seeded learning run over ``seeds``, passed by mean - std of the seeds' scores.

    The box trains and the judge scores: ``run_seed(seed)`` is the box procedure's
    :class:`~autograder.box.calls.Run` that trains with the student's functions for at most
    ``steps`` env steps (stopping early at the trainer's target) and returns what was learned
    (the trained parameters as arrays); ``score(output, seed)`` evaluates that here, with
    rlkit's own code, on episodes capped at ``cap`` steps. Patching the trainer, its
    evaluation or the check machinery inside the box gains nothing: nothing there knows the
    threshold or computes the score. The scores' mean minus std over the seeds must reach
    ``threshold``; ``untrained`` says what an untrained policy scores. (``train(fn, seed)``,
    returning a history whose best evaluation is the score, is the older form: it runs only
    where the student's code runs with the judge, i.e. the self-check.)

    Seeds stop being trained once no later seed can lift the rule over the threshold
    (:func:`best_rule`): a broken agent costs one training run. A run stops at its target, so
    a correct submission is the cheap one to grade, and what it learned is what reached it.
    """

    def rule(scores: list[float]) -> float:
        return learning_rule(scores, cap)

    def learned(got: Any, expected: Any) -> str | None:
        if not isinstance(got, float) or not got >= expected:  # NaN fails too
            return (f"within {steps} env steps, the greedy evaluation of what your agent "
                    f"learned (mean return of episodes capped at {cap:g} steps), mean minus "
                    f"std over seeds {list(seeds)}, is {got!r}: it must reach {expected:g} "
                    f"({untrained})")
        return None

    if run_seed is not None and score is not None:
        def drive(call: Callable[[Run], Any]) -> float:
            scores: list[float] = []
            for seed in seeds:
                scores.append(float(score(call(run_seed(seed)), seed)))
                if best_rule(scores, len(seeds), cap) < threshold:  # no later seed can save it
                    break
            return rule(scores)

        return Case(name, drive=drive, expected=threshold, compare=learned, training=True)
    if train is None:
        raise TypeError("learning_case needs run_seed and score (or train)")

    def metric(fn: Any) -> float:
        scores: list[float] = []
        for seed in seeds:
            scores.append(best_evaluation(train(fn, seed)))
            if best_rule(scores, len(seeds), cap) < threshold:
                break
        return rule(scores)

    return Case(name, run=metric, expected=threshold, compare=learned, training=True)


def learning_rule(scores: Sequence[float], cap: float) -> float:
    """Mean minus std of the seeds' scores, each capped at ``cap``: a learning case's value."""
    capped = np.minimum(np.asarray(scores, dtype=float), cap)
    return float(capped.mean() - capped.std())


def best_rule(scores: Sequence[float], n_seeds: int, cap: float, grid: int = 21) -> float:
    """An upper bound of the :func:`learning_rule` of ``n_seeds`` scores beginning ``scores``.

    A learning case stops training seeds once this is below its threshold: a broken agent
    then costs one training run, not one per seed, and a correct one is never stopped. Mean
    minus std is not increasing in each score (raising a score far above the others raises
    the std more than the mean), so the bound is the maximum over a grid of the remaining
    scores in ``[0, cap]`` (``grid`` points each) plus the most the rule can change within
    half a grid step: its derivative in one score is at most ``(1 + sqrt(n - 1)) / n``.
    """
    known = np.minimum(np.asarray(scores, dtype=float), cap)
    left = n_seeds - len(known)
    if left <= 0:
        return learning_rule(known, cap)
    values = np.linspace(0.0, cap, grid)
    rest = np.stack(np.meshgrid(*[values] * left, indexing="ij"), axis=-1).reshape(-1, left)
    every = np.concatenate([np.broadcast_to(known, (len(rest), len(known))), rest], axis=1)
    slope = (1 + np.sqrt(n_seeds - 1)) / n_seeds
    within_a_step = left * (values[1] - values[0]) / 2 * slope
    return float((every.mean(axis=1) - every.std(axis=1)).max() + within_a_step)


def broken_agent(reference: Mapping[str, Callable], spec: CheckSpec, bug_name: str) -> Bug:
    """A learning check's broken agent: the reference with one function replaced by a bug.

    ``spec``'s function becomes its bank's bug ``bug_name``; the agent is named
    ``function:bug`` and keeps the bug's hint.
    """
    bug = next(b for b in spec.bugs if b.name == bug_name)
    return Bug(f"{spec.function}:{bug.name}", {**reference, spec.function: bug.fn}, bug.hint)


def best_evaluation(history: Any) -> float:
    """The highest mean return among a training history's evaluations (``EvalPoint``s)."""
    return float(max(point.mean for point in history.evaluations))


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


def withheld_problem(spec: CheckSpec, error: str) -> str | None:
    """What to tell a student whose function raised rlkit's withheld-reference error, or None.

    ``error`` is a :class:`Raised` error line (``WithheldError: rlkit's own `NAME` is ...``).
    """
    from rlkit._withheld import MARKER

    head = f"WithheldError: {MARKER} `"
    if not error.startswith(head):
        return None
    name = error[len(head):].split("`", 1)[0]
    from autograder.judge.withhold import topic_specs, withheld_names

    owner = next((s for s in topic_specs(spec.name) if name in withheld_names(s)), None)
    what = ("the function this check asks you to write" if owner is spec
            else "rlkit's own version of a function this notebook asks you to write")
    if owner is not None and owner.function in spec.functions and len(spec.functions) > 1:
        who = f"`{owner.function}`"  # a learning check: the function whose reference it is
    else:
        who = " / ".join(f"`{f}`" for f in spec.functions)
    return f"{who} calls `{name}`, {what}: write it yourself (it earns no points)"


def type_name(value: Any) -> str:
    """The type name to show for an output (the original type for an :class:`Unreadable`)."""
    return value.type_name if isinstance(value, Unreadable) else type(value).__name__


def _call(case: Case, fn: Callable) -> Any:
    """``case.call(fn)``, with an exception turned into a :class:`Raised` value.

    ``NotImplementedError`` propagates (the historical contract of this helper).
    """
    got = call_case(case, fn)
    if got is NOT_IMPLEMENTED:
        raise NotImplementedError
    return got


def _same(spec: CheckSpec, case: Case, got: Any, out: Any) -> bool:
    if got is NOT_IMPLEMENTED or out is NOT_IMPLEMENTED:
        return False
    if isinstance(got, Raised | Problem) or isinstance(out, Raised | Problem):
        return type(got) is type(out) and got == out
    try:
        return (spec.diagnose or case.compare or spec.compare)(got, out) is None
    except Exception:  # noqa: BLE001 - incomparable outputs do not match
        return False


class Judge:
    """Judges one check: its cases, their expected values and the known bugs' outputs.

    This is the one place where a check is judged: :func:`run_check` (the in-notebook
    self-check) feeds it outputs it just computed, the grader feeds it outputs read back as
    plain data from the submission's sandboxed process. The expected values and the bugs'
    outputs are computed here, in the caller's process, once: a grader reuses one ``Judge``
    per check for every submission.
    """

    def __init__(self, spec: CheckSpec, cases: Sequence[Case]) -> None:
        self.spec = spec
        self.cases = list(cases)
        self._expected: dict[int, Any] = {}
        self._bugs: dict[tuple[int, int], Any] = {}

    @classmethod
    def for_spec(cls, spec: CheckSpec, *, grading: bool, seed: int | None = None) -> Judge:
        """The judge of ``spec``'s cases (with the hidden ones when ``grading``)."""
        return cls(spec, spec.cases(grading=grading, seed=seed))

    def expected(self, i: int) -> Any:
        """What case ``i`` must give (computed once)."""
        if i not in self._expected:
            self._expected[i] = expected_output(self.spec, self.cases[i])
        return self._expected[i]

    def bug_output(self, bug: int, i: int) -> Any:
        """What known bug number ``bug`` gives on case ``i`` (computed once)."""
        key = (bug, i)
        if key not in self._bugs:
            self._bugs[key] = call_case(self.cases[i], self.spec.bugs[bug].fn)
        return self._bugs[key]

    def diagnose(self, order: list[int], outputs: Sequence[Any]) -> Bug | None:
        """The known bug whose outputs match the student's on the most cases (ties: bank order).

        ``order`` lists the case indices to compare, the first failing case first; a bug
        must match on that one.
        """
        spec = self.spec
        best: tuple[int, Bug] | None = None
        for b, bug in enumerate(spec.bugs):
            matches = 0
            for n, i in enumerate(order):
                ok = _same(spec, self.cases[i], outputs[i], self.bug_output(b, i))
                if n == 0 and not ok:
                    break
                matches += ok
            else:
                if best is None or matches > best[0]:
                    best = (matches, bug)
                if matches == len(order):
                    break
        return None if best is None else best[1]

    def __call__(
        self, outputs: Sequence[Any], rerun: Callable[[int], Any] | None = None,
        inputs: Sequence[Any] | None = None,
    ) -> CheckReport:
        """Compare what a student's function gave on each case with the reference.

        Args:
            outputs: what the function gave on each case, as :func:`call_case` returns it (a
                value, a :class:`Raised`, or :data:`NOT_IMPLEMENTED`).
            rerun: gives the function's output on case ``i`` once more; used on the first
                failing case to tell a function that ignores its seed. None skips that test.
            inputs: per case, the record of the function's arguments before and after its
                first call (:func:`call_case`), or None; a changed argument fails the case
                unless the spec is ``in_place``.

        """
        spec, cases = self.spec, self.cases
        if len(outputs) != len(cases):
            raise ValueError(f"{spec.name}: {len(outputs)} outputs for {len(cases)} cases")
        results: list[CaseResult] = []
        order: list[int] = []  # the cases to match with known bugs, first failure first
        first_failure: int | None = None
        not_implemented = False
        withheld: str | None = None
        mutated: str | None = None
        for i, (case, got) in enumerate(zip(cases, outputs, strict=True)):
            expected = self.expected(i)
            if got is NOT_IMPLEMENTED:
                not_implemented = True
                results.append(
                    CaseResult(case.name, "not implemented yet (it raises NotImplementedError)"))
                continue
            if isinstance(got, Raised):
                who = "your function" if len(spec.functions) == 1 else "one of your functions"
                delegated = withheld_problem(spec, got.error)
                if delegated and withheld is None:
                    withheld = delegated
                results.append(CaseResult(case.name, delegated or f"{who} raised {got.error}"))
            elif isinstance(got, Problem):
                results.append(CaseResult(case.name, got.text))
            else:
                try:
                    problem = (case.compare or spec.compare)(got, expected)
                except Exception as exc:  # noqa: BLE001 - an output the comparator cannot take
                    problem = f"the output could not be compared ({first_line(exc)})"
                results.append(CaseResult(case.name, problem, expected if problem else None,
                                          got if problem else None))
            changed = (changed_arguments(inputs[i]) if inputs is not None and i < len(inputs)
                       and spec.records_inputs else [])
            if changed and not isinstance(got, Raised):
                mutated = mutated or in_place_problem(spec.functions[0], changed)
                results[-1] = CaseResult(case.name, mutated)  # the root cause, whatever came out
            if results[-1].problem and first_failure is None:
                first_failure = i
                order.insert(0, i)
            elif not (case.training or spec.learning):
                order.append(i)
        hint: str | None = None
        bug: Bug | None = None
        if not_implemented:
            hint = "Replace `raise NotImplementedError()` with your implementation."
        elif withheld is not None:
            hint = ("rlkit's own functions are there for the trainers and demos, not as "
                    "answers: they are not available while your notebook is graded.")
        elif mutated is not None and first_failure is not None and (
                results[first_failure].problem == mutated):
            hint = ("The notebook's demos call your function again on the same data: writing "
                    "into an argument changes what the caller holds.")
        elif first_failure is not None and (spec.learning or cases[first_failure].training):
            hint = spec.hint or None  # neither run again nor matched with the broken agents
        elif first_failure is not None:
            from autograder.judge import diagnose

            got = outputs[first_failure]
            expected = self.expected(first_failure)
            again = (got if rerun is None or diagnose.returned_none(got, expected)
                     else rerun(first_failure))
            if not diagnose.returned_none(got, expected) and not _same(
                    spec, cases[first_failure], got, again):
                hint = ("Your function gave different results on two runs with the same inputs: "
                        "draw all randomness from the given seed or `rng`.")
            else:
                bug = self.diagnose(order, outputs)
                how = diagnose.explain(cases[first_failure], got, expected)
                hint = bug.hint if bug is not None else (
                    " ".join(text for text in (how, spec.hint) if text) or None)
        return CheckReport(spec.name, spec.points, tuple(results), hint,
                           bug.name if bug is not None else None)


def expected_output(spec: CheckSpec, case: Case) -> Any:
    """What a case must give: its ``expected`` (computed if Deferred), or the reference's."""
    if isinstance(case.expected, Deferred):
        return case.expected.compute()
    return case.expected if case.expected is not None else case.call(spec.reference)


def judge(
    spec: CheckSpec,
    cases: Sequence[Case],
    outputs: Sequence[Any],
    rerun: Callable[[int], Any] | None = None,
    inputs: Sequence[Any] | None = None,
) -> CheckReport:
    """Judge a function's ``outputs`` on ``cases`` (see :class:`Judge`)."""
    return Judge(spec, cases)(outputs, rerun, inputs)


def run_check(
    spec: CheckSpec, fn: Callable, *, grading: bool = False, seed: int | None = None,
    watch: bool = False,
) -> CheckReport:
    """Run ``fn`` on the spec's cases and compare with the reference, case by case.

    When a case fails, the student's outputs are matched with the known bugs' to pick the
    hint, and the failing case is run a second time: a function that gives different results
    on identical inputs is told to draw its randomness from the given seed or generator.
    With ``watch`` (the notebook's ``check()``; not for learning checks), a call of rlkit's own
    version of a function this notebook grades, made while ``fn`` runs, fails the case as it
    would fail when graded (:class:`autograder.judge.withhold.CallWatch`).
    """
    checker = Judge.for_spec(spec, grading=grading, seed=seed)
    if watch and not spec.learning:
        from autograder.judge.withhold import CallWatch, notebook_withheld, topic_specs

        calls = CallWatch(notebook_withheld(topic_specs(spec.name)))
        fn = calls.wrap(fn) if calls else fn
    for i in range(len(checker.cases)):  # before fn runs: it might write into a case's data
        checker.expected(i)
    inputs: list | None = [] if spec.records_inputs else None
    outputs = [call_case(case, fn, inputs) for case in checker.cases]
    return checker(outputs, rerun=lambda i: call_case(checker.cases[i], fn), inputs=inputs)


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
    from autograder.judge import load_all

    load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"no check named {name!r}; known checks: {known}") from None


def all_specs() -> list[CheckSpec]:
    """Every registered spec, sorted by name."""
    from autograder.judge import load_all

    load_all()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


#: the MIME type of a check cell's outcome: ``{"name", "passed", "points", "max_points"}``.
#: :func:`check` displays it next to the readable report, and ``python -m autograder check``
#: (:mod:`autograder.frontends.selfcheck`) scores a check cell by it.
CHECK_MIME = "application/vnd.rlkit.check+json"


def check(name: str, fn: Callable | None = None) -> None:
    """Run the check ``name`` on the student's function and show the report.

    With ``fn`` omitted, the function is looked up by the spec's function name in the calling
    notebook's namespace, so a renamed or deleted function gets a message saying so.

    In a student's kernel a failed check does not raise: it displays its report (red, with the
    hint) and the outcome as :data:`CHECK_MIME` data, so that "Run All" goes on to the other
    cells and shows every check's report. Under nbgrader (``NBGRADER_EXECUTION`` set, e.g. the
    Validate button) it raises, since nbgrader scores a test cell by whether it raised. It
    returns nothing, so the cell has no ``execute_result`` nbgrader could read as a score.

    Raises:
        CheckFailed: if any case fails under nbgrader or outside an IPython kernel.

    """
    spec = get_spec(name)
    if fn is None:
        try:
            fn = spec.student_functions(sys._getframe(1).f_globals)
        except MissingFunction as exc:
            _outcome(spec, False, str(exc))
            return
    elif not callable(fn) and not isinstance(fn, Mapping):
        message = missing_function_message(name, str(spec.function), type(fn).__name__)
        _outcome(spec, False, message)
        return
    report = run_check(spec, fn, grading=is_grading(), watch=True)
    _outcome(spec, report.passed, report.summary())


def _outcome(spec: CheckSpec, passed: bool, text: str) -> None:
    """Show a check's report in a kernel, else raise :class:`CheckFailed` (see :func:`check`)."""
    from IPython import get_ipython

    in_kernel = get_ipython() is not None
    if not passed and (is_nbgrader() or not in_kernel):
        raise CheckFailed(text)
    if not in_kernel:  # a script or a test: print the one-line success
        print(text)
        return
    from IPython.display import display

    shown = text if passed else f"\x1b[0;31mCheckFailed\x1b[0m: {text}"
    outcome = {"name": spec.name, "passed": passed, "points": spec.points if passed else 0,
               "max_points": spec.points}
    display({"text/plain": shown, CHECK_MIME: outcome}, raw=True)


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
    "call_case",
    "expected_output",
]
