r"""DPO (Rafailov et al., 2023): the preference pairs train the policy directly, no reward model.

Lecture 003's comparison. The KL-regularised objective of :mod:`rlkit.rlhf.policy` has the
closed-form optimum :math:`\pi^*(y|x) \propto \pi^\text{SFT}(y|x) \exp(r(x, y) / \beta)`, so a
reward is implied by a policy, :math:`r = \beta \log(\pi / \pi^\text{SFT})` up to a term of
the prompt that cancels in a comparison. Putting that implicit reward into the Bradley-Terry
loss gives DPO's loss (``loss_fn``: :func:`~rlkit.rlhf.losses.dpo_loss`) on the labeller's
pairs: no reward model, no sampling, a supervised loss over fixed data.

The data are the reward model's: with the same ``seed``, ``n_prompts``, ``k`` and task,
:func:`train_dpo` draws exactly the rankings that
:func:`~rlkit.rlhf.reward_model.train_reward_model` trains on, and takes all K(K-1)/2
comparisons of a prompt in the same batch (:class:`~rlkit.rlhf.reward_model.PairBatcher`).
At the first step the policy is the reference, so the loss is exactly ln 2.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from rlkit.nets import torch_threads
from rlkit.rlhf.evaluation import SampleStats, evaluate_policy
from rlkit.rlhf.losses import dpo_loss, preference_accuracy, ranking_pairs, sequence_log_probs
from rlkit.rlhf.model import CausalLM, RewardModel, response_mask
from rlkit.rlhf.reward_model import PairBatcher, pair_indices
from rlkit.rlhf.task import TaskConfig, make_preference_data, sample_prompts
from rlkit.rollouts import check_settings
from rlkit.seeding import seed_everything

__all__ = ["DPOConfig", "DPOHistory", "candidate_log_probs", "train_dpo"]


@dataclass(frozen=True)
class DPOConfig:
    """Settings of :func:`train_dpo`; the defaults train in a few seconds on one CPU thread.

    Example:
        >>> -(-DPOConfig().n_prompts // DPOConfig().batch_size) * DPOConfig().epochs  # steps
        94

    """

    task: TaskConfig = field(default_factory=TaskConfig)
    """The synthetic task (the labeller, the gold reward)."""
    n_prompts: int = 3_000
    """Ranked prompts (the reward model's default: the same rankings for the same seed)."""
    k: int = 4
    """Responses ranked per prompt, K."""
    beta: float = 0.3
    """beta of the implicit reward beta log(pi / pi_SFT): the KL constraint (0.05 to 0.5;
    seed 0, gold reward of the samples: 2.36 at 0.3, 2.16 at the paper's 0.1)."""
    epochs: int = 2
    """Passes over the rankings."""
    batch_size: int = 64
    """Prompts per step (each brings its K(K-1)/2 comparisons)."""
    learning_rate: float = 1e-3
    """Adam's step size (3e-4 to 3e-3)."""
    n_eval_prompts: int = 500
    """Held-out prompts on which the policy's samples are measured after each epoch."""
    torch_threads: int | None = 1
    """torch CPU threads while training (1: fastest for tiny nets, and reproducible)."""

    def __post_init__(self) -> None:
        check_settings(self, at_least_one=("n_prompts", "epochs", "batch_size", "n_eval_prompts"),
                       positive=("beta", "learning_rate"))
        if self.k < 2:
            raise ValueError(f"k must be >= 2 (a ranking compares responses); got {self.k}")


@dataclass
class DPOHistory:
    """What :func:`train_dpo` records."""

    losses: list[float] = field(default_factory=list)
    """``loss_fn`` of every step (ln 2 at the first: the policy is the reference)."""
    reward_accuracies: list[float] = field(default_factory=list)
    """Per step, how often the implicit reward beta log(pi / pi_SFT) ranks the batch's pairs
    as the labeller did (before the step)."""
    evaluations: list[SampleStats] = field(default_factory=list)
    """Samples of the policy on the held-out prompts, before training and after each epoch
    (proxy: the reward model's score if one was given, else NaN)."""
    seconds: float = 0.0
    """Wall time of the training loop."""
    config: DPOConfig = field(default_factory=DPOConfig)
    """The settings used."""

    @property
    def final(self) -> SampleStats:
        """The last evaluation."""
        return self.evaluations[-1]


def candidate_log_probs(
    model: CausalLM,
    prompts: torch.Tensor,
    responses: torch.Tensor,
    log_probs_fn: Callable[..., torch.Tensor] = sequence_log_probs,
) -> torch.Tensor:
    r""":math:`\log\pi(y|x)` of K responses ``(n, k, T)`` per prompt ``(n, P)``: ``(n, k)``."""
    n, k, width = responses.shape
    flat = responses.reshape(n * k, width)
    logits = model.response_logits(prompts.repeat_interleave(k, dim=0), flat)
    log_probs = log_probs_fn(logits, flat, response_mask(flat).float())
    if not torch.is_tensor(log_probs) or tuple(log_probs.shape) != (n * k,):
        got = tuple(log_probs.shape) if torch.is_tensor(log_probs) else type(log_probs).__name__
        raise ValueError(f"log_probs_fn must return a tensor of shape ({n * k},); got {got}")
    return log_probs.reshape(n, k)


def train_dpo(
    sft_model: CausalLM,
    config: DPOConfig = DPOConfig(),  # noqa: B008 (frozen, so a safe default)
    *,
    seed: int,
    loss_fn: Callable[..., torch.Tensor] = dpo_loss,
    log_probs_fn: Callable[..., torch.Tensor] = sequence_log_probs,
    pairs_fn: Callable[..., object] = ranking_pairs,
    reward_model: RewardModel | None = None,
    progress: bool = False,
) -> tuple[CausalLM, DPOHistory]:
    r"""Train a copy of ``sft_model`` with DPO on the labeller's rankings.

    Args:
        sft_model: The reference :math:`\pi^\text{SFT}` and the starting policy (not changed).
        config: Settings.
        seed: Seeds the rankings (the reward model's for the same seed), the batch order, the
            evaluation prompts and samples: same seed, same history.
        loss_fn: :func:`~rlkit.rlhf.losses.dpo_loss`; float32 tensors ``(N,)`` of the
            policy's and the reference's chosen and rejected log-probs, and ``beta``.
        log_probs_fn: :func:`~rlkit.rlhf.losses.sequence_log_probs`.
        pairs_fn: :func:`~rlkit.rlhf.losses.ranking_pairs`.
        reward_model: Only to report the proxy reward of the evaluations (DPO never uses it).
        progress: Show a tqdm progress bar over steps.

    Returns:
        The DPO policy (in eval mode) and its :class:`DPOHistory`.

    Example:
        >>> torch.manual_seed(0) and None
        >>> config = DPOConfig(n_prompts=64, epochs=1, n_eval_prompts=16)
        >>> policy, history = train_dpo(CausalLM(13), config, seed=0)
        >>> round(history.losses[0], 4), len(history.evaluations)
        (0.6931, 2)

    """
    with torch_threads(config.torch_threads):
        rng = seed_everything(seed)
        task = config.task
        data = make_preference_data(config.n_prompts, config.k, task, rng)  # = the RM's
        eval_prompts = sample_prompts(config.n_eval_prompts, task, rng)
        batcher = PairBatcher(*pair_indices(data.rankings, pairs_fn))
        prompts_t, responses_t = torch.as_tensor(data.prompts), torch.as_tensor(data.responses)
        with torch.no_grad():  # the reference's log-probs: constants, computed once
            ref_log_probs = candidate_log_probs(sft_model, prompts_t, responses_t)
        policy = copy.deepcopy(sft_model).train()
        for parameter in policy.parameters():
            parameter.requires_grad_(True)
        optimizer = torch.optim.Adam(policy.parameters(), lr=config.learning_rate)
        history = DPOHistory(config=config)

        def evaluate(epoch: int) -> None:
            policy.eval()
            stats, _ = evaluate_policy(policy, sft_model, reward_model, eval_prompts, task,
                                       seed=seed + 1 + epoch)
            history.evaluations.append(stats)
            policy.train()

        evaluate(0)
        steps_per_epoch = -(-config.n_prompts // config.batch_size)
        start = time.perf_counter()
        with tqdm(total=config.epochs * steps_per_epoch, desc="DPO", disable=not progress) as bar:
            for epoch in range(config.epochs):
                order = rng.permutation(config.n_prompts)
                for step in range(steps_per_epoch):
                    batch = order[step * config.batch_size:(step + 1) * config.batch_size]
                    pairs, local = batcher.of(batch)
                    chosen = torch.as_tensor(batcher.chosen[pairs])
                    rejected = torch.as_tensor(batcher.rejected[pairs])
                    log_probs = candidate_log_probs(policy, prompts_t[batch], responses_t[batch],
                                                    log_probs_fn)
                    ref = ref_log_probs[torch.as_tensor(batch)]
                    loss = loss_fn(log_probs[local, chosen], log_probs[local, rejected],
                                   ref[local, chosen], ref[local, rejected], config.beta)
                    if not torch.is_tensor(loss) or loss.ndim != 0:
                        raise ValueError(f"loss_fn must return a scalar tensor; got {loss!r}")
                    margin = (log_probs - ref).detach()
                    history.reward_accuracies.append(
                        preference_accuracy(margin[local, chosen], margin[local, rejected]))
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    history.losses.append(loss.item())
                    bar.update(1)
                evaluate(epoch + 1)
        history.seconds = time.perf_counter() - start
        return policy.eval(), history
