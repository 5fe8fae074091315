# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 · Actor-critic: from the weightings of the policy gradient to A2C
#
# This notebook follows lecture 001 (*Deep Reinforcement Learning*), slides "Policy gradients
# variants, and Actor Critic" (the six options for the weight of $\nabla \ln \pi$) and
# "Algorithm 1 Vanilla Policy Gradient", and the actor-critic part of lecture 002 (*Lecture 18:
# Reinforcement Learning*, slides "Training Actor-Critic" and "State Value and TD Error"). It
# starts where notebook 04 stopped: on the tiny MDP, where every trajectory can be listed, the
# exact gradient comes from autograd, and each estimator is graded by its **expectation**. This
# time we also compute each estimator's **exact variance**, so you see why actor-critic methods
# exist: the weights that a critic makes possible are the ones with the smallest variance.
#
# | you write | lecture object |
# |---|---|
# | `action_values` | $Q^{\pi}_h(s,a)$ of the finite horizon, by backward induction |
# | `action_value_gradient` | option 4: $\sum_h \nabla_\theta \ln \pi_\theta(a_h \mid s_h)\, Q^{\pi}_h(s_h, a_h)$ |
# | `advantage_gradient` | option 5: the same with $A^{\pi}_h = Q^{\pi}_h - V^{\pi}_h$ |
# | `td_residual_gradient` | option 6: with $r_h + V^{\pi}_{h+1}(s_{h+1}) - V^{\pi}_h(s_h)$ |
# | `td_errors` | the critic's TD error $\delta_t = r_t + \gamma V(s_{t+1}) - V(s_t)$ on a rollout |
# | `gae` | GAE($\lambda$), $\hat A_t = \sum_k (\gamma\lambda)^k \delta_{t+k}$, terminated vs truncated |
# | `a2c_loss` | the actor-critic loss: actor, critic regression, entropy bonus |
# | `gaussian_log_prob` | $\ln \mathcal N(a \mid \mu_\theta(s), \sigma)$ of a Gaussian actor |
#
# Then `rlkit`'s A2C trainer runs **your** `gae` and `a2c_loss` on CartPole-v1, and with your
# Gaussian log-prob on Pendulum-v1.
#
# **How to work.** Fill in each `YOUR CODE HERE`, run the cell, then the check below it. A
# check prints `✓` when all its cases pass; otherwise it names the failing case, shows expected
# vs. got, and gives a hint. The grader adds hidden cases, so do not special-case the visible
# ones. Keep every name and signature. Use NumPy (small loops over the steps of an episode are
# fine).

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from autograder.checks import check, is_nbgrader, skip_if_unwritten
from rlkit import dp, plotting, weightings
from rlkit.agents import a2c
from rlkit import policy_gradient as pg
from rlkit.mdp import random_mdp

np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## 1. Six weightings of the same score
#
# Every policy gradient of the lecture has the form
# $$\nabla_\theta J(\theta) = \mathbb{E}_{\tau \sim \rho_\theta}\Big[\sum_{h=0}^{H-1}
# \nabla_\theta \ln \pi_\theta(a_h \mid s_h)\, \Psi_h\Big],$$
# and the options differ only in the weight $\Psi_h$:
#
# | option | $\Psi_h$ | name | |
# |---|---|---|---|
# | 1 | $R(\tau) = \sum_{t=0}^{H-1} r_t$ | total return | notebook 04 |
# | 2 | $\sum_{t=h}^{H-1} r_t$ | reward-to-go | notebook 04 |
# | 3 | $\sum_{t=h}^{H-1} r_t - b(s_h)$ | reward-to-go minus a baseline | notebook 04 |
# | 4 | $Q^{\pi}_h(s_h, a_h)$ | action value | here |
# | 5 | $A^{\pi}_h(s_h, a_h) = Q^{\pi}_h(s_h, a_h) - V^{\pi}_h(s_h)$ | advantage | here |
# | 6 | $r_h + V^{\pi}_{h+1}(s_{h+1}) - V^{\pi}_h(s_h)$ | TD residual | here |
#
# Options 4-6 need a **critic**: a value function of the current policy. On the tiny MDP we can
# compute it exactly from the model; in deep RL (the later sections) a network learns it.
#
# The tiny MDP of notebook 04, to remind you: states `start`, `left`, `right` and the terminal
# `end`, actions `L` and `R`, $s_0$ is `start` (3/4) or `right` (1/4); entering `left` pays 2;
# from `left` and `right` every action ends the episode, `left` paying 1 for `L` and `right`
# paying 3 for `R`. Every episode ends within $H = 2$ steps.

# %%
mdp = pg.tiny_mdp()
H = pg.TINY_HORIZON
trajectories = pg.enumerate_trajectories(mdp, H)
print(f"{len(trajectories)} trajectories; states {mdp.state_names}, actions {mdp.action_names}")
theta_0 = np.zeros((mdp.n_states, mdp.n_actions))
print("grad J(0) =", pg.exact_gradient(mdp, theta_0, H, trajectories), sep="\n")

# %% [markdown]
# ## 2. The critic: $Q^\pi$ and $V^\pi$ of a finite horizon
#
# The objective counts the rewards of at most $H$ steps, $J(\theta) = \mathbb{E}\big[
# \sum_{h=0}^{H-1} r_h\big]$. What is still to come from a state therefore depends on **how many
# steps are left**, so the values carry the step $h$:
# $$Q^{\pi}_h(s,a) = \mathbb{E}_{\pi}\Big[\sum_{t=h}^{H-1} r_t \,\Big|\, s_h = s,\ a_h = a\Big],
# \qquad V^{\pi}_h(s) = \sum_a \pi_\theta(a \mid s)\, Q^{\pi}_h(s,a).$$
# The Bellman expectation equation of notebook 02, with the step in it, computes them
# **backwards** from the end, where no step is left:
# $$V^{\pi}_H(s) = 0, \qquad Q^{\pi}_h(s,a) = \sum_{s'} P(s' \mid s,a)\,\big[R(s,a,s') +
# V^{\pi}_{h+1}(s')\big], \qquad h = H-1, \ldots, 0,$$
# and nothing is collected at or after a terminal state: $Q^{\pi}_h(s, \cdot) = 0$ for a terminal
# $s$, and $V^{\pi}_{h+1}(s') = 0$ for a terminal $s'$ (whatever the model's row of $s'$ holds).
#
# Write `action_values(mdp, theta, horizon)`: the tabular softmax policy of `theta` (shape
# `(S, A)`, `pg.softmax_policy(theta)` gives $\pi_\theta$), the result an `(H, S, A)` array whose
# row `h` is $Q^{\pi}_h$. You may use `dp.q_from_v(mdp, values)` from notebook 02: it is
# $\sum_{s'} P(s'|s,a)[R(s,a,s') + V(s')]$ for this undiscounted MDP, with the terminal states
# already handled.

# %% tags=["solution"]
def action_values(mdp, theta, horizon):
    """Return Q^pi_h(s, a) for h = 0..H-1 (backwards from V_H = 0), an (H, S, A) array."""
    ### BEGIN SOLUTION
    policy = pg.softmax_policy(theta)
    q_values = np.zeros((horizon, mdp.n_states, mdp.n_actions))
    next_values = np.zeros(mdp.n_states)  # V_H = 0: no step left
    for h in reversed(range(horizon)):
        q_values[h] = dp.q_from_v(mdp, next_values)
        next_values = (policy * q_values[h]).sum(axis=1)
    return q_values
    ### END SOLUTION


# %% tags=["check"]
check("actor_critic.action_values")

# %% [markdown]
# $V^\pi_h(s) = \sum_a \pi_\theta(a|s)\, Q^\pi_h(s,a)$ for every step at once
# (`weightings.values_from_q`), and a look at both at $\theta = 0$. Row `h = 1` has one step
# left: its $Q$ is the expected last reward. The start values give the objective,
# $J(\theta) = \sum_s \mu(s)\, V^{\pi}_0(s)$:

# %%
with skip_if_unwritten():
    q_0 = action_values(mdp, theta_0, H)
    v_0 = weightings.values_from_q(q_0, theta_0)  # sum_a pi(a|s) Q_h(s, a) for every h
    for h in range(H):
        print(f"h = {h}, {H - h} step(s) left:")
        for s, name in enumerate(mdp.state_names):
            print(f"  {name:>5}: Q_h(s, .) = {q_0[h, s]}   V_h(s) = {v_0[h, s]:.4f}")
    j_0 = float(pg.expected_return(mdp, theta_0, H))
    print(f"mu . V_0 = {mdp.mu @ v_0[0]:.5f},  J(0) = {j_0:.5f}")

# %% [markdown]
# The definition says $Q^{\pi}_h(s,a)$ is the **average reward-to-go** after taking $a$ in $s$ at
# step $h$. `weightings.conditional_values` computes exactly that, from the 11 trajectories and
# their probabilities, wherever the pair is visited (`start` is never visited at $h = 1$, nor
# `left` at $h = 0$: there the average is undefined, and your table still has a value). Your
# backward induction must agree with it:

# %%
with skip_if_unwritten():
    theta_r = np.random.default_rng(0).normal(size=(4, 2))
    defined = weightings.conditional_values(mdp, theta_r, H, trajectories)
    yours = action_values(mdp, theta_r, H)
    visited = [f"({h}, {mdp.state_names[s]})" for h, s in np.argwhere(defined.visited)]
    print("visited (h, s):", ", ".join(visited))
    print(f"largest difference on them: {np.abs(yours - defined.q)[defined.visited].max():.1e}")

# %% [markdown]
# In the tiny MDP a state is always the same number of steps from the end, so along any
# trajectory $V^\pi_h(s_h)$ equals notebook 04's time-free `pg.state_values`. On an MDP whose
# episodes are **cut** at the horizon it does not: the same state is worth less with fewer steps
# left.

# %%
with skip_if_unwritten():
    cut = random_mdp(4, 2, gamma=1.0, rng=1, n_terminal=1)
    theta_cut = np.random.default_rng(2).normal(size=(4, 2))
    v_cut = weightings.values_from_q(action_values(cut, theta_cut, 3), theta_cut)
    for h in range(3):
        print(f"random MDP, H = 3, {3 - h} step(s) left: V_{h} = {v_cut[h]}")

# %% [markdown]
# ## 3. Option 4: weight by $Q^\pi$
#
# Why may $Q^\pi_h(s_h, a_h)$ replace the reward-to-go $G_h = \sum_{t \ge h} r_t$? Condition on
# the history up to $(s_h, a_h)$: the score $\nabla_\theta \ln \pi_\theta(a_h \mid s_h)$ is then
# fixed, and the rest of the episode is random only through what comes after, so
# $$\mathbb{E}\big[\nabla_\theta \ln \pi_\theta(a_h \mid s_h)\, G_h\big]
# = \mathbb{E}\big[\nabla_\theta \ln \pi_\theta(a_h \mid s_h)\, \mathbb{E}[G_h \mid s_h, a_h]\big]
# = \mathbb{E}\big[\nabla_\theta \ln \pi_\theta(a_h \mid s_h)\, Q^\pi_h(s_h, a_h)\big].$$
# Same mean; and since $Q^\pi_h(s_h, a_h)$ is the *average* of $G_h$, less noise.
#
# Write the estimator, as notebook 04's but with the weight `q_values[h, s_h, a_h]`:
# $$\hat g = \frac{1}{N} \sum_{i=1}^N \sum_{h} \nabla_\theta \ln \pi_\theta(a^i_h \mid s^i_h)\,
# Q_h(s^i_h, a^i_h).$$
# `episodes` is a list of `Trajectory` (`states` has one more entry than `actions`; $a_h$ is
# taken in `states[h]`), `q_values` an `(H, S, A)` critic: $Q^\pi$ from your `action_values`, or
# any other table (the check uses other tables too). `pg.grad_log_policy(theta, s, a)` is
# notebook 04's score $\nabla_\theta \ln \pi_\theta(a \mid s)$, an `(S, A)` array that is 0 outside
# row `s`. Average over the episodes.

# %% tags=["solution"]
def action_value_gradient(theta, episodes, q_values):
    """Return 1/N sum_i sum_h grad ln pi(a_h|s_h) Q_h(s_h, a_h), an (S, A) array."""
    ### BEGIN SOLUTION
    grad = np.zeros_like(theta, dtype=float)
    for episode in episodes:
        for h, (s, a) in enumerate(zip(episode.states[:-1], episode.actions, strict=True)):
            grad += pg.grad_log_policy(theta, s, a) * q_values[h, s, a]
    return grad / len(episodes)
    ### END SOLUTION


# %% tags=["check"]
check("actor_critic.action_value_gradient")

# %% [markdown]
# ## 4. Option 5: weight by the advantage $A^\pi = Q^\pi - V^\pi$
#
# "$Q(s_t, a_t)$ have large values: let's subtract its average $V(s_t)$" (lecture 002). Since
# $V^\pi_h(s_h)$ does not depend on the action, it is a baseline (notebook 04): the mean does not
# change. The advantage says how much better $a_h$ is than what the policy does on average in
# $s_h$; its sign tells the score which way to push. `values` is an `(H, S)` table,
# `values[h, s]` $= V_h(s)$.

# %% tags=["solution"]
def advantage_gradient(theta, episodes, q_values, values):
    """Return 1/N sum_i sum_h grad ln pi(a_h|s_h) (Q_h(s_h, a_h) - V_h(s_h)), an (S, A) array."""
    ### BEGIN SOLUTION
    grad = np.zeros_like(theta, dtype=float)
    for episode in episodes:
        for h, (s, a) in enumerate(zip(episode.states[:-1], episode.actions, strict=True)):
            grad += pg.grad_log_policy(theta, s, a) * (q_values[h, s, a] - values[h, s])
    return grad / len(episodes)
    ### END SOLUTION


# %% tags=["check"]
check("actor_critic.advantage_gradient")

# %% [markdown]
# ## 5. Option 6: weight by the TD residual
#
# $A^\pi$ needs two tables, $Q^\pi$ and $V^\pi$. The Bellman equation of section 2 writes $Q$ with
# $V$ alone, $Q^\pi_h(s,a) = \mathbb{E}[r_h + V^\pi_{h+1}(s_{h+1}) \mid s_h = s, a_h = a]$, so a
# **single sample** of it needs only $V$: the temporal-difference residual (lecture 002's TD
# error)
# $$\delta_h = r_h + V_{h+1}(s_{h+1}) - V_h(s_h).$$
# This is what an actor-critic learns: one function of the state, the critic $V$.
#
# **After the last step nothing is to come.** When the episode ends, by a terminal state or by
# the horizon $H$ of the objective, $V(s_T) = 0$, whatever the table holds at $s_T$. (The horizon
# is part of this objective. CartPole's 500-step time limit, later in this notebook, is not part
# of its MDP; there a cut episode *does* bootstrap from $V(s_T)$.)
#
# Write the estimator with the weight $\delta_h$; `values` is an `(H, S)` critic, $V^\pi$ or not.

# %% tags=["solution"]
def td_residual_gradient(theta, episodes, values):
    """Return 1/N sum_i sum_h grad ln pi(a_h|s_h) delta_h (V = 0 after the end), an (S, A) array.

    delta_h = r_h + V_{h+1}(s_{h+1}) - V_h(s_h) with V_h(s) = values[h, s].
    """
    ### BEGIN SOLUTION
    grad = np.zeros_like(theta, dtype=float)
    for episode in episodes:
        n_steps = len(episode.actions)
        for h, (s, a) in enumerate(zip(episode.states[:-1], episode.actions, strict=True)):
            after = values[h + 1, episode.states[h + 1]] if h + 1 < n_steps else 0.0
            residual = episode.rewards[h] + after - values[h, s]
            grad += pg.grad_log_policy(theta, s, a) * residual
    return grad / len(episodes)
    ### END SOLUTION


# %% tags=["check"]
check("actor_critic.td_residual_gradient")

# %% [markdown]
# **When the critic is wrong.** Give the TD residual a critic whose $V$ is off by $\varepsilon$
# at one state, and compute the exact mean of the estimate (`pg.exact_moments` sums your
# one-episode estimate over the 11 trajectories, weighted by their probabilities): an error
# of $V_1(\texttt{left})$ moves the mean away from the gradient, an error of $V_0(\texttt{start})$
# does not. The advantage weighting does not move at all, whatever $V$ is wrong. So two of the
# three curves lie on top of each other at 0 (drawn as large open squares and small triangles,
# so that both show): both estimators stay unbiased for every $\varepsilon$. (Written question
# 1 asks why.)

# %%
with skip_if_unwritten():
    theta_w = np.random.default_rng(3).normal(0.0, 0.5, size=(4, 2))
    grad_w = pg.exact_gradient(mdp, theta_w, H, trajectories)
    q_w = action_values(mdp, theta_w, H)
    v_w = weightings.values_from_q(q_w, theta_w)
    errors = np.linspace(-2.0, 2.0, 9)
    curves = {"TD residual, V_1(left) + eps": [], "TD residual, V_0(start) + eps": [],
              "advantage, V_1(left) + eps": []}
    for eps in errors:
        off_next, off_start = v_w.copy(), v_w.copy()
        off_next[1, 1] += eps
        off_start[0, 0] += eps
        for name, (estimator, extra) in zip(curves, [(td_residual_gradient, (off_next,)),
                                                     (td_residual_gradient, (off_start,)),
                                                     (advantage_gradient, (q_w, off_next))],
                                            strict=True):
            mean = pg.exact_moments(mdp, theta_w, estimator, H, *extra,
                                    trajectories=trajectories).mean
            curves[name].append(np.linalg.norm(mean - grad_w))
    fig, ax = plt.subplots(figsize=(6, 3.5))
    styles = [("o-", {}), ("s--", dict(markersize=10, fillstyle="none")),
              ("^:", dict(markersize=5))]  # the last two overlap at 0: both unbiased
    for (name, bias), (fmt, style) in zip(curves.items(), styles, strict=True):
        ax.plot(errors, bias, fmt, label=name, **style)
    ax.set_xlabel(r"error $\varepsilon$ of the critic's $V$")
    ax.set_ylabel(r"$\|\mathbb{E}[\hat g] - \nabla J\|$ (exact)")
    ax.legend(fontsize="small")
    plt.show()

# %% [markdown]
# ## 6. The six variances, exactly
#
# All six estimators have the same mean, $\nabla_\theta J$. What differs is the **variance** of
# the estimate from one episode, $\mathbb{E}\|\hat g - \nabla J\|^2$ (the trace of its
# covariance; an estimate from $N$ episodes has $1/N$ of it). `pg.exact_moments` computes mean
# and variance exactly from the enumeration. Options 1-3 are notebook 04's estimators (rlkit's
# copies, with the baseline $b = V^\pi$); options 4-6 are yours, with $Q^\pi$ and $V^\pi$ from
# your `action_values`.

# %%
with skip_if_unwritten():
    if not is_nbgrader():  # a measurement and its figure: skipped while grading
        theta_v = np.random.default_rng(4).normal(0.0, 0.5, size=(4, 2))
        grad_v = pg.exact_gradient(mdp, theta_v, H, trajectories)
        q_v = action_values(mdp, theta_v, H)
        v_v = weightings.values_from_q(q_v, theta_v)
        six = {
            "1 total return R(tau)": (pg.reinforce_gradient, ()),
            "2 reward-to-go": (pg.reward_to_go_gradient, ()),
            "3 reward-to-go - V(s)": (pg.baseline_gradient, (pg.state_values(mdp, theta_v),)),
            "4 Q(s, a)": (action_value_gradient, (q_v,)),
            "5 A(s, a) = Q - V": (advantage_gradient, (q_v, v_v)),
            "6 TD residual": (td_residual_gradient, (v_v,)),
        }
        variance, bias = {}, {}
        for name, (estimator, extra) in six.items():
            moments = pg.exact_moments(mdp, theta_v, estimator, H, *extra,
                                       trajectories=trajectories)
            variance[name] = moments.total_variance
            bias[name] = np.abs(moments.mean - grad_v).max()
        first = variance["1 total return R(tau)"]
        print(f"{'option':<24} {'variance':>9} {'/ option 1':>11} {'|mean - grad J|':>16}")
        for name in six:
            ratio = variance[name] / first
            print(f"{name:<24} {variance[name]:9.4f} {ratio:11.2f} {bias[name]:16.1e}")
        fig, ax = plt.subplots(figsize=(9, 3.8))
        ax.bar(range(6), list(variance.values()), color=["C0"] * 3 + ["C1"] * 3)
        ax.set_xticks(range(6), [name.replace(" ", "\n", 1) for name in six], fontsize="small")
        ax.set_ylabel(r"variance of a one-episode $\hat g$ (exact)")
        ax.set_title("the six weightings of the same score (blue: notebook 04, orange: a critic)")
        plt.show()

# %% [markdown]
# Read the bars in pairs. Dropping the past rewards lowers the variance (1 to 2, notebook 04).
# Replacing the sampled reward-to-go by its average $Q^\pi$ lowers it again (2 to 4); with the
# baseline subtracted on both sides, the same step takes 3, the reward-to-go minus $V^\pi$, to
# 5, the advantage, the lowest of all. The TD residual (6) sits between 3 and 5: it is a
# *one-sample* estimate of the advantage (the next state and its reward are still random), noisier
# than $A^\pi$ itself but far less noisy than the Monte Carlo reward-to-go minus $V$, and it needs
# only $V$. That is the actor-critic trade: learn a critic, and each episode tells you more.
#
# These orderings (1 > 2 > 4 > 5, 2 > 3 > 6 > 5) held for each of 3000 random $\theta$ of this
# size on this MDP; they are not laws. Compare 3 and 4: here the baseline removes more noise than
# the averaging does (the first reward, 2 or 0, is noise that only a baseline of `start` takes
# out), while on random MDPs 4 is usually below 3. And with large logits a baseline can even
# *raise* the variance (3 above 2 at some $\theta$ of scale 2).
#
# Sampled, the same numbers (4000 episodes; the measured variance of the one-episode estimates):

# %%
with skip_if_unwritten():
    if not is_nbgrader():  # a measurement: skipped while grading
        sampled = pg.sample_episodes(mdp, theta_v, 4_000, np.random.default_rng(5), H)
        for name, (estimator, extra) in six.items():
            one_episode = np.array([estimator(theta_v, [tau], *extra) for tau in sampled])
            measured = np.mean(np.sum((one_episode - grad_v) ** 2, axis=(1, 2)))
            print(f"{name:<24} exact {variance[name]:7.4f}   measured {measured:7.4f}")

# %% [markdown]
# ### Gradient ascent with the six
#
# As in notebook 04: $\theta \leftarrow \theta + \alpha \hat g$ from $\theta = 0$, 2 episodes per
# step and a large step $\alpha = 1$, 16 runs per estimator with the same seeds, the exact
# $J(\theta_k)$ plotted (mean and 10-90 % band; $J^* = 3$). The critics are exact here,
# recomputed at every step from the model; learning them from samples is what the next
# sections do.

# %%
with skip_if_unwritten():
    if not is_nbgrader():  # 6 x 16 training runs: skipped while grading
        def critics(name, theta):
            """The extra arguments of estimator ``name`` at ``theta`` (exact critics)."""
            if name.startswith(("1", "2")):
                return ()
            if name.startswith("3"):
                return (pg.state_values(mdp, theta),)
            q = action_values(mdp, theta, H)
            v = weightings.values_from_q(q, theta)
            return {"4": (q,), "5": (q, v), "6": (v,)}[name[0]]

        fig, ax = plt.subplots(figsize=(7, 4))
        for name, (estimator, _) in six.items():
            runs = []
            for run in range(16):
                rng = np.random.default_rng(100 + run)  # the same seeds for every estimator
                theta, curve = np.zeros((4, 2)), []
                for _ in range(40):
                    curve.append(float(pg.expected_return(mdp, theta, H, trajectories)))
                    batch = pg.sample_episodes(mdp, theta, 2, rng, H)
                    theta = theta + 1.0 * estimator(theta, batch, *critics(name, theta))
                runs.append(curve)
            runs = np.array(runs)
            (line,) = ax.plot(runs.mean(axis=0), label=f"{name}: final {runs[:, -1].mean():.2f}")
            ax.fill_between(np.arange(40), *np.percentile(runs, [10, 90], axis=0), alpha=0.1,
                            color=line.get_color())
        ax.axhline(3.0, color="gray", linestyle=":")
        ax.set_xlabel("update")
        ax.set_ylabel(r"exact $J(\theta)$")
        ax.legend(fontsize="small", loc="lower right")
        plt.show()

# %% [markdown]
# ## 7. The critic's TD error, on a vector env's rollout
#
# From here on the critic is a network $V_\phi$ trained alongside the actor, on rollouts that
# Gymnasium's vector envs hand back: arrays of shape `(T, n_envs)`, one row per time step, one
# column per env. The lecture's TD target and error are
# $$y_t = r_t + \gamma V(s_{t+1}), \qquad \delta_t = y_t - V(s_t),$$
# and an episode can end in two ways that must be kept apart:
# - **terminated** (the pole fell): $s_{t+1}$ is terminal, nothing follows, so $y_t = r_t$;
# - **truncated** (a time limit): the MDP would go on, so $y_t$ still bootstraps from
#   $V(s_{t+1})$ of the **real** final observation. (A vector env has already reset that env:
#   the observation it returns is the next episode's first one, so `rlkit`'s trainer takes
#   $V$ of the final observation it keeps aside; `next_values` holds that.)
#
# Write `td_errors` for arrays `rewards`, `values` ($V(s_t)$), `next_values` ($V(s_{t+1})$) of
# shape `(T, n_envs)` (or `(T,)`) and a boolean `terminated` of the same shape. Return a float
# array of that shape; do not modify the inputs.

# %% tags=["solution"]
def td_errors(rewards, values, next_values, terminated, gamma):
    """Return delta_t = r_t + gamma (1 - terminated_t) V(s_{t+1}) - V(s_t), elementwise."""
    ### BEGIN SOLUTION
    rewards, values, next_values = (np.asarray(x, dtype=float)
                                    for x in (rewards, values, next_values))
    bootstrap = np.where(np.asarray(terminated, dtype=bool), 0.0, next_values)
    return rewards + gamma * bootstrap - values
    ### END SOLUTION


# %% tags=["check"]
check("actor_critic.td_errors")

# %% [markdown]
# ## 8. GAE($\lambda$): between the TD error and the Monte Carlo return
#
# The $n$-step advantage $\hat A^{(n)}_t = r_t + \gamma r_{t+1} + \dots + \gamma^{n-1}
# r_{t+n-1} + \gamma^n V(s_{t+n}) - V(s_t) = \sum_{k=0}^{n-1} \gamma^k \delta_{t+k}$ uses $n$
# real rewards before trusting the critic: $n = 1$ is the TD error (low variance, biased when
# $V$ is wrong), $n = \infty$ the reward-to-go minus $V$ (unbiased, high variance).
# Generalized advantage estimation averages all of them with weights $(1-\lambda)\lambda^{n-1}$:
# $$\hat A^{\mathrm{GAE}(\lambda)}_t = \sum_{k \ge 0} (\gamma\lambda)^k \delta_{t+k}
# = \delta_t + \gamma\lambda\, \hat A_{t+1},$$
# the sum stopping where the episode ends (terminated **or** truncated: the next row is a new
# episode). The recursion runs **backwards** over the rows. $\lambda = 0$ gives $\delta_t$,
# $\lambda = 1$ the discounted return (bootstrapped at the rollout's end) minus $V(s_t)$.
#
# Write `gae` with the arguments of `td_errors` plus `truncated` and `lam`; you may call your
# `td_errors`. A loop over the $T$ rows, vectorised over the envs, is the expected solution.

# %% tags=["solution"]
def gae(rewards, values, next_values, terminated, truncated, gamma, lam):
    """Return the GAE(lambda) advantages of a (T, n_envs) rollout, the sum cut at episode ends."""
    ### BEGIN SOLUTION
    deltas = td_errors(rewards, values, next_values, terminated, gamma)
    ended = np.asarray(terminated, dtype=bool) | np.asarray(truncated, dtype=bool)
    advantages = np.zeros_like(deltas)
    running = np.zeros(deltas.shape[1:])
    for t in reversed(range(len(deltas))):
        running = deltas[t] + gamma * lam * np.where(ended[t], 0.0, running)
        advantages[t] = running
    return advantages
    ### END SOLUTION


# %% tags=["check"]
check("actor_critic.gae")

# %% [markdown]
# **The bias–variance trade, measured.** A random walk on the states $0..6$: start in 3, step
# left or right with probability $\frac12$, the episode ends at 0 or 6, with reward 1 for
# reaching 6 (undiscounted). The true values are $V(s) = s/6$. Give the critic an error, $V =
# V_{\text{true}} + 0.1$ at every non-terminal state, and estimate $V(3) = 0.5$ by the
# $\lambda$-return $\hat A_0 + V(s_0)$ from your `gae`, over many episodes: at $\lambda = 0$ it
# is biased by the critic's error, at $\lambda = 1$ it is the unbiased Monte Carlo return, and
# the variance moves the other way.

# %%
with skip_if_unwritten():
    if not is_nbgrader():  # a measurement and its figure: skipped while grading
        walk_rng = np.random.default_rng(5)
        v_true = np.arange(7) / 6.0
        v_critic = np.where((np.arange(7) > 0) & (np.arange(7) < 6), v_true + 0.1, 0.0)
        walks = []
        for _ in range(2_000):
            path = [3]
            while path[-1] not in (0, 6):
                path.append(path[-1] + walk_rng.choice((-1, 1)))
            walks.append(np.array(path))
        lambdas = np.linspace(0.0, 1.0, 11)
        bias, spread = [], []
        for lam in lambdas:
            estimates = []
            for path in walks:
                steps = len(path) - 1
                rewards = (path[1:] == 6).astype(float)
                ended = np.arange(steps) == steps - 1
                adv = gae(rewards, v_critic[path[:-1]], v_critic[path[1:]], ended,
                          np.zeros(steps, bool), 1.0, lam)
                estimates.append(adv[0] + v_critic[3])
            bias.append(np.mean(estimates) - v_true[3])
            spread.append(np.var(estimates))
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot(lambdas, np.square(bias), "o-", label=r"bias$^2$ of $\hat V(3)$")
        ax.plot(lambdas, spread, "s-", label=r"variance of $\hat V(3)$")
        ax.set_xlabel(r"$\lambda$")
        ax.set_ylabel(r"bias$^2$ and variance of $\hat V(3)$")
        ax.legend()
        plt.show()

# %% [markdown]
# ## 9. A2C on CartPole-v1, with your GAE and your loss
#
# The actor $\pi_\theta$ and the critic $V_\phi$ learn together from short rollouts of
# `n_envs` envs side by side (Gymnasium's `SyncVectorEnv`): collect `n_steps` steps of each,
# compute $\hat A$ with GAE and the critic's targets $G_t = \hat A_t + V_\phi(s_t)$, then take one
# gradient step on
# $$L = -\frac1N \sum_t \ln \pi_\theta(a_t \mid s_t)\, \hat A_t
# + c_v \frac1N \sum_t \big(G_t - V_\phi(s_t)\big)^2 - c_e \frac1N \sum_t H\big[\pi_\theta(\cdot
# \mid s_t)\big].$$
# $\hat A_t$ and $G_t$ are **constants** of this loss: the actor's term must not move the critic
# through $\hat A$, and the critic must not chase its own target. (`rlkit.agents.reinforce`'s
# `reinforce_loss` and `value_loss` from notebook 04 may be used here.)
#
# Write `a2c_loss`: every argument but the two coefficients is an `(N,)` torch tensor;
# `log_probs`, `values` and `entropy` carry gradients. Return a scalar tensor.

# %% tags=["solution"]
def a2c_loss(log_probs, advantages, values, returns, entropy, value_coef, entropy_coef):
    """Return the actor's loss + value_coef * the critic's - entropy_coef * the mean entropy."""
    ### BEGIN SOLUTION
    actor = -(log_probs * advantages.detach()).mean()
    critic = ((returns.detach() - values) ** 2).mean()
    return actor + value_coef * critic - entropy_coef * entropy.mean()
    ### END SOLUTION


# %% tags=["check"]
check("actor_critic.a2c_loss")

# %% [markdown]
# Now `rlkit`'s A2C trainer runs **your** `gae` and `a2c_loss` (`help(a2c.train)` and
# `help(a2c.A2CConfig)` list its settings). `target_return=475` stops at the first evaluation
# (10 greedy episodes) with a mean return of 475 or more; CartPole's maximum is 500.
# (Training cells are skipped while grading.)

# %% tags=["slow"]
with skip_if_unwritten():
    if not is_nbgrader():
        history = a2c.train(a2c.A2CConfig(target_return=475), seed=0, gae_fn=gae, loss_fn=a2c_loss,
                            progress=True)
        final = history.final_evaluation
        print(f"{final.step} env steps, {history.train_seconds:.1f} s of training: evaluation "
              f"{final.mean:.0f} ± {final.std:.0f}")
        fig = plotting.plot_history(history, title="A2C with your gae and a2c_loss")
        plt.show()

# %% [markdown]
# **Graded: your actor-critic learns.** A short learning run: A2C with your `gae` and
# `a2c_loss` from three seeds. Every 500 env steps it evaluates the greedy policy on 5 episodes
# of at most 100 steps, and a seed stops once they average 75 (a correct agent gets there within
# 500–10,000 steps: a few seconds in all). It passes when the seeds' best evaluations are far
# above an untrained policy's; the message says the exact rule.

# %% tags=["check"]
check("actor_critic.a2c_learns")

# %% [markdown]
# ## 10. A Gaussian policy for continuous actions: Pendulum-v1
#
# For an action $a \in \mathbb{R}^d$ the lecture's actor is a Gaussian $\pi_\theta(a \mid s) =
# \mathcal N\big(a \mid \mu_\theta(s), \sigma^2\big)$ with independent dimensions, so
# $$\ln \pi_\theta(a \mid s) = \sum_{i=1}^{d} \Big[-\frac{(a_i - \mu_i)^2}{2\sigma_i^2} - \ln \sigma_i
# - \tfrac12 \ln 2\pi\Big], \qquad \sigma_i = e^{\log\sigma_i}.$$
# The actor's loss of 002 is $-\ln \mathcal N(a_t \mid \mu, \sigma)\,\delta_t$: the gradient
# moves $\mu$ towards actions that did better than the critic expected. Evaluate the log-prob at
# the action the policy **drew**; only the action sent to the env is clipped to the box
# (Pendulum's torque is in $[-2, 2]$).
#
# Write `gaussian_log_prob(actions, mean, log_std)`: `actions` and `mean` of shape `(..., d)`,
# `log_std` broadcastable to them (`(d,)` or `(..., d)`); return shape `(...)`, a tensor
# (differentiable) when the inputs are tensors, a float array for numpy inputs.

# %% tags=["solution"]
def gaussian_log_prob(actions, mean, log_std):
    """Return the log-density of N(mean, exp(log_std)^2) at actions, summed over the last axis."""
    ### BEGIN SOLUTION
    tensors = any(torch.is_tensor(x) for x in (actions, mean, log_std))
    a, mu, log_sigma = (torch.as_tensor(x, dtype=torch.float64) if not torch.is_tensor(x)
                        else x for x in (actions, mean, log_std))
    z = (a - mu) / log_sigma.exp()
    result = (-0.5 * z**2 - log_sigma - 0.5 * math.log(2 * math.pi)).sum(-1)
    return result if tensors else result.numpy()
    ### END SOLUTION


# %% tags=["check"]
check("actor_critic.gaussian_log_prob")

# %% [markdown]
# The same trainer with a Gaussian actor on Pendulum-v1 (swing the pendulum up and hold it;
# rewards are negative, a random policy averages about −1200 per episode), with **your**
# `gae`, `a2c_loss` and `gaussian_log_prob`, on rlkit's Pendulum settings
# (`a2c.PRESETS["Pendulum-v1"]`: a short horizon, gamma 0.9, and sigma starting at 1).
# In 200,000 steps (30 s on a quiet laptop, up to about 75 s on a busy one; the bar shows where
# it is) the evaluation climbs from about −1200 to about −300; the best possible is about −150.

# %% tags=["slow"]
with skip_if_unwritten():
    PENDULUM_STEPS = 200_000  # 30-75 s
    if not is_nbgrader():
        pendulum = a2c.train(a2c.default_config("Pendulum-v1", total_steps=PENDULUM_STEPS), seed=0,
                             gae_fn=gae, loss_fn=a2c_loss, log_prob_fn=gaussian_log_prob,
                             progress=True)
        print(f"Pendulum-v1 after {pendulum.final_evaluation.step} steps: evaluation "
              f"{pendulum.final_evaluation.mean:.0f} (random: about -1200)")
        fig = plotting.plot_history(pendulum, title="Gaussian actor-critic with your functions")
        plt.show()


# %% [markdown]
# ## 11. Written answer (graded by hand)
#
# **Question 1 (3 points).** Show that when the critic is exact, $V = V^\pi$, the TD residual
# $\delta_h = r_h + V^\pi_{h+1}(s_{h+1}) - V^\pi_h(s_h)$ is an unbiased estimate of the advantage
# $A^\pi_h(s_h, a_h)$, and that option 6 is then an unbiased estimator of $\nabla_\theta J$. Then
# say what happens when $V$ is wrong: which errors of $V$ bias the gradient and which do not
# (your plot in section 5 shows both kinds), and what we buy with that risk.

# %% [markdown] tags=["written"] grade_id="written_td_residual_unbiased" points=3
# ### BEGIN SOLUTION
# *Model answer.* Condition on (s_h, a_h). The reward and the next state are drawn from the
# model, so E[delta_h | s_h, a_h] = E[r_h + V_{h+1}(s_{h+1}) | s_h, a_h] - V_h(s_h) =
# sum_s' P(s'|s_h,a_h) [R(s_h,a_h,s') + V^pi_{h+1}(s')] - V^pi_h(s_h) = Q^pi_h(s_h,a_h) -
# V^pi_h(s_h) = A^pi_h(s_h,a_h), by the Bellman expectation equation for Q (with V = 0 after
# the end). In the gradient, the score grad ln pi(a_h|s_h) is fixed once (s_h, a_h) is, so by
# the tower property E[grad ln pi(a_h|s_h) delta_h] = E[grad ln pi(a_h|s_h) A^pi_h(s_h,a_h)],
# and option 5 is unbiased (Q^pi is, option 4, and V^pi(s_h) is a baseline). So option 6 is
# unbiased; it is noisier than A^pi itself (s_{h+1} is still random) but needs only V.
# If V = V^pi + e is wrong, delta_h = (true delta_h) + e_{h+1}(s_{h+1}) - e_h(s_h). The error at
# the CURRENT state, e_h(s_h), does not depend on a_h: it acts as a baseline, no bias. The error
# at the NEXT state does depend on a_h (through s_{h+1}): it adds
# E[grad ln pi(a_h|s_h) E[e_{h+1}(s') | s_h, a_h]], which is not 0 in general: the actor is
# pushed towards actions that lead to states the critic overrates. The bias grows with the
# critic's error (linearly in the plot) and vanishes if the error is the same for every next
# state. This is the lecture's "smaller variance, may be biased": a bootstrapped target trades a
# bias (as large as the critic is wrong) for a much lower variance than the Monte Carlo
# reward-to-go; n-step returns and GAE tune that trade.
#
# *Rubric (3 points).* 1 point: E[delta_h | s_h, a_h] = Q^pi_h - V^pi_h = A^pi_h, using
# Q = E[r + V(s')] (the Bellman equation) and V = 0 after the end. 1 point: why the estimator of
# the gradient is then unbiased (the score is fixed given (s_h, a_h), tower property / the
# -V(s_h) is a baseline). 1 point: with a wrong V, the error at s_{h+1} biases (it depends on
# the action), the error at s_h does not (a baseline); and the trade: lower variance, a bias as
# large as the critic's error.
# ### END SOLUTION
