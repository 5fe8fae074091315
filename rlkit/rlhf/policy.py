r"""Step 3 of lecture 001's RLHF workflow: optimise the policy against the reward model.

"The PPO model is initialized from the supervised policy ... the reward model calculates a
reward for the output", with InstructGPT's KL penalty keeping the policy near the SFT model:

.. math:: \max_\pi\ \mathbb{E}_{x,\ y \sim \pi}\big[r_\theta(x, y)\big]
    - \beta\, \mathrm{KL}\big(\pi(\cdot|x) \,\|\, \pi^\text{SFT}(\cdot|x)\big).

The reward is spread over the response's tokens (``kl_rewards_fn``:
:func:`~rlkit.rlhf.losses.kl_penalized_rewards`): :math:`r_t = -\beta(\log\pi(y_t|\cdot) -
\log\pi^\text{SFT}(y_t|\cdot))` on every token, plus :math:`r_\theta(x, y)` on the last. Four
ways to climb it (``PolicyConfig.method``), each step on a fresh batch of responses sampled
from the current policy, ``k`` per prompt:

- ``"reinforce"``: the whole response is one action (a bandit, as in Ahmadian et al. 2024,
  "Back to Basics"): :math:`\nabla \approx \frac1B \sum_i (R_i - b) \nabla \log\pi(y_i|x_i)`,
  :math:`R_i = \sum_t r_{i,t}`, with the standard baseline of Williams (1992) and of that
  paper: :math:`b`, the moving average of the earlier batches' mean return (the first batch
  uses its own mean). The baseline does not depend on the batch's actions: no bias, less
  variance than no baseline.
- ``"rloo"``: the same gradient with RLOO's baseline, the mean return of the *other* k - 1
  samples of the same prompt (``advantages_fn``: :func:`~rlkit.rlhf.losses.rloo_advantages`;
  Kool et al. 2019, Ahmadian et al. 2024).
- ``"ppo"``: InstructGPT's PPO, *token-level*: each token is an action, the per-token rewards
  are what GAE (:func:`rlkit.advantages.gae`, gamma = 1) credits back, and a critic
  (:class:`~rlkit.rlhf.model.ValueModel`, initialised from the reward model as InstructGPT
  does) values each prefix. Token-level is the standard (Ziegler et al. 2019, InstructGPT,
  TRL's PPO trainer) and the one where the per-token KL rewards matter; the ratio, the clipped
  loss and the KL diagnostic are notebook 06's pieces (:mod:`rlkit.agents.ppo`).
- ``"rebel"``: REBEL (Gao et al. 2024), Algorithm 1: for two responses a, b to the same
  prompt from the current policy :math:`\pi_t`, regress the difference of their log-ratios
  :math:`\log\pi_\theta/\pi_t` onto :math:`\eta` times the difference of their rewards
  (``rebel_loss_fn``: :func:`~rlkit.rlhf.losses.rebel_loss`), for a few epochs per batch. The
  reward is the KL-penalised sequence reward :math:`R = r_\theta - \beta\log(\pi_t/\pi^
  \text{SFT})`, as in the paper's TL;DR runs. Each iteration solves
  :math:`\pi_{t+1} \propto \pi_t \exp(\eta R)`, a mirror-descent step, without a critic.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from rlkit.advantages import gae
from rlkit.agents.ppo import (
    approx_kl_low_variance,
    clipped_value_loss,
    importance_ratio,
    minibatch_indices,
    normalize_advantages,
    ppo_clip_loss,
)
from rlkit.nets import torch_threads
from rlkit.rlhf.evaluation import Rollout, SampleStats, rollout, sample_stats
from rlkit.rlhf.losses import (
    kl_penalized_rewards,
    rebel_loss,
    rloo_advantages,
    sequence_log_probs,
)
from rlkit.rlhf.model import CausalLM, RewardModel, ValueModel
from rlkit.rlhf.task import TaskConfig, sample_prompts
from rlkit.rollouts import check_settings
from rlkit.seeding import seed_everything

__all__ = [
    "METHODS",
    "NOTEBOOK_STEPS",
    "PRESETS",
    "PolicyConfig",
    "PolicyHistory",
    "beta_sweep",
    "default_config",
    "train_policy",
]

METHODS = ("reinforce", "rloo", "ppo", "rebel")
"""The policy optimisers of :func:`train_policy`."""


@dataclass(frozen=True)
class PolicyConfig:
    """Settings of :func:`train_policy`; the defaults are RLOO (k = 4) at the notebook's size.

    :func:`default_config` gives each method's settings (``PRESETS``). Every method samples
    ``prompts_per_step * k`` responses per step.

    Example:
        >>> config = PolicyConfig()
        >>> config.prompts_per_step * config.k  # responses sampled per step
        64

    """

    method: str = "rloo"
    """One of ``METHODS``: "reinforce", "rloo", "ppo" or "rebel"."""
    beta: float = 0.3
    """beta, the KL coefficient of the per-token penalty (0: no penalty, the policy is free to
    over-optimise; 0.01 to 1). RLOO k = 4, seed 0, final gold reward: 2.70 at beta 1, 2.83
    at 0.3, 2.40 at 0.1, 1.22 at 0 (SFT: 1.95)."""
    k: int = 4
    """Responses sampled per prompt (rloo, rebel: >= 2; rebel pairs them up, so even)."""
    prompts_per_step: int = 16
    """Prompts per step (each sampled k times)."""
    steps: int = 150
    """Policy updates, each on a fresh batch of samples."""
    learning_rate: float = 2e-3
    """Adam's step size for the policy (5e-4 to 3e-3 for a model this small)."""
    baseline_decay: float = 0.9
    """reinforce: the baseline is b <- decay * b + (1 - decay) * mean return (0 to 0.99)."""
    epochs: int = 2
    """ppo, rebel: passes over each batch (1 to 4; each pass costs about one sampling step)."""
    n_minibatches: int = 1
    """ppo, rebel: minibatches per epoch (must divide the batch of responses; rebel: of
    pairs). One: on one CPU thread a step's cost is per pass, not per response."""
    clip_eps: float = 0.2
    """ppo: epsilon of L^CLIP (0.1 to 0.3)."""
    gae_lambda: float = 0.95
    """ppo: GAE's lambda over the response's tokens (gamma is 1: the episode is short)."""
    value_coef: float = 0.5
    """ppo: c_v, the weight of the critic's loss."""
    value_learning_rate: float = 3e-3
    """ppo: Adam's step size for the critic."""
    clip_value: float | None = None
    """ppo: value clipping range (None: the plain squared error)."""
    eta: float = 1.0
    """rebel: eta, the step size of each mirror-descent iteration (the inverse of a KL
    coefficient to pi_t; 0.1 to 10 here)."""
    max_grad_norm: float | None = 1.0
    """Clip the gradient norm to this (None: no clipping)."""
    n_eval_prompts: int = 500
    """Held-out prompts on which :func:`train_policy` measures the final policy."""
    task: TaskConfig = field(default_factory=TaskConfig)
    """The synthetic task (prompts, the gold reward)."""
    torch_threads: int | None = 1
    """torch CPU threads while training (1: fastest for tiny nets, and reproducible)."""

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}; got {self.method!r}")
        check_settings(
            self, at_least_one=("k", "prompts_per_step", "steps", "epochs", "n_minibatches",
                                "n_eval_prompts"),
            unit_interval=("baseline_decay", "gae_lambda"),
            positive=("learning_rate", "clip_eps", "value_learning_rate", "eta", "clip_value",
                      "max_grad_norm"),
            non_negative=("beta", "value_coef"),
            optional=("clip_value", "max_grad_norm"),
        )  # fmt: skip
        if self.method in ("rloo", "rebel") and self.k < 2:
            raise ValueError(f"{self.method} compares samples of a prompt: k must be >= 2; "
                             f"got {self.k}")
        if self.method == "rebel" and self.k % 2:
            raise ValueError(f"rebel pairs up the k samples of a prompt: k must be even; "
                             f"got {self.k}")
        batch = self.prompts_per_step * self.k // (2 if self.method == "rebel" else 1)
        if self.method in ("ppo", "rebel") and batch % self.n_minibatches:
            raise ValueError(f"n_minibatches ({self.n_minibatches}) must divide the batch "
                             f"({batch} {'pairs' if self.method == 'rebel' else 'responses'})")


PRESETS: dict[str, PolicyConfig] = {
    "reinforce": PolicyConfig(method="reinforce", k=1, prompts_per_step=64),
    "rloo": PolicyConfig(method="rloo", k=4, prompts_per_step=16),
    "ppo": PolicyConfig(method="ppo", k=1, prompts_per_step=64, steps=60),
    "rebel": PolicyConfig(method="rebel", k=2, prompts_per_step=32, steps=80),
}
"""Each method's settings: 64 responses per step, about 4 s of CPU per run (ppo and rebel take
two passes per batch, so fewer steps for about the same time). ``benchmarks/bench_rlhf.py``
measures them."""

NOTEBOOK_STEPS: dict[str, int] = {"reinforce": 80, "rloo": 80, "ppo": 30, "rebel": 40}
"""The steps of ``default_config(method, size="notebook")``: about 2 s of CPU per run. Seed 0,
beta 0.3, final gold reward (SFT 1.95, the full presets 2.6-2.8): reinforce 2.62, rloo
2.70, rloo k = 2 2.62, ppo 2.56, rebel 2.60; rloo at beta 0 already hacks (gold 1.71, one
repeat per response)."""


def default_config(method: str = "rloo", size: str = "full", **overrides: Any) -> PolicyConfig:
    """The settings of ``method`` (``PRESETS``) at a size, with ``overrides``.

    Args:
        method: One of ``METHODS``.
        size: "full" (the benchmark's, ``PRESETS``) or "notebook" (``NOTEBOOK_STEPS``: half
            the time or less).
        **overrides: Fields of :class:`PolicyConfig` to change.

    Example:
        >>> default_config("rloo", k=2).prompts_per_step, default_config("ppo").k
        (16, 1)
        >>> default_config("ppo", size="notebook").steps
        30

    """
    if method not in PRESETS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}")
    if size not in ("full", "notebook"):
        raise ValueError(f"size must be 'full' or 'notebook'; got {size!r}")
    names = {f.name for f in dataclasses.fields(PolicyConfig)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise ValueError(f"unknown PolicyConfig fields {unknown}; the fields are {sorted(names)}")
    if size == "notebook":
        overrides = {"steps": NOTEBOOK_STEPS[method], **overrides}
    return dataclasses.replace(PRESETS[method], **overrides)


@dataclass
class PolicyHistory:
    """What :func:`train_policy` records, one entry per step (on that step's samples)."""

    proxy_rewards: list[float] = field(default_factory=list)
    """Mean reward-model score r_theta(x, y): what the optimiser climbs."""
    gold_rewards: list[float] = field(default_factory=list)
    """Mean gold reward g(x, y): what the human wanted (never seen by the optimiser)."""
    kls: list[float] = field(default_factory=list)
    """KL(pi || pi_SFT) estimate: mean of sum_t log pi(y_t) - log pi_SFT(y_t), in nats."""
    lengths: list[float] = field(default_factory=list)
    """Mean response length (EOS included)."""
    repeats: list[float] = field(default_factory=list)
    """Mean repeated tokens per response (the gold reward's cost of each: repeat_penalty)."""
    off_topic: list[float] = field(default_factory=list)
    """Mean distinct off-topic tokens per response."""
    losses: list[float] = field(default_factory=list)
    """The policy loss of the step (mean over its minibatch steps for ppo and rebel)."""
    update_kls: list[float] = field(default_factory=list)
    """ppo: KL(pi_old || pi) after the step's epochs, by ``kl_fn`` (other methods: empty)."""
    seconds: list[float] = field(default_factory=list)
    """Wall time since the start of training, at the end of each step."""
    final: SampleStats | None = None
    """The final policy on ``n_eval_prompts`` held-out prompts."""
    config: PolicyConfig = field(default_factory=PolicyConfig)
    """The settings used."""


def _record(history: PolicyHistory, stats: SampleStats) -> None:
    for name, value in (("proxy_rewards", stats.proxy), ("gold_rewards", stats.gold),
                        ("kls", stats.kl), ("lengths", stats.length),
                        ("repeats", stats.repeats), ("off_topic", stats.off_topic)):
        getattr(history, name).append(value)


@dataclass(frozen=True)
class _Pieces:
    """The math pieces :func:`train_policy` runs: rlkit's or a student's."""

    kl_rewards: Callable[..., torch.Tensor]
    advantages: Callable[..., torch.Tensor]
    log_probs: Callable[..., torch.Tensor]
    ratio: Callable[..., torch.Tensor]
    clip_loss: Callable[..., torch.Tensor]
    kl: Callable[..., torch.Tensor]
    rebel_loss: Callable[..., torch.Tensor]


def _checked(result: Any, name: str, shape: tuple[int, ...]) -> torch.Tensor:
    """A piece's result as a tensor of ``shape``, or a clear error."""
    if not torch.is_tensor(result) or tuple(result.shape) != shape:
        got = tuple(result.shape) if torch.is_tensor(result) else type(result).__name__
        raise ValueError(f"{name} must return a tensor of shape {shape}; got {got}")
    return result


def train_policy(
    sft_model: CausalLM,
    reward_model: RewardModel,
    config: PolicyConfig = PolicyConfig(),  # noqa: B008 (frozen, so a safe default)
    *,
    seed: int,
    kl_rewards_fn: Callable[..., torch.Tensor] = kl_penalized_rewards,
    advantages_fn: Callable[..., torch.Tensor] = rloo_advantages,
    log_probs_fn: Callable[..., torch.Tensor] = sequence_log_probs,
    ratio_fn: Callable[..., torch.Tensor] = importance_ratio,
    clip_loss_fn: Callable[..., torch.Tensor] = ppo_clip_loss,
    kl_fn: Callable[..., torch.Tensor] = approx_kl_low_variance,
    rebel_loss_fn: Callable[..., torch.Tensor] = rebel_loss,
    progress: bool = False,
) -> tuple[CausalLM, PolicyHistory]:
    r"""Optimise a copy of ``sft_model`` against ``reward_model`` with the KL penalty.

    Each ``*_fn`` replaces one math piece (a student's, with the same signature).

    Args:
        sft_model: The reference :math:`\pi^\text{SFT}`, also the starting policy (not
            changed: the policy is a copy).
        reward_model: The learned reward :math:`r_\theta` (frozen).
        config: Settings.
        seed: Seeds the prompts, the sampling, the minibatches and the critic: same seed,
            same history.
        kl_rewards_fn: :func:`~rlkit.rlhf.losses.kl_penalized_rewards`; float32 tensors
            ``score (B,)``, ``log_probs, ref_log_probs, mask (B, T)`` and ``beta`` in,
            ``(B, T)`` out. Every method's reward comes from it.
        advantages_fn: :func:`~rlkit.rlhf.losses.rloo_advantages` (rloo); ``(n, k)`` returns.
        log_probs_fn: :func:`~rlkit.rlhf.losses.sequence_log_probs` (reinforce, rloo, rebel):
            ``logits (B, T, V)``, ``tokens (B, T)``, ``mask (B, T)`` in, ``(B,)`` out.
        ratio_fn: ppo: :func:`~rlkit.agents.ppo.importance_ratio`, on the flat real tokens.
        clip_loss_fn: ppo: :func:`~rlkit.agents.ppo.ppo_clip_loss`.
        kl_fn: ppo: :func:`~rlkit.agents.ppo.approx_kl_low_variance` (the history's
            ``update_kls``).
        rebel_loss_fn: rebel: :func:`~rlkit.rlhf.losses.rebel_loss`.
        progress: Show a tqdm progress bar over steps.

    Returns:
        The trained policy (in eval mode) and its :class:`PolicyHistory`.

    Example:
        >>> from rlkit.rlhf.model import RewardModel
        >>> torch.manual_seed(0) and None
        >>> sft, reward_model = CausalLM(13), RewardModel(13)
        >>> policy, history = train_policy(sft, reward_model, PolicyConfig(steps=2), seed=0)
        >>> len(history.gold_rewards), history.final is not None
        (2, True)

    """
    pieces = _Pieces(kl_rewards_fn, advantages_fn, log_probs_fn, ratio_fn, clip_loss_fn, kl_fn,
                     rebel_loss_fn)
    with torch_threads(config.torch_threads):
        return _train(sft_model, reward_model, config, seed, pieces, progress)


def _train(
    sft_model: CausalLM,
    reward_model: RewardModel,
    config: PolicyConfig,
    seed: int,
    pieces: _Pieces,
    progress: bool,
) -> tuple[CausalLM, PolicyHistory]:
    # 1. Seed: the prompts and minibatches (numpy), the sampling (a torch Generator).
    rng = seed_everything(seed)
    generator = torch.Generator().manual_seed(seed)
    task, k = config.task, config.k
    eval_prompts = sample_prompts(config.n_eval_prompts, task, rng)

    # 2. Models: the policy starts as a copy of SFT; SFT (the reference) and r_theta stay fixed.
    # (the two fixed models only run under no_grad: rlkit.rlhf.evaluation.rollout)
    policy = copy.deepcopy(sft_model).train()
    for parameter in policy.parameters():
        parameter.requires_grad_(True)
    ref_model = sft_model
    parameters = list(policy.parameters())
    groups: list[dict[str, Any]] = [{"params": list(parameters), "lr": config.learning_rate}]
    critic = None
    if config.method == "ppo":
        critic = ValueModel.from_reward_model(reward_model).train()
        groups.append({"params": list(critic.parameters()), "lr": config.value_learning_rate})
        parameters += groups[-1]["params"]
    optimizer = torch.optim.Adam(groups)

    def gradient_step(loss: torch.Tensor) -> None:
        optimizer.zero_grad()
        loss.backward()
        if config.max_grad_norm is not None:
            nn.utils.clip_grad_norm_(parameters, config.max_grad_norm)
        optimizer.step()

    # 3. The rewards of a batch: kl_rewards_fn's per-token rewards (B, T).
    def token_rewards(batch: Rollout) -> torch.Tensor:
        samples = batch.samples
        rewards = pieces.kl_rewards(batch.scores, samples.log_probs, batch.ref_log_probs,
                                    samples.mask.float(), config.beta)
        return _checked(rewards, "kl_rewards_fn", tuple(samples.log_probs.shape)).detach()

    def sequence_log_prob(batch: Rollout, rows: Any = slice(None)) -> torch.Tensor:
        prompts, responses = batch.prompts[rows], batch.samples.responses[rows]
        mask = batch.samples.mask[rows]
        log_probs = pieces.log_probs(policy.response_logits(prompts, responses), responses,
                                     mask.float())
        return _checked(log_probs, "log_probs_fn", (len(responses),))

    baseline: list[float] = []  # reinforce's moving average

    def policy_gradient_step(batch: Rollout) -> float:
        returns = token_rewards(batch).sum(dim=1)  # R_i = r_theta - beta * log-ratio
        if config.method == "rloo":
            advantages = _checked(pieces.advantages(returns.reshape(-1, k)), "advantages_fn",
                                  (len(returns) // k, k)).reshape(-1)
        else:
            mean = float(returns.mean())
            b = baseline[0] if baseline else mean
            advantages = returns - b
            decay = config.baseline_decay
            baseline[:] = [decay * b + (1.0 - decay) * mean]
        loss = -(advantages.detach() * sequence_log_prob(batch)).mean()
        gradient_step(loss)
        return loss.item()

    def rebel_step(batch: Rollout) -> float:
        returns = token_rewards(batch).sum(dim=1).reshape(-1, 2)  # pairs (a, b) of a prompt
        old_log_probs = batch.samples.log_probs.sum(dim=1).reshape(-1, 2)  # log pi_t(y)
        losses = []
        for _ in range(config.epochs):
            for pairs in minibatch_indices(len(returns), config.n_minibatches, rng):
                rows = torch.as_tensor(np.stack([2 * pairs, 2 * pairs + 1], axis=1).reshape(-1))
                log_ratio = (sequence_log_prob(batch, rows).reshape(-1, 2)
                             - old_log_probs[pairs])
                loss = pieces.rebel_loss(log_ratio[:, 0], log_ratio[:, 1], returns[pairs, 0],
                                         returns[pairs, 1], config.eta)
                gradient_step(_checked(loss, "rebel_loss_fn", ()))
                losses.append(loss.item())
        return float(np.mean(losses))

    def ppo_step(batch: Rollout) -> float:
        assert critic is not None
        samples, prompts = batch.samples, batch.prompts
        mask = samples.mask
        rewards = token_rewards(batch)
        with torch.no_grad():
            old_values = critic(prompts, samples.responses)
        # GAE over the tokens (T, B): the episode ends after the last real token (terminated),
        # so nothing leaks in from the padding after it.
        last = mask.sum(dim=1) - 1
        ended = torch.zeros_like(mask)
        ended[torch.arange(len(mask)), last] = True
        next_values = torch.cat([old_values[:, 1:], torch.zeros(len(mask), 1)], dim=1)
        advantages = gae(rewards.double().T.numpy(), old_values.double().T.numpy(),
                         next_values.double().T.numpy(), ended.T.numpy(),
                         np.zeros(ended.T.shape, dtype=bool), 1.0, config.gae_lambda)
        advantages = torch.as_tensor(advantages.T, dtype=torch.float32)
        returns = advantages + old_values
        # whitened over the batch's real tokens (as TRL does), 0 on the padding
        advantages = torch.zeros_like(advantages).masked_scatter(
            mask, normalize_advantages(advantages[mask]))
        losses = []
        for _ in range(config.epochs):
            for rows in minibatch_indices(len(mask), config.n_minibatches, rng):
                rows_t = torch.as_tensor(rows)
                real = mask[rows_t]
                log_probs = policy.log_probs(prompts[rows_t], samples.responses[rows_t])[real]
                ratio = _checked(pieces.ratio(log_probs, samples.log_probs[rows_t][real]),
                                 "ratio_fn", tuple(log_probs.shape))
                clip_loss = _checked(pieces.clip_loss(ratio, advantages[rows_t][real],
                                                      config.clip_eps), "clip_loss_fn", ())
                values = critic(prompts[rows_t], samples.responses[rows_t])[real]
                critic_loss = clipped_value_loss(values, old_values[rows_t][real],
                                                 returns[rows_t][real], config.clip_value)
                gradient_step(clip_loss + config.value_coef * critic_loss)
                losses.append(clip_loss.item())
        with torch.no_grad():
            log_probs = policy.log_probs(prompts, samples.responses)[mask]
            history.update_kls.append(float(pieces.kl(log_probs, samples.log_probs[mask])))
        return float(np.mean(losses))

    step_fn = {"reinforce": policy_gradient_step, "rloo": policy_gradient_step,
               "ppo": ppo_step, "rebel": rebel_step}[config.method]

    # 4. Loop: sample k responses per prompt from the current policy, score, update.
    history = PolicyHistory(config=config)
    start = time.perf_counter()
    with tqdm(total=config.steps, desc=f"RLHF {config.method}", disable=not progress) as bar:
        for _ in range(config.steps):
            prompts = sample_prompts(config.prompts_per_step, task, rng)
            prompts_t = torch.as_tensor(prompts).repeat_interleave(k, dim=0)
            policy.eval()
            batch = rollout(policy, ref_model, reward_model, prompts_t, task.max_response_len,
                            generator)
            policy.train()
            stats = sample_stats(batch, task)
            _record(history, stats)
            history.losses.append(step_fn(batch))
            history.seconds.append(time.perf_counter() - start)
            bar.set_postfix(gold=f"{stats.gold:.2f}", proxy=f"{stats.proxy:.2f}",
                            kl=f"{stats.kl:.2f}", refresh=False)
            bar.update(1)
    policy.eval()
    history.final = sample_stats(
        rollout(policy, ref_model, reward_model, torch.as_tensor(eval_prompts),
                task.max_response_len, torch.Generator().manual_seed(seed + 1)), task)
    return policy, history


def beta_sweep(
    sft_model: CausalLM,
    reward_model: RewardModel,
    betas: tuple[float, ...] = (1.0, 0.3, 0.1, 0.03, 0.0),
    config: PolicyConfig = PRESETS["rloo"],
    *,
    seed: int,
    progress: bool = False,
    **pieces: Callable[..., Any],
) -> list[PolicyHistory]:
    """The over-optimisation sweep: one :func:`train_policy` run per ``beta``, same seed.

    Gao, Schulman and Hilton (2022): as beta falls to 0 the policy moves further from SFT
    (larger KL), the proxy reward keeps rising and the gold reward peaks and falls. Plot each
    history's ``final.gold`` and ``final.proxy`` (or the per-step curves) against
    ``sqrt(kl)``.

    Args:
        sft_model: The reference and starting policy.
        reward_model: The learned reward.
        betas: The KL coefficients, each >= 0.
        config: Settings of each run (its ``beta`` is replaced).
        seed: The seed of every run (the runs differ by beta only).
        progress: Show a progress bar per run.
        **pieces: Replacements for :func:`train_policy`'s math pieces (``kl_rewards_fn``, ...).

    Returns:
        One :class:`PolicyHistory` per beta, in order.

    """
    return [train_policy(sft_model, reward_model, dataclasses.replace(config, beta=beta),
                         seed=seed, progress=progress, **pieces)[1] for beta in betas]
