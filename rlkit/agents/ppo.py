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

The settings (:class:`~rlkit.agents.ppo_config.PPOConfig`, ``PRESETS``, ``default_config``)
and the history ``train`` returns (``PPOHistory``) are in :mod:`rlkit.agents.ppo_config`,
re-exported here; this module reads math pieces, then :func:`train` in Spinning Up's steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from rlkit.advantages import critic_targets, gae
from rlkit.agents.ppo_config import PRESETS, PPOConfig, PPOHistory, default_config
from rlkit.agents.reinforce import value_loss
from rlkit.evaluation import EnvLike
from rlkit.nets import gaussian_log_prob, require_same_shape, torch_threads
from rlkit.rollouts import (
    EVAL_SEED_OFFSET,
    Rollout,
    log_probs_and_entropy,
    rollout_result,
    run_and_finish,
    set_up,
    to_flat,
)
from rlkit.schedules import linear_schedule

__all__ = [
    "EVAL_SEED_OFFSET",
    "PRESETS",
    "PPOConfig",
    "PPOHistory",
    "approx_kl",
    "approx_kl_low_variance",
    "clipped_value_loss",
    "default_config",
    "explained_variance",
    "importance_ratio",
    "minibatch_indices",
    "normalize_advantages",
    "ppo_clip_loss",
    "ppo_loss",
    "train",
]


# --------------------------------------------------------------------------------------------
# Math pieces (notebook 06 re-implements these with the same signatures)
# --------------------------------------------------------------------------------------------


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
    require_same_shape("log_probs", log_probs, old_log_probs=old_log_probs)
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
    require_same_shape("ratio", ratio, advantages=advantages)
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
    require_same_shape("values", values, old_values=old_values, returns=returns)
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
    require_same_shape("log_probs", log_probs, old_log_probs=old_log_probs)
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
    require_same_shape("log_probs", log_probs, old_log_probs=old_log_probs)
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



# --------------------------------------------------------------------------------------------
# Training (settings and history: rlkit.agents.ppo_config)
# --------------------------------------------------------------------------------------------


def explained_variance(values: np.ndarray, returns: np.ndarray) -> float:
    r""":math:`1 - \mathrm{Var}(G - V) / \mathrm{Var}(G)`, NaN when the targets do not vary.

    Example:
        >>> explained_variance(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))
        0.8571428571428571

    """
    spread = float(np.var(returns))
    return float("nan") if spread == 0 else 1.0 - float(np.var(returns - values)) / spread


def train(
    config: PPOConfig = PPOConfig(),  # noqa: B008 (frozen, so a safe default)
    *,
    seed: int,
    env: EnvLike | None = None,
    progress: bool = False,
    gae_fn: Callable[..., Any] = gae,
    ratio_fn: Callable[..., torch.Tensor] = importance_ratio,
    clip_loss_fn: Callable[..., torch.Tensor] = ppo_clip_loss,
    value_loss_fn: Callable[..., torch.Tensor] = clipped_value_loss,
    loss_fn: Callable[..., torch.Tensor] = ppo_loss,
    kl_fn: Callable[..., torch.Tensor] = approx_kl_low_variance,
    normalize_fn: Callable[..., torch.Tensor] = normalize_advantages,
    minibatch_fn: Callable[..., Any] = minibatch_indices,
    log_prob_fn: Callable[..., torch.Tensor] = gaussian_log_prob,
) -> PPOHistory:
    """Train an actor and a critic with PPO-Clip and return the history.

    Each ``*_fn`` replaces one math piece (a student's, with the same signature).

    Args:
        config: Hyperparameters.
        seed: Seeds torch (initial weights), the action sampler, the minibatch permutations,
            the envs' first resets (env ``i`` with ``seed + i``) and the evaluations: same
            seed, same history.
        env: An env id or factory to use instead of ``config.env_id``.
        progress: Show a tqdm progress bar over env steps.
        gae_fn: :func:`~rlkit.advantages.gae`; float64 arrays ``(n_steps, n_envs)`` in.
        ratio_fn: :func:`importance_ratio`; float32 tensors ``(minibatch,)`` in.
        clip_loss_fn: :func:`ppo_clip_loss`.
        value_loss_fn: :func:`clipped_value_loss` (``clip_eps`` is ``config.clip_value``).
        loss_fn: :func:`ppo_loss`.
        kl_fn: :func:`approx_kl_low_variance` (or :func:`approx_kl`): the diagnostic and
            ``target_kl``'s early stopping.
        normalize_fn: :func:`normalize_advantages`, on each minibatch's advantages.
        minibatch_fn: :func:`minibatch_indices`, called once per epoch with the seeded
            numpy generator of the permutations.
        log_prob_fn: :func:`~rlkit.nets.gaussian_log_prob`; used for Box actions (Discrete
            ones take ``torch.distributions.Categorical``'s log-prob).

    Returns:
        A :class:`PPOHistory`.

    Example:
        >>> config = PPOConfig(total_steps=512, eval_interval=256, eval_episodes=2)
        >>> history = train(config, seed=0)
        >>> len(history.losses), [e.step for e in history.evaluations]  # 256 steps per update
        (2, [256, 512])

    """
    pieces = _Pieces(gae_fn, ratio_fn, clip_loss_fn, value_loss_fn, loss_fn, kl_fn,
                     normalize_fn, minibatch_fn, log_prob_fn)
    with torch_threads(config.torch_threads):
        return _train(config, seed, pieces, env, progress)


@dataclass(frozen=True)
class _Pieces:
    """The math pieces :func:`train` runs: rlkit's or a student's."""

    gae: Callable[..., Any]
    ratio: Callable[..., torch.Tensor]
    clip_loss: Callable[..., torch.Tensor]
    value_loss: Callable[..., torch.Tensor]
    loss: Callable[..., torch.Tensor]
    kl: Callable[..., torch.Tensor]
    normalize: Callable[..., torch.Tensor]
    minibatches: Callable[..., Any]
    log_prob: Callable[..., torch.Tensor]


def _minibatches(minibatch_fn: Callable[..., Any], n: int, n_minibatches: int,
                 rng: np.random.Generator) -> list[np.ndarray]:
    """One epoch's minibatches from ``minibatch_fn``, as index arrays, or a clear error."""
    try:
        parts = [np.asarray(part, dtype=np.int64).ravel() for part in
                 minibatch_fn(n, n_minibatches, rng)]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"minibatch_fn must return a list of integer index arrays: "
                         f"{exc}") from exc
    if len(parts) != n_minibatches or any(p.size == 0 or p.min() < 0 or p.max() >= n
                                          for p in parts):
        raise ValueError(f"minibatch_fn must return {n_minibatches} non-empty index arrays "
                         f"in 0..{n - 1}; got sizes {[p.size for p in parts]}")
    return parts


def _scalar(result: Any, name: str) -> torch.Tensor:
    """A piece's loss as a 0-dim tensor, or a clear error."""
    if not torch.is_tensor(result) or result.ndim != 0:
        raise ValueError(f"{name} must return a scalar (0-dim) tensor; got {result!r}")
    return result


def _train(
    config: PPOConfig, seed: int, pieces: _Pieces, env_like: EnvLike | None, progress: bool
) -> PPOHistory:
    # 1-4. Seed, env, model (the actor pi_theta, the critic V_phi), buffer (one rollout of
    # n_steps x n_envs): rlkit.rollouts.set_up; and a numpy generator for the minibatches.
    setup = set_up(config, seed, env_like, "PPO")
    policy, critic = setup.policy, setup.critic
    permutations = np.random.default_rng(seed)
    shape = (config.n_steps, config.n_envs)

    # 5. Losses: what stays fixed during an update is computed once, with pi_old and V_old.
    def rollout_constants(rollout: Rollout) -> tuple[dict[str, torch.Tensor], float]:
        obs, actions = rollout.flat_obs(), rollout.flat_actions()
        with torch.no_grad():
            old_log_probs, _ = log_probs_and_entropy(policy, obs, actions, pieces.log_prob)
            values = critic(obs).double().numpy().reshape(shape)
            next_values = critic(rollout.flat_obs(next_obs=True)).double().numpy().reshape(shape)
        advantages = rollout_result(
            pieces.gae(
                rollout.rewards * config.reward_scale, values, next_values, rollout.terminated,
                rollout.truncated, config.gamma, config.gae_lambda,
            ),  # fmt: skip
            "gae_fn", shape,
        )  # fmt: skip
        returns = critic_targets(advantages, values)
        constants = {"obs": obs, "actions": actions, "old_log_probs": old_log_probs,
                     "old_values": to_flat(values), "advantages": to_flat(advantages),
                     "returns": to_flat(returns)}  # fmt: skip
        return constants, explained_variance(values, returns)

    def minibatch_loss(batch: dict[str, torch.Tensor], clip_eps: float) -> dict[str, Any]:
        log_probs, entropy = log_probs_and_entropy(
            policy, batch["obs"], batch["actions"], pieces.log_prob
        )
        ratio = pieces.ratio(log_probs, batch["old_log_probs"])  # r_t(theta)
        if not torch.is_tensor(ratio) or ratio.shape != log_probs.shape:
            raise ValueError(f"ratio_fn must return a tensor of shape {tuple(log_probs.shape)};"
                             f" got {getattr(ratio, 'shape', type(ratio).__name__)}")
        advantages = batch["advantages"]
        if config.normalize_advantages:  # per minibatch, as SB3 and CleanRL do
            normalized = pieces.normalize(advantages)
            if not torch.is_tensor(normalized) or normalized.shape != advantages.shape:
                raise ValueError(
                    f"normalize_fn must return a tensor of shape {tuple(advantages.shape)}; "
                    f"got {getattr(normalized, 'shape', type(normalized).__name__)}")
            advantages = normalized
        clip_loss = _scalar(pieces.clip_loss(ratio, advantages, clip_eps), "clip_loss_fn")
        critic_loss = _scalar(
            pieces.value_loss(critic(batch["obs"]), batch["old_values"], batch["returns"],
                              config.clip_value),
            "value_loss_fn",
        )  # fmt: skip
        loss = _scalar(
            pieces.loss(clip_loss, critic_loss, entropy, config.value_coef, config.entropy_coef),
            "loss_fn",
        )  # fmt: skip
        clipped = ((ratio.detach() - 1.0).abs() > clip_eps).float().mean()
        return {"loss": loss, "policy_loss": clip_loss, "value_loss": critic_loss,
                "entropy": entropy.mean(), "clip_fraction": clipped, "log_probs": log_probs}

    # 6. Optimiser: Adam over both networks; its step size and the clip range epsilon decay
    # linearly over the budget.
    parameters = [*policy.parameters(), *critic.parameters()]
    # fused: one kernel for all the parameters (a third faster than the default per step).
    optimizer = torch.optim.Adam(parameters, lr=config.learning_rate, eps=1e-5, fused=True)

    def decaying(start: float, end: float | None) -> Callable[[int], float]:
        return linear_schedule(start, start if end is None else end, config.total_steps)

    learning_rate_at = decaying(config.learning_rate, config.final_learning_rate)
    clip_eps_at = decaying(config.clip_eps, config.final_clip_eps)

    # 7. Update: n_epochs passes of minibatch steps over the rollout, stopped early once
    # pi has moved more than target_kl away from pi_old.
    logs: dict[str, list[float]] = {name: [] for name in (
        "losses", "policy_losses", "value_losses", "entropies", "approx_kls", "clip_fractions",
        "explained_variances", "epochs")}  # fmt: skip

    def update(rollout: Rollout, step: int) -> None:
        done_before = step - config.n_envs * config.n_steps  # the schedules' step: pi_old's
        for group in optimizer.param_groups:
            group["lr"] = learning_rate_at(done_before)
        clip_eps = max(clip_eps_at(done_before), 1e-8)  # L^CLIP needs eps > 0
        constants, fit = rollout_constants(rollout)
        n = config.n_envs * config.n_steps
        sums = dict.fromkeys(("loss", "policy_loss", "value_loss", "entropy", "clip_fraction"),
                             0.0)
        steps_taken, stopped = 0, False
        for _ in range(config.n_epochs):
            for indices in _minibatches(pieces.minibatches, n, config.n_minibatches,
                                        permutations):
                batch = {name: values[indices] for name, values in constants.items()}
                result = minibatch_loss(batch, clip_eps)
                if config.target_kl is not None:  # TRAP: before the step, or it overshoots
                    kl = float(pieces.kl(result["log_probs"].detach(), batch["old_log_probs"]))
                    stopped = kl > config.target_kl
                    if stopped:
                        break
                optimizer.zero_grad()
                result["loss"].backward()
                if config.max_grad_norm is not None:
                    nn.utils.clip_grad_norm_(parameters, config.max_grad_norm)
                optimizer.step()
                steps_taken += 1
                for name in sums:
                    sums[name] += float(result[name].detach())
            if stopped:  # no more epochs either
                break
        with torch.no_grad():
            log_probs, _ = log_probs_and_entropy(
                policy, constants["obs"], constants["actions"], pieces.log_prob
            )
            kl = float(pieces.kl(log_probs, constants["old_log_probs"]))
        taken = max(steps_taken, 1)
        for log, name in (("losses", "loss"), ("policy_losses", "policy_loss"),
                          ("value_losses", "value_loss"), ("entropies", "entropy"),
                          ("clip_fractions", "clip_fraction")):  # fmt: skip
            logs[log].append(sums[name] / taken)
        logs["approx_kls"].append(kl)
        logs["explained_variances"].append(fit)
        logs["epochs"].append(steps_taken / config.n_minibatches)

    # 8. Loop: collect, update, evaluate (rlkit.rollouts.run_and_finish).
    return PPOHistory(
        **run_and_finish(setup, config, update, progress),
        **{name: np.array(values, dtype=np.float64) for name, values in logs.items()},
        config=config,
    )
