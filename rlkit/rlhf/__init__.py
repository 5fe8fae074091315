"""rlkit.rlhf: a CPU-sized RLHF stack for notebook 07 (lecture 001, Part II).

- :mod:`~rlkit.rlhf.task`: the synthetic language task, its hidden gold reward (the human)
  and preference data with Bradley-Terry noise, whose best reachable accuracy is known.
- :mod:`~rlkit.rlhf.losses`: the math pieces (ranking -> pairs, Bradley-Terry loss, accuracy,
  sequence log-probs, KL-penalised rewards, RLOO advantages, DPO and REBEL losses).
"""

from __future__ import annotations

from rlkit.rlhf import losses, task

__all__ = ["losses", "task"]
