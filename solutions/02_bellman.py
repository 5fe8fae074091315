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
# # 02 · Bellman backups
#
# This notebook follows lecture 001 (*Deep Reinforcement Learning*), slides "Computing Optimal
# Value Function", "Value Iteration", "Q-Value Iteration" and "Policy Iteration". You will write
# the backups, and `rlkit`'s loops and plots will run **your** functions:
#
# | you write | lecture equation |
# |---|---|
# | `q_from_v` | $Q(s,a) = \sum_{s'} P(s' \mid s,a)\,[R(s,a,s') + \gamma V(s')]$ |
# | `value_iteration_step` | $V_k^*(s) = \max_a \sum_{s'} P(s' \mid s,a)\,[R(s,a,s') + \gamma V_{k-1}^*(s')]$ |
# | `greedy_policy` | $\pi(s) = \arg\max_a \sum_{s'} P(s' \mid s,a)\,[R + \gamma V(s')]$ |
# | `policy_evaluation_step` | $V_{i+1}^{\pi}(s) = \sum_a \pi(a \mid s) \sum_{s'} P\,[R + \gamma V_i^{\pi}(s')]$ |
# | `policy_iteration` | evaluate, improve, repeat until the policy is stable |
# | `q_value_iteration_step` | $Q_{k+1}^*(s,a) = \sum_{s'} P\,[R + \gamma \max_{a'} Q_k^*(s',a')]$ |
# | `epsilon_greedy`, `q_learning_update` | tabular Q-learning, the bridge to DQN |
#
# Fill in each `YOUR CODE HERE` and run the check below it; a failed check names the case,
# shows expected vs. got, and gives a hint. Keep names and signatures.
#
# **Conventions** (the same as `rlkit` and notebook 01): `mdp.P[s, a, s']`, `mdp.R[s, a, s']`,
# `mdp.gamma`, `mdp.terminal[s]`. Terminal states never bootstrap: a terminal $s'$ contributes
# $R(s,a,s')$ but **no** $\gamma V(s')$, whatever the array `values` holds there, and the value
# of a terminal state is 0. Work on whole arrays (`np.einsum`, broadcasting); no loop over
# states is needed.

# %%
import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np

import rlkit
from autograder.checks import check, is_nbgrader, skip_if_unwritten
from rlkit import GridWorld, dp, plotting, qlearning

np.set_printoptions(precision=3, suppress=True)

# %% [markdown]
# ## 1. The one-step look-ahead
#
# Every backup in this lecture is built on the same look-ahead from a value vector $V$:
# $$Q(s,a) = \sum_{s'} P(s' \mid s,a)\,\big[R(s,a,s') + \gamma\,(1 - \text{terminal}[s'])\,V(s')\big],$$
# and $Q(s, \cdot) = 0$ at a terminal state $s$: the episode is over there, so nothing is
# earned, whatever rewards its own transitions carry.

# %% tags=["solution"]
def q_from_v(mdp, values):
    """Return the (S, A) look-ahead Q[s, a] from a value vector V[s]."""
    ### BEGIN SOLUTION
    future = np.where(mdp.terminal, 0.0, values)
    q = np.einsum("sat,sat->sa", mdp.P, mdp.R + mdp.gamma * future[None, None, :])
    return np.where(mdp.terminal[:, None], 0.0, q)
    ### END SOLUTION


# %% tags=["check"]
check("bellman.q_from_v")

# %% [markdown]
# ## 2. Value iteration
#
# $V_k^*(s)$ is the optimal value with $k$ steps left. Start from $V_0^* = 0$ and back up:
# $$V_k^*(s) \leftarrow \max_a \sum_{s'} P(s' \mid s,a)\,\big[R(s,a,s') + \gamma V_{k-1}^*(s')\big].$$
# The update is **synchronous**: every $V_k^*(s)$ is computed from the old $V_{k-1}^*$. Terminal
# states stay at 0.

# %% tags=["solution"]
def value_iteration_step(mdp, values):
    """One synchronous Bellman optimality backup: V_k from V_{k-1}."""
    ### BEGIN SOLUTION
    return np.where(mdp.terminal, 0.0, q_from_v(mdp, values).max(axis=1))
    ### END SOLUTION


# %% tags=["check"]
check("bellman.value_iteration_step")

# %% [markdown]
# ### Your backup inside rlkit's loop
#
# `dp.value_iteration(mdp, backup=...)` runs the lecture's loop with any backup, keeps every
# $V_k$ in `history` and the max-norm change $\|V_k - V_{k-1}\|_\infty$ in `residuals`.
#
# First the slide's warm-up: **deterministic moves and $\gamma = 1$**, $H = 100$.

# %%
with skip_if_unwritten():
    det = GridWorld(noise=0.0, gamma=1.0)
    result = dp.value_iteration(det.mdp, horizon=100, backup=value_iteration_step)
    for xy in [(4, 3), (3, 3), (2, 3), (1, 1), (4, 2)]:
        print(f"V*{xy} = {result.values[det.state_index(xy)]:+.3f}")

# %% [markdown]
# As on the slide, every state can reach $(4,3)$ for sure, so $V^* = 1$ there, and the $-1$
# exit is worth $-1$. With $\gamma = 1$ and no living cost, *when* you arrive does not matter, so
# many actions tie — even bumping into a wall keeps $V^* = 1$. A greedy policy that breaks ties
# by the lowest index can then loop forever: one reason to use $\gamma < 1$ or a living cost.
#
# Now the real lecture world: **success 0.8, slips 0.1/0.1, $\gamma = 0.9$**.

# %%
with skip_if_unwritten():
    gw = GridWorld()
    mdp = gw.mdp
    result = dp.value_iteration(mdp, backup=value_iteration_step)
    print(f"converged after {result.n_iterations} sweeps")
    v = {xy: result.values[gw.state_index(xy)] for xy in [(4, 3), (3, 3), (2, 3), (3, 2)]}
    lhs = v[(3, 3)]
    rhs = 0.8 * 0.9 * v[(4, 3)] + 0.1 * 0.9 * v[(3, 3)] + 0.1 * 0.9 * v[(3, 2)]
    print(f"V*(3,3) = {lhs:.4f};  0.8*0.9*V*(4,3) + 0.1*0.9*V*(3,3) + 0.1*0.9*V*(3,2) = {rhs:.4f}")

# %% [markdown]
# The slide's equation holds at the fixed point: from $(3,3)$ the best action is E, which
# reaches $(4,3)$ with 0.8, slips N into the wall (staying at $(3,3)$) with 0.1, and slips S
# to $(3,2)$ with 0.1.
#
# Watch $V_k$ grow with the horizon $k$, and the residual shrink geometrically:

# %%
with skip_if_unwritten():
    fig, axes = plt.subplots(1, 4, figsize=(18, 3.3))
    for ax, k in zip(axes[:3], [1, 3, 10]):
        plotting.plot_gridworld_values(gw, result.history[k], title=f"V_{k}", ax=ax)
    plotting.plot_convergence(result.residuals, label="value iteration", ax=axes[3])
    plt.tight_layout()
    plt.show()

# %% [markdown]
# ## 3. Extracting the policy
#
# The greedy policy picks the best action of the look-ahead:
# $$\pi(s) = \arg\max_a \sum_{s'} P(s' \mid s,a)\,\big[R(s,a,s') + \gamma V(s')\big].$$
# Return an integer action per state; break ties by the lowest action index (`np.argmax` does).

# %% tags=["solution"]
def greedy_policy(mdp, values):
    """Return the greedy action index for every state (ties: lowest index)."""
    ### BEGIN SOLUTION
    return np.argmax(q_from_v(mdp, values), axis=1)
    ### END SOLUTION


# %% tags=["check"]
check("bellman.greedy_policy")

# %%
with skip_if_unwritten():
    pi_star = greedy_policy(mdp, result.values)
    fig = plotting.plot_gridworld_values(gw, result.values, pi_star, title="V* and pi* (yours)")
    plt.show()

# %% [markdown]
# ## 4. Policy evaluation and policy iteration
#
# Evaluating a fixed policy replaces the max by the policy's average (slide "Policy
# Iteration"). With a stochastic policy given as an $(S, A)$ array `policy[s, a]`:
# $$V_{i+1}^{\pi}(s) \leftarrow \sum_a \pi(a \mid s) \sum_{s'} P(s' \mid s,a)\,\big[R(s,a,s') + \gamma V_i^{\pi}(s')\big].$$

# %% tags=["solution"]
def policy_evaluation_step(mdp, values, policy):
    """One synchronous Bellman expectation backup for a stochastic policy[s, a]."""
    ### BEGIN SOLUTION
    return np.where(mdp.terminal, 0.0, np.sum(policy * q_from_v(mdp, values), axis=1))
    ### END SOLUTION


# %% tags=["check"]
check("bellman.policy_evaluation_step")

# %% [markdown]
# **Policy iteration** alternates
# 1. *evaluation* of $\pi_k$ — here exactly, with `dp.policy_evaluation_exact(mdp, policy)`
#    (the linear solve of notebook 01; it accepts an array of action indices), and
# 2. *improvement*: $\pi_{k+1} = $ `greedy_policy(mdp, V^{pi_k})`,
#
# until the policy stops changing. Start from the policy that always takes action 0 and return
# `(policy, values)`, where `values` $= V^{\pi}$ of the policy you return.

# %% tags=["solution"]
def policy_iteration(mdp):
    """Return (policy, values): an optimal deterministic policy and its value V^pi."""
    ### BEGIN SOLUTION
    policy = np.zeros(mdp.n_states, dtype=int)
    while True:
        values = dp.policy_evaluation_exact(mdp, policy)
        improved = greedy_policy(mdp, values)
        if np.array_equal(improved, policy):
            return policy, values
        policy = improved
    ### END SOLUTION


# %% tags=["check"]
check("bellman.policy_iteration")

# %% [markdown]
# Policy iteration needs only a handful of improvements; value iteration needs many cheap
# sweeps. Your two solvers agree:

# %%
with skip_if_unwritten():
    pi_policy, pi_values = policy_iteration(mdp)
    print("value iteration sweeps:", result.n_iterations)
    print("same V*:", np.allclose(pi_values, result.values, atol=1e-6))

# %% [markdown]
# ## 5. Q-value iteration
#
# The same idea on $Q$ (slide "Q-Value Iteration"):
# $$Q_{k+1}^*(s,a) \leftarrow \sum_{s'} P(s' \mid s,a)\,\big[R(s,a,s') + \gamma \max_{a'} Q_k^*(s',a')\big],$$
# with no future after a terminal $s'$. In large problems this backup becomes the regression
# target of Q-learning and DQN.

# %% tags=["solution"]
def q_value_iteration_step(mdp, q_values):
    """One Q-value iteration backup: Q_{k+1} from Q_k, both (S, A)."""
    ### BEGIN SOLUTION
    return q_from_v(mdp, q_values.max(axis=1))
    ### END SOLUTION


# %% tags=["check"]
check("bellman.q_value_iteration_step")

# %%
with skip_if_unwritten():
    q_result = dp.q_value_iteration(mdp, backup=q_value_iteration_step)
    print("max_a Q* = V*:", np.allclose(q_result.q_values.max(axis=1), result.values, atol=1e-6))
    fig = plotting.plot_convergence(result.residuals, label="value iteration")
    plotting.plot_convergence(q_result.residuals, label="Q-value iteration", ax=fig.axes[0])
    fig.axes[0].legend()
    plt.show()

# %% [markdown]
# ## 6. Without the model: tabular Q-learning
#
# When $P$ and $R$ are unknown, we sample transitions $(s, a, r, s')$ and move $Q(s,a)$ a step
# $\alpha$ towards the one-sample target of Q-value iteration. Exploration comes from
# **$\epsilon$-greedy**: with probability $\epsilon$ a uniformly random action (any of the
# $|A|$, the greedy one included), otherwise a greedy action, ties broken uniformly at random.
# Use the given `rng` (`rng.random()`, `rng.integers(n)`, `rng.choice(...)`).

# %% tags=["solution"]
def epsilon_greedy(q_row, epsilon, rng):
    """Return an action index: random with prob. epsilon, else greedy (random tie-break)."""
    ### BEGIN SOLUTION
    if rng.random() < epsilon:
        return int(rng.integers(len(q_row)))
    best = np.flatnonzero(q_row == np.max(q_row))
    return int(rng.choice(best))
    ### END SOLUTION


# %% tags=["check"]
check("bellman.epsilon_greedy")

# %% [markdown]
# The Q-learning update, with the terminal mask (no future after termination; a time-limit
# truncation is not termination, so it still bootstraps):
# $$Q(s,a) \leftarrow Q(s,a) + \alpha\,\big[r + \gamma\,(1 - \text{terminated}) \max_{a'} Q(s',a') - Q(s,a)\big].$$
# Return a **new** table; do not modify `q_values` in place.

# %% tags=["solution"]
def q_learning_update(q_values, state, action, reward, next_state, terminated, alpha, gamma):
    """Return a new Q table after one Q-learning update of entry (state, action)."""
    ### BEGIN SOLUTION
    q = np.array(q_values, dtype=float)
    target = reward + gamma * (1.0 - float(terminated)) * q[next_state].max()
    q[state, action] += alpha * (target - q[state, action])
    return q
    ### END SOLUTION


# %% tags=["check"]
check("bellman.q_learning_update")

# %% [markdown]
# Your two functions inside rlkit's Q-learning loop, on the lecture GridWorld. After enough
# episodes the greedy policy of the learned $Q$ matches $\pi^*$ from value iteration on the
# states that matter. (Skipped while grading.)

# %% tags=["slow"]
with skip_if_unwritten():
    if not is_nbgrader():
        env = gym.make("rlkit/GridWorld-v0")
        config = qlearning.QLearningConfig(n_episodes=2000, alpha=0.1, gamma=0.9,
                                           epsilon_decay_episodes=1500)
        learned = qlearning.q_learning(env, config, seed=0, update_fn=q_learning_update,
                                       policy_fn=epsilon_greedy, progress=True)
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
        plotting.plot_learning_curve(learned.episode_returns, window=50, ax=axes[0])
        learned_policy = learned.q_values.argmax(axis=1)
        plotting.plot_gridworld_values(gw, learned.q_values.max(axis=1), learned_policy,
                                       title="Q-learning: max_a Q and its greedy policy",
                                       ax=axes[1])
        plt.show()
        cells = [s for s, xy in enumerate(gw.coords) if xy is not None and xy not in gw.exits]
        agree = sum(learned_policy[s] == pi_star[s] for s in cells)
        print(f"the learned greedy action equals pi* in {agree} of the {len(cells)} "
              "non-exit cells")

# %% [markdown]
# ## 7. Written answers (graded by hand)
#
# **Question 1 (3 points).** Why does value iteration converge for $\gamma < 1$, whatever
# $V_0$? Say what property of the Bellman optimality backup $T$ is at work, and what it implies
# for $\|V_k - V^*\|_\infty$. Look at the residual plot above: does it agree?

# %% [markdown] tags=["written"] grade_id="written_vi_converges" points=3
# ### BEGIN SOLUTION
# *Model answer.* T is a gamma-contraction in the max norm: ||TV - TU||_inf <= gamma ||V - U||_inf,
# because the max over actions and the expectation over s' cannot increase the largest
# difference, and the future is scaled by gamma. By Banach's fixed-point theorem T has a unique
# fixed point V*, and ||V_k - V*||_inf <= gamma^k ||V_0 - V*||_inf -> 0 for any V_0. The
# residual plot is a straight line on a log scale: geometric decay with rate about gamma.
#
# *Rubric (3 points).* 1 point: contraction in max norm with modulus gamma (or an equivalent
# argument). 1 point: unique fixed point / error bound gamma^k, independent of V_0. 1 point:
# connects to the plot (log-linear decay, slope ~ log gamma).
# ### END SOLUTION

# %% [markdown]
# **Question 2 (2 points).** Value iteration vs. policy iteration on this GridWorld: which
# needed fewer iterations, which iteration is more expensive, and why? When would you prefer
# each?

# %% [markdown] tags=["written"] grade_id="written_vi_vs_pi" points=2
# ### BEGIN SOLUTION
# *Model answer.* Policy iteration needed far fewer iterations (a handful) than value
# iteration (dozens to hundreds of sweeps), but each of its iterations solves a linear system,
# O(S^3), against O(S^2 A) for one value-iteration sweep. Policy iteration suits small or
# medium S where few, expensive iterations win; value iteration suits large S, or when an
# approximate V is enough.
#
# *Rubric (2 points).* 1 point: PI fewer iterations, each more expensive (evaluation). 1 point:
# a reasonable when-to-use for each, tied to the cost per iteration.
# ### END SOLUTION
