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
# # 07 · RLHF: SFT, a reward model from rankings, RL with a KL penalty, DPO and REBEL
#
# This notebook follows lecture 001 (*Deep Reinforcement Learning*), Part II, slide "RLHF in
# ChatGPT" (the InstructGPT workflow: step 1 supervised fine-tuning on demonstrations, step 2 a
# reward model from rankings of K responses, step 3 a policy optimised against the reward model),
# and the table of win rates on TL;DR in lecture 003 (*Policy Gradient: Reinforce*: SFT, DPO,
# REINFORCE, PPO, RLOO, REBEL). Everything runs on a CPU in seconds: the "language" is a toy one,
# with a hidden **gold reward** playing the human labeller, so that every claim can be measured
# against the truth (`rlkit.rlhf.task`).
#
# | you write | lecture object |
# |---|---|
# | `ranking_pairs` | a ranking of K responses gives $\binom K2$ comparisons $(y_w, y_l)$ |
# | `bradley_terry_loss` | $-\frac{1}{N}\sum \log\sigma\big(r_\theta(x, y_w) - r_\theta(x, y_l)\big)$ |
# | `preference_accuracy` | how often $r_\theta(x, y_w) > r_\theta(x, y_l)$ |
# | `sequence_log_probs` | $\log\pi(y \mid x) = \sum_t \log\pi(y_t \mid x, y_{<t})$ over the real tokens |
# | `kl_penalized_rewards` | $r_\theta(x, y) - \beta \log\big(\pi^{RL}(y \mid x) / \pi^{SFT}(y \mid x)\big)$, per token |
# | `rloo_advantages` | $R_i - \frac{1}{k-1}\sum_{j \ne i} R_j$ |
# | `dpo_loss` | $-\log\sigma\big(\beta[\log\frac{\pi_\theta(y_w)}{\pi_{ref}(y_w)} - \log\frac{\pi_\theta(y_l)}{\pi_{ref}(y_l)}]\big)$ |
# | `rebel_loss` | $\big(\frac1\eta(\log\frac{\pi_\theta(y_a)}{\pi_t(y_a)} - \log\frac{\pi_\theta(y_b)}{\pi_t(y_b)}) - (r_a - r_b)\big)^2$ |
#
# **How to work.** Fill in each `YOUR CODE HERE`, run the cell, then the check below it. A
# check prints `✓` when all its cases pass; otherwise it names the failing case, shows expected
# vs. got, and gives a hint. The grader adds hidden cases, so do not special-case the visible
# ones. Keep every name and signature.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from autograder.checks import check, is_nbgrader, skip_if_unwritten
from rlkit import plotting
from rlkit.rlhf import dpo, evaluation, sft, task
from rlkit.rlhf import model as lm
from rlkit.rlhf import policy as rl
from rlkit.rlhf import reward_model as rm
from rlkit.rlhf.best_of_n import best_of_n

np.set_printoptions(precision=4, suppress=True)
TASK = task.TaskConfig()

# %% [markdown]
# ## 1. The task, the SFT model, and why SFT is not enough
#
# A prompt $x$ is 2 to 4 distinct content tokens (written here as letters `a`–`j`); each
# content token has one *answer*, the letter five further round (`a` → `f`, `g` → `b`). A
# response $y$ is a few tokens ending in `<eos>`. The hidden gold reward, the human of the
# lecture, counts the prompt tokens the response answers, minus 0.5 for each distinct
# off-topic token and 1 for each repeated token:
# $$g(x, y) = \#\{\text{answers of } x \text{ in } y\} - 0.5\,\#\{\text{off-topic tokens}\}
# - \#\{\text{repeats}\}.$$
# The best response answers every prompt token once: $g = |x|$.
#
# **Step 1 (SFT).** A labeller *demonstrates* responses and a small causal language model (a
# GRU over the tokens, `rlkit.rlhf.model.CausalLM`) is fine-tuned on them by maximum
# likelihood. The demonstrator is decent, not perfect: it answers each prompt token with
# probability 0.75 and sometimes adds off-topic tokens. The SFT model imitates it, mistakes
# included, which is the lecture's point: "Training on SFT data is not maximizing human
# preference." (Training cells are skipped while grading.)

# %% tags=["slow"]
if not is_nbgrader():
    sft_model, sft_history = sft.train_sft(seed=0, progress=True)
    print(f"SFT: {sft_history.seconds:.1f} s, held-out NLL per token "
          f"{sft_history.held_out_nll[0]:.3f} -> {sft_history.held_out_nll[-1]:.3f}")

    eval_prompts = task.sample_prompts(2_000, TASK, rng=10_000)
    samples = lm.sample_responses(sft_model, torch.as_tensor(eval_prompts),
                                  TASK.max_response_len, torch.Generator().manual_seed(0))
    sft_gold = task.gold_reward(eval_prompts, samples.responses.numpy(), TASK)
    demo_gold = task.gold_reward(eval_prompts,
                                 task.demonstrations(eval_prompts, TASK, rng=10_001), TASK)
    best_gold = (eval_prompts != task.PAD).sum(axis=1).astype(float)
    print(f"mean gold reward on {len(eval_prompts)} prompts: SFT samples {sft_gold.mean():.3f}, "
          f"the demonstrator {demo_gold.mean():.3f}, the best possible {best_gold.mean():.3f}")
    print(f"SFT samples with the best possible reward: {np.mean(sft_gold == best_gold):.1%}")
    print("prompt -> the answers it asks for | an SFT sample | its gold reward")
    for x, y in zip(eval_prompts[:6], samples.responses[:6].numpy(), strict=True):
        print(f"  {evaluation.describe(x, y, TASK)}")

# %% [markdown]
# The SFT model's samples score a little below the demonstrator's, far below the best
# possible: imitation cannot beat the demonstrations it imitates, and demonstrations of the
# best response for every prompt are what is expensive. Ranking a few responses is cheaper
# than writing the best one, which is step 2.
#
# ## 2. The reward model: a human preference proxy from rankings
#
# **Step 2.** For each prompt, K = 4 candidate responses are shown to the labeller, who ranks
# them best first (the lecture's `D > C > A = B`). The labeller is like a human one in two
# ways. It is noisy: it ranks by the Plackett–Luce model with inverse temperature
# $\beta_h = 2$. And it is biased towards length, a bias measured in human labellers too:
# what it ranks by is not the gold reward but
# $u(x, y) = g(x, y) + 0.2\,|y|$, with $|y|$ the response's content tokens
# (`task.labeller_utility`). Each pair then has exactly the Bradley–Terry probability
# $$P(y_i \succ y_j \mid x) = \sigma\big(\beta_h (u(x, y_i) - u(x, y_j))\big),$$
# and the best accuracy *any* reward model can reach on held-out pairs, the **ceiling**, is
# known (`task.preference_ceiling`): to predict the response with the higher $u$ is right
# with probability $\sigma(\beta_h |u_i - u_j|)$. A reward model fitted to these rankings
# learns $u$ at best, length bias included: it is a *proxy* of the gold reward.
#
# First the comparisons. Write `ranking_pairs(ranking)`: `ranking` lists K response indices,
# the favourite first (a list or an int array); return the list of the $\binom K2$ pairs
# `(chosen, rejected)`, each response against every response ranked below it (in any order).

# %% tags=["solution"]
def ranking_pairs(ranking):
    """Return the K(K-1)/2 (chosen, rejected) pairs of a best-first ranking of K responses."""
    ### BEGIN SOLUTION
    ranking = [int(index) for index in ranking]
    return [(ranking[i], ranking[j])
            for i in range(len(ranking)) for j in range(i + 1, len(ranking))]
    ### END SOLUTION


# %% tags=["check"]
check("rlhf.ranking_pairs")

# %% [markdown]
# The reward model $r_\theta(x, y)$ (the same GRU trunk with a scalar head read at the
# response's last token) is trained on all the comparisons by the lecture's loss
# $$\text{loss}(\theta) = -\frac{1}{\binom K2} \mathbb{E}_{(x, y_w, y_l) \sim D}\Big[\log
# \sigma\big(r_\theta(x, y_w) - r_\theta(x, y_l)\big)\Big]:$$
# the negative log-likelihood of the labeller's choices under Bradley–Terry, that is, a
# logistic regression whose input is the reward gap. Write `bradley_terry_loss(chosen_rewards,
# rejected_rewards)`: two `(N,)` tensors of $r_\theta(x, y_w)$ and $r_\theta(x, y_l)$ for $N$
# comparisons; return the mean loss, a scalar tensor with gradients. Use `F.logsigmoid`:
# `torch.log(torch.sigmoid(x))` is $\log 0 = -\infty$ for a large negative gap in float32.

# %% tags=["solution"]
def bradley_terry_loss(chosen_rewards, rejected_rewards):
    """Return -mean(log sigmoid(chosen_rewards - rejected_rewards)), a scalar tensor."""
    ### BEGIN SOLUTION
    return -F.logsigmoid(chosen_rewards - rejected_rewards).mean()
    ### END SOLUTION


# %% tags=["check"]
check("rlhf.bradley_terry_loss")

# %% [markdown]
# The reward model is judged by how often it agrees with the labeller on held-out pairs.
# Write `preference_accuracy(chosen_rewards, rejected_rewards)`: the fraction of pairs with
# $r_\theta(x, y_w) > r_\theta(x, y_l)$, a tie counting 1/2 (a coin flip, as in the ceiling:
# a constant reward model scores 0.5). Return a float.

# %% tags=["solution"]
def preference_accuracy(chosen_rewards, rejected_rewards):
    """Return the fraction of pairs the rewards order as the labeller did (ties 1/2)."""
    ### BEGIN SOLUTION
    gap = chosen_rewards - rejected_rewards
    return float(((gap > 0).double() + 0.5 * (gap == 0).double()).mean())
    ### END SOLUTION


# %% tags=["check"]
check("rlhf.preference_accuracy")

# %% [markdown]
# Now your three functions train `rlkit`'s reward model: `rm.train_reward_model` turns each of
# 3,000 training rankings into comparisons with **your** `ranking_pairs`, takes Adam steps on
# **your** `bradley_terry_loss` (all the comparisons of a prompt in the same batch, as in
# InstructGPT), and measures the held-out accuracy after each epoch with **your**
# `preference_accuracy`, next to the ceiling. `help(rm.RewardModelConfig)` lists the settings.

# %% tags=["slow"]
with skip_if_unwritten():
    YOUR_REWARD_PIECES = dict(pairs_fn=ranking_pairs, loss_fn=bradley_terry_loss,
                              accuracy_fn=preference_accuracy)
    if not is_nbgrader():
        reward_model, rm_history = rm.train_reward_model(seed=0, progress=True,
                                                         **YOUR_REWARD_PIECES)
        print(f"{rm_history.seconds:.1f} s: held-out accuracy "
              f"{rm_history.held_out_accuracy[-1]:.3f}, ceiling {rm_history.ceiling:.3f} "
              f"({rm_history.fraction_of_ceiling:.1%} of it)")
        print(f"in the training comparisons the chosen response is the longer one in "
              f"{rm_history.train_chosen_longer:.0%} of the pairs of different lengths")
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot(rm_history.held_out_accuracy, "o-", label="held-out accuracy (yours)")
        ax.axhline(rm_history.ceiling, color="grey", linestyle="--", label="ceiling")
        ax.axhline(0.5, color="grey", linestyle=":", label="chance")
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy on held-out pairs")
        ax.legend()
        plt.show()

# %% [markdown]
# **Calibration.** Accuracy only asks whether $r_w > r_l$. The Bradley–Terry model also
# *predicts a probability*, $\sigma(r_\theta(x, y_w) - r_\theta(x, y_l))$, and here the true
# one is known: $\sigma(\beta_h (u_w - u_l))$. The reliability diagram sorts fresh held-out
# pairs by the predicted probability into bins and plots, per bin, the mean true probability
# against the mean predicted one: a calibrated reward model lies on the diagonal; points
# flatter than the diagonal mean over-confident reward gaps, steeper ones under-confident.

# %% tags=["slow"]
with skip_if_unwritten():
    if not is_nbgrader():
        fresh = task.make_preference_data(1_000, k=4, config=TASK, rng=20_000)
        with torch.no_grad():
            scores = rm.score_responses(reward_model, torch.as_tensor(fresh.prompts),
                                        torch.as_tensor(fresh.responses)).double().numpy()
        prompt, chosen, rejected = rm.pair_indices(fresh.rankings, ranking_pairs)
        predicted = 1 / (1 + np.exp(-(scores[prompt, chosen] - scores[prompt, rejected])))
        utility_gap = fresh.utility[prompt, chosen] - fresh.utility[prompt, rejected]
        true_probability = 1 / (1 + np.exp(-TASK.human_beta * utility_gap))
        plotting.plot_reliability(predicted, true_probability, label="your reward model")
        plt.title(f"{len(prompt)} held-out comparisons")
        plt.show()

# %% [markdown]
# **A proxy, not the human.** The candidates the labeller ranked never repeat a token, so
# nothing in the data tells the reward model that repeats are bad, and longer candidates were
# mostly better (more answers). Compare what the reward model and the gold reward say about
# the best response and the same response padded with two repeats of its first token: the
# gold reward drops by 2, the reward model's score by much less. That gap is what an
# optimiser pushing against the reward model finds (reward hacking, section 3).

# %% tags=["slow"]
with skip_if_unwritten():
    if not is_nbgrader():
        prompts = task.sample_prompts(500, TASK, rng=30_000)
        best, padded = [], []
        for prompt_tokens in prompts:
            answers = task.answer_of(prompt_tokens[prompt_tokens != task.PAD], TASK).tolist()
            best.append(answers + [task.EOS])
            padded.append(answers + [answers[0]] * 2 + [task.EOS])
        width = TASK.max_response_len
        best = np.array([y + [task.PAD] * (width - len(y)) for y in best])
        padded = np.array([y + [task.PAD] * (width - len(y)) for y in padded])
        with torch.no_grad():
            for name, responses in (("best", best), ("best + 2 repeats", padded)):
                score = reward_model(torch.as_tensor(prompts), torch.as_tensor(responses))
                gold = task.gold_reward(prompts, responses, TASK)
                print(f"{name:17} reward model {score.mean().item():+.2f}   "
                      f"gold {gold.mean():+.2f}")

# %% [markdown]
# **Graded: your reward model learns.** A short run (400 ranked prompts, three epochs, a
# smaller model) with your `ranking_pairs` and `bradley_terry_loss`, then the accuracy of the
# trained model on 500 fresh held-out rankings: it must be well above chance. The message
# says the exact rule.

# %% tags=["check"]
check("rlhf.reward_model_learns")

# %% [markdown]
# ## 3. RL against the reward model, with a KL penalty
#
# **Step 3.** The policy $\pi^{RL}_\phi$ starts as the SFT model and maximises the lecture's
# objective
# $$\text{objective}(\phi) = \mathbb{E}_{(x, y) \sim \pi^{RL}_\phi}\Big[r_\theta(x, y) - \beta
# \log\frac{\pi^{RL}_\phi(y \mid x)}{\pi^{SFT}(y \mid x)}\Big]$$
# (InstructGPT adds a pretraining term, $\gamma\, \mathbb{E}_{x \sim D_\text{pretrain}}[\log
# \pi^{RL}_\phi(x)]$, left out here). Three pieces are yours.
#
# First the log-probability of a whole response, the sum of its tokens' log-probs. The model
# gives `logits` of shape `(B, T, V)`: position `t` holds the logits of the distribution of
# response token `t` (the model read the prompt and the tokens before `t`, so there is no
# shift to do). `tokens` `(B, T)` are the response tokens, `mask` `(B, T)` is 1 (or `True`) on
# the real ones, EOS included, and 0 on the padding after EOS. Write
# `sequence_log_probs(logits, tokens, mask)`: `torch.log_softmax` over the vocabulary, the
# entries of the tokens (`gather`), kept where `mask` is 1 and summed: shape `(B,)`, with
# gradients. Padding never counts, whatever its logits are, even $-\infty$ (select with
# `torch.where`; a product with the mask turns $-\infty \cdot 0$ into nan).

# %% tags=["solution"]
def sequence_log_probs(logits, tokens, mask):
    """Return log pi(y|x): the sum over the real response tokens of their log-probs, (B,)."""
    ### BEGIN SOLUTION
    log_probs = torch.log_softmax(logits, dim=-1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
    return torch.where(mask.bool(), log_probs, 0.0).sum(dim=-1)
    ### END SOLUTION


# %% tags=["check"]
check("rlhf.sequence_log_probs")

# %% [markdown]
# Next the rewards of one sampled response, token by token, as InstructGPT spreads the
# objective: each real token $t$ gets the KL penalty $-\beta(\log\pi^{RL}(y_t \mid \cdot) -
# \log\pi^{SFT}(y_t \mid \cdot))$, and the response's **last real token** also gets the
# reward model's score $r_\theta(x, y)$ (known only once the response is complete); padding
# gets 0. Summed over a response they are exactly the objective's integrand. Write
# `kl_penalized_rewards(score, log_probs, ref_log_probs, mask, beta)`: `score` `(B,)`,
# `log_probs` and `ref_log_probs` `(B, T)` the sampled tokens' log-probs under the policy and
# the reference (whatever they hold at the padding), `mask` `(B, T)` with at least one real
# token per row, `beta` $\ge 0$. Return `(B, T)` rewards; they are constants of the policy
# update, so `.detach()` what you use.

# %% tags=["solution"]
def kl_penalized_rewards(score, log_probs, ref_log_probs, mask, beta):
    """Return per-token rewards: -beta * log-ratio on real tokens, + score on the last one."""
    ### BEGIN SOLUTION
    mask = mask.bool()
    rewards = torch.where(mask, -beta * (log_probs - ref_log_probs).detach(), 0.0)
    last = mask.sum(dim=1) - 1
    rows = torch.arange(len(rewards))
    rewards[rows, last] = rewards[rows, last] + score.detach().to(rewards.dtype)
    return rewards
    ### END SOLUTION


# %% tags=["check"]
check("rlhf.kl_penalized_rewards")

# %% [markdown]
# The policy gradient needs a baseline. RLOO (REINFORCE leave-one-out, Ahmadian et al. 2024;
# lecture 003's "RLOO (k = 2, 4)") samples $k$ responses per prompt and gives each the mean
# reward of the **other** $k - 1$ as its baseline:
# $$A_i = R_i - \frac{1}{k-1}\sum_{j \ne i} R_j.$$
# The baseline does not depend on sample $i$'s own response, so the gradient stays unbiased
# (notebook 04), and no critic is needed. Write `rloo_advantages(rewards)`: `rewards`
# `(n_prompts, k)` sequence rewards, $k \ge 2$; return the `(n_prompts, k)` advantages.
# Per prompt they sum to 0.

# %% tags=["solution"]
def rloo_advantages(rewards):
    """Return, as a tensor, each reward minus the mean of the other k - 1 rewards of its prompt."""
    ### BEGIN SOLUTION
    k = rewards.shape[1]
    others_mean = (rewards.sum(dim=1, keepdim=True) - rewards) / (k - 1)
    return rewards - others_mean
    ### END SOLUTION


# %% tags=["check"]
check("rlhf.rloo_advantages")

# %% [markdown]
# Now your three pieces drive `rlkit`'s trainer (`rl.train_policy`, method `"rloo"`): each
# step samples $k = 4$ responses to each of 16 prompts from the current policy, scores them
# with the reward model of section 2, turns them into per-token rewards with **your**
# `kl_penalized_rewards` ($\beta = 0.3$), sums them into one return per response, subtracts
# **your** `rloo_advantages`' baseline, and takes a policy-gradient step on
# $-\frac1B\sum_i A_i \log\pi(y_i \mid x_i)$ with **your** `sequence_log_probs`.
# `help(rl.PolicyConfig)` lists the settings. Three curves tell how it goes: the **proxy**
# reward (the reward model's score, what the optimiser sees), the **gold** reward (the hidden
# human, what we want), and $\mathrm{KL}(\pi \,\|\, \pi^{SFT})$, estimated on the samples as
# the mean of $\sum_t \log\frac{\pi(y_t \mid \cdot)}{\pi^{SFT}(y_t \mid \cdot)}$.

# %% tags=["slow"]
with skip_if_unwritten():
    YOUR_RL_PIECES = dict(kl_rewards_fn=kl_penalized_rewards, advantages_fn=rloo_advantages,
                          log_probs_fn=sequence_log_probs)
    if not is_nbgrader():
        test_prompts = task.sample_prompts(500, TASK, rng=40_000)  # every method answers these
        rl_config = rl.default_config("rloo", size="notebook")
        rl_policy, rl_history = rl.train_policy(sft_model, reward_model, rl_config, seed=0,
                                                progress=True, **YOUR_RL_PIECES)
        sft_stats, sft_responses = evaluation.evaluate_policy(sft_model, sft_model, reward_model,
                                                              test_prompts, TASK, seed=1)
        rl_stats, rl_responses = evaluation.evaluate_policy(rl_policy, sft_model, reward_model,
                                                            test_prompts, TASK, seed=1)
        for name, stats in (("SFT", sft_stats), ("RLOO, yours", rl_stats)):
            print(f"{name:12} proxy {stats.proxy:5.2f}  gold {stats.gold:5.2f}  KL {stats.kl:5.2f}"
                  f"  length {stats.length:4.2f}  repeats {stats.repeats:4.2f}")
        print(f"win rate against SFT under the gold reward: "
              f"{evaluation.win_rate(test_prompts, rl_responses, sft_responses, TASK):.1%}")
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
        steps = np.arange(1, len(rl_history.gold_rewards) + 1)
        axes[0].plot(steps, rl_history.proxy_rewards, label="proxy (reward model)")
        axes[0].plot(steps, rl_history.gold_rewards, label="gold (the human)")
        axes[0].set_xlabel("step")
        axes[0].set_ylabel("mean reward of the samples")
        axes[0].legend()
        axes[1].plot(steps, rl_history.kls, color="C2")
        axes[1].set_xlabel("step")
        axes[1].set_ylabel(r"KL($\pi$ || $\pi^{SFT}$), nats")
        fig.suptitle(rf"RLOO with your pieces, $\beta$ = {rl_config.beta:g}, k = {rl_config.k}")
        fig.tight_layout()
        plt.show()

# %% [markdown]
# **Over-optimisation.** The reward model is a proxy fitted on a few thousand comparisons; the
# further the policy moves from the responses it was fitted on, the less its score means.
# Gao, Schulman and Hilton (2022) measured this: as the policy's distance from the initial
# one, $\sqrt{\mathrm{KL}}$, grows, the proxy reward keeps rising while the gold reward peaks
# and falls. The KL penalty is what keeps the policy where the proxy is still right. The cell
# below trains the same RLOO from the same seed for several $\beta$ down to 0 and draws each
# run's (smoothed) proxy and gold rewards against $\sqrt{\mathrm{KL}}$ during training.
# Next to them is **best-of-n**, which has no training: sample $n$ SFT responses, keep the
# one the reward model scores highest. Its KL to SFT is known exactly, $\log n - (n - 1)/n$
# (Stiennon et al. 2020), and it over-optimises too once $n$ is large.

# %% tags=["slow"]
def smooth(values, window=8):
    """The running mean over the last ``window`` steps (the per-step means are noisy)."""
    values = np.asarray(values, dtype=float)
    kernel = np.ones(window) / window
    return np.convolve(np.pad(values, (window - 1, 0), mode="edge"), kernel, mode="valid")


with skip_if_unwritten():
    if not is_nbgrader():
        sweep = {rl_config.beta: (rl_policy, rl_history)}  # beta = 0.3 is the run above
        for beta in (0.1, 0.03, 0.0):
            sweep[beta] = rl.train_policy(sft_model, reward_model,
                                          rl.default_config("rloo", size="notebook", beta=beta),
                                          seed=0, progress=True, **YOUR_RL_PIECES)
        ns = (1, 2, 4, 8, 16, 32, 64)
        best_of = [best_of_n(sft_model, reward_model, test_prompts[:200], n, TASK, seed=2)[0]
                   for n in ns]
        fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharex=True)
        for i, (beta, (_, history)) in enumerate(sweep.items()):
            x = np.sqrt(np.maximum(smooth(history.kls), 0))
            label = rf"RLOO $\beta$ = {beta:g}"
            axes[0].plot(x, smooth(history.proxy_rewards), color=f"C{i}", label=label)
            axes[1].plot(x, smooth(history.gold_rewards), color=f"C{i}", label=label)
        for ax, field in zip(axes, ("proxy", "gold"), strict=True):
            ax.plot([np.sqrt(s.kl) for s in best_of], [getattr(s, field) for s in best_of], "ko--",
                    label="best-of-n, n = 1 ... 64")
            ax.set_xlabel(r"$\sqrt{\mathrm{KL}(\pi \,||\, \pi^{SFT})}$")
            ax.set_ylabel(f"{field} reward")
        axes[0].set_title("what the optimiser sees")
        axes[1].set_title("what the human gets")
        axes[1].legend(fontsize=8)
        fig.tight_layout()
        plt.show()
        print(f"{'':14} {'proxy':>6} {'gold':>6} {'KL':>6} {'repeats':>8}")
        for beta, (_, history) in sweep.items():
            s = history.final
            print(f"RLOO beta={beta:<5g} {s.proxy:6.2f} {s.gold:6.2f} {s.kl:6.2f} "
                  f"{s.repeats:8.2f}")
        for n, s in zip(ns, best_of, strict=True):
            print(f"best-of-{n:<6} {s.proxy:6.2f} {s.gold:6.2f} {s.kl:6.2f} {s.repeats:8.2f}")

# %% [markdown]
# **Reward hacking, in the samples.** The labeller's rankings favoured longer responses, and
# never showed the reward model a repeated token (section 2), so the reward model pays for
# length, repeats included. With no KL penalty the policy finds that: its responses grow,
# with repeats the gold reward punishes by 1 each. The same prompts, answered by SFT, by RLOO
# with $\beta = 0.3$ and by RLOO with $\beta = 0$:

# %% tags=["slow"]
with skip_if_unwritten():
    if not is_nbgrader():
        generator = torch.Generator().manual_seed(3)
        shown = torch.as_tensor(test_prompts[:6])
        for name, model in (("SFT", sft_model), ("beta = 0.3", sweep[0.3][0]),
                            ("beta = 0", sweep[0.0][0])):
            responses = lm.sample_responses(model, shown, TASK.max_response_len,
                                            generator).responses
            with torch.no_grad():
                scores = reward_model(shown, responses)
            print(name)
            for x, y, score in zip(shown.numpy(), responses.numpy(), scores, strict=True):
                print(f"  {evaluation.describe(x, y, TASK)} | reward model {score:+.2f}")

# %% [markdown]
# ## 4. Without a reward model: DPO and REBEL
#
# DPO (Rafailov et al., 2023) notices that the KL-regularised objective above has a
# closed-form optimum, $\pi^*(y \mid x) \propto \pi_{ref}(y \mid x)\,
# e^{r(x, y)/\beta}$, so that a reward can be read off a policy: $r(x, y) = \beta
# \log\frac{\pi(y \mid x)}{\pi_{ref}(y \mid x)}$ plus a term of $x$ alone, which cancels in a
# comparison. Put into the Bradley–Terry loss, it trains the policy on the preference pairs
# directly:
# $$L^{DPO} = -\frac1N \sum \log\sigma\Big(\beta\Big[\log\frac{\pi_\theta(y_w \mid x)}
# {\pi_{ref}(y_w \mid x)} - \log\frac{\pi_\theta(y_l \mid x)}{\pi_{ref}(y_l \mid x)}\Big]\Big).$$
# Write `dpo_loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps,
# ref_rejected_logps, beta)`: four `(N,)` tensors of sequence log-probs (your
# `sequence_log_probs`) and $\beta > 0$; the reference is frozen (`.detach()` its terms).
# Return a scalar tensor. Your `bradley_terry_loss` may do the last step. When the policy is
# the reference, the loss is $\ln 2$ whatever the data: the known answer at initialisation.

# %% tags=["solution"]
def dpo_loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps,
             beta):
    """Return the DPO loss: Bradley-Terry on the implicit rewards beta * log(pi / pi_ref)."""
    ### BEGIN SOLUTION
    chosen = beta * (policy_chosen_logps - ref_chosen_logps.detach())
    rejected = beta * (policy_rejected_logps - ref_rejected_logps.detach())
    return bradley_terry_loss(chosen, rejected)
    ### END SOLUTION


# %% tags=["check"]
check("rlhf.dpo_loss")

# %% [markdown]
# Now DPO with **your** `dpo_loss` and `sequence_log_probs` (`dpo.train_dpo`): the same
# rankings as the reward model of section 2 (same seed), turned into pairs by **your**
# `ranking_pairs`, with $\beta = 0.3$ and SFT as the frozen reference. No reward model and no
# sampling during training; the reward model only scores the evaluations. The first loss is
# $\ln 2$: the known answer.

# %% tags=["slow"]
with skip_if_unwritten():
    if not is_nbgrader():
        dpo_policy, dpo_history = dpo.train_dpo(sft_model, seed=0, loss_fn=dpo_loss,
                                                log_probs_fn=sequence_log_probs,
                                                pairs_fn=ranking_pairs, reward_model=reward_model,
                                                progress=True)
        print(f"first loss {dpo_history.losses[0]:.4f} (ln 2 = {np.log(2):.4f}), last "
              f"{dpo_history.losses[-1]:.4f}")
        dpo_stats, dpo_responses = evaluation.evaluate_policy(dpo_policy, sft_model, reward_model,
                                                              test_prompts, TASK, seed=1)
        print(f"DPO: proxy {dpo_stats.proxy:.2f}, gold {dpo_stats.gold:.2f} (SFT "
              f"{sft_stats.gold:.2f}), KL {dpo_stats.kl:.2f}, win rate against SFT "
              f"{evaluation.win_rate(test_prompts, dpo_responses, sft_responses, TASK):.1%}")
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
        axes[0].plot(dpo_history.losses)
        axes[0].axhline(np.log(2), color="grey", linestyle=":", label="ln 2")
        axes[0].set_xlabel("step")
        axes[0].set_ylabel("DPO loss (yours)")
        axes[0].legend()
        axes[1].plot(dpo_history.reward_accuracies)
        axes[1].set_xlabel("step")
        axes[1].set_ylabel("implicit-reward accuracy on the batch")
        fig.tight_layout()
        plt.show()

# %% [markdown]
# REBEL (Gao et al., 2024; the last row of lecture 003's table) turns each policy update into
# a least-squares regression: for two responses $y_a, y_b$ to the same prompt, sampled from the
# current policy $\pi_t$, the difference of their log-ratios, divided by a step size $\eta$,
# should match the difference of their rewards:
# $$L^{REBEL} = \frac1N \sum \Big(\frac1\eta\Big(\log\frac{\pi_\theta(y_a \mid x)}{\pi_t(y_a
# \mid x)} - \log\frac{\pi_\theta(y_b \mid x)}{\pi_t(y_b \mid x)}\Big) - \big(r(x, y_a) -
# r(x, y_b)\big)\Big)^2.$$
# Write `rebel_loss(log_ratio_a, log_ratio_b, reward_a, reward_b, eta)`: four `(N,)` tensors
# and $\eta > 0$; the rewards are the regression's targets, constants (`.detach()`). Return a
# scalar tensor. It is 0 exactly when the log-ratio difference equals $\eta$ times the reward
# difference.

# %% tags=["solution"]
def rebel_loss(log_ratio_a, log_ratio_b, reward_a, reward_b, eta):
    """Return mean(((log_ratio_a - log_ratio_b) / eta - (reward_a - reward_b)) ** 2)."""
    ### BEGIN SOLUTION
    residual = (log_ratio_a - log_ratio_b) / eta - (reward_a - reward_b).detach()
    return (residual ** 2).mean()
    ### END SOLUTION


# %% tags=["check"]
check("rlhf.rebel_loss")

# %% [markdown]
# **The lecture's table, on the toy task.** Lecture 003 compares methods by their win rate
# against SFT on TL;DR, judged by a labeller. Here the gold reward judges: a method wins a
# prompt when its response's gold reward beats SFT's response to the same prompt (a tie
# counts half, so SFT against itself is 50 %). Every RL method uses your pieces, the reward
# model of section 2 and the same 64 responses per step; the runs are the notebook's short
# ones, over two seeds of the RL or DPO run with the SFT and reward models kept (seed 0 reuses
# the DPO and RLOO runs above): 10 runs, 20 s on a quiet laptop and up to about 2 minutes on a
# busy machine; the top bar counts the runs. `benchmarks/bench_rlhf.py` gives the full-length
# table, whole pipelines over five seeds.

# %% tags=["slow"]
with skip_if_unwritten():
    if not is_nbgrader():
        methods = {
            "REINFORCE": rl.default_config("reinforce", size="notebook"),
            "RLOO k=2": rl.default_config("rloo", size="notebook", k=2, prompts_per_step=32),
            "RLOO k=4": rl_config,
            "PPO": rl.default_config("ppo", size="notebook"),
            "REBEL": rl.default_config("rebel", size="notebook"),
        }
        seeds = (0, 1)
        table = {"SFT": [0.5] * len(seeds), "DPO": [], **{name: [] for name in methods}}
        runs = tqdm(total=len(seeds) * (len(methods) + 1) - 2, desc="table", unit="run")
        for seed in seeds:
            if seed == 0:  # the runs above
                trained = {"DPO": dpo_policy, "RLOO k=4": rl_policy}
            else:
                trained = {"DPO": dpo.train_dpo(sft_model, seed=seed, loss_fn=dpo_loss,
                                                log_probs_fn=sequence_log_probs,
                                                pairs_fn=ranking_pairs, progress=True)[0]}
                runs.update()
            for name, config in methods.items():
                if name not in trained:
                    trained[name] = rl.train_policy(sft_model, reward_model, config, seed=seed,
                                                    rebel_loss_fn=rebel_loss, progress=True,
                                                    **YOUR_RL_PIECES)[0]
                    runs.update()
            for name, model in trained.items():
                _, responses = evaluation.evaluate_policy(model, sft_model, None, test_prompts,
                                                          TASK, seed=1)
                table[name].append(evaluation.win_rate(test_prompts, responses, sft_responses,
                                                       TASK))
        runs.close()
        print(f"{'method':10} win rate against SFT (gold reward): mean (seeds {seeds})")
        for name, rates in table.items():
            print(f"{name:10} {100 * np.mean(rates):5.1f} %  "
                  f"({', '.join(f'{100 * rate:.1f}' for rate in rates)})")

# %% [markdown]
# ## 5. Written answers (graded by hand)
#
# **Question 1 (3 points).** The lecture asks, of the PPO objective for an LLM: "What is state,
# action, defined here? What is the environment?" Answer for the toy task of this notebook
# (and say what changes for ChatGPT): what is a state, an action, the transition, the reward
# and when it arrives, the horizon; and what plays the environment.

# %% [markdown] tags=["written"] grade_id="written_llm_mdp" points=3
# ### BEGIN SOLUTION
# *Model answer.* A state is the prompt together with the response tokens generated so far,
# $s_t = (x, y_{<t})$; an action is the next token $y_t$, drawn from the policy's distribution
# over the vocabulary, $\pi(y_t \mid x, y_{<t})$ (the language model is the policy). The
# transition is deterministic: it appends the token, $s_{t+1} = (x, y_{\le t})$; the episode
# ends at EOS or at the length limit $T$ (the horizon, 8 tokens here). The initial state
# distribution is the prompt distribution. The reward is the reward model's score
# $r_\theta(x, y)$ of the complete response, given once at the last token (0 before), minus the
# per-token KL penalty $\beta \log(\pi^{RL}/\pi^{SFT})$ on every token (the rewards of
# `kl_penalized_rewards`). The environment is therefore only the prompt sampler, the
# token-appending rule and the learned reward model (with the frozen SFT model for the
# penalty): no human in the loop at RL time; the labellers' preferences enter only through
# the reward model. For ChatGPT the same holds with a vocabulary of ~50k tokens, prompts from
# users and hundreds of tokens per response; it is a contextual bandit at the level of whole
# responses, an MDP with deterministic transitions and a sparse terminal reward at the level
# of tokens.
#
# *Rubric (3 points).* 1 point: state = prompt plus tokens so far, action = the next token,
# policy = the language model. 1 point: deterministic transition (append the token), episode
# ends at EOS / the length limit, prompts as the initial distribution. 1 point: the reward is
# the reward model's score at the end (plus the per-token KL penalty), so the "environment" is
# the prompt sampler and the learned reward model, not a human.
# ### END SOLUTION

# %% [markdown]
# **Question 2 (3 points).** Why does the objective subtract $\beta \log(\pi^{RL} / \pi^{SFT})$?
# Give two reasons, and say what happens as $\beta \to 0$ on this task (think of the
# reward model's verdict on the padded responses in section 2 and of the ceiling).

# %% [markdown] tags=["written"] grade_id="written_kl_penalty" points=3
# ### BEGIN SOLUTION
# *Model answer.* (1) The reward model is a proxy trained on responses like the SFT model's
# (the ranked candidates): it is accurate only near that distribution (its accuracy is bounded
# by the ceiling even there), and far from it its errors are arbitrary. Maximising it without
# a constraint drives the policy to where the proxy is most wrong in its favour: reward
# hacking, e.g. here padding answers with repeats, which the reward model never saw punished
# (section 2: two repeats cost 2 of gold reward and far less of the proxy's score), or
# long responses in general (the lecture's length bias). The KL term keeps $\pi^{RL}$ near
# $\pi^{SFT}$, where the proxy is trustworthy. (2) It keeps what SFT learned (fluency, the
# format: responses that end, valid tokens) and the policy's diversity: without it the
# policy collapses onto a few high-scoring responses (entropy to 0; mode collapse), and the
# per-token form gives a dense reward signal that also makes optimisation more stable. (The
# KL-regularised objective has the closed-form optimum $\pi^* \propto \pi^{SFT} e^{r/\beta}$,
# which DPO uses.) As $\beta \to 0$ the proxy reward keeps rising while the gold reward rises,
# peaks and then falls (Gao et al.'s over-optimisation curve against $\sqrt{KL}$): the policy
# learns the reward model's flaws, e.g. repeats.
#
# *Rubric (3 points).* 1 point: the reward model is only an accurate proxy near the data /
# SFT distribution, so unconstrained maximisation exploits its errors (reward hacking,
# over-optimisation). 1 point: a second reason (keep SFT's fluency/format, diversity against
# mode collapse, stability of the optimisation, the closed-form regularised optimum). 1 point:
# as beta -> 0 the proxy reward rises while the gold reward peaks and falls (e.g. repeats or
# length exploited here).
# ### END SOLUTION

# %% [markdown]
# **Question 3 (2 points).** DPO trains on the same preference data as the reward model but
# never trains a reward model, nor samples from the policy during training. Why does it not
# need one, and what does it give up compared with RL against a reward model (RLOO, PPO,
# REBEL)?

# %% [markdown] tags=["written"] grade_id="written_dpo_no_reward_model" points=2
# ### BEGIN SOLUTION
# *Model answer.* The KL-regularised objective $\mathbb{E}[r(x, y)] - \beta\,
# \mathrm{KL}(\pi \,\|\, \pi_{ref})$ is maximised by $\pi^*(y \mid x) = \pi_{ref}(y \mid x)
# e^{r(x, y)/\beta} / Z(x)$, so every policy defines the reward it is optimal for, $r(x, y) =
# \beta \log(\pi(y \mid x) / \pi_{ref}(y \mid x)) + \beta \log Z(x)$. In the Bradley–Terry
# likelihood only reward differences between two responses to the same prompt appear, so the
# intractable $Z(x)$ cancels: the Bradley–Terry loss of this implicit reward is a loss on the
# policy itself, trained by supervised learning on the pairs (the reward model is the policy).
# What it gives up: it learns only from the fixed, offline pairs (responses from another
# policy), with no fresh samples scored during training, so it cannot find out what its own
# new responses are worth, and it may move probability to responses outside the data; RL with
# a reward model generalises the reward to on-policy samples and can keep improving (and
# lecture 003's table has DPO below the online methods, 68 % vs 74-78 %). It is also tied to
# the Bradley–Terry model and its beta, and it still needs the reference model's log-probs.
#
# *Rubric (2 points).* 1 point: the optimum of the KL-regularised objective gives the reward
# as beta log(pi / pi_ref) up to a prompt-only term that cancels in a pairwise comparison, so
# the Bradley-Terry loss can be written on the policy directly. 1 point: a cost: offline /
# off-policy data only (no on-policy samples or exploration, no reward for new responses),
# generally lower win rates than online RL in the table, or dependence on the BT assumption.
# ### END SOLUTION
