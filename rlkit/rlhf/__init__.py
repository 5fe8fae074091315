"""rlkit.rlhf: a CPU-sized RLHF stack for notebook 07 (lecture 001, Part II).

- :mod:`~rlkit.rlhf.task`: the synthetic language task, its hidden gold reward (the human)
  and preference data with Bradley-Terry noise, whose best reachable accuracy is known.
- :mod:`~rlkit.rlhf.losses`: the math pieces (ranking -> pairs, Bradley-Terry loss, accuracy,
  sequence log-probs, KL-penalised rewards, RLOO advantages, DPO and REBEL losses).
- :mod:`~rlkit.rlhf.model`: a GRU causal language model, a reward model on the same trunk,
  sampling of responses with per-token log-probs under a mask.
- :mod:`~rlkit.rlhf.sft`: supervised fine-tuning on the demonstrator's responses.
- :mod:`~rlkit.rlhf.reward_model`: the reward model trained on rankings, measured against the
  ceiling.
"""

from __future__ import annotations

from rlkit.rlhf import losses, model, reward_model, sft, task

__all__ = ["losses", "model", "reward_model", "sft", "task"]
