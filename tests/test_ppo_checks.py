"""Notebook 06's checks: the reference on 20 grader seeds in a row, and correct solutions written
differently from it (loops, the lecture's own piecewise form, numpy, floats, other std)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from autograder.judge.core import run_check
from autograder.judge.specs import ppo, ppo_clip, ppo_update

EXACT = [ppo.ADVANTAGE_TABLE, ppo.STATE_DISTRIBUTION, ppo.PERFORMANCE_DIFFERENCE, ppo.SURROGATE,
         ppo_clip.IMPORTANCE_RATIO, ppo_clip.PPO_CLIP_LOSS, ppo_clip.CLIPPED_VALUE_LOSS,
         ppo_clip.PPO_LOSS, ppo_update.APPROX_KL, ppo_update.APPROX_KL_LOW_VARIANCE,
         ppo_update.NORMALIZE_ADVANTAGES, ppo_update.MINIBATCH_INDICES]


@pytest.mark.parametrize("spec", EXACT, ids=lambda s: s.name)
def test_the_reference_passes_20_grader_seeds_in_a_row(spec):
    for seed in range(20):
        report = run_check(spec, spec.reference, grading=True, seed=seed)
        assert report.passed, f"seed {seed}: {report.summary()}"


# --- the exact part, with loops


def _policy(theta):
    theta = np.asarray(theta, dtype=float)
    return [[np.exp(x) / np.exp(row).sum() for x in row] for row in theta]


def advantage_loops(mdp, theta, horizon):
    pi = _policy(theta)
    n_s, n_a = mdp.n_states, mdp.n_actions
    out = np.zeros((horizon, n_s, n_a))
    v_next = [0.0] * n_s
    for h in range(horizon - 1, -1, -1):
        q = [[0.0] * n_a for _ in range(n_s)]
        for s in range(n_s):
            if mdp.terminal[s]:
                continue
            for a in range(n_a):
                q[s][a] = sum(mdp.P[s, a, t] * (mdp.R[s, a, t] + (0.0 if mdp.terminal[t]
                                                                  else v_next[t]))
                              for t in range(n_s))
        v = [sum(pi[s][a] * q[s][a] for a in range(n_a)) for s in range(n_s)]
        for s in range(n_s):
            for a in range(n_a):
                out[h, s, a] = q[s][a] - v[s]
        v_next = v
    return out


def state_distribution_loops(mdp, theta, horizon):
    pi = _policy(theta)
    rows = []
    d = [0.0 if mdp.terminal[s] else float(mdp.mu[s]) for s in range(mdp.n_states)]
    for _ in range(horizon):
        rows.append(d)
        nxt = [0.0] * mdp.n_states
        for s in range(mdp.n_states):
            for a in range(mdp.n_actions):
                for t in range(mdp.n_states):
                    if not mdp.terminal[t]:
                        nxt[t] += d[s] * pi[s][a] * mdp.P[s, a, t]
        d = nxt
    return rows  # a list of lists: arrays are not required


def performance_difference_loops(mdp, theta, theta_old, horizon):
    d, adv, pi = state_distribution_loops(mdp, theta, horizon), advantage_loops(
        mdp, theta_old, horizon), _policy(theta)
    return sum(d[h][s] * pi[s][a] * adv[h, s, a] for h in range(horizon)
               for s in range(mdp.n_states) for a in range(mdp.n_actions))


def surrogate_log_space(mdp, theta, theta_old, horizon):
    old_log = torch.log_softmax(torch.as_tensor(theta_old, dtype=torch.float32), dim=-1)
    ratio = torch.exp(torch.log_softmax(theta.float(), dim=-1) - old_log)
    d = torch.tensor(state_distribution_loops(mdp, theta_old, horizon), dtype=torch.float32)
    adv = torch.tensor(advantage_loops(mdp, theta_old, horizon), dtype=torch.float32)
    total = torch.zeros((), dtype=torch.float32)
    for h in range(horizon):
        total = total + (d[h][:, None] * old_log.exp() * ratio * adv[h]).sum()
    return total


# --- the PPO pieces, written otherwise


def ratio_method(log_probs, old_log_probs):
    return (log_probs - old_log_probs.detach()).exp()


def clip_lecture_form(ratio, advantages, clip_eps):
    """The lecture's min(r A, g(eps, A)), g = (1 + eps) A for A >= 0, (1 - eps) A below."""
    a = advantages.detach()
    g = torch.where(a >= 0, (1 + clip_eps) * a, (1 - clip_eps) * a)
    return -torch.minimum(ratio * a, g).mean()


def value_loss_maximum(values, old_values, returns, clip_eps):
    old_values, returns = old_values.detach(), returns.detach()
    error = (values - returns) ** 2
    if clip_eps is None:
        return error.sum() / len(values)
    moved = (values - old_values).clamp(min=-clip_eps, max=clip_eps)
    return torch.maximum(error, (old_values + moved - returns) ** 2).mean()


def total_loss_stacked(clip_loss, critic_loss, entropy, value_coef, entropy_coef):
    return torch.stack([clip_loss, value_coef * critic_loss, -entropy_coef * entropy.mean()]).sum()


def kl_item(log_probs, old_log_probs):
    return -(log_probs - old_log_probs).mean().item()


def kl_low_variance_numpy(log_probs, old_log_probs):
    ratio = np.exp(log_probs.numpy() - old_log_probs.numpy())
    return float(np.mean(ratio - 1.0 - np.log(ratio)))


def normalize_numpy_ddof0(advantages, eps=1e-8):
    a = advantages.numpy()
    return torch.from_numpy((a - a.mean()) / (a.std() + eps))  # a tensor, as promised


def minibatches_slices(n, n_minibatches, rng):
    order = rng.choice(n, size=n, replace=False)
    size = n // n_minibatches
    return [order[i * size:(i + 1) * size].tolist() for i in range(n_minibatches)]


VARIANTS = [
    (ppo.ADVANTAGE_TABLE, advantage_loops),
    (ppo.STATE_DISTRIBUTION, state_distribution_loops),
    (ppo.PERFORMANCE_DIFFERENCE, performance_difference_loops),
    (ppo.SURROGATE, surrogate_log_space),
    (ppo_clip.IMPORTANCE_RATIO, ratio_method),
    (ppo_clip.PPO_CLIP_LOSS, clip_lecture_form),
    (ppo_clip.CLIPPED_VALUE_LOSS, value_loss_maximum),
    (ppo_clip.PPO_LOSS, total_loss_stacked),
    (ppo_update.APPROX_KL, kl_item),
    (ppo_update.APPROX_KL_LOW_VARIANCE, kl_low_variance_numpy),
    (ppo_update.NORMALIZE_ADVANTAGES, normalize_numpy_ddof0),
    (ppo_update.MINIBATCH_INDICES, minibatches_slices),
]


@pytest.mark.parametrize(("spec", "fn"), VARIANTS, ids=[f.__name__ for _, f in VARIANTS])
def test_a_correct_solution_written_differently_gets_full_marks(spec, fn):
    for seed in (0, 1, 2):
        report = run_check(spec, fn, grading=True, seed=seed)
        assert report.passed, f"seed {seed}: {report.summary()}"
