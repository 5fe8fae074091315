"""rlkit.rlhf: a CPU-sized RLHF stack for notebook 07 (lecture 001, Part II).

- :mod:`~rlkit.rlhf.task`: the synthetic language task, its hidden gold reward (the human)
  and preference data with Bradley-Terry noise, whose best reachable accuracy is known.
"""

from __future__ import annotations

from rlkit.rlhf import task

__all__ = ["task"]
