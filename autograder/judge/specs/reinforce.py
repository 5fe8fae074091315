"""Check specs of notebook 04 (REINFORCE): the derivation, graded numerically.

Three layers, as in DESIGN section 5:

1. fixtures: hand-made inputs compared with rlkit's reference (single-step episodes, gamma 0
   and 1, overflowing logits, a weight that must not receive a gradient);
2. exact and statistical unbiasedness on MDPs small enough to enumerate: the expectation of the
   student's one-episode estimate, summed over every trajectory with its probability, must be
   the exact gradient by autograd; one estimate from many sampled episodes must be within 5
   standard errors of it per component (the standard errors are the reference estimator's
   exact ones, so the reference fails with probability < 1e-5); the exact variance of the
   reward-to-go and baseline estimators must be the reference's, lower than the previous one's;
3. a short seeded learning run: REINFORCE on CartPole-v1 with the student's loss.

Every estimator is deterministic given its inputs (the grader draws the samples), so a known bug
is diagnosed by matching outputs exactly (``diagnose=allclose()``). Every ``_bug_*`` is
self-contained (numpy and torch, which the notebook imports) so that the sample class can paste
its source into a notebook.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import numpy as np
import torch

from autograder.judge.core import (
    Bug,
    Case,
    CaseProblem,
    CheckSpec,
    Comparator,
    Deferred,
    allclose,
    deferred_compare,
    learning_case,
    register,
)
from rlkit import policy_gradient as pg
from rlkit.mdp import TabularMDP, random_mdp
from rlkit.sampling import Trajectory

#: standard errors an estimate may be off the exact gradient (per component).
N_STANDARD_ERRORS = 5.0
#: episodes (or samples) behind one statistical estimate.
N_EPISODES = 2000


def _tiny() -> tuple[TabularMDP, int, list[Trajectory]]:
    return _TINY_MDP, pg.TINY_HORIZON, _TINY_TRAJECTORIES


_TINY_MDP = pg.tiny_mdp()
_TINY_TRAJECTORIES = pg.enumerate_trajectories(_TINY_MDP, pg.TINY_HORIZON)


def _episode(states: Sequence[int], actions: Sequence[int], rewards: Sequence[float],
             terminated: bool = True) -> Trajectory:
    return Trajectory(np.array(states, dtype=np.int64), np.array(actions, dtype=np.int64),
                      np.array(rewards, dtype=np.float64), terminated)


def _within_standard_errors(bound: np.ndarray) -> Comparator:
    """Pass when every component of ``got`` is within ``bound`` of the exact ``expected``."""

    def compare(got: Any, expected: Any) -> str | None:
        try:
            estimate = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            return f"expected a numeric array, got {type(got).__name__}"
        if estimate.shape != np.shape(expected):
            return f"wrong shape: expected {np.shape(expected)}, got {estimate.shape}"
        if not np.all(np.isfinite(estimate)):
            return "the estimate contains NaN or inf"
        error = np.abs(estimate - np.asarray(expected))
        if np.all(error <= bound):
            return None
        worst = np.unravel_index(np.argmax(error - bound), error.shape)
        return (f"the estimate is off the exact gradient by {error[worst]:.3g} at index "
                f"{tuple(int(i) for i in worst)}, more than {N_STANDARD_ERRORS:g} standard "
                f"errors ({bound[worst]:.3g}): it is biased")

    return compare


def _random_small_mdp(rng: np.random.Generator) -> tuple[TabularMDP, int]:
    """A random MDP with 3-4 states (one terminal), 2 actions, gamma 1, and a horizon 2-3."""
    mdp = random_mdp(int(rng.integers(3, 5)), 2, gamma=1.0, rng=rng, n_terminal=1)
    return mdp, int(rng.integers(2, 4))


# --- grad_log_softmax


def _grad_log_softmax_cases() -> list[Case]:
    rng = np.random.default_rng(401)
    return [
        Case("two equal logits, action 0", (np.zeros(2), 0)),
        Case("logits [1, 2, 3], action 2", (np.array([1.0, 2.0, 3.0]), 2)),
        Case("logits [1, 2, 3], action 0", (np.array([1.0, 2.0, 3.0]), 0)),
        Case("5 random logits, action 3 (a numpy integer)",
             (rng.normal(size=5), np.int64(3))),
        Case("huge logits [1000, 0, -1000], action 1 (exp(1000) overflows)",
             (np.array([1000.0, 0.0, -1000.0]), 1)),
        Case("integer logits [1, 2, 0] (an int array), action 1", (np.array([1, 2, 0]), 1)),
    ]


def _grad_log_softmax_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for i in range(4):
        k = int(rng.integers(2, 8))
        cases.append(Case(f"hidden: {k} random logits {i}",
                          (rng.normal(0.0, 3.0, size=k), int(rng.integers(k)))))
    return cases


def _bug_gls_forgot_expectation(theta, action):
    return np.eye(len(theta))[action]


def _bug_gls_wrong_sign(theta, action):
    p = np.exp(theta - np.max(theta))
    p = p / p.sum()
    return p - np.eye(len(theta))[action]


def _bug_gls_grad_of_probability(theta, action):
    p = np.exp(theta - np.max(theta))
    p = p / p.sum()
    return p[action] * (np.eye(len(theta))[action] - p)


def _bug_gls_uniform(theta, action):
    return np.eye(len(theta))[action] - 1.0 / len(theta)


def _bug_gls_diagonal_only(theta, action):
    p = np.exp(theta - np.max(theta))
    p = p / p.sum()
    grad = np.zeros(len(theta))
    grad[action] = 1.0 - p[action]
    return grad


def _bug_gls_overflow(theta, action):
    p = np.exp(theta) / np.sum(np.exp(theta))
    return np.eye(len(theta))[action] - p


GRAD_LOG_SOFTMAX = CheckSpec(
    name="reinforce.grad_log_softmax",
    function="grad_log_softmax",
    points=2,
    reference=pg.grad_log_softmax,
    visible_cases=_grad_log_softmax_cases,
    hidden_cases=_grad_log_softmax_hidden,
    compare=allclose(rtol=1e-6, atol=1e-9),
    bugs=(
        Bug("forgot_expectation", _bug_gls_forgot_expectation,
            "The log-normaliser -ln sum_x' exp(theta_x') depends on every theta_j too: "
            "subtract its gradient, the probabilities softmax(theta)."),
        Bug("wrong_sign", _bug_gls_wrong_sign,
            "Your sign is flipped: d/dtheta_j ln softmax(theta)_a = 1[j = a] - "
            "softmax(theta)_j, one-hot MINUS probabilities."),
        Bug("grad_of_probability", _bug_gls_grad_of_probability,
            "That is the gradient of the probability P(a); the score is the gradient of its "
            "LOG: divide by P(a), which leaves e_a - softmax(theta)."),
        Bug("uniform_expectation", _bug_gls_uniform,
            "Subtract the softmax probabilities, not 1/K (they are equal only when all logits "
            "are)."),
        Bug("diagonal_only", _bug_gls_diagonal_only,
            "Every logit theta_j enters the normaliser: the components j != a are "
            "-softmax(theta)_j, not 0."),
        Bug("overflow", _bug_gls_overflow,
            "exp(1000) overflows to inf and inf/inf is NaN: subtract max(theta) before exp "
            "(softmax is unchanged by a shift of all logits)."),
    ),
    hint="grad_theta ln softmax(theta)_a = e_a - softmax(theta), a (K,) array; compute the "
    "softmax stably.",
)

# --- score_function_gradient


def _score_exact_case(name: str, theta: np.ndarray, f: np.ndarray) -> Case:
    """E_{x ~ P_theta} of the one-sample estimate, summed exactly, vs the autograd gradient."""
    probs = pg.softmax(theta)

    def run(fn):
        total = np.zeros(len(theta))
        for x in range(len(theta)):
            estimate = np.asarray(fn(theta.copy(), f.copy(), np.array([x])), dtype=np.float64)
            if estimate.shape != theta.shape:
                raise CaseProblem(f"returned shape {estimate.shape}; expected {theta.shape}")
            total += probs[x] * estimate
        return total

    return Case(name, run=run, expected=pg.softmax_expectation_gradient(theta, f),
                compare=allclose(rtol=1e-6, atol=1e-9))


def _score_sampled_case(name: str, theta: np.ndarray, f: np.ndarray, seed: int,
                        n: int = 5 * N_EPISODES) -> Case:
    samples = pg.sample_outcomes(theta, n, np.random.default_rng(seed))
    probs = pg.softmax(theta)
    scores = np.eye(len(theta)) - probs  # row x: the score of outcome x
    one_sample = scores * f[:, None]
    mean = probs @ one_sample
    std = np.sqrt(probs @ (one_sample - mean) ** 2)
    return Case(name, (theta, f, samples), expected=pg.softmax_expectation_gradient(theta, f),
                compare=_within_standard_errors(N_STANDARD_ERRORS * std / np.sqrt(n) + 1e-9))


def _score_cases() -> list[Case]:
    rng = np.random.default_rng(402)
    theta4 = np.array([0.5, -1.0, 0.0, 1.0])
    f4 = np.array([1.0, -2.0, 3.0, 0.0])
    return [
        Case("theta = 0, f = [1, 2, 3], samples [0, 1, 2, 2]",
             (np.zeros(3), np.array([1.0, 2.0, 3.0]), np.array([0, 1, 2, 2]))),
        Case("a single sample x = 1", (theta4, f4, np.array([1]))),
        Case("K = 4, 10 samples", (theta4, f4, rng.integers(0, 4, size=10))),
        _score_exact_case("in expectation (sum_x P(x) * your estimate from the one sample x, "
                          "exactly) it is the exact gradient by autograd", theta4, f4),
        _score_sampled_case(f"{5 * N_EPISODES} samples x_i ~ P_theta: within "
                            f"{N_STANDARD_ERRORS:g} standard errors of the exact gradient",
                            theta4, f4, seed=3),
    ]


def _score_hidden(rng: np.random.Generator) -> list[Case]:
    k = int(rng.integers(3, 7))
    theta, f = rng.normal(size=k), rng.normal(0.0, 2.0, size=k)
    return [
        Case("hidden: random theta, f and samples", (theta, f, rng.integers(0, k, size=7))),
        _score_exact_case("hidden: exact expectation, random theta and f", theta, f),
        _score_sampled_case("hidden: many samples, random theta and f", theta, f,
                            int(rng.integers(1 << 30))),
    ]


def _bug_sf_forgot_expectation(theta, f, samples):
    scores = np.eye(len(theta))[samples]
    return (scores * np.asarray(f)[samples][:, None]).mean(axis=0)


def _bug_sf_grad_of_probability(theta, f, samples):
    p = np.exp(theta - np.max(theta))
    p = p / p.sum()
    grads = p[samples][:, None] * (np.eye(len(theta))[samples] - p)
    return (grads * np.asarray(f)[samples][:, None]).mean(axis=0)


def _bug_sf_sum_not_mean(theta, f, samples):
    p = np.exp(theta - np.max(theta))
    p = p / p.sum()
    scores = np.eye(len(theta))[samples] - p
    return (scores * np.asarray(f)[samples][:, None]).sum(axis=0)


def _bug_sf_wrong_sign(theta, f, samples):
    p = np.exp(theta - np.max(theta))
    p = p / p.sum()
    scores = p - np.eye(len(theta))[samples]
    return (scores * np.asarray(f)[samples][:, None]).mean(axis=0)


def _bug_sf_ignores_f(theta, f, samples):
    p = np.exp(theta - np.max(theta))
    p = p / p.sum()
    return (np.eye(len(theta))[samples] - p).mean(axis=0)


def _bug_sf_average_f(theta, f, samples):
    p = np.exp(theta - np.max(theta))
    p = p / p.sum()
    scores = np.eye(len(theta))[samples] - p
    return scores.mean(axis=0) * np.asarray(f)[samples].mean()


SCORE_FUNCTION_GRADIENT = CheckSpec(
    name="reinforce.score_function_gradient",
    function="score_function_gradient",
    points=2,
    reference=pg.score_function_gradient,
    visible_cases=_score_cases,
    hidden_cases=_score_hidden,
    compare=allclose(rtol=1e-6, atol=1e-9),
    diagnose=allclose(),
    bugs=(
        Bug("forgot_expectation", _bug_sf_forgot_expectation,
            "The score of x is e_x - softmax(theta), not e_x alone: without the "
            "-softmax(theta) term the estimate is biased."),
        Bug("grad_of_probability", _bug_sf_grad_of_probability,
            "Importance weighting with rho = P_theta gives grad P_theta(x) / P_theta(x) = "
            "grad ln P_theta(x): divide the gradient of the probability by the probability."),
        Bug("sum_not_mean", _bug_sf_sum_not_mean,
            "Average over the N samples (1/N sum_i), do not sum."),
        Bug("wrong_sign", _bug_sf_wrong_sign,
            "grad ln P_theta(x) = e_x - softmax(theta): the sign is flipped, so the estimate "
            "points downhill."),
        Bug("ignores_f", _bug_sf_ignores_f,
            "Weight each sample's score by its value f(x_i)."),
        Bug("average_f", _bug_sf_average_f,
            "Each score is multiplied by ITS OWN f(x_i) before averaging, not by the mean of f."),
    ),
    hint="g = 1/N sum_i (e_{x_i} - softmax(theta)) f(x_i), a (K,) array.",
)

# --- grad_log_softmax_linear


def _linear_cases() -> list[Case]:
    rng = np.random.default_rng(403)
    return [
        Case("identity features (the tabular softmax), theta = 0, action 0",
             (np.zeros(2), np.eye(2), 0)),
        Case("2 actions, 3 features", (rng.normal(size=3), rng.normal(size=(2, 3)), 1)),
        Case("4 actions, 2 features", (rng.normal(size=2), rng.normal(size=(4, 2)), 2)),
        Case("one-hot features of a tabular policy (S = 2, A = 2, d = 4), state 1, action 0",
             (rng.normal(size=4), pg.tabular_features(2, 2)[1], 0)),
    ]


def _linear_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for i in range(3):
        n_actions, d = int(rng.integers(2, 6)), int(rng.integers(1, 7))
        cases.append(Case(f"hidden: {n_actions} actions, {d} random features {i}",
                          (rng.normal(size=d), rng.normal(size=(n_actions, d)),
                           int(rng.integers(n_actions)))))
    return cases


def _bug_lin_forgot_expectation(theta, features, action):
    return np.asarray(features, dtype=float)[action]


def _bug_lin_wrong_sign(theta, features, action):
    logits = features @ theta
    p = np.exp(logits - logits.max())
    p = p / p.sum()
    return p @ features - features[action]


def _bug_lin_uniform_mean(theta, features, action):
    return features[action] - features.mean(axis=0)


def _bug_lin_grad_of_probability(theta, features, action):
    logits = features @ theta
    p = np.exp(logits - logits.max())
    p = p / p.sum()
    return p[action] * (features[action] - p @ features)


def _bug_lin_tabular_formula(theta, features, action):
    logits = features @ theta
    p = np.exp(logits - logits.max())
    p = p / p.sum()
    return np.eye(len(p))[action] - p


GRAD_LOG_SOFTMAX_LINEAR = CheckSpec(
    name="reinforce.grad_log_softmax_linear",
    function="grad_log_softmax_linear",
    points=1,
    reference=pg.grad_log_softmax_linear,
    visible_cases=_linear_cases,
    hidden_cases=_linear_hidden,
    compare=allclose(rtol=1e-6, atol=1e-9),
    bugs=(
        Bug("forgot_expectation", _bug_lin_forgot_expectation,
            "Differentiate the log-normaliser too: subtract E_{a' ~ pi}[phi(s, a')] = "
            "pi @ features."),
        Bug("wrong_sign", _bug_lin_wrong_sign,
            "Your sign is flipped: phi(s, a) MINUS the expected feature vector, not the other "
            "way round."),
        Bug("uniform_mean", _bug_lin_uniform_mean,
            "The expectation is under the policy: weight each phi(s, a') by pi(a'|s), not "
            "equally."),
        Bug("grad_of_probability", _bug_lin_grad_of_probability,
            "The score is the gradient of ln pi(a|s); you multiplied by pi(a|s), which is the "
            "gradient of pi itself."),
        Bug("tabular_formula", _bug_lin_tabular_formula,
            "e_a - pi is the gradient w.r.t. the LOGITS; chain it through logits = features @ "
            "theta: the result has theta's shape (d,)."),
    ),
    hint="grad ln pi(a|s) = phi(s,a) - sum_a' pi(a'|s) phi(s,a') with pi = softmax(features @ "
    "theta); shape (d,).",
)

# --- the three MDP estimators: shared cases


def _exact_case(name: str, mdp: TabularMDP, horizon: int, theta: np.ndarray,
                extra: tuple = (), trajectories: list[Trajectory] | None = None) -> Case:
    """sum_tau rho(tau) * fn(theta, [tau], *extra), exactly, vs the gradient by autograd."""
    trajectories = trajectories or pg.enumerate_trajectories(mdp, horizon)

    def run(fn):
        return pg.exact_moments(mdp, theta, fn, horizon, *extra, trajectories=trajectories).mean

    return Case(name, run=run,
                expected=Deferred(lambda: pg.exact_gradient(mdp, theta, horizon, trajectories)),
                compare=allclose(rtol=1e-6, atol=1e-9))


def _sampled_case(name: str, reference: Callable, mdp: TabularMDP, horizon: int,
                  theta: np.ndarray, seed: int, extra: tuple = (),
                  trajectories: list[Trajectory] | None = None,
                  episodes: list[Trajectory] | None = None) -> Case:
    """One estimate from sampled episodes, within 5 standard errors of the exact gradient.

    ``episodes`` (drawn with ``theta``) may be given; by default N_EPISODES are drawn from
    ``seed``. The standard errors are the reference's for that many episodes.
    """
    trajectories = trajectories or pg.enumerate_trajectories(mdp, horizon)
    if episodes is None:
        episodes = pg.sample_episodes(mdp, theta, N_EPISODES, np.random.default_rng(seed),
                                      horizon)
    n = len(episodes)

    def within() -> Comparator:  # the reference's moments: computed by the judge only
        moments = pg.exact_moments(mdp, theta, reference, horizon, *extra,
                                   trajectories=trajectories)
        return _within_standard_errors(N_STANDARD_ERRORS * np.sqrt(moments.variance / n) + 1e-9)

    return Case(name, (theta, episodes, *extra),
                expected=Deferred(lambda: pg.exact_gradient(mdp, theta, horizon, trajectories)),
                compare=deferred_compare(within))


def _variance_case(name: str, reference: Callable, previous: Callable,
                   rng: np.random.Generator, extra: Callable[[np.ndarray], tuple] = lambda t: (),
                   previous_extra: Callable[[np.ndarray], tuple] = lambda t: ()) -> Case:
    """The exact variance of the one-episode estimate on the tiny MDP is the reference's.

    theta is small, so that no action is nearly certain; the reference's variance is then below
    ``previous``'s (a variance drop is what the case shows: ``tests/test_withhold.py`` checks it
    for the cases' thetas). The variances are the judge's (Deferred): the references are
    withheld where the student's code runs.
    """
    mdp, horizon, trajectories = _tiny()
    theta = _theta(rng, 0.5)

    def run(fn):
        return pg.exact_moments(mdp, theta, fn, horizon, *extra(theta),
                                trajectories=trajectories).total_variance

    def variance(estimator: Callable, more: Callable[[np.ndarray], tuple]) -> float:
        return pg.exact_moments(mdp, theta, estimator, horizon, *more(theta),
                                trajectories=trajectories).total_variance

    def expected() -> float:
        ours, before = variance(reference, extra), variance(previous, previous_extra)
        if not ours < before:  # the case would show nothing: a bug of the spec, not the student
            raise RuntimeError(f"{name}: no variance drop at this theta ({ours} >= {before})")
        return ours

    return Case(f"{name}: the exact variance of a one-episode estimate must be the reference's, "
                "below the previous estimator's", run=run, expected=Deferred(expected),
                compare=allclose(rtol=1e-6, atol=1e-9))


def _fixture_episodes() -> list[Trajectory]:
    """Three hand-made episodes of the tiny MDP: start-L-left-L-end, start-R-end, right-R-end."""
    return [
        _episode([0, 1, 3], [0, 0], [2.0, 1.0]),
        _episode([0, 3], [1], [0.0]),
        _episode([2, 3], [1], [3.0]),
    ]


def _theta(rng: np.random.Generator, scale: float = 1.0,
           mdp: TabularMDP = _TINY_MDP) -> np.ndarray:
    return rng.normal(0.0, scale, size=(mdp.n_states, mdp.n_actions))


def _estimator_cases(reference: Callable, seed: int,
                     extra: Callable[[np.ndarray], tuple] = lambda theta: ()) -> list[Case]:
    """Fixtures, exact expectations and a statistical case on the tiny MDP."""
    rng = np.random.default_rng(seed)
    mdp, horizon, trajectories = _tiny()
    zero = np.zeros((mdp.n_states, mdp.n_actions))
    theta = _theta(rng)
    episodes = _fixture_episodes()
    return [
        Case("one single-step episode right -R-> end (reward 3), theta = 0",
             (zero, [episodes[2]], *extra(zero))),
        Case("one two-step episode start -L-> left -L-> end (rewards 2, 1), theta = 0",
             (zero, [episodes[0]], *extra(zero))),
        Case("three episodes of lengths 2, 1, 1, a random theta",
             (theta, episodes, *extra(theta))),
        _exact_case("in expectation over the 11 trajectories of the tiny MDP (exactly), theta = "
                    "0: the exact gradient by autograd", mdp, horizon, zero, extra(zero),
                    trajectories),
        _exact_case("in expectation (exactly), a random theta: the exact gradient", mdp,
                    horizon, theta, extra(theta), trajectories),
        _sampled_case(f"{N_EPISODES} sampled episodes, a random theta: within "
                      f"{N_STANDARD_ERRORS:g} standard errors of the exact gradient",
                      reference, mdp, horizon, theta, seed, extra(theta), trajectories),
    ]


def _estimator_hidden(reference: Callable, rng: np.random.Generator,
                      extra: Callable[[np.ndarray, TabularMDP], tuple]) -> list[Case]:
    small, horizon = _random_small_mdp(rng)
    theta_small = _theta(rng, mdp=small)
    episodes = pg.sample_episodes(small, theta_small, 5, rng, horizon)
    mdp, tiny_horizon, trajectories = _tiny()
    theta = _theta(rng)
    return [
        Case("hidden: 5 episodes of a random MDP", (theta_small, episodes,
                                                    *extra(theta_small, small))),
        _exact_case(f"hidden: exact expectation on a random MDP ({small.n_states} states, "
                    f"horizon {horizon})", small, horizon, theta_small,
                    extra(theta_small, small)),
        _sampled_case("hidden: many sampled episodes of the tiny MDP, a random theta",
                      reference, mdp, tiny_horizon, theta, int(rng.integers(1 << 30)),
                      extra(theta, mdp), trajectories),
    ]


# --- reinforce_gradient


def _bug_rg_forgot_expectation(theta, episodes):
    grad = np.zeros_like(theta)
    for ep in episodes:
        total = np.sum(ep.rewards)
        for s, a in zip(ep.states[:-1], ep.actions, strict=True):
            grad[s, a] += total
    return grad / len(episodes)


def _bug_rg_next_state(theta, episodes):
    grad = np.zeros_like(theta)
    for ep in episodes:
        total = np.sum(ep.rewards)
        for t, a in enumerate(ep.actions):
            s = ep.states[t + 1]
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * total
    return grad / len(episodes)


def _bug_rg_mean_over_steps(theta, episodes):
    grad = np.zeros_like(theta)
    n_steps = 0
    for ep in episodes:
        total = np.sum(ep.rewards)
        for s, a in zip(ep.states[:-1], ep.actions, strict=True):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * total
            n_steps += 1
    return grad / n_steps


def _bug_rg_immediate_reward(theta, episodes):
    grad = np.zeros_like(theta)
    for ep in episodes:
        for s, a, r in zip(ep.states[:-1], ep.actions, ep.rewards, strict=True):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * r
    return grad / len(episodes)


def _bug_rg_first_step_only(theta, episodes):
    grad = np.zeros_like(theta)
    for ep in episodes:
        if len(ep.actions) == 0:
            continue
        s, a = ep.states[0], ep.actions[0]
        p = np.exp(theta[s] - theta[s].max())
        grad[s] += (np.eye(len(p))[a] - p / p.sum()) * np.sum(ep.rewards)
    return grad / len(episodes)


def _bug_rg_sum_over_episodes(theta, episodes):
    grad = np.zeros_like(theta)
    for ep in episodes:
        total = np.sum(ep.rewards)
        for s, a in zip(ep.states[:-1], ep.actions, strict=True):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * total
    return grad


def _bug_rg_wrong_sign(theta, episodes):
    grad = np.zeros_like(theta)
    for ep in episodes:
        total = np.sum(ep.rewards)
        for s, a in zip(ep.states[:-1], ep.actions, strict=True):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] -= (np.eye(len(p))[a] - p / p.sum()) * total
    return grad / len(episodes)


def _bug_rg_reward_to_go(theta, episodes):
    grad = np.zeros_like(theta, dtype=float)
    for episode in episodes:
        to_go = np.cumsum(np.asarray(episode.rewards, dtype=float)[::-1])[::-1]
        for h, (s, a) in enumerate(zip(episode.states[:-1], episode.actions, strict=True)):
            z = theta[s] - theta[s].max()
            score = -np.exp(z) / np.exp(z).sum()
            score[a] += 1.0
            grad[s] += score * to_go[h]
    return grad / len(episodes)


REINFORCE_GRADIENT = CheckSpec(
    name="reinforce.reinforce_gradient",
    function="reinforce_gradient",
    points=3,
    reference=pg.reinforce_gradient,
    visible_cases=lambda: _estimator_cases(pg.reinforce_gradient, 404),
    hidden_cases=lambda rng: _estimator_hidden(pg.reinforce_gradient, rng, lambda t, m: ()),
    compare=allclose(rtol=1e-6, atol=1e-9),
    diagnose=allclose(),
    bugs=(
        Bug("forgot_expectation", _bug_rg_forgot_expectation,
            "Row s of grad ln pi(a|s) is e_a - pi(.|s): subtract the policy's probabilities, "
            "or the estimate is biased."),
        Bug("next_state", _bug_rg_next_state,
            "states has one more entry than actions: a_t is taken in states[t], not "
            "states[t + 1]."),
        Bug("mean_over_steps", _bug_rg_mean_over_steps,
            "The expectation is over trajectories: divide by the number of EPISODES N, not by "
            "the number of steps."),
        Bug("immediate_reward", _bug_rg_immediate_reward,
            "REINFORCE weights every step's score by the whole return R(tau) = sum_t r_t, not "
            "by the reward r_t of that step."),
        Bug("first_step_only", _bug_rg_first_step_only,
            "grad ln rho_theta(tau) = sum over ALL steps h of grad ln pi(a_h|s_h), not only "
            "the first."),
        Bug("sum_over_episodes", _bug_rg_sum_over_episodes,
            "Average over the N episodes (1/N sum_i): the sum grows with N."),
        Bug("wrong_sign", _bug_rg_wrong_sign,
            "The estimate of grad J is + sum_h grad ln pi(a_h|s_h) R(tau): your sign is flipped "
            "(a loss is minus this, the gradient itself is not)."),
        Bug("reward_to_go_weights", _bug_rg_reward_to_go,
            "That is the reward-to-go estimator (section 4); this one weights every step by "
            "the whole return R(tau) = sum_t r_t."),
    ),
    hint="g = 1/N sum_i (sum_h grad ln pi(a_h|s_h)) R(tau_i); row s_h of grad ln pi(a_h|s_h) "
    "is e_{a_h} - softmax(theta[s_h]), the other rows 0.",
)

# --- reward_to_go


def _rtg_cases() -> list[Case]:
    return [
        Case("rewards [1, 2, 3], gamma 0.5", (np.array([1.0, 2.0, 3.0]), 0.5)),
        Case("rewards [1, 1, 1, 1], gamma 1 (plain sums of the rest)", (np.ones(4), 1.0)),
        Case("rewards [3, -1, 2], gamma 0 (only r_t counts)", (np.array([3.0, -1.0, 2.0]), 0.0)),
        Case("a single-step episode [5], gamma 0.9", (np.array([5.0]), 0.9)),
        Case("rewards [0, 0, 1], gamma 0.9 (a sparse reward)", (np.array([0.0, 0.0, 1.0]), 0.9)),
        Case("500 rewards of 1 (a perfect CartPole episode), gamma 0.99", (np.ones(500), 0.99)),
        Case("the lecture's living reward: [-0.04, -0.04, 1], gamma 0.9",
             (np.array([-0.04, -0.04, 1.0]), 0.9)),
    ]


def _rtg_hidden(rng: np.random.Generator) -> list[Case]:
    return [Case(f"hidden: {n} random rewards", (rng.normal(size=n), float(rng.uniform(0.1, 1))))
            for n in rng.integers(2, 50, size=3)]


def _bug_rtg_off_by_one(rewards, gamma):
    out = np.zeros(len(rewards))
    future = 0.0
    for t in reversed(range(len(rewards))):
        out[t] = future
        future = rewards[t] + gamma * future
    return out


def _bug_rtg_past_rewards(rewards, gamma):
    out = np.zeros(len(rewards))
    past = 0.0
    for t in range(len(rewards)):
        past = rewards[t] + gamma * past
        out[t] = past
    return out


def _bug_rtg_absolute_discount(rewards, gamma):
    discounted = gamma ** np.arange(len(rewards)) * np.asarray(rewards, dtype=float)
    return np.cumsum(discounted[::-1])[::-1]


def _bug_rtg_no_discount(rewards, gamma):
    return np.cumsum(np.asarray(rewards, dtype=float)[::-1])[::-1]


def _bug_rtg_total_return(rewards, gamma):
    total = np.sum(gamma ** np.arange(len(rewards)) * np.asarray(rewards, dtype=float))
    return np.full(len(rewards), total)


def _bug_rtg_reversed(rewards, gamma):
    out = []
    future = 0.0
    for r in reversed(list(rewards)):
        future = r + gamma * future
        out.append(future)
    return np.array(out)


def _reference_reward_to_go(rewards, gamma):
    from rlkit.agents.reinforce import reward_to_go

    return reward_to_go(rewards, gamma)


REWARD_TO_GO = CheckSpec(
    name="reinforce.reward_to_go",
    function="reward_to_go",
    points=2,
    reference=_reference_reward_to_go,
    withhold=("rlkit.agents.reinforce.reward_to_go", "rlkit.sampling.discounted_returns"),
    visible_cases=_rtg_cases,
    hidden_cases=_rtg_hidden,
    bugs=(
        Bug("off_by_one", _bug_rtg_off_by_one,
            "The reward-to-go at t INCLUDES r_t: G_t = r_t + gamma G_{t+1} (the action a_t "
            "earns r_t)."),
        Bug("past_rewards", _bug_rtg_past_rewards,
            "The reward-to-go sums the rewards from t to the END (what a_t can still change), "
            "not those up to t: go backwards."),
        Bug("absolute_discount", _bug_rtg_absolute_discount,
            "Discount from the current step: r_{t'} gets gamma^(t' - t), not gamma^t'."),
        Bug("no_discount", _bug_rtg_no_discount,
            "Each later reward is discounted: G_t = r_t + gamma G_{t+1}."),
        Bug("total_return", _bug_rtg_total_return,
            "That is R(tau) at every step; the reward-to-go G_t drops the rewards before t."),
        Bug("reversed_order", _bug_rtg_reversed,
            "You computed G_{T-1}, ..., G_0 backwards but returned them in that order: "
            "reverse, so that entry t is G_t."),
    ),
    hint="G_t = sum_{t'=t}^{T-1} gamma^(t'-t) r_{t'}: backwards, G_t = r_t + gamma G_{t+1} "
    "with G_T = 0; a float array of shape (T,).",
)

# --- reward_to_go_gradient


def _rtg_gradient_cases() -> list[Case]:
    rng = np.random.default_rng(405)
    return [*_estimator_cases(pg.reward_to_go_gradient, 405),
            _variance_case("variance, a random theta", pg.reward_to_go_gradient,
                           pg.reinforce_gradient, rng)]


def _rtg_gradient_hidden(rng: np.random.Generator) -> list[Case]:
    return [*_estimator_hidden(pg.reward_to_go_gradient, rng, lambda t, m: ()),
            _variance_case("hidden: variance, a random theta", pg.reward_to_go_gradient,
                           pg.reinforce_gradient, rng)]


def _bug_rtgg_total_return(theta, episodes):
    grad = np.zeros_like(theta)
    for ep in episodes:
        total = np.sum(ep.rewards)
        for s, a in zip(ep.states[:-1], ep.actions, strict=True):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * total
    return grad / len(episodes)


def _bug_rtgg_off_by_one(theta, episodes):
    grad = np.zeros_like(theta)
    for ep in episodes:
        rewards = np.asarray(ep.rewards, dtype=float)
        for t, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * rewards[t + 1:].sum()
    return grad / len(episodes)


def _bug_rtgg_past_rewards(theta, episodes):
    grad = np.zeros_like(theta)
    for ep in episodes:
        rewards = np.asarray(ep.rewards, dtype=float)
        for t, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * rewards[: t + 1].sum()
    return grad / len(episodes)


def _bug_rtgg_forgot_expectation(theta, episodes):
    grad = np.zeros_like(theta)
    for ep in episodes:
        rewards = np.asarray(ep.rewards, dtype=float)
        for t, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            grad[s, a] += rewards[t:].sum()
    return grad / len(episodes)


def _bug_rtgg_mean_over_steps(theta, episodes):
    grad = np.zeros_like(theta)
    n_steps = 0
    for ep in episodes:
        rewards = np.asarray(ep.rewards, dtype=float)
        for t, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * rewards[t:].sum()
            n_steps += 1
    return grad / n_steps


def _bug_rtgg_next_state(theta, episodes):
    grad = np.zeros_like(theta)
    for ep in episodes:
        rewards = np.asarray(ep.rewards, dtype=float)
        for t, a in enumerate(ep.actions):
            s = ep.states[t + 1]
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * rewards[t:].sum()
    return grad / len(episodes)


REWARD_TO_GO_GRADIENT = CheckSpec(
    name="reinforce.reward_to_go_gradient",
    function="reward_to_go_gradient",
    points=2,
    reference=pg.reward_to_go_gradient,
    visible_cases=_rtg_gradient_cases,
    hidden_cases=_rtg_gradient_hidden,
    compare=allclose(rtol=1e-6, atol=1e-9),
    diagnose=allclose(),
    bugs=(
        Bug("total_return", _bug_rtgg_total_return,
            "That is the total-return estimator: weight step h by the reward-to-go "
            "sum_{t >= h} r_t instead of R(tau)."),
        Bug("off_by_one", _bug_rtgg_off_by_one,
            "The reward-to-go of step h starts AT h: it includes r_h, which a_h earns."),
        Bug("past_rewards", _bug_rtgg_past_rewards,
            "An action changes only the rewards from its step on: sum r_t for t >= h, not "
            "t <= h (that one is biased)."),
        Bug("forgot_expectation", _bug_rtgg_forgot_expectation,
            "Row s of grad ln pi(a|s) is e_a - pi(.|s): subtract the probabilities."),
        Bug("mean_over_steps", _bug_rtgg_mean_over_steps,
            "Divide by the number of EPISODES, not of steps."),
        Bug("next_state", _bug_rtgg_next_state,
            "a_h is taken in states[h], not states[h + 1]."),
    ),
    hint="g = 1/N sum_i sum_h grad ln pi(a_h|s_h) G_h with G_h = sum_{t=h}^{T-1} r_t (your "
    "reward_to_go with gamma = 1).",
)

# --- baseline_gradient


def _baseline_of(theta: np.ndarray, mdp: TabularMDP = _TINY_MDP) -> tuple:
    return (pg.state_values(mdp, theta),)


def _random_baseline(rng: np.random.Generator, mdp: TabularMDP) -> np.ndarray:
    return rng.normal(0.0, 2.0, size=mdp.n_states)


def _baseline_cases() -> list[Case]:
    rng = np.random.default_rng(406)
    mdp, horizon, trajectories = _tiny()
    theta = _theta(rng, 0.5)
    return [
        *_estimator_cases(pg.baseline_gradient, 406, _baseline_of),
        _exact_case("in expectation (exactly), ANY baseline b(s) keeps it unbiased: a random b",
                    mdp, horizon, theta, (_random_baseline(rng, mdp),), trajectories),
        _variance_case("variance with b = V^pi, a random theta", pg.baseline_gradient,
                       pg.reward_to_go_gradient, rng, _baseline_of),
    ]


def _baseline_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        *_estimator_hidden(pg.baseline_gradient, rng,
                           lambda t, m: (_random_baseline(rng, m),)),
        _variance_case("hidden: variance with b = V^pi, a random theta", pg.baseline_gradient,
                       pg.reward_to_go_gradient, rng, _baseline_of),
    ]


def _bug_bl_plus(theta, episodes, baseline):
    grad = np.zeros_like(theta)
    for ep in episodes:
        rewards = np.asarray(ep.rewards, dtype=float)
        for t, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * (rewards[t:].sum() + baseline[s])
    return grad / len(episodes)


def _bug_bl_next_state(theta, episodes, baseline):
    grad = np.zeros_like(theta)
    for ep in episodes:
        rewards = np.asarray(ep.rewards, dtype=float)
        for t, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            advantage = rewards[t:].sum() - baseline[ep.states[t + 1]]
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * advantage
    return grad / len(episodes)


def _bug_bl_total_return(theta, episodes, baseline):
    grad = np.zeros_like(theta)
    for ep in episodes:
        total = np.sum(ep.rewards)
        for s, a in zip(ep.states[:-1], ep.actions, strict=True):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * (total - baseline[s])
    return grad / len(episodes)


def _bug_bl_ignored(theta, episodes, baseline):
    grad = np.zeros_like(theta)
    for ep in episodes:
        rewards = np.asarray(ep.rewards, dtype=float)
        for t, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * rewards[t:].sum()
    return grad / len(episodes)


def _bug_bl_action_index(theta, episodes, baseline):
    grad = np.zeros_like(theta)
    for ep in episodes:
        rewards = np.asarray(ep.rewards, dtype=float)
        for t, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * (rewards[t:].sum() - baseline[a])
    return grad / len(episodes)


def _bug_bl_start_state(theta, episodes, baseline):
    grad = np.zeros_like(theta)
    for ep in episodes:
        rewards = np.asarray(ep.rewards, dtype=float)
        for t, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            advantage = rewards[t:].sum() - baseline[ep.states[0]]
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * advantage
    return grad / len(episodes)


def _bug_bl_off_by_one(theta, episodes, baseline):
    grad = np.zeros_like(theta)
    for ep in episodes:
        rewards = np.asarray(ep.rewards, dtype=float)
        for t, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            advantage = rewards[t + 1:].sum() - baseline[s]
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * advantage
    return grad / len(episodes)


BASELINE_GRADIENT = CheckSpec(
    name="reinforce.baseline_gradient",
    function="baseline_gradient",
    points=2,
    reference=pg.baseline_gradient,
    visible_cases=_baseline_cases,
    hidden_cases=_baseline_hidden,
    compare=allclose(rtol=1e-6, atol=1e-9),
    diagnose=allclose(),
    bugs=(
        Bug("plus_baseline", _bug_bl_plus,
            "SUBTRACT the baseline: the weight is G_h - b(s_h)."),
        Bug("next_state_baseline", _bug_bl_next_state,
            "b(s_{h+1}) depends on the action a_h, so it biases the estimate: use b(s_h), the "
            "state the action is taken in."),
        Bug("total_return_minus_baseline", _bug_bl_total_return,
            "Start from the reward-to-go G_h = sum_{t >= h} r_t, then subtract b(s_h)."),
        Bug("ignores_baseline", _bug_bl_ignored,
            "That is the reward-to-go estimator: subtract b(s_h) from each G_h."),
        Bug("action_indexed_baseline", _bug_bl_action_index,
            "The baseline is indexed by the STATE: b(s_h) = baseline[s_h], not baseline[a_h] "
            "(a baseline that depends on the action is biased)."),
        Bug("start_state_baseline", _bug_bl_start_state,
            "Each step subtracts the baseline of ITS state, b(s_h), not b(s_0)."),
        Bug("off_by_one_reward_to_go", _bug_bl_off_by_one,
            "The reward-to-go of step h starts AT h: it includes r_h (check your reward_to_go)."),
    ),
    hint="g = 1/N sum_i sum_h grad ln pi(a_h|s_h) (G_h - b(s_h)), with G_h the reward-to-go "
    "(gamma = 1) and b = baseline[s_h].",
)

# --- reinforce_loss

#: the learning run: REINFORCE on CartPole-v1 from each of LEARN_SEEDS, at most LEARN_STEPS env
#: steps, a greedy evaluation of 5 episodes capped at LEARN_CAP steps after every batch,
#: stopping at the first that reaches LEARN_TARGET; the best evaluations' mean minus std must
#: reach LEARN_THRESHOLD (:func:`autograder.judge.core.learning_case`). Measured
#: (``benchmarks/bench_learning_checks.py``): the reference reached 75-100 within 500-6,300
#: steps on each of the seeds 0-25, every correct loss of ``tests/variants_reinforce.py`` passes,
#: and the flipped sign and the product of means best at 9-54 per seed.
LEARN_SEEDS = (0, 1, 2)
LEARN_STEPS = 8_000
LEARN_CAP = 100.0
LEARN_TARGET = 75.0
LEARN_THRESHOLD = 50.0
#: the loss bugs that cannot learn, so the learning case fails them too; the others of the bank
#: (a missing detach, a sum, normalised weights, probabilities for log-probs) still learn a
#: little CartPole, and the loss's exact cases catch them
LEARNING_FAILS = ("wrong_sign", "product_of_means")


@cache
def learn_config() -> Any:
    """The learning run's settings."""
    from rlkit.agents.reinforce import ReinforceConfig

    return ReinforceConfig(total_steps=LEARN_STEPS, batch_size=500, learning_rate=2e-2,
                           eval_interval=500, eval_episodes=5, eval_max_steps=int(LEARN_CAP),
                           target_return=LEARN_TARGET)


def _cartpole_rewards_to_go(rewards: Any, gamma: float) -> np.ndarray:
    """G_t = (1 - gamma^(T - t)) / (1 - gamma): CartPole pays exactly 1 per step.

    The learning run grades the loss alone, so it cannot take the student's ``reward_to_go``,
    and rlkit's is withheld while notebook 04 is graded; this closed form holds only for
    CartPole's constant reward (it refuses anything else), so it answers no case of
    ``reinforce.reward_to_go``.
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    if not np.all(rewards == 1.0):
        raise ValueError("only for CartPole's rewards (all 1)")
    steps_left = np.arange(len(rewards), 0, -1)
    return steps_left.astype(np.float64) if gamma == 1.0 else (1 - gamma**steps_left) / (1 - gamma)


def learning_run(loss: Callable, seed: int) -> Any:
    """REINFORCE on CartPole-v1 with ``loss``, as the learning case runs it (the history)."""
    from rlkit.agents.reinforce import train

    return train(learn_config(), seed=seed, loss_fn=loss, reward_to_go_fn=_cartpole_rewards_to_go)


def _loss_case(name: str, log_probs: Sequence[float], weights: Sequence[float],
               dtype: torch.dtype = torch.float32) -> Case:
    """Return [loss, d loss / d log_probs..., d loss / d weights...] (weights require grad)."""
    def run(fn):
        lp = torch.tensor(log_probs, dtype=dtype, requires_grad=True)
        w = torch.tensor(weights, dtype=dtype, requires_grad=True)  # e.g. G_t - V_phi(s_t)
        loss = fn(lp, w)
        if not torch.is_tensor(loss) or loss.ndim != 0:
            raise CaseProblem(f"return a scalar (0-dim) torch tensor; got {loss!r}")
        if not loss.requires_grad:
            raise CaseProblem("the loss has no gradient: compute it from log_probs with torch "
                             "operations (no .item(), .numpy() or .detach() of log_probs)")
        loss.backward()
        w_grad = np.zeros(len(weights)) if w.grad is None else w.grad.double().numpy()
        return np.concatenate([[loss.item()], lp.grad.double().numpy(), w_grad])

    return Case(name, run=run)


def _loss_cases() -> list[Case]:
    rng = np.random.default_rng(407)
    return [
        _loss_case("log_probs [-1, -2], weights [1, 2]: [loss, d/d log_probs, d/d weights]",
                   [-1.0, -2.0], [1.0, 2.0]),
        _loss_case("a single step", [-0.5], [3.0]),
        _loss_case("8 steps, negative weights (advantages) too, float64",
                   list(-rng.exponential(size=8)), list(rng.normal(size=8)), torch.float64),
        _loss_case("the weights (G_t - V_phi(s_t)) require grad: they must get none",
                   list(-rng.exponential(size=5)), list(rng.normal(2.0, 1.0, size=5))),
        learning_case(f"learning: REINFORCE on CartPole-v1 with your loss, up to {LEARN_STEPS} "
                      f"steps from each of the seeds {list(LEARN_SEEDS)} (a few seconds)",
                      learning_run, seeds=LEARN_SEEDS, cap=LEARN_CAP,
                      threshold=LEARN_THRESHOLD, steps=LEARN_STEPS,
                      untrained="an untrained policy gets 9-20"),
    ]


def _loss_hidden(rng: np.random.Generator) -> list[Case]:
    return [_loss_case(f"hidden: {n} random steps", list(-rng.exponential(size=n)),
                       list(rng.normal(0.0, 3.0, size=n))) for n in rng.integers(2, 30, size=2)]


def _reference_loss(log_probs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    from rlkit.agents.reinforce import reinforce_loss

    return reinforce_loss(log_probs, weights)


def _bug_loss_wrong_sign(log_probs, weights):
    return (log_probs * weights.detach()).mean()


def _bug_loss_no_detach(log_probs, weights):
    return -(log_probs * weights).mean()


def _bug_loss_sum(log_probs, weights):
    return -(log_probs * weights.detach()).sum()


def _bug_loss_probabilities(log_probs, weights):
    return -(torch.exp(log_probs) * weights.detach()).mean()


def _bug_loss_product_of_means(log_probs, weights):
    return -log_probs.mean() * weights.detach().mean()


def _bug_loss_normalised(log_probs, weights):
    w = weights.detach()
    return -(log_probs * (w - w.mean()) / (w.std(correction=0) + 1e-8)).mean()


REINFORCE_LOSS = CheckSpec(
    name="reinforce.reinforce_loss",
    function="reinforce_loss",
    points=3,
    reference=_reference_loss,
    withhold=("rlkit.agents.reinforce.reinforce_loss",),
    visible_cases=_loss_cases,
    hidden_cases=_loss_hidden,
    compare=allclose(rtol=1e-5, atol=1e-6),
    diagnose=allclose(rtol=1e-5, atol=1e-6),
    bugs=(
        Bug("wrong_sign", _bug_loss_wrong_sign,
            "The optimiser DESCENDS the loss, and we want to ASCEND J: the loss is "
            "-mean(log_probs * weights)."),
        Bug("no_detach", _bug_loss_no_detach,
            "The weights are constants of the policy loss: use weights.detach(), or the "
            "gradient flows into the baseline/critic that produced them."),
        Bug("sum_not_mean", _bug_loss_sum,
            "Average over the steps of the batch (.mean()), as rlkit's trainer expects."),
        Bug("probabilities", _bug_loss_probabilities,
            "Use the LOG-probabilities: the gradient of ln pi is the score in the estimator."),
        Bug("product_of_means", _bug_loss_product_of_means,
            "Multiply each step's log-probability by ITS OWN weight, then average: "
            "mean(log_probs * weights), not mean(log_probs) * mean(weights)."),
        Bug("normalised_weights", _bug_loss_normalised,
            "Use the weights as given; the trainer already subtracts the baseline."),
    ),
    hint="loss = -(log_probs * weights.detach()).mean(), a scalar tensor whose gradient is minus "
    "the policy-gradient estimate.",
)


register(
    GRAD_LOG_SOFTMAX,
    SCORE_FUNCTION_GRADIENT,
    GRAD_LOG_SOFTMAX_LINEAR,
    REINFORCE_GRADIENT,
    REWARD_TO_GO,
    REWARD_TO_GO_GRADIENT,
    BASELINE_GRADIENT,
    REINFORCE_LOSS,
)
