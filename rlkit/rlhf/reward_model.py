r"""Step 2 of lecture 001's RLHF workflow: a reward model from rankings of K responses.

"A labeler ranks the outputs from best to worst. This data is used to train our reward
model." Each ranking of K responses gives K(K-1)/2 comparisons (``pairs_fn``:
:func:`~rlkit.rlhf.losses.ranking_pairs`), and the reward model
:math:`r_\theta` (:class:`~rlkit.rlhf.model.RewardModel`) minimises the Bradley-Terry loss
over them (``loss_fn``: :func:`~rlkit.rlhf.losses.bradley_terry_loss`),

.. math:: \text{loss}(\theta) = -\frac{1}{\binom K2} \mathbb{E}_{(x, y_w, y_l)}
    \big[\log\sigma(r_\theta(x, y_w) - r_\theta(x, y_l))\big].

As in InstructGPT, all the comparisons of one prompt sit in the same batch: each response is
scored once and its score enters all of its K - 1 comparisons (cheaper, and the comparisons of
a prompt, which are correlated, never spread over many steps).

The held-out accuracy is measured on fresh rankings from the same labeller, next to the
best accuracy any model can reach on them (:func:`~rlkit.rlhf.task.preference_ceiling`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from rlkit.nets import torch_threads
from rlkit.rlhf.losses import bradley_terry_loss, preference_accuracy, ranking_pairs
from rlkit.rlhf.model import CausalLM, RewardModel
from rlkit.rlhf.task import (
    PreferenceData,
    TaskConfig,
    chosen_longer_fraction,
    make_preference_data,
    preference_ceiling,
)
from rlkit.rollouts import check_settings
from rlkit.schedules import linear_schedule
from rlkit.seeding import seed_everything

__all__ = [
    "PairBatcher",
    "RewardModelConfig",
    "RewardModelHistory",
    "evaluate_reward_model",
    "pair_indices",
    "score_responses",
    "train_reward_model",
]


@dataclass(frozen=True)
class RewardModelConfig:
    """Settings of :func:`train_reward_model`; the defaults reach ~95 % of the ceiling fast.

    Example:
        >>> RewardModelConfig().k * (RewardModelConfig().k - 1) // 2  # comparisons per prompt
        6

    """

    task: TaskConfig = field(default_factory=TaskConfig)
    """The synthetic task (vocabulary, the labeller's noise beta_h)."""
    n_prompts: int = 3_000
    """Ranked prompts to train on."""
    k: int = 4
    """Responses ranked per prompt, K (InstructGPT: 4 to 9)."""
    n_held_out_prompts: int = 1_000
    """Ranked prompts kept out of training, on which the accuracy is measured."""
    epochs: int = 7
    """Passes over the training rankings."""
    batch_size: int = 64
    """Prompts per gradient step (each brings its K(K-1)/2 comparisons)."""
    learning_rate: float = 1e-2
    """Adam's step size at the first step (3e-3 to 1e-2)."""
    final_learning_rate: float | None = 0.0
    """The step size decays linearly to this over the run (None: constant); the late, small
    steps settle the scores instead of shaking them."""
    embed_dim: int = 32
    """Width of the token embedding (ignored when starting from an SFT model)."""
    hidden_size: int = 64
    """Width of the GRU's state (ignored when starting from an SFT model)."""
    torch_threads: int | None = 1
    """torch CPU threads while training (1: fastest for tiny nets, and reproducible)."""

    def __post_init__(self) -> None:
        check_settings(self, at_least_one=("n_prompts", "n_held_out_prompts", "epochs",
                                           "batch_size", "embed_dim", "hidden_size"),
                       positive=("learning_rate",), non_negative=("final_learning_rate",),
                       optional=("final_learning_rate",))
        if self.k < 2:
            raise ValueError(f"k must be >= 2 (a ranking compares responses); got {self.k}")


@dataclass
class RewardModelHistory:
    """What :func:`train_reward_model` records."""

    losses: list[float] = field(default_factory=list)
    """Training loss of every step."""
    held_out_accuracy: list[float] = field(default_factory=list)
    """Accuracy on the held-out comparisons before training, then after each epoch."""
    ceiling: float = 0.0
    """The best expected accuracy on the held-out comparisons (that of the labeller's own
    utility, :func:`~rlkit.rlhf.task.labeller_utility`)."""
    train_chosen_longer: float = 0.5
    """In the training comparisons, how often the chosen response is the longer one."""
    seconds: float = 0.0
    """Wall time of the training loop."""

    @property
    def fraction_of_ceiling(self) -> float:
        """Final held-out accuracy over the ceiling."""
        return self.held_out_accuracy[-1] / self.ceiling


def pair_indices(
    rankings: np.ndarray, pairs_fn: Callable[..., Any] = ranking_pairs
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All comparisons of ``rankings`` ``(n, k)`` as flat ``(prompt, chosen, rejected)`` arrays."""
    prompt, chosen, rejected = [], [], []
    for row, ranking in enumerate(np.asarray(rankings)):
        for winner, loser in pairs_fn(ranking):
            prompt.append(row)
            chosen.append(int(winner))
            rejected.append(int(loser))
    return (np.asarray(prompt, dtype=np.int64), np.asarray(chosen, dtype=np.int64),
            np.asarray(rejected, dtype=np.int64))


class PairBatcher:
    """The comparisons of a batch of prompts, all of a prompt's together (as InstructGPT).

    Built once from the flat ``(prompt, chosen, rejected)`` arrays of :func:`pair_indices`;
    :meth:`of` returns, for a batch of prompt rows, which flat comparisons it holds and the
    row of each inside the batch, so that each response is scored once per step.

    Example:
        >>> batcher = PairBatcher(*pair_indices(np.array([[0, 1], [1, 0], [0, 1]])))
        >>> pairs, local = batcher.of(np.array([2, 0]))
        >>> pairs.tolist(), local.tolist()
        ([2, 0], [0, 1])

    """

    def __init__(self, prompt: np.ndarray, chosen: np.ndarray, rejected: np.ndarray) -> None:
        """Index the comparisons by prompt (arrays as :func:`pair_indices` returns them)."""
        if len(prompt) == 0:
            raise ValueError("pairs_fn returned no comparisons for any training ranking")
        self.prompt, self.chosen, self.rejected = prompt, chosen, rejected
        groups = np.split(np.arange(len(prompt)), np.flatnonzero(np.diff(prompt)) + 1)
        self._pairs_of_prompt = {int(prompt[group[0]]): group for group in groups}

    def of(self, batch: np.ndarray) -> tuple[np.ndarray, torch.Tensor]:
        """The flat indices of ``batch``'s comparisons and the batch row of each."""
        where = {int(row): local for local, row in enumerate(batch)}
        pairs = np.concatenate([self._pairs_of_prompt.get(int(row), np.zeros(0, np.int64))
                                for row in batch]).astype(np.int64)
        local = torch.as_tensor([where[int(row)] for row in self.prompt[pairs]],
                                dtype=torch.long)
        return pairs, local


def score_responses(
    reward_model: RewardModel, prompts: torch.Tensor, responses: torch.Tensor
) -> torch.Tensor:
    """Scores ``(n, k)`` of K responses ``(n, k, T)`` per prompt ``(n, P)``."""
    n, k, width = responses.shape
    scores = reward_model(prompts.repeat_interleave(k, dim=0), responses.reshape(n * k, width))
    return scores.reshape(n, k)


@torch.no_grad()
def evaluate_reward_model(
    reward_model: RewardModel,
    data: PreferenceData,
    pairs_fn: Callable[..., Any] = ranking_pairs,
    accuracy_fn: Callable[..., float] = preference_accuracy,
) -> float:
    """Accuracy of ``reward_model`` on all the comparisons of ``data``'s rankings.

    ``pairs_fn`` and ``accuracy_fn`` have the signatures of
    :func:`~rlkit.rlhf.losses.ranking_pairs` and :func:`~rlkit.rlhf.losses.preference_accuracy`
    (a notebook passes its own: rlkit's are withheld while notebook 07 is graded).
    """
    scores = score_responses(reward_model, torch.as_tensor(data.prompts),
                             torch.as_tensor(data.responses))
    prompt, chosen, rejected = pair_indices(data.rankings, pairs_fn)
    return float(accuracy_fn(scores[prompt, chosen], scores[prompt, rejected]))


def train_reward_model(
    config: RewardModelConfig = RewardModelConfig(),  # noqa: B008 (frozen, so a safe default)
    *,
    seed: int,
    pairs_fn: Callable[..., Any] = ranking_pairs,
    loss_fn: Callable[..., torch.Tensor] = bradley_terry_loss,
    accuracy_fn: Callable[..., float] = preference_accuracy,
    init: CausalLM | None = None,
    progress: bool = False,
) -> tuple[RewardModel, RewardModelHistory]:
    """Train a reward model on the labeller's rankings and measure it on held-out rankings.

    Args:
        config: Settings.
        seed: Seeds the data (prompts, candidates, the labeller's noise), the initial weights
            and the batch order: same seed, same history.
        pairs_fn: Same signature as :func:`~rlkit.rlhf.losses.ranking_pairs`; it turns each
            ranking (an int64 array of K indices) into comparisons, for training and for the
            held-out accuracy.
        loss_fn: Same signature as :func:`~rlkit.rlhf.losses.bradley_terry_loss`; it receives
            float32 tensors ``(N,)`` of the batch's chosen and rejected scores.
        accuracy_fn: Same signature as :func:`~rlkit.rlhf.losses.preference_accuracy`: the
            held-out accuracy of the history (rlkit's own are withheld while notebook 07 is
            graded, so a notebook passes its three functions).
        init: An SFT model whose trunk the reward model starts from (None: fresh weights).
        progress: Show a tqdm progress bar over gradient steps.

    Returns:
        The reward model (in eval mode) and its :class:`RewardModelHistory`.

    Example:
        >>> config = RewardModelConfig(n_prompts=64, n_held_out_prompts=64, epochs=1)
        >>> reward_model, history = train_reward_model(config, seed=0)
        >>> len(history.losses), len(history.held_out_accuracy)  # 64 prompts per step
        (1, 2)

    """
    with torch_threads(config.torch_threads):
        rng = seed_everything(seed)
        task = config.task
        train = make_preference_data(config.n_prompts, config.k, task, rng)
        held_out = make_preference_data(config.n_held_out_prompts, config.k, task, rng)
        if init is None:
            reward_model = RewardModel(task.vocab_size, config.embed_dim, config.hidden_size)
        else:
            reward_model = RewardModel.from_language_model(init)
        history = RewardModelHistory(ceiling=preference_ceiling(held_out.utility, task.human_beta))
        batcher = PairBatcher(*pair_indices(train.rankings, pairs_fn))
        prompt, chosen, rejected = batcher.prompt, batcher.chosen, batcher.rejected
        history.train_chosen_longer = chosen_longer_fraction(
            train.responses[prompt, chosen], train.responses[prompt, rejected])
        prompts_t, responses_t = torch.as_tensor(train.prompts), torch.as_tensor(train.responses)
        optimizer = torch.optim.Adam(reward_model.parameters(), lr=config.learning_rate)
        history.held_out_accuracy.append(
            evaluate_reward_model(reward_model, held_out, pairs_fn, accuracy_fn))
        steps_per_epoch = -(-config.n_prompts // config.batch_size)
        final = config.final_learning_rate
        learning_rate = linear_schedule(config.learning_rate,
                                        config.learning_rate if final is None else final,
                                        config.epochs * steps_per_epoch)
        start = time.perf_counter()
        bar = tqdm(total=config.epochs * steps_per_epoch, desc="reward model",
                   disable=not progress)
        with bar:
            for _ in range(config.epochs):
                reward_model.train()
                order = rng.permutation(config.n_prompts)
                for step in range(steps_per_epoch):
                    batch = order[step * config.batch_size:(step + 1) * config.batch_size]
                    scores = score_responses(reward_model, prompts_t[batch], responses_t[batch])
                    pairs, local = batcher.of(batch)
                    loss = loss_fn(scores[local, torch.as_tensor(chosen[pairs])],
                                   scores[local, torch.as_tensor(rejected[pairs])])
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    for group in optimizer.param_groups:
                        group["lr"] = learning_rate(len(history.losses) + 1)
                    history.losses.append(loss.item())
                    bar.update(1)
                reward_model.eval()
                history.held_out_accuracy.append(
                    evaluate_reward_model(reward_model, held_out, pairs_fn, accuracy_fn))
        history.seconds = time.perf_counter() - start
        return reward_model.eval(), history
