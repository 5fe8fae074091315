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
# # 01 · Markov decision processes
#
# This notebook follows lecture 001 (*Deep Reinforcement Learning*), its key concepts: slides "RL
# Formulation", "Trajectories" and "Value functions". You will build, one function at a time,
# everything that turns the lecture's definitions into numbers:
#
# | you write | lecture object |
# |---|---|
# | `run_episode` | the agent–environment loop |
# | `expected_rewards` | $r(s, a) = \mathbb{E}_{s' \sim P}[R(s, a, s')]$ |
# | `trajectory_probability` | $P(\tau) = \mu(s_0) \prod_t \pi(a_t \mid s_t) P(s_{t+1} \mid s_t, a_t)$ |
# | `discounted_return` | $G_0 = \sum_t \gamma^t r_t$ |
# | `v_from_q` | $V^\pi(s) = \mathbb{E}_{a \sim \pi}[Q^\pi(s, a)]$ |
# | `evaluate_policy_exact` | $V^\pi = (I - \gamma P^\pi)^{-1} r^\pi$ |
# | `monte_carlo_value` | $V^\pi(s) \approx \frac{1}{N} \sum_i G^{(i)}$ |
#
# **How to work.** Fill in each `YOUR CODE HERE`, run the cell, then run the check cell below
# it. A check prints `✓` when all its cases pass; otherwise it tells you which case failed,
# what was expected, what you returned, and a hint. The grader runs the same checks plus
# hidden cases, so do not special-case the visible ones. Keep every function's name and
# signature. Use NumPy; no loops over states are needed anywhere except where sampling.

# %%
import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np

import rlkit
from autograder.checks import check, is_nbgrader, skip_if_unwritten
from rlkit import GridWorld, dp, plotting, sampling

np.set_printoptions(precision=3, suppress=True)

# %% [markdown]
# ## 1. The agent–environment loop
#
# The lecture's running example is the 4×3 **GridWorld**. Coordinates are $(x, y)$ as on the
# slides: $x$ to the right, $y$ up, both starting at 1. The wall is at $(2,2)$; $(4,3)$ is an
# exit worth $+1$ and $(4,2)$ an exit worth $-1$. The intended move succeeds with probability
# 0.8 and slips to each perpendicular direction with probability 0.1; bumping into a wall
# stays put. From an exit, any action collects the exit's reward and ends the episode (it moves
# to an extra absorbing state, `TERMINAL`). The actions are `0 = N, 1 = E, 2 = S, 3 = W`.
#
# `rlkit` registers it as a Gymnasium environment, so it speaks the standard loop:
# `obs, info = env.reset(seed=...)`, then
# `obs, reward, terminated, truncated, info = env.step(action)`.
# *terminated* means the MDP ended (we left through an exit); *truncated* means a time limit
# outside the MDP cut the episode short.

# %%
env = gym.make("rlkit/GridWorld-v0", render_mode="ansi")
obs, info = env.reset(seed=0)
print(env.render())
print("observation (a state index):", obs, "at", info["coords"])

# %% [markdown]
# A deterministic policy gives one action per state, `policy[obs]`. Write the loop that plays
# one episode and returns the rewards $r_0, r_1, \ldots, r_{T-1}$ it collected.
#
# * reset with the given `seed` (that makes the episode reproducible);
# * act with `int(policy[obs])` on the **latest** observation;
# * keep every reward, the last one included;
# * stop when `terminated or truncated`.

# %% tags=["solution"]
def run_episode(env, policy, seed):
    """Play one episode with a deterministic policy and return its rewards as an array."""
    ### BEGIN SOLUTION
    obs, _ = env.reset(seed=seed)
    rewards = []
    while True:
        obs, reward, terminated, truncated, _ = env.step(int(policy[obs]))
        rewards.append(float(reward))
        if terminated or truncated:
            return np.array(rewards)
    ### END SOLUTION


# %% tags=["check"]
check("mdps.run_episode")

# %% [markdown]
# Here is your loop with a policy that walks up the left column and then east to the $+1$
# exit. Run it a few times with different seeds: the slips make episodes differ.

# %%
with skip_if_unwritten():
    gw = GridWorld()
    good = np.full(gw.mdp.n_states, 1)  # E everywhere ...
    for xy, action in {(1, 1): 0, (1, 2): 0, (3, 1): 0, (3, 2): 0, (4, 1): 3}.items():
        good[gw.state_index(xy)] = action  # ... except N up the left column and around the -1
    for seed in range(6):
        rewards = run_episode(gym.make("rlkit/GridWorld-v0"), good, seed)
        print(f"seed {seed}: {len(rewards)} steps, rewards {rewards}")

# %% [markdown]
# ## 2. The MDP tuple $(S, A, P, R, \gamma, \mu, H)$
#
# Every tabular environment in `rlkit` exposes its model as a `TabularMDP`:
#
# * `P[s, a, s']` $= P(s' \mid s, a)$, shape $(S, A, S)$; each `P[s, a]` sums to 1;
# * `R[s, a, s']` $= R(s, a, s')$, the reward of that transition;
# * `gamma`, the start distribution `mu[s]` $= \mu(s)$, and the boolean mask `terminal[s]`.
#
# The horizon $H$ is the episode's length limit (the environment's time limit).

# %%
mdp = gw.mdp
print("S =", mdp.n_states, " A =", mdp.n_actions, " gamma =", mdp.gamma)
s11 = gw.state_index((1, 1))
print("P(. | (1,1), N) =",
      {gw.coords[t]: float(p) for t, p in enumerate(mdp.P[s11, 0]) if p > 0})

# %% [markdown]
# The lecture often writes the reward as $r(s, a)$. It is the expected reward of the
# transition:
# $$r(s, a) = \sum_{s'} P(s' \mid s, a)\, R(s, a, s').$$
# Compute it for every state and action at once (an $(S, A)$ array).

# %% tags=["solution"]
def expected_rewards(mdp):
    """Return r[s, a] = sum_{s'} P(s'|s,a) R(s,a,s') as an (S, A) array."""
    ### BEGIN SOLUTION
    return np.einsum("sat,sat->sa", mdp.P, mdp.R)
    ### END SOLUTION


# %% tags=["check"]
check("mdps.expected_rewards")

# %% [markdown]
# ## 3. Trajectories and their probability
#
# A trajectory is $\tau = (s_0, a_0, s_1, a_1, \ldots, s_T)$. Under a stochastic policy
# $\pi(a \mid s)$, given as an $(S, A)$ array `policy[s, a]`, its probability is (slide
# "RL Formulation")
# $$P(\tau) = \mu(s_0) \prod_{t=0}^{T-1} \pi(a_t \mid s_t)\, P(s_{t+1} \mid s_t, a_t).$$
# `states` has one more entry than `actions`.

# %% tags=["solution"]
def trajectory_probability(mdp, states, actions, policy):
    """Return P(tau) for tau = (states[0], actions[0], states[1], ..., states[-1])."""
    ### BEGIN SOLUTION
    states = np.asarray(states)
    actions = np.asarray(actions)
    steps = policy[states[:-1], actions] * mdp.P[states[:-1], actions, states[1:]]
    return float(mdp.mu[states[0]] * np.prod(steps))
    ### END SOLUTION


# %% tags=["check"]
check("mdps.trajectory_probability")

# %% [markdown]
# The probability of a trajectory factorises into the environment's part ($\mu$ and $P$) and
# the agent's part ($\pi$). Only the agent's part depends on the policy's parameters, which is
# why the policy-gradient derivation later in the course can drop the transitions.

# %%
with skip_if_unwritten():
    uniform = np.full((mdp.n_states, mdp.n_actions), 1 / mdp.n_actions)
    traj = sampling.sample_trajectory(mdp, uniform, np.random.default_rng(0), max_steps=10)
    print("states:", [gw.coords[s] for s in traj.states])
    p_tau = trajectory_probability(mdp, traj.states, traj.actions, uniform)
    print("P(tau) under the uniform policy:", p_tau)

# %% [markdown]
# ## 4. The discounted return
#
# $$G_0 = r_0 + \gamma r_1 + \gamma^2 r_2 + \cdots = \sum_{t=0}^{T-1} \gamma^t r_t.$$
# With $\gamma < 1$ a reward later counts less; with $\gamma = 1$ the return is the plain sum
# of the lecture's first GridWorld example. An empty episode has return 0.

# %% tags=["solution"]
def discounted_return(rewards, gamma):
    """Return G_0 = sum_t gamma^t r_t for a sequence of rewards."""
    ### BEGIN SOLUTION
    rewards = np.asarray(rewards, dtype=float)
    return float(np.sum(gamma ** np.arange(len(rewards)) * rewards))
    ### END SOLUTION


# %% tags=["check"]
check("mdps.discounted_return")

# %% [markdown]
# ## 5. $V^\pi$ and $Q^\pi$
#
# $V^\pi(s)$ is the expected return from $s$ following $\pi$; $Q^\pi(s, a)$ first takes $a$,
# then follows $\pi$. The slide "Connection of two value functions" says
# $$V^\pi(s) = \mathbb{E}_{a \sim \pi(\cdot \mid s)}\left[Q^\pi(s, a)\right]
#            = \sum_a \pi(a \mid s)\, Q^\pi(s, a).$$

# %% tags=["solution"]
def v_from_q(q_values, policy):
    """Return V[s] = sum_a policy[s, a] * q_values[s, a]."""
    ### BEGIN SOLUTION
    return np.sum(policy * q_values, axis=1)
    ### END SOLUTION


# %% tags=["check"]
check("mdps.v_from_q")

# %% [markdown]
# ## 6. Exact policy evaluation: a linear solve
#
# The Bellman expectation equation
# $V^\pi(s) = \sum_a \pi(a|s) \sum_{s'} P(s'|s,a) [R(s,a,s') + \gamma V^\pi(s')]$
# is **linear** in $V^\pi$. With
# $P^\pi[s, s'] = \sum_a \pi(a|s) P(s'|s,a)$ and $r^\pi[s] = \sum_a \pi(a|s)\, r(s,a)$ it
# reads $V^\pi = r^\pi + \gamma P^\pi V^\pi$, so
# $$V^\pi = (I - \gamma P^\pi)^{-1} r^\pi .$$
#
# **Terminal states** have no future: $V^\pi = 0$ there and they never contribute
# $\gamma V(s')$. Solve the system only for the non-terminal states (drop the terminal rows
# and columns of $P^\pi$), and put 0 at the terminal ones. This also makes the system solvable
# with $\gamma = 1$ when the policy reaches an exit. Use `np.linalg.solve`, not an inverse.

# %% tags=["solution"]
def evaluate_policy_exact(mdp, policy):
    """Return V^pi for a stochastic policy[s, a] by solving (I - gamma P_pi) V = r_pi."""
    ### BEGIN SOLUTION
    keep = ~mdp.terminal
    p_pi = np.einsum("sa,sat->st", policy, mdp.P)[np.ix_(keep, keep)]
    r_pi = np.einsum("sa,sat,sat->s", policy, mdp.P, mdp.R)[keep]
    values = np.zeros(mdp.n_states)
    values[keep] = np.linalg.solve(np.eye(keep.sum()) - mdp.gamma * p_pi, r_pi)
    return values
    ### END SOLUTION


# %% tags=["check"]
check("mdps.evaluate_policy_exact")

# %% [markdown]
# Your solver drives rlkit's plotting: here are $V^\pi$ of the good policy and of the uniform
# random policy. Then $Q^\pi(s, a) = r(s, a) + \gamma \sum_{s'} P(s' \mid s, a) V^\pi(s')$
# comes from one look-ahead with your `expected_rewards` (no future after a terminal $s'$,
# where $V^\pi = 0$), and your `v_from_q` closes the loop.

# %%
with skip_if_unwritten():
    one_hot = np.eye(mdp.n_actions)[good]
    v_good = evaluate_policy_exact(mdp, one_hot)
    v_uniform = evaluate_policy_exact(mdp, uniform)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    plotting.plot_gridworld_values(gw, v_good, good, title="V^pi, the good policy", ax=axes[0])
    plotting.plot_gridworld_values(gw, v_uniform, title="V^pi, the uniform policy", ax=axes[1])
    plt.show()

    q_good = expected_rewards(mdp) + mdp.gamma * mdp.P @ v_good
    print("V^pi = E_a[Q^pi] holds:", np.allclose(v_from_q(q_good, one_hot), v_good))

# %% [markdown]
# ## 7. Monte Carlo evaluation
#
# Without the model we can still estimate $V^\pi(s)$: play $N$ episodes from $s$ and average
# their discounted returns,
# $$\hat V^\pi(s) = \frac{1}{N} \sum_{i=1}^{N} G^{(i)}_0 .$$
# Use `sampling.sample_trajectory(mdp, policy, rng, start_state=state)` (it returns a
# trajectory with `.rewards`) and your `discounted_return`. Draw all randomness from `rng`.
# The check compares your estimate with the exact $V^\pi(s)$ and allows 5 standard errors.

# %% tags=["solution"]
def monte_carlo_value(mdp, policy, state, n_episodes, rng):
    """Estimate V^pi(state) as the mean discounted return of n_episodes sampled episodes."""
    ### BEGIN SOLUTION
    returns = [
        discounted_return(
            sampling.sample_trajectory(mdp, policy, rng, start_state=state).rewards, mdp.gamma
        )
        for _ in range(n_episodes)
    ]
    return float(np.mean(returns))
    ### END SOLUTION


# %% tags=["check"]
check("mdps.monte_carlo_value")

# %% [markdown]
# How fast does the Monte Carlo estimate approach the linear solve? Its error shrinks like
# $1/\sqrt{N}$. (Skipped while grading: it samples many episodes.)

# %% tags=["slow"]
with skip_if_unwritten():
    if not is_nbgrader():
        rng = np.random.default_rng(0)
        ns = np.array([10, 30, 100, 300, 1000, 3000])
        errors = [abs(monte_carlo_value(mdp, one_hot, s11, n, rng) - v_good[s11]) for n in ns]
        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.loglog(ns, errors, "o-", label="|MC estimate - exact|")
        ax.loglog(ns, errors[0] * np.sqrt(ns[0] / ns), "--", label="1/sqrt(N)")
        ax.set_xlabel("episodes N")
        ax.set_ylabel("error at (1,1)")
        ax.legend()
        plt.show()

# %% [markdown]
# ## 8. Written answers (graded by hand)
#
# **Question 1 (3 points).** The linear solve and Monte Carlo both give $V^\pi$. Compare them:
# what does each need to know about the environment, what does each cost as the number of
# states grows, and which would you use for (a) the GridWorld, (b) a robot you can only run?

# %% [markdown] tags=["written"] grade_id="written_exact_vs_mc" points=3
# ### BEGIN SOLUTION
# *Model answer.* The linear solve needs the model (P, R, mu) and costs O(S^3) time and
# O(S^2) memory, exact up to floating point; Monte Carlo needs only the ability to run
# episodes (samples), costs O(N * T) per state, and has error ~ sigma / sqrt(N) with no bias.
# (a) GridWorld: the model is known and S = 12, so solve. (b) A real robot: no model, so Monte
# Carlo (or other sample-based methods).
#
# *Rubric (3 points).* 1 point: the solve needs P and R / MC needs only samples.
# 1 point: cost — cubic in S for the solve vs. number of episodes and their length for MC, with
# error shrinking like 1/sqrt(N). 1 point: a sensible choice for both (a) and (b) with a reason.
# ### END SOLUTION

# %% [markdown]
# **Question 2 (2 points).** Why must a terminal state not bootstrap, i.e. contribute
# $\gamma V(s')$ to a target? What goes wrong in the linear system with $\gamma = 1$ if it does?

# %% [markdown] tags=["written"] grade_id="written_terminal_states" points=2
# ### BEGIN SOLUTION
# *Model answer.* After a terminal state the episode is over: no further reward can come, so its
# value is 0 by definition, whatever a value estimate stores there. If it bootstrapped, the
# absorbing self-loop would give V(terminal) = 0 + gamma V(terminal): with gamma < 1 this still
# forces 0, but with gamma = 1 every value satisfies it, so I - P_pi is singular and the system has
# no unique solution (and values can drift).
#
# *Rubric (2 points).* 1 point: no reward after termination, so V = 0 there. 1 point: with
# gamma = 1 the self-loop row makes I - gamma P_pi singular / the value undetermined.
# ### END SOLUTION
