"""Q-learning: epsilon-greedy, the update rule, the schedule and a short seeded learning run."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import pytest

from rlkit import dp
from rlkit.envs.gridworld import GridWorld
from rlkit.qlearning import (
    QLearningConfig,
    epsilon_greedy,
    linear_epsilon,
    q_learning,
    q_learning_update,
)


def test_epsilon_greedy_frequencies():
    rng = np.random.default_rng(0)
    n = 20_000
    actions = np.array(
        [epsilon_greedy(np.array([0.0, 1.0, 0.0, 0.0]), 0.3, rng) for _ in range(n)]
    )
    frequencies = np.bincount(actions, minlength=4) / n
    # P(greedy) = 1 - eps + eps / A = 0.775; each other action eps / A = 0.075.
    # Standard error <= 0.003, so 0.02 is a generous (~7 sigma) bound.
    np.testing.assert_allclose(frequencies, [0.075, 0.775, 0.075, 0.075], atol=0.02)


def test_epsilon_greedy_breaks_ties_at_random():
    rng = np.random.default_rng(1)
    actions = np.array([epsilon_greedy(np.array([2.0, 2.0, 0.0]), 0.0, rng) for _ in range(4000)])
    assert set(actions) == {0, 1}
    assert np.mean(actions == 0) == pytest.approx(0.5, abs=0.05)
    with pytest.raises(ValueError, match="epsilon must be in"):
        epsilon_greedy(np.zeros(2), 1.5, rng)


def test_q_learning_update_returns_new_table():
    q = np.zeros((3, 2))
    q[2] = [4.0, 2.0]
    before = q.copy()
    updated = q_learning_update(
        q, 0, 1, reward=1.0, next_state=2, terminated=False, alpha=0.5, gamma=0.9
    )
    np.testing.assert_array_equal(q, before)  # input untouched
    assert updated is not q
    assert updated[0, 1] == pytest.approx(0.5 * (1.0 + 0.9 * 4.0))
    # Only (s, a) changes.
    mask = np.ones_like(q, dtype=bool)
    mask[0, 1] = False
    np.testing.assert_array_equal(updated[mask], q[mask])


def test_q_learning_update_masks_terminal():
    q = np.zeros((2, 2))
    q[1] = [100.0, 100.0]
    updated = q_learning_update(
        q, 0, 0, reward=1.0, next_state=1, terminated=True, alpha=1.0, gamma=0.9
    )
    assert updated[0, 0] == 1.0  # target is r only


def test_linear_epsilon_schedule():
    config = QLearningConfig(epsilon_start=1.0, epsilon_end=0.1, epsilon_decay_episodes=10)
    assert linear_epsilon(0, config) == 1.0
    assert linear_epsilon(5, config) == pytest.approx(0.55)
    assert linear_epsilon(10, config) == pytest.approx(0.1)
    assert linear_epsilon(500, config) == pytest.approx(0.1)
    instant = QLearningConfig(epsilon_decay_episodes=0, epsilon_end=0.2)
    assert linear_epsilon(0, instant) == 0.2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"alpha": 0.0},
        {"alpha": 1.5},
        {"gamma": -0.1},
        {"epsilon_start": 2.0},
        {"epsilon_end": -0.1},
        {"n_episodes": 0},
        {"max_steps": 0},
        {"epsilon_decay_episodes": -1},
    ],
)
def test_config_validation(kwargs):
    with pytest.raises(ValueError):
        QLearningConfig(**kwargs)


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        QLearningConfig().alpha = 0.5  # type: ignore[misc]


def test_q_learning_learns_the_optimal_path_on_deterministic_gridworld():
    world = GridWorld(noise=0.0, gamma=0.9)
    result = q_learning(world, QLearningConfig(gamma=0.9), seed=0)
    q_star = dp.q_value_iteration(world.mdp).q_values
    v_star = q_star.max(axis=1)
    # Follow the learned greedy policy from the start: every action must be optimal under
    # Q*, and it must reach the +1 exit by the shortest route (5 moves + the exit action).
    state = world.state_index((1, 1))
    rewards = []
    for _ in range(20):
        action = int(np.argmax(result.q_values[state]))
        assert q_star[state, action] == pytest.approx(v_star[state]), world.coords[state]
        state_next = int(np.argmax(world.mdp.P[state, action]))
        rewards.append(world.mdp.R[state, action, state_next])
        state = state_next
        if world.mdp.terminal[state]:
            break
    assert rewards == [0.0] * 5 + [1.0]
    assert result.episode_returns.shape == (500,)
    assert result.episode_returns[-50:].mean() > 0.8  # mostly greedy by then
    assert result.epsilons[0] == 1.0 and result.epsilons[-1] == pytest.approx(0.05)


def test_q_learning_is_reproducible():
    config = QLearningConfig(n_episodes=30)
    first = q_learning(GridWorld(), config, seed=3)
    second = q_learning(GridWorld(), config, seed=3)
    np.testing.assert_array_equal(first.q_values, second.q_values)
    np.testing.assert_array_equal(first.episode_lengths, second.episode_lengths)


def test_truncation_bootstraps_and_termination_does_not():
    seen = []

    def spy(q, state, action, reward, next_state, terminated, alpha, gamma):
        seen.append(terminated)
        return q_learning_update(q, state, action, reward, next_state, terminated, alpha, gamma)

    # One step per episode via the env's own time limit: every update is a truncation.
    env = GridWorld(noise=0.0, max_episode_steps=1)
    result = q_learning(env, QLearningConfig(n_episodes=5), seed=0, update_fn=spy)
    assert seen == [False] * 5
    assert (result.episode_lengths == 1).all()
    # Exiting ends the episode with terminated=True.
    seen.clear()
    gym_env = gym.make("rlkit/GridWorld-v0", layout="S+", noise=0.0)
    q_learning(gym_env, QLearningConfig(n_episodes=20, max_steps=50), seed=0, update_fn=spy)
    assert True in seen


def test_q_learning_rejects_continuous_spaces():
    with pytest.raises(ValueError, match="Discrete observation and action spaces"):
        q_learning(gym.make("CartPole-v1"), seed=0)


def test_q_learning_progress_bar(capsys):
    q_learning(GridWorld(), QLearningConfig(n_episodes=2), seed=0, progress=True)
    assert "Q-learning" in capsys.readouterr().err
