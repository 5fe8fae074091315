"""Learning checks (DESIGN.md section 5, layer 3): the reference learns, broken agents do not.

A learning check runs rlkit's trainer on the student's functions. Its pass rule must hold for
the reference with a margin (not only on the check's own seeds: on other seeds too, so that a
machine whose floating point differs slightly cannot fail a correct submission), and agents
with a known bug in one of their functions must lose its points.
"""

from __future__ import annotations

import pytest

from autograder.checks import all_specs, run_check
from autograder.checks import dqn as dqn_checks

LEARNING = [spec for spec in all_specs() if spec.learning]
BROKEN = [(spec, bug) for spec in LEARNING for bug in spec.bugs]


def test_there_is_a_learning_check_of_the_whole_dqn_agent():
    assert [spec.name for spec in LEARNING] == ["dqn.learns"]
    assert set(dqn_checks.LEARNS.functions) == set(dqn_checks.AGENT)


@pytest.mark.parametrize("spec", LEARNING, ids=lambda s: s.name)
def test_the_reference_gets_full_marks_and_no_hidden_cases(spec):
    report = run_check(spec, spec.reference, grading=True)
    assert report.passed, report.summary()
    assert report.score == spec.points
    assert len(spec.cases(grading=True, seed=3)) == len(spec.cases(grading=False))


def test_the_dqn_rule_holds_for_the_reference_on_other_seeds_too():
    # every single seed clears the threshold, so any pair of seeds passes mean - std
    other_seeds = range(2, 6)
    returns = {s: dqn_checks.learning_run(dqn_checks.REFERENCE_AGENT, s) for s in other_seeds}
    margin = 1.2 * dqn_checks.LEARN_THRESHOLD
    low = {s: r for s, r in returns.items() if min(r, dqn_checks.LEARN_CAP) < margin}
    assert not low, f"the reference is too close to the threshold on seeds {low}"


@pytest.mark.parametrize(("spec", "bug"), BROKEN, ids=[b.name for _, b in BROKEN])
def test_a_broken_agent_loses_the_points(spec, bug):
    # over two seeds, mean - std is the smaller (capped) return: one seed below the threshold
    # fails the check, so one run per broken agent shows it (the whole check runs for one)
    assert spec is dqn_checks.LEARNS and len(dqn_checks.LEARN_SEEDS) == 2
    seed = dqn_checks.LEARN_SEEDS[1]
    assert dqn_checks.learning_run(bug.fn, seed) < dqn_checks.LEARN_THRESHOLD, bug.name


def test_a_broken_agent_fails_the_whole_check_with_the_spec_hint():
    spec, bug = BROKEN[0]
    report = run_check(spec, bug.fn, grading=True)
    assert not report.passed and report.score == 0, report.summary()
    assert report.hint == spec.hint  # no per-bug diagnosis: each would cost a training run
