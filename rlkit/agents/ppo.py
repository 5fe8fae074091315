r"""PPO-Clip (Schulman et al., 2017): many epochs of minibatch steps on each rollout, kept close.

The lecture's derivation (lecture 001, from "What if we want to use old data more
efficiently?" to "Algorithm 1 PPO-Clip"). The policy-improvement identity

.. math:: J(\theta) - J(\theta_\text{old}) = \mathbb{E}_{\tau \sim p_\theta}\Big[\sum_t
    \gamma^t A^{\pi_{\theta_\text{old}}}(s_t, a_t)\Big]

needs states from the *new* policy; taking them from the old one, with the actions
importance-weighted by the ratio :math:`r_t(\theta) = \pi_\theta(a_t|s_t) /
\pi_{\theta_\text{old}}(a_t|s_t)`, gives the surrogate :math:`\mathbb{E}_{\pi_\text{old}}[r_t
A_t]`, a good model of :math:`J` only while the two policies stay close. PPO keeps them close
by clipping: per state-action pair,

.. math:: L^{CLIP} = \min\big(r_t A_t,\ \operatorname{clip}(r_t, 1 - \epsilon, 1 + \epsilon)
    A_t\big),

so that once :math:`r_t` has left :math:`[1 - \epsilon, 1 + \epsilon]` on the side the
advantage pushes it towards, that pair passes no more gradient.

The math pieces below are top-level functions with the notebook's signatures (notebook 06
re-implements them); the advantages are :func:`rlkit.advantages.gae`'s, the networks and the
log-probs :mod:`rlkit.nets`'s, shared with :mod:`rlkit.agents.a2c`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rlkit.agents.reinforce import value_loss

__all__ = [
    "approx_kl",
    "approx_kl_low_variance",
    "clipped_value_loss",
    "importance_ratio",
    "minibatch_indices",
    "normalize_advantages",
    "ppo_clip_loss",
    "ppo_loss",
]


# --------------------------------------------------------------------------------------------
# Math pieces (notebook 06 re-implements these with the same signatures)
# --------------------------------------------------------------------------------------------


def _same_shape(reference_name: str, reference: torch.Tensor, **others: Any) -> None:
    for name, tensor in others.items():
        if torch.as_tensor(tensor).shape != reference.shape:
            got = tuple(torch.as_tensor(tensor).shape)
            raise ValueError(f"{name} must have the shape of {reference_name}, "
                             f"{tuple(reference.shape)}; got {got}")


def importance_ratio(log_probs: torch.Tensor, old_log_probs: torch.Tensor) -> torch.Tensor:
    r"""The ratio :math:`r_t(\theta) = \pi_\theta(a_t|s_t) / \pi_{\theta_\text{old}}(a_t|s_t)`.

    Computed as :math:`\exp(\log\pi_\theta - \log\pi_{\theta_\text{old}})`: a quotient of
    probabilities underflows for unlikely actions (a Gaussian's density is not even a
    probability), a difference of log-probs does not. The old policy is a constant of the
    update, so the gradient flows through ``log_probs`` only.

    Args:
        log_probs: :math:`\log\pi_\theta(a_t|s_t)` under the policy being updated, shape
            ``(N,)``, with gradients.
        old_log_probs: :math:`\log\pi_{\theta_\text{old}}(a_t|s_t)` recorded when the rollout
            was collected, ``(N,)``.

    Returns:
        ``ratio``, shape ``(N,)``; 1 wherever the two policies agree.

    Example:
        >>> importance_ratio(torch.tensor([-1.0, 0.0]), torch.tensor([-1.0, -np.log(2.0)]))
        tensor([1., 2.])

    """
    _same_shape("log_probs", log_probs, old_log_probs=old_log_probs)
    return torch.exp(log_probs - torch.as_tensor(old_log_probs, dtype=log_probs.dtype).detach())


def ppo_clip_loss(ratio: torch.Tensor, advantages: torch.Tensor, clip_eps: float) -> torch.Tensor:
    r"""The PPO-Clip policy loss :math:`-\frac1N \sum_t \min\big(r_t A_t,
    \operatorname{clip}(r_t, 1-\epsilon, 1+\epsilon) A_t\big)` (a loss to minimise).

    The lecture's case analysis: with :math:`A > 0` the objective grows with :math:`r` up to
    :math:`1 + \epsilon` and is flat beyond (no gradient); with :math:`A < 0` it grows as
    :math:`r` falls, down to :math:`1 - \epsilon`, and is flat below. On the other side of each
    (:math:`A > 0, r < 1 - \epsilon` or :math:`A < 0, r > 1 + \epsilon`) the unclipped
    :math:`r A` is the smaller term, so a step that made things worse is always undone. The
    advantages are constants (detached here).

    Args:
        ratio: :math:`r_t(\theta)` (:func:`importance_ratio`), shape ``(N,)``, with gradients.
        advantages: :math:`\hat A_t`, ``(N,)``.
        clip_eps: :math:`\epsilon > 0` (typically 0.1 to 0.3).

    Returns:
        A scalar tensor.

    Example:
        >>> ppo_clip_loss(torch.tensor([1.5, 0.5]), torch.tensor([1.0, -1.0]), clip_eps=0.2)
        tensor(-0.2000)

    """  # noqa: D205
    if not clip_eps > 0:
        raise ValueError(f"clip_eps must be > 0; got {clip_eps}")
    _same_shape("ratio", ratio, advantages=advantages)
    advantages = torch.as_tensor(advantages, dtype=ratio.dtype).detach()
    unclipped = ratio * advantages
    clipped = torch.clamp(ratio, 1.0 - clip_eps, 1.0 + clip_eps) * advantages
    return -torch.min(unclipped, clipped).mean()


def clipped_value_loss(
    values: torch.Tensor,
    old_values: torch.Tensor,
    returns: torch.Tensor,
    clip_eps: float | None,
) -> torch.Tensor:
    r"""The critic's loss, :math:`\frac1N \sum_t (V_\phi(s_t) - G_t)^2`, optionally clipped.

    With ``clip_eps`` (PPO2's value clipping), the new value may move at most :math:`\epsilon`
    from the value at collection time before its error stops counting:
    :math:`V^\text{clip} = V_\text{old} + \operatorname{clip}(V - V_\text{old}, -\epsilon,
    \epsilon)` and the loss is :math:`\frac1N \sum_t \max\big((V - G)^2, (V^\text{clip} -
    G)^2\big)`, the pessimistic of the two. The targets and the old values are constants.

    Args:
        values: :math:`V_\phi(s_t)`, shape ``(N,)``, with gradients.
        old_values: :math:`V_{\phi_\text{old}}(s_t)` recorded with the rollout, ``(N,)``.
        returns: The targets :math:`G_t` (:func:`rlkit.advantages.critic_targets`), ``(N,)``.
        clip_eps: The clip range in the values' units, or None for the plain squared error.

    Returns:
        A scalar tensor.

    Example:
        >>> v, old, g = torch.tensor([2.0]), torch.tensor([0.0]), torch.tensor([3.0])
        >>> clipped_value_loss(v, old, g, None), clipped_value_loss(v, old, g, 0.5)
        (tensor(1.), tensor(6.2500))

    """
    _same_shape("values", values, old_values=old_values, returns=returns)
    if clip_eps is None:
        return value_loss(values, returns)
    if not clip_eps > 0:
        raise ValueError(f"clip_eps must be > 0 or None; got {clip_eps}")
    returns = torch.as_tensor(returns, dtype=values.dtype).detach()
    old_values = torch.as_tensor(old_values, dtype=values.dtype).detach()
    clipped = old_values + torch.clamp(values - old_values, -clip_eps, clip_eps)
    return torch.max((values - returns) ** 2, (clipped - returns) ** 2).mean()


def ppo_loss(
    clip_loss: torch.Tensor,
    critic_loss: torch.Tensor,
    entropy: torch.Tensor,
    value_coef: float,
    entropy_coef: float,
) -> torch.Tensor:
    r"""The loss of one minibatch step: :math:`L^{CLIP} + c_v L^V - c_e \frac1N \sum_t H_t`.

    Args:
        clip_loss: :func:`ppo_clip_loss` of the minibatch, a scalar.
        critic_loss: :func:`clipped_value_loss` of the minibatch, a scalar.
        entropy: :math:`H[\pi_\theta(\cdot|s_t)]` on the minibatch, ``(N,)``, with gradients.
        value_coef: :math:`c_v \ge 0`.
        entropy_coef: :math:`c_e \ge 0`: the bonus that keeps pi from turning deterministic.

    Returns:
        A scalar tensor.

    Example:
        >>> ppo_loss(torch.tensor(-0.5), torch.tensor(2.0), torch.tensor([0.5, 0.7]),
        ...          value_coef=0.5, entropy_coef=0.1)
        tensor(0.4400)

    """
    return clip_loss + value_coef * critic_loss - entropy_coef * entropy.mean()


def approx_kl(log_probs: torch.Tensor, old_log_probs: torch.Tensor) -> torch.Tensor:
    r"""The naive estimate of :math:`\mathrm{KL}(\pi_\text{old} \,\|\, \pi_\theta)`:
    :math:`\frac1N \sum_t \big(\log\pi_\text{old}(a_t|s_t) - \log\pi_\theta(a_t|s_t)\big)`.

    The actions were drawn from :math:`\pi_\text{old}`, so this is the sample mean of
    :math:`\log(\pi_\text{old}/\pi_\theta)`, whose expectation is the KL: unbiased, but each
    term can be negative, and with few samples the estimate often is.

    Args:
        log_probs: :math:`\log\pi_\theta(a_t|s_t)`, shape ``(N,)``.
        old_log_probs: :math:`\log\pi_\text{old}(a_t|s_t)`, ``(N,)``, the actions drawn from
            :math:`\pi_\text{old}`.

    Returns:
        A scalar tensor (no gradient is needed: PPO uses it to stop the epochs early).

    Example:
        >>> approx_kl(torch.tensor([-1.0, -0.5]), torch.tensor([-0.5, -1.0]))
        tensor(0.)

    """  # noqa: D205
    _same_shape("log_probs", log_probs, old_log_probs=old_log_probs)
    return (torch.as_tensor(old_log_probs, dtype=log_probs.dtype) - log_probs).mean()


def approx_kl_low_variance(log_probs: torch.Tensor, old_log_probs: torch.Tensor) -> torch.Tensor:
    r"""The low-variance estimate of :math:`\mathrm{KL}(\pi_\text{old} \,\|\, \pi_\theta)`:
    :math:`\frac1N \sum_t \big((r_t - 1) - \log r_t\big)` with
    :math:`r_t = \pi_\theta / \pi_\text{old}`.

    :math:`r - 1` has expectation 0 under :math:`\pi_\text{old}`, so adding it to the naive
    :math:`-\log r` keeps the estimate unbiased, and since :math:`\log r \le r - 1` every term
    is :math:`\ge 0` (J. Schulman, "Approximating KL divergence", 2020).

    Args:
        log_probs: :math:`\log\pi_\theta(a_t|s_t)`, shape ``(N,)``.
        old_log_probs: :math:`\log\pi_\text{old}(a_t|s_t)`, ``(N,)``, the actions drawn from
            :math:`\pi_\text{old}`.

    Returns:
        A scalar tensor, :math:`\ge 0`.

    Example:
        >>> approx_kl_low_variance(torch.tensor([-1.0, -0.5]), torch.tensor([-0.5, -1.0]))
        tensor(0.1276)

    """  # noqa: D205
    _same_shape("log_probs", log_probs, old_log_probs=old_log_probs)
    log_ratio = log_probs - torch.as_tensor(old_log_probs, dtype=log_probs.dtype)
    return (torch.expm1(log_ratio) - log_ratio).mean()


def normalize_advantages(advantages: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    r"""Advantages standardised over the whole batch: :math:`(\hat A - \bar A) / (s + \epsilon)`.

    One mean and one standard deviation over every entry (every step of every env, whatever
    the shape), so that the relative sizes across envs and steps survive. Either standard
    deviation will do (:math:`\frac1N` or :math:`\frac1{N-1}`; this one is torch's default,
    the second).

    Args:
        advantages: :math:`\hat A_t`, any shape with at least two entries.
        eps: Added to the standard deviation, so that equal advantages give zeros.

    Returns:
        A tensor of the shape of ``advantages``, mean 0 and standard deviation about 1.

    Example:
        >>> normalize_advantages(torch.tensor([[1.0, 3.0], [5.0, 7.0]]))
        tensor([[-1.1619, -0.3873],
                [ 0.3873,  1.1619]])

    """
    advantages = torch.as_tensor(advantages)
    if advantages.numel() < 2:
        raise ValueError(f"normalize_advantages needs at least 2 entries; got shape "
                         f"{tuple(advantages.shape)}")
    return (advantages - advantages.mean()) / (advantages.std() + eps)


def minibatch_indices(n: int, n_minibatches: int, rng: np.random.Generator) -> list[np.ndarray]:
    r"""One epoch's minibatches: a random permutation of ``0..n-1`` cut into equal parts.

    Every sample is used exactly once per epoch, in a fresh order each epoch, so that
    consecutive (correlated) steps of one env rarely share a minibatch.

    Args:
        n: Samples in the rollout (``n_steps * n_envs``).
        n_minibatches: Parts; must divide ``n``.
        rng: The source of the permutation.

    Returns:
        ``n_minibatches`` integer arrays of ``n // n_minibatches`` indices each.

    Example:
        >>> [len(part) for part in minibatch_indices(8, 4, np.random.default_rng(0))]
        [2, 2, 2, 2]

    """
    if n < 1 or n_minibatches < 1 or n % n_minibatches:
        raise ValueError(f"n_minibatches must be >= 1 and divide n; got n={n}, "
                         f"n_minibatches={n_minibatches}")
    return list(np.split(rng.permutation(n), n_minibatches))
