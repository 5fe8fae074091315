r"""Best-of-n sampling: draw n responses from the SFT model, keep the reward model's favourite.

The simplest way to optimise against a reward model, with no training at all, and the
baseline of Gao, Schulman and Hilton (2022): its KL to the SFT policy is known exactly,

.. math:: \mathrm{KL}(\pi_{\text{BoN}} \,\|\, \pi^\text{SFT}) = \log n - \frac{n - 1}{n}

(Stiennon et al. 2020, appendix; exact when the n responses' scores are distinct, an upper
bound otherwise), so the best-of-n curve sits on the same sqrt(KL) axis as the RL runs.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from rlkit.rlhf.evaluation import Rollout, SampleStats, rollout, sample_stats
from rlkit.rlhf.model import CausalLM, RewardModel, Samples
from rlkit.rlhf.task import TaskConfig

__all__ = ["best_of_n", "best_of_n_kl"]


def best_of_n_kl(n: int) -> float:
    """KL(best-of-n || SFT) in nats: ``log n - (n - 1) / n``.

    Example:
        >>> best_of_n_kl(1), round(best_of_n_kl(4), 4)
        (0.0, 0.6363)

    """
    if not (isinstance(n, int | np.integer) and n >= 1):
        raise ValueError(f"n must be an integer >= 1; got {n!r}")
    return math.log(n) - (n - 1) / n


@torch.no_grad()
def best_of_n(
    sft_model: CausalLM,
    reward_model: RewardModel,
    prompts: np.ndarray,
    n: int,
    task: TaskConfig = TaskConfig(),  # noqa: B008 (frozen)
    seed: int = 0,
) -> tuple[SampleStats, np.ndarray]:
    """For each prompt, the highest-scoring of ``n`` SFT samples, and their statistics.

    Args:
        sft_model: The policy sampled from.
        reward_model: The learned reward that picks the best.
        prompts: ``(m, P)`` prompts.
        n: Samples per prompt (1: plain SFT sampling).
        task: The task (response width, the gold reward).
        seed: Seeds the sampling.

    Returns:
        The :class:`~rlkit.rlhf.evaluation.SampleStats` of the chosen responses (``kl`` is
        :func:`best_of_n_kl`, exact, not estimated) and the ``(m, T)`` responses.

    Example:
        >>> torch.manual_seed(0) and None
        >>> from rlkit.rlhf.task import sample_prompts
        >>> model, reward_model = CausalLM(13), RewardModel(13)
        >>> stats, responses = best_of_n(model, reward_model, sample_prompts(5, rng=0), n=4)
        >>> responses.shape, round(stats.kl, 4)
        ((5, 8), 0.6363)

    """
    kl = best_of_n_kl(n)
    prompts_t = torch.as_tensor(prompts).repeat_interleave(n, dim=0)
    batch = rollout(sft_model, sft_model, reward_model, prompts_t, task.max_response_len,
                    torch.Generator().manual_seed(seed))
    best = batch.scores.reshape(len(prompts), n).argmax(dim=1) + n * torch.arange(len(prompts))
    samples = batch.samples
    chosen = Rollout(batch.prompts[best], Samples(samples.responses[best], samples.mask[best],
                                                  samples.log_probs[best]),
                     batch.ref_log_probs[best], batch.scores[best])
    return sample_stats(chosen, task)._replace(kl=kl), chosen.samples.responses.numpy()
