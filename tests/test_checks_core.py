"""The check machinery: reports, errors a student can act on, and nbgrader-facing behaviour."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograder.judge import CheckFailed, check, get_spec, run_check
from autograder.judge.core import Bug, Case, CheckSpec, allclose


def _spec(**kwargs) -> CheckSpec:
    base = dict(
        name="demo.double",
        function="double",
        points=2,
        reference=lambda x: 2 * np.asarray(x, dtype=float),
        visible_cases=lambda: [Case("a vector", (np.arange(3.0),)), Case("a scalar", (4.0,))],
        hidden_cases=lambda rng: [Case("hidden", (rng.normal(size=5),))],
        bugs=(Bug("plus_two", lambda x: np.asarray(x) + 2, "Double, do not add two."),),
        hint="Multiply by two.",
    )
    base.update(kwargs)
    return CheckSpec(**base)


def test_passing_function_scores_all_points():
    report = run_check(_spec(), lambda x: np.asarray(x) * 2.0)
    assert report.passed and report.score == 2
    assert "all 2 cases passed (2/2 points)" in report.summary()


def test_hidden_cases_run_only_when_grading():
    spec = _spec()
    assert len(run_check(spec, spec.reference).results) == 2
    assert len(run_check(spec, spec.reference, grading=True).results) == 3


def test_known_bug_is_named_with_its_hint_and_expected_vs_got():
    report = run_check(_spec(), lambda x: np.asarray(x) + 2)
    assert not report.passed and report.score == 0
    assert report.bug == "plus_two"
    text = report.summary()
    assert "case: a vector" in text and "expected:" in text and "got:" in text
    assert "Double, do not add two." in text


def test_unknown_bug_gets_the_general_hint():
    report = run_check(_spec(), lambda x: np.asarray(x) * 3.0)
    assert report.bug is None and "Multiply by two." in report.summary()


def test_wrong_shape_and_wrong_type_are_explained():
    shape = run_check(_spec(), lambda x: np.zeros((2, 2)))
    assert "wrong shape: expected (3,), got (2, 2)" in shape.summary()
    typed = run_check(_spec(), lambda x: "twice")
    assert "expected a number or numeric array, got str" in typed.summary()


def test_exceptions_and_not_implemented_are_reported_not_raised():
    def stub(x):
        raise NotImplementedError()

    assert "not implemented yet" in run_check(_spec(), stub).summary()

    def crashes(x):
        return x[10]

    assert "your function raised IndexError" in run_check(_spec(), crashes).summary()


def test_a_function_that_mutates_its_input_cannot_change_the_expected_value():
    def mutating(x):
        x = np.asarray(x)
        if x.ndim:
            x *= 0
        return 2 * x

    assert not run_check(_spec(), mutating).passed
    assert run_check(_spec(), lambda x: 2 * np.asarray(x, dtype=float)).passed


def test_integer_comparator_rejects_fractions():
    compare = allclose(integer=True)
    assert compare(np.array([1, 2]), np.array([1, 2])) is None
    assert "whole numbers" in compare(np.array([1.5, 2]), np.array([1, 2]))


def test_check_finds_the_function_in_the_callers_namespace_and_raises_on_failure(capsys):
    def discounted_return(rewards, gamma):
        return float(np.sum(gamma ** np.arange(len(rewards)) * np.asarray(rewards, float)))

    check("mdps.discounted_return", discounted_return)
    assert "\u2713 mdps.discounted_return" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="summed the rewards without discounting"):
        check("mdps.discounted_return", lambda rewards, gamma: float(np.sum(rewards)))


def test_check_says_when_the_function_is_missing():
    with pytest.raises(CheckFailed, match="`discounted_return` is not defined"):
        check("mdps.discounted_return")


def test_unknown_check_name_lists_the_known_ones():
    with pytest.raises(KeyError, match="known checks: .*mdps.discounted_return"):
        get_spec("mdps.nope")


def test_failure_renders_as_the_report_in_ipython():
    exc = CheckFailed("case: x")
    assert exc._render_traceback_() == ["\x1b[0;31mCheckFailed\x1b[0m: case: x"]


def test_grading_mode_follows_nbgrader_environment(monkeypatch):
    spec = get_spec("mdps.discounted_return")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    from autograder.judge import is_grading, is_nbgrader

    assert is_grading() and is_nbgrader()
    assert len(spec.cases(grading=is_grading())) > len(spec.cases(grading=False))
    monkeypatch.setenv("NBGRADER_EXECUTION", "validate")
    assert not is_grading() and is_nbgrader()


# ------------------------------------------------------------------ checks of several functions


def _pair_spec(**kwargs) -> CheckSpec:
    def run(fns):
        return fns["double"](fns["inc"](np.arange(3.0)))

    base = dict(
        name="demo.pair", function=("inc", "double"), points=1,
        reference={"inc": lambda x: x + 1, "double": lambda x: 2 * x},
        visible_cases=lambda: [Case("double(inc([0, 1, 2]))", run=run)],
        hint="Check inc and double one by one first.",
    )  # fmt: skip
    base.update(kwargs)
    return CheckSpec(**base)


def test_a_check_of_several_functions_gets_them_all_by_name():
    spec = _pair_spec()
    assert spec.functions == ("inc", "double")
    found = spec.student_functions({"inc": abs, "double": round, "other": len})
    assert found == {"inc": abs, "double": round}
    assert run_check(spec, {"inc": lambda x: x + 1, "double": lambda x: x * 2.0}).passed
    report = run_check(spec, {"inc": lambda x: x + 1, "double": lambda x: x + x + 1})
    # no bank: how the output differs (diagnose.py), then the spec's own hint
    assert not report.passed and report.hint.endswith(spec.hint)


@pytest.mark.parametrize(("namespace", "message"), [
    ({"inc": abs}, "`double` is not defined"),
    ({"inc": abs, "double": 3}, "`double` should be a function, got int"),
])  # fmt: skip
def test_a_check_of_several_functions_names_the_missing_one(namespace, message):
    from autograder.judge.core import MissingFunction

    with pytest.raises(MissingFunction, match=message):
        _pair_spec().student_functions(namespace)


def test_a_learning_check_is_not_rerun_and_gets_the_spec_hint():
    calls = []

    def run(fns):
        calls.append(1)
        return fns["double"](fns["inc"](np.arange(3.0)))

    expected = np.array([2.0, 4.0, 6.0])
    spec = _pair_spec(learning=True,
                      visible_cases=lambda: [Case("learn", run=run, expected=expected)])
    report = run_check(spec, {"inc": lambda x: x, "double": lambda x: 2 * x})
    assert not report.passed
    assert report.hint == spec.hint and report.bug is None
    assert len(calls) == 1  # the failing case ran once, not twice


def test_a_learning_case_is_neither_rerun_nor_run_on_the_bugs():
    calls = []

    def learning_run(fn):
        calls.append(float(fn(1.0)))
        return calls[-1]

    learn = Case("learn", run=learning_run, expected=2.0, training=True,
                 compare=lambda got, want: None if got == want else "did not learn")
    bug = Bug("plus_one", lambda x: x + 1, "bug hint")
    spec = CheckSpec(name="demo.double_with_learning", function="double", points=1,
                     reference=lambda x: 2 * x, hint="spec hint", bugs=(bug,),
                     visible_cases=lambda: [Case("x = 3", args=(3.0,)), learn])
    student = lambda x: 3 * x  # noqa: E731
    report = run_check(spec, student)
    assert not report.passed and report.bug is None  # the first case fails; plus_one is not it
    assert calls == [3.0]  # the learning run: once, for the student only (not for plus_one)
    failing_only_there = lambda x: 2 * x if x != 1.0 else 0.0  # noqa: E731
    report = run_check(spec, failing_only_there)
    assert report.first_failure.case == "learn" and report.hint == "spec hint"
    assert calls == [3.0, 0.0]  # and not again to test determinism


@given(st.lists(st.floats(0, 100), min_size=1, max_size=4), st.integers(0, 3))
def test_best_rule_bounds_every_way_the_remaining_seeds_can_end(first, more):
    from autograder.judge.core import best_rule, learning_rule

    n_seeds = len(first) + more
    bound = best_rule(first, n_seeds, cap=100.0)
    rng = np.random.default_rng(len(first) * 10 + more)
    for rest in [np.full(more, 100.0), np.zeros(more), *rng.uniform(0, 100, (50, more))]:
        assert learning_rule([*first, *rest], 100.0) <= bound + 1e-9


def test_a_tuple_of_one_function_name_is_refused():
    """The box passes one function bare and several as a dict: a tuple of one would differ."""
    with pytest.raises(ValueError, match="names it as a string"):
        _spec(function=("double",))
    assert _spec(function=("double", "halve")).functions == ("double", "halve")
