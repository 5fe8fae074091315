"""Check specs of notebook 04 (REINFORCE), sections 1-2: the score function; the MDP cases.

Sections 3-6 (REINFORCE, reward-to-go, baselines, the loss) are
:mod:`autograder.judge.specs.reinforce_estimators`; their cases on small MDPs are built here
(``_estimator_cases``, ``_exact_case``, ...), and notebook 05's estimators reuse them. The
layers of DESIGN section 5:

1. fixtures: hand-made inputs compared with rlkit's reference (overflowing logits, integer
   logits, single-step episodes);
2. exact and statistical unbiasedness: the expectation of the student's one-sample (or
   one-episode) estimate, summed over every outcome (trajectory) with its probability, must be
   the exact gradient by autograd; one estimate from many samples must be within Bernstein's
   bound of it per component (:func:`_bernstein_bound`, from the reference estimator's exact
   variance and range: a correct estimator fails a case with probability < 3e-8 per
   component, whatever the distribution).

The box calls the student's estimator on episodes sent as plain data, once per enumerated
trajectory for the exact cases (:mod:`autograder.box.procedures.reinforce`), and returns the
estimates; the probabilities, the expectation and the comparison are the judge's. Every
estimator is deterministic given its inputs (the grader draws the samples), so a known bug is
diagnosed by matching outputs exactly (``diagnose=allclose()``). Every ``_bug_*`` is
self-contained (numpy and torch, which the notebook imports) so that the sample class can paste
its source into a notebook.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import numpy as np

from autograder.box.procedures.reinforce import each_episode_run, each_outcome_run, episodes_run
from autograder.judge.core import (
    Bug,
    Case,
    CheckSpec,
    Comparator,
    Deferred,
    allclose,
    deferred_compare,
    describe,
    register,
    type_name,
)
from rlkit import policy_gradient as pg
from rlkit.mdp import TabularMDP, random_mdp
from rlkit.sampling import Trajectory

#: standard errors an estimate may be off the exact gradient (per component), plus Bernstein's
#: range term (:func:`_bernstein_bound`).
N_STANDARD_ERRORS = 6.0
#: episodes behind one statistical estimate of an MDP estimator: the exact cases already grade
#: the expectation, and each episode crosses into the box and back, recorded before and after
#: the call (2,000 cost 2-3 s a check). With 1,000 the bound is 0.18 at the visible
#: REINFORCE case's worst component: a bias of 0.25 still fails.
N_EPISODES = 1000
#: samples behind the score function's statistical estimate (an array of ints: cheap).
N_SAMPLES = 10_000


def _tiny() -> tuple[TabularMDP, int, list[Trajectory]]:
    return _TINY_MDP, pg.TINY_HORIZON, _TINY_TRAJECTORIES


_TINY_MDP = pg.tiny_mdp()
_TINY_TRAJECTORIES = pg.enumerate_trajectories(_TINY_MDP, pg.TINY_HORIZON)


def _episode(states: Sequence[int], actions: Sequence[int], rewards: Sequence[float],
             terminated: bool = True) -> Trajectory:
    return Trajectory(np.array(states, dtype=np.int64), np.array(actions, dtype=np.int64),
                      np.array(rewards, dtype=np.float64), terminated)


def _bernstein_bound(variance: np.ndarray, largest_deviation: np.ndarray, n: int) -> np.ndarray:
    r"""How far the mean of ``n`` i.i.d. one-sample estimates may be off their exact mean.

    Bernstein's inequality, for estimates within ``largest_deviation`` ``M`` of their mean and
    of ``variance`` :math:`\sigma^2` (both exact, per component):
    :math:`P(|\bar g - \mu| \geq t) \leq 2 \exp(-n t^2 / (2 \sigma^2 + 2 M t / 3))`. With
    :math:`k` = ``N_STANDARD_ERRORS`` and :math:`L = k^2 / 2`, the ``t`` that makes the right
    side :math:`2 e^{-L}` is at most :math:`k \sigma / \sqrt{n} + 2 L M / (3 n)`, which is
    returned: a correct estimator is off by more with probability below
    :math:`2 e^{-18} \approx 3.1 \times 10^{-8}` per component (below :math:`2.5 \times
    10^{-7}` for the 8 of the tiny MDP's theta), for any distribution, with no normal
    approximation. Hand-written because it is three lines of arithmetic on exact moments;
    the ``1e-9`` absorbs float rounding where both are 0.

    Example:
        >>> _bernstein_bound(np.array([4.0]), np.array([3.0]), 100)  # 6 * 2 / 10 + 36 * 3 / 300
        array([1.56])

    """
    k = N_STANDARD_ERRORS
    return k * np.sqrt(variance / n) + k**2 / 3 * largest_deviation / n + 1e-9


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
                f"errors and Bernstein's range term ({bound[worst]:.3g}; a correct estimator "
                f"is off by more with probability < 3e-8): it is biased")

    return compare


def _random_small_mdp(rng: np.random.Generator) -> tuple[TabularMDP, int]:
    """A random MDP with 3-4 states (one terminal), 2 actions, gamma 1, and a horizon 2-3."""
    mdp = random_mdp(int(rng.integers(3, 5)), 2, gamma=1.0, rng=rng, n_terminal=1)
    return mdp, int(rng.integers(2, 4))



def _plain(episodes: Sequence[Trajectory]) -> list[tuple]:
    """Episodes as the box receives them: ``(states, actions, rewards, terminated)``."""
    return [(np.asarray(ep.states), np.asarray(ep.actions), np.asarray(ep.rewards),
             bool(ep.terminated)) for ep in episodes]


def _on_episodes(name: str, theta: np.ndarray, episodes: Sequence[Trajectory],
                 extra: tuple = (), **more: Any) -> Case:
    """A case calling ``fn(theta, episodes, *extra)`` (``more``: expected, compare)."""
    return Case(name, run=episodes_run(theta, _plain(episodes), tuple(extra)), **more)


def _moments(got: Any, probabilities: np.ndarray,
             shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray] | str:
    """Mean and per-component variance of one estimate per outcome, or what is wrong."""
    if not isinstance(got, list) or len(got) != len(probabilities):
        return f"expected {len(probabilities)} estimates, got {type_name(got)}"
    estimates = np.empty((len(got), *shape))
    for i, estimate in enumerate(got):
        try:
            arr = np.asarray(estimate, dtype=np.float64)
        except (TypeError, ValueError, RuntimeError):
            return f"expected a numeric array, got {type_name(estimate)}"
        if arr.shape != shape:
            return f"your estimator returned shape {arr.shape}; expected theta's {shape}"
        estimates[i] = arr
    mean = np.tensordot(probabilities, estimates, axes=1)
    return mean, np.tensordot(probabilities, (estimates - mean) ** 2, axes=1)


def _expectation(probabilities: Callable[[], np.ndarray], shape: tuple[int, ...]) -> Comparator:
    """Compare sum_x P(x) * (the estimate from x alone) with the exact gradient."""
    close = allclose(rtol=1e-6, atol=1e-9)

    def compare(got: Any, expected: Any) -> str | None:
        moments = _moments(got, probabilities(), shape)
        if isinstance(moments, str):
            return moments
        problem = close(moments[0], expected)
        return problem and f"{problem}: in expectation your estimate is {describe(moments[0])}"

    return compare


def estimator_spec(name: str, points: int, reference: Callable, visible_cases: Callable,
                   hidden_cases: Callable, bugs: tuple[Bug, ...], hint: str,
                   withhold: tuple[str, ...] = (), uses: tuple[str, ...] = ()) -> CheckSpec:
    """The spec of a policy-gradient estimator ``name`` (``topic.function``).

    An estimator is deterministic given its inputs (the grader draws the samples): it is
    compared closely with the reference, and a known bug is diagnosed by matching exactly.
    """
    return CheckSpec(name=name, function=name.split(".", 1)[1], points=points,
                     reference=reference, withhold=withhold, uses=uses,
                     visible_cases=visible_cases, hidden_cases=hidden_cases,
                     compare=allclose(rtol=1e-6, atol=1e-9), diagnose=allclose(), bugs=bugs,
                     hint=hint)


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


def _bug_gls_not_normalised(theta, action):
    grad = -np.exp(theta - np.max(theta))
    grad[action] += 1.0
    return grad


def _bug_gls_integer_array(theta, action):
    p = np.exp(theta - np.max(theta))
    grad = np.zeros_like(theta)  # an int array when theta is one
    grad[:] = -p / p.sum()
    grad[action] += 1
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
        Bug("not_normalised", _bug_gls_not_normalised,
            "Normalise the softmax: exp(theta - max) / sum(exp(theta - max)); without the "
            "division your probabilities do not sum to 1."),
        Bug("integer_array", _bug_gls_integer_array,
            "With integer logits your result is an integer array: np.zeros_like(theta) of an "
            "int array truncates the probabilities you write into it. Create a float array "
            "(np.zeros(len(theta)), or np.asarray(theta, dtype=float) first)."),
    ),
    hint="grad_theta ln softmax(theta)_a = e_a - softmax(theta), a (K,) array; compute the "
    "softmax stably.",
)

# --- score_function_gradient



def _score_exact_case(name: str, theta: np.ndarray, f: np.ndarray) -> Case:
    """E_{x ~ P_theta} of the one-sample estimate, summed exactly, vs the autograd gradient."""
    return Case(name, run=each_outcome_run(theta, f),
                expected=pg.softmax_expectation_gradient(theta, f),
                compare=_expectation(lambda: pg.softmax(theta), theta.shape))

def _score_sampled_case(name: str, theta: np.ndarray, f: np.ndarray, seed: int,
                        n: int = N_SAMPLES) -> Case:
    samples = pg.sample_outcomes(theta, n, np.random.default_rng(seed))
    probs = pg.softmax(theta)
    scores = np.eye(len(theta)) - probs  # row x: the score of outcome x
    one_sample = scores * f[:, None]
    mean = probs @ one_sample
    variance = probs @ (one_sample - mean) ** 2
    deviation = np.abs(one_sample[probs > 0] - mean).max(axis=0)
    return Case(name, (theta, f, samples), expected=pg.softmax_expectation_gradient(theta, f),
                compare=_within_standard_errors(_bernstein_bound(variance, deviation, n)))


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
        _score_sampled_case(f"{N_SAMPLES} samples x_i ~ P_theta: within "
                            f"{N_STANDARD_ERRORS:g} standard errors (plus Bernstein's range "
                            "term) of the exact gradient", theta4, f4, seed=3),
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


SCORE_FUNCTION_GRADIENT = estimator_spec(
    "reinforce.score_function_gradient", 2, pg.score_function_gradient,
    visible_cases=_score_cases,
    hidden_cases=_score_hidden,
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
    probabilities = cache(lambda: pg.trajectory_probabilities(mdp, theta, trajectories))
    return Case(name, run=each_episode_run(theta, _plain(trajectories), tuple(extra)),
                expected=Deferred(lambda: pg.exact_gradient(mdp, theta, horizon, trajectories)),
                compare=_expectation(probabilities, theta.shape))


def _sampled_case(name: str, reference: Callable, mdp: TabularMDP, horizon: int,
                  theta: np.ndarray, seed: int, extra: tuple = (),
                  trajectories: list[Trajectory] | None = None,
                  episodes: list[Trajectory] | None = None) -> Case:
    """One estimate from sampled episodes, within Bernstein's bound of the exact gradient.

    ``episodes`` (drawn with ``theta``) may be given; by default N_EPISODES are drawn from
    ``seed``. The bound (:func:`_bernstein_bound`) is the reference's exact variance and range
    for that many episodes.
    """
    trajectories = trajectories or pg.enumerate_trajectories(mdp, horizon)
    if episodes is None:
        episodes = pg.sample_episodes(mdp, theta, N_EPISODES, np.random.default_rng(seed),
                                      horizon)
    n = len(episodes)

    def within() -> Comparator:  # the reference's moments: computed by the judge only
        moments = pg.exact_moments(mdp, theta, reference, horizon, *extra,
                                   trajectories=trajectories)
        return _within_standard_errors(_bernstein_bound(moments.variance,
                                                        moments.largest_deviation, n))

    return _on_episodes(
        name, theta, episodes, extra, compare=deferred_compare(within),
        expected=Deferred(lambda: pg.exact_gradient(mdp, theta, horizon, trajectories)))


def _variance_case(name: str, reference: Callable, previous: Callable,
                   rng: np.random.Generator, extra: Callable[[np.ndarray], tuple] = lambda t: (),
                   previous_extra: Callable[[np.ndarray], tuple] = lambda t: ()) -> Case:
    """The exact variance of the one-episode estimate on the tiny MDP is the reference's.

    theta is small, so that no action is nearly certain; the reference's variance is then below
    ``previous``'s (a variance drop is what the case shows: ``tests/test_withhold.py`` checks it
    for the cases' thetas). The box returns the estimate from each trajectory; the variances
    (the student's and the references') are the judge's.
    """
    mdp, horizon, trajectories = _tiny()
    theta = _theta(rng, 0.5)
    probabilities = cache(lambda: pg.trajectory_probabilities(mdp, theta, trajectories))
    close = allclose(rtol=1e-6, atol=1e-9)

    def variance(estimator: Callable, more: Callable[[np.ndarray], tuple]) -> float:
        return pg.exact_moments(mdp, theta, estimator, horizon, *more(theta),
                                trajectories=trajectories).total_variance

    def expected() -> float:
        ours, before = variance(reference, extra), variance(previous, previous_extra)
        if not ours < before:  # the case would show nothing: a bug of the spec, not the student
            raise RuntimeError(f"{name}: no variance drop at this theta ({ours} >= {before})")
        return ours

    def compare(got: Any, expected: Any) -> str | None:
        moments = _moments(got, probabilities(), theta.shape)
        if isinstance(moments, str):
            return moments
        total = float(moments[1].sum())
        problem = close(total, expected)
        return problem and f"{problem}: the variance of your estimate is {total:.6g}"

    return Case(f"{name}: the exact variance of a one-episode estimate must be the reference's, "
                "below the previous estimator's",
                run=each_episode_run(theta, _plain(trajectories), tuple(extra(theta))),
                expected=Deferred(expected), compare=compare)


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
        _on_episodes("one single-step episode right -R-> end (reward 3), theta = 0",
                     zero, [episodes[2]], extra(zero)),
        _on_episodes("one two-step episode start -L-> left -L-> end (rewards 2, 1), theta = 0",
                     zero, [episodes[0]], extra(zero)),
        _on_episodes("three episodes of lengths 2, 1, 1, a random theta", theta, episodes,
                     extra(theta)),
        _exact_case("in expectation over the 11 trajectories of the tiny MDP (exactly), theta = "
                    "0: the exact gradient by autograd", mdp, horizon, zero, extra(zero),
                    trajectories),
        _exact_case("in expectation (exactly), a random theta: the exact gradient", mdp,
                    horizon, theta, extra(theta), trajectories),
        _sampled_case(f"{N_EPISODES} sampled episodes, a random theta: within "
                      f"{N_STANDARD_ERRORS:g} standard errors (plus Bernstein's range term) of "
                      "the exact gradient",
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
        _on_episodes("hidden: 5 episodes of a random MDP", theta_small, episodes,
                     extra(theta_small, small)),
        _exact_case(f"hidden: exact expectation on a random MDP ({small.n_states} states, "
                    f"horizon {horizon})", small, horizon, theta_small,
                    extra(theta_small, small)),
        _sampled_case("hidden: many sampled episodes of the tiny MDP, a random theta",
                      reference, mdp, tiny_horizon, theta, int(rng.integers(1 << 30)),
                      extra(theta, mdp), trajectories),
    ]


register(GRAD_LOG_SOFTMAX, SCORE_FUNCTION_GRADIENT, GRAD_LOG_SOFTMAX_LINEAR)
