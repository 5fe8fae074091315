"""Correct ways of writing notebook 07's reward-model pieces, for the learning check.

``rlhf.reward_model_learns`` trains a reward model with a student's ``ranking_pairs``,
``bradley_terry_loss`` and ``preference_accuracy``; another correct way of ordering the pairs
or of computing the loss (float64 inside, softplus, a loop) is another training run. Every
combination :func:`agents` makes must pass the check (``tests/test_learning_checks.py``), and
every one passes its own function's check.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

# --- ranking_pairs


def pairs_loops(ranking):
    ranking = list(ranking)
    out = []
    for i in range(len(ranking)):
        for j in range(i + 1, len(ranking)):
            out.append((int(ranking[i]), int(ranking[j])))
    return out


def pairs_combinations(ranking):
    return [(int(a), int(b)) for a, b in itertools.combinations(list(ranking), 2)]


def pairs_bottom_up(ranking):
    """The same pairs, the worst response's first (the order is free)."""
    ranking = [int(x) for x in ranking]
    return [(ranking[i], ranking[j]) for j in range(len(ranking) - 1, 0, -1) for i in range(j)]


def pairs_triu(ranking):
    ranking = np.asarray(ranking, dtype=np.int64)
    i, j = np.triu_indices(len(ranking), k=1)
    return list(zip(ranking[i].tolist(), ranking[j].tolist(), strict=True))


def pairs_by_rank(ranking):
    """Through each response's rank: a pair wherever the first is ranked above the second."""
    rank = {int(r): position for position, r in enumerate(ranking)}
    return [(a, b) for a in rank for b in rank if rank[a] < rank[b]]


def pairs_array(ranking):
    """An (N, 2) array instead of a list of tuples."""
    ranking = np.asarray(ranking).reshape(-1)
    k = len(ranking)
    return np.array([[ranking[i], ranking[j]] for i in range(k) for j in range(i + 1, k)],
                    dtype=np.int64).reshape(-1, 2)


PAIRS: tuple[Callable, ...] = (pairs_loops, pairs_combinations, pairs_bottom_up, pairs_triu,
                               pairs_by_rank, pairs_array)

# --- bradley_terry_loss


def bt_logsigmoid(chosen_rewards, rejected_rewards):
    return -F.logsigmoid(chosen_rewards - rejected_rewards).mean()


def bt_softplus(chosen_rewards, rejected_rewards):
    return F.softplus(rejected_rewards - chosen_rewards).mean()


def bt_float64(chosen_rewards, rejected_rewards):
    gap = chosen_rewards.double() - rejected_rewards.double()
    return (-F.logsigmoid(gap)).mean().to(chosen_rewards.dtype)


def bt_logaddexp(chosen_rewards, rejected_rewards):
    gap = chosen_rewards - rejected_rewards
    return torch.logaddexp(torch.zeros_like(gap), -gap).mean()


def bt_bce(chosen_rewards, rejected_rewards):
    """Binary cross-entropy with label 1 on the gap's logit."""
    gap = chosen_rewards - rejected_rewards
    return F.binary_cross_entropy_with_logits(gap, torch.ones_like(gap))


def bt_stable_by_hand(chosen_rewards, rejected_rewards):
    """log(1 + e^-x), written as -x + log(1 + e^x) where x < 0 (no overflow either side).

    (Not ``max(-x, 0) + log1p(e^-|x|)``: autograd's subgradients of max and abs at x = 0 give
    a wrong gradient exactly at a tie, which the first case of the check has.)
    """
    gap = chosen_rewards - rejected_rewards
    # each branch clamped finite, so that where() passes no nan gradient from the other one
    positive = torch.log1p(torch.exp(-gap.clamp(min=0)))
    negative = -gap + torch.log1p(torch.exp(gap.clamp(max=0)))
    return torch.where(gap >= 0, positive, negative).sum() / gap.numel()


LOSSES: tuple[Callable, ...] = (bt_logsigmoid, bt_softplus, bt_float64, bt_logaddexp, bt_bce,
                                bt_stable_by_hand)

# --- preference_accuracy


def acc_tensor(chosen_rewards, rejected_rewards):
    gap = chosen_rewards - rejected_rewards
    return float(((gap > 0).float() + 0.5 * (gap == 0).float()).mean())


def acc_numpy(chosen_rewards, rejected_rewards):
    gap = chosen_rewards.detach().numpy() - rejected_rewards.detach().numpy()
    return float(np.mean(np.where(gap > 0, 1.0, np.where(gap == 0, 0.5, 0.0))))


def acc_sign(chosen_rewards, rejected_rewards):
    return float((torch.sign(chosen_rewards - rejected_rewards).double().mean() + 1) / 2)


def acc_loop(chosen_rewards, rejected_rewards):
    total = 0.0
    for c, r in zip(chosen_rewards.tolist(), rejected_rewards.tolist(), strict=True):
        total += 1.0 if c > r else 0.5 if math.isclose(c, r, rel_tol=0, abs_tol=0) else 0.0
    return total / len(chosen_rewards)


ACCURACIES: tuple[Callable, ...] = (acc_tensor, acc_numpy, acc_sign, acc_loop)

PIECES = {"ranking_pairs": PAIRS, "bradley_terry_loss": LOSSES,
          "preference_accuracy": ACCURACIES}


def agents(n: int = 36) -> list[dict[str, Callable]]:
    """``n`` distinct agents (every pairs x loss combination, the accuracy cycling)."""
    out = []
    for index, (pairs, loss) in enumerate(itertools.product(PAIRS, LOSSES)):
        out.append({"ranking_pairs": pairs, "bradley_terry_loss": loss,
                    "preference_accuracy": ACCURACIES[index % len(ACCURACIES)]})
    return out[:n]


def agent_name(agent: dict[str, Callable]) -> str:
    """A readable id of an agent."""
    return "/".join(fn.__name__ for fn in agent.values())

# --- rebel_loss: the same least squares, written four other ways (each rounds differently
# in float32, so a check that compares a zero gradient with a noise-sized tolerance fails them)


def rebel_scaled_by_eta_squared(log_ratio_a, log_ratio_b, reward_a, reward_b, eta):
    """(d - eta g)^2 / eta^2: the residual in log-ratio units, rescaled."""
    residual = (log_ratio_a - log_ratio_b) - eta * (reward_a - reward_b).detach()
    return (residual**2).mean() / eta**2


def rebel_each_term_divided(log_ratio_a, log_ratio_b, reward_a, reward_b, eta):
    """Each log-ratio divided by eta on its own, the rewards subtracted one by one."""
    residual = log_ratio_a / eta - log_ratio_b / eta - reward_a.detach() + reward_b.detach()
    return (residual**2).mean()


def rebel_times_inverse_sum(log_ratio_a, log_ratio_b, reward_a, reward_b, eta):
    """A product with 1/eta, the square as r * r, the mean as a sum over the count."""
    residual = (log_ratio_a - log_ratio_b) * (1.0 / eta) - (reward_a - reward_b).detach()
    return (residual * residual).sum() / residual.numel()


def rebel_float64(log_ratio_a, log_ratio_b, reward_a, reward_b, eta):
    """Computed in float64, returned in the inputs' dtype."""
    residual = ((log_ratio_a.double() - log_ratio_b.double()) / eta
                - (reward_a.double() - reward_b.double()).detach())
    return (residual**2).mean().to(log_ratio_a.dtype)


REBEL_LOSSES: tuple[Callable, ...] = (rebel_scaled_by_eta_squared, rebel_each_term_divided,
                                      rebel_times_inverse_sum, rebel_float64)
