"""The check specs, one module per notebook part; each registers its specs on import.

A spec's name starts with its topic (``mdps`` for notebook 01, ``bellman`` for 02, ...).
"""

from __future__ import annotations

import importlib

#: the spec modules, one per notebook topic.
#: (notebook 05 has two: ``actor_critic``, its weightings, and ``a2c``, its critic and A2C;
#: notebook 06 two: ``ppo``, the exact surrogate, and ``ppo_clip``, PPO-Clip's pieces;
#: notebook 07 two: ``rlhf``, the reward model's pieces, and ``rlhf_policy``, the RL, DPO and
#: REBEL pieces)
SPEC_MODULES = ("mdps", "mdps_sampling", "bellman", "bellman_qlearning", "dqn", "reinforce",
                "reinforce_estimators", "actor_critic", "a2c", "ppo", "ppo_clip", "rlhf",
                "rlhf_policy")


def load_all() -> None:
    """Import every spec module so that its specs are registered."""
    for module in SPEC_MODULES:
        importlib.import_module(f"autograder.judge.specs.{module}")
