r"""Policy gradients done exactly on a tiny MDP, next to their Monte Carlo estimators.

The lecture's objective is the finite-horizon, undiscounted return

.. math:: J(\theta) = \mathbb{E}_{\tau \sim \rho_\theta} \Big[ \sum_{h=0}^{H-1} r(s_h, a_h)
    \Big], \qquad \rho_\theta(\tau) = \mu(s_0) \prod_{h} \pi_\theta(a_h|s_h) P(s_{h+1}|s_h, a_h).

On an MDP small enough to list every trajectory, :math:`J(\theta) = \sum_\tau \rho_\theta(\tau)
R(\tau)` is a finite sum: written in torch, autograd gives the *exact* gradient
:math:`\nabla_\theta J`. Against it we can test the estimators the lecture derives:

- the warm-up (importance weighting with :math:`\rho = P_{\theta_0}`): for
  :math:`J(\theta) = \mathbb{E}_{x \sim P_\theta} f(x)`,
  :math:`\nabla_\theta J = \mathbb{E}_{x \sim P_\theta}[\nabla_\theta \ln P_\theta(x) f(x)]`
  (:func:`score_function_gradient`);
- REINFORCE, :math:`\nabla J = \mathbb{E}[\sum_h \nabla_\theta \ln \pi_\theta(a_h|s_h)\,
  R(\tau)]`: the transitions and :math:`\mu` drop out of :math:`\nabla \ln \rho_\theta(\tau)`
  (:func:`reinforce_gradient`);
- its reward-to-go version, with :math:`\sum_{t=h}^{H-1} r_t` in place of :math:`R(\tau)`
  (:func:`reward_to_go_gradient`), and the baseline version with
  :math:`\sum_{t=h}^{H-1} r_t - b(s_h)` (:func:`baseline_gradient`).

All three are unbiased; :func:`exact_moments` computes an estimator's exact mean and variance
by enumeration, which shows the variance drop from one to the next.

The exact side (:func:`tiny_mdp`, :func:`enumerate_trajectories`, the trajectory
probabilities, :func:`expected_return`, :func:`exact_gradient` and :func:`exact_moments`) lives
in :mod:`rlkit.enumeration` and is re-exported here, so ``rlkit.policy_gradient.tiny_mdp`` and
the rest keep working; this module holds the softmax policies, the warm-up and the estimators.

Policies are the lecture's softmax policies: tabular, :math:`\pi_\theta(a|s) \propto
\exp \theta_{s,a}` (``theta`` of shape ``(S, A)``), and linear, :math:`\pi_\theta(a|s) \propto
\exp \theta^\top \phi(s, a)`. The neural one is :class:`rlkit.nets.CategoricalPolicy`.
Randomness comes from an explicit ``np.random.Generator``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
import torch

from rlkit.enumeration import (
    TINY_HORIZON,
    EstimatorMoments,
    _as_theta_tensor,
    _one_thread,
    enumerate_trajectories,
    exact_gradient,
    exact_moments,
    expected_return,
    tiny_mdp,
    trajectory_log_probabilities,
    trajectory_probabilities,
)
from rlkit.mdp import FloatArray, IntArray, TabularMDP
from rlkit.sampling import Trajectory, discounted_returns, sample_trajectory

__all__ = [
    "TINY_HORIZON",
    "EstimatorMoments",
    "baseline_gradient",
    "enumerate_trajectories",
    "exact_gradient",
    "exact_moments",
    "expected_return",
    "grad_log_policy",
    "grad_log_softmax",
    "grad_log_softmax_linear",
    "log_softmax",
    "reinforce_gradient",
    "reward_to_go_gradient",
    "sample_episodes",
    "sample_outcomes",
    "score_function_gradient",
    "softmax",
    "softmax_expectation",
    "softmax_expectation_gradient",
    "softmax_linear_policy",
    "softmax_policy",
    "state_values",
    "tabular_features",
    "tiny_mdp",
    "trajectory_log_probabilities",
    "trajectory_probabilities",
    "weighted_scores",
]


# --------------------------------------------------------------------------------------------
# Softmax
# --------------------------------------------------------------------------------------------


def softmax(logits: npt.ArrayLike, axis: int = -1) -> FloatArray:
    r"""Return :math:`\exp(z_i) / \sum_j \exp(z_j)` along ``axis``, without overflow.

    The softmax does not change when a constant is added to every logit, so the largest
    logit is subtracted first: ``exp`` then never sees a number above 0.

    Example:
        >>> softmax([0.0, np.log(3.0)])
        array([0.25, 0.75])
        >>> softmax([1000.0, 0.0])  # a naive exp(1000) overflows to inf
        array([1., 0.])

    """
    z = np.asarray(logits, dtype=np.float64)
    shifted = np.exp(z - z.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


def log_softmax(logits: npt.ArrayLike, axis: int = -1) -> FloatArray:
    r"""Return :math:`\ln \mathrm{softmax}(z)_i = z_i - \ln \sum_j \exp(z_j)`, stably.

    Example:
        >>> np.exp(log_softmax([0.0, np.log(3.0)]))
        array([0.25, 0.75])

    """
    z = np.asarray(logits, dtype=np.float64)
    top = z.max(axis=axis, keepdims=True)
    return z - top - np.log(np.exp(z - top).sum(axis=axis, keepdims=True))


def grad_log_softmax(theta: npt.ArrayLike, action: int) -> FloatArray:
    r"""Return the score :math:`\nabla_\theta \ln \mathrm{softmax}(\theta)_a = e_a - \pi`.

    Here :math:`\pi = \mathrm{softmax}(\theta)`. In
    :math:`\ln \mathrm{softmax}(\theta)_a = \theta_a - \ln \sum_{a'} \exp \theta_{a'}` the
    first term gives the one-hot vector :math:`e_a`, the log-normaliser gives the
    probabilities. Its expectation over :math:`a \sim \pi` is 0.

    Args:
        theta: Logits, shape ``(K,)``.
        action: The outcome (action) ``a`` in ``0..K-1``.

    Returns:
        The gradient, shape ``(K,)``.

    Example:
        >>> grad_log_softmax([0.0, 0.0, 0.0, 0.0], 1)  # e_1 - 1/4
        array([-0.25,  0.75, -0.25, -0.25])

    """
    gradient = -softmax(theta)
    gradient[int(action)] += 1.0
    return gradient


def softmax_linear_policy(theta: npt.ArrayLike, features: npt.ArrayLike) -> FloatArray:
    r"""Return the linear softmax :math:`\pi_\theta(a|s) \propto \exp \theta^\top \phi(s,a)`.

    Args:
        theta: Parameters, shape ``(d,)``.
        features: :math:`\phi(s, a)`, shape ``(A, d)`` for one state or ``(S, A, d)``.

    Returns:
        Probabilities, shape ``(A,)`` or ``(S, A)``.

    Example:
        >>> features = np.array([[1.0, 0.0], [0.0, 1.0]])  # phi(s, a) = e_a
        >>> softmax_linear_policy([0.0, np.log(3.0)], features)
        array([0.25, 0.75])

    """
    return softmax(np.asarray(features, dtype=np.float64) @ np.asarray(theta, dtype=np.float64))


def grad_log_softmax_linear(
    theta: npt.ArrayLike, features: npt.ArrayLike, action: int
) -> FloatArray:
    r"""Return the score of the softmax-linear policy, :math:`\nabla_\theta \ln \pi_\theta(a|s)`.

    .. math:: \nabla_\theta \ln \pi_\theta(a|s) = \phi(s,a) - \mathbb{E}_{a' \sim
        \pi_\theta(\cdot|s)} \phi(s,a')

    The first term comes from :math:`\theta^\top \phi(s,a)`, the expectation from the
    log-normaliser :math:`\ln \sum_{a'} \exp \theta^\top \phi(s,a')`. With one-hot features
    :math:`\phi(s,a) = e_{(s,a)}` this is the tabular softmax (:func:`tabular_features`).

    Args:
        theta: Parameters, shape ``(d,)``.
        features: :math:`\phi(s, \cdot)` of one state, shape ``(A, d)``.
        action: The action ``a``.

    Returns:
        The gradient, shape ``(d,)``.

    Example:
        >>> features = np.array([[1.0, 2.0], [3.0, 0.0]])
        >>> grad_log_softmax_linear([0.0, 0.0], features, 0)  # phi(s,0) - (phi(s,0)+phi(s,1))/2
        array([-1.,  1.])

    """
    phi = np.asarray(features, dtype=np.float64)
    return phi[int(action)] - softmax_linear_policy(theta, phi) @ phi


def tabular_features(n_states: int, n_actions: int) -> FloatArray:
    r"""Return one-hot features :math:`\phi(s, a) = e_{s A + a}`, shape ``(S, A, S A)``.

    With them the softmax-linear policy of ``theta.ravel()`` is the tabular softmax policy of
    ``theta``: the tabular policy is the special case with one parameter per pair.

    Example:
        >>> phi = tabular_features(2, 2)
        >>> theta = np.array([[0.0, 1.0], [2.0, 3.0]])
        >>> bool(np.allclose(softmax_linear_policy(theta.ravel(), phi), softmax_policy(theta)))
        True

    """
    eye = np.eye(n_states * n_actions)
    return eye.reshape(n_states, n_actions, n_states * n_actions)


def softmax_policy(theta: npt.ArrayLike) -> FloatArray:
    r"""Return the tabular softmax policy :math:`\pi_\theta(a|s) \propto \exp \theta_{s,a}`.

    ``theta`` and the result have shape ``(S, A)``.

    Example:
        >>> softmax_policy(np.zeros((2, 4)))[0]
        array([0.25, 0.25, 0.25, 0.25])

    """
    theta = np.asarray(theta, dtype=np.float64)
    if theta.ndim != 2:
        raise ValueError(f"a tabular theta has shape (S, A); got {theta.shape}")
    return softmax(theta, axis=1)


def grad_log_policy(theta: npt.ArrayLike, state: int, action: int) -> FloatArray:
    r"""Return :math:`\nabla_\theta \ln \pi_\theta(a|s)` for the tabular softmax, shape ``(S, A)``.

    Only row ``s`` of ``theta`` enters :math:`\pi_\theta(\cdot|s)`, so only row ``s`` of the
    gradient is non-zero, and it is :func:`grad_log_softmax` of that row.

    Example:
        >>> grad_log_policy(np.zeros((2, 2)), state=1, action=0)
        array([[ 0. ,  0. ],
               [ 0.5, -0.5]])

    """
    theta = np.asarray(theta, dtype=np.float64)
    gradient = np.zeros_like(theta)
    gradient[int(state)] = grad_log_softmax(theta[int(state)], action)
    return gradient


# --------------------------------------------------------------------------------------------
# The warm-up: the gradient of E_{x ~ softmax(theta)} f(x)
# --------------------------------------------------------------------------------------------


@_one_thread
def softmax_expectation(theta: npt.ArrayLike | torch.Tensor, f: npt.ArrayLike) -> torch.Tensor:
    r"""Return :math:`J(\theta) = \mathbb{E}_{x \sim P_\theta} f(x)` as a differentiable scalar.

    .. math:: J(\theta) = \sum_x \mathrm{softmax}(\theta)_x f(x), a float64 torch scalar.

    Example:
        >>> theta = torch.zeros(2, dtype=torch.float64, requires_grad=True)
        >>> softmax_expectation(theta, [0.0, 2.0])
        tensor(1., dtype=torch.float64, grad_fn=<DotBackward0>)

    """
    logits = _as_theta_tensor(theta)
    values = torch.as_tensor(np.asarray(f, dtype=np.float64), dtype=logits.dtype)
    return torch.softmax(logits, dim=-1) @ values


@_one_thread
def softmax_expectation_gradient(theta: npt.ArrayLike, f: npt.ArrayLike) -> FloatArray:
    r"""Return the exact :math:`\nabla_\theta \mathbb{E}_{x \sim P_\theta} f(x)`, by autograd.

    Example:
        >>> softmax_expectation_gradient([0.0, 0.0], [0.0, 2.0])  # p (f - E f) = .5 * [-1, 1]
        array([-0.5,  0.5])

    """
    logits = torch.tensor(np.asarray(theta, dtype=np.float64), requires_grad=True)
    (gradient,) = torch.autograd.grad(softmax_expectation(logits, f), logits)
    return gradient.numpy()


def sample_outcomes(theta: npt.ArrayLike, n: int, rng: np.random.Generator) -> IntArray:
    r"""Draw ``n`` i.i.d. outcomes :math:`x_i \sim P_\theta = \mathrm{softmax}(\theta)`.

    Example:
        >>> sample_outcomes([0.0, -np.inf], 3, np.random.default_rng(0))
        array([0, 0, 0])

    """
    return np.asarray(rng.choice(len(np.asarray(theta)), size=n, p=softmax(theta)),
                      dtype=np.int64)


def score_function_gradient(
    theta: npt.ArrayLike, f: npt.ArrayLike, samples: npt.ArrayLike
) -> FloatArray:
    r"""Return the score-function estimate of :math:`\nabla_\theta \mathbb{E}_{P_\theta} f(x)`.

    Importance weighting with the sampling distribution :math:`\rho = P_{\theta_0}` turns
    :math:`\nabla_\theta P_\theta(x) / \rho(x)` into :math:`\nabla_\theta \ln P_\theta(x)`:

    .. math:: \hat g = \frac{1}{N} \sum_{i=1}^N \nabla_\theta \ln P_\theta(x_i)\, f(x_i),
        \qquad x_i \sim P_\theta,

    unbiased for the exact gradient (:func:`softmax_expectation_gradient`).

    Args:
        theta: Logits of :math:`P_\theta = \mathrm{softmax}(\theta)`, shape ``(K,)``.
        f: The values :math:`f(x)` of the ``K`` outcomes, shape ``(K,)``.
        samples: Outcomes :math:`x_i` drawn from :math:`P_\theta`, int array ``(N,)``.

    Returns:
        The estimate, shape ``(K,)``.

    Example:
        >>> score_function_gradient([0.0, 0.0], [0.0, 2.0], [1, 1, 0, 1])  # 3/4 * [-1, 1]
        array([-0.75,  0.75])

    """
    probs = softmax(theta)
    x = np.asarray(samples, dtype=np.int64).reshape(-1)
    if x.size == 0:
        raise ValueError("need at least one sample")
    values = np.asarray(f, dtype=np.float64)[x]
    scores = np.eye(len(probs))[x] - probs  # row i: grad log P(x_i) = e_{x_i} - softmax
    return (scores * values[:, None]).mean(axis=0)


# --------------------------------------------------------------------------------------------
# Episodes of the softmax policy, and its values (the baseline)
# --------------------------------------------------------------------------------------------


def state_values(mdp: TabularMDP, theta: npt.ArrayLike) -> FloatArray:
    r"""Return :math:`V^{\pi_\theta}(s)` of the tabular softmax policy (0 at terminal states).

    In :func:`tiny_mdp` each state is always the same number of steps from the end, so
    :math:`V(s)` does not depend on the time step: it is the natural baseline :math:`b(s)`.

    Example:
        >>> state_values(tiny_mdp(), np.zeros((4, 2)))
        array([1.925, 0.5  , 1.5  , 0.   ])

    """
    from rlkit.dp import policy_evaluation_exact

    return policy_evaluation_exact(mdp, softmax_policy(theta))


def sample_episodes(
    mdp: TabularMDP,
    theta: npt.ArrayLike,
    n_episodes: int,
    rng: np.random.Generator,
    horizon: int,
) -> list[Trajectory]:
    r"""Sample ``n_episodes`` episodes :math:`\tau_i \sim \rho_\theta` with the softmax policy.

    Each starts from :math:`s_0 \sim \mu` and stops in a terminal state or after ``horizon``
    steps (see :func:`rlkit.sampling.sample_trajectory`).

    Example:
        >>> episodes = sample_episodes(tiny_mdp(), np.zeros((4, 2)), 3, np.random.default_rng(0),
        ...                            TINY_HORIZON)
        >>> [episode.states.tolist() for episode in episodes]
        [[0, 1, 3], [2, 3], [0, 2, 3]]

    """
    policy = softmax_policy(theta)
    return [sample_trajectory(mdp, policy, rng, max_steps=horizon) for _ in range(n_episodes)]


# --------------------------------------------------------------------------------------------
# REINFORCE estimators (tabular softmax)
# --------------------------------------------------------------------------------------------


def weighted_scores(
    theta: npt.ArrayLike,
    episodes: Sequence[Trajectory],
    weights_of: Callable[[Trajectory], FloatArray],
) -> FloatArray:
    r"""Return :math:`\frac{1}{N} \sum_i \sum_h \nabla_\theta \ln \pi_\theta(a_h|s_h) \Psi_h`.

    The common form of every estimator here and in :mod:`rlkit.weightings`; only the weights
    :math:`\Psi_h` differ. Row ``s_h`` of :math:`\nabla \ln \pi_\theta(a_h|s_h)` is
    :math:`e_{a_h} - \pi_\theta(\cdot|s_h)`; the other rows are 0.

    Args:
        theta: Tabular logits, shape ``(S, A)``.
        episodes: Trajectories sampled with :math:`\pi_\theta`.
        weights_of: ``weights_of(episode)`` gives :math:`\Psi_0, \ldots, \Psi_{T-1}`.

    Returns:
        The estimate, shape ``(S, A)``.

    Example:
        >>> from rlkit.sampling import Trajectory
        >>> episode = Trajectory(np.array([0, 1]), np.array([1]), np.array([2.0]), True)
        >>> weighted_scores(np.zeros((2, 2)), [episode], lambda e: e.rewards)
        array([[-1.,  1.],
               [ 0.,  0.]])

    """
    theta = np.asarray(theta, dtype=np.float64)
    if len(episodes) == 0:
        raise ValueError("need at least one episode")
    probs = softmax_policy(theta)
    gradient = np.zeros_like(theta)
    for episode in episodes:
        actions = np.asarray(episode.actions, dtype=np.int64)
        states = np.asarray(episode.states, dtype=np.int64)[: len(actions)]  # s_h pairs with a_h
        weights = np.asarray(weights_of(episode), dtype=np.float64)
        np.add.at(gradient, (states, actions), weights)
        np.add.at(gradient, states, -weights[:, None] * probs[states])
    return gradient / len(episodes)  # the mean over EPISODES, not over steps


def reinforce_gradient(theta: npt.ArrayLike, episodes: Sequence[Trajectory]) -> FloatArray:
    r"""REINFORCE with the total return, for the tabular softmax policy.

    .. math:: \hat g = \frac{1}{N} \sum_{i=1}^N \Big(\sum_{h=0}^{H-1} \nabla_\theta
        \ln \pi_\theta(a^i_h|s^i_h)\Big) R(\tau^i), \qquad R(\tau) = \sum_h r_h

    No :math:`\mu` or :math:`P` appears: they drop out of :math:`\nabla_\theta \ln
    \rho_\theta(\tau)`.

    Args:
        theta: Tabular logits, shape ``(S, A)``.
        episodes: Trajectories sampled with :math:`\pi_\theta` (``states`` has one more entry
            than ``actions``: the last state has no action).

    Returns:
        The estimate, shape ``(S, A)``.

    Example:
        >>> from rlkit.sampling import Trajectory
        >>> episode = Trajectory(np.array([0, 1]), np.array([1]), np.array([2.0]), True)
        >>> reinforce_gradient(np.zeros((2, 2)), [episode])  # (e_1 - [.5, .5]) * 2 in row 0
        array([[-1.,  1.],
               [ 0.,  0.]])

    """
    return weighted_scores(
        theta, episodes, lambda e: np.full(len(e.actions), float(np.sum(e.rewards)))
    )


def reward_to_go_gradient(theta: npt.ArrayLike, episodes: Sequence[Trajectory]) -> FloatArray:
    r"""REINFORCE with the reward-to-go: an action cannot change the rewards before it.

    .. math:: \hat g = \frac{1}{N} \sum_{i=1}^N \sum_{h=0}^{H-1} \nabla_\theta
        \ln \pi_\theta(a^i_h|s^i_h) \sum_{t=h}^{H-1} r^i_t

    Same expectation as :func:`reinforce_gradient`, lower variance.

    Example:
        >>> from rlkit.sampling import Trajectory
        >>> episode = Trajectory(np.array([0, 1, 2]), np.array([1, 0]), np.array([2.0, 1.0]),
        ...                      True)
        >>> reward_to_go_gradient(np.zeros((3, 2)), [episode])  # weights 3 then 1
        array([[-1.5,  1.5],
               [ 0.5, -0.5],
               [ 0. ,  0. ]])

    """
    return weighted_scores(theta, episodes, lambda e: discounted_returns(e.rewards, 1.0))


def baseline_gradient(
    theta: npt.ArrayLike, episodes: Sequence[Trajectory], baseline: npt.ArrayLike
) -> FloatArray:
    r"""REINFORCE with the reward-to-go minus a state baseline :math:`b(s_h)`.

    .. math:: \hat g = \frac{1}{N} \sum_{i=1}^N \sum_{h=0}^{H-1} \nabla_\theta
        \ln \pi_\theta(a^i_h|s^i_h) \Big(\sum_{t=h}^{H-1} r^i_t - b(s^i_h)\Big)

    Unbiased for any :math:`b` that does not depend on the action :math:`a_h`, because
    :math:`\mathbb{E}_{a \sim \pi_\theta(\cdot|s)} \nabla_\theta \ln \pi_\theta(a|s) = 0`;
    :math:`b = V^{\pi_\theta}` (:func:`state_values`) lowers the variance.

    Args:
        theta: Tabular logits, shape ``(S, A)``.
        episodes: Trajectories sampled with :math:`\pi_\theta`.
        baseline: :math:`b(s)`, shape ``(S,)``.

    Returns:
        The estimate, shape ``(S, A)``.

    Example:
        >>> from rlkit.sampling import Trajectory
        >>> episode = Trajectory(np.array([0, 1]), np.array([1]), np.array([2.0]), True)
        >>> baseline_gradient(np.zeros((2, 2)), [episode], baseline=[2.0, 0.0])  # 2 - b(0) = 0
        array([[0., 0.],
               [0., 0.]])

    """
    b = np.asarray(baseline, dtype=np.float64)
    return weighted_scores(
        theta,
        episodes,
        lambda e: discounted_returns(e.rewards, 1.0) - b[np.asarray(e.states)[: len(e.actions)]],
    )


