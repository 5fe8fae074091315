"""rlkit.policy_improvement: the identity, the surrogate's first-order match, the KL, exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rlkit import policy_gradient as pg
from rlkit import policy_improvement as pi
from rlkit.mdp import random_mdp


def random_case(seed: int):
    rng = np.random.default_rng(seed)
    mdp = random_mdp(int(rng.integers(3, 5)), int(rng.integers(2, 4)), gamma=1.0, rng=rng,
                     n_terminal=1)
    horizon = int(rng.integers(1, 4))
    shape = (mdp.n_states, mdp.n_actions)
    return mdp, horizon, rng.normal(size=shape), rng.normal(size=shape)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**31))
def test_the_policy_improvement_identity_holds_exactly(seed):
    mdp, horizon, theta, theta_old = random_case(seed)
    gain = float(pg.expected_return(mdp, theta, horizon)
                 - pg.expected_return(mdp, theta_old, horizon))
    assert pi.performance_difference(mdp, theta, theta_old, horizon) == pytest.approx(
        gain, abs=1e-10)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**31))
def test_the_return_from_the_state_distribution_is_the_sum_over_trajectories(seed):
    mdp, horizon, theta, _ = random_case(seed)
    assert pi.expected_return_from_states(mdp, theta, horizon) == pytest.approx(
        float(pg.expected_return(mdp, theta, horizon)), abs=1e-10)
    d = pi.state_distribution(mdp, theta, horizon)
    assert np.all(d >= 0) and np.all(d.sum(axis=1) <= 1 + 1e-12)
    assert np.all(d[:, np.asarray(mdp.terminal)] == 0)
    assert np.all(np.diff(d.sum(axis=1)) <= 1e-12)  # episodes only end


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**31))
def test_the_surrogate_matches_j_to_first_order_at_theta_old(seed):
    mdp, horizon, _, theta_old = random_case(seed)
    theta = torch.tensor(theta_old, requires_grad=True)
    value = pi.surrogate(mdp, theta, theta_old, horizon)
    value.backward()
    assert value.item() == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(theta.grad.numpy(), pg.exact_gradient(mdp, theta_old, horizon),
                               atol=1e-10)


def test_the_surrogate_and_the_true_gain_part_as_the_kl_grows():
    mdp, horizon = pg.tiny_mdp(), pg.TINY_HORIZON
    theta_old = np.zeros((mdp.n_states, mdp.n_actions))
    direction = pg.exact_gradient(mdp, theta_old, horizon)
    gaps, kls = [], []
    for step in (0.01, 0.5, 2.0, 8.0):
        theta = theta_old + step * direction
        gain = float(pg.expected_return(mdp, theta, horizon)
                     - pg.expected_return(mdp, theta_old, horizon))
        gaps.append(abs(float(pi.surrogate(mdp, theta, theta_old, horizon)) - gain))
        kls.append(pi.mean_kl(mdp, theta_old, theta, horizon))
    assert gaps[0] < 1e-4 < gaps[-1]
    assert np.all(np.diff(kls) > 0) and np.all(np.diff(gaps) > 0)


def test_advantages_average_to_zero_under_their_own_policy():
    mdp, horizon, theta, _ = random_case(7)
    advantages = pi.advantage_table(mdp, theta, horizon)
    np.testing.assert_allclose(np.einsum("sa,hsa->hs", pg.softmax_policy(theta), advantages),
                               0.0, atol=1e-12)
