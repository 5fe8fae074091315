"""Correct implementations of notebook 05's ``gae`` and ``a2c_loss``, written in many ways.

``actor_critic.a2c_learns`` runs rlkit's A2C trainer on a student's ``gae`` and ``a2c_loss``;
it must pass every correct pair, not only the reference. A correct GAE written another way
(a double loop, the explicit weighted sum of TD errors, float32, torch, the lambda-return
recursion) gives the same advantages up to rounding, and rounding is enough to change a run.
:func:`agents` pairs more than 30 such GAEs with the losses of :data:`LOSSES`; each function
passes its own check (``tests/test_learning_checks.py`` asserts it).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch


def _ended(terminated, truncated) -> np.ndarray:
    return np.asarray(terminated, dtype=bool) | np.asarray(truncated, dtype=bool)


def _deltas(rewards, values, next_values, terminated, gamma, dtype=np.float64) -> np.ndarray:
    keep = 1.0 - np.asarray(terminated, dtype=dtype)
    return (np.asarray(rewards, dtype=dtype) + dtype(gamma) * keep * np.asarray(next_values, dtype)
            - np.asarray(values, dtype=dtype))


def gae_backward_where(rewards, values, next_values, terminated, truncated, gamma, lam):
    deltas = _deltas(rewards, values, next_values, terminated, gamma)
    ended = _ended(terminated, truncated)
    out, running = np.zeros_like(deltas), np.zeros(deltas.shape[1:])
    for t in reversed(range(len(deltas))):
        running = deltas[t] + gamma * lam * np.where(ended[t], 0.0, running)
        out[t] = running
    return out


def gae_backward_mask(rewards, values, next_values, terminated, truncated, gamma, lam):
    deltas = _deltas(rewards, values, next_values, terminated, gamma)
    keep = 1.0 - _ended(terminated, truncated)
    out = np.zeros_like(deltas)
    last = np.zeros(deltas.shape[1:])
    for t in range(len(deltas) - 1, -1, -1):
        last = deltas[t] + gamma * lam * keep[t] * last
        out[t] = last
    return out


def gae_double_loop(rewards, values, next_values, terminated, truncated, gamma, lam):
    r, v, nv = (np.atleast_1d(np.asarray(x, dtype=float)) for x in (rewards, values, next_values))
    term, ended = np.asarray(terminated, dtype=bool), _ended(terminated, truncated)
    out = np.zeros_like(r)
    for index in np.ndindex(r.shape[1:]):
        running = 0.0
        for t in range(len(r) - 1, -1, -1):
            at = (t, *index)
            delta = r[at] + (0.0 if term[at] else gamma * nv[at]) - v[at]
            running = delta + (0.0 if ended[at] else gamma * lam * running)
            out[at] = running
    return out


def gae_explicit_sum(rewards, values, next_values, terminated, truncated, gamma, lam):
    """sum_k (gamma lam)^k delta_{t+k}, the sum cut at the episode's end: O(T^2)."""
    deltas = _deltas(rewards, values, next_values, terminated, gamma)
    ended = _ended(terminated, truncated)
    out = np.zeros_like(deltas)
    for t in range(len(deltas)):
        weight = np.ones(deltas.shape[1:])
        alive = np.ones(deltas.shape[1:], dtype=bool)
        for k in range(t, len(deltas)):
            out[t] += np.where(alive, weight * deltas[k], 0.0)
            alive &= ~ended[k]
            weight = weight * gamma * lam
    return out


def gae_lambda_return(rewards, values, next_values, terminated, truncated, gamma, lam):
    """G^lambda_t = r_t + gamma [(1 - lam) V(s_{t+1}) + lam G^lambda_{t+1}], then minus V."""
    r, v, nv = (np.asarray(x, dtype=float) for x in (rewards, values, next_values))
    term, trunc = np.asarray(terminated, dtype=bool), np.asarray(truncated, dtype=bool)
    g = np.zeros_like(r)
    for t in reversed(range(len(r))):
        last = (t == len(r) - 1) | trunc[t]
        following = nv[t] if t == len(r) - 1 else np.where(last, nv[t], g[t + 1])
        mix = np.where(last, nv[t], (1 - lam) * nv[t] + lam * following)
        g[t] = r[t] + gamma * np.where(term[t], 0.0, mix)
    return g - v


def gae_float32(rewards, values, next_values, terminated, truncated, gamma, lam):
    deltas = _deltas(rewards, values, next_values, terminated, gamma, np.float32)
    keep = (1.0 - _ended(terminated, truncated)).astype(np.float32)
    out = np.zeros_like(deltas)
    running = np.zeros(deltas.shape[1:], dtype=np.float32)
    for t in reversed(range(len(deltas))):
        running = deltas[t] + np.float32(gamma * lam) * keep[t] * running
        out[t] = running
    return out


def gae_torch(rewards, values, next_values, terminated, truncated, gamma, lam):
    r, v, nv = (torch.as_tensor(np.asarray(x, dtype=float)) for x in (rewards, values,
                                                                         next_values))
    term = torch.as_tensor(np.asarray(terminated, dtype=bool))
    ended = torch.as_tensor(_ended(terminated, truncated))
    deltas = r + gamma * torch.where(term, 0.0, nv) - v
    out = torch.zeros_like(deltas)
    running = torch.zeros_like(deltas[0])
    for t in range(len(deltas) - 1, -1, -1):
        running = deltas[t] + gamma * lam * (~ended[t]) * running
        out[t] = running
    return out.numpy()


def gae_reversed_arrays(rewards, values, next_values, terminated, truncated, gamma, lam):
    """Flip time, run forwards, flip back."""
    deltas = _deltas(rewards, values, next_values, terminated, gamma)[::-1]
    keep = (1.0 - _ended(terminated, truncated))[::-1]
    out = []
    running = np.zeros(deltas.shape[1:])
    for delta, k in zip(deltas, keep, strict=True):
        running = delta + gamma * lam * k * running
        out.append(running)
    return np.array(out[::-1])


def gae_list_append(rewards, values, next_values, terminated, truncated, gamma, lam):
    deltas = _deltas(rewards, values, next_values, terminated, gamma)
    ended = _ended(terminated, truncated)
    collected = []
    running = 0.0 * deltas[-1]
    for t in range(len(deltas) - 1, -1, -1):
        running = deltas[t] + (gamma * lam) * running * (1 - ended[t])
        collected.insert(0, running)
    return np.stack(collected)


#: each returns the GAE(lambda) advantages, the sum cut at episode ends
GAES: tuple[Callable, ...] = (gae_backward_where, gae_backward_mask, gae_double_loop,
                              gae_explicit_sum, gae_lambda_return, gae_float32, gae_torch,
                              gae_reversed_arrays, gae_list_append)


def loss_mean(log_probs, advantages, values, returns, entropy, value_coef, entropy_coef):
    return (-(log_probs * advantages.detach()).mean()
            + value_coef * ((returns.detach() - values) ** 2).mean()
            - entropy_coef * entropy.mean())


def loss_mse_module(log_probs, advantages, values, returns, entropy, value_coef, entropy_coef):
    critic = torch.nn.functional.mse_loss(values, returns.detach())
    return -(advantages.detach() * log_probs).mean() + value_coef * critic \
        - entropy_coef * entropy.mean()


def loss_sum_over_n(log_probs, advantages, values, returns, entropy, value_coef, entropy_coef):
    n = log_probs.shape[0]
    total = (-(log_probs * advantages.detach()).sum()
             + value_coef * ((values - returns.detach()) ** 2).sum()
             - entropy_coef * entropy.sum())
    return total / n


def loss_float64(log_probs, advantages, values, returns, entropy, value_coef, entropy_coef):
    lp, adv, v, g, h = (x.double() for x in (log_probs, advantages.detach(), values,
                                             returns.detach(), entropy))
    return (-(lp * adv).mean() + value_coef * ((g - v) ** 2).mean()
            - entropy_coef * h.mean()).to(log_probs.dtype)


def loss_no_grad_constants(log_probs, advantages, values, returns, entropy, value_coef,
                           entropy_coef):
    with torch.no_grad():
        adv, target = advantages.clone(), returns.clone()
    return (torch.mean(-log_probs * adv) + value_coef * torch.mean(torch.square(target - values))
            - entropy_coef * torch.mean(entropy))


def loss_dot(log_probs, advantages, values, returns, entropy, value_coef, entropy_coef):
    n = len(log_probs)
    diff = returns.detach() - values
    return (-torch.dot(log_probs, advantages.detach()) + value_coef * torch.dot(diff, diff)
            - entropy_coef * entropy.sum()) / n


LOSSES: tuple[Callable, ...] = (loss_mean, loss_mse_module, loss_sum_over_n, loss_float64,
                                loss_no_grad_constants, loss_dot)


def agents() -> list[dict[str, Callable]]:
    """36 distinct pairs: every GAE with four of the losses, each loss with six GAEs."""
    return [{"gae": GAES[k % len(GAES)], "a2c_loss": LOSSES[(k % len(GAES) + k // len(GAES))
                                                          % len(LOSSES)]} for k in range(36)]


def agent_name(agent: dict[str, Callable]) -> str:
    """A readable id of an agent."""
    return f"{agent['gae'].__name__}/{agent['a2c_loss'].__name__}"
