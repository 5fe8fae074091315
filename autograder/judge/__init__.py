"""Check specs for every graded student function, and the ``check`` a test cell calls.

Each notebook topic has a module here (``mdps`` for notebook 01, ``bellman`` for 02, ...;
two for 05) that registers its specs on import; a spec's name starts with its topic.
``load_all`` imports them all.
"""

from __future__ import annotations

import importlib

from autograder.judge.core import (
    CHECK_MIME,
    Bug,
    Case,
    CheckFailed,
    CheckReport,
    CheckSpec,
    all_specs,
    check,
    get_spec,
    is_grading,
    is_nbgrader,
    run_check,
)

#: the spec modules, one per notebook topic.
#: (notebook 01 has two: ``mdps`` and ``mdps_sampling``, the checks that sample episodes;
#: notebook 02 two: ``bellman``, the backups, and ``bellman_qlearning``, tabular Q-learning;
#: notebook 05 two: ``actor_critic``, its weightings, and ``a2c``, its critic and A2C;
#: notebook 06 two: ``ppo``, the exact surrogate, and ``ppo_clip``, PPO-Clip's pieces;
#: notebook 07 two: ``rlhf``, the reward model's pieces, and ``rlhf_policy``, the RL, DPO and
#: REBEL pieces)
SPEC_MODULES = ("mdps", "mdps_sampling", "bellman", "bellman_qlearning", "dqn", "reinforce",
                "actor_critic", "a2c", "ppo", "ppo_clip", "rlhf", "rlhf_policy")


def load_all() -> None:
    """Import every spec module so that its specs are registered."""
    for module in SPEC_MODULES:
        importlib.import_module(f"autograder.judge.specs.{module}")


__all__ = [
    "Bug",
    "Case",
    "CHECK_MIME",
    "CheckFailed",
    "CheckReport",
    "CheckSpec",
    "SPEC_MODULES",
    "all_specs",
    "check",
    "get_spec",
    "is_grading",
    "is_nbgrader",
    "load_all",
    "run_check",
]
