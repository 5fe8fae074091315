r"""The policy-improvement identity and PPO's surrogate, exactly, on an enumerable MDP.

Lecture 001 ("What if we want to use old data more efficiently?") starts PPO from

.. math:: J(\theta) - J(\theta_\text{old}) = \mathbb{E}_{\tau \sim p_\theta}\Big[\sum_h
    A^{\pi_\text{old}}_h(s_h, a_h)\Big] = \sum_h \sum_s d^{\theta}_h(s) \sum_a
    \pi_\theta(a|s)\, A^{\pi_\text{old}}_h(s, a)

(here undiscounted and finite-horizon, the objective of :mod:`rlkit.policy_gradient`, so the
advantages carry the step :math:`h` as in :mod:`rlkit.weightings`; :math:`d^\theta_h(s)` is the
probability that the episode is still going at step :math:`h` and in state :math:`s`). The
states come from the *new* policy, which has not collected anything yet. The surrogate takes
them from the old one:

.. math:: L_{\theta_\text{old}}(\theta) = \sum_h \sum_s d^{\theta_\text{old}}_h(s) \sum_a
    \pi_\text{old}(a|s)\, \frac{\pi_\theta(a|s)}{\pi_\text{old}(a|s)}\,
    A^{\pi_\text{old}}_h(s, a),

which sampled episodes of :math:`\pi_\text{old}` can estimate. At :math:`\theta =
\theta_\text{old}` both sides are 0 (the advantages average to 0 under their own policy) and
their gradients agree (both are the policy gradient), so :math:`L` matches :math:`J(\theta) -
J(\theta_\text{old})` to first order; how far they part as :math:`\theta` moves away is what the
KL constraint, and PPO's clipping, guard against (:func:`mean_kl`).

Everything here is exact (sums over states and actions, no sampling), in numpy, except
:func:`surrogate`, which is written in torch so that autograd gives its gradient.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import torch

from rlkit.enumeration import _require_undiscounted
from rlkit.mdp import FloatArray, TabularMDP
from rlkit.policy_gradient import softmax_policy
from rlkit.weightings import action_values, values_from_q

__all__ = [
    "advantage_table",
    "expected_return_from_states",
    "mean_kl",
    "performance_difference",
    "state_distribution",
    "surrogate",
]


def advantage_table(mdp: TabularMDP, theta: npt.ArrayLike, horizon: int) -> FloatArray:
    r"""Return :math:`A^{\pi_\theta}_h(s,a) = Q^{\pi_\theta}_h(s,a) - V^{\pi_\theta}_h(s)`, shape
    ``(H, S, A)``.

    :math:`Q` from :func:`rlkit.weightings.action_values`, :math:`V_h(s) = \sum_a
    \pi_\theta(a|s) Q_h(s,a)`; so :math:`\sum_a \pi_\theta(a|s) A_h(s,a) = 0` in every row.

    Example:
        >>> from rlkit.policy_gradient import tiny_mdp
        >>> advantage_table(tiny_mdp(), np.zeros((4, 2)), 2)[0, 0]  # start: Q = (2.3, 1.55)
        array([ 0.375, -0.375])

    """  # noqa: D205
    q = action_values(mdp, theta, horizon)
    return q - values_from_q(q, theta)[..., None]


def state_distribution(mdp: TabularMDP, theta: npt.ArrayLike, horizon: int) -> FloatArray:
    r"""Return :math:`d^\theta_h(s) = P(s_h = s,\ \text{not ended before } h)`, shape ``(H, S)``.

    Forwards from the start distribution: :math:`d_0 = \mu`, and :math:`d_{h+1}(s') = \sum_{s,a}
    d_h(s)\, \pi_\theta(a|s)\, P(s'|s,a)`, with every terminal state zeroed (an episode that has
    entered one is over, so it contributes nothing from there on). A row sums to the
    probability that the episode is still going at step :math:`h`, at most 1.

    Example:
        >>> from rlkit.policy_gradient import tiny_mdp
        >>> state_distribution(tiny_mdp(), np.zeros((4, 2)), 2)  # start 3/4, right 1/4
        array([[0.75  , 0.    , 0.25  , 0.    ],
               [0.    , 0.375 , 0.3375, 0.    ]])

    """
    policy = softmax_policy(np.asarray(theta, dtype=np.float64))
    alive = ~np.asarray(mdp.terminal, dtype=bool)
    d = np.zeros((int(horizon), mdp.n_states))
    current = np.asarray(mdp.mu, dtype=np.float64) * alive
    for h in range(len(d)):
        d[h] = current
        current = np.einsum("s,sa,sat->t", current, policy, mdp.P) * alive
    return d


def expected_return_from_states(mdp: TabularMDP, theta: npt.ArrayLike, horizon: int) -> float:
    r"""Return :math:`J(\theta) = \sum_h \sum_s d^\theta_h(s) \sum_a \pi_\theta(a|s)\, r(s,a)`.

    The same number as :func:`rlkit.policy_gradient.expected_return` (a sum over
    trajectories), computed from the state distribution instead.

    Example:
        >>> from rlkit.policy_gradient import tiny_mdp
        >>> round(expected_return_from_states(tiny_mdp(), np.zeros((4, 2)), 2), 6)
        1.81875

    """
    _require_undiscounted(mdp)
    policy = softmax_policy(np.asarray(theta, dtype=np.float64))
    d = state_distribution(mdp, theta, horizon)
    return float(np.einsum("hs,sa,sa->", d, policy, mdp.expected_rewards))


def performance_difference(
    mdp: TabularMDP, theta: npt.ArrayLike, theta_old: npt.ArrayLike, horizon: int
) -> float:
    r"""Return :math:`\sum_h \sum_s d^\theta_h(s) \sum_a \pi_\theta(a|s)\,
    A^{\pi_\text{old}}_h(s,a)`: the old policy's advantages under the new policy.

    The policy-improvement identity says it equals :math:`J(\theta) - J(\theta_\text{old})`.

    Example:
        >>> from rlkit.policy_gradient import expected_return, tiny_mdp
        >>> mdp, theta = tiny_mdp(), np.array([[1.0, 0], [0, 0], [0, 1], [0, 0]])
        >>> old = np.zeros((4, 2))
        >>> gain = float(expected_return(mdp, theta, 2) - expected_return(mdp, old, 2))
        >>> round(performance_difference(mdp, theta, old, 2) - gain, 12)
        0.0

    """  # noqa: D205
    advantages = advantage_table(mdp, theta_old, horizon)
    policy = softmax_policy(np.asarray(theta, dtype=np.float64))
    d = state_distribution(mdp, theta, horizon)
    return float(np.einsum("hs,sa,hsa->", d, policy, advantages))


def surrogate(
    mdp: TabularMDP, theta: torch.Tensor | npt.ArrayLike, theta_old: npt.ArrayLike, horizon: int
) -> torch.Tensor:
    r"""Return the surrogate :math:`L_{\theta_\text{old}}(\theta)` as a torch scalar.

    The old policy's states and actions, importance-weighted by the ratio: :math:`\sum_h
    \sum_s d^{\theta_\text{old}}_h(s) \sum_a \pi_\text{old}(a|s)\, r_\theta(s,a)\,
    A^{\pi_\text{old}}_h(s,a)`, :math:`r_\theta = \pi_\theta / \pi_\text{old}`. Differentiable in
    ``theta`` when it is a tensor that requires grad; everything of the old policy is a
    constant.

    Example:
        >>> from rlkit.policy_gradient import exact_gradient, tiny_mdp
        >>> mdp, old = tiny_mdp(), np.zeros((4, 2))
        >>> theta = torch.zeros(4, 2, dtype=torch.float64, requires_grad=True)
        >>> value = surrogate(mdp, theta, old, 2)
        >>> value.backward()
        >>> round(value.item(), 12), bool(np.allclose(theta.grad, exact_gradient(mdp, old, 2)))
        (0.0, True)

    """
    theta = torch.as_tensor(theta, dtype=torch.float64)
    old_policy = torch.as_tensor(softmax_policy(theta_old))
    d_old = torch.as_tensor(state_distribution(mdp, theta_old, horizon))
    advantages = torch.as_tensor(advantage_table(mdp, theta_old, horizon))
    ratio = torch.softmax(theta, dim=-1) / old_policy
    return torch.einsum("hs,sa,sa,hsa->", d_old, old_policy, ratio, advantages)


def mean_kl(
    mdp: TabularMDP, theta_old: npt.ArrayLike, theta: npt.ArrayLike, horizon: int
) -> float:
    r"""Return :math:`\mathrm{KL}(\pi_\text{old} \,\|\, \pi_\theta)` averaged over the steps
    the old policy takes.

    :math:`\sum_h \sum_s d^{\theta_\text{old}}_h(s)\, \mathrm{KL}(\pi_\text{old}(\cdot|s) \,\|\,
    \pi_\theta(\cdot|s)) / \sum_h \sum_s d^{\theta_\text{old}}_h(s)`: the quantity PPO's
    approximate KL estimates from a rollout.

    Example:
        >>> from rlkit.policy_gradient import tiny_mdp
        >>> mean_kl(tiny_mdp(), np.zeros((4, 2)), np.zeros((4, 2)), 2)
        0.0

    """  # noqa: D205
    old = softmax_policy(np.asarray(theta_old, dtype=np.float64))
    new = softmax_policy(np.asarray(theta, dtype=np.float64))
    per_state = np.sum(old * (np.log(old) - np.log(new)), axis=-1)
    d = state_distribution(mdp, theta_old, horizon)
    return float(np.einsum("hs,s->", d, per_state) / d.sum())
