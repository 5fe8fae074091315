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
# # 03 · Deep Q-learning (DQN)
#
# Notebook 02 ended with tabular Q-learning: one table entry per state and action, moved a step
# $\alpha$ towards the one-sample target $r + \gamma \max_{a'} Q(s', a')$. CartPole's state is four
# real numbers, so there is no table: a network $Q_\theta(s, \cdot)$ outputs one value per action.
# Lecture 002 (*Lecture 18: Reinforcement Learning*, slides "Training DQN" and "The Deep Q-Learning
# Algorithm") adds two tricks that make this work, and you will write every piece:
#
# | you write | lecture object |
# |---|---|
# | `linear_epsilon` | the exploration schedule of $\epsilon$-greedy |
# | `sample_batch` | **experience replay**: a uniform minibatch from the memory $D$ |
# | `td_target` | $y_j = r_j + \gamma \max_{a'} Q_{\theta_\text{old}}(s'_j, a')$, or $r_j$ if $s'_j$ is terminal |
# | `dqn_loss` | the regression of $Q_\theta(s_j, a_j)$ on $y_j$ |
# | `update_target` | the **fixed Q-target** $\theta_\text{old} \leftarrow \theta$ every $C$ steps |
#
# Then `rlkit.agents.dqn.train` runs the lecture's Algorithm 1 with **your** functions, on
# CartPole-v1, on the CPU, in seconds. Fill in each `YOUR CODE HERE`, run the cell, then the
# check below it; a failed check names the case, shows expected vs. got and a hint.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from IPython.display import display

from autograder.checks import check, is_nbgrader, skip_if_unwritten
from rlkit import animation, plotting
from rlkit.agents import dqn
from rlkit.buffers import Batch, ReplayBuffer

torch.set_num_threads(1)  # tiny networks: one thread is fastest, and reproducible

# %% [markdown]
# ## 1. Exploration: an $\epsilon$ that decays
#
# DQN acts $\epsilon$-greedily (notebook 02). Early on $Q_\theta$ is random, so the agent should
# explore a lot; later it should mostly exploit. The usual schedule decays $\epsilon$ linearly
# from `start` to `end` over `decay_steps` environment steps and then keeps it at `end`:
# $$\epsilon(t) = \epsilon_\text{start} + (\epsilon_\text{end} - \epsilon_\text{start})
#   \min\!\left(1, \frac{t}{T_\text{decay}}\right).$$
# With `decay_steps = 0` there is no decay: $\epsilon$ is `end` from step 0 on (do not divide by
# zero). The schedule may also rise (`start < end`); the formula covers it.

# %% tags=["solution"]
def linear_epsilon(step, start, end, decay_steps):
    """Return epsilon at env step `step`: linear from start to end over decay_steps, then end."""
    ### BEGIN SOLUTION
    if step >= decay_steps:
        return end
    return start + (end - start) * step / decay_steps
    ### END SOLUTION


# %% tags=["check"]
check("dqn.linear_epsilon")

# %% [markdown]
# ## 2. Experience replay
#
# Consecutive transitions of one episode are strongly correlated, and a network trained on them
# in order forgets what it learned a few hundred steps ago. DQN stores every transition
# $(s, a, r, s', \text{terminated}, \text{truncated})$ in a replay memory $D$ of capacity $N$ (a
# ring buffer: when it is full, the oldest transition is overwritten) and learns from
# minibatches drawn **uniformly at random** from it.
#
# `rlkit.buffers.ReplayBuffer` stores the fields as numpy arrays `buffer.obs`,
# `buffer.actions`, `buffer.rewards`, `buffer.next_obs`, `buffer.terminated`,
# `buffer.truncated`, each with `buffer.capacity` rows; `len(buffer)` transitions are stored so
# far, in rows `0 .. len(buffer) - 1`. Write the sampler: draw `batch_size` indices uniformly
# (with replacement) from the **filled** rows with `rng`, and return
# `Batch(obs, actions, rewards, next_obs, terminated, truncated)` of those rows. Note that
# `terminated` and `truncated` stay apart: only termination ends the MDP.

# %% tags=["solution"]
def sample_batch(buffer, batch_size, rng):
    """Return a Batch of `batch_size` transitions drawn uniformly from the filled buffer."""
    ### BEGIN SOLUTION
    index = rng.integers(0, len(buffer), size=batch_size)
    return Batch(buffer.obs[index], buffer.actions[index], buffer.rewards[index],
                 buffer.next_obs[index], buffer.terminated[index], buffer.truncated[index])
    ### END SOLUTION


# %% tags=["check"]
check("dqn.sample_batch")

# %% [markdown]
# ## 3. The TD target, with the terminal mask
#
# For a minibatch, the lecture's target is
# $$y_j = \begin{cases} r_j & \text{if } s'_j \text{ is terminal} \\
#   r_j + \gamma \max_{a'} Q_{\theta_\text{old}}(s'_j, a') & \text{otherwise}\end{cases}
#   \;=\; r_j + \gamma\,(1 - \text{terminated}_j) \max_{a'} Q_{\theta_\text{old}}(s'_j, a').$$
#
# **Terminated vs. truncated.** CartPole-v1 ends when the pole falls (*terminated*: the MDP is
# over, nothing more to earn) or after 500 steps (*truncated*: a time limit outside the MDP; the
# pole was still up and $s'$ still has a value). Only `terminated` enters the mask — treating
# a time-out as a crash teaches the agent that balancing for 500 steps leads nowhere.
#
# The target is a **constant** of the loss: no gradient may flow into
# $Q_{\theta_\text{old}}(s', \cdot)$. `.detach()` it (or compute it under `torch.no_grad()`).
# All inputs are torch tensors: `rewards` and `terminated` (0/1 floats) of shape $(B,)$,
# `next_q_values` of shape $(B, A)$.

# %% tags=["solution"]
def td_target(rewards, next_q_values, terminated, gamma):
    """Return y = r + gamma * (1 - terminated) * max_a' Q(s', a'), shape (B,), detached."""
    ### BEGIN SOLUTION
    best_next = next_q_values.max(dim=1).values
    return (rewards + gamma * (1.0 - terminated) * best_next).detach()
    ### END SOLUTION


# %% tags=["check"]
check("dqn.td_target")

# %% [markdown]
# ## 4. The loss
#
# The network is regressed on the targets, but only at the action that was taken:
# $Q_\theta(s_j, a_j)$ is `q_values.gather(1, actions.unsqueeze(1)).squeeze(1)`. The lecture
# writes the squared error $(y_j - Q_\theta(s_j, a_j))^2$; the DQN paper (Mnih et al., 2015)
# clips the error's gradient to $[-1, 1]$, which is the **Huber loss**
# $$\ell(x) = \begin{cases} x^2 / 2 & |x| \le 1 \\ |x| - 1/2 & \text{otherwise,}\end{cases}$$
# averaged over the batch: `F.smooth_l1_loss(prediction, target)`. Near the target it is the
# lecture's loss (halved); far from it a huge early TD error cannot blow up a step. Detach the
# targets here too, so the loss is safe whatever the caller passes.

# %% tags=["solution"]
def dqn_loss(q_values, actions, targets):
    """Return the mean Huber loss between Q(s_j, a_j) of the taken actions and the targets."""
    ### BEGIN SOLUTION
    chosen = q_values.gather(1, actions.unsqueeze(1)).squeeze(1)
    return F.smooth_l1_loss(chosen, targets.detach())
    ### END SOLUTION


# %% tags=["check"]
check("dqn.dqn_loss")

# %% [markdown]
# ## 5. The fixed Q-target
#
# With targets from the network being trained, every gradient step also moves the targets
# (lecture: "non-stationary target?"). DQN computes them with an old copy $\theta_\text{old}$
# and refreshes it every $C$ steps. Write the refresh, in place, for every pair of parameters:
# $$\theta_\text{old} \leftarrow \tau\,\theta + (1 - \tau)\,\theta_\text{old},$$
# where $\tau = 1$ (the default) is the lecture's plain copy and a small $\tau$ applied every
# step is *Polyak averaging*. Work under `torch.no_grad()` and **copy values** (`copy_`,
# `lerp_`): `target_p.data = p.data` would make both networks share one tensor, and the
# "fixed" target would move with every step.

# %% tags=["solution"]
def update_target(online, target, tau=1.0):
    """In place: move every target parameter to tau * online + (1 - tau) * target."""
    ### BEGIN SOLUTION
    with torch.no_grad():
        for param, target_param in zip(online.parameters(), target.parameters(), strict=True):
            target_param.copy_(tau * param + (1.0 - tau) * target_param)
    ### END SOLUTION


# %% tags=["check"]
check("dqn.update_target")

# %% [markdown]
# ## 6. Your DQN on CartPole-v1
#
# `dqn.train` is the lecture's Algorithm 1 (seed, env, network, replay memory, loss, optimiser,
# update, loop; `help(dqn.train)` and `help(dqn.DQNConfig)` list its settings). It accepts a
# replacement for each math piece; here it runs **yours**. `target_return=475` stops training at the first
# evaluation (10 greedy episodes) with mean return ≥ 475; CartPole's maximum is 500.
# (Training cells are skipped while grading.)

# %% tags=["slow"]
with skip_if_unwritten():
    my_pieces = dict(epsilon_fn=linear_epsilon, sample_fn=sample_batch, td_target_fn=td_target,
                     loss_fn=dqn_loss, update_target_fn=update_target)  # all five are yours
    config = dqn.DQNConfig(target_return=475)
    if not is_nbgrader():
        history = dqn.train(config, seed=0, progress=True, **my_pieces)
        final = history.final_evaluation
        print(f"{final.step} env steps, {history.train_seconds:.1f} s of "
              f"training: evaluation {final.mean:.0f} ± {final.std:.0f}")
        fig = plotting.plot_history(history, title="DQN with your functions")
        plt.show()

# %% [markdown]
# Watch the trained agent (rendered from the environment's `rgb_array` frames; no display
# needed):

# %% tags=["slow"]
with skip_if_unwritten():
    if not is_nbgrader():
        clip = animation.render_episode("CartPole-v1", history.act, seed=1, max_steps=300)
        display(clip)

# %% [markdown]
# **Graded: your agent learns.** The check below is a short learning run: DQN with your five
# functions, from two seeds. Every 500 env steps it evaluates the greedy policy on 5 episodes
# of at most 100 steps, and a seed stops as soon as the pole stays up for all 100 (a correct
# agent gets there within 1,500–4,000 steps: a few seconds in all). It passes when both seeds
# get far above an untrained network's 8–10; the message says the exact rule. It was measured
# on 54 correct agents that draw their random numbers in 54 different ways: if each of your
# functions passed its own check, this one passes too.

# %% tags=["check"]
check("dqn.learns")

# %% [markdown]
# ## 7. Why each trick is there: ablations
#
# Same budget, same seed, one trick removed at a time from the lecture's DQN: **no replay**
# (learn from the latest transition only) and **no target network** (targets from $\theta$
# itself). A fourth curve adds what `rlkit`'s defaults add to the lecture's DQN: a
# **LayerNorm** in each hidden layer (`DQNConfig(layer_norm=True)`), which keeps the features,
# and so $Q_\theta$, bounded. Each curve is one seed, so read trends, not single wiggles.
#
# The right panel shows why. The true values are at most $\sum_t \gamma^t = 1/(1-\gamma) = 100$
# (one point per step, $\gamma = 0.99$). The max in the target picks whichever action's value is
# overestimated, the next target inherits that error, and so on: without a target network the
# learned $Q_\theta(s_\text{upright}, \cdot)$ grows without bound (far past 100 within this
# budget); a target network holds it near the true scale, and with longer training it drifts
# above 100 slowly. The four runs take about a minute (10,000 env steps each; a progress bar
# per run).

# %% tags=["slow"]
with skip_if_unwritten():
    if not is_nbgrader():
        budget = dict(total_steps=10_000, eval_interval=1_000, eval_episodes=5)
        variants = {
            "lecture DQN": dqn.DQNConfig(**budget, layer_norm=False),
            "no replay": dqn.DQNConfig(**budget, layer_norm=False, use_replay=False),
            "no target network": dqn.DQNConfig(**budget, layer_norm=False,
                                               use_target_network=False),
            "DQN + LayerNorm (rlkit)": dqn.DQNConfig(**budget),
        }
        upright = torch.zeros(4)  # cart centred, pole upright, at rest
        fig, (curves, values) = plt.subplots(1, 2, figsize=(12, 4))
        for i, (label, variant) in enumerate(variants.items()):
            run = dqn.train(variant, seed=1, progress=True, **my_pieces)
            steps = [point.step for point in run.evaluations]
            curves.plot(steps, [point.mean for point in run.evaluations], "o-", label=label)
            with torch.no_grad():
                q_upright = run.q_network(upright).max().item()
            values.bar(i, q_upright, label=label, color=f"C{i}")
            print(f"{label:>24}: final evaluation {run.final_evaluation.mean:5.0f}, "
                  f"max_a Q(upright, a) = {q_upright:.4g}")
        curves.set_xlabel("environment steps")
        curves.set_ylabel("evaluation return (mean of 5 episodes)")
        curves.legend()
        values.axhline(100, color="gray", linestyle=":", label="1 / (1 - gamma) = 100")
        values.set_yscale("log")
        values.set_xticks([])
        values.set_ylabel(r"$\max_a Q_\theta(s_\mathrm{upright}, a)$ after training")
        values.legend(fontsize="small")
        plt.show()

# %% [markdown]
# ## 8. Written answers (graded by hand)
#
# **Question 1 (2 points).** DQN is *off-policy*. What does that mean here, and which line of
# the algorithm makes it possible to learn from transitions collected by an older,
# more exploratory policy?

# %% [markdown] tags=["written"] grade_id="written_off_policy" points=2
# ### BEGIN SOLUTION
# *Model answer.* The policy being learned (greedy with respect to Q_theta) differs from the
# behaviour policy that collected the data (epsilon-greedy with older parameters). This works
# because the target r + gamma max_a' Q(s', a') evaluates the greedy action at s' whatever
# action the behaviour policy took next: the Bellman optimality backup needs only (s, a, r, s'),
# not the action that followed. So old transitions from the replay memory remain valid targets.
#
# *Rubric (2 points).* 1 point: behaviour policy (epsilon-greedy, old theta) vs target policy
# (greedy). 1 point: the max over a' in the target (Q-learning / optimality backup) does not
# depend on the behaviour policy's next action, so replayed transitions can be reused.
# ### END SOLUTION

# %% [markdown]
# **Question 2 (3 points).** Describe what the ablation figure shows for *no replay* and for
# *no target network*, and explain each effect with the lecture's arguments (correlated samples;
# non-stationary targets; the right panel). Would you expect the same ranking on every seed?

# %% [markdown] tags=["written"] grade_id="written_ablations" points=3
# ### BEGIN SOLUTION
# *Model answer.* Without replay, each update uses one fresh, highly correlated transition: the
# network chases the current part of the trajectory, forgets earlier states, and learns slowly
# and unstably (it usually stays far below 475 within the budget). Without a target network the
# target moves with every gradient step, so errors feed back into the targets: the values
# diverge (far above the bound 1/(1 - gamma) = 100, right panel) and the greedy policy is
# useless, or at best oscillates. With a target network the overestimation is bounded for C
# steps at a time but still accumulates slowly (values above 100), which is why the lecture's
# DQN can collapse after learning; LayerNorm keeps the values near 100. Single seeds are noisy,
# so the exact ranking can change between seeds; conclusions need several seeds.
#
# *Rubric (3 points).* 1 point: correct description of both curves relative to full DQN.
# 1 point: replay breaks correlations / reuses data (i.i.d.-like minibatches). 1 point: the
# target network makes the regression target stationary for C steps; plus the remark about seed
# variance.
# ### END SOLUTION
