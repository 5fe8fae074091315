"""Gymnasium environments shipped with rlkit; importing this package registers them.

Example:
    >>> import gymnasium as gym
    >>> import rlkit.envs
    >>> env = gym.make("rlkit/GridWorld-v0")
    >>> env.observation_space, env.action_space
    (Discrete(12), Discrete(4))

"""

from __future__ import annotations

import gymnasium

from rlkit.envs.gridworld import ACTIONS, LECTURE_LAYOUT, GridWorld

__all__ = ["ACTIONS", "LECTURE_LAYOUT", "REGISTERED_ENV_IDS", "GridWorld"]

#: Every env id registered by rlkit (tests run ``check_env`` over all of them).
REGISTERED_ENV_IDS: tuple[str, ...] = ("rlkit/GridWorld-v0",)

# Guard: re-importing (e.g. importlib.reload in a notebook) must not register twice.
if "rlkit/GridWorld-v0" not in gymnasium.registry:
    gymnasium.register(
        id="rlkit/GridWorld-v0",
        entry_point="rlkit.envs.gridworld:GridWorld",
        max_episode_steps=100,
    )
