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
# # 04 · REINFORCE: deriving the policy gradient
#
# This notebook follows lecture 003 (*Policy Gradient: Reinforce*, slides "Warm Up: Importance
# Weighting", "Examples of Policy Parameterization", "Derivation of Policy Gradient: REINFORCE",
# "Further simplification on PG") and the policy-gradient part of lecture 001 (*Deep Reinforcement
# Learning*: the log-derivative trick, the weightings of $\nabla \ln \pi$, baselines). The
# derivation is the lesson, and it is graded **numerically**: on an MDP small enough to list every
# trajectory, the exact gradient $\nabla_\theta J(\theta)$ comes from autograd, and your estimators
# must equal it *in expectation*.
#
# | you write | lecture object |
# |---|---|
# | `grad_log_softmax` | the score $\nabla_\theta \ln P_\theta(x) = e_x - \mathrm{softmax}(\theta)$ |
# | `score_function_gradient` | $\frac{1}{N} \sum_i \nabla_\theta \ln P_\theta(x_i)\, f(x_i)$ |
# | `grad_log_softmax_linear` | $\nabla_\theta \ln \pi_\theta(a \mid s)$, $\pi_\theta \propto \exp(\theta^\top \phi)$ |
# | `reinforce_gradient` | $\frac{1}{N} \sum_i \sum_h \nabla_\theta \ln \pi_\theta(a_h \mid s_h)\, R(\tau_i)$ |
# | `reward_to_go` | $G_t = \sum_{t' = t}^{T-1} \gamma^{t'-t} r_{t'}$ |
# | `reward_to_go_gradient` | the same with $\sum_{t=h}^{H-1} r_t$ in place of $R(\tau)$ |
# | `baseline_gradient` | the same with $\sum_{t=h}^{H-1} r_t - b(s_h)$ |
# | `reinforce_loss` | $-\frac{1}{N}\sum_t \ln \pi_\theta(a_t \mid s_t)\,\Psi_t$, a loss autograd turns into $-\hat g$ |
#
# At the end, your `reward_to_go` and `reinforce_loss` drive `rlkit`'s REINFORCE trainer on
# CartPole-v1, and you watch your agent balance the pole.
#
# **How to work.** Fill in each `YOUR CODE HERE`, run the cell, then the check below it. A
# check prints `✓` when all its cases pass; otherwise it names the failing case, shows expected
# vs. got, and gives a hint. The grader adds hidden cases, so do not special-case the visible
# ones. Keep every name and signature. Use NumPy for the estimators (small loops over the steps
# of an episode are fine) and torch only where a loss is asked for.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import display

from autograder.checks import check, is_nbgrader, skip_if_unwritten
from rlkit import animation, plotting
from rlkit import policy_gradient as pg
from rlkit.agents import reinforce
from rlkit.nets import CategoricalPolicy

np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## 1. Warm-up: the gradient of an expectation, by importance weighting
#
# Take $K$ outcomes $x \in \{0, \ldots, K-1\}$, a value $f(x)$ for each, and a distribution
# over them with parameters $\theta \in \mathbb{R}^K$, the softmax
# $$P_\theta(x) = \frac{\exp(\theta_x)}{\sum_{x'} \exp(\theta_{x'})}.$$
# The objective is $J(\theta) = \mathbb{E}_{x \sim P_\theta} [f(x)] = \sum_x P_\theta(x) f(x)$.
# With only $K$ outcomes we can write this sum down, so autograd gives the **exact** gradient.
# `rlkit.policy_gradient` does it in torch (`pg.softmax_expectation` is $J$,
# `pg.softmax_expectation_gradient` its gradient):

# %%
theta_0 = np.array([0.5, -1.0, 0.0, 1.0])
f = np.array([1.0, -2.0, 3.0, 0.0])
print("P_theta0       =", pg.softmax(theta_0))
print("J(theta0)      =", float(pg.softmax_expectation(theta_0, f)))
exact = pg.softmax_expectation_gradient(theta_0, f)
print("grad J(theta0) =", exact, "(exact, by autograd)")

# %% [markdown]
# In RL the sum is over all trajectories: far too many to write down. We can only **sample**.
# The lecture's trick: pick any sampling distribution $\rho$ with
# $\max_x P_\theta(x) / \rho(x) < \infty$ and reweight,
# $$\nabla_\theta J(\theta)
# = \nabla_\theta \mathbb{E}_{x \sim \rho} \frac{P_\theta(x)}{\rho(x)} f(x)
# = \mathbb{E}_{x \sim \rho} \frac{\nabla_\theta P_\theta(x)}{\rho(x)} f(x)
# \approx \frac{1}{N} \sum_{i=1}^N \frac{\nabla_\theta P_\theta(x_i)}{\rho(x_i)} f(x_i).$$
# The gradient moved inside because $\rho$ does not depend on $\theta$. To get the gradient at
# $\theta_0$, sample from $\rho = P_{\theta_0}$ itself; then
# $\nabla_\theta P_{\theta_0}(x) / P_{\theta_0}(x) = \nabla_\theta \ln P_{\theta_0}(x)$ and
# $$\nabla_\theta J(\theta_0)
# = \mathbb{E}_{x \sim P_{\theta_0}} \big[\nabla_\theta \ln P_{\theta_0}(x)\, f(x)\big].$$
# $\nabla_\theta \ln P_\theta(x)$ is called the **score** of $x$.
#
# **The score of a softmax.** $\ln P_\theta(x) = \theta_x - \ln \sum_{x'} \exp(\theta_{x'})$.
# The first term's gradient is the one-hot vector $e_x$; the log-normaliser's gradient is
# $\exp(\theta_j) / \sum_{x'} \exp(\theta_{x'}) = P_\theta(j)$ in component $j$. So
# $$\nabla_\theta \ln P_\theta(x) = e_x - \mathrm{softmax}(\theta).$$
# Write it for a vector of logits `theta` (shape `(K,)`) and an outcome `action`. Compute the
# softmax **stably**: subtract `max(theta)` before `np.exp` (the softmax does not change, and
# `exp(1000)` no longer overflows).

# %% tags=["solution"]
def grad_log_softmax(theta, action):
    """Return grad_theta ln softmax(theta)[action] = e_action - softmax(theta), shape (K,)."""
    ### BEGIN SOLUTION
    z = np.asarray(theta, dtype=float)
    probs = np.exp(z - z.max())
    probs /= probs.sum()
    grad = -probs
    grad[action] += 1.0
    return grad
    ### END SOLUTION


# %% tags=["check"]
check("reinforce.grad_log_softmax")

# %% [markdown]
# Autograd agrees, and the score has mean zero under $P_\theta$ — remember this for baselines:
# $\mathbb{E}_{x \sim P_\theta} \nabla_\theta \ln P_\theta(x) = \sum_x \nabla_\theta P_\theta(x)
# = \nabla_\theta \sum_x P_\theta(x) = \nabla_\theta 1 = 0$.

# %%
with skip_if_unwritten():
    logits = torch.tensor(theta_0, requires_grad=True)
    torch.log_softmax(logits, dim=0)[2].backward()
    print("autograd:", logits.grad.numpy(), "  yours:", grad_log_softmax(theta_0, 2))
    probs_0 = pg.softmax(theta_0)
    print("E[score] =", sum(probs_0[x] * grad_log_softmax(theta_0, x) for x in range(4)))

# %% [markdown]
# Now the estimator. Given samples $x_1, \ldots, x_N \sim P_\theta$ (an integer array),
# return
# $$\hat g = \frac{1}{N} \sum_{i=1}^N \nabla_\theta \ln P_\theta(x_i)\, f(x_i),$$
# a `(K,)` array. Use your `grad_log_softmax`.

# %% tags=["solution"]
def score_function_gradient(theta, f, samples):
    """Return 1/N sum_i grad ln P_theta(x_i) f(x_i) for samples x_i ~ softmax(theta)."""
    ### BEGIN SOLUTION
    values = np.asarray(f, dtype=float)
    return np.mean([grad_log_softmax(theta, x) * values[x] for x in samples], axis=0)
    ### END SOLUTION


# %% tags=["check"]
check("reinforce.score_function_gradient")

# %% [markdown]
# The check summed your one-sample estimate over the $K$ outcomes, each weighted by its
# probability: that *is* its expectation, and it equals the exact gradient. Sampled, the error
# shrinks like $1/\sqrt{N}$:

# %%
with skip_if_unwritten():
    if not is_nbgrader():  # a measurement and its figure: skipped while grading
        rng = np.random.default_rng(0)
        sizes = np.array([10, 100, 1_000, 5_000])
        errors = [np.mean([np.linalg.norm(score_function_gradient(
            theta_0, f, pg.sample_outcomes(theta_0, n, rng)) - exact) for _ in range(10)])
            for n in sizes]
        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.loglog(sizes, errors, "o-", label=r"$\|\hat g - \nabla J\|$ (mean of 10)")
        ax.loglog(sizes, errors[0] * np.sqrt(sizes[0] / sizes), "--", label=r"$1/\sqrt{N}$")
        ax.set_xlabel("samples N")
        ax.set_ylabel("error of the estimate")
        ax.legend()
        plt.show()

# %% [markdown]
# *How does the distribution move during the update?* (a lecture question; see written
# question 1.) Take gradient-ascent steps $\theta \leftarrow \theta + \alpha \hat g$ with 50
# samples each and watch $P_\theta$:

# %%
with skip_if_unwritten():
    rng = np.random.default_rng(1)
    theta = theta_0.copy()
    history_p = [pg.softmax(theta)]
    for _ in range(60):
        theta = theta + 0.3 * score_function_gradient(theta, f, pg.sample_outcomes(theta, 50, rng))
        history_p.append(pg.softmax(theta))
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for x, row in enumerate(np.array(history_p).T):
        ax.plot(row, label=f"P(x={x}), f = {f[x]:+g}")
    ax.set_xlabel("update")
    ax.set_ylabel("probability")
    ax.legend(fontsize="small")
    plt.show()

# %% [markdown]
# ## 2. Policies: softmax tabular, softmax linear, neural
#
# A policy $\pi_\theta(\cdot \mid s) \in \Delta(A)$ is a softmax over the actions — "think of
# $\pi_\theta$ as a classifier" — with three ways to compute the logits (lecture slide
# "Examples of Policy Parameterization"):
#
# 1. **tabular**: one logit per pair, $\pi_\theta(a \mid s) \propto \exp(\theta_{s,a})$;
# 2. **softmax linear**: features $\phi(s,a) \in \mathbb{R}^d$ and
#    $\pi_\theta(a \mid s) \propto \exp(\theta^\top \phi(s,a))$;
# 3. **neural**: a network $f_\theta(s, a)$ and $\pi_\theta(a \mid s) \propto \exp(f_\theta(s,a))$.
#
# For the linear one, $\ln \pi_\theta(a \mid s) = \theta^\top \phi(s,a) - \ln \sum_{a'}
# \exp(\theta^\top \phi(s,a'))$, so
# $$\nabla_\theta \ln \pi_\theta(a \mid s)
# = \phi(s,a) - \sum_{a'} \pi_\theta(a' \mid s)\,\phi(s,a')
# = \phi(s,a) - \mathbb{E}_{a' \sim \pi_\theta(\cdot \mid s)} \phi(s,a').$$
# `features` holds $\phi(s, \cdot)$ of one state as an `(A, d)` array (row $a$ is $\phi(s,a)$),
# `theta` has shape `(d,)`; return a `(d,)` array.

# %% tags=["solution"]
def grad_log_softmax_linear(theta, features, action):
    """Return grad_theta ln pi(action|s) for pi(.|s) = softmax(features @ theta), shape (d,)."""
    ### BEGIN SOLUTION
    features = np.asarray(features, dtype=float)
    logits = features @ theta
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    return features[action] - probs @ features
    ### END SOLUTION


# %% tags=["check"]
check("reinforce.grad_log_softmax_linear")

# %% [markdown]
# The tabular policy is the linear one with one-hot features $\phi(s,a) = e_{(s,a)}$: then
# $\theta^\top \phi(s,a) = \theta_{s,a}$, and the score is $e_a - \pi_\theta(\cdot \mid s)$ in
# row $s$ and 0 elsewhere — your `grad_log_softmax` of row $s$. For a **neural** policy
# (`rlkit.nets.CategoricalPolicy`, the one we train on CartPole) autograd computes the score,
# and its mean under $\pi_\theta(\cdot \mid s)$ is again 0:

# %%
with skip_if_unwritten():
    theta_tab = np.array([[0.0, 1.0], [2.0, -1.0], [0.5, 0.5]])
    phi = pg.tabular_features(3, 2)
    print("linear with one-hot features, state 1, action 0:",
          grad_log_softmax_linear(theta_tab.ravel(), phi[1], 0).reshape(3, 2), sep="\n")
    print("grad_log_softmax of row 1:", grad_log_softmax(theta_tab[1], 0))

    torch.manual_seed(0)
    net = CategoricalPolicy(obs_dim=4, n_actions=2, hidden_sizes=(8,))
    obs = torch.tensor([0.1, -0.2, 0.05, 0.3])
    probs = net.distribution(obs).probs.detach()
    mean_score = 0.0
    for a in range(2):
        net.zero_grad()
        net.log_prob(obs, torch.tensor(a)).backward()
        score = torch.cat([p.grad.ravel() for p in net.parameters()])
        mean_score = mean_score + probs[a] * score
    print(f"neural policy: {score.numel()} parameters, "
          f"|E_a[grad ln pi(a|s)]| = {float(mean_score.norm()):.1e} (0 up to float32 round-off)")

# %% [markdown]
# ## 3. REINFORCE on a tiny MDP, exactly
#
# `pg.tiny_mdp()` is small enough to list every trajectory. States `start`, `left`, `right` and
# the terminal `end`; actions `L` and `R`; $s_0$ is `start` (probability 3/4) or `right` (1/4).
# From `start`, `L` leads `left` (0.8) or `right` (0.2); `R` leads `right` (0.7), `left` (0.2)
# or straight to `end` (0.1). Entering `left` pays 2. From `left` or `right` every action ends
# the episode: `left` pays 1 for `L`, `right` pays 3 for `R`, everything else 0. So
# $H = 2$, and the objective is the lecture's finite-horizon one,
# $J(\theta) = \mathbb{E}_{\tau \sim \rho_\theta}\big[\sum_{h=0}^{H-1} r(s_h,a_h)\big]$,
# with the tabular softmax policy, `theta` of shape `(S, A) = (4, 2)`.
#
# A trajectory is an `rlkit.sampling.Trajectory` with fields `states` ($s_0, \ldots, s_T$),
# `actions` ($a_0, \ldots, a_{T-1}$), `rewards` ($r_0, \ldots, r_{T-1}$) and `terminated`:
# **`states` has one more entry than `actions`**; $a_h$ is taken in `states[h]`.

# %%
mdp = pg.tiny_mdp()
H = pg.TINY_HORIZON
trajectories = pg.enumerate_trajectories(mdp, H)
theta_mdp = np.zeros((mdp.n_states, mdp.n_actions))
rho = pg.trajectory_probabilities(mdp, theta_mdp, trajectories)
names, actions = mdp.state_names, mdp.action_names
for tau, p in zip(trajectories, rho, strict=True):
    steps = zip(tau.states[:-1], tau.actions, strict=True)
    path = " ".join(f"{names[s]} -{actions[a]}->" for s, a in steps)
    print(f"rho = {p:.4f}   R = {tau.rewards.sum():3.0f}   {path} {names[tau.states[-1]]}")
print(f"{len(trajectories)} trajectories, total probability {rho.sum():.6f}")

# %% [markdown]
# The trajectory distribution is the lecture's
# $$\rho_\theta(\tau)
# = \mu(s_0)\,\pi_\theta(a_0 \mid s_0)\,P(s_1 \mid s_0, a_0)\,\pi_\theta(a_1 \mid s_1) \cdots$$
# and $J(\theta) = \sum_\tau \rho_\theta(\tau) R(\tau)$ is a sum of 11 terms: autograd gives
# the exact gradient (`pg.expected_return`, `pg.exact_gradient`).

# %%
print("J(0)      =", float(pg.expected_return(mdp, theta_mdp, H)))
grad_exact = pg.exact_gradient(mdp, theta_mdp, H)
print("grad J(0) =", grad_exact, sep="\n")

# %% [markdown]
# **The log-derivative trick.** Apply the warm-up to trajectories, with $\rho = \rho_{\theta_0}$:
# $$\nabla_\theta J(\theta_0)
# = \mathbb{E}_{\tau \sim \rho_{\theta_0}}\big[
# \nabla_\theta \ln \rho_\theta(\tau)\big|_{\theta_0}\, R(\tau)\big], \quad\text{since}\quad
# \nabla_\theta \rho_\theta(\tau) = \rho_\theta(\tau)\,\nabla_\theta \ln \rho_\theta(\tau).$$
# $\rho_\theta$ contains the unknown transitions — can we still compute its score? Take the log:
# $$\ln \rho_\theta(\tau) = \ln \mu(s_0)
# + \sum_{h} \big[\ln \pi_\theta(a_h \mid s_h) + \ln P(s_{h+1} \mid s_h, a_h)\big].$$
# $\mu$ and $P$ do not depend on $\theta$, so their gradients vanish:
# $\nabla_\theta \ln \rho_\theta(\tau) = \sum_h \nabla_\theta \ln \pi_\theta(a_h \mid s_h)$.
# Check it on every trajectory: autograd through the *full* $\ln \rho_\theta(\tau)$ (with
# $\ln \mu$ and $\ln P$) against the sum of your policy scores (row $s_h$ gets
# `grad_log_softmax(theta[s_h], a_h)`).

# %%
with skip_if_unwritten():
    theta_check = np.random.default_rng(2).normal(size=(4, 2))
    theta_t = torch.tensor(theta_check, requires_grad=True)
    log_rho = pg.trajectory_log_probabilities(mdp, theta_t, trajectories)
    largest = 0.0
    for i, tau in enumerate(trajectories):
        (full,) = torch.autograd.grad(log_rho[i], theta_t, retain_graph=True)
        policy_only = np.zeros_like(theta_check)
        for s, a in zip(tau.states[:-1], tau.actions, strict=True):
            policy_only[s] += grad_log_softmax(theta_check[s], a)
        largest = max(largest, np.abs(full.numpy() - policy_only).max())
    print(f"largest difference over the {len(trajectories)} trajectories: {largest:.1e}")

# %% [markdown]
# So the lecture's estimator needs no model at all:
# $$\hat g = \frac{1}{N} \sum_{i=1}^N
# \Big(\sum_{h=0}^{H-1} \nabla_\theta \ln \pi_\theta(a^i_h \mid s^i_h)\Big) R(\tau^i),
# \qquad R(\tau) = \sum_h r_h.$$
# Write it for the tabular softmax: `theta` is `(S, A)`, `episodes` a list of `Trajectory`; the
# result is an `(S, A)` array whose row $s_h$ receives `grad_log_softmax(theta[s_h], a_h)`
# times $R(\tau)$. Average over the **episodes** ($\frac{1}{N}$, one term per trajectory), not
# over the steps. Note what your function does *not* receive: the MDP.

# %% tags=["solution"]
def reinforce_gradient(theta, episodes):
    """Return 1/N sum_i (sum_h grad ln pi(a_h|s_h)) R(tau_i), an (S, A) array."""
    ### BEGIN SOLUTION
    grad = np.zeros_like(theta, dtype=float)
    for episode in episodes:
        total = np.sum(episode.rewards)
        for s, a in zip(episode.states[:-1], episode.actions, strict=True):
            grad[s] += grad_log_softmax(theta[s], a) * total
    return grad / len(episodes)
    ### END SOLUTION


# %% tags=["check"]
check("reinforce.reinforce_gradient")

# %% [markdown]
# The check did what the derivation claims: your estimate from one trajectory, weighted by
# $\rho_\theta(\tau)$ and summed over all 11 trajectories, is $\mathbb{E}[\hat g]$ — and it
# equals $\nabla_\theta J$. `pg.exact_moments` computes that mean and the variance of a
# one-episode estimate the same way; a sample of episodes lands near the mean:

# %%
with skip_if_unwritten():
    if not is_nbgrader():  # a measurement: skipped while grading
        moments = pg.exact_moments(mdp, theta_mdp, reinforce_gradient, H,
                                   trajectories=trajectories)
        print("E[g_hat] - grad J:", np.abs(moments.mean - grad_exact).max())
        episodes = pg.sample_episodes(mdp, theta_mdp, 5_000, np.random.default_rng(3), H)
        print("estimate from 5000 episodes:", reinforce_gradient(theta_mdp, episodes), sep="\n")

# %% [markdown]
# ## 4. Reward-to-go: the same expectation, less variance
#
# An action cannot change the rewards that came *before* it. The lecture's simplification
# weights each score only by the rewards from its step on:
# $$\nabla J(\theta) = \mathbb{E}_{\tau \sim \rho_\theta}\Big[\sum_{h=0}^{H-1}
# \nabla_\theta \ln \pi_\theta(a_h \mid s_h) \sum_{t=h}^{H-1} r(s_t, a_t)\Big].$$
# ("Show this simplified version is equivalent" is written question 3.) First the
# reward-to-go of one episode; with a discount (CartPole will use $\gamma = 0.99$):
# $$G_t = \sum_{t'=t}^{T-1} \gamma^{t'-t} r_{t'}, \qquad G_t = r_t + \gamma G_{t+1},\ G_T = 0.$$
# Return `[G_0, ..., G_{T-1}]` as a float array of shape `(T,)`; `rewards` is a float array.
# Go backwards once (no double loop is needed).

# %% tags=["solution"]
def reward_to_go(rewards, gamma):
    """Return [G_0, ..., G_{T-1}] with G_t = sum_{t' >= t} gamma^(t'-t) r_t', a float array."""
    ### BEGIN SOLUTION
    returns = np.zeros(len(rewards))
    future = 0.0
    for t in reversed(range(len(rewards))):
        future = rewards[t] + gamma * future
        returns[t] = future
    return returns
    ### END SOLUTION


# %% tags=["check"]
check("reinforce.reward_to_go")

# %% [markdown]
# Now the estimator: as `reinforce_gradient`, but step $h$ is weighted by
# `reward_to_go(episode.rewards, 1.0)[h]` instead of $R(\tau)$ (the lecture's objective is
# undiscounted).

# %% tags=["solution"]
def reward_to_go_gradient(theta, episodes):
    """Return 1/N sum_i sum_h grad ln pi(a_h|s_h) sum_{t>=h} r_t, an (S, A) array."""
    ### BEGIN SOLUTION
    grad = np.zeros_like(theta, dtype=float)
    for episode in episodes:
        to_go = reward_to_go(episode.rewards, 1.0)
        for h, (s, a) in enumerate(zip(episode.states[:-1], episode.actions, strict=True)):
            grad[s] += grad_log_softmax(theta[s], a) * to_go[h]
    return grad / len(episodes)
    ### END SOLUTION


# %% tags=["check"]
check("reinforce.reward_to_go_gradient")

# %% [markdown]
# ## 5. Baselines
#
# Because the score has mean zero in every state,
# $\mathbb{E}_{a_h \sim \pi_\theta(\cdot \mid s_h)}[\nabla_\theta \ln \pi_\theta(a_h \mid s_h)\,
# b(s_h)] = b(s_h) \cdot 0 = 0$
# for any $b$ that depends on the state but **not on the action** $a_h$ (nor on anything after
# it). Subtracting it keeps the estimator unbiased (lecture 001, slide "Option 3"):
# $$\hat g = \frac{1}{N} \sum_{i=1}^N \sum_{h=0}^{H-1}
# \nabla_\theta \ln \pi_\theta(a^i_h \mid s^i_h) \Big(\sum_{t=h}^{H-1} r^i_t - b(s^i_h)\Big).$$
# A good $b(s)$ is close to what the reward-to-go is on average from $s$: the value
# $V^{\pi_\theta}(s)$ (`pg.state_values(mdp, theta)`; in the tiny MDP a state is always the
# same number of steps from the end, so $V$ does not depend on $h$). `baseline` is an `(S,)`
# array.

# %% tags=["solution"]
def baseline_gradient(theta, episodes, baseline):
    """Return 1/N sum_i sum_h grad ln pi(a_h|s_h) (sum_{t>=h} r_t - b(s_h)), an (S, A) array."""
    ### BEGIN SOLUTION
    grad = np.zeros_like(theta, dtype=float)
    for episode in episodes:
        to_go = reward_to_go(episode.rewards, 1.0)
        for h, (s, a) in enumerate(zip(episode.states[:-1], episode.actions, strict=True)):
            grad[s] += grad_log_softmax(theta[s], a) * (to_go[h] - baseline[s])
    return grad / len(episodes)
    ### END SOLUTION


# %% tags=["check"]
check("reinforce.baseline_gradient")

# %% [markdown]
# ### The three estimators side by side
#
# Same mean, decreasing variance. The bars are the exact variance of a one-episode estimate,
# $\mathbb{E}\|\hat g - \nabla J\|^2$, from the enumeration; the dots measure it on 4000
# sampled episodes. An estimate from $N$ episodes has $1/N$ of that variance (right panel,
# the error of estimates from $N$ episodes, 100 repeats, the same episodes for all three).

# %%
with skip_if_unwritten():
    theta_v = np.random.default_rng(4).normal(0.0, 0.5, size=(4, 2))
    grad_v = pg.exact_gradient(mdp, theta_v, H)
    values_v = pg.state_values(mdp, theta_v)
    estimators = {
        "total return R(tau)": (reinforce_gradient, ()),
        "reward-to-go": (reward_to_go_gradient, ()),
        "reward-to-go - V(s)": (baseline_gradient, (values_v,)),
    }
    if not is_nbgrader():  # measurements and figures: skipped while grading
        rng = np.random.default_rng(5)
        sampled = pg.sample_episodes(mdp, theta_v, 4_000, rng, H)
        exact_var, measured_var = [], []
        for name, (estimator, extra) in estimators.items():
            m = pg.exact_moments(mdp, theta_v, estimator, H, *extra, trajectories=trajectories)
            assert np.allclose(m.mean, grad_v), name  # unbiased, exactly
            exact_var.append(m.total_variance)
            one_episode = np.array([estimator(theta_v, [tau], *extra) for tau in sampled])
            measured_var.append(np.mean(np.sum((one_episode - grad_v) ** 2, axis=(1, 2))))

        batch_sizes = np.array([1, 4, 16, 64])
        batches = [[pg.sample_episodes(mdp, theta_v, n, rng, H) for _ in range(100)]
                   for n in batch_sizes]
        fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.8))
        left.bar(list(estimators), exact_var, alpha=0.6, label="exact (enumeration)")
        left.plot(list(estimators), measured_var, "ko", label="measured (4000 episodes)")
        left.set_ylabel(r"variance of a one-episode $\hat g$")
        left.legend()
        for (name, (estimator, extra)), variance in zip(estimators.items(), exact_var,
                                                        strict=True):
            mse = [np.mean([np.sum((estimator(theta_v, eps, *extra) - grad_v) ** 2)
                            for eps in runs])
                   for runs in batches]
            (line,) = right.loglog(batch_sizes, mse, "o", label=name)
            right.loglog(batch_sizes, variance / batch_sizes, "--", color=line.get_color())
        right.set_xlabel("episodes per estimate N")
        right.set_ylabel(r"$\mathbb{E}\|\hat g_N - \nabla J\|^2$ (dashed: variance / N)")
        right.legend(fontsize="small")
        plt.show()
        for name, v in zip(estimators, exact_var, strict=True):
            print(f"{name:>22}: variance {v:.3f}")

# %% [markdown]
# The baseline must not look at the action. $b(s_{h+1})$ looks innocent but $s_{h+1}$ depends
# on $a_h$; the enumeration shows the bias at once:

# %%
def next_state_baseline_gradient(theta, episodes, baseline):
    """A WRONG estimator: the baseline of the next state s_{h+1}."""
    grad = np.zeros_like(theta, dtype=float)
    for episode in episodes:
        to_go = reward_to_go(episode.rewards, 1.0)
        for h, (s, a) in enumerate(zip(episode.states[:-1], episode.actions, strict=True)):
            after = episode.states[h + 1]  # depends on a_h
            grad[s] += grad_log_softmax(theta[s], a) * (to_go[h] - baseline[after])
    return grad / len(episodes)


with skip_if_unwritten():
    biased = pg.exact_moments(mdp, theta_v, next_state_baseline_gradient, H, values_v,
                              trajectories=trajectories)
    print("bias of b(s_{h+1}):", np.abs(biased.mean - grad_v).max())

# %% [markdown]
# ### Gradient ascent with the estimates
#
# Stochastic gradient ascent, $\theta \leftarrow \theta + \alpha \hat g$ from $\theta = 0$,
# made deliberately noisy: 2 episodes per step and a large step $\alpha = 1$. Each estimator
# gets 16 runs with the same random seeds; the plot shows the exact $J(\theta_k)$ (mean and
# 10–90 % band). The optimum is $J^* = 3$ (`L` at `start`, `L` at `left`, `R` at `right`).
# A noisy step can push the softmax into a nearly deterministic, suboptimal policy, where the
# gradient almost vanishes: the run is stuck. Less variance, fewer stuck runs. (The baseline is
# the exact $V^{\pi_\theta}$, recomputed every step; in deep RL it is estimated.)

# %%
with skip_if_unwritten():
    if not is_nbgrader():  # 3 x 16 training runs: skipped while grading
        fig, ax = plt.subplots(figsize=(7, 3.8))
        for name, (estimator, extra) in estimators.items():
            curves = []
            for run in range(16):
                rng = np.random.default_rng(100 + run)  # the same seeds for all three estimators
                theta, curve = np.zeros((4, 2)), []
                for _ in range(60):
                    curve.append(float(pg.expected_return(mdp, theta, H, trajectories)))
                    batch = pg.sample_episodes(mdp, theta, 2, rng, H)
                    baseline = (pg.state_values(mdp, theta),) if extra else ()
                    theta = theta + 1.0 * estimator(theta, batch, *baseline)
                curves.append(curve)
            curves = np.array(curves)
            (line,) = ax.plot(curves.mean(axis=0),
                              label=f"{name}: final {curves[:, -1].mean():.2f}")
            ax.fill_between(np.arange(60), *np.percentile(curves, [10, 90], axis=0), alpha=0.15,
                            color=line.get_color())
        ax.axhline(3.0, color="gray", linestyle=":", label="J* = 3")
        ax.set_xlabel("update")
        ax.set_ylabel(r"exact $J(\theta)$")
        ax.legend(fontsize="small", loc="lower right")
        plt.show()

# %% [markdown]
# ## 6. From the estimator to a loss that autograd differentiates
#
# With a neural policy we do not write the score by hand: we build a scalar whose gradient is
# the estimate and let autograd do the rest. With `log_probs` $= \ln \pi_\theta(a_t \mid s_t)$
# of every step of a batch (a tensor with gradients) and `weights` $= \Psi_t$ (the
# reward-to-go, possibly minus a baseline), the **surrogate loss** is
# $$L(\theta) = -\frac{1}{N}\sum_{t} \ln \pi_\theta(a_t \mid s_t)\,\Psi_t,$$
# averaged over the $N$ steps of the batch, as `rlkit`'s trainer expects.
#
# * **The sign.** Optimisers *descend* a loss and we want to *ascend* $J$: hence the minus.
# * **The weights are constants.** $\Psi_t$ may come out of a network (a learned baseline
#   $V_\phi(s_t)$); the policy loss must not send gradients into it: use `weights.detach()`.
# * Dividing by the number of *steps* instead of episodes only rescales the gradient by a
#   positive constant; the step size (and Adam's normalisation) absorbs it.
#
# Return a scalar (0-dimensional) tensor.

# %% tags=["solution"]
def reinforce_loss(log_probs, weights):
    """Return the surrogate loss -mean(log_probs * weights), the weights held constant."""
    ### BEGIN SOLUTION
    return -(log_probs * weights.detach()).mean()
    ### END SOLUTION


# %% tags=["check"]
check("reinforce.reinforce_loss")

# %% [markdown]
# On the tiny MDP, autograd of your loss is minus your reward-to-go estimate, times
# $N_\text{episodes} / N_\text{steps}$:

# %%
with skip_if_unwritten():
    episodes = pg.sample_episodes(mdp, theta_v, 50, np.random.default_rng(7), H)
    theta_t = torch.tensor(theta_v, requires_grad=True)
    steps = [(s, a) for tau in episodes for s, a in zip(tau.states[:-1], tau.actions, strict=True)]
    log_probs = torch.log_softmax(theta_t, dim=1)[[s for s, _ in steps], [a for _, a in steps]]
    weights = torch.as_tensor(np.concatenate([reward_to_go(tau.rewards, 1.0) for tau in episodes]))
    reinforce_loss(log_probs, weights).backward()
    scale = len(episodes) / len(steps)
    print("largest difference:",
          np.abs(-theta_t.grad.numpy() - scale * reward_to_go_gradient(theta_v, episodes)).max())

# %% [markdown]
# ## 7. REINFORCE on CartPole-v1, with your code
#
# `rlkit.agents.reinforce.train` is the lecture's algorithm with a neural softmax policy
# (`CategoricalPolicy`, one hidden layer of 32): collect a batch of whole episodes with
# $\pi_\theta$, compute $\Psi_t$ with **your** `reward_to_go` ($\gamma = 0.99$) minus the
# batch mean as a baseline, take one Adam step on **your** `reinforce_loss`, repeat. The
# greedy policy is evaluated every 5000 steps; 500 is the best return. (Skipped while grading;
# about 10 seconds.)

# %% tags=["slow"]
with skip_if_unwritten():
    if not is_nbgrader():
        config = reinforce.ReinforceConfig(total_steps=60_000, eval_interval=5_000,
                                           target_return=500.0)
        history = reinforce.train(config, seed=0, reward_to_go_fn=reward_to_go,
                                  loss_fn=reinforce_loss, progress=True)
        final = history.final_evaluation
        print(f"greedy return {final.mean:.1f} +- {final.std:.1f} after {final.step} steps "
              f"({history.train_seconds:.1f} s of training)")
        plotting.plot_history(history,
                              title="REINFORCE on CartPole-v1: your loss and reward-to-go")
        plt.show()

# %% [markdown]
# Your trained agent (an animation of one greedy episode):

# %% tags=["slow"]
with skip_if_unwritten():
    if not is_nbgrader():
        display(animation.render_episode("CartPole-v1", history.act, seed=0))

# %% [markdown]
# The weightings on CartPole: total return vs. reward-to-go, without and with the batch-mean
# baseline (two seeds each, 30 000 steps, greedy evaluations of 3 episodes; 20–40 seconds).
# Two seeds are a noisy comparison — the tiny MDP above is where the variance was measured
# exactly.

# %% tags=["slow"]
with skip_if_unwritten():
    if not is_nbgrader():
        variants = {"total return": ("total_return", "none"),
                    "reward-to-go": ("reward_to_go", "none"),
                    "reward-to-go - mean": ("reward_to_go", "mean")}
        fig, ax = plt.subplots(figsize=(7, 4))
        for label, (weighting, baseline) in variants.items():
            short = reinforce.ReinforceConfig(total_steps=30_000, eval_interval=5_000,
                                              eval_episodes=3, weighting=weighting,
                                              baseline=baseline)
            runs = [reinforce.train(short, seed=seed, reward_to_go_fn=reward_to_go,
                                    loss_fn=reinforce_loss, progress=True) for seed in (0, 1)]
            n = min(len(r.evaluations) for r in runs)
            steps = np.mean([[e.step for e in r.evaluations[:n]] for r in runs], axis=0)
            means = np.mean([[e.mean for e in r.evaluations[:n]] for r in runs], axis=0)
            ax.plot(steps, means, "o-", label=label)
        ax.set_xlabel("environment steps")
        ax.set_ylabel("greedy return (mean of 2 seeds)")
        ax.legend()
        plt.show()

# %% [markdown]
# ## 8. Written answers (graded by hand)
#
# **Question 1 (2 points).** In the warm-up plot of section 1, $P_\theta(x{=}0)$ first rises,
# then falls, although $f(0) = +1 > 0$, and every sample of $x = 0$ raises its own logit. How
# does the distribution move in expectation, and why does $P_\theta(0)$ turn around? (Hint:
# compute component $j$ of $\mathbb{E}_{x \sim P_\theta}[(e_x - P_\theta) f(x)]$ and compare
# with $J(\theta_0) \approx 0.68$.)

# %% [markdown] tags=["written"] grade_id="written_distribution_moves" points=2
# ### BEGIN SOLUTION
# *Model answer.* Component j of the expected update is
# sum_x P(x) (1[x = j] - P(j)) f(x) = P(j) f(j) - P(j) J = P(j) (f(j) - J(theta)).
# Probability flows towards outcomes whose value is ABOVE the current average J(theta) and away
# from those below it, in proportion to their probability. At the start J = 0.68 < f(0) = 1, so
# P(0) grows; as the mass moves to x = 2 (f = 3), J rises above 1, f(0) becomes below average
# and P(0) shrinks. A sample of x = 0 raises its own logit, but every sample x also lowers all
# logits by P_theta * f(x) (the -softmax term), and on average that wins for below-average
# outcomes. Only the comparison with the average matters (it is the implicit baseline).
#
# *Rubric (2 points).* 1 point: the expected update is P(j)(f(j) - J) (or an equivalent
# statement: mass flows to above-average outcomes). 1 point: explains the turn-around: J(theta)
# grows past f(0) = 1 (positive f alone does not make a probability rise).
# ### END SOLUTION

# %% [markdown]
# **Question 2 (2 points).** The lecture's in-class exercise: plug the definition of
# $\rho_\theta(\tau)$ into $\nabla_\theta \ln \rho_\theta(\tau)$ and simplify. Why can REINFORCE
# estimate the gradient without knowing $P$ or $\mu$, and what does it still need from the
# environment?

# %% [markdown] tags=["written"] grade_id="written_transitions_drop_out" points=2
# ### BEGIN SOLUTION
# *Model answer.* ln rho(tau) = ln mu(s_0) + sum_h [ln pi_theta(a_h|s_h) + ln P(s_{h+1}|s_h,a_h)].
# mu and P do not depend on theta, so their gradients are 0 and
# grad ln rho(tau) = sum_h grad ln pi_theta(a_h|s_h): only the policy, which we know and can
# differentiate. The environment's dynamics still matter, but only through the SAMPLES: we need
# to run episodes (states, actions, rewards) drawn from rho_theta, i.e. on-policy samples from
# the real environment and its rewards.
#
# *Rubric (2 points).* 1 point: the log turns the product into a sum and the mu / P terms have
# zero gradient. 1 point: what is still needed: sampled trajectories (and rewards) from the
# environment with the current policy.
# ### END SOLUTION

# %% [markdown]
# **Question 3 (3 points).** The lecture's exercise: show that the reward-to-go estimator has
# the same expectation as REINFORCE with $R(\tau)$, i.e. that the terms
# $\nabla_\theta \ln \pi_\theta(a_h \mid s_h)\, r(s_t, a_t)$ with $t < h$ have expectation zero.
# Then say why dropping them lowers the variance (your plot in section 5 shows by how much).

# %% [markdown] tags=["written"] grade_id="written_reward_to_go" points=3
# ### BEGIN SOLUTION
# *Model answer.* R(tau) = sum_{t<h} r_t + sum_{t>=h} r_t. For t < h, condition on the history
# up to s_h (which fixes r_t): E[grad ln pi(a_h|s_h) r_t] = E[ r_t E_{a_h ~ pi(.|s_h)}[grad ln
# pi(a_h|s_h)] ] = E[r_t * 0] = 0, because sum_a pi(a|s) grad ln pi(a|s) = grad sum_a pi(a|s)
# = grad 1 = 0. So the past rewards add nothing in expectation and can be dropped: both
# estimators have the same mean, grad J. They add noise, though: the past rewards are random
# and multiply a zero-mean score, contributing a positive variance term (for each h, roughly
# E[|grad ln pi|^2 (sum_{t<h} r_t)^2] plus cross terms); removing them usually lowers the
# variance (on the tiny MDP from about 4 to 3 at theta = 0; the baseline lowers it further).
#
# *Rubric (3 points).* 1 point: splits R(tau) into past and future rewards. 1 point: uses
# conditioning on s_h and E_a[grad ln pi] = 0 (with its one-line proof) to show the past terms
# vanish. 1 point: explains the variance: the dropped terms have mean zero but non-zero
# variance (noise from rewards the action could not affect).
# ### END SOLUTION
