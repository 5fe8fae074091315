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
- :mod:`~rlkit.rlhf.policy`: RL against the reward model with the per-token KL penalty
  (REINFORCE, RLOO, PPO, REBEL) and the over-optimisation sweep over beta.
- :mod:`~rlkit.rlhf.dpo`: DPO on the same rankings; :mod:`~rlkit.rlhf.best_of_n`: best-of-n
  sampling and its exact KL.
- :mod:`~rlkit.rlhf.evaluation`: proxy and gold reward, KL to SFT, length, repeats, the win
  rate against SFT; :mod:`~rlkit.rlhf.cli`: ``python -m rlkit rlhf STAGE``.
"""

from __future__ import annotations

from rlkit.rlhf import (
    best_of_n,
    dpo,
    evaluation,
    losses,
    model,
    policy,
    reward_model,
    sft,
    task,
)

__all__ = ["best_of_n", "dpo", "evaluation", "losses", "model", "policy", "reward_model", "sft",
           "task"]
