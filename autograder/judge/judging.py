"""Judging one check: the student's outputs against the reference, case by case, with a hint.

:class:`Judge` is the one place a check is judged: the in-notebook self-check
(:func:`run_check`) feeds it outputs it just computed, the grader feeds it outputs read back as
plain data from the submission's box. Expected values and the known bugs' outputs are computed
here, in the judge's process.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from autograder.box.calls import NOT_IMPLEMENTED, Problem, Raised, call_case, first_line
from autograder.judge.compare import describe, identical, shown_difference, type_marked
from autograder.judge.inputs import changed_arguments, in_place_problem
from autograder.judge.spec import Bug, Case, CheckSpec, Deferred


@dataclass(frozen=True)
class CaseResult:
    """What one case gave: ``problem`` is None when it passed."""

    case: str
    problem: str | None
    expected: Any = None
    got: Any = None
    trace: str = ""
    """the self-check only: the student's frames of what their function raised on this case
    (:func:`autograder.judge.guard.your_frames`); the grader's reports have none."""


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
            cases = "its one case passed" if n == 1 else f"all {n} cases passed"
            return f"\u2713 {self.name}: {cases} ({points_text(self.points, self.points)})"
        fail = self.first_failure
        assert fail is not None
        n_failed = sum(r.problem is not None for r in self.results)
        cases = "its one case failed" if n == 1 else f"{n_failed} of {n} cases failed"
        lines = [
            f"\u2717 {self.name}: {cases} ({points_text(0, self.points)})",
            f"  case: {fail.case}",
            f"  problem: {fail.problem}",
        ]
        if fail.trace:
            lines.append(fail.trace)
        if fail.expected is not None or fail.got is not None:
            expected, got = shown_difference(fail.expected, fail.got, fail.problem)
            lines.append(f"  expected: {describe(expected)}")
            lines.append(f"  got:      {describe(got)}")
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


def points_text(earned: int, points: int) -> str:
    """A check's score as a report shows it.

    Example:
        >>> points_text(0, 1), points_text(2, 2)
        ('0/1 point', '2/2 points')

    """
    return f"{earned}/{points} point{'' if points == 1 else 's'}"


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
    if type_marked(got):
        return False  # the wrong type says nothing of the formula: no known bug is named
    if identical(got, out):  # the same output, even one the comparison rejects whatever
        return True
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
                where = f" (in {got.where})" if got.where else ""
                results.append(CaseResult(case.name,
                                          delegated or f"{who} raised {got.error}{where}"))
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
            from autograder.judge.diagnose import explain, returned_none

            got = outputs[first_failure]
            expected = self.expected(first_failure)
            again = (got if rerun is None or returned_none(got, expected)
                     else rerun(first_failure))
            if not returned_none(got, expected) and not identical(got, again) and not _same(
                    spec, cases[first_failure], got, again):
                hint = ("Your function gave different results on two runs with the same inputs: "
                        "draw all randomness from the given seed or `rng`.")
            else:
                bug = self.diagnose(order, outputs)
                how = explain(cases[first_failure], got, expected)
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
    watch: bool = False, guarded: bool = False,
) -> CheckReport:
    """Run ``fn`` on the spec's cases and compare with the reference, case by case.

    When a case fails, the student's outputs are matched with the known bugs' to pick the
    hint, and the failing case is run a second time: a function that gives different results
    on identical inputs is told to draw its randomness from the given seed or generator.
    With ``watch`` (the notebook's ``check()``; not for learning checks), a call of rlkit's own
    version of a function this notebook grades, made while ``fn`` runs, fails the case as it
    would fail when graded (:class:`autograder.judge.withhold.CallWatch`).

    ``guarded`` is for the student's own kernel (the notebook's ``check()``): each case runs
    under its time limit, and a function that raises shows the student's own frames under the
    case's problem (:mod:`autograder.judge.guard`).

    Raises:
        autograder.judge.guard.CheckStopped: with ``guarded``, when a case ran past its time
            limit; the message is the check's report.
        autograder.judge.guard.CheckInterrupted: with ``guarded``, on *Kernel > Interrupt*.

    """
    checker = Judge.for_spec(spec, grading=grading, seed=seed)
    if watch and not spec.learning:
        from autograder.judge.withhold import CallWatch, notebook_withheld, topic_specs

        calls = CallWatch(notebook_withheld(topic_specs(spec.name)))
        fn = calls.wrap(fn) if calls else fn
    for i in range(len(checker.cases)):  # before fn runs: it might write into a case's data
        checker.expected(i)
    inputs: list | None = [] if spec.records_inputs else None
    if not guarded:
        outputs = [call_case(case, fn, inputs) for case in checker.cases]
        return checker(outputs, rerun=lambda i: call_case(checker.cases[i], fn), inputs=inputs)
    from autograder.judge.guard import GuardedCalls

    calls = GuardedCalls(spec, fn, len(checker.cases))
    outputs = [calls(i, case, inputs) for i, case in enumerate(checker.cases)]
    report = checker(outputs, rerun=lambda i: calls(i, checker.cases[i]), inputs=inputs)
    results = tuple(replace(r, trace=calls.traces[i]) if r.problem and i in calls.traces else r
                    for i, r in enumerate(report.results))
    return replace(report, results=results)
