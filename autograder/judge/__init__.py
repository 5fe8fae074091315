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
#: (notebook 05 has three: ``actor_critic``, its weightings, ``a2c``, its critic and A2C, and
#: ``a2c_gaussian``, the Gaussian log-prob; notebook 06 three: ``ppo``, the exact surrogate,
#: ``ppo_clip``, PPO-Clip's losses and learning run, and ``ppo_update``, its other pieces;
#: notebook 07 two: ``rlhf``, the reward model's pieces, and ``rlhf_policy``, the RL, DPO and
#: REBEL pieces)
SPEC_MODULES = ("mdps", "bellman", "dqn", "reinforce", "actor_critic", "a2c", "a2c_gaussian",
                "ppo", "ppo_clip", "ppo_update", "rlhf", "rlhf_policy")


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
