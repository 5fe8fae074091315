"""rlkit.rollouts: the on-policy loop A2C and PPO share.

A2C's histories were recorded before its rollout code moved into :mod:`rlkit.rollouts`
(``tests/data/a2c_history_before_rollouts.npz``); the same seeded runs must give them back
exactly. The truncation, termination and clipping checks on tiny envs run through A2C
(``tests/test_a2c.py``) and PPO (``tests/test_ppo.py``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.wrappers import TimeLimit

from rlkit import rollouts
from rlkit.agents import a2c

BEFORE = Path(__file__).parent / "data" / "a2c_history_before_rollouts.npz"

#: The runs recorded in BEFORE (with rlkit's A2C as of commit 515e08e).
RECORDED_RUNS = {
    "cartpole": (dict(total_steps=3_000, eval_interval=1_000, eval_episodes=2), "CartPole-v1", 7),
    "pendulum": (dict(total_steps=2_000, eval_interval=1_000, eval_episodes=2), "Pendulum-v1", 3),
    "td": (dict(total_steps=1_000, advantage="td_error", normalize_advantages=True,
                eval_interval=500, eval_episodes=2, target_return=60.0), "CartPole-v1", 1),
}

#: The presets the runs were recorded with: CartPole-v1's was then A2CConfig()'s defaults.
RECORDED_SETTINGS = {"CartPole-v1": a2c.A2CConfig(), "Pendulum-v1": a2c.PRESETS["Pendulum-v1"]}


@pytest.mark.parametrize("name", sorted(RECORDED_RUNS))
def test_a2c_histories_are_unchanged_by_the_shared_rollouts(name):
    overrides, env_id, seed = RECORDED_RUNS[name]
    history = a2c.train(dataclasses.replace(RECORDED_SETTINGS[env_id], **overrides), seed=seed)
    recorded = np.load(BEFORE)
    # the same run, up to the last bits of float32 arithmetic: another CPU's vector units sum in
    # another order (measured: 6.5e-7 relative in the returns, 3e-5 in the last of 32
    # Pendulum losses, the drift of 32 updates), and the episodes stay the same
    for field in ("episode_lengths", "episode_end_steps"):
        np.testing.assert_array_equal(getattr(history, field), recorded[f"{name}/{field}"],
                                      err_msg=field)
    for field in ("episode_returns", "losses", "value_losses", "entropies"):
        np.testing.assert_allclose(getattr(history, field), recorded[f"{name}/{field}"],
                                   rtol=1e-4, atol=1e-6, err_msg=field)
    evaluations = np.array([e[:3] for e in history.evaluations], dtype=np.float64)
    np.testing.assert_allclose(evaluations, recorded[f"{name}/evaluations"], rtol=1e-5)


class Count(gym.Env):
    """obs = [t]; reward t; never terminates (wrap in a TimeLimit)."""

    observation_space = gym.spaces.Box(0.0, 100.0, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0], np.float32), {}

    def step(self, action):
        self.t += 1
        return np.array([float(self.t)], np.float32), float(self.t), False, False, {}


def test_the_collector_keeps_final_observations_and_the_episodes():
    envs = rollouts.make_vector_env(lambda: TimeLimit(Count(), 3), 2, seed=0, agent="test")
    collector = rollouts.RolloutCollector(envs, n_steps=4, seed=0)
    policy, _ = rollouts.make_networks(envs.single_observation_space, envs.single_action_space,
                                       (4,), (4,), log_std_init=0.0)
    rollout = collector.collect(policy, torch.Generator().manual_seed(0))
    envs.close()
    np.testing.assert_array_equal(rollout.obs[:, 0, 0], [0, 1, 2, 0])
    np.testing.assert_array_equal(rollout.next_obs[:, 0, 0], [1, 2, 3, 1])  # [3]: final_obs
    np.testing.assert_array_equal(rollout.truncated[:, 0], [0, 0, 1, 0])
    assert not rollout.terminated.any()
    assert collector.episode_returns == [6.0, 6.0] and collector.episode_end_steps == [6, 6]
    assert collector.step == 8


def test_spaces_the_agents_cannot_handle_are_refused():
    with pytest.raises(ValueError, match="PPO needs a Box observation space"):
        rollouts.make_vector_env("FrozenLake-v1", 2, seed=0, agent="PPO")


def test_a_piece_of_the_wrong_shape_is_reported():
    with pytest.raises(ValueError, match=r"gae_fn returned shape \(6,\) for a rollout of shape"):
        rollouts.rollout_result(np.zeros(6), "gae_fn", (2, 3))
