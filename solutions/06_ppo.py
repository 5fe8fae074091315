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
# # 06 · PPO: from the policy-improvement identity to $L^{CLIP}$
#
# This notebook follows lecture 001 (*Deep Reinforcement Learning*), slides "What if we want to use
# old data more efficiently?" to "Algorithm 1 PPO-Clip". A policy-gradient step (notebooks 04 and
# 05) uses its rollout once and throws it away. PPO takes many gradient steps on each rollout, and
# keeps the new policy close enough to the one that collected it for those steps to stay honest.
# First, on the tiny MDP of notebooks 04 and 05, where every quantity is exact, you build the
# identity the lecture starts from and the **surrogate** objective, and see where it stops being a
# good model of $J$. Then you write the pieces of PPO-Clip, and `rlkit`'s PPO trainer runs them on
# CartPole-v1, next to A2C and REINFORCE.
#
# | you write | lecture object |
# |---|---|
# | `advantage_table` | $A^{\pi}_h(s,a) = Q^{\pi}_h(s,a) - V^{\pi}_h(s)$ of the finite horizon |
# | `state_distribution` | $d^\theta_h(s)$: the probability of being in $s$ at step $h$ |
# | `performance_difference` | $\mathbb{E}_{\tau \sim p_\theta}\big[\sum_h A^{\pi_\text{old}}(s_h, a_h)\big]$ |
# | `surrogate` | $L_{\theta_\text{old}}(\theta)$: old states, importance-weighted actions |
# | `importance_ratio` | $r_t(\theta) = \pi_\theta(a_t \mid s_t) / \pi_{\theta_\text{old}}(a_t \mid s_t)$ |
# | `ppo_clip_loss` | $-L^{CLIP} = -\min\big(r A,\ \mathrm{clip}(r, 1-\epsilon, 1+\epsilon) A\big)$ |
# | `clipped_value_loss` | the critic's regression, optionally clipped |
# | `approx_kl`, `approx_kl_low_variance` | two estimates of $\mathrm{KL}(\pi_\text{old} \,\|\, \pi_\theta)$ |
# | `normalize_advantages` | $(\hat A - \bar A) / (s + \epsilon)$ over the batch |
# | `minibatch_indices` | one epoch's minibatches |
# | `ppo_loss` | $-L^{CLIP} + c_v L^V - c_e H$, one minibatch step's loss |
#
# **How to work.** Fill in each `YOUR CODE HERE`, run the cell, then the check below it. A
# check prints `✓` when all its cases pass; otherwise it names the failing case, shows expected
# vs. got, and gives a hint. The grader adds hidden cases, so do not special-case the visible
# ones. Keep every name and signature.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from autograder.checks import check, is_nbgrader, skip_if_unwritten
from rlkit import plotting, weightings
from rlkit import policy_gradient as pg
from rlkit import policy_improvement
from rlkit.agents import a2c, ppo, reinforce

np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## 1. How much better is a new policy? The policy-improvement identity
#
# The lecture asks whether two policies' returns can be related, and answers
# $$J(\theta) - J(\theta_\text{old}) = \mathbb{E}_{\tau \sim p_\theta}\Big[\sum_t \gamma^t
# A^{\pi_{\theta_\text{old}}}(s_t, a_t)\Big]:$$
# the **old** policy's advantages, averaged over what the **new** policy does. We check it
# exactly on the tiny MDP (undiscounted, at most $H = 2$ steps; as in notebook 05 the values
# carry the step $h$). Written with the probability $d^\theta_h(s)$ that the episode is still
# going at step $h$ and in state $s$, the right side is
# $$\sum_{h=0}^{H-1} \sum_s d^\theta_h(s) \sum_a \pi_\theta(a \mid s)\,
# A^{\pi_\text{old}}_h(s, a).$$
#
# First the advantages. Write `advantage_table(mdp, theta, horizon)`: $A^{\pi}_h(s,a) =
# Q^{\pi}_h(s,a) - V^{\pi}_h(s)$, an `(H, S, A)` array. Use notebook 05's
# `weightings.action_values(mdp, theta, horizon)` for $Q$ and `weightings.values_from_q(q,
# theta)` (or your own sum) for $V_h(s) = \sum_a \pi_\theta(a \mid s) Q_h(s,a)$.

# %%
mdp = pg.tiny_mdp()
H = pg.TINY_HORIZON
rng = np.random.default_rng(0)
theta_old = rng.normal(0.0, 0.5, size=(mdp.n_states, mdp.n_actions))
theta_new = theta_old + rng.normal(0.0, 0.5, size=theta_old.shape)


# %% tags=["solution"]
def advantage_table(mdp, theta, horizon):
    """Return A_h(s, a) = Q_h(s, a) - V_h(s) of the softmax policy of theta, shape (H, S, A)."""
    ### BEGIN SOLUTION
    q = weightings.action_values(mdp, theta, horizon)
    return q - weightings.values_from_q(q, theta)[..., None]
    ### END SOLUTION


# %% tags=["check"]
check("ppo.advantage_table")

# %% [markdown]
# Next the state distribution, **forwards** from the start: $d_0(s) = \mu(s)$ and
# $$d_{h+1}(s') = \sum_{s, a} d_h(s)\, \pi_\theta(a \mid s)\, P(s' \mid s, a),$$
# with every terminal state set to 0 in every row (an episode that entered one is over). A row
# sums to the probability that the episode is still going, at most 1. `mdp.mu` is $\mu$,
# `mdp.P[s, a, s']` is $P(s' \mid s, a)$, `mdp.terminal` the terminal mask, and
# `pg.softmax_policy(theta)` the `(S, A)` policy. Return an `(H, S)` array.

# %% tags=["solution"]
def state_distribution(mdp, theta, horizon):
    """Return d_h(s), the probability of being in s at step h (terminal states 0), (H, S)."""
    ### BEGIN SOLUTION
    policy = pg.softmax_policy(theta)
    alive = ~np.asarray(mdp.terminal)
    d = np.zeros((horizon, mdp.n_states))
    current = np.asarray(mdp.mu, dtype=float) * alive
    for h in range(horizon):
        d[h] = current
        current = np.einsum("s,sa,sat->t", current, policy, mdp.P) * alive
    return d
    ### END SOLUTION


# %% tags=["check"]
check("ppo.state_distribution")

# %% [markdown]
# Now the identity's right side. Write `performance_difference(mdp, theta, theta_old,
# horizon)`: $\sum_h \sum_s d^\theta_h(s) \sum_a \pi_\theta(a \mid s)\,
# A^{\pi_\text{old}}_h(s,a)$, a float, from your two functions.

# %% tags=["solution"]
def performance_difference(mdp, theta, theta_old, horizon):
    """Return sum_h sum_s d^theta_h(s) sum_a pi_theta(a|s) A^old_h(s, a)."""
    ### BEGIN SOLUTION
    d = state_distribution(mdp, theta, horizon)
    advantages = advantage_table(mdp, theta_old, horizon)
    return float(np.einsum("hs,sa,hsa->", d, pg.softmax_policy(theta), advantages))
    ### END SOLUTION


# %% tags=["check"]
check("ppo.performance_difference")

# %% [markdown]
# The two sides, for a random pair of policies (`pg.expected_return` sums over the 11
# trajectories, as in notebook 04):

# %%
with skip_if_unwritten():
    if not is_nbgrader():  # a demo with rlkit's J, which is withheld while grading
        gain = float(pg.expected_return(mdp, theta_new, H) - pg.expected_return(mdp, theta_old, H))
        print(f"J(theta) - J(theta_old) = {gain:.6f}")
        print(f"your identity's side    = "
              f"{performance_difference(mdp, theta_new, theta_old, H):.6f}")

# %% [markdown]
# ## 2. The surrogate: the old policy's states, importance-weighted actions
#
# The identity needs states from the new policy, which has collected nothing yet. The lecture
# takes them from the old one, and weighs each action the old policy drew by the **importance
# ratio** $\pi_\theta / \pi_\text{old}$:
# $$L_{\theta_\text{old}}(\theta) = \sum_h \sum_s d^{\theta_\text{old}}_h(s) \sum_a
# \pi_\text{old}(a \mid s)\, \frac{\pi_\theta(a \mid s)}{\pi_\text{old}(a \mid s)}\,
# A^{\pi_\text{old}}_h(s,a).$$
# Everything in it but the ratio is a constant that a rollout of $\pi_\text{old}$ estimates.
#
# Write `surrogate(mdp, theta, theta_old, horizon)` in torch: `theta` is a tensor that
# requires grad, `theta_old` an array; compute $\pi_\theta$ with `torch.softmax(theta,
# dim=-1)` so that autograd reaches `theta`, and return a torch scalar.

# %% tags=["solution"]
def surrogate(mdp, theta, theta_old, horizon):
    """Return L_old(theta) as a torch scalar, differentiable in the tensor theta."""
    ### BEGIN SOLUTION
    old = torch.as_tensor(pg.softmax_policy(theta_old))
    d_old = torch.as_tensor(state_distribution(mdp, theta_old, horizon))
    advantages = torch.as_tensor(advantage_table(mdp, theta_old, horizon))
    ratio = torch.softmax(theta, dim=-1) / old
    return torch.einsum("hs,sa,sa,hsa->", d_old, old, ratio, advantages)
    ### END SOLUTION


# %% tags=["check"]
check("ppo.surrogate")

# %% [markdown]
# **A first-order match.** At $\theta = \theta_\text{old}$ both $J(\theta) - J(\theta_\text{old})$
# and $L$ are 0, and their gradients agree: the surrogate's gradient there is the policy
# gradient.

# %%
with skip_if_unwritten():
    if not is_nbgrader():  # a demo with rlkit's J, which is withheld while grading
        theta_t = torch.tensor(theta_old, requires_grad=True)
        value = surrogate(mdp, theta_t, theta_old, H)
        value.backward()
        print(f"L(theta_old) = {value.item():.2e}")
        print("largest |grad L - grad J| at theta_old:",
              np.abs(theta_t.grad.numpy() - pg.exact_gradient(mdp, theta_old, H)).max())

# %% [markdown]
# **And how far they part.** Move $\theta$ along the gradient, $\theta = \theta_\text{old} +
# t\, \nabla J(\theta_\text{old})$, and plot both against the KL between the policies
# (averaged over the old policy's states, `policy_improvement.mean_kl`). Close to
# $\theta_\text{old}$ the surrogate is a faithful model; far from it, it promises
# improvements $J$ does not deliver. This is why the lecture constrains
# $\mathrm{KL}(\pi_\text{old} \,\|\, \pi_\theta) \le \delta$, and why PPO clips.

# %%
with skip_if_unwritten():
    if not is_nbgrader():  # a measurement and its figure: skipped while grading
        direction = pg.exact_gradient(mdp, theta_old, H)
        steps = np.linspace(0.0, 12.0, 40)
        kls, true_gain, model_gain = [], [], []
        for t in steps:
            theta = theta_old + t * direction
            kls.append(policy_improvement.mean_kl(mdp, theta_old, theta, H))
            true_gain.append(float(pg.expected_return(mdp, theta, H)
                                   - pg.expected_return(mdp, theta_old, H)))
            model_gain.append(float(surrogate(mdp, torch.tensor(theta), theta_old, H)))
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot(kls, true_gain, label=r"$J(\theta) - J(\theta_{old})$")
        ax.plot(kls, model_gain, "--", label=r"surrogate $L_{\theta_{old}}(\theta)$ (yours)")
        ax.set_xlabel(r"mean KL$(\pi_{old} \,\|\, \pi_\theta)$")
        ax.set_ylabel(r"gain over $\theta_{old}$")
        ax.legend()
        plt.show()

# %% [markdown]
# ## 3. The importance ratio and $L^{CLIP}$
#
# In a rollout the ratio is taken at the sampled actions. Compute it from **log**-probs,
# $r_t = \exp(\log \pi_\theta(a_t \mid s_t) - \log \pi_\text{old}(a_t \mid s_t))$: a quotient of
# probabilities underflows for unlikely actions. The old policy is a constant of the update, so
# no gradient may flow into `old_log_probs`. Write `importance_ratio(log_probs,
# old_log_probs)` (two `(N,)` tensors; return an `(N,)` tensor).

# %% tags=["solution"]
def importance_ratio(log_probs, old_log_probs):
    """Return pi_theta / pi_old at the sampled actions, from their log-probs (a tensor)."""
    ### BEGIN SOLUTION
    return torch.exp(log_probs - old_log_probs.detach())
    ### END SOLUTION


# %% tags=["check"]
check("ppo.importance_ratio")

# %% [markdown]
# The lecture's case analysis, per state-action pair. If $A > 0$ we want the action more
# likely, but not too much: once $r \ge 1 + \epsilon$ the objective stops growing. If $A < 0$
# we want it less likely, down to $r \le 1 - \epsilon$. Both cases in one formula:
# $$L^{CLIP} = \min\big(r A,\ \mathrm{clip}(r, 1 - \epsilon, 1 + \epsilon)\, A\big).$$
# On the flat side the pair passes **no gradient**; on the other side (a step that made things
# worse) the unclipped $r A$ is the smaller term and pulls it back.
#
# Write `ppo_clip_loss(ratio, advantages, clip_eps)`: the loss to minimise, $-\frac1N \sum_t
# L^{CLIP}_t$ (the advantages are constants), a scalar tensor.

# %% tags=["solution"]
def ppo_clip_loss(ratio, advantages, clip_eps):
    """Return -mean(min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A))."""
    ### BEGIN SOLUTION
    advantages = advantages.detach()
    clipped = torch.clamp(ratio, 1.0 - clip_eps, 1.0 + clip_eps)
    return -torch.min(ratio * advantages, clipped * advantages).mean()
    ### END SOLUTION


# %% tags=["check"]
check("ppo.ppo_clip_loss")

# %% [markdown]
# The lecture's plot, drawn from **your** function: $L^{CLIP}$ of one pair against $r$, for
# $A = +1$ and $A = -1$ ($\epsilon = 0.2$), with the gradient's sign below. Where the gradient
# is 0 the pair has stopped pushing the policy.

# %%
with skip_if_unwritten():
    if not is_nbgrader():  # a figure: skipped while grading
        ratios = torch.linspace(0.5, 1.5, 201, dtype=torch.float64)
        fig, (top, bottom) = plt.subplots(2, 2, figsize=(8, 4.5), sharex=True)
        for column, adv in enumerate((1.0, -1.0)):
            values, grads = [], []
            for r in ratios:
                r = r.clone().requires_grad_(True)
                advantage = torch.tensor([adv], dtype=torch.float64)
                objective = -ppo_clip_loss(r.reshape(1), advantage, 0.2)
                (grad,) = torch.autograd.grad(objective, r, allow_unused=True)
                values.append(objective.item())
                grads.append(0.0 if grad is None else grad.item())
            top[column].plot(ratios, values)
            top[column].set_title(f"A = {adv:+.0f}")
            bottom[column].plot(ratios, grads)
            bottom[column].set_xlabel("r")
            for ax in (top[column], bottom[column]):
                ax.axvline(0.8, color="grey", lw=0.5)
                ax.axvline(1.2, color="grey", lw=0.5)
        top[0].set_ylabel(r"$L^{CLIP}$")
        bottom[0].set_ylabel(r"$\partial L^{CLIP} / \partial r$")
        plt.show()

# %% [markdown]
# ## 4. The critic, and how far the policy moved
#
# The critic regresses on the GAE targets $G_t = \hat A_t + V_{\phi_\text{old}}(s_t)$ of the
# rollout (notebook 05). Many epochs on one rollout can also move the critic far from where the
# rollout left it; PPO2's optional **value clipping** lets the new value move at most
# $\epsilon$ (in the values' units) before its error stops counting:
# $$V^\text{clip} = V_\text{old} + \mathrm{clip}(V - V_\text{old}, -\epsilon, \epsilon), \qquad
# L^V = \frac1N \sum_t \max\big((V - G)^2, (V^\text{clip} - G)^2\big).$$
# Write `clipped_value_loss(values, old_values, returns, clip_eps)`: with `clip_eps=None` the
# plain mean squared error $\frac1N \sum_t (V - G)^2$ (notebook 04's
# `reinforce.value_loss(values, returns)` is allowed), otherwise $L^V$. `values` carries
# gradients; `old_values` and `returns` are constants. Return a scalar tensor.

# %% tags=["solution"]
def clipped_value_loss(values, old_values, returns, clip_eps):
    """Return the critic's mean squared error, clipped around old_values when clip_eps is set."""
    ### BEGIN SOLUTION
    returns, old_values = returns.detach(), old_values.detach()
    if clip_eps is None:
        return ((values - returns) ** 2).mean()
    clipped = old_values + torch.clamp(values - old_values, -clip_eps, clip_eps)
    return torch.max((values - returns) ** 2, (clipped - returns) ** 2).mean()
    ### END SOLUTION


# %% tags=["check"]
check("ppo.clipped_value_loss")

# %% [markdown]
# PPO watches how far each epoch moves the policy with an estimate of
# $\mathrm{KL}(\pi_\text{old} \,\|\, \pi_\theta)$ from the rollout (and may stop the epochs
# early when it passes a target). The actions were drawn from $\pi_\text{old}$, so
# $\mathbb{E}_{a \sim \pi_\text{old}}[\log \pi_\text{old}(a) - \log \pi_\theta(a)]$ is the KL.
# Two estimators (J. Schulman, "Approximating KL divergence"), with $r = \pi_\theta /
# \pi_\text{old}$:
#
# - the naive sample mean of $\log \pi_\text{old} - \log \pi_\theta = -\log r$: unbiased, but a
#   single term can be negative;
# - the low-variance $(r - 1) - \log r$: $r - 1$ has expectation 0 under $\pi_\text{old}$, so
#   the sum stays unbiased, and since $\log r \le r - 1$ every term is $\ge 0$.
#
# Write both: `(N,)` tensors in, one number (a 0-dim tensor or a float) out.

# %% tags=["solution"]
def approx_kl(log_probs, old_log_probs):
    """Return the naive estimate mean(log pi_old - log pi) of KL(pi_old || pi)."""
    ### BEGIN SOLUTION
    return (old_log_probs - log_probs).mean()
    ### END SOLUTION


# %% tags=["check"]
check("ppo.approx_kl")


# %% tags=["solution"]
def approx_kl_low_variance(log_probs, old_log_probs):
    """Return the low-variance estimate mean((r - 1) - log r) of KL(pi_old || pi)."""
    ### BEGIN SOLUTION
    log_ratio = log_probs - old_log_probs
    return (torch.exp(log_ratio) - 1 - log_ratio).mean()
    ### END SOLUTION


# %% tags=["check"]
check("ppo.approx_kl_low_variance")

# %% [markdown]
# Both are unbiased; here is what "low variance" buys. For a small categorical $\pi_\text{old}$
# and policies $\pi_\theta$ at growing distances, 2,000 estimates from 20 samples each:

# %%
with skip_if_unwritten():
    if not is_nbgrader():  # a measurement: skipped while grading
        kl_rng = np.random.default_rng(1)
        p_old = np.array([0.5, 0.3, 0.2])
        print(" true KL | naive: mean    std  <0 | low-var: mean    std")
        for shift in (0.1, 0.3, 0.6, 1.0):
            p_new = pg.softmax(np.log(p_old) + shift * np.array([1.0, -0.5, 0.8]))
            exact = float(np.sum(p_old * np.log(p_old / p_new)))
            draws = kl_rng.choice(3, size=(2000, 20), p=p_old)
            new_lp, old_lp = torch.tensor(np.log(p_new)[draws]), torch.tensor(np.log(p_old)[draws])
            naive = np.array([float(approx_kl(n, o)) for n, o in zip(new_lp, old_lp, strict=True)])
            low = np.array([float(approx_kl_low_variance(n, o))
                            for n, o in zip(new_lp, old_lp, strict=True)])
            print(f"  {exact:.4f} |      {naive.mean():.4f} {naive.std():.4f} "
                  f"{np.mean(naive < 0):3.0%} |        {low.mean():.4f} {low.std():.4f}")

# %% [markdown]
# ## 5. Many epochs on one rollout: normalised advantages, shuffled minibatches
#
# PPO standardises the advantages of each (mini)batch, so that one step size suits every
# reward scale. Use one mean and one standard deviation over **every** entry (every step of
# every env): $(\hat A - \bar A) / (s + \epsilon)$ (either standard deviation, $\frac1N$ or
# $\frac1{N-1}$). Write `normalize_advantages(advantages, eps=1e-8)` for a tensor of any shape.

# %% tags=["solution"]
def normalize_advantages(advantages, eps=1e-8):
    """Return the tensor (A - mean) / (std + eps), one mean and one std over every entry."""
    ### BEGIN SOLUTION
    return (advantages - advantages.mean()) / (advantages.std() + eps)
    ### END SOLUTION


# %% tags=["check"]
check("ppo.normalize_advantages")

# %% [markdown]
# Each epoch visits every sample of the rollout once, in a fresh random order, cut into
# `n_minibatches` equal minibatches (consecutive steps of one env are correlated; shuffling
# mixes them). Write `minibatch_indices(n, n_minibatches, rng)`: a list of `n_minibatches`
# integer arrays of `n // n_minibatches` indices each, drawn from the generator `rng`.

# %% tags=["solution"]
def minibatch_indices(n, n_minibatches, rng):
    """Return one epoch's minibatches: a permutation of 0..n-1 from rng, in equal parts."""
    ### BEGIN SOLUTION
    return np.split(rng.permutation(n), n_minibatches)
    ### END SOLUTION


# %% tags=["check"]
check("ppo.minibatch_indices")

# %% [markdown]
# One Adam step minimises the three terms together: the policy's $-L^{CLIP}$, the critic's
# loss weighted by $c_v$, and an entropy bonus weighted by $c_e$ that keeps $\pi_\theta$ from
# turning deterministic too early:
# $$L = -L^{CLIP} + c_v L^V - c_e \frac1N \sum_t H\big[\pi_\theta(\cdot \mid s_t)\big].$$
# Write `ppo_loss(clip_loss, critic_loss, entropy, value_coef, entropy_coef)`: `clip_loss`
# (your `ppo_clip_loss`, already $-L^{CLIP}$) and `critic_loss` are scalar tensors, `entropy`
# an `(N,)` tensor with gradients. Return a scalar tensor.

# %% tags=["solution"]
def ppo_loss(clip_loss, critic_loss, entropy, value_coef, entropy_coef):
    """Return clip_loss + value_coef * critic_loss - entropy_coef * the mean entropy."""
    ### BEGIN SOLUTION
    return clip_loss + value_coef * critic_loss - entropy_coef * entropy.mean()
    ### END SOLUTION


# %% tags=["check"]
check("ppo.ppo_loss")

# %% [markdown]
# ## 6. PPO-Clip on CartPole-v1, with your pieces
#
# The lecture's Algorithm 1, in `rlkit.agents.ppo.train`: collect `n_steps` steps in each of
# `n_envs` envs with $\pi_\text{old}$; compute the GAE advantages and the critic's targets once
# (notebook 05); then `n_epochs` passes over the rollout, each cut by **your**
# `minibatch_indices`, one Adam step per minibatch on
# $$L = -L^{CLIP} + c_v L^V - c_e \frac1N \sum_t H_t,$$
# with **your** ratio, $L^{CLIP}$, value loss, total loss and advantage normalisation; **your**
# KL estimate is logged after each update (and stops the epochs early when `target_kl` is
# set).
# `help(ppo.PPOConfig)` lists every setting with its symbol and typical range; the defaults are
# rl-baselines3-zoo's CartPole settings. (Training cells are skipped while grading.)

# %%
YOUR_PIECES = dict(ratio_fn=importance_ratio, clip_loss_fn=ppo_clip_loss,
                   value_loss_fn=clipped_value_loss, loss_fn=ppo_loss,
                   kl_fn=approx_kl_low_variance, normalize_fn=normalize_advantages,
                   minibatch_fn=minibatch_indices)

# %% tags=["slow"]
with skip_if_unwritten():
    if not is_nbgrader():
        history = ppo.train(ppo.PPOConfig(target_return=475), seed=0, progress=True, **YOUR_PIECES)
        final = history.final_evaluation
        print(f"{final.step} env steps, {history.train_seconds:.1f} s of training: evaluation "
              f"{final.mean:.0f} ± {final.std:.0f}")
        plotting.plot_history(history, title="PPO with your pieces")
        plotting.plot_ppo_diagnostics(history)
        plt.show()

# %% [markdown]
# Read the diagnostics: the **approximate KL** between $\pi_\text{old}$ and the policy after
# each update's epochs (your estimator), the **clip fraction** (the share of pairs whose ratio
# left $[1 - \epsilon, 1 + \epsilon]$: they passed no gradient in the end), the critic's
# **explained variance** ($1 - \mathrm{Var}[G - V] / \mathrm{Var}[G]$: 1 is a perfect critic),
# and the policy's entropy.
#
# **Graded: your PPO learns.** A short learning run from three seeds: every 500 env steps the
# greedy policy is evaluated on 5 episodes of at most 100 steps, and a seed stops once they
# average 75. It passes when the seeds' best evaluations are far above an untrained policy's;
# the message says the exact rule.

# %% tags=["check"]
check("ppo.ppo_learns")

# %% [markdown]
# ## 7. PPO next to A2C and REINFORCE, on the same budget
#
# The same env budget for each, from the same seeds: notebook 04's REINFORCE (whole episodes,
# one gradient step per batch), notebook 05's A2C (one step per short rollout) and PPO (many
# epochs per rollout), each with `rlkit`'s tuned settings and PPO with your pieces. The band is
# the spread over the seeds (one standard deviation).

# %% tags=["slow"]
with skip_if_unwritten():
    COMPARE_STEPS, COMPARE_SEEDS = 20_000, (0, 1)
    if not is_nbgrader():
        runs = {
            "REINFORCE": [reinforce.train(reinforce.ReinforceConfig(total_steps=COMPARE_STEPS,
                                                                    eval_interval=2_000), seed=s,
                                          progress=True) for s in COMPARE_SEEDS],
            "A2C": [a2c.train(a2c.default_config("CartPole-v1", total_steps=COMPARE_STEPS,
                                                 eval_interval=2_000), seed=s, progress=True)
                    for s in COMPARE_SEEDS],
            "PPO (yours)": [ppo.train(ppo.PPOConfig(total_steps=COMPARE_STEPS,
                                                    eval_interval=2_000),
                                      seed=s, progress=True, **YOUR_PIECES)
                            for s in COMPARE_SEEDS],
        }
        plotting.plot_evaluation_bands(runs, title=f"CartPole-v1, {len(COMPARE_SEEDS)} seeds")
        plt.show()

# %% [markdown]
# ## 8. What the clipping buys: 20 epochs without it
#
# The same PPO (section 7's run of seed 0), once more with the plain surrogate $-\frac1N\sum_t r_t
# A_t$ in place of your $L^{CLIP}$ (no clip, so nothing stops a pair from pushing its ratio as far
# as 20 epochs of Adam take it). Watch the approximate KL per update, and the evaluations. (With
# seed 0 the clipped run's median KL per update was about 0.002 and its evaluations climbed to 500;
# without the clip the median was about 0.25, with peaks above 2, and the evaluations swung between
# 77 and 500 until the decaying step size calmed them.)

# %% tags=["slow"]
def plain_surrogate_loss(ratio, advantages, clip_eps):
    """-mean(r A): the surrogate without the clip (clip_eps is ignored)."""
    return -(ratio * advantages.detach()).mean()


with skip_if_unwritten():
    if not is_nbgrader():
        ablation = {  # the clipped run is section 7's seed 0: the same settings and seed
            "L^CLIP (yours)": runs["PPO (yours)"][0],
            "no clipping": ppo.train(ppo.PPOConfig(total_steps=COMPARE_STEPS, eval_interval=2_000),
                                     seed=0, progress=True,
                                     **{**YOUR_PIECES, "clip_loss_fn": plain_surrogate_loss}),
        }
        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
        for name, run in ablation.items():
            left.semilogy(run.approx_kls, label=name)
            right.plot([p.step for p in run.evaluations], [p.mean for p in run.evaluations],
                       "o-", label=name)
        left.set_xlabel("update")
        left.set_ylabel("approximate KL(pi_old || pi)")
        right.set_xlabel("env steps (thousands)")
        right.xaxis.set_major_formatter(lambda steps, _: f"{steps / 1000:g}")
        right.set_ylabel("evaluation return")
        # one legend for both panels, below them, where it hides no point
        fig.legend(*left.get_legend_handles_labels(), loc="outside lower center", ncol=2)
        plt.show()

# %% [markdown]
# ## 9. A Gaussian policy: PPO on Pendulum-v1
#
# The same trainer with notebook 05's Gaussian actor on Pendulum-v1 (`ppo.PRESETS["Pendulum-v1"]`:
# long rollouts of 4 envs, 10 epochs of minibatches of 256, gamma 0.9), with your pieces and
# rlkit's Gaussian log-prob. A random policy averages about −1200 per episode, the best
# possible about −150; in 60,000 steps (15–45 s, depending on how busy the machine is) PPO gets
# to about −160.

# %% tags=["slow"]
with skip_if_unwritten():
    PENDULUM_STEPS = 60_000
    if not is_nbgrader():
        pendulum = ppo.train(ppo.default_config("Pendulum-v1", total_steps=PENDULUM_STEPS), seed=0,
                             progress=True, **YOUR_PIECES)
        print(f"Pendulum-v1 after {pendulum.final_evaluation.step} steps: evaluation "
              f"{pendulum.final_evaluation.mean:.0f} (random: about -1200)")
        plotting.plot_history(pendulum, title="PPO with your pieces, a Gaussian actor")
        plt.show()

# %% [markdown]
# ## 10. Written answers (graded by hand)
#
# **Question 1 (3 points).** In $L^{CLIP} = \min(r A, \mathrm{clip}(r, 1 - \epsilon, 1 +
# \epsilon) A)$ the clip acts on one side of the range only for each sign of $A$: above
# $1 + \epsilon$ when $A > 0$, below $1 - \epsilon$ when $A < 0$. Explain why that side, what
# happens to a pair on the other side (say $A > 0$ and $r = 0.5$), and what would go wrong with
# the plain surrogate $r A$ over 20 epochs on one rollout. Use your plots of sections 3 and 8.

# %% [markdown] tags=["written"] grade_id="written_one_sided_clip" points=3
# ### BEGIN SOLUTION
# *Model answer.* The surrogate r A is a good model of J only near r = 1 (section 2: it matches
# J to first order, and parts from it as the KL grows). Maximising it, a pair with A > 0 pushes
# r up and a pair with A < 0 pushes r down: the clip sits on the side the optimiser is pushing
# towards, so that once r has moved by eps in the direction the advantage asks for, the pair's
# objective is flat (min picks (1 + eps) A, resp. (1 - eps) A) and its gradient is 0: no more
# credit for moving further from pi_old on this data. On the other side (A > 0, r = 0.5: the
# update made a good action LESS likely) min picks the unclipped r A, whose gradient A is not
# 0: the pair pulls r back up. So clipping only removes the incentive to move further in the
# profitable direction and never hides a step that made things worse: L^CLIP is a lower
# (pessimistic) bound of the surrogate. With the plain r A and 20 epochs, each pair keeps
# pushing its ratio as far as the network lets it; the policy moves far from pi_old, where the
# surrogate's promises are wrong (old states, old advantages), and the return can collapse.
#
# *Rubric (3 points).* 1 point: the clip is on the side the advantage pushes r towards, so the
# objective is flat there and the gradient 0 (no incentive to move beyond eps). 1 point: on the
# other side the unclipped r A is the min and still has a gradient that undoes the bad step (a
# pessimistic bound). 1 point: without clipping, many epochs move the policy far from pi_old,
# where the surrogate no longer models J (large KL), and performance can collapse.
# ### END SOLUTION

# %% [markdown]
# **Question 2 (2 points).** Section 7 gave the three algorithms the same number of env steps.
# PPO takes `n_epochs` × `n_minibatches` gradient steps per rollout, A2C one. Why can PPO reuse
# a rollout that many times when A2C and REINFORCE cannot reuse theirs even twice, and what
# does it pay for that reuse (think of sections 2 and 8, and of the seconds each run took)?

# %% [markdown] tags=["written"] grade_id="written_data_reuse" points=2
# ### BEGIN SOLUTION
# *Model answer.* A2C's and REINFORCE's losses are the policy gradient only at the policy that
# collected the data: after one step, the samples come from another policy, and a second step
# on them follows the wrong gradient (no correction for the changed action probabilities). PPO's
# loss is the importance-weighted surrogate, an estimate of J(theta) - J(theta_old) for every
# theta near theta_old (section 2), so further steps on the same data still improve a valid
# model; the clip stops each pair from moving its ratio beyond [1 - eps, 1 + eps], where that
# model is no longer accurate (section 8: without it the KL grows by orders of magnitude and
# the return can collapse). The price: many more gradient steps per env step (compute: PPO's
# seconds per env step are several times A2C's), a policy that moves at most about eps per
# update however good the data, extra hyperparameters (epochs, minibatches, eps, target KL), and
# a surrogate that is still biased by taking the states from the old policy.
#
# *Rubric (2 points).* 1 point: the plain policy-gradient losses are only valid at the policy
# that collected the data, while the importance-weighted surrogate stays a valid (first-order)
# model near theta_old, which the clip enforces. 1 point: a cost, e.g. compute per env step, the
# bounded step per update, or the surrogate's bias from the old state distribution.
# ### END SOLUTION
