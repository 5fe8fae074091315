"""Correct implementations of notebook 05's graded functions, written differently, get full marks.

Loops and vectorised code, float32 and float64, torch autograd, lists instead of arrays, a
recursion: each variant of ``action_values`` and of the three estimators is graded as the
grader does (visible and hidden cases) on two grading seeds.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
import torch

from autograder.judge import get_spec, run_check

# --- action_values


def _policy(theta):
    z = np.asarray(theta, dtype=float)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def av_plain_loops(mdp, theta, horizon):
    pi = _policy(theta)
    n_s, n_a = mdp.n_states, mdp.n_actions
    q = [[[0.0] * n_a for _ in range(n_s)] for _ in range(horizon)]
    v_next = [0.0] * n_s
    for h in range(horizon - 1, -1, -1):
        for s in range(n_s):
            if mdp.terminal[s]:
                continue
            for a in range(n_a):
                total = 0.0
                for s2 in range(n_s):
                    future = 0.0 if mdp.terminal[s2] else v_next[s2]
                    total += mdp.P[s, a, s2] * (mdp.R[s, a, s2] + future)
                q[h][s][a] = total
        v_next = [sum(pi[s][a] * q[h][s][a] for a in range(n_a)) for s in range(n_s)]
    return q  # nested lists


def av_float32(mdp, theta, horizon):
    pi = _policy(theta).astype(np.float32)
    live = (~mdp.terminal).astype(np.float32)
    p, r = mdp.P.astype(np.float32), mdp.R.astype(np.float32)
    q = np.zeros((horizon, mdp.n_states, mdp.n_actions), dtype=np.float32)
    v = np.zeros(mdp.n_states, dtype=np.float32)
    for h in reversed(range(horizon)):
        q[h] = np.einsum("sat,sat->sa", p, r + (live * v)[None, None]) * live[:, None]
        v = np.einsum("sa,sa->s", pi, q[h])
    return q


def av_recursive(mdp, theta, horizon):
    pi = _policy(theta)

    @cache
    def value(h, s):
        if h == horizon or mdp.terminal[s]:
            return 0.0
        return float(sum(pi[s, a] * quality(h, s, a) for a in range(mdp.n_actions)))

    @cache
    def quality(h, s, a):
        if mdp.terminal[s]:
            return 0.0
        return float(sum(mdp.P[s, a, t] * (mdp.R[s, a, t] + value(h + 1, t))
                         for t in range(mdp.n_states) if mdp.P[s, a, t] > 0))

    return np.array([[[quality(h, s, a) for a in range(mdp.n_actions)]
                      for s in range(mdp.n_states)] for h in range(horizon)])


def av_torch(mdp, theta, horizon):
    pi = torch.softmax(torch.as_tensor(theta, dtype=torch.float32), dim=1)
    p = torch.as_tensor(mdp.P, dtype=torch.float32)
    r = torch.as_tensor(mdp.R, dtype=torch.float32)
    live = torch.as_tensor(~mdp.terminal, dtype=torch.float32)
    rows, v = [], torch.zeros(mdp.n_states)
    for _ in range(horizon):
        q = (p * (r + live * v)).sum(dim=2) * live[:, None]
        rows.append(q)
        v = (pi * q).sum(dim=1)
    return torch.stack(rows[::-1])


# --- the estimators


def _steps(episodes):
    """(episode index, h, s_h, a_h, r_h, s_{h+1}, last) of every step."""
    for i, ep in enumerate(episodes):
        n = len(ep.actions)
        for h in range(n):
            yield i, h, int(ep.states[h]), int(ep.actions[h]), float(ep.rewards[h]), \
                int(ep.states[h + 1]), h == n - 1


def _vectorised(theta, episodes, weight):
    """The score sum with np.add.at over all steps, ``weight(step)`` per step."""
    theta = np.asarray(theta, dtype=float)
    pi = _policy(theta)
    steps = list(_steps(episodes))
    s = np.array([step[2] for step in steps], dtype=int)
    a = np.array([step[3] for step in steps], dtype=int)
    w = np.array([weight(step) for step in steps], dtype=float)
    grad = np.zeros_like(theta)
    np.add.at(grad, (s, a), w)
    np.add.at(grad, s, -w[:, None] * pi[s])
    return grad / len(episodes)


def _torch_autograd(theta, episodes, weight, dtype=torch.float64):
    """Autograd of the surrogate sum_h ln pi(a_h|s_h) Psi_h / N (a loss of the weights)."""
    logits = torch.tensor(np.asarray(theta), dtype=dtype, requires_grad=True)
    log_pi = torch.log_softmax(logits, dim=1)
    steps = list(_steps(episodes))
    surrogate = sum(log_pi[st[2], st[3]] * weight(st) for st in steps) / len(episodes)
    (grad,) = torch.autograd.grad(surrogate, logits)
    return grad.numpy()


def _float32_loop(theta, episodes, weight):
    theta = np.asarray(theta, dtype=np.float32)
    grad = np.zeros(theta.shape, dtype=np.float32)
    for step in _steps(episodes):
        s, a = step[2], step[3]
        e = np.exp(theta[s] - theta[s].max())
        score = -e / e.sum()
        score[a] += 1.0
        grad[s] += score * np.float32(weight(step))
    return (grad / len(episodes)).tolist()  # a list of lists, float32 sums


def _q_weight(q_values):
    return lambda st: q_values[st[1], st[2], st[3]]


def _a_weight(q_values, values):
    return lambda st: q_values[st[1], st[2], st[3]] - values[st[1], st[2]]


def _td_weight(values):
    return lambda st: st[4] + (0.0 if st[6] else values[st[1] + 1, st[5]]) - values[st[1], st[2]]


def _td_arrays(theta, episodes, values):
    """delta = r + [V_{h+1}(s_{h+1})..., 0] - V_h(s_h) per episode, the score by its formula."""
    theta = np.asarray(theta, dtype=float)
    grad = np.zeros_like(theta)
    for ep in episodes:
        n = len(ep.actions)
        h = np.arange(n)
        after = np.append(values[h[1:], ep.states[1:n]], 0.0)
        delta = np.asarray(ep.rewards) + after - values[h, ep.states[:n]]
        for t in range(n):
            s = ep.states[t]
            grad[s] += (np.eye(theta.shape[1])[ep.actions[t]] - _policy(theta)[s]) * delta[t]
    return grad / len(episodes)


VARIANTS = {
    "actor_critic.action_values": [av_plain_loops, av_float32, av_recursive, av_torch],
    "actor_critic.action_value_gradient": [
        lambda t, e, q: _vectorised(t, e, _q_weight(q)),
        lambda t, e, q: _torch_autograd(t, e, _q_weight(q)),
        lambda t, e, q: _float32_loop(t, e, _q_weight(q)),
    ],
    "actor_critic.advantage_gradient": [
        lambda t, e, q, v: _vectorised(t, e, _a_weight(q, v)),
        lambda t, e, q, v: _torch_autograd(t, e, _a_weight(q, v)),
        lambda t, e, q, v: _float32_loop(t, e, _a_weight(q, v)),
    ],
    "actor_critic.td_residual_gradient": [
        lambda t, e, v: _vectorised(t, e, _td_weight(v)),
        lambda t, e, v: _torch_autograd(t, e, _td_weight(v)),
        lambda t, e, v: _float32_loop(t, e, _td_weight(v)),
        _td_arrays,
    ],
}
CASES = [(name, i, fn) for name, fns in VARIANTS.items() for i, fn in enumerate(fns)]


@pytest.mark.parametrize(("name", "index", "fn"), CASES,
                         ids=[f"{n.split('.')[1]}-{i}" for n, i, _ in CASES])
def test_a_correct_variant_gets_full_marks(name, index, fn):
    spec = get_spec(name)
    for seed in (0, 1):
        report = run_check(spec, fn, grading=True, seed=seed)
        assert report.passed, f"seed {seed}: {report.summary()}"
