r"""The six weightings of :math:`\nabla_\theta \ln \pi_\theta`, exactly, on an enumerable MDP.

The lecture ("Policy gradients variants, and Actor Critic") writes every policy gradient as

.. math:: \nabla_\theta J(\theta) = \mathbb{E}_{\tau \sim \rho_\theta} \Big[\sum_{h=0}^{H-1}
    \nabla_\theta \ln \pi_\theta(a_h|s_h)\, \Psi_h\Big]

with six choices of the weight :math:`\Psi_h`: the total return :math:`R(\tau)`, the
reward-to-go :math:`\sum_{t \ge h} r_t`, the reward-to-go minus a baseline (the three of
:mod:`rlkit.policy_gradient`), and the three of this module, the actor-critic weightings:

4. the action value :math:`Q^\pi_h(s_h, a_h)` (:func:`action_value_gradient`);
5. the advantage :math:`A^\pi_h(s_h, a_h) = Q^\pi_h(s_h, a_h) - V^\pi_h(s_h)`
   (:func:`advantage_gradient`);
6. the TD residual :math:`r_h + V^\pi_{h+1}(s_{h+1}) - V^\pi_h(s_h)`
   (:func:`td_residual_gradient`).

**The values depend on the time step.** The objective is the lecture's finite-horizon,
undiscounted :math:`J = \mathbb{E}[\sum_{h=0}^{H-1} r_h]`: an episode stops on entering a
terminal state or after ``H`` steps, whichever comes first. What is still to come from state
``s`` depends on how many steps are left, so the values carry the step ``h``:

.. math:: Q^\pi_h(s,a) = \mathbb{E}\Big[\sum_{t=h}^{H-1} r_t \,\Big|\, s_h = s, a_h = a\Big],
    \qquad V^\pi_h(s) = \sum_a \pi_\theta(a|s)\, Q^\pi_h(s,a),

computed backwards from :math:`V^\pi_H = 0` (no step left) by
:math:`Q^\pi_h(s,a) = \sum_{s'} P(s'|s,a)\,[R(s,a,s') + V^\pi_{h+1}(s')]`, with
:math:`V^\pi_h = 0` at terminal states (:func:`action_values`). Arrays are ``(H, S, A)`` for
``Q`` and ``(H, S)`` for ``V``: row ``h`` is step ``h``. On :func:`rlkit.policy_gradient.tiny_mdp`
a state is always the same number of steps from the end, so along any trajectory
:math:`V^\pi_h(s_h)` is the time-free :func:`rlkit.policy_gradient.state_values`; on an MDP
whose episodes are cut at ``H`` it is not.

Because here the horizon is part of the objective, the state after an episode's last step has
nothing to come, whether it is terminal or the episode was cut at ``H``: the TD residual of the
last step is :math:`r_{T-1} - V^\pi_{T-1}(s_{T-1})`. (A time limit that is *not* part of the
objective, CartPole's 500 steps, is different: there one bootstraps from :math:`V(s_T)`.)

:func:`conditional_values` computes the same :math:`Q^\pi_h` and :math:`V^\pi_h` from their
definition, as averages of the reward-to-go over the enumerated trajectories, on the pairs the
policy visits: replacing the sampled reward-to-go by its conditional expectation is what turns
option 2 into option 4. With :math:`Q^\pi` and :math:`V^\pi` all three estimators are unbiased
(:func:`rlkit.policy_gradient.exact_moments` computes their exact means and variances); with a
wrong :math:`Q` or :math:`V` the first and the last are not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from rlkit import dp
from rlkit.enumeration import (
    _require_undiscounted,
    enumerate_trajectories,
    trajectory_probabilities,
)
from rlkit.mdp import FloatArray, TabularMDP
from rlkit.policy_gradient import softmax_policy, weighted_scores
from rlkit.sampling import Trajectory, discounted_returns

__all__ = [
    "StepValues",
    "action_value_gradient",
    "action_values",
    "advantage_gradient",
    "conditional_values",
    "td_residual_gradient",
    "td_residuals",
    "values_from_q",
]


class StepValues(NamedTuple):
    r"""Values per time step: :math:`Q^\pi_h(s,a)` and :math:`V^\pi_h(s)`.

    Attributes:
        q: :math:`Q^\pi_h(s,a)`, shape ``(H, S, A)``.
        v: :math:`V^\pi_h(s)`, shape ``(H, S)``.
        visited: ``(H, S)``: True where :math:`P(s_h = s) > 0` with an action still to take
            (:func:`conditional_values`; all True for :func:`action_values`' own).

    """

    q: FloatArray
    v: FloatArray
    visited: npt.NDArray[np.bool_]


def _checked_theta(mdp: TabularMDP, theta: npt.ArrayLike) -> FloatArray:
    theta = np.asarray(theta, dtype=np.float64)
    if theta.shape != (mdp.n_states, mdp.n_actions):
        raise ValueError(
            f"theta must have shape (S, A) = ({mdp.n_states}, {mdp.n_actions}); got {theta.shape}"
        )
    return theta


def _checked_horizon(horizon: int) -> int:
    if int(horizon) != horizon or horizon < 0:
        raise ValueError(f"horizon must be an integer >= 0; got {horizon!r}")
    return int(horizon)


def action_values(mdp: TabularMDP, theta: npt.ArrayLike, horizon: int) -> FloatArray:
    r"""Return :math:`Q^{\pi_\theta}_h(s,a)` of the finite-horizon objective, shape ``(H, S, A)``.

    Backward induction from the end, where no step is left:

    .. math:: V_H = 0, \qquad Q_h(s,a) = \sum_{s'} P(s'|s,a)\,\big[R(s,a,s') + V_{h+1}(s')\big],
        \qquad V_h(s) = \sum_a \pi_\theta(a|s)\, Q_h(s,a),

    with nothing collected from, or bootstrapped through, a terminal state (``Q_h = 0`` in a
    terminal row, :func:`rlkit.dp.q_from_v`). Row ``h`` has ``H - h`` steps left.

    Args:
        mdp: The MDP (``gamma = 1``: the lecture's undiscounted objective).
        theta: Tabular softmax logits, shape ``(S, A)``.
        horizon: ``H >= 0``, the most steps an episode has.

    Returns:
        ``Q``, shape ``(H, S, A)``.

    Example:
        >>> from rlkit.policy_gradient import tiny_mdp
        >>> q = action_values(tiny_mdp(), np.zeros((4, 2)), horizon=2)
        >>> q[1, 1:3]  # one step left, in left and right: the last rewards
        array([[1., 0.],
               [0., 3.]])
        >>> q[0, 0]  # start: L -> left (.8: 2 + .5) or right (.2: 0 + 1.5); R -> .2, .7, .1
        array([2.3 , 1.55])

    """
    _require_undiscounted(mdp)
    policy = softmax_policy(_checked_theta(mdp, theta))
    q = np.zeros((_checked_horizon(horizon), mdp.n_states, mdp.n_actions))
    next_values = np.zeros(mdp.n_states)  # V_H = 0: no step left
    for h in reversed(range(len(q))):  # backwards: row h needs row h + 1
        q[h] = dp.q_from_v(mdp, next_values)  # zero at and after terminal states
        next_values = np.einsum("sa,sa->s", policy, q[h])
    return q


def values_from_q(q_values: npt.ArrayLike, theta: npt.ArrayLike) -> FloatArray:
    r"""Return :math:`V_h(s) = \sum_a \pi_\theta(a|s)\, Q_h(s,a)` for every step, shape ``(H, S)``.

    Example:
        >>> values_from_q(np.array([[[1.0, 3.0]]]), np.zeros((1, 2)))  # H = 1, S = 1
        array([[2.]])

    """
    q = np.asarray(q_values, dtype=np.float64)
    policy = softmax_policy(theta)
    if q.ndim != 3 or q.shape[1:] != policy.shape:
        raise ValueError(f"q_values must have shape (H, S, A) with (S, A) = {policy.shape}; "
                         f"got {q.shape}")
    return np.einsum("sa,hsa->hs", policy, q)


def conditional_values(
    mdp: TabularMDP,
    theta: npt.ArrayLike,
    horizon: int,
    trajectories: Sequence[Trajectory] | None = None,
) -> StepValues:
    r"""Return :math:`Q^\pi_h` and :math:`V^\pi_h` from their definition, on the visited pairs.

    .. math:: Q^\pi_h(s,a) = \mathbb{E}_{\tau \sim \rho_\theta}\big[G_h \,\big|\, s_h = s,
        a_h = a\big], \qquad V^\pi_h(s) = \mathbb{E}\big[G_h \,\big|\, s_h = s\big], \qquad
        G_h = \sum_{t=h}^{T-1} r_t,

    each a ratio of two finite sums over the enumerated trajectories. Where the policy never
    takes an action in ``s`` at step ``h`` (``s`` unreachable then, terminal, or the episode
    over) the conditional expectation is undefined and the result holds 0. On the visited
    entries it equals :func:`action_values` (the Markov property), which is what the tests
    check; the check specs use it to hand :math:`Q^\pi` and :math:`V^\pi` to the estimators.

    Args:
        mdp: The MDP (``gamma = 1``).
        theta: Tabular logits ``(S, A)``.
        horizon: ``H``.
        trajectories: :func:`rlkit.policy_gradient.enumerate_trajectories` of ``mdp`` and
            ``horizon``, if already computed.

    Returns:
        A :class:`StepValues` with ``visited`` marking where the expectations are defined.

    Example:
        >>> from rlkit.policy_gradient import tiny_mdp
        >>> values = conditional_values(tiny_mdp(), np.zeros((4, 2)), 2)
        >>> values.v[0, [0, 2]], values.visited[1].tolist()  # start and right at step 0
        (array([1.925, 1.5  ]), [False, True, True, False])

    """
    _require_undiscounted(mdp)
    theta = _checked_theta(mdp, theta)
    horizon = _checked_horizon(horizon)
    if trajectories is None:
        trajectories = enumerate_trajectories(mdp, horizon)
    rho = trajectory_probabilities(mdp, theta, trajectories)
    shape = (horizon, mdp.n_states, mdp.n_actions)
    mass, weighted = np.zeros(shape), np.zeros(shape)
    for p, trajectory in zip(rho, trajectories, strict=True):
        steps = np.arange(len(trajectory.actions))
        if len(steps) > horizon:
            raise ValueError(f"a trajectory has {len(steps)} steps; the horizon is {horizon}")
        where = (steps, trajectory.states[steps], trajectory.actions)
        np.add.at(mass, where, p)
        np.add.at(weighted, where, p * discounted_returns(trajectory.rewards, 1.0))
    state_mass = mass.sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.where(mass > 0, weighted / mass, 0.0)
        v = np.where(state_mass > 0, weighted.sum(axis=2) / state_mass, 0.0)
    return StepValues(q, v, state_mass > 0)


# --------------------------------------------------------------------------------------------
# The actor-critic estimators (tabular softmax)
# --------------------------------------------------------------------------------------------


def _steps(episode: Trajectory) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64],
                                          npt.NDArray[np.int64]]:
    """``(h, s_h, a_h)`` of every step of an episode, as index arrays."""
    actions = np.asarray(episode.actions, dtype=np.int64)
    states = np.asarray(episode.states, dtype=np.int64)[: len(actions)]  # s_h pairs with a_h
    return np.arange(len(actions)), states, actions


def action_value_gradient(
    theta: npt.ArrayLike, episodes: Sequence[Trajectory], q_values: npt.ArrayLike
) -> FloatArray:
    r"""Option 4: weight each score by the action value of the pair, :math:`Q_h(s_h, a_h)`.

    .. math:: \hat g = \frac{1}{N} \sum_{i=1}^N \sum_{h=0}^{H-1} \nabla_\theta
        \ln \pi_\theta(a^i_h|s^i_h)\, Q_h(s^i_h, a^i_h)

    Unbiased when ``q_values`` is :math:`Q^{\pi_\theta}` (:func:`action_values`): it is the
    reward-to-go estimator with :math:`G_h` replaced by :math:`\mathbb{E}[G_h | s_h, a_h]`.

    Args:
        theta: Tabular logits, shape ``(S, A)``.
        episodes: Trajectories sampled with :math:`\pi_\theta`.
        q_values: ``Q_h(s, a)``, shape ``(H, S, A)`` (any critic; :math:`Q^\pi` for the exact
            estimator).

    Returns:
        The estimate, shape ``(S, A)``.

    Example:
        >>> episode = Trajectory(np.array([0, 1]), np.array([1]), np.array([2.0]), True)
        >>> q = np.zeros((1, 2, 2)); q[0, 0, 1] = 4.0
        >>> action_value_gradient(np.zeros((2, 2)), [episode], q)  # (e_1 - [.5, .5]) * 4
        array([[-2.,  2.],
               [ 0.,  0.]])

    """
    q = np.asarray(q_values, dtype=np.float64)
    return weighted_scores(theta, episodes, lambda e: q[_steps(e)])


def advantage_gradient(
    theta: npt.ArrayLike,
    episodes: Sequence[Trajectory],
    q_values: npt.ArrayLike,
    values: npt.ArrayLike,
) -> FloatArray:
    r"""Option 5: weight each score by the advantage :math:`Q_h(s_h, a_h) - V_h(s_h)`.

    .. math:: \hat g = \frac{1}{N} \sum_{i=1}^N \sum_{h=0}^{H-1} \nabla_\theta
        \ln \pi_\theta(a^i_h|s^i_h)\, \big(Q_h(s^i_h, a^i_h) - V_h(s^i_h)\big)

    :math:`V_h(s_h)` does not depend on :math:`a_h`: it is a baseline, so the mean is that of
    :func:`action_value_gradient`, whatever ``values`` holds.

    Args:
        theta: Tabular logits, shape ``(S, A)``.
        episodes: Trajectories sampled with :math:`\pi_\theta`.
        q_values: ``Q_h(s, a)``, shape ``(H, S, A)``.
        values: ``V_h(s)``, shape ``(H, S)`` (:func:`values_from_q` for :math:`V^\pi`).

    Returns:
        The estimate, shape ``(S, A)``.

    Example:
        >>> episode = Trajectory(np.array([0, 1]), np.array([1]), np.array([2.0]), True)
        >>> q = np.zeros((1, 2, 2)); q[0, 0, 1] = 4.0
        >>> advantage_gradient(np.zeros((2, 2)), [episode], q, np.array([[1.0, 0.0]]))  # 4 - 1
        array([[-1.5,  1.5],
               [ 0. ,  0. ]])

    """
    q = np.asarray(q_values, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)

    def advantages(episode: Trajectory) -> FloatArray:
        steps, states, actions = _steps(episode)
        return q[steps, states, actions] - v[steps, states]

    return weighted_scores(theta, episodes, advantages)


def td_residuals(episode: Trajectory, values: npt.ArrayLike) -> FloatArray:
    r"""Return :math:`\delta_h = r_h + V_{h+1}(s_{h+1}) - V_h(s_h)` of every step, shape ``(T,)``.

    After the episode's last step nothing is to come (a terminal state, or the horizon of the
    objective): :math:`V_T(s_T) = 0` there, whatever ``values`` holds.

    Example:
        >>> episode = Trajectory(np.array([0, 1, 2]), np.array([0, 0]), np.array([1.0, 2.0]),
        ...                      True)
        >>> td_residuals(episode, np.array([[5.0, 0.0, 9.0], [0.0, 3.0, 9.0]]))
        array([-1., -1.])

    """
    v = np.asarray(values, dtype=np.float64)
    steps, states, _ = _steps(episode)
    next_states = np.asarray(episode.states, dtype=np.int64)[1: len(steps) + 1]
    after = np.zeros(len(steps))
    after[:-1] = v[steps[1:], next_states[:-1]]  # V_{h+1}(s_{h+1}); 0 after the last step
    return np.asarray(episode.rewards, dtype=np.float64) + after - v[steps, states]


def td_residual_gradient(
    theta: npt.ArrayLike, episodes: Sequence[Trajectory], values: npt.ArrayLike
) -> FloatArray:
    r"""Option 6: weight each score by the TD residual :math:`r_h + V_{h+1}(s_{h+1}) - V_h(s_h)`.

    .. math:: \hat g = \frac{1}{N} \sum_{i=1}^N \sum_{h=0}^{H-1} \nabla_\theta
        \ln \pi_\theta(a^i_h|s^i_h)\, \big(r^i_h + V_{h+1}(s^i_{h+1}) - V_h(s^i_h)\big)

    with :math:`V = 0` after an episode's last step (:func:`td_residuals`). With
    :math:`V = V^\pi`, :math:`\mathbb{E}[r_h + V^\pi_{h+1}(s_{h+1}) | s_h, a_h] =
    Q^\pi_h(s_h, a_h)`: the mean is that of :func:`advantage_gradient`, unbiased. With another
    ``V`` the error of :math:`V_{h+1}` biases it (:math:`V_h(s_h)` alone is only a baseline).

    Args:
        theta: Tabular logits, shape ``(S, A)``.
        episodes: Trajectories sampled with :math:`\pi_\theta`.
        values: The critic :math:`V_h(s)`, shape ``(H, S)``.

    Returns:
        The estimate, shape ``(S, A)``.

    Example:
        >>> episode = Trajectory(np.array([0, 1]), np.array([1]), np.array([2.0]), True)
        >>> td_residual_gradient(np.zeros((2, 2)), [episode], np.array([[1.0, 7.0]]))  # 2 - 1
        array([[-0.5,  0.5],
               [ 0. ,  0. ]])

    """
    v = np.asarray(values, dtype=np.float64)
    return weighted_scores(theta, episodes, lambda e: td_residuals(e, v))
