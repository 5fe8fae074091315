"""The procedures of notebook 01's checks (MDPs): seeded runs done twice, episodes on GridWorld.

Each returns what the student's function gave, raw, plus what the judge needs to tell a
function that ignores its seed (the second run's output, the states each episode visited);
the judge (:mod:`autograder.judge.specs.mdps`) compares them.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

import rlkit  # noqa: F401 - registers rlkit/GridWorld-v0
from autograder.box.calls import procedure


@procedure("mdps.same_seed_twice")
def twice_run(fn: Any, mdp: Any, policy: np.ndarray, state: int, n_episodes: int,
              seed: int) -> dict[str, Any]:
    """``monte_carlo_value`` twice, each time with a fresh generator of the same ``seed``."""
    first = fn(mdp, policy.copy(), state, n_episodes, np.random.default_rng(seed))
    again = fn(mdp, policy.copy(), state, n_episodes, np.random.default_rng(seed))
    return {"estimate": first, "again": again}


class StrictEpisodes(gym.Wrapper):
    """Raises when ``step`` is called after an episode ended, naming the likely mistake."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self._ended = True
        self.visited: list[int] = []
        """every observation the env returned, to tell two episodes apart"""

    def reset(self, **kwargs):  # noqa: D102
        self._ended = False
        obs, info = self.env.reset(**kwargs)
        self.visited.append(int(obs))
        return obs, info

    def step(self, action):  # noqa: D102
        if self._ended:
            raise RuntimeError(
                "step() was called after the episode ended (or before reset()): stop the loop "
                "when `terminated or truncated` is True, and call env.reset(seed=seed) first."
            )
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._ended = bool(terminated or truncated)
        self.visited.append(int(obs))
        return obs, reward, terminated, truncated, info


def episode_env(max_episode_steps: int, noise: float = 0.2,
                living_reward: float = 0.0) -> StrictEpisodes:
    """A fresh GridWorld with a time limit, strict about steps after an episode's end."""
    return StrictEpisodes(gym.make("rlkit/GridWorld-v0", noise=noise,
                                   living_reward=living_reward,
                                   max_episode_steps=max_episode_steps))


@procedure("mdps.run_episode")
def episode_run(fn: Any, policy: np.ndarray, seed: int, max_episode_steps: int = 100,
                noise: float = 0.2, living_reward: float = 0.0) -> dict[str, Any]:
    """``run_episode`` on two fresh GridWorlds with the same seed.

    Returns the first run's output (``"rewards"``) and the states each env returned
    (``"visited"``, one list per run): two runs with the same seed must visit the same states.
    """
    envs = [episode_env(max_episode_steps, noise, living_reward) for _ in range(2)]
    first = fn(envs[0], policy.copy(), seed)
    fn(envs[1], policy.copy(), seed)
    return {"rewards": first, "visited": [list(env.visited) for env in envs]}
