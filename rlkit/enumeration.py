r"""Exact sums over every trajectory of a tiny MDP: rho_theta(tau), J(theta), its gradient.

On an MDP small enough to list every trajectory (:func:`tiny_mdp` has 11 of at most
:data:`TINY_HORIZON` = 2 steps), the lecture's finite-horizon, undiscounted objective

.. math:: J(\theta) = \sum_\tau \rho_\theta(\tau) R(\tau), \qquad \rho_\theta(\tau) =
    \mu(s_0) \prod_{h} \pi_\theta(a_h|s_h) P(s_{h+1}|s_h, a_h),

is a finite sum: written in torch, autograd gives the *exact* gradient
(:func:`exact_gradient`). :func:`exact_moments` gives an estimator's exact mean and variance
the same way, each one-episode estimate weighted by :math:`\rho_\theta(\tau)`.

The estimators themselves, the softmax policies and the warm-up are in
:mod:`rlkit.policy_gradient` (which re-exports everything here); the actor-critic weightings
are in :mod:`rlkit.weightings`. Policies are tabular softmax logits ``theta`` of shape
``(S, A)``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt
import torch

from rlkit.mdp import FloatArray, TabularMDP
from rlkit.nets import torch_threads
from rlkit.sampling import Trajectory

__all__ = [
    "TINY_HORIZON",
    "EstimatorMoments",
    "enumerate_trajectories",
    "exact_gradient",
    "exact_moments",
    "expected_return",
    "tiny_mdp",
    "trajectory_log_probabilities",
    "trajectory_probabilities",
]

#: Steps after which an episode of :func:`tiny_mdp` has surely ended (it never needs more).
TINY_HORIZON = 2

Estimator = Callable[..., Any]
"""``estimator(theta, episodes, ...)`` returning a gradient estimate shaped like ``theta``."""


_F = TypeVar("_F", bound=Callable[..., Any])


def _one_thread(function: _F) -> _F:
    """Run ``function`` with one torch thread.

    On tensors this small, waking a thread pool costs far more than the arithmetic (0.2 ms
    instead of 2 us per op on two cores).
    """

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with torch_threads(1):
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _as_theta_tensor(theta: npt.ArrayLike | torch.Tensor) -> torch.Tensor:
    if torch.is_tensor(theta):
        return theta
    return torch.as_tensor(np.asarray(theta, dtype=np.float64))



# --------------------------------------------------------------------------------------------
# The tiny MDP and its trajectories
# --------------------------------------------------------------------------------------------


def tiny_mdp() -> TabularMDP:
    r"""A two-step MDP whose trajectories fit on a slide: the exact gradient is a finite sum.

    States ``start``, ``left``, ``right`` and the terminal ``end``; actions ``L`` and ``R``.
    Episodes start in ``start`` (probability 3/4) or directly in ``right`` (1/4).

    - From ``start``, ``L`` leads ``left`` (0.8) or ``right`` (0.2); ``R`` leads ``right``
      (0.7), ``left`` (0.2) or straight to ``end`` (0.1, a one-step episode). Entering
      ``left`` pays 2, entering ``right`` pays 0: a noisy first reward that the action at
      step 1 cannot change.
    - From ``left`` or ``right`` every action ends the episode: ``left`` pays 1 for ``L``
      and 0 for ``R``; ``right`` pays 0 for ``L`` and 3 for ``R``.

    Every episode ends within :data:`TINY_HORIZON` = 2 steps; ``gamma = 1`` (the lecture's
    undiscounted finite-horizon objective).

    Example:
        >>> mdp = tiny_mdp()
        >>> mdp.state_names, mdp.action_names, len(enumerate_trajectories(mdp, TINY_HORIZON))
        (('start', 'left', 'right', 'end'), ('L', 'R'), 11)

    """
    start, left, right, end = range(4)
    transitions = np.zeros((4, 2, 4))
    rewards = np.zeros((4, 2, 4))
    transitions[start, 0, [left, right]] = [0.8, 0.2]
    transitions[start, 1, [left, right, end]] = [0.2, 0.7, 0.1]
    rewards[start, :, left] = 2.0
    transitions[[left, right], :, end] = 1.0
    rewards[left, 0, end], rewards[right, 1, end] = 1.0, 3.0
    transitions[end, :, end] = 1.0
    return TabularMDP(
        P=transitions,
        R=rewards,
        gamma=1.0,
        mu=[0.75, 0.0, 0.25, 0.0],
        terminal=[False, False, False, True],
        state_names=("start", "left", "right", "end"),
        action_names=("L", "R"),
    )


def _require_undiscounted(mdp: TabularMDP) -> None:
    if mdp.gamma != 1.0:
        raise ValueError(
            "the exact objective here is the lecture's undiscounted finite-horizon return "
            f"J = E[sum_h r_h]; build the MDP with gamma = 1 (got gamma = {mdp.gamma})"
        )


def enumerate_trajectories(mdp: TabularMDP, horizon: int) -> list[Trajectory]:
    r"""List every trajectory of at most ``horizon`` steps that a softmax policy can produce.

    A softmax policy gives every action a positive probability, so the trajectories are those
    the environment allows: :math:`\mu(s_0) > 0` and :math:`P(s_{h+1}|s_h,a_h) > 0`. An
    episode ends on entering a terminal state (``terminated=True``) or after ``horizon``
    steps (``terminated=False``). There are at most :math:`|S| (|A||S|)^H` of them.

    Args:
        mdp: The MDP.
        horizon: ``H >= 0``, the most steps an episode has.

    Returns:
        The trajectories, in a fixed order.

    Example:
        >>> trajectories = enumerate_trajectories(tiny_mdp(), horizon=2)
        >>> [len(t.actions) for t in trajectories].count(1)  # one-step episodes
        3

    """
    if horizon < 0:
        raise ValueError(f"horizon must be >= 0; got {horizon}")
    out: list[Trajectory] = []

    def extend(states: list[int], actions: list[int], rewards: list[float]) -> None:
        state = states[-1]
        if mdp.terminal[state] or len(actions) == horizon:
            out.append(Trajectory(
                states=np.array(states, dtype=np.int64),
                actions=np.array(actions, dtype=np.int64),
                rewards=np.array(rewards, dtype=np.float64),
                terminated=bool(mdp.terminal[state]),
            ))
            return
        for action in range(mdp.n_actions):
            for next_state in np.flatnonzero(mdp.P[state, action] > 0):
                extend([*states, int(next_state)], [*actions, action],
                       [*rewards, float(mdp.R[state, action, next_state])])

    for start in np.flatnonzero(mdp.mu > 0):
        extend([int(start)], [], [])
    return out


@_one_thread
def trajectory_log_probabilities(
    mdp: TabularMDP, theta: npt.ArrayLike | torch.Tensor, trajectories: Sequence[Trajectory]
) -> torch.Tensor:
    r"""Return :math:`\ln \rho_\theta(\tau)` of each trajectory, differentiable in ``theta``.

    .. math:: \ln \rho_\theta(\tau) = \ln \mu(s_0) + \sum_h \big[\ln \pi_\theta(a_h|s_h)
        + \ln P(s_{h+1}|s_h, a_h)\big]

    The environment's terms do not depend on :math:`\theta`: their gradient is 0, which is why
    the transitions drop out of REINFORCE.

    Args:
        mdp: The MDP.
        theta: Tabular logits ``(S, A)``, numpy or a torch tensor (float64 for exactness).
        trajectories: E.g. from :func:`enumerate_trajectories`.

    Returns:
        A tensor of shape ``(len(trajectories),)``.

    Example:
        >>> mdp = tiny_mdp()
        >>> trajectories = enumerate_trajectories(mdp, TINY_HORIZON)
        >>> probabilities = trajectory_log_probabilities(mdp, np.zeros((4, 2)), trajectories).exp()
        >>> round(float(probabilities.sum()), 12)  # they cover every outcome
        1.0

    """
    logits = _as_theta_tensor(theta)
    if tuple(logits.shape) != (mdp.n_states, mdp.n_actions):
        raise ValueError(
            f"theta must have shape (S, A) = ({mdp.n_states}, {mdp.n_actions}); got "
            f"{tuple(logits.shape)}"
        )
    env_terms = np.zeros(len(trajectories))
    owners, states, actions = [], [], []
    with np.errstate(divide="ignore"):
        for i, trajectory in enumerate(trajectories):
            s, a = trajectory.states, trajectory.actions
            env_terms[i] = np.log(mdp.mu[s[0]]) + np.log(mdp.P[s[:-1], a, s[1:]]).sum()
            owners += [i] * len(a)
            states += list(s[: len(a)])
            actions += list(a)
    log_pi = torch.log_softmax(logits, dim=1)[states, actions]
    policy_terms = torch.zeros(len(trajectories), dtype=logits.dtype).index_add(
        0, torch.as_tensor(owners, dtype=torch.int64), log_pi
    )
    return torch.as_tensor(env_terms, dtype=logits.dtype) + policy_terms


@_one_thread
def trajectory_probabilities(
    mdp: TabularMDP, theta: npt.ArrayLike, trajectories: Sequence[Trajectory]
) -> FloatArray:
    r"""Return :math:`\rho_\theta(\tau)` of each trajectory as a numpy array.

    Example:
        >>> mdp = tiny_mdp()
        >>> p = trajectory_probabilities(mdp, np.zeros((4, 2)), enumerate_trajectories(mdp, 2))
        >>> round(float(p.sum()), 12)
        1.0

    """
    with torch.no_grad():
        return trajectory_log_probabilities(mdp, theta, trajectories).exp().numpy()


@_one_thread
def expected_return(
    mdp: TabularMDP,
    theta: npt.ArrayLike | torch.Tensor,
    horizon: int,
    trajectories: Sequence[Trajectory] | None = None,
) -> torch.Tensor:
    r"""Return :math:`J(\theta) = \sum_\tau \rho_\theta(\tau) R(\tau)` exactly, as a torch scalar.

    :math:`R(\tau) = \sum_{h=0}^{H-1} r_h` is undiscounted (the MDP must have ``gamma = 1``).
    Differentiable in ``theta`` when it is a tensor that requires grad.

    Args:
        mdp: The MDP (``gamma = 1``).
        theta: Tabular logits ``(S, A)``.
        horizon: ``H``, the most steps an episode has.
        trajectories: :func:`enumerate_trajectories` of ``mdp`` and ``horizon``, if already
            computed.

    Returns:
        A float64 scalar tensor.

    Example:
        >>> round(float(expected_return(tiny_mdp(), np.zeros((4, 2)), TINY_HORIZON)), 6)
        1.81875

    """
    _require_undiscounted(mdp)
    if trajectories is None:
        trajectories = enumerate_trajectories(mdp, horizon)
    log_rho = trajectory_log_probabilities(mdp, theta, trajectories)
    returns = torch.as_tensor([float(t.rewards.sum()) for t in trajectories], dtype=log_rho.dtype)
    return log_rho.exp() @ returns


@_one_thread
def exact_gradient(
    mdp: TabularMDP,
    theta: npt.ArrayLike,
    horizon: int,
    trajectories: Sequence[Trajectory] | None = None,
) -> FloatArray:
    r"""Return the exact :math:`\nabla_\theta J(\theta)`, by autograd on :func:`expected_return`.

    Example:
        >>> gradient = exact_gradient(tiny_mdp(), np.zeros((4, 2)), TINY_HORIZON)
        >>> gradient[:, 0]  # start, left, right, end; each row sums to 0
        array([ 0.140625,  0.09375 , -0.440625,  0.      ])

    """
    logits = torch.tensor(np.asarray(theta, dtype=np.float64), requires_grad=True)
    (gradient,) = torch.autograd.grad(expected_return(mdp, logits, horizon, trajectories), logits)
    return gradient.numpy()


# --------------------------------------------------------------------------------------------
# Exact moments of an estimator
# --------------------------------------------------------------------------------------------


class EstimatorMoments(NamedTuple):
    r"""Exact mean and variance of a one-episode gradient estimate :math:`\hat g(\tau)`.

    Attributes:
        mean: :math:`\mathbb{E}_{\tau \sim \rho_\theta} \hat g(\tau)`, shaped like ``theta``.
        variance: Per-component variance of :math:`\hat g(\tau)`, shaped like ``theta``.
        total_variance: :math:`\mathbb{E} \|\hat g(\tau) - \mathbb{E} \hat g\|^2`, the sum of
            ``variance`` (the trace of the covariance).
        largest_deviation: Per-component :math:`\max_\tau |\hat g(\tau) - \mathbb{E} \hat g|`
            over the trajectories of positive probability, shaped like ``theta`` (the range
            a concentration bound such as Bernstein's needs).

    """

    mean: FloatArray
    variance: FloatArray
    total_variance: float
    largest_deviation: FloatArray


def exact_moments(
    mdp: TabularMDP,
    theta: npt.ArrayLike,
    estimator: Estimator,
    horizon: int,
    *args: Any,
    trajectories: Sequence[Trajectory] | None = None,
) -> EstimatorMoments:
    r"""Exact moments of ``estimator(theta, [tau], *args)`` over :math:`\tau \sim \rho_\theta`.

    The estimate from one episode is a function of the episode, so its mean and variance are
    finite sums over the enumerated trajectories, each weighted by :math:`\rho_\theta(\tau)`.
    An estimate from ``N`` episodes has the same mean and ``1/N`` of the variance.

    Args:
        mdp: The MDP.
        theta: Tabular logits ``(S, A)``.
        estimator: E.g. :func:`reinforce_gradient`.
        horizon: ``H``.
        *args: Passed on to ``estimator`` (e.g. the baseline).
        trajectories: :func:`enumerate_trajectories` of ``mdp`` and ``horizon``, if already
            computed.

    Returns:
        An :class:`EstimatorMoments`.

    Raises:
        ValueError: If the estimator returns an array of another shape than ``theta``.

    Example:
        >>> from rlkit.policy_gradient import reinforce_gradient, reward_to_go_gradient
        >>> mdp, theta = tiny_mdp(), np.zeros((4, 2))
        >>> total = exact_moments(mdp, theta, reinforce_gradient, TINY_HORIZON)
        >>> to_go = exact_moments(mdp, theta, reward_to_go_gradient, TINY_HORIZON)
        >>> bool(np.allclose(total.mean, exact_gradient(mdp, theta, TINY_HORIZON)))
        True
        >>> bool(np.allclose(to_go.mean, total.mean)), to_go.total_variance < total.total_variance
        (True, True)

    """
    theta = np.asarray(theta, dtype=np.float64)
    if trajectories is None:
        trajectories = enumerate_trajectories(mdp, horizon)
    probabilities = trajectory_probabilities(mdp, theta, trajectories)
    estimates = np.empty((len(trajectories), *theta.shape))
    for i, trajectory in enumerate(trajectories):
        # private copies: an estimator that writes into its inputs cannot spoil the next call
        private = Trajectory(*(np.array(field) for field in trajectory[:3]), trajectory[3])
        copied = [np.array(arg) if isinstance(arg, np.ndarray) else arg for arg in args]
        estimate = np.asarray(estimator(theta.copy(), [private], *copied), dtype=np.float64)
        if estimate.shape != theta.shape:
            raise ValueError(
                f"the estimator returned shape {estimate.shape}; expected theta's {theta.shape}"
            )
        estimates[i] = estimate
    mean = np.tensordot(probabilities, estimates, axes=1)
    variance = np.tensordot(probabilities, (estimates - mean) ** 2, axes=1)
    deviation = np.abs(estimates[probabilities > 0] - mean).max(axis=0, initial=0.0)
    return EstimatorMoments(mean, variance, float(variance.sum()), deviation)
