"""rlkit.policy_gradient: exact gradients on enumerable MDPs and the REINFORCE estimators.

Tier 1 (math): the exact gradient against finite differences and autograd, the scores against
autograd, the trajectory distribution against rlkit's sampling and dynamic programming.
Statistical tests: the reference estimators are unbiased (exactly, by enumeration, and within 5
standard errors from samples), the reward-to-go variance is lower than the total return's and a
baseline lowers it further. Last, the check specs of notebook 04 built on this module: the
reference passes the hidden cases of 20 grader seeds in a row, and their statistical bound
(Bernstein's) holds against exact binomial tails.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rlkit import dp, sampling
from rlkit import policy_gradient as pg
from rlkit.agents.reinforce import reinforce_loss
from rlkit.mdp import TabularMDP, random_mdp

TINY = pg.tiny_mdp()
H = pg.TINY_HORIZON
ESTIMATORS = [pg.reinforce_gradient, pg.reward_to_go_gradient, pg.baseline_gradient]


def extra_args(estimator, mdp: TabularMDP, theta: np.ndarray) -> tuple:
    return (pg.state_values(mdp, theta),) if estimator is pg.baseline_gradient else ()


def small_mdp(seed: int) -> TabularMDP:
    return random_mdp(4, 2, gamma=1.0, rng=seed, n_terminal=1)


# ------------------------------------------------------------------------------ softmax, scores


def test_softmax_is_stable_and_normalised():
    p = pg.softmax([1000.0, 0.0, -1000.0])
    assert np.all(np.isfinite(p)) and p.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(np.exp(pg.log_softmax([1.0, 2.0, 3.0])),
                               pg.softmax([1.0, 2.0, 3.0]))
    rows = pg.softmax(np.arange(6.0).reshape(2, 3), axis=1)
    np.testing.assert_allclose(rows.sum(axis=1), 1.0)


@pytest.mark.parametrize("seed", range(5))
def test_grad_log_softmax_matches_autograd_and_has_mean_zero(seed):
    rng = np.random.default_rng(seed)
    theta = rng.normal(0.0, 2.0, size=5)
    probs = pg.softmax(theta)
    for action in range(5):
        logits = torch.tensor(theta, requires_grad=True)
        torch.log_softmax(logits, dim=0)[action].backward()
        np.testing.assert_allclose(pg.grad_log_softmax(theta, action), logits.grad.numpy(),
                                   atol=1e-12)
    mean = sum(probs[a] * pg.grad_log_softmax(theta, a) for a in range(5))
    np.testing.assert_allclose(mean, 0.0, atol=1e-12)


def test_linear_score_matches_autograd_and_tabular_is_a_special_case():
    rng = np.random.default_rng(0)
    features, theta = rng.normal(size=(3, 4)), rng.normal(size=4)
    for action in range(3):
        t = torch.tensor(theta, requires_grad=True)
        torch.log_softmax(torch.tensor(features) @ t, dim=0)[action].backward()
        np.testing.assert_allclose(pg.grad_log_softmax_linear(theta, features, action),
                                   t.grad.numpy(), atol=1e-12)
    table = rng.normal(size=(3, 2))
    phi = pg.tabular_features(3, 2)
    np.testing.assert_allclose(pg.softmax_linear_policy(table.ravel(), phi),
                               pg.softmax_policy(table))
    for s in range(3):
        for a in range(2):
            np.testing.assert_allclose(
                pg.grad_log_softmax_linear(table.ravel(), phi[s], a).reshape(3, 2),
                pg.grad_log_policy(table, s, a), atol=1e-12)


# ------------------------------------------------------------------------------ the warm-up


def test_softmax_expectation_gradient_is_p_times_centred_f():
    theta, f = np.array([0.3, -1.0, 2.0]), np.array([1.0, 5.0, -2.0])
    p = pg.softmax(theta)
    np.testing.assert_allclose(pg.softmax_expectation_gradient(theta, f), p * (f - p @ f))


def test_score_function_estimator_is_unbiased_exactly_and_from_samples():
    theta, f = np.array([0.5, -1.0, 0.0, 1.0]), np.array([1.0, -2.0, 3.0, 0.0])
    p = pg.softmax(theta)
    exact = pg.softmax_expectation_gradient(theta, f)
    one_sample = np.array([pg.score_function_gradient(theta, f, [x]) for x in range(4)])
    np.testing.assert_allclose(p @ one_sample, exact, atol=1e-12)
    n = 200_000
    std = np.sqrt(p @ (one_sample - exact) ** 2)
    samples = pg.sample_outcomes(theta, n, np.random.default_rng(0))
    estimate = pg.score_function_gradient(theta, f, samples)
    assert np.all(np.abs(estimate - exact) <= 5 * std / np.sqrt(n))


# ------------------------------------------------------------------------------ trajectories


def test_tiny_mdp_has_eleven_trajectories_and_the_known_optimum():
    trajectories = pg.enumerate_trajectories(TINY, H)
    assert len(trajectories) == 11
    assert all(t.terminated for t in trajectories)
    assert sorted(len(t.actions) for t in trajectories) == [1, 1, 1] + [2] * 8
    assert TINY.mu @ dp.value_iteration(TINY).values == pytest.approx(3.0)


@pytest.mark.parametrize(("mdp", "horizon"), [(TINY, H), (small_mdp(0), 3), (small_mdp(1), 1)],
                         ids=["tiny", "random-H3", "random-H1"])
def test_trajectory_probabilities_sum_to_one_and_match_sampling(mdp, horizon):
    theta = np.random.default_rng(0).normal(size=(mdp.n_states, mdp.n_actions))
    trajectories = pg.enumerate_trajectories(mdp, horizon)
    rho = pg.trajectory_probabilities(mdp, theta, trajectories)
    assert rho.sum() == pytest.approx(1.0, abs=1e-12)
    policy = pg.softmax_policy(theta)
    for tau, p in zip(trajectories[:50], rho[:50], strict=False):
        assert p == pytest.approx(
            sampling.trajectory_probability(mdp, tau.states, tau.actions, policy), rel=1e-10)


def test_expected_return_is_the_value_of_the_start_distribution():
    theta = np.random.default_rng(1).normal(size=(4, 2))
    values = dp.policy_evaluation_exact(TINY, pg.softmax_policy(theta))
    assert float(pg.expected_return(TINY, theta, H)) == pytest.approx(TINY.mu @ values)
    np.testing.assert_allclose(pg.state_values(TINY, theta), values)


@pytest.mark.parametrize(("mdp", "horizon"), [(TINY, H), (small_mdp(2), 3)],
                         ids=["tiny", "random-H3"])
def test_exact_gradient_matches_finite_differences(mdp, horizon):
    theta = np.random.default_rng(3).normal(size=(mdp.n_states, mdp.n_actions))
    trajectories = pg.enumerate_trajectories(mdp, horizon)
    gradient = pg.exact_gradient(mdp, theta, horizon, trajectories)
    step = 1e-6
    numeric = np.zeros_like(theta)
    for index in np.ndindex(theta.shape):
        bump = np.zeros_like(theta)
        bump[index] = step
        up = float(pg.expected_return(mdp, theta + bump, horizon, trajectories))
        down = float(pg.expected_return(mdp, theta - bump, horizon, trajectories))
        numeric[index] = (up - down) / (2 * step)
    np.testing.assert_allclose(gradient, numeric, atol=1e-7)
    np.testing.assert_allclose(gradient[mdp.terminal], 0.0)  # never acted in


def test_transitions_drop_out_of_the_score_of_a_trajectory():
    theta = np.random.default_rng(4).normal(size=(4, 2))
    trajectories = pg.enumerate_trajectories(TINY, H)
    theta_t = torch.tensor(theta, requires_grad=True)
    log_rho = pg.trajectory_log_probabilities(TINY, theta_t, trajectories)
    for i, tau in enumerate(trajectories):
        (full,) = torch.autograd.grad(log_rho[i], theta_t, retain_graph=True)
        policy_only = sum(pg.grad_log_policy(theta, s, a)
                          for s, a in zip(tau.states[:-1], tau.actions, strict=True))
        np.testing.assert_allclose(full.numpy(), policy_only, atol=1e-12)


def test_bad_inputs_are_refused():
    discounted = random_mdp(3, 2, gamma=0.9, rng=0, n_terminal=1)
    with pytest.raises(ValueError, match="gamma = 1"):
        pg.expected_return(discounted, np.zeros((3, 2)), 2)
    with pytest.raises(ValueError, match="shape"):
        pg.trajectory_log_probabilities(TINY, np.zeros((3, 2)), pg.enumerate_trajectories(TINY, H))
    with pytest.raises(ValueError, match="episode"):
        pg.reinforce_gradient(np.zeros((4, 2)), [])
    with pytest.raises(ValueError, match="horizon"):
        pg.enumerate_trajectories(TINY, -1)
    with pytest.raises(ValueError, match="shape"):
        pg.exact_moments(TINY, np.zeros((4, 2)), lambda theta, episodes: np.zeros(3), H)


# ------------------------------------------------------------------------------ the estimators


def test_estimators_on_a_hand_made_episode():
    episode = sampling.Trajectory(np.array([0, 1, 3]), np.array([0, 0]), np.array([2.0, 1.0]),
                                  True)
    zero = np.zeros((4, 2))
    half = np.array([0.5, -0.5])
    expected_total = np.zeros((4, 2))
    expected_total[0], expected_total[1] = 3 * half, 3 * half  # R = 3 at both steps
    np.testing.assert_allclose(pg.reinforce_gradient(zero, [episode]), expected_total)
    expected_to_go = np.zeros((4, 2))
    expected_to_go[0], expected_to_go[1] = 3 * half, 1 * half  # G_0 = 3, G_1 = 1
    np.testing.assert_allclose(pg.reward_to_go_gradient(zero, [episode]), expected_to_go)
    baseline = np.array([3.0, 1.0, 0.0, 0.0])  # exactly the rewards-to-go: no signal left
    np.testing.assert_allclose(pg.baseline_gradient(zero, [episode], baseline), 0.0)
    # the mean is over episodes: a batch of two copies gives the same estimate
    np.testing.assert_allclose(pg.reinforce_gradient(zero, [episode, episode]), expected_total)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: e.__name__)
@pytest.mark.parametrize(("mdp", "horizon"), [(TINY, H), (small_mdp(5), 3), (small_mdp(6), 2)],
                         ids=["tiny", "random-H3", "random-H2"])
def test_estimators_are_exactly_unbiased(estimator, mdp, horizon):
    """Truncated episodes included: for the finite-horizon J every estimator is unbiased."""
    theta = np.random.default_rng(7).normal(size=(mdp.n_states, mdp.n_actions))
    trajectories = pg.enumerate_trajectories(mdp, horizon)
    moments = pg.exact_moments(mdp, theta, estimator, horizon, *extra_args(estimator, mdp, theta),
                               trajectories=trajectories)
    np.testing.assert_allclose(moments.mean, pg.exact_gradient(mdp, theta, horizon, trajectories),
                               atol=1e-12)


def test_any_state_baseline_is_unbiased_but_a_next_state_one_is_not():
    theta = np.random.default_rng(8).normal(size=(4, 2))
    exact = pg.exact_gradient(TINY, theta, H)
    baseline = np.array([5.0, -3.0, 2.0, 7.0])
    moments = pg.exact_moments(TINY, theta, pg.baseline_gradient, H, baseline)
    np.testing.assert_allclose(moments.mean, exact, atol=1e-12)

    def next_state(theta, episodes, baseline):
        total = np.zeros_like(theta)
        for e in episodes:
            to_go = sampling.discounted_returns(e.rewards, 1.0)
            for h, (s, a) in enumerate(zip(e.states[:-1], e.actions, strict=True)):
                total += pg.grad_log_policy(theta, s, a) * (to_go[h] - baseline[e.states[h + 1]])
        return total / len(episodes)

    biased = pg.exact_moments(TINY, theta, next_state, H, baseline)
    assert np.abs(biased.mean - exact).max() > 0.1


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: e.__name__)
def test_estimators_are_unbiased_from_samples(estimator):
    theta = np.random.default_rng(9).normal(0.0, 0.5, size=(4, 2))
    extra = extra_args(estimator, TINY, theta)
    moments = pg.exact_moments(TINY, theta, estimator, H, *extra)
    n = 20_000
    episodes = pg.sample_episodes(TINY, theta, n, np.random.default_rng(10), H)
    error = np.abs(estimator(theta, episodes, *extra) - pg.exact_gradient(TINY, theta, H))
    assert np.all(error <= 5 * np.sqrt(moments.variance / n) + 1e-12)


def test_exact_variance_matches_the_sampled_variance():
    theta = np.random.default_rng(11).normal(0.0, 0.5, size=(4, 2))
    moments = pg.exact_moments(TINY, theta, pg.reinforce_gradient, H)
    episodes = pg.sample_episodes(TINY, theta, 20_000, np.random.default_rng(12), H)
    one_episode = np.array([pg.reinforce_gradient(theta, [e]) for e in episodes])
    assert one_episode.var(axis=0).sum() == pytest.approx(moments.total_variance, rel=0.05)


@pytest.mark.parametrize("seed", range(10))
def test_reward_to_go_lowers_the_variance_and_the_value_baseline_lowers_it_further(seed):
    theta = np.zeros((4, 2)) if seed == 0 else np.random.default_rng(seed).normal(0, 0.5, (4, 2))
    trajectories = pg.enumerate_trajectories(TINY, H)
    variances = [pg.exact_moments(TINY, theta, e, H, *extra_args(e, TINY, theta),
                                  trajectories=trajectories).total_variance for e in ESTIMATORS]
    assert variances[0] > variances[1] > variances[2] > 0


def test_largest_deviation_is_the_range_of_the_one_episode_estimates():
    theta = np.random.default_rng(15).normal(0.0, 0.5, size=(4, 2))
    trajectories = pg.enumerate_trajectories(TINY, H)
    moments = pg.exact_moments(TINY, theta, pg.reinforce_gradient, H, trajectories=trajectories)
    one_episode = np.array([pg.reinforce_gradient(theta, [t]) for t in trajectories])
    np.testing.assert_allclose(moments.largest_deviation,
                               np.abs(one_episode - moments.mean).max(axis=0))
    assert moments.largest_deviation.shape == theta.shape


def test_sampled_trajectories_follow_rho():
    theta = np.random.default_rng(13).normal(size=(4, 2))
    trajectories = pg.enumerate_trajectories(TINY, H)
    rho = pg.trajectory_probabilities(TINY, theta, trajectories)
    keys = [tuple(t.states) + tuple(t.actions) for t in trajectories]
    n = 20_000
    episodes = pg.sample_episodes(TINY, theta, n, np.random.default_rng(14), H)
    counts = np.zeros(len(keys))
    for e in episodes:
        counts[keys.index(tuple(e.states) + tuple(e.actions))] += 1
    assert np.all(np.abs(counts / n - rho) <= 5 * np.sqrt(rho * (1 - rho) / n))
    again = pg.sample_episodes(TINY, theta, 5, np.random.default_rng(14), H)
    assert [tuple(e.states) for e in again] == [tuple(e.states) for e in episodes[:5]]


def test_the_surrogate_loss_differentiates_into_minus_the_estimate():
    theta = np.random.default_rng(15).normal(size=(4, 2))
    episodes = pg.sample_episodes(TINY, theta, 30, np.random.default_rng(16), H)
    theta_t = torch.tensor(theta, requires_grad=True)
    states = [s for e in episodes for s in e.states[:-1]]
    actions = [a for e in episodes for a in e.actions]
    log_probs = torch.log_softmax(theta_t, dim=1)[states, actions]
    weights = torch.as_tensor(np.concatenate(
        [sampling.discounted_returns(e.rewards, 1.0) for e in episodes]))
    reinforce_loss(log_probs, weights).backward()
    estimate = pg.reward_to_go_gradient(theta, episodes)
    np.testing.assert_allclose(-theta_t.grad.numpy() * len(states) / len(episodes), estimate,
                               atol=1e-12)


# ------------------------------------------------------------------------------ the check specs


@pytest.mark.slow
def test_check_specs_reference_passes_20_grader_seeds_in_a_row():
    import autograder.judge.specs.reinforce as specs
    import autograder.judge.specs.reinforce_estimators as estimators
    from autograder.judge.core import run_check

    statistical = [specs.GRAD_LOG_SOFTMAX, specs.SCORE_FUNCTION_GRADIENT,
                   specs.GRAD_LOG_SOFTMAX_LINEAR, estimators.REINFORCE_GRADIENT,
                   estimators.REWARD_TO_GO, estimators.REWARD_TO_GO_GRADIENT,
                   estimators.BASELINE_GRADIENT]
    for seed in range(20):
        for spec in statistical:
            report = run_check(spec, spec.reference, grading=True, seed=seed)
            assert report.passed, f"seed {seed}: {report.summary()}"


@pytest.mark.parametrize("p", [0.5, 0.05, 0.001])
@pytest.mark.parametrize("n", [100, 1000])
def test_the_statistical_bound_holds_exactly_for_skewed_estimates(p, n):
    """The exact binomial tail at Bernstein's bound is below 2 exp(-18) (its false-fail rate).

    A rare outcome (p = 0.001) is where a bound from the variance alone fails: 6 standard
    errors are then a count of 7 where 1 is expected, which a correct estimate exceeds with
    probability ~1e-4; the range term keeps the bound.
    """
    from scipy.stats import binom

    from autograder.judge.specs.reinforce import N_STANDARD_ERRORS, _bernstein_bound

    bound = _bernstein_bound(np.array([p * (1 - p)]), np.array([max(p, 1 - p)]), n)[0]
    above, below = np.floor(n * (p + bound)), np.ceil(n * (p - bound))
    false_fail = binom.sf(above, n, p) + (binom.cdf(below - 1, n, p) if below >= 1 else 0.0)
    assert false_fail <= 2 * np.exp(-N_STANDARD_ERRORS**2 / 2)
    if p == 0.001:  # the variance term alone would not do
        alone = N_STANDARD_ERRORS * np.sqrt(p * (1 - p) / n)
        assert binom.sf(np.floor(n * (p + alone)), n, p) > 2 * np.exp(-N_STANDARD_ERRORS**2 / 2)


def test_check_specs_catch_a_small_bias():
    import autograder.judge.specs.reinforce_estimators as specs
    from autograder.judge.core import run_check

    def biased(theta, episodes):  # off by 0.25 in one entry; 5 standard errors are ~0.09 there
        estimate = pg.reinforce_gradient(theta, episodes)
        estimate[0, 0] += 0.25
        return estimate

    report = run_check(specs.REINFORCE_GRADIENT, biased)
    assert not report.passed
    sampled = next(r for r in report.results if "sampled episodes" in r.case)
    assert sampled.problem is not None and "standard errors" in sampled.problem
