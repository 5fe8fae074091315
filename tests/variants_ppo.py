"""Correct implementations of notebook 06's PPO pieces, written in many ways.

``ppo.ppo_learns`` runs rlkit's PPO trainer on a student's ratio, L^CLIP, value loss, KL
estimate, advantage normalisation and minibatches; it must pass every correct combination, not
only the reference's. Each variant here gives the same values up to rounding, or (the
minibatches) another correct random stream, and either is enough to change a run.
:func:`agents` combines them into more than 30 agents; each function passes its own check
(``tests/test_learning_checks.py`` asserts it).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

# --- importance_ratio


def ratio_exp(log_probs, old_log_probs):
    return torch.exp(log_probs - old_log_probs.detach())


def ratio_method(log_probs, old_log_probs):
    return (log_probs - old_log_probs.detach()).exp()


def ratio_float64(log_probs, old_log_probs):
    return torch.exp(log_probs.double() - old_log_probs.detach().double()).to(log_probs.dtype)


RATIOS: tuple[Callable, ...] = (ratio_exp, ratio_method, ratio_float64)

# --- ppo_clip_loss


def clip_min(ratio, advantages, clip_eps):
    advantages = advantages.detach()  # a constant of the update (the notebook's text)
    clipped = torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps)
    return -torch.min(ratio * advantages, clipped * advantages).mean()


def clip_lecture_g(ratio, advantages, clip_eps):
    advantages = advantages.detach()
    g = torch.where(advantages >= 0, (1 + clip_eps) * advantages, (1 - clip_eps) * advantages)
    return -torch.minimum(ratio * advantages, g).mean()


def clip_max_of_losses(ratio, advantages, clip_eps):
    advantages = torch.as_tensor(advantages).detach()
    loss_1 = -advantages * ratio
    loss_2 = -advantages * ratio.clamp(1 - clip_eps, 1 + clip_eps)
    return torch.max(loss_1, loss_2).mean()


def clip_sum_over_n(ratio, advantages, clip_eps):
    advantages = advantages.detach().clone()
    clipped = ratio.clip(min=1 - clip_eps, max=1 + clip_eps)
    return -torch.stack([ratio * advantages, clipped * advantages]).min(dim=0).values.sum() \
        / len(ratio)


CLIPS: tuple[Callable, ...] = (clip_min, clip_lecture_g, clip_max_of_losses, clip_sum_over_n)

# --- clipped_value_loss


def value_plain(values, old_values, returns, clip_eps):
    old_values, returns = old_values.detach(), returns.detach()
    if clip_eps is None:
        return ((values - returns) ** 2).mean()
    clipped = old_values + (values - old_values).clamp(-clip_eps, clip_eps)
    return torch.max((values - returns) ** 2, (clipped - returns) ** 2).mean()


def value_mse_module(values, old_values, returns, clip_eps):
    if clip_eps is None:
        return torch.nn.functional.mse_loss(values, returns.detach())
    old_values, returns = old_values.detach(), returns.detach()
    clipped = old_values + torch.clamp(values - old_values, min=-clip_eps, max=clip_eps)
    return torch.maximum((values - returns).square(), (clipped - returns).square()).mean()


VALUES: tuple[Callable, ...] = (value_plain, value_mse_module)

# --- ppo_loss


def total_mean(clip_loss, critic_loss, entropy, value_coef, entropy_coef):
    return clip_loss + value_coef * critic_loss - entropy_coef * entropy.mean()


def total_sum_over_n(clip_loss, critic_loss, entropy, value_coef, entropy_coef):
    bonus = entropy.sum() / entropy.numel()
    return torch.stack([clip_loss, value_coef * critic_loss, -entropy_coef * bonus]).sum()


TOTALS: tuple[Callable, ...] = (total_mean, total_sum_over_n)

# --- approx_kl_low_variance


def kl_expm1(log_probs, old_log_probs):
    log_ratio = log_probs - old_log_probs
    return (torch.expm1(log_ratio) - log_ratio).mean()


def kl_ratio(log_probs, old_log_probs):
    ratio = torch.exp(log_probs - old_log_probs)
    return ((ratio - 1) - torch.log(ratio)).mean().item()


KLS: tuple[Callable, ...] = (kl_expm1, kl_ratio)

# --- normalize_advantages


def norm_ddof1(advantages, eps=1e-8):
    return (advantages - advantages.mean()) / (advantages.std() + eps)


def norm_ddof0(advantages, eps=1e-8):
    return (advantages - advantages.mean()) / (advantages.std(unbiased=False) + eps)


def norm_manual(advantages, eps=1e-8):
    centred = advantages - advantages.sum() / advantages.numel()
    return centred / (torch.sqrt((centred**2).sum() / (advantages.numel() - 1)) + eps)


NORMS: tuple[Callable, ...] = (norm_ddof1, norm_ddof0, norm_manual)

# --- minibatch_indices: other correct random streams


def mb_permutation(n, n_minibatches, rng):
    return np.split(rng.permutation(n), n_minibatches)


def mb_argsort(n, n_minibatches, rng):
    return np.array_split(np.argsort(rng.random(n)), n_minibatches)


def mb_choice(n, n_minibatches, rng):
    order = rng.choice(n, size=n, replace=False)
    size = n // n_minibatches
    return [order[i * size:(i + 1) * size] for i in range(n_minibatches)]


def mb_shuffle(n, n_minibatches, rng):
    order = np.arange(n)
    rng.shuffle(order)
    return list(order.reshape(n_minibatches, -1))


def mb_torch(n, n_minibatches, rng):
    generator = torch.Generator().manual_seed(int(rng.integers(2**31)))
    return list(torch.randperm(n, generator=generator).numpy().reshape(n_minibatches, -1))


MINIBATCHES: tuple[Callable, ...] = (mb_permutation, mb_argsort, mb_choice, mb_shuffle,
                                     mb_torch)

PIECES = {"importance_ratio": RATIOS, "ppo_clip_loss": CLIPS, "clipped_value_loss": VALUES,
          "ppo_loss": TOTALS, "approx_kl_low_variance": KLS, "normalize_advantages": NORMS,
          "minibatch_indices": MINIBATCHES}


def agents(n: int = 36) -> list[dict[str, Callable]]:
    """``n`` distinct agents, spread evenly over every combination of the variants."""
    sizes = [len(variants) for variants in PIECES.values()]
    total = int(np.prod(sizes))
    out = []
    for k in np.linspace(0, total - 1, n).round().astype(int):
        index, agent = int(k), {}
        for (name, variants), size in zip(PIECES.items(), sizes, strict=True):
            agent[name] = variants[index % size]
            index //= size
        out.append(agent)
    return out


def agent_name(agent: dict[str, Callable]) -> str:
    """A readable id of an agent."""
    return "/".join(fn.__name__ for fn in agent.values())
