"""A held-out corpus of plausible buggy implementations, written from the docstrings alone.

None of these is copied from a check's bank (``autograder/checks/*.py``): they are how a student
reading the notebook's text gets each function wrong, written independently to measure how many
bugs the checks catch and how many hints name the mistake (``tests/test_heldout_bugs.py``,
``benchmarks/heldout_hints.py``). ``HELDOUT[spec name]`` lists ``(label, function, keywords)``:
a hint names the bug when it contains every keyword (case-insensitive).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

from rlkit import dp, sampling, weightings
from rlkit.buffers import Batch


def _softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum()


def _score(theta_row, action):
    g = -_softmax(theta_row)
    g[action] += 1.0
    return g


def _rtg(rewards, gamma=1.0):
    out = np.zeros(len(rewards))
    future = 0.0
    for t in reversed(range(len(rewards))):
        future = rewards[t] + gamma * future
        out[t] = future
    return out


def _qv(mdp, values):
    future = np.where(mdp.terminal, 0.0, values)
    return np.einsum("sat,sat->sa", mdp.P, mdp.R + mdp.gamma * future[None, None, :])


# --- 01 MDPs


def run_episode_reset_unseeded(env, policy, seed):
    obs, _ = env.reset()
    rewards = []
    done = False
    while not done:
        obs, r, term, trunc, _ = env.step(int(policy[obs]))
        rewards.append(r)
        done = term or trunc
    return np.array(rewards)


def run_episode_only_terminated(env, policy, seed):
    obs, _ = env.reset(seed=seed)
    rewards = []
    while True:
        obs, r, term, trunc, _ = env.step(int(policy[obs]))
        rewards.append(r)
        if term:
            return np.array(rewards)
        if len(rewards) > 2000:
            return np.array(rewards)


def run_episode_first_obs(env, policy, seed):
    first, _ = env.reset(seed=seed)
    rewards = []
    while True:
        _, r, term, trunc, _ = env.step(int(policy[first]))
        rewards.append(r)
        if term or trunc:
            return np.array(rewards)


def run_episode_append_before_check(env, policy, seed):
    obs, _ = env.reset(seed=seed)
    rewards = []
    term = trunc = False
    while not (term or trunc):
        obs, r, term, trunc, _ = env.step(int(policy[obs]))
        if not (term or trunc):
            rewards.append(r)
    return np.array(rewards)


def run_episode_int_rewards(env, policy, seed):
    obs, _ = env.reset(seed=seed)
    rewards = []
    while True:
        obs, r, term, trunc, _ = env.step(int(policy[obs]))
        rewards.append(int(r))
        if term or trunc:
            return np.array(rewards)


def expected_rewards_plain_mean(mdp):
    return mdp.R.mean(axis=2)


def expected_rewards_first_axis(mdp):
    return np.sum(mdp.P * mdp.R, axis=1)


def expected_rewards_sum_R(mdp):
    return mdp.R.sum(axis=2)


def expected_rewards_no_return(mdp):
    _ = np.einsum("sat,sat->sa", mdp.P, mdp.R)


def expected_rewards_int(mdp):
    out = np.zeros((mdp.n_states, mdp.n_actions), dtype=int)
    for s in range(mdp.n_states):
        for a in range(mdp.n_actions):
            out[s, a] = np.dot(mdp.P[s, a], mdp.R[s, a])
    return out


def trajectory_probability_no_mu(mdp, states, actions, policy):
    p = 1.0
    for t, a in enumerate(actions):
        p *= policy[states[t], a] * mdp.P[states[t], a, states[t + 1]]
    return p


def trajectory_probability_uniform_mu(mdp, states, actions, policy):
    p = 1.0 / mdp.n_states
    for t, a in enumerate(actions):
        p *= policy[states[t], a] * mdp.P[states[t], a, states[t + 1]]
    return p


def trajectory_probability_next_state_policy(mdp, states, actions, policy):
    p = mdp.mu[states[0]]
    for t, a in enumerate(actions):
        p *= policy[states[t + 1], a] * mdp.P[states[t], a, states[t + 1]]
    return float(p)


def trajectory_probability_only_env(mdp, states, actions, policy):
    p = mdp.mu[states[0]]
    for t, a in enumerate(actions):
        p *= mdp.P[states[t], a, states[t + 1]]
    return float(p)


def trajectory_probability_log_sum(mdp, states, actions, policy):
    logp = np.log(mdp.mu[states[0]])
    for t, a in enumerate(actions):
        logp += np.log(policy[states[t], a]) + np.log(mdp.P[states[t], a, states[t + 1]])
    return float(logp)


def discounted_return_forward_horner(rewards, gamma):
    g = 0.0
    for r in rewards:
        g = gamma * g + r
    return g


def discounted_return_terms(rewards, gamma):
    rewards = np.asarray(rewards, dtype=float)
    return gamma ** np.arange(len(rewards)) * rewards


def discounted_return_skips_last(rewards, gamma):
    return float(sum(gamma**t * rewards[t] for t in range(len(rewards) - 1)))


def discounted_return_int(rewards, gamma):
    return int(sum(gamma**t * r for t, r in enumerate(rewards)))


def discounted_return_no_return(rewards, gamma):
    g = 0.0
    for t, r in enumerate(rewards):
        g += gamma**t * r


def v_from_q_max(q_values, policy):
    return np.max(q_values, axis=1)


def v_from_q_matmul(q_values, policy):
    return np.diag(q_values @ policy.T) if q_values.shape[0] != q_values.shape[1] else (
        (q_values * policy).sum(axis=0))


def v_from_q_axis0(q_values, policy):
    return (q_values * policy).sum(axis=0)


def v_from_q_mean(q_values, policy):
    return (q_values * policy).mean(axis=1)


def v_from_q_no_return(q_values, policy):
    v = (q_values * policy).sum(axis=1)  # noqa: F841


def evaluate_policy_exact_keep_terminals(mdp, policy):
    p_pi = np.einsum("sa,sat->st", policy, mdp.P)
    r_pi = np.einsum("sa,sat,sat->s", policy, mdp.P, mdp.R)
    return np.linalg.lstsq(np.eye(mdp.n_states) - mdp.gamma * p_pi, r_pi, rcond=None)[0]


def evaluate_policy_exact_no_gamma(mdp, policy):
    keep = ~mdp.terminal
    p_pi = np.einsum("sa,sat->st", policy, mdp.P)[np.ix_(keep, keep)]
    r_pi = np.einsum("sa,sat,sat->s", policy, mdp.P, mdp.R)[keep]
    v = np.zeros(mdp.n_states)
    v[keep] = np.linalg.lstsq(np.eye(keep.sum()) - p_pi, r_pi, rcond=None)[0]
    return v


def evaluate_policy_exact_rewards_only(mdp, policy):
    r_pi = np.einsum("sa,sat,sat->s", policy, mdp.P, mdp.R)
    return np.where(mdp.terminal, 0.0, r_pi)


def evaluate_policy_exact_plus(mdp, policy):
    keep = ~mdp.terminal
    p_pi = np.einsum("sa,sat->st", policy, mdp.P)[np.ix_(keep, keep)]
    r_pi = np.einsum("sa,sat,sat->s", policy, mdp.P, mdp.R)[keep]
    v = np.zeros(mdp.n_states)
    v[keep] = np.linalg.solve(np.eye(keep.sum()) + mdp.gamma * p_pi, r_pi)
    return v


def evaluate_policy_exact_iterate_few(mdp, policy):
    v = np.zeros(mdp.n_states)
    for _ in range(10):
        v = np.where(mdp.terminal, 0.0, np.sum(policy * _qv(mdp, v), axis=1))
    return v


def monte_carlo_value_plain_sum(mdp, policy, state, n_episodes, rng):
    total = 0.0
    for _ in range(n_episodes):
        total += np.sum(sampling.sample_trajectory(mdp, policy, rng, start_state=state).rewards)
    return total / n_episodes


def monte_carlo_value_new_rng(mdp, policy, state, n_episodes, rng):
    rng = np.random.default_rng()
    rets = []
    for _ in range(n_episodes):
        r = sampling.sample_trajectory(mdp, policy, rng, start_state=state).rewards
        rets.append(np.sum(mdp.gamma ** np.arange(len(r)) * r))
    return float(np.mean(rets))


def monte_carlo_value_divides_by_steps(mdp, policy, state, n_episodes, rng):
    total, steps = 0.0, 0
    for _ in range(n_episodes):
        r = sampling.sample_trajectory(mdp, policy, rng, start_state=state).rewards
        total += np.sum(mdp.gamma ** np.arange(len(r)) * r)
        steps += len(r)
    return total / steps


def monte_carlo_value_last_return(mdp, policy, state, n_episodes, rng):
    g = 0.0
    for _ in range(n_episodes):
        r = sampling.sample_trajectory(mdp, policy, rng, start_state=state).rewards
        g = np.sum(mdp.gamma ** np.arange(len(r)) * r)
    return float(g)


# --- 02 Bellman


def q_from_v_no_discount(mdp, values):
    return np.einsum("sat,sat->sa", mdp.P, mdp.R + np.where(mdp.terminal, 0, values)[None, None])


def q_from_v_uses_terminal_values(mdp, values):
    return np.einsum("sat,sat->sa", mdp.P, mdp.R + mdp.gamma * values[None, None, :])


def q_from_v_expected_rewards_plus_v(mdp, values):
    r = np.einsum("sat,sat->sa", mdp.P, mdp.R)
    return r + mdp.gamma * np.where(mdp.terminal, 0.0, values)[:, None]


def q_from_v_masks_current_state(mdp, values):
    q = np.einsum("sat,sat->sa", mdp.P, mdp.R + mdp.gamma * values[None, None, :])
    return np.where(mdp.terminal[:, None], 0.0, q)


def q_from_v_int_table(mdp, values):
    q = np.zeros((mdp.n_states, mdp.n_actions), dtype=int)
    future = np.where(mdp.terminal, 0.0, values)
    for s in range(mdp.n_states):
        for a in range(mdp.n_actions):
            q[s, a] = np.sum(mdp.P[s, a] * (mdp.R[s, a] + mdp.gamma * future))
    return q


def value_iteration_step_mean(mdp, values):
    return np.where(mdp.terminal, 0.0, _qv(mdp, values).mean(axis=1))


def value_iteration_step_terminal_not_zeroed(mdp, values):
    return _qv(mdp, values).max(axis=1)


def value_iteration_step_bootstrap_terminal(mdp, values):
    q = np.einsum("sat,sat->sa", mdp.P, mdp.R + mdp.gamma * values[None, None, :])
    return np.where(mdp.terminal, 0.0, q.max(axis=1))


def value_iteration_step_gauss_seidel(mdp, values):
    v = values
    for s in range(mdp.n_states):
        v[s] = 0.0 if mdp.terminal[s] else _qv(mdp, v)[s].max()
    return v


def value_iteration_step_keeps_q(mdp, values):
    return np.where(mdp.terminal[:, None], 0.0, _qv(mdp, values))


def greedy_policy_argmax_flat(mdp, values):
    return np.argmax(_qv(mdp, values))


def greedy_policy_argmax_v_next(mdp, values):
    return np.argmax(np.einsum("sat,t->sa", mdp.P, values), axis=1)


def greedy_policy_no_gamma(mdp, values):
    future = np.where(mdp.terminal, 0.0, values)
    return np.argmax(np.einsum("sat,sat->sa", mdp.P, mdp.R + future[None, None]), axis=1)


def greedy_policy_max_values(mdp, values):
    return _qv(mdp, values).max(axis=1)


def greedy_policy_last_tie(mdp, values):
    q = _qv(mdp, values)
    return q.shape[1] - 1 - np.argmax(q[:, ::-1], axis=1)


def policy_evaluation_step_argmax_policy(mdp, values, policy):
    q = _qv(mdp, values)
    return np.where(mdp.terminal, 0.0, q[np.arange(mdp.n_states), policy.argmax(axis=1)])


def policy_evaluation_step_no_terminal_zero(mdp, values, policy):
    return np.sum(policy * _qv(mdp, values), axis=1)


def policy_evaluation_step_sum_over_states(mdp, values, policy):
    return np.sum(policy * _qv(mdp, values))


def policy_evaluation_step_no_gamma(mdp, values, policy):
    future = np.where(mdp.terminal, 0.0, values)
    q = np.einsum("sat,sat->sa", mdp.P, mdp.R + future[None, None])
    return np.where(mdp.terminal, 0.0, np.sum(policy * q, axis=1))


def policy_evaluation_step_returns_q(mdp, values, policy):
    return policy * _qv(mdp, values)


def policy_iteration_fixed_rounds(mdp):
    policy = np.zeros(mdp.n_states, dtype=int)
    for _ in range(2):
        values = dp.policy_evaluation_exact(mdp, policy)
        policy = np.argmax(_qv(mdp, values), axis=1)
    return policy, values


def policy_iteration_returns_q(mdp):
    policy = np.zeros(mdp.n_states, dtype=int)
    while True:
        values = dp.policy_evaluation_exact(mdp, policy)
        new = np.argmax(_qv(mdp, values), axis=1)
        if np.array_equal(new, policy):
            return policy, _qv(mdp, values).max(axis=1) * 0 + values.mean()
        policy = new


def policy_iteration_swapped(mdp):
    policy = np.zeros(mdp.n_states, dtype=int)
    while True:
        values = dp.policy_evaluation_exact(mdp, policy)
        new = np.argmax(_qv(mdp, values), axis=1)
        if np.array_equal(new, policy):
            return values, policy
        policy = new


def policy_iteration_one_step_eval(mdp):
    policy = np.zeros(mdp.n_states, dtype=int)
    values = np.zeros(mdp.n_states)
    for _ in range(100):
        values = _qv(mdp, values)[np.arange(mdp.n_states), policy]
        values = np.where(mdp.terminal, 0.0, values)
        new = np.argmax(_qv(mdp, values), axis=1)
        if np.array_equal(new, policy):
            break
        policy = new
    return policy, values


def q_value_iteration_step_no_mask(mdp, q_values):
    best = q_values.max(axis=1)
    return np.einsum("sat,sat->sa", mdp.P, mdp.R + mdp.gamma * best[None, None, :])


def q_value_iteration_step_max_axis0(mdp, q_values):
    best = q_values.max(axis=0)
    if best.shape[0] != mdp.n_states:
        best = np.resize(best, mdp.n_states)
    return _qv(mdp, best)


def q_value_iteration_step_no_gamma(mdp, q_values):
    future = np.where(mdp.terminal, 0.0, q_values.max(axis=1))
    return np.einsum("sat,sat->sa", mdp.P, mdp.R + future[None, None])


def q_value_iteration_step_returns_v(mdp, q_values):
    return _qv(mdp, q_values.max(axis=1)).max(axis=1)


def q_value_iteration_step_policy_weighted(mdp, q_values):
    probs = np.exp(q_values) / np.exp(q_values).sum(axis=1, keepdims=True)
    return _qv(mdp, (probs * q_values).sum(axis=1))


def epsilon_greedy_argmax_ties(q_row, epsilon, rng):
    if rng.random() < epsilon:
        return int(rng.integers(len(q_row)))
    return int(np.argmax(q_row))


def epsilon_greedy_uses_global_rng(q_row, epsilon, rng):
    if np.random.random() < epsilon:
        return int(np.random.randint(len(q_row)))
    best = np.flatnonzero(q_row == np.max(q_row))
    return int(rng.choice(best))


def epsilon_greedy_wrong_comparison(q_row, epsilon, rng):
    if rng.random() > epsilon:
        return int(rng.integers(len(q_row)))
    best = np.flatnonzero(q_row == np.max(q_row))
    return int(rng.choice(best))


def epsilon_greedy_excludes_last(q_row, epsilon, rng):
    if rng.random() < epsilon:
        return int(rng.integers(len(q_row) - 1))
    best = np.flatnonzero(q_row == np.max(q_row))
    return int(rng.choice(best))


def epsilon_greedy_returns_value(q_row, epsilon, rng):
    if rng.random() < epsilon:
        return float(q_row[rng.integers(len(q_row))])
    return float(np.max(q_row))


def q_learning_update_terminated_ignored(q_values, state, action, reward, next_state,
                                         terminated, alpha, gamma):
    q = np.array(q_values, dtype=float)
    q[state, action] += alpha * (reward + gamma * q[next_state].max() - q[state, action])
    return q


def q_learning_update_int_table(q_values, state, action, reward, next_state, terminated,
                                alpha, gamma):
    q = np.zeros_like(q_values, dtype=int) + np.asarray(q_values).astype(int)
    target = reward + gamma * (1 - terminated) * q[next_state].max()
    q[state, action] += alpha * (target - q[state, action])
    return q


def q_learning_update_sarsa_like(q_values, state, action, reward, next_state, terminated,
                                 alpha, gamma):
    q = np.array(q_values, dtype=float)
    target = reward + gamma * (1 - terminated) * q[next_state].mean()
    q[state, action] += alpha * (target - q[state, action])
    return q


def q_learning_update_alpha_on_target(q_values, state, action, reward, next_state, terminated,
                                      alpha, gamma):
    q = np.array(q_values, dtype=float)
    q[state, action] = alpha * (reward + gamma * (1 - terminated) * q[next_state].max())
    return q


def q_learning_update_returns_entry(q_values, state, action, reward, next_state, terminated,
                                    alpha, gamma):
    q = np.array(q_values, dtype=float)
    target = reward + gamma * (1 - terminated) * q[next_state].max()
    return q[state, action] + alpha * (target - q[state, action])


# --- 03 DQN


def linear_epsilon_no_min(step, start, end, decay_steps):
    return start - (start - end) * step / decay_steps


def linear_epsilon_max_clamp(step, start, end, decay_steps):
    return max(end, start - (start - end) * step / decay_steps)


def linear_epsilon_wrong_slope(step, start, end, decay_steps):
    return start + (end - start) * min(1.0, step / decay_steps) * start


def linear_epsilon_returns_end_early(step, start, end, decay_steps):
    return end if step >= decay_steps - 1 else start + (end - start) * step / decay_steps


def linear_epsilon_from_end(step, start, end, decay_steps):
    return end + (end - start) * min(1.0, step / decay_steps)


def sample_batch_capacity(buffer, batch_size, rng):
    i = rng.integers(0, buffer.capacity, size=batch_size)
    return Batch(buffer.obs[i], buffer.actions[i], buffer.rewards[i], buffer.next_obs[i],
                 buffer.terminated[i], buffer.truncated[i])


def sample_batch_done_merged(buffer, batch_size, rng):
    i = rng.integers(0, len(buffer), size=batch_size)
    done = buffer.terminated[i] | buffer.truncated[i]
    return Batch(buffer.obs[i], buffer.actions[i], buffer.rewards[i], buffer.next_obs[i],
                 done, buffer.truncated[i])


def sample_batch_next_obs_shifted(buffer, batch_size, rng):
    i = rng.integers(0, len(buffer), size=batch_size)
    j = np.minimum(i + 1, len(buffer) - 1)
    return Batch(buffer.obs[i], buffer.actions[i], buffer.rewards[i], buffer.obs[j],
                 buffer.terminated[i], buffer.truncated[i])


def sample_batch_without_replacement_start(buffer, batch_size, rng):
    start = int(rng.integers(0, max(1, len(buffer) - batch_size)))
    i = np.arange(start, start + batch_size) % len(buffer)
    return Batch(buffer.obs[i], buffer.actions[i], buffer.rewards[i], buffer.next_obs[i],
                 buffer.terminated[i], buffer.truncated[i])


def sample_batch_fixed_seed(buffer, batch_size, rng):
    i = np.random.default_rng(0).integers(0, len(buffer), size=batch_size)
    return Batch(buffer.obs[i], buffer.actions[i], buffer.rewards[i], buffer.next_obs[i],
                 buffer.terminated[i], buffer.truncated[i])


def td_target_truncated_too(rewards, next_q_values, terminated, gamma):
    return (rewards + gamma * next_q_values.max(dim=1).values).detach()


def td_target_keepdim(rewards, next_q_values, terminated, gamma):
    best = next_q_values.max(dim=1, keepdim=True).values
    return (rewards + gamma * (1 - terminated) * best).detach()


def td_target_no_gamma(rewards, next_q_values, terminated, gamma):
    return (rewards + (1 - terminated) * next_q_values.max(dim=1).values).detach()


def td_target_min(rewards, next_q_values, terminated, gamma):
    return (rewards + gamma * (1 - terminated) * next_q_values.min(dim=1).values).detach()


def td_target_gamma_squared(rewards, next_q_values, terminated, gamma):
    return (rewards + gamma * gamma * (1 - terminated) * next_q_values.max(dim=1).values).detach()


def dqn_loss_mse(q_values, actions, targets):
    chosen = q_values.gather(1, actions.unsqueeze(1)).squeeze(1)
    return F.mse_loss(chosen, targets.detach())


def dqn_loss_no_squeeze(q_values, actions, targets):
    chosen = q_values.gather(1, actions.unsqueeze(1))
    return F.smooth_l1_loss(chosen, targets.detach())


def dqn_loss_l1(q_values, actions, targets):
    chosen = q_values.gather(1, actions.unsqueeze(1)).squeeze(1)
    return (chosen - targets.detach()).abs().mean()


def dqn_loss_first_action(q_values, actions, targets):
    return F.smooth_l1_loss(q_values[:, 0], targets.detach())


def dqn_loss_half_mse(q_values, actions, targets):
    chosen = q_values.gather(1, actions.unsqueeze(1)).squeeze(1)
    return 0.5 * ((chosen - targets.detach()) ** 2).mean()


def update_target_state_dict_reversed(online, target, tau=1.0):
    online.load_state_dict(target.state_dict())


def update_target_tau_swapped(online, target, tau=1.0):
    with torch.no_grad():
        for p, tp in zip(online.parameters(), target.parameters(), strict=True):
            tp.copy_((1 - tau) * p + tau * tp)


def update_target_copy_only(online, target, tau=1.0):
    target.load_state_dict(online.state_dict())


def update_target_add(online, target, tau=1.0):
    with torch.no_grad():
        for p, tp in zip(online.parameters(), target.parameters(), strict=True):
            tp.add_(tau * p)


def update_target_only_first(online, target, tau=1.0):
    with torch.no_grad():
        p, tp = next(zip(online.parameters(), target.parameters(), strict=True))
        tp.copy_(tau * p + (1 - tau) * tp)


# --- 04 REINFORCE


def grad_log_softmax_no_shift_overflow(theta, action):
    e = np.exp(np.asarray(theta, dtype=float))
    g = -e / e.sum()
    g[action] += 1.0
    return g


def grad_log_softmax_probs_minus_onehot(theta, action):
    g = _softmax(theta)
    g[action] -= 1.0
    return g


def grad_log_softmax_onehot(theta, action):
    g = np.zeros(len(theta))
    g[action] = 1.0
    return g


def grad_log_softmax_only_action(theta, action):
    p = _softmax(theta)
    g = np.zeros(len(theta))
    g[action] = 1.0 - p[action]
    return g


def grad_log_softmax_int_theta(theta, action):
    z = np.asarray(theta)
    p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    g = np.zeros_like(z)
    g[:] = -p
    g[action] += 1
    return g


def score_function_gradient_sum(theta, f, samples):
    return np.sum([_score(theta, x) * f[x] for x in samples], axis=0)


def score_function_gradient_onehot_only(theta, f, samples):
    out = np.zeros(len(theta))
    for x in samples:
        out[x] += f[x]
    return out / len(samples)


def score_function_gradient_f_of_index(theta, f, samples):
    return np.mean([_score(theta, x) * f[i % len(f)] for i, x in enumerate(samples)], axis=0)


def score_function_gradient_negated(theta, f, samples):
    return -np.mean([_score(theta, x) * f[x] for x in samples], axis=0)


def score_function_gradient_expected_f(theta, f, samples):
    p = _softmax(theta)
    return np.mean([_score(theta, x) for x in samples], axis=0) * float(np.dot(p, f))


def grad_log_softmax_linear_logits_score(theta, features, action):
    features = np.asarray(features, dtype=float)
    return _score(features @ theta, action)


def grad_log_softmax_linear_mean_features(theta, features, action):
    features = np.asarray(features, dtype=float)
    return features[action] - features.mean(axis=0)


def grad_log_softmax_linear_no_expectation(theta, features, action):
    return np.asarray(features, dtype=float)[action]


def grad_log_softmax_linear_flipped(theta, features, action):
    features = np.asarray(features, dtype=float)
    return _softmax(features @ theta) @ features - features[action]


def grad_log_softmax_linear_theta_logits(theta, features, action):
    features = np.asarray(features, dtype=float)
    p = _softmax(features @ theta)
    return features[action] - p[action] * features[action]


def reinforce_gradient_final_reward(theta, episodes):
    grad = np.zeros_like(theta, dtype=float)
    for ep in episodes:
        for s, a in zip(ep.states[:-1], ep.actions, strict=True):
            grad[s] += _score(theta[s], a) * ep.rewards[-1]
    return grad / len(episodes)


def reinforce_gradient_states_shift(theta, episodes):
    grad = np.zeros_like(theta, dtype=float)
    for ep in episodes:
        total = np.sum(ep.rewards)
        for s, a in zip(ep.states[1:], ep.actions, strict=True):
            grad[s] += _score(theta[s], a) * total
    return grad / len(episodes)


def reinforce_gradient_no_average(theta, episodes):
    grad = np.zeros_like(theta, dtype=float)
    for ep in episodes:
        total = np.sum(ep.rewards)
        for s, a in zip(ep.states[:-1], ep.actions, strict=True):
            grad[s] += _score(theta[s], a) * total
    return grad


def reinforce_gradient_onehot(theta, episodes):
    grad = np.zeros_like(theta, dtype=float)
    for ep in episodes:
        total = np.sum(ep.rewards)
        for s, a in zip(ep.states[:-1], ep.actions, strict=True):
            grad[s, a] += total
    return grad / len(episodes)


def reinforce_gradient_rtg(theta, episodes):
    grad = np.zeros_like(theta, dtype=float)
    for ep in episodes:
        g = _rtg(ep.rewards)
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            grad[s] += _score(theta[s], a) * g[h]
    return grad / len(episodes)


def reward_to_go_shifted(rewards, gamma):
    out = np.zeros(len(rewards))
    for t in range(len(rewards)):
        out[t] = sum(gamma ** (k - t) * rewards[k] for k in range(t + 1, len(rewards)))
    return out


def reward_to_go_forward_cumsum(rewards, gamma):
    return np.cumsum(rewards)


def reward_to_go_int_array(rewards, gamma):
    out = np.zeros(len(rewards), dtype=int)
    future = 0
    for t in reversed(range(len(rewards))):
        future = rewards[t] + gamma * future
        out[t] = future
    return out


def reward_to_go_gamma_power_t(rewards, gamma):
    n = len(rewards)
    return np.array([sum(gamma**k * rewards[k] for k in range(t, n)) for t in range(n)])


def reward_to_go_no_return(rewards, gamma):
    out = np.zeros(len(rewards))
    future = 0.0
    for t in reversed(range(len(rewards))):
        future = rewards[t] + gamma * future
        out[t] = future


def reward_to_go_extra_gamma(rewards, gamma):
    out = np.zeros(len(rewards))
    future = 0.0
    for t in reversed(range(len(rewards))):
        future = gamma * (rewards[t] + future)
        out[t] = future
    return out


def reward_to_go_gradient_total(theta, episodes):
    grad = np.zeros_like(theta, dtype=float)
    for ep in episodes:
        for s, a in zip(ep.states[:-1], ep.actions, strict=True):
            grad[s] += _score(theta[s], a) * np.sum(ep.rewards)
    return grad / len(episodes)


def reward_to_go_gradient_excludes_current(theta, episodes):
    grad = np.zeros_like(theta, dtype=float)
    for ep in episodes:
        g = _rtg(ep.rewards)
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            grad[s] += _score(theta[s], a) * (g[h] - ep.rewards[h])
    return grad / len(episodes)


def reward_to_go_gradient_steps_mean(theta, episodes):
    grad = np.zeros_like(theta, dtype=float)
    steps = 0
    for ep in episodes:
        g = _rtg(ep.rewards)
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            grad[s] += _score(theta[s], a) * g[h]
            steps += 1
    return grad / steps


def reward_to_go_gradient_discounted(theta, episodes):
    grad = np.zeros_like(theta, dtype=float)
    for ep in episodes:
        g = _rtg(ep.rewards, 0.99)
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            grad[s] += _score(theta[s], a) * g[h]
    return grad / len(episodes)


def reward_to_go_gradient_negative(theta, episodes):
    grad = np.zeros_like(theta, dtype=float)
    for ep in episodes:
        g = _rtg(ep.rewards)
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            grad[s] -= _score(theta[s], a) * g[h]
    return grad / len(episodes)


def baseline_gradient_added(theta, episodes, baseline):
    grad = np.zeros_like(theta, dtype=float)
    for ep in episodes:
        g = _rtg(ep.rewards)
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            grad[s] += _score(theta[s], a) * (g[h] + baseline[s])
    return grad / len(episodes)


def baseline_gradient_mean_baseline(theta, episodes, baseline):
    grad = np.zeros_like(theta, dtype=float)
    b = float(np.mean(baseline))
    for ep in episodes:
        g = _rtg(ep.rewards)
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            grad[s] += _score(theta[s], a) * (g[h] - b)
    return grad / len(episodes)


def baseline_gradient_baseline_by_step(theta, episodes, baseline):
    grad = np.zeros_like(theta, dtype=float)
    for ep in episodes:
        g = _rtg(ep.rewards)
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            grad[s] += _score(theta[s], a) * (g[h] - baseline[h % len(baseline)])
    return grad / len(episodes)


def baseline_gradient_total_return(theta, episodes, baseline):
    grad = np.zeros_like(theta, dtype=float)
    for ep in episodes:
        total = np.sum(ep.rewards)
        for s, a in zip(ep.states[:-1], ep.actions, strict=True):
            grad[s] += _score(theta[s], a) * (total - baseline[s])
    return grad / len(episodes)


def baseline_gradient_subtract_once(theta, episodes, baseline):
    grad = np.zeros_like(theta, dtype=float)
    for ep in episodes:
        g = _rtg(ep.rewards)
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            grad[s] += _score(theta[s], a) * g[h]
        grad[ep.states[0]] -= baseline[ep.states[0]] * 0 + _score(
            theta[ep.states[0]], ep.actions[0]) * baseline[ep.states[0]]
    return grad / len(episodes)


def reinforce_loss_positive(log_probs, weights):
    return (log_probs * weights.detach()).mean()


def reinforce_loss_not_detached(log_probs, weights):
    return -(log_probs * weights).mean()


def reinforce_loss_sum(log_probs, weights):
    return -(log_probs * weights.detach()).sum()


def reinforce_loss_exp(log_probs, weights):
    return -(log_probs.exp() * weights.detach()).mean()


def reinforce_loss_not_scalar(log_probs, weights):
    return -(log_probs * weights.detach())


# --- 05 actor-critic


def _pi(theta):
    z = np.asarray(theta, dtype=float)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def action_values_keeps_terminal_rows(mdp, theta, horizon):
    q = np.zeros((horizon, mdp.n_states, mdp.n_actions))
    v = np.zeros(mdp.n_states)
    for h in range(horizon - 1, -1, -1):
        q[h] = np.einsum("sat,sat->sa", mdp.P, mdp.R + np.where(mdp.terminal, 0.0, v))
        v = (_pi(theta) * q[h]).sum(axis=1)
    return q


def action_values_infinite_horizon(mdp, theta, horizon):
    values = dp.policy_evaluation_exact(mdp, _pi(theta))
    return np.stack([_qv(mdp, values)] * horizon)


def action_values_theta_as_probabilities(mdp, theta, horizon):
    q = np.zeros((horizon, mdp.n_states, mdp.n_actions))
    v = np.zeros(mdp.n_states)
    for h in reversed(range(horizon)):
        q[h] = _qv(mdp, v)
        v = (np.asarray(theta) * q[h]).sum(axis=1)
    return q


def action_values_transposed(mdp, theta, horizon):
    q = np.zeros((mdp.n_states, mdp.n_actions, horizon))
    v = np.zeros(mdp.n_states)
    for h in reversed(range(horizon)):
        q[:, :, h] = _qv(mdp, v)
        v = (_pi(theta) * q[:, :, h]).sum(axis=1)
    return q


def action_values_int_table(mdp, theta, horizon):
    q = np.zeros((horizon, mdp.n_states, mdp.n_actions), dtype=int)
    v = np.zeros(mdp.n_states)
    for h in reversed(range(horizon)):
        q[h] = _qv(mdp, v)
        v = (_pi(theta) * q[h]).sum(axis=1)
    return q


def action_value_gradient_reward_to_go(theta, episodes, q_values):
    grad = np.zeros_like(theta, dtype=float)
    for ep in episodes:
        g = _rtg(ep.rewards)
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            grad[s] += _score(theta[s], a) * g[h]
    return grad / len(episodes)


def action_value_gradient_sum(theta, episodes, q_values):
    grad = np.zeros_like(theta, dtype=float)
    for ep in episodes:
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            grad[s] += _score(theta[s], a) * q_values[h, s, a]
    return grad


def action_value_gradient_negated(theta, episodes, q_values):
    grad = np.zeros_like(theta, dtype=float)
    for ep in episodes:
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            grad[s] += _score(theta[s], a) * -q_values[h, s, a]
    return grad / len(episodes)


def action_value_gradient_last_row(theta, episodes, q_values):
    grad = np.zeros_like(theta, dtype=float)
    for ep in episodes:
        for s, a in zip(ep.states[:-1], ep.actions, strict=True):
            grad[s] += _score(theta[s], a) * q_values[-1, s, a]
    return grad / len(episodes)


def action_value_gradient_policy_average(theta, episodes, q_values):
    grad = np.zeros_like(theta, dtype=float)
    for ep in episodes:
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            grad[s] += _score(theta[s], a) * float(_pi(theta)[s] @ q_values[h, s])
    return grad / len(episodes)


def advantage_gradient_own_values(theta, episodes, q_values, values):
    own = np.einsum("sa,hsa->hs", _pi(theta), q_values)
    grad = np.zeros_like(theta, dtype=float)
    for ep in episodes:
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            grad[s] += _score(theta[s], a) * (q_values[h, s, a] - own[h, s])
    return grad / len(episodes)


def advantage_gradient_negated(theta, episodes, q_values, values):
    grad = np.zeros_like(theta, dtype=float)
    for ep in episodes:
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            grad[s] -= _score(theta[s], a) * (q_values[h, s, a] - values[h, s])
    return grad / len(episodes)


def advantage_gradient_steps_mean(theta, episodes, q_values, values):
    grad = np.zeros_like(theta, dtype=float)
    steps = 0
    for ep in episodes:
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            grad[s] += _score(theta[s], a) * (q_values[h, s, a] - values[h, s])
            steps += 1
    return grad / steps


def advantage_gradient_values_of_start(theta, episodes, q_values, values):
    grad = np.zeros_like(theta, dtype=float)
    for ep in episodes:
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            grad[s] += _score(theta[s], a) * (q_values[h, s, a] - values[h, ep.states[0]])
    return grad / len(episodes)


def advantage_gradient_forgets_values(theta, episodes, q_values, values):
    grad = np.zeros_like(theta, dtype=float)
    for ep in episodes:
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            grad[s] += _score(theta[s], a) * q_values[h, s, a]
    return grad / len(episodes)


def _td_heldout(theta, episodes, residual):
    grad = np.zeros_like(theta, dtype=float)
    for ep in episodes:
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            grad[s] += _score(theta[s], a) * residual(ep, h)
    return grad / len(episodes)


def td_residual_gradient_wraps_around(theta, episodes, values):
    def residual(ep, h):
        after = values[(h + 1) % len(values), ep.states[h + 1]]
        return ep.rewards[h] + after - values[h, ep.states[h]]
    return _td_heldout(theta, episodes, residual)


def td_residual_gradient_terminal_flag(theta, episodes, values):
    def residual(ep, h):
        last = h == len(ep.actions) - 1
        after = 0.0 if last and ep.terminated else values[h + 1, ep.states[h + 1]]
        return ep.rewards[h] + after - values[h, ep.states[h]]
    return _td_heldout(theta, episodes, residual)


def td_residual_gradient_discounted(theta, episodes, values):
    def residual(ep, h):
        after = values[h + 1, ep.states[h + 1]] if h + 1 < len(ep.actions) else 0.0
        return ep.rewards[h] + 0.99 * after - values[h, ep.states[h]]
    return _td_heldout(theta, episodes, residual)


def td_residual_gradient_no_baseline(theta, episodes, values):
    def residual(ep, h):
        after = values[h + 1, ep.states[h + 1]] if h + 1 < len(ep.actions) else 0.0
        return ep.rewards[h] + after
    return _td_heldout(theta, episodes, residual)


def td_residual_gradient_value_row_h(theta, episodes, values):
    def residual(ep, h):
        after = values[h][ep.states[h + 1]] if h + 1 < len(ep.actions) else 0.0
        return ep.rewards[h] + after - values[h][ep.states[h]]
    return _td_heldout(theta, episodes, residual)


def td_residual_gradient_negated(theta, episodes, values):
    def residual(ep, h):
        after = values[h + 1, ep.states[h + 1]] if h + 1 < len(ep.actions) else 0.0
        return -(ep.rewards[h] + after - values[h, ep.states[h]])
    return _td_heldout(theta, episodes, residual)

# --- 08 AlphaGo (the search's pieces, self-play's targets and losses)


def uct_c_inside_root(q, visit_counts, c):
    n = np.asarray(visit_counts, dtype=float)
    parent = np.maximum(n.sum(axis=-1, keepdims=True), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n == 0, np.inf, q + np.sqrt(c * np.log(parent) / n))


def uct_log_of_parent_plus_one(q, visit_counts, c):
    n = np.asarray(visit_counts, dtype=float)
    parent = n.sum(axis=-1, keepdims=True) + 1
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n == 0, np.inf, q + c * np.sqrt(np.log(parent) / n))


def puct_parent_without_root(q, visit_counts, prior, c_puct):
    n = np.asarray(visit_counts, dtype=float)
    return q + c_puct * prior * (1 + n.sum(axis=-1, keepdims=True)) / (1 + n)


def puct_uniform_prior(q, visit_counts, prior, c_puct):
    n = np.asarray(visit_counts, dtype=float)
    return q + c_puct * np.sqrt(1 + n.sum(axis=-1, keepdims=True)) / (1 + n) / n.shape[-1]


def select_fill_minus_large(scores, legal_mask):
    best = np.where(legal_mask, scores, -1e9).argmax(axis=-1)
    return int(best) if best.ndim == 0 else best


def select_index_into_legal(scores, legal_mask):
    legal = np.flatnonzero(legal_mask)
    return int(np.argmax(np.asarray(scores)[legal]))


def leaf_mixed_then_turned(network_value, rollout_winner, player, mixing):
    return ((1 - mixing) * network_value + mixing * rollout_winner) * player


def leaf_plain_average(network_value, rollout_winner, player, mixing):
    return 0.5 * network_value + 0.5 * rollout_winner * player


def backup_sign_by_node_parity(visit_counts, total_values, path, value):
    for node, action in path:
        visit_counts[node, action] += 1
        total_values[node, action] += value if node % 2 else -value


def backup_value_into_counts(visit_counts, total_values, path, value):
    sign = -1.0
    for node, action in reversed(path):
        visit_counts[node, action] += value
        total_values[node, action] += sign * value
        sign = -sign


def visit_policy_unnormalised(visit_counts, temperature):
    n = np.asarray(visit_counts, dtype=float)
    if temperature == 0:
        return (n == n.max()).astype(float)
    return (n / n.max()) ** (1 / temperature)


def visit_policy_tau_zero_uniform(visit_counts, temperature):
    n = np.asarray(visit_counts, dtype=float)
    if temperature == 0:
        return (n > 0) / np.count_nonzero(n)
    p = (n / n.max()) ** (1 / temperature)
    return p / p.sum()


def value_targets_win_indicator(winner, players):
    return (np.asarray(players) == winner).astype(float)


def value_targets_draw_half(winner, players):
    players = np.asarray(players, dtype=float)
    return np.full(len(players), 0.5) if winner == 0 else winner * players


def pg_loss_ascent(log_probs, outcomes):
    return (log_probs * outcomes).mean()


def pg_loss_mean_of_means(log_probs, outcomes):
    return -log_probs.mean() * outcomes.mean()


def az_loss_renormalised_probabilities(logits, values, target_policies, target_values,
                                       legal_mask):
    probs = torch.softmax(logits, dim=-1) * legal_mask
    probs = probs / probs.sum(-1, keepdim=True)
    return ((target_values - values) ** 2).mean() - (target_policies
                                                     * torch.log(probs)).sum(-1).mean()


def az_loss_absolute_error(logits, values, target_policies, target_values, legal_mask):
    log_p = torch.log_softmax(logits.masked_fill(~legal_mask, -torch.inf), dim=-1)
    policy = -(target_policies * log_p.masked_fill(~legal_mask, 0.0)).sum(-1).mean()
    return (target_values - values).abs().mean() + policy



# --- 05 actor-critic, second part: the critic, GAE, A2C's loss, the Gaussian policy


def td_errors_list(rewards, values, next_values, terminated, gamma):
    rewards, values, next_values = (np.asarray(x, dtype=float)
                                    for x in (rewards, values, next_values))
    mask = 1.0 - np.asarray(terminated, dtype=float)
    return (rewards + gamma * mask * next_values - values).tolist()


def td_errors_next_row_as_next_value(rewards, values, next_values, terminated, gamma):
    values = np.asarray(values, dtype=float)
    following = np.concatenate([values[1:], np.asarray(next_values, dtype=float)[-1:]])
    mask = 1.0 - np.asarray(terminated, dtype=float)
    return np.asarray(rewards, dtype=float) + gamma * mask * following - values


def td_errors_gamma_on_reward(rewards, values, next_values, terminated, gamma):
    mask = 1.0 - np.asarray(terminated, dtype=float)
    return (gamma * (np.asarray(rewards, dtype=float) + mask * np.asarray(next_values))
            - np.asarray(values))


def td_errors_without_baseline(rewards, values, next_values, terminated, gamma):
    mask = 1.0 - np.asarray(terminated, dtype=float)
    return np.asarray(rewards, dtype=float) + gamma * mask * np.asarray(next_values)


def _heldout_deltas(rewards, values, next_values, terminated, gamma):
    mask = 1.0 - np.asarray(terminated, dtype=float)
    return (np.asarray(rewards, dtype=float) + gamma * mask * np.asarray(next_values, dtype=float)
            - np.asarray(values, dtype=float))


def _gae_backwards(deltas, ended, decay):
    out, running = np.zeros_like(deltas), np.zeros(deltas.shape[1:])
    for t in reversed(range(len(deltas))):
        running = deltas[t] + decay * (1.0 - ended[t]) * running
        out[t] = running
    return out


def gae_cut_only_at_termination(rewards, values, next_values, terminated, truncated, gamma,
                                lam):
    deltas = _heldout_deltas(rewards, values, next_values, terminated, gamma)
    return _gae_backwards(deltas, np.asarray(terminated, dtype=float), gamma * lam)


def gae_lambda_only(rewards, values, next_values, terminated, truncated, gamma, lam):
    deltas = _heldout_deltas(rewards, values, next_values, terminated, gamma)
    ended = np.asarray(terminated, dtype=float) + np.asarray(truncated, dtype=float)
    return _gae_backwards(deltas, np.minimum(ended, 1.0), lam)


def gae_sum_without_decay(rewards, values, next_values, terminated, truncated, gamma, lam):
    deltas = _heldout_deltas(rewards, values, next_values, terminated, gamma)
    ended = np.asarray(terminated, dtype=float) + np.asarray(truncated, dtype=float)
    return _gae_backwards(deltas, np.minimum(ended, 1.0), 1.0)


def gae_next_row_values(rewards, values, next_values, terminated, truncated, gamma, lam):
    values = np.asarray(values, dtype=float)
    following = np.concatenate([values[1:], np.asarray(next_values, dtype=float)[-1:]])
    deltas = _heldout_deltas(rewards, values, following, terminated, gamma)
    ended = np.asarray(terminated, dtype=float) + np.asarray(truncated, dtype=float)
    return _gae_backwards(deltas, np.minimum(ended, 1.0), gamma * lam)


def a2c_loss_nothing_detached(log_probs, advantages, values, returns, entropy, value_coef,
                              entropy_coef):
    actor = -(log_probs * advantages).mean()
    return actor + value_coef * ((returns - values) ** 2).mean() - entropy_coef * entropy.mean()


def a2c_loss_entropy_summed(log_probs, advantages, values, returns, entropy, value_coef,
                            entropy_coef):
    actor = -(log_probs * advantages.detach()).mean()
    critic = ((returns.detach() - values) ** 2).mean()
    return actor + value_coef * critic - entropy_coef * entropy.sum()


def a2c_loss_values_detached(log_probs, advantages, values, returns, entropy, value_coef,
                             entropy_coef):
    actor = -(log_probs * advantages.detach()).mean()
    critic = ((returns.detach() - values.detach()) ** 2).mean()
    return actor + value_coef * critic - entropy_coef * entropy.mean()


def a2c_loss_entropy_coef_on_critic(log_probs, advantages, values, returns, entropy,
                                    value_coef, entropy_coef):
    actor = -(log_probs * advantages.detach()).mean()
    critic = ((returns.detach() - values) ** 2).mean()
    return actor + entropy_coef * critic - value_coef * entropy.mean()


def gaussian_log_prob_std_squared(actions, mean, log_std):
    a, mu, log_sigma = (torch.as_tensor(x, dtype=torch.float64) for x in (actions, mean, log_std))
    z = (a - mu) / torch.exp(2 * log_sigma)
    out = (-0.5 * z**2 - log_sigma - 0.5 * np.log(2 * np.pi)).sum(-1)
    return out if torch.is_tensor(actions) else out.numpy()


def gaussian_log_prob_per_dimension(actions, mean, log_std):
    a, mu, log_sigma = (torch.as_tensor(x, dtype=torch.float64) for x in (actions, mean, log_std))
    out = -0.5 * ((a - mu) / log_sigma.exp()) ** 2 - log_sigma - 0.5 * np.log(2 * np.pi)
    return out if torch.is_tensor(actions) else out.numpy()


def gaussian_log_prob_tensor_for_numpy(actions, mean, log_std):
    a, mu, log_sigma = (torch.as_tensor(x, dtype=torch.float64) for x in (actions, mean, log_std))
    z = (a - mu) / log_sigma.exp()
    return (-0.5 * z**2 - log_sigma - 0.5 * np.log(2 * np.pi)).sum(-1)


def gaussian_log_prob_full_log_2pi(actions, mean, log_std):
    a, mu, log_sigma = (torch.as_tensor(x, dtype=torch.float64) for x in (actions, mean, log_std))
    z = (a - mu) / log_sigma.exp()
    out = (-0.5 * z**2 - log_sigma - np.log(2 * np.pi)).sum(-1)
    return out if torch.is_tensor(actions) else out.numpy()


# --- 06 PPO


def _softmax_rows(theta):
    e = np.exp(theta - theta.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _d_table(mdp, policy, horizon):
    alive = ~np.asarray(mdp.terminal)
    d = np.zeros((horizon, mdp.n_states))
    current = np.asarray(mdp.mu, dtype=float) * alive
    for h in range(horizon):
        d[h] = current
        current = np.einsum("s,sa,sat->t", current, policy, mdp.P) * alive
    return d


def _a_table(mdp, theta, horizon):
    q = weightings.action_values(mdp, theta, horizon)
    return q - (_softmax_rows(theta)[None] * q).sum(axis=2, keepdims=True)


def advantage_table_theta_as_probabilities(mdp, theta, horizon):
    q = weightings.action_values(mdp, theta, horizon)
    return q - (theta[None] * q).sum(axis=2, keepdims=True)


def advantage_table_first_step_only(mdp, theta, horizon):
    return _a_table(mdp, theta, horizon)[0]


def advantage_table_value_over_states(mdp, theta, horizon):
    q = weightings.action_values(mdp, theta, horizon)
    v = (_softmax_rows(theta)[None] * q).sum(axis=2)
    return q - v.mean(axis=1)[:, None, None]


def advantage_table_no_return(mdp, theta, horizon):
    _a_table(mdp, theta, horizon)


def state_distribution_unnormalised_policy(mdp, theta, horizon):
    return _d_table(mdp, np.exp(theta), horizon)


def state_distribution_start_not_masked(mdp, theta, horizon):
    d = _d_table(mdp, _softmax_rows(theta), horizon)
    d[0] = mdp.mu
    return d


def state_distribution_cumulative(mdp, theta, horizon):
    return np.cumsum(_d_table(mdp, _softmax_rows(theta), horizon), axis=0)


def state_distribution_horizon_plus_one(mdp, theta, horizon):
    return _d_table(mdp, _softmax_rows(theta), horizon + 1)


def performance_difference_new_advantages(mdp, theta, theta_old, horizon):
    new = _softmax_rows(theta)
    return float(np.einsum("hs,sa,hsa->", _d_table(mdp, new, horizon), new,
                           _a_table(mdp, theta, horizon)))


def performance_difference_all_old(mdp, theta, theta_old, horizon):
    old = _softmax_rows(theta_old)
    return float(np.einsum("hs,sa,hsa->", _d_table(mdp, old, horizon), old,
                           _a_table(mdp, theta_old, horizon)))


def performance_difference_last_step(mdp, theta, theta_old, horizon):
    new = _softmax_rows(theta)
    d = _d_table(mdp, new, horizon)
    return float(np.einsum("s,sa,sa->", d[-1], new, _a_table(mdp, theta_old, horizon)[-1]))


def performance_difference_mean_over_steps(mdp, theta, theta_old, horizon):
    new = _softmax_rows(theta)
    return float(np.einsum("hs,sa,hsa->", _d_table(mdp, new, horizon), new,
                           _a_table(mdp, theta_old, horizon))) / horizon


def _old_pieces(mdp, theta_old, horizon):
    old = _softmax_rows(theta_old)
    return (torch.as_tensor(old), torch.as_tensor(_d_table(mdp, old, horizon)),
            torch.as_tensor(_a_table(mdp, theta_old, horizon)))


def surrogate_float(mdp, theta, theta_old, horizon):
    old, d_old, a_old = _old_pieces(mdp, theta_old, horizon)
    new = torch.softmax(theta, dim=-1)
    return float(torch.einsum("hs,sa,hsa->", d_old, new, a_old))


def surrogate_no_old_weights(mdp, theta, theta_old, horizon):
    old, d_old, a_old = _old_pieces(mdp, theta_old, horizon)
    return torch.einsum("hs,sa,hsa->", d_old, torch.softmax(theta, dim=-1) / old, a_old)


def surrogate_softmax_over_states(mdp, theta, theta_old, horizon):
    old, d_old, a_old = _old_pieces(mdp, theta_old, horizon)
    return torch.einsum("hs,sa,hsa->", d_old, torch.softmax(theta, dim=0), a_old)


def surrogate_theta_as_probabilities(mdp, theta, theta_old, horizon):
    old, d_old, a_old = _old_pieces(mdp, theta_old, horizon)
    return torch.einsum("hs,sa,hsa->", d_old, theta, a_old)


def importance_ratio_clone_not_detach(log_probs, old_log_probs):
    return torch.exp(log_probs - old_log_probs.clone())


def importance_ratio_numpy(log_probs, old_log_probs):
    return np.exp(log_probs.detach().numpy() - old_log_probs.detach().numpy())


def importance_ratio_softmax(log_probs, old_log_probs):
    return torch.softmax(log_probs - old_log_probs.detach(), dim=0)


def importance_ratio_of_sums(log_probs, old_log_probs):
    return torch.exp(log_probs.sum() - old_log_probs.detach().sum())


def ppo_clip_loss_advantages_not_detached(ratio, advantages, clip_eps):
    clipped = ratio.clamp(1 - clip_eps, 1 + clip_eps)
    return -torch.minimum(ratio * advantages, clipped * advantages).mean()


def ppo_clip_loss_clamps_r_times_a(ratio, advantages, clip_eps):
    advantages = advantages.detach()
    surrogate = ratio * advantages
    return -torch.min(surrogate, surrogate.clamp(1 - clip_eps, 1 + clip_eps)).mean()


def ppo_clip_loss_upper_bound_only(ratio, advantages, clip_eps):
    advantages = advantages.detach()
    clipped = ratio.clamp(max=1 + clip_eps)
    return -torch.min(ratio * advantages, clipped * advantages).mean()


def ppo_clip_loss_min_of_losses(ratio, advantages, clip_eps):
    advantages = advantages.detach()
    clipped = ratio.clamp(1 - clip_eps, 1 + clip_eps)
    return torch.min(-ratio * advantages, -clipped * advantages).mean()


def clipped_value_loss_old_values_not_detached(values, old_values, returns, clip_eps):
    returns = returns.detach()
    if clip_eps is None:
        return ((values - returns) ** 2).mean()
    clipped = old_values + (values - old_values).clamp(-clip_eps, clip_eps)
    return torch.maximum((values - returns) ** 2, (clipped - returns) ** 2).mean()


def clipped_value_loss_around_returns(values, old_values, returns, clip_eps):
    returns = returns.detach()
    if clip_eps is None:
        return ((values - returns) ** 2).mean()
    clipped = returns + (values - returns).clamp(-clip_eps, clip_eps)
    return torch.maximum((values - returns) ** 2, (clipped - returns) ** 2).mean()


def clipped_value_loss_none_as_zero(values, old_values, returns, clip_eps):
    old_values, returns = old_values.detach(), returns.detach()
    eps = clip_eps or 0.0
    clipped = old_values + (values - old_values).clamp(-eps, eps)
    return torch.maximum((values - returns) ** 2, (clipped - returns) ** 2).mean()


def clipped_value_loss_sum(values, old_values, returns, clip_eps):
    old_values, returns = old_values.detach(), returns.detach()
    if clip_eps is None:
        return ((values - returns) ** 2).sum()
    clipped = old_values + (values - old_values).clamp(-clip_eps, clip_eps)
    return torch.maximum((values - returns) ** 2, (clipped - returns) ** 2).sum()


def ppo_loss_entropy_per_step(clip_loss, critic_loss, entropy, value_coef, entropy_coef):
    return clip_loss + value_coef * critic_loss - entropy_coef * entropy


def ppo_loss_value_coef_on_clip(clip_loss, critic_loss, entropy, value_coef, entropy_coef):
    return value_coef * clip_loss + critic_loss - entropy_coef * entropy.mean()


def ppo_loss_objective(clip_loss, critic_loss, entropy, value_coef, entropy_coef):
    return -(clip_loss + value_coef * critic_loss - entropy_coef * entropy.mean())


def approx_kl_probabilities(log_probs, old_log_probs):
    return (old_log_probs.exp() - log_probs.exp()).mean()


def approx_kl_per_sample(log_probs, old_log_probs):
    return old_log_probs - log_probs


def approx_kl_ratio_minus_one(log_probs, old_log_probs):
    return (torch.exp(log_probs - old_log_probs) - 1).mean()


def approx_kl_low_variance_no_log(log_probs, old_log_probs):
    return (torch.exp(log_probs - old_log_probs) - 1).mean()


def approx_kl_low_variance_per_sample(log_probs, old_log_probs):
    log_ratio = log_probs - old_log_probs
    return torch.exp(log_ratio) - 1 - log_ratio


def approx_kl_low_variance_squared(log_probs, old_log_probs):
    return ((torch.exp(log_probs - old_log_probs) - 1) ** 2).mean() / 2


def normalize_advantages_max_abs(advantages, eps=1e-8):
    centred = advantages - advantages.mean()
    return centred / (centred.abs().max() + eps)


def normalize_advantages_min_max(advantages, eps=1e-8):
    return (advantages - advantages.min()) / (advantages.max() - advantages.min() + eps)


def normalize_advantages_per_column(advantages, eps=1e-8):
    return (advantages - advantages.mean(0)) / (advantages.std() + eps)


def minibatch_indices_permutation_each(n, n_minibatches, rng):
    size = n // n_minibatches
    return [rng.permutation(n)[:size] for _ in range(n_minibatches)]


def minibatch_indices_size_plus_one(n, n_minibatches, rng):
    order = rng.permutation(n)
    size = n // n_minibatches + 1
    return [order[i:i + size] for i in range(0, n, size)]


def minibatch_indices_integers(n, n_minibatches, rng):
    return np.split(rng.integers(0, n, size=n), n_minibatches)


# --- 07 RLHF


def ranking_pairs_with_itself(ranking):
    ranking = [int(r) for r in ranking]
    return [(a, b) for i, a in enumerate(ranking) for b in ranking[i:]]


def ranking_pairs_no_return(ranking):
    pairs = []
    for i, a in enumerate(ranking):
        for b in list(ranking)[i + 1:]:
            pairs.append((int(a), int(b)))


def ranking_pairs_sorted_indices(ranking):
    order = sorted(int(r) for r in ranking)
    return [(order[i], order[j]) for i in range(len(order)) for j in range(i + 1, len(order))]


def ranking_pairs_two_lists(ranking):
    ranking = [int(r) for r in ranking]
    pairs = [(ranking[i], ranking[j]) for i in range(len(ranking))
             for j in range(i + 1, len(ranking))]
    return [[p[0] for p in pairs], [p[1] for p in pairs]]


def bradley_terry_loss_sigmoid(chosen_rewards, rejected_rewards):
    return -torch.sigmoid(chosen_rewards - rejected_rewards).mean()


def bradley_terry_loss_sum(chosen_rewards, rejected_rewards):
    return -F.logsigmoid(chosen_rewards - rejected_rewards).sum()


def bradley_terry_loss_swapped(chosen_rewards, rejected_rewards):
    return -F.logsigmoid(rejected_rewards - chosen_rewards).mean()


def bradley_terry_loss_log_of_sigmoid(chosen_rewards, rejected_rewards):
    return -torch.log(torch.sigmoid(chosen_rewards - rejected_rewards)).mean()


def preference_accuracy_ties_lost(chosen_rewards, rejected_rewards):
    return float((chosen_rewards > rejected_rewards).float().mean())


def preference_accuracy_ties_won(chosen_rewards, rejected_rewards):
    return float((chosen_rewards >= rejected_rewards).float().mean())


def preference_accuracy_count(chosen_rewards, rejected_rewards):
    gap = chosen_rewards - rejected_rewards
    return float((gap > 0).sum() + 0.5 * (gap == 0).sum())


def _token_log_probs(logits, tokens):
    return torch.log_softmax(logits, dim=-1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)


def sequence_log_probs_mask_inverted(logits, tokens, mask):
    return torch.where(~mask.bool(), _token_log_probs(logits, tokens), 0.0).sum(-1)


def sequence_log_probs_negative_log_likelihood(logits, tokens, mask):
    return -torch.where(mask.bool(), _token_log_probs(logits, tokens), 0.0).sum(-1)


def sequence_log_probs_per_token(logits, tokens, mask):
    return torch.where(mask.bool(), _token_log_probs(logits, tokens), 0.0)


def sequence_log_probs_max_token(logits, tokens, mask):
    best = torch.log_softmax(logits, dim=-1).max(dim=-1).values
    return torch.where(mask.bool(), best, 0.0).sum(-1)


def _kl_part(log_probs, ref_log_probs, mask, beta):
    return torch.where(mask.bool(), -beta * (log_probs - ref_log_probs), 0.0).detach()


def kl_penalized_rewards_score_after_the_end(score, log_probs, ref_log_probs, mask, beta):
    rewards = _kl_part(log_probs, ref_log_probs, mask, beta)
    ends = mask.bool().sum(1).clamp(max=mask.shape[1] - 1)
    rewards[torch.arange(len(score)), ends] += score.detach()
    return rewards


def kl_penalized_rewards_ratio_not_log(score, log_probs, ref_log_probs, mask, beta):
    rewards = torch.where(mask.bool(), -beta * torch.exp(log_probs - ref_log_probs), 0.0)
    rewards = rewards.detach()
    rewards[torch.arange(len(score)), mask.bool().sum(1) - 1] += score.detach()
    return rewards


def kl_penalized_rewards_beta_on_score(score, log_probs, ref_log_probs, mask, beta):
    rewards = _kl_part(log_probs, ref_log_probs, mask, beta)
    rewards[torch.arange(len(score)), mask.bool().sum(1) - 1] += beta * score.detach()
    return rewards


def kl_penalized_rewards_reference_minus_policy(score, log_probs, ref_log_probs, mask, beta):
    rewards = _kl_part(ref_log_probs, log_probs, mask, beta)
    rewards[torch.arange(len(score)), mask.bool().sum(1) - 1] += score.detach()
    return rewards


def rloo_advantages_list(rewards):
    k = rewards.shape[1]
    return [[float(r) - (float(row.sum()) - float(r)) / (k - 1) for r in row] for row in rewards]


def rloo_advantages_global_mean(rewards):
    return rewards - rewards.mean()


def rloo_advantages_sum_over_k_minus_one(rewards):
    k = rewards.shape[1]
    return rewards - rewards.sum(dim=1, keepdim=True) / (k - 1)


def rloo_advantages_median(rewards):
    return rewards - rewards.median(dim=1, keepdim=True).values


def _dpo_margin(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps,
                ref_rejected_logps):
    return ((policy_chosen_logps - ref_chosen_logps.detach())
            - (policy_rejected_logps - ref_rejected_logps.detach()))


def dpo_loss_sigmoid(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps,
                     ref_rejected_logps, beta):
    margin = _dpo_margin(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps,
                         ref_rejected_logps)
    return -torch.sigmoid(beta * margin).mean()


def dpo_loss_beta_divides(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps,
                          ref_rejected_logps, beta):
    margin = _dpo_margin(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps,
                         ref_rejected_logps)
    return -F.logsigmoid(margin / beta).mean()


def dpo_loss_reference_ratio_inverted(policy_chosen_logps, policy_rejected_logps,
                                      ref_chosen_logps, ref_rejected_logps, beta):
    margin = ((ref_chosen_logps.detach() - policy_chosen_logps)
              - (ref_rejected_logps.detach() - policy_rejected_logps))
    return -F.logsigmoid(beta * margin).mean()


def dpo_loss_without_minus(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps,
                           ref_rejected_logps, beta):
    margin = _dpo_margin(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps,
                         ref_rejected_logps)
    return F.logsigmoid(beta * margin).mean()


def rebel_loss_eta_on_rewards(log_ratio_a, log_ratio_b, reward_a, reward_b, eta):
    return (((log_ratio_a - log_ratio_b) - (reward_a - reward_b).detach() / eta) ** 2).mean()


def rebel_loss_not_squared(log_ratio_a, log_ratio_b, reward_a, reward_b, eta):
    return ((log_ratio_a - log_ratio_b) / eta - (reward_a - reward_b).detach()).mean()


def rebel_loss_root_mean_square(log_ratio_a, log_ratio_b, reward_a, reward_b, eta):
    residual = (log_ratio_a - log_ratio_b) / eta - (reward_a - reward_b).detach()
    return (residual**2).mean().sqrt()


def rebel_loss_log_ratios_added(log_ratio_a, log_ratio_b, reward_a, reward_b, eta):
    return (((log_ratio_a + log_ratio_b) / eta - (reward_a - reward_b).detach()) ** 2).mean()
# --- round 2 (issue 22): more of 01-04, written from the docstrings: wrong axes, integer casts,
# missing masks, off-by-one loops, broadcast shapes, in-place edits, signs, edge inputs


def expected_rewards_sum_over_actions(mdp):
    return np.einsum("sat,sat->st", mdp.P, mdp.R)


def expected_rewards_mean_of_products(mdp):
    return np.mean(mdp.P * mdp.R, axis=2)


def trajectory_probability_drops_last_step(mdp, states, actions, policy):
    p = mdp.mu[states[0]]
    for t in range(len(actions) - 1):
        p *= policy[states[t], actions[t]] * mdp.P[states[t], actions[t], states[t + 1]]
    return float(p)


def discounted_return_int_rewards(rewards, gamma):
    rewards = np.asarray(rewards, dtype=int)
    return float(np.sum(gamma ** np.arange(len(rewards)) * rewards))


def discounted_return_in_place(rewards, gamma):
    if isinstance(rewards, np.ndarray):
        rewards *= gamma ** np.arange(len(rewards))
        return float(rewards.sum())
    return float(sum(gamma**t * r for t, r in enumerate(rewards)))


def v_from_q_mean_over_states(q_values, policy):
    return np.mean(policy * q_values, axis=0)


def evaluate_policy_exact_transposed(mdp, policy):
    live = np.flatnonzero(~mdp.terminal)
    p_pi = np.einsum("sa,sat->ts", policy, mdp.P)  # indexed [s', s]
    r_pi = np.sum(policy * np.sum(mdp.P * mdp.R, axis=2), axis=1)
    values = np.zeros(mdp.n_states)
    a = np.eye(len(live)) - mdp.gamma * p_pi[np.ix_(live, live)]
    values[live] = np.linalg.solve(a, r_pi[live])
    return values


def q_from_v_masks_reward_too(mdp, values):
    alive = 1.0 - mdp.terminal
    q = np.einsum("sat,sat->sa", mdp.P, (mdp.R + mdp.gamma * values[None, None, :]) * alive)
    return q * alive[:, None]


def q_from_v_no_masks(mdp, values):
    return np.einsum("sat,sat->sa", mdp.P, mdp.R) + mdp.gamma * np.einsum(
        "sat,t->sa", mdp.P, values)


def value_iteration_step_max_over_states(mdp, values):
    return _qv(mdp, values).max(axis=0)


def value_iteration_step_in_place(mdp, values):
    values[:] = np.where(mdp.terminal, 0.0, _qv(mdp, values).max(axis=1))
    return values


def greedy_policy_argmax_over_states(mdp, values):
    return np.argmax(_qv(mdp, values), axis=0)


def policy_evaluation_step_mean_over_actions(mdp, values, policy):
    return np.where(mdp.terminal, 0.0, np.mean(policy * _qv(mdp, values), axis=1))


def q_value_iteration_step_in_place(mdp, q_values):
    q_values[:] = _qv(mdp, q_values.max(axis=1))
    q_values[mdp.terminal] = 0.0
    return q_values


def q_learning_update_in_place(q_values, state, action, reward, next_state, terminated, alpha,
                               gamma):
    target = reward + gamma * (1 - terminated) * np.max(q_values[next_state])
    q_values[state, action] += alpha * (target - q_values[state, action])
    return q_values


def q_learning_update_mask_inverted(q_values, state, action, reward, next_state, terminated,
                                    alpha, gamma):
    q = np.array(q_values, dtype=float)
    target = reward + gamma * float(terminated) * q[next_state].max()
    q[state, action] += alpha * (target - q[state, action])
    return q


def q_learning_update_max_of_current_state(q_values, state, action, reward, next_state,
                                           terminated, alpha, gamma):
    q = np.array(q_values, dtype=float)
    target = reward + gamma * (1 - terminated) * q[state].max()
    q[state, action] += alpha * (target - q[state, action])
    return q


def linear_epsilon_divides_by_zero(step, start, end, decay_steps):
    return start + (end - start) * min(1.0, step / decay_steps)


def linear_epsilon_int_fraction(step, start, end, decay_steps):
    if step >= decay_steps:
        return end
    return start + (end - start) * int(step / decay_steps)


def sample_batch_without_replacement(buffer, batch_size, rng):
    i = rng.choice(len(buffer), size=batch_size, replace=False)
    return Batch(buffer.obs[i], buffer.actions[i], buffer.rewards[i], buffer.next_obs[i],
                 buffer.terminated[i], buffer.truncated[i])


def td_target_max_over_batch(rewards, next_q_values, terminated, gamma):
    return (rewards + gamma * (1 - terminated) * next_q_values.max(dim=0).values).detach()


def td_target_masks_everything(rewards, next_q_values, terminated, gamma):
    return ((1 - terminated) * (rewards + gamma * next_q_values.max(dim=1).values)).detach()


def dqn_loss_column_minus_row(q_values, actions, targets):
    chosen = q_values.gather(1, actions.unsqueeze(1))
    error = (chosen - targets.detach()).abs()
    return torch.where(error < 1, 0.5 * error**2, error - 0.5).mean()


def dqn_loss_fancy_index(q_values, actions, targets):
    return F.smooth_l1_loss(q_values[:, actions], targets.detach())


def dqn_loss_sign_swapped(q_values, actions, targets):
    chosen = q_values.gather(1, actions.unsqueeze(1)).squeeze(1)
    return -F.smooth_l1_loss(chosen, targets.detach())


def update_target_without_no_grad(online, target, tau=1.0):
    for p, tp in zip(online.parameters(), target.parameters(), strict=True):
        tp.copy_(tau * p + (1 - tau) * tp)


def update_target_rebinds(online, target, tau=1.0):
    for p, tp in zip(online.parameters(), target.parameters(), strict=True):
        tp = tau * p.detach() + (1 - tau) * tp.detach()  # noqa: PLW2901 (the bug)


def grad_log_softmax_not_normalised(theta, action):
    z = np.asarray(theta, dtype=float)
    g = -np.exp(z - z.max())
    g[action] += 1.0
    return g


def grad_log_softmax_shifts_theta_in_place(theta, action):
    theta -= np.max(theta)
    p = np.exp(theta) / np.exp(theta).sum()
    g = -p
    g[action] += 1.0
    return g


def score_function_gradient_mean_over_actions(theta, f, samples):
    f = np.asarray(f, dtype=float)
    return np.mean([_score(theta, x) * f[x] for x in samples], axis=1)


def grad_log_softmax_linear_features_column(theta, features, action):
    features = np.asarray(features, dtype=float)
    p = _softmax(features @ theta)
    return features[:, action] - p @ features[:, action]


def reinforce_gradient_no_mean_axis(theta, episodes):
    grads = []
    for ep in episodes:
        g = np.zeros_like(theta, dtype=float)
        for s, a in zip(ep.states[:-1], ep.actions, strict=True):
            g[s] += _score(theta[s], a) * np.sum(ep.rewards)
        grads.append(g)
    return np.mean(grads, axis=1)


def reinforce_gradient_into_theta(theta, episodes):
    grad = theta
    grad[:] = 0.0
    for ep in episodes:
        for s, a in zip(ep.states[:-1], ep.actions, strict=True):
            grad[s] += _score(np.zeros(theta.shape[1]), a) * np.sum(ep.rewards)
    return grad / len(episodes)


def reward_to_go_stops_before_first(rewards, gamma):
    out = np.zeros(len(rewards))
    t = len(rewards) - 1
    while t > 0:
        out[t] = rewards[t] + (gamma * out[t + 1] if t + 1 < len(rewards) else 0.0)
        t -= 1
    return out


def reward_to_go_in_place(rewards, gamma):
    rewards = rewards if isinstance(rewards, np.ndarray) else np.array(rewards, dtype=float)
    for t in range(len(rewards) - 2, -1, -1):
        rewards[t] += gamma * rewards[t + 1]
    return rewards


def reward_to_go_gradient_int_to_go(theta, episodes):
    grad = np.zeros_like(theta, dtype=float)
    for ep in episodes:
        to_go = _rtg(ep.rewards).astype(int)
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            grad[s] += _score(theta[s], a) * to_go[h]
    return grad / len(episodes)


def baseline_gradient_baseline_of_action(theta, episodes, baseline):
    grad = np.zeros_like(theta, dtype=float)
    for ep in episodes:
        g = _rtg(ep.rewards)
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            grad[s] += _score(theta[s], a) * (g[h] - baseline[a])
    return grad / len(episodes)


def reinforce_loss_product_of_means(log_probs, weights):
    return -(log_probs.mean() * weights.detach().mean())


def reinforce_loss_column_weights(log_probs, weights):
    return -(log_probs * weights.detach().unsqueeze(1)).mean()


#: spec name -> (label, function, keywords its hint must contain to name the mistake)
HELDOUT: dict[str, list[tuple[str, object, tuple[str, ...]]]] = {
    "mdps.run_episode": [
        ("reset without the seed", run_episode_reset_unseeded, ("seed",)),
        ("stops only when terminated", run_episode_only_terminated, ("truncated",)),
        ("acts on the first observation", run_episode_first_obs, ("observation",)),
        ("drops the final reward", run_episode_append_before_check, ("last",)),
        ("casts rewards to int", run_episode_int_rewards, ("truncat",)),
    ],
    "mdps.expected_rewards": [
        ("plain mean over s'", expected_rewards_plain_mean, ("probabilit",)),
        ("sums over actions", expected_rewards_first_axis, ("axis",)),
        ("sums R over s' without P", expected_rewards_sum_R, ("P(s'|s,a)",)),
        ("no return", expected_rewards_no_return, ("None",)),
        ("integer table", expected_rewards_int, ("truncat",)),
        ("sums over actions (einsum to st)", expected_rewards_sum_over_actions, ("axis",)),
        ("mean of P * R over s'", expected_rewards_mean_of_products, ("mean",)),
    ],
    "mdps.trajectory_probability": [
        ("no mu", trajectory_probability_no_mu, ("mu(s_0)",)),
        ("uniform start", trajectory_probability_uniform_mu, ("mu(s_0)",)),
        ("policy of the next state", trajectory_probability_next_state_policy,
         ("pi(a_t", "s_t")),
        ("environment only", trajectory_probability_only_env, ("policy",)),
        ("log-probability", trajectory_probability_log_sum, ("logarithm",)),
        ("loop stops one step early", trajectory_probability_drops_last_step, ("last",)),
    ],
    "mdps.discounted_return": [
        ("forward Horner (reversed discount)", discounted_return_forward_horner,
         ("later rewards",)),
        ("returns the discounted terms", discounted_return_terms, ("single number",)),
        ("skips the last reward", discounted_return_skips_last, ("last",)),
        ("int()", discounted_return_int, ("truncat",)),
        ("no return", discounted_return_no_return, ("None",)),
        ("rewards cast to int", discounted_return_int_rewards, ("integer",)),
        ("discounts the input array in place", discounted_return_in_place, ("argument",)),
    ],
    "mdps.v_from_q": [
        ("max over actions", v_from_q_max, ("max",)),
        ("matrix product", v_from_q_matmul, ("axis",)),
        ("sum over states", v_from_q_axis0, ("axis",)),
        ("mean over actions", v_from_q_mean, ("1/",)),
        ("no return", v_from_q_no_return, ("None",)),
        ("mean over states", v_from_q_mean_over_states, ("axis",)),
    ],
    "mdps.evaluate_policy_exact": [
        ("keeps terminal rows", evaluate_policy_exact_keep_terminals, ("terminal",)),
        ("no gamma", evaluate_policy_exact_no_gamma, ("gamma",)),
        ("rewards only", evaluate_policy_exact_rewards_only, ("linear system",)),
        ("plus gamma P", evaluate_policy_exact_plus, ("sign",)),
        ("ten sweeps", evaluate_policy_exact_iterate_few, ("linear system",)),
        ("P_pi transposed", evaluate_policy_exact_transposed, ("transpose",)),
    ],
    "mdps.monte_carlo_value": [
        ("undiscounted returns", monte_carlo_value_plain_sum, ("discount",)),
        ("fresh generator", monte_carlo_value_new_rng, ("rng",)),
        ("divides by steps", monte_carlo_value_divides_by_steps, ("episodes",)),
        ("keeps the last return", monte_carlo_value_last_return, ("average",)),
    ],
    "bellman.q_from_v": [
        ("no gamma", q_from_v_no_discount, ("gamma",)),
        ("bootstraps terminals", q_from_v_uses_terminal_values, ("terminal",)),
        ("V of the current state", q_from_v_expected_rewards_plus_v, ("next state",)),
        ("zeroes terminal rows", q_from_v_masks_current_state, ("terminal",)),
        ("int table", q_from_v_int_table, ("truncat",)),
        ("masks the reward into terminals too", q_from_v_masks_reward_too, ("reward",)),
        ("no terminal mask at all", q_from_v_no_masks, ("terminal",)),
    ],
    "bellman.value_iteration_step": [
        ("mean over actions", value_iteration_step_mean, ("max",)),
        ("terminals not zeroed", value_iteration_step_terminal_not_zeroed, ("terminal",)),
        ("bootstraps terminals", value_iteration_step_bootstrap_terminal, ("terminal",)),
        ("in place sweep", value_iteration_step_gauss_seidel, ("argument",)),
        ("returns Q", value_iteration_step_keeps_q, ("shape",)),
        ("max over states", value_iteration_step_max_over_states, ("axis",)),
        ("writes into values", value_iteration_step_in_place, ("argument",)),
    ],
    "bellman.greedy_policy": [
        ("flat argmax", greedy_policy_argmax_flat, ("axis",)),
        ("ignores rewards", greedy_policy_argmax_v_next, ("reward",)),
        ("no gamma", greedy_policy_no_gamma, ("gamma",)),
        ("returns max values", greedy_policy_max_values, ("indices",)),
        ("last index on ties", greedy_policy_last_tie, ("lowest",)),
        ("argmax over states", greedy_policy_argmax_over_states, ("axis",)),
    ],
    "bellman.policy_evaluation_step": [
        ("most likely action only", policy_evaluation_step_argmax_policy, ("pi(a|s)",)),
        ("terminals not zeroed", policy_evaluation_step_no_terminal_zero, ("terminal",)),
        ("sums everything", policy_evaluation_step_sum_over_states, ("axis",)),
        ("no gamma", policy_evaluation_step_no_gamma, ("gamma",)),
        ("returns pi * Q", policy_evaluation_step_returns_q, ("shape",)),
        ("mean over actions", policy_evaluation_step_mean_over_actions, ("mean",)),
    ],
    "bellman.policy_iteration": [
        ("two rounds only", policy_iteration_fixed_rounds, ("until the policy stops",)),
        ("wrong values", policy_iteration_returns_q, ("values",)),
        ("returns (values, policy)", policy_iteration_swapped, ("(policy, values)",)),
        ("one-sweep evaluation", policy_iteration_one_step_eval, ("evaluate",)),
    ],
    "bellman.q_value_iteration_step": [
        ("no terminal mask", q_value_iteration_step_no_mask, ("terminal",)),
        ("max over states", q_value_iteration_step_max_axis0, ("axis 1",)),
        ("no gamma", q_value_iteration_step_no_gamma, ("gamma",)),
        ("returns V", q_value_iteration_step_returns_v, ("shape",)),
        ("softmax-weighted", q_value_iteration_step_policy_weighted, ("max",)),
        ("writes into q_values", q_value_iteration_step_in_place, ("argument",)),
    ],
    "bellman.epsilon_greedy": [
        ("argmax ties", epsilon_greedy_argmax_ties, ("ties",)),
        ("global numpy rng", epsilon_greedy_uses_global_rng, ("rng",)),
        ("comparison flipped", epsilon_greedy_wrong_comparison, ("probability epsilon",)),
        ("never explores the last action", epsilon_greedy_excludes_last, ("excludes",)),
        ("returns a Q-value", epsilon_greedy_returns_value, ("index",)),
    ],
    "bellman.q_learning_update": [
        ("ignores terminated", q_learning_update_terminated_ignored, ("terminated",)),
        ("integer table", q_learning_update_int_table, ("truncat",)),
        ("mean of the next row", q_learning_update_sarsa_like, ("max",)),
        ("alpha on the target only", q_learning_update_alpha_on_target, ("alpha",)),
        ("returns the entry", q_learning_update_returns_entry, ("table",)),
        ("updates the table in place", q_learning_update_in_place, ("argument",)),
        ("bootstraps only when terminated", q_learning_update_mask_inverted, ("terminated",)),
        ("max over the current state's row", q_learning_update_max_of_current_state,
         ("next_state",)),
    ],
    "dqn.linear_epsilon": [
        ("no clamp", linear_epsilon_no_min, ("clamp",)),
        ("max(end, ...) clamp", linear_epsilon_max_clamp, ("rise",)),
        ("slope times start", linear_epsilon_wrong_slope, ("linear",)),
        ("reaches end one step early", linear_epsilon_returns_end_early, ("step == decay_steps",)),
        ("starts at end", linear_epsilon_from_end, ("starts at `start`",)),
        ("divides by zero at decay_steps = 0", linear_epsilon_divides_by_zero,
         ("decay_steps = 0",)),
        ("int() of the fraction", linear_epsilon_int_fraction, ("int",)),
    ],
    "dqn.sample_batch": [
        ("whole capacity", sample_batch_capacity, ("filled",)),
        ("terminated | truncated", sample_batch_done_merged, ("truncated",)),
        ("next_obs from the next row", sample_batch_next_obs_shifted, ("next_obs",)),
        ("a contiguous window", sample_batch_without_replacement_start, ("independent",)),
        ("fixed seed", sample_batch_fixed_seed, ("rng",)),
        ("without replacement", sample_batch_without_replacement, ("replace",)),
    ],
    "dqn.td_target": [
        ("no terminal mask", td_target_truncated_too, ("terminated",)),
        ("keepdim broadcasting", td_target_keepdim, ("broadcast",)),
        ("no gamma", td_target_no_gamma, ("gamma",)),
        ("min over actions", td_target_min, ("max",)),
        ("gamma twice", td_target_gamma_squared, ("gamma",)),
        ("max over the batch (dim=0)", td_target_max_over_batch, ("dim",)),
        ("masks the reward too", td_target_masks_everything, ("reward",)),
    ],
    "dqn.dqn_loss": [
        ("MSE", dqn_loss_mse, ("huber",)),
        ("no squeeze", dqn_loss_no_squeeze, ("broadcast",)),
        ("L1", dqn_loss_l1, ("huber",)),
        ("first action's Q", dqn_loss_first_action, ("taken",)),
        ("half MSE", dqn_loss_half_mse, ("huber",)),
        ("(B, 1) - (B,) in a hand-written Huber", dqn_loss_column_minus_row, ("broadcast",)),
        ("q_values[:, actions]", dqn_loss_fancy_index, ("(B, B)",)),
        ("minus the loss", dqn_loss_sign_swapped, ("sign",)),
    ],
    "dqn.update_target": [
        ("copies target into online", update_target_state_dict_reversed, ("target towards",)),
        ("tau swapped", update_target_tau_swapped, ("tau weighs",)),
        ("plain copy ignores tau", update_target_copy_only, ("tau < 1",)),
        ("adds instead of mixing", update_target_add, ("tau",)),
        ("first parameter only", update_target_only_first, ("every parameter",)),
        ("copy_ without torch.no_grad()", update_target_without_no_grad, ("no_grad",)),
        ("rebinds the loop variable", update_target_rebinds, ("in place",)),
    ],
    "reinforce.grad_log_softmax": [
        ("softmax not shifted", grad_log_softmax_no_shift_overflow, ("max",)),
        ("probs minus one-hot", grad_log_softmax_probs_minus_onehot, ("sign",)),
        ("one-hot only", grad_log_softmax_onehot, ("softmax",)),
        ("component a only", grad_log_softmax_only_action, ("j != a",)),
        ("integer logits", grad_log_softmax_int_theta, ("truncat",)),
        ("softmax not normalised", grad_log_softmax_not_normalised, ("normalis",)),
        ("shifts theta in place", grad_log_softmax_shifts_theta_in_place, ("argument",)),
    ],
    "reinforce.score_function_gradient": [
        ("sum not mean", score_function_gradient_sum, ("average",)),
        ("one-hot scores", score_function_gradient_onehot_only, ("softmax",)),
        ("f indexed by sample number", score_function_gradient_f_of_index, ("f(x_i)",)),
        ("negated", score_function_gradient_negated, ("sign",)),
        ("E[f] times mean score", score_function_gradient_expected_f, ("own f",)),
        ("mean over the wrong axis", score_function_gradient_mean_over_actions, ("axis",)),
    ],
    "reinforce.grad_log_softmax_linear": [
        ("logit score", grad_log_softmax_linear_logits_score, ("shape",)),
        ("mean feature", grad_log_softmax_linear_mean_features, ("weight",)),
        ("no expectation", grad_log_softmax_linear_no_expectation, ("subtract",)),
        ("flipped", grad_log_softmax_linear_flipped, ("sign",)),
        ("only phi(s,a) term", grad_log_softmax_linear_theta_logits, ("expect",)),
        ("features column instead of row", grad_log_softmax_linear_features_column,
         ("axis",)),
    ],
    "reinforce.reinforce_gradient": [
        ("final reward", reinforce_gradient_final_reward, ("R(tau)",)),
        ("states shifted", reinforce_gradient_states_shift, ("states[t]",)),
        ("no average", reinforce_gradient_no_average, ("N",)),
        ("one-hot score", reinforce_gradient_onehot, ("subtract",)),
        ("reward-to-go weights", reinforce_gradient_rtg, ("R(tau)",)),
        ("mean over the wrong axis", reinforce_gradient_no_mean_axis, ("axis",)),
        ("accumulates into theta", reinforce_gradient_into_theta, ("argument",)),
    ],
    "reinforce.reward_to_go": [
        ("excludes r_t", reward_to_go_shifted, ("includes r_t",)),
        ("forward cumsum", reward_to_go_forward_cumsum, ("end",)),
        ("int array", reward_to_go_int_array, ("truncat",)),
        ("gamma^t' discount", reward_to_go_gamma_power_t, ("gamma^(t' - t)",)),
        ("no return", reward_to_go_no_return, ("None",)),
        ("gamma on r_t too", reward_to_go_extra_gamma, ("gamma",)),
        ("loop stops before t = 0", reward_to_go_stops_before_first, ("G_0",)),
        ("accumulates into rewards", reward_to_go_in_place, ("argument",)),
    ],
    "reinforce.reward_to_go_gradient": [
        ("total return", reward_to_go_gradient_total, ("total",)),
        ("excludes r_h", reward_to_go_gradient_excludes_current, ("r_h",)),
        ("divides by steps", reward_to_go_gradient_steps_mean, ("episodes",)),
        ("discounted 0.99", reward_to_go_gradient_discounted, ("gamma = 1",)),
        ("negated", reward_to_go_gradient_negative, ("sign",)),
        ("reward-to-go cast to int", reward_to_go_gradient_int_to_go, ("integer",)),
    ],
    "reinforce.baseline_gradient": [
        ("adds the baseline", baseline_gradient_added, ("subtract",)),
        ("mean baseline", baseline_gradient_mean_baseline, ("baseline[s_h]",)),
        ("baseline by step", baseline_gradient_baseline_by_step, ("baseline[s_h]",)),
        ("total return minus b", baseline_gradient_total_return, ("reward-to-go",)),
        ("subtracts only at the start", baseline_gradient_subtract_once, ("each step",)),
        ("baseline indexed by the action", baseline_gradient_baseline_of_action,
         ("baseline[s_h]",)),
    ],
    "reinforce.reinforce_loss": [
        ("positive sign", reinforce_loss_positive, ("descend",)),
        ("weights not detached", reinforce_loss_not_detached, ("detach",)),
        ("sum", reinforce_loss_sum, ("average",)),
        ("probabilities", reinforce_loss_exp, ("log",)),
        ("per-step losses", reinforce_loss_not_scalar, ("scalar",)),
        ("product of the means", reinforce_loss_product_of_means,
         ("not mean(log_probs) * mean(weights)",)),
        ("(B,) times (B, 1)", reinforce_loss_column_weights, ("broadcast",)),
    ],
    "actor_critic.action_values": [
        ("terminal rows kept", action_values_keeps_terminal_rows, ("terminal",)),
        ("infinite-horizon V tiled", action_values_infinite_horizon, ("steps left",)),
        ("theta as probabilities", action_values_theta_as_probabilities, ("softmax",)),
        ("(S, A, H) layout", action_values_transposed, ("shape",)),
        ("integer table", action_values_int_table, ("truncat",)),
    ],
    "actor_critic.action_value_gradient": [
        ("reward-to-go weights", action_value_gradient_reward_to_go, ("q_values[h, s_h, a_h]",)),
        ("no average", action_value_gradient_sum, ("N",)),
        ("negated", action_value_gradient_negated, ("sign",)),
        ("last row of Q", action_value_gradient_last_row, ("row h",)),
        ("policy average of Q", action_value_gradient_policy_average, ("TAKEN",)),
    ],
    "actor_critic.advantage_gradient": [
        ("V recomputed from Q", advantage_gradient_own_values, ("values[h, s_h]",)),
        ("negated", advantage_gradient_negated, ("sign",)),
        ("divides by steps", advantage_gradient_steps_mean, ("episodes",)),
        ("V of the start state", advantage_gradient_values_of_start, ("values[h, s_h]",)),
        ("Q only", advantage_gradient_forgets_values, ("subtract",)),
    ],
    "actor_critic.td_residual_gradient": [
        ("wraps around at the end", td_residual_gradient_wraps_around, ("last step",)),
        ("zero only when terminated", td_residual_gradient_terminal_flag, ("last step",)),
        ("discounted 0.99", td_residual_gradient_discounted, ("undiscounted",)),
        ("no - V(s_h)", td_residual_gradient_no_baseline, ("- V_h(s_h)",)),
        ("row h for s_{h+1}", td_residual_gradient_value_row_h, ("h + 1",)),
        ("negated", td_residual_gradient_negated, ("sign",)),
    ],
    "actor_critic.td_errors": [
        ("a list", td_errors_list, ("numpy array",)),
        ("next row's value", td_errors_next_row_as_next_value, ("next_values",)),
        ("gamma on the reward", td_errors_gamma_on_reward, ("gamma",)),
        ("no - V(s_t)", td_errors_without_baseline, ("V(s_t)",)),
    ],
    "actor_critic.gae": [
        ("cut only at termination", gae_cut_only_at_termination, ("truncated",)),
        ("lambda without gamma", gae_lambda_only, ("gamma",)),
        ("no decay", gae_sum_without_decay, ("lambda",)),
        ("next row's value", gae_next_row_values, ("next_values",)),
    ],
    "actor_critic.a2c_loss": [
        ("nothing detached", a2c_loss_nothing_detached, ("detach",)),
        ("entropy summed", a2c_loss_entropy_summed, ("mean",)),
        ("values detached", a2c_loss_values_detached, ("values",)),
        ("coefficients swapped", a2c_loss_entropy_coef_on_critic, ("value_coef",)),
    ],
    "actor_critic.gaussian_log_prob": [
        ("sigma squared in z", gaussian_log_prob_std_squared, ("sigma",)),
        ("one value per dimension", gaussian_log_prob_per_dimension, ("sum",)),
        ("a tensor for numpy inputs", gaussian_log_prob_tensor_for_numpy, ("numpy array",)),
        ("log 2 pi, not its half", gaussian_log_prob_full_log_2pi, ("2 pi",)),
    ],
    "ppo.advantage_table": [
        ("theta as probabilities", advantage_table_theta_as_probabilities, ("pi",)),
        ("first step only", advantage_table_first_step_only, ("shape",)),
        ("V averaged over states", advantage_table_value_over_states, ("V_h(s)",)),
        ("no return", advantage_table_no_return, ("None",)),
    ],
    "ppo.state_distribution": [
        ("exp(theta) unnormalised", state_distribution_unnormalised_policy, ("pi",)),
        ("start row keeps terminals", state_distribution_start_not_masked, ("terminal",)),
        ("cumulative over steps", state_distribution_cumulative, ("d_{h+1}",)),
        ("H + 1 rows", state_distribution_horizon_plus_one, ("shape",)),
    ],
    "ppo.performance_difference": [
        ("the new policy's advantages", performance_difference_new_advantages,
         ("theta_old",)),
        ("everything from the old policy", performance_difference_all_old, ("new",)),
        ("last step only", performance_difference_last_step, ("every step",)),
        ("mean over steps", performance_difference_mean_over_steps, ("sum",)),
    ],
    "ppo.surrogate": [
        ("a float", surrogate_float, ("torch",)),
        ("no pi_old weights", surrogate_no_old_weights, ("pi_old(a|s)",)),
        ("softmax over states", surrogate_softmax_over_states, ("dim=-1",)),
        ("theta as probabilities", surrogate_theta_as_probabilities, ("softmax",)),
    ],
    "ppo.importance_ratio": [
        ("clone, not detach", importance_ratio_clone_not_detach, ("detach",)),
        ("numpy", importance_ratio_numpy, ("tensor",)),
        ("softmax", importance_ratio_softmax, ("exp",)),
        ("ratio of sums", importance_ratio_of_sums, ("shape",)),
    ],
    "ppo.ppo_clip_loss": [
        ("advantages not detached", ppo_clip_loss_advantages_not_detached, ("detach",)),
        ("clamps r * A inside the min", ppo_clip_loss_clamps_r_times_a, ("clip the ratio",)),
        ("upper bound only", ppo_clip_loss_upper_bound_only, ("both sides",)),
        ("min of the negated terms", ppo_clip_loss_min_of_losses, ("min",)),
    ],
    "ppo.clipped_value_loss": [
        ("old values not detached", clipped_value_loss_old_values_not_detached, ("detach",)),
        ("clipped around the returns", clipped_value_loss_around_returns, ("V_old",)),
        ("None as 0", clipped_value_loss_none_as_zero, ("None",)),
        ("sum", clipped_value_loss_sum, ("mean",)),
    ],
    "ppo.ppo_loss": [
        ("entropy per step", ppo_loss_entropy_per_step, ("mean",)),
        ("value_coef on the clip loss", ppo_loss_value_coef_on_clip, ("value_coef",)),
        ("the objective, not the loss", ppo_loss_objective, ("sign",)),
    ],
    "ppo.approx_kl": [
        ("probabilities", approx_kl_probabilities, ("old_log_probs - log_probs",)),
        ("per sample", approx_kl_per_sample, ("mean",)),
        ("r - 1", approx_kl_ratio_minus_one, ("old_log_probs - log_probs",)),
    ],
    "ppo.approx_kl_low_variance": [
        ("no - log r", approx_kl_low_variance_no_log, ("log r",)),
        ("per sample", approx_kl_low_variance_per_sample, ("mean",)),
        ("(r - 1)^2 / 2", approx_kl_low_variance_squared, ("(r - 1) - log r",)),
    ],
    "ppo.normalize_advantages": [
        ("max abs", normalize_advantages_max_abs, ("std",)),
        ("min-max", normalize_advantages_min_max, ("mean",)),
        ("mean per column", normalize_advantages_per_column, ("every entry",)),
    ],
    "ppo.minibatch_indices": [
        ("a permutation per minibatch", minibatch_indices_permutation_each, ("once",)),
        ("parts one too long", minibatch_indices_size_plus_one, ("n_minibatches",)),
        ("with replacement", minibatch_indices_integers, ("permutation",)),
    ],
    "rlhf.ranking_pairs": [
        ("pairs a response with itself", ranking_pairs_with_itself, ("itself",)),
        ("no return", ranking_pairs_no_return, ("None",)),
        ("sorted indices", ranking_pairs_sorted_indices, ("ranking",)),
        ("two lists", ranking_pairs_two_lists, ("pair",)),
    ],
    "rlhf.bradley_terry_loss": [
        ("sigmoid, no log", bradley_terry_loss_sigmoid, ("log",)),
        ("sum", bradley_terry_loss_sum, ("mean",)),
        ("chosen and rejected swapped", bradley_terry_loss_swapped, ("chosen",)),
        ("log of sigmoid", bradley_terry_loss_log_of_sigmoid, ("logsigmoid",)),
    ],
    "rlhf.preference_accuracy": [
        ("ties lost", preference_accuracy_ties_lost, ("tie",)),
        ("ties won", preference_accuracy_ties_won, ("tie",)),
        ("a count", preference_accuracy_count, ("fraction",)),
    ],
    "rlhf.sequence_log_probs": [
        ("mask inverted", sequence_log_probs_mask_inverted, ("mask",)),
        ("negative log-likelihood", sequence_log_probs_negative_log_likelihood, ("sign",)),
        ("per token", sequence_log_probs_per_token, ("sum",)),
        ("most likely token", sequence_log_probs_max_token, ("gather",)),
    ],
    "rlhf.kl_penalized_rewards": [
        ("score after the end", kl_penalized_rewards_score_after_the_end, ("- 1",)),
        ("ratio, not log-ratio", kl_penalized_rewards_ratio_not_log, ("log",)),
        ("beta on the score", kl_penalized_rewards_beta_on_score, ("score",)),
        ("reference minus policy", kl_penalized_rewards_reference_minus_policy, ("penalty",)),
    ],
    "rlhf.rloo_advantages": [
        ("a list", rloo_advantages_list, ("tensor",)),
        ("global mean", rloo_advantages_global_mean, ("prompt",)),
        ("sum / (k - 1)", rloo_advantages_sum_over_k_minus_one, ("other",)),
        ("median", rloo_advantages_median, ("mean",)),
    ],
    "rlhf.dpo_loss": [
        ("sigmoid, no log", dpo_loss_sigmoid, ("log",)),
        ("beta divides", dpo_loss_beta_divides, ("beta",)),
        ("log-ratios inverted", dpo_loss_reference_ratio_inverted, ("log pi",)),
        ("without the minus", dpo_loss_without_minus, ("sign",)),
    ],
    "rlhf.rebel_loss": [
        ("eta divides the rewards", rebel_loss_eta_on_rewards, ("eta",)),
        ("not squared", rebel_loss_not_squared, ("square",)),
        ("root mean square", rebel_loss_root_mean_square, ("square",)),
        ("log-ratios added", rebel_loss_log_ratios_added, ("log_ratio_a - log_ratio_b",)),
    ],
    "alphago.uct_scores": [
        ("c inside the square root", uct_c_inside_root, ("c * sqrt",)),
        ("ln(N(s) + 1)", uct_log_of_parent_plus_one, ("ln N(s)",)),
    ],
    "alphago.puct_scores": [
        ("1 + N(s) without the root", puct_parent_without_root, ("square root",)),
        ("prior replaced by 1/n", puct_uniform_prior, ("prior",)),
    ],
    "alphago.select_action": [
        ("-1e9 for the illegal moves", select_fill_minus_large, ("legal",)),
        ("index into the legal moves", select_index_into_legal, ("legal",)),
    ],
    "alphago.evaluate_leaf": [
        ("the mix turned by player", leaf_mixed_then_turned, ("view",)),
        ("lambda ignored", leaf_plain_average, ("mixing",)),
    ],
    "alphago.backup": [
        ("sign by node parity", backup_sign_by_node_parity, ("the edge into the leaf",)),
        ("value added to the counts", backup_value_into_counts, ("+= 1",)),
    ],
    "alphago.visit_policy": [
        ("not normalised", visit_policy_unnormalised, ("sum to 1",)),
        ("tau 0 uniform over the visited", visit_policy_tau_zero_uniform, ("most visited",)),
    ],
    "alphago.value_targets": [
        ("win indicator (loss 0)", value_targets_win_indicator,
         ("view of the player to move",)),
        ("draw worth 0.5", value_targets_draw_half, ("draw",)),
    ],
    "alphago.selfplay_pg_loss": [
        ("ascent sign", pg_loss_ascent, ("negative",)),
        ("mean times mean", pg_loss_mean_of_means, ("log_probs * outcomes",)),
    ],
    "alphago.alphazero_loss": [
        ("renormalised probabilities, log 0", az_loss_renormalised_probabilities,
         ("illegal",)),
        ("absolute value error", az_loss_absolute_error, ("(z - v)^2",)),
    ],
}
