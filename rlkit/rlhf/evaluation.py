r"""Measuring a policy of the RLHF stack: proxy and gold reward, KL to SFT, the spurious feature.

Every stage after the reward model (RL, DPO, best-of-n) is judged by the same figures, on
responses sampled from the policy:

- the *proxy* reward: the learned reward model's score :math:`r_\theta(x, y)`, what the
  optimiser sees;
- the *gold* reward :math:`g(x, y)` (:func:`rlkit.rlhf.task.gold_reward`), the hidden human,
  which the optimiser never sees;
- :math:`\mathrm{KL}(\pi \,\|\, \pi^\text{SFT})`, estimated by the mean over sampled responses
  of :math:`\sum_t \log\pi(y_t|\cdot) - \log\pi^\text{SFT}(y_t|\cdot)` (unbiased, since the
  responses come from :math:`\pi`; Gao et al. 2022 plot rewards against its square root);
- the response length, the repeats and the off-topic tokens: what a hacked policy pads with.

:func:`win_rate` is lecture 003's figure: how often a method's response beats the SFT
response to the same prompt under the gold reward.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from rlkit.rlhf.model import CausalLM, RewardModel, Samples, sample_responses
from rlkit.rlhf.task import (
    EOS,
    FIRST_CONTENT,
    TaskConfig,
    answer_of,
    gold_reward,
    gold_terms,
    response_lengths,
)

__all__ = ["Rollout", "SampleStats", "describe", "evaluate_policy", "rollout", "sample_stats",
           "win_rate"]


class Rollout(NamedTuple):
    """Responses sampled from a policy, scored by the reward model and the reference."""

    prompts: torch.Tensor
    """``(B, P)`` the prompts (a prompt repeated k times for k samples)."""
    samples: Samples
    """The responses, their mask and their per-token log-probs under the sampling policy."""
    ref_log_probs: torch.Tensor
    """``(B, T)`` per-token log-probs of the same tokens under the reference (SFT) policy."""
    scores: torch.Tensor
    """``(B,)`` reward-model scores :math:`r_\\theta(x, y)`."""


class SampleStats(NamedTuple):
    """Means over a batch of sampled responses."""

    proxy: float
    """Reward-model score (NaN when measured without a reward model)."""
    gold: float
    """Gold reward (the hidden human)."""
    kl: float
    """Summed per-token log-ratio to the reference: the KL(pi || pi_SFT) estimate, in nats."""
    length: float
    """Tokens up to and including EOS."""
    repeats: float
    """Repetitions of a token already in the response (the gold reward punishes each)."""
    off_topic: float
    """Distinct tokens that answer no prompt token (the gold reward punishes each)."""


@torch.no_grad()
def rollout(
    model: CausalLM,
    ref_model: CausalLM,
    reward_model: RewardModel | None,
    prompts: torch.Tensor,
    max_len: int,
    generator: torch.Generator,
) -> Rollout:
    r"""Sample one response per row of ``prompts`` from ``model`` and score it.

    Args:
        model: The policy being trained (or evaluated).
        ref_model: The reference :math:`\pi^\text{SFT}`.
        reward_model: The learned reward :math:`r_\theta` (None: the scores are NaN).
        prompts: ``(B, P)`` prompts.
        max_len: Response width T.
        generator: The sampling noise.

    Returns:
        A :class:`Rollout`.

    """
    samples = sample_responses(model, prompts, max_len, generator)
    ref_log_probs = ref_model.log_probs(prompts, samples.responses)
    scores = (torch.full((len(prompts),), float("nan")) if reward_model is None
              else reward_model(prompts, samples.responses))
    return Rollout(prompts, samples, ref_log_probs, scores)


def sample_stats(batch: Rollout, task: TaskConfig) -> SampleStats:
    """The :class:`SampleStats` of a :class:`Rollout` (the KL from its own log-probs)."""
    prompts, responses = batch.prompts.numpy(), batch.samples.responses.numpy()
    terms = gold_terms(prompts, responses, task)
    log_ratio = (batch.samples.log_probs - batch.ref_log_probs).sum(dim=1)
    return SampleStats(
        proxy=float(batch.scores.mean()),
        gold=float(gold_reward(prompts, responses, task).mean()),
        kl=float(log_ratio.mean()),
        length=float(response_lengths(responses).mean()),
        repeats=float(terms.repeats.mean()),
        off_topic=float(terms.off_topic.mean()),
    )


def evaluate_policy(
    model: CausalLM,
    ref_model: CausalLM,
    reward_model: RewardModel | None,
    prompts: np.ndarray,
    task: TaskConfig,
    seed: int,
) -> tuple[SampleStats, np.ndarray]:
    """Sample one response per prompt (seeded) and measure them.

    Returns:
        The :class:`SampleStats` and the ``(n, T)`` responses (for :func:`win_rate`).

    """
    batch = rollout(model, ref_model, reward_model, torch.as_tensor(prompts),
                    task.max_response_len, torch.Generator().manual_seed(seed))
    return sample_stats(batch, task), batch.samples.responses.numpy()


def win_rate(
    prompts: np.ndarray,
    responses: np.ndarray,
    baseline_responses: np.ndarray,
    task: TaskConfig = TaskConfig(),  # noqa: B008 (frozen)
) -> float:
    """Fraction of prompts whose response beats the baseline's under the gold reward.

    A tie counts 1/2 (the gold reward takes few values, so ties are common: a method that
    changes nothing scores 0.5, not 0), as the lecture's win rates judged by a labeller who
    must pick one would.

    Args:
        prompts: ``(n, P)`` prompts.
        responses: ``(n, T)`` the method's response to each.
        baseline_responses: ``(n, T)`` the baseline's (SFT's) response to the same prompts.
        task: The task (the gold reward's penalties).

    Returns:
        The win rate in [0, 1].

    Example:
        >>> prompts = np.array([[0, 0, 3, 4]] * 2)  # answers 8 and 9
        >>> win_rate(prompts, np.array([[8, 9, 1], [8, 1, 0]]), np.array([[8, 1, 0]] * 2))
        0.75

    """
    gap = gold_reward(prompts, responses, task) - gold_reward(prompts, baseline_responses, task)
    return float(((gap > 0) + 0.5 * (gap == 0)).mean())


def describe(
    prompt: np.ndarray,
    response: np.ndarray,
    task: TaskConfig = TaskConfig(),  # noqa: B008 (frozen)
) -> str:
    """One line for a prompt and a response: content tokens as letters, the gold reward.

    Content token ``FIRST_CONTENT + i`` prints as the i-th letter; the answers the prompt
    wants follow the arrow.

    Example:
        >>> describe(np.array([0, 0, 3, 4]), np.array([8, 9, 9, 5, 1, 0, 0, 0]))
        'a b -> f g | f g g c <eos> | gold 0.50'

    """
    def letters(tokens: np.ndarray) -> list[str]:
        return [chr(ord("a") + int(token) - FIRST_CONTENT) for token in tokens]

    prompt, response = np.asarray(prompt), np.asarray(response)
    asked = prompt[prompt >= FIRST_CONTENT]
    ended = int(np.argmax(response == EOS)) if (response == EOS).any() else len(response)
    said = letters(response[:ended]) + (["<eos>"] if ended < len(response) else ["<cut>"])
    gold = float(gold_reward(prompt[None], response[None], task)[0])
    return (f"{' '.join(letters(asked))} -> {' '.join(letters(answer_of(asked, task)))} | "
            f"{' '.join(said)} | gold {gold:.2f}")
