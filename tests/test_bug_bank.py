"""Every check passes the reference and catches every plausible bug in its bank, with its hint."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.judge import all_specs, run_check

ALL_SPECS = all_specs()
#: learning runs (layer 3) have their own tests: tests/test_learning_checks.py
SPECS = [spec for spec in ALL_SPECS if not spec.learning]
BUGS = [(spec, bug) for spec in SPECS for bug in spec.bugs]


def test_there_are_specs_for_both_notebooks():
    topics = {spec.name.split(".")[0] for spec in SPECS}
    assert {"mdps", "bellman"} <= topics
    assert 5 <= sum(s.name.startswith("mdps.") for s in SPECS) <= 8
    assert 5 <= sum(s.name.startswith("bellman.") for s in SPECS) <= 8


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: s.name)
def test_each_spec_has_at_least_five_known_bugs(spec):
    # a learning check's bugs are the bank bugs that break the whole agent's learning: CartPole
    # forgives most of PPO's (rules 54-100 of 40, measured in autograder/checks/ppo_clip.py),
    # so a learning check needs three; every function check needs five
    assert len(spec.bugs) >= (3 if spec.learning else 5)
    assert len({b.name for b in spec.bugs}) == len(spec.bugs)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
@pytest.mark.parametrize("grading", [False, True], ids=["visible", "grading"])
def test_reference_gets_full_marks(spec, grading):
    report = run_check(spec, spec.reference, grading=grading)
    assert report.passed, report.summary()
    assert report.score == spec.points


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_reference_passes_hidden_cases_for_many_grader_seeds(spec):
    # statistical checks (Monte Carlo, epsilon-greedy) use bounds the reference never breaks
    for seed in range(5):
        report = run_check(spec, spec.reference, grading=True, seed=seed)
        assert report.passed, f"seed {seed}: {report.summary()}"


@pytest.mark.parametrize(("spec", "bug"), BUGS, ids=[f"{s.name}:{b.name}" for s, b in BUGS])
def test_every_bug_loses_its_points_with_its_own_hint(spec, bug):
    visible = run_check(spec, bug.fn, grading=False)
    assert not visible.passed, f"{bug.name} passes the visible cases of {spec.name}"
    assert visible.score == 0
    assert visible.bug == bug.name, visible.summary()
    assert bug.hint in visible.summary()


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_hidden_cases_differ_by_seed_and_are_reproducible(spec):
    a = spec.cases(grading=True, seed=1)
    b = spec.cases(grading=True, seed=1)
    assert [c.name for c in a] == [c.name for c in b]
    assert len(a) > len(spec.cases(grading=False))


def test_statistical_bound_is_tight_enough_to_catch_small_bias():
    spec = next(s for s in SPECS if s.name == "mdps.monte_carlo_value")

    def biased(mdp, policy, state, n_episodes, rng):
        return spec.reference(mdp, policy, state, n_episodes, rng) + 0.1

    assert not run_check(spec, biased).passed
    assert np.isfinite(run_check(spec, spec.reference).results[0].expected or 0.0)
