"""The check specs, one module per notebook part; each registers its specs on import.

A spec's name starts with its topic (``mdps`` for notebook 01, ``bellman`` for 02, ...).
"""

from __future__ import annotations

import importlib

#: the spec modules, by notebook part (01 mdps, mdps_sampling; 02 bellman, bellman_qlearning;
#: 03 dqn, dqn_learning (the five functions in rlkit's trainer); 04 reinforce,
#: reinforce_estimators, reinforce_learning (the loss and its learning run); 05 actor_critic
#: (Q^pi_h) and actor_critic_estimators (the three weightings), a2c and a2c_gaussian (the
#: critic, GAE, A2C); 06 ppo (the exact surrogate), ppo_clip and ppo_update (PPO-Clip's
#: pieces); 07 rlhf (the reward model), rlhf_policy (RL, DPO, REBEL); 08 alphago (the search's
#: pieces and the search), alphago_selfplay (targets, losses and the two learning checks)).
SPEC_MODULES = ("mdps", "mdps_sampling", "bellman", "bellman_qlearning", "dqn", "dqn_learning",
                "reinforce", "reinforce_estimators", "reinforce_learning", "actor_critic",
                "actor_critic_estimators", "a2c", "a2c_gaussian", "ppo", "ppo_clip",
                "ppo_update", "rlhf", "rlhf_policy", "alphago", "alphago_selfplay")


def load_all() -> None:
    """Import every spec module so that its specs are registered."""
    for module in SPEC_MODULES:
        importlib.import_module(f"autograder.judge.specs.{module}")
