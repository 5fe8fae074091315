"""Returns, trajectories, trajectory probabilities, Monte Carlo values and seeding."""

from __future__ import annotations

import itertools
import random

import gymnasium as gym
import numpy as np
import pytest

from rlkit import dp
from rlkit.envs.gridworld import GridWorld
from rlkit.mdp import TabularMDP, random_mdp
from rlkit.sampling import (
    Trajectory,
    discounted_return,
    discounted_returns,
    monte_carlo_value,
    monte_carlo_values,
    run_episode,
    sample_categorical,
    sample_trajectory,
    trajectory_probability,
)
from rlkit.seeding import make_rng, seed_everything


def test_discounted_return_hand_computed():
    assert discounted_return([1.0, 2.0, 3.0], 0.5) == pytest.approx(1 + 0.5 * 2 + 0.25 * 3)
    assert discounted_return([], 0.9) == 0.0
    assert discounted_return([5.0], 0.0) == 5.0
    assert discounted_return([1.0] * 4, 1.0) == 4.0


def test_discounted_returns_is_reward_to_go():
    rewards = np.array([1.0, 0.0, -2.0, 4.0])
    gamma = 0.9
    expected = [sum(gamma ** (k - t) * rewards[k] for k in range(t, 4)) for t in range(4)]
    np.testing.assert_allclose(discounted_returns(rewards, gamma), expected)
    assert discounted_returns([], 0.9).shape == (0,)


def test_constant_reward_return_approaches_one_over_one_minus_gamma():
    assert discounted_return(np.ones(2000), 0.99) == pytest.approx(100.0, rel=1e-8)


@pytest.mark.parametrize(("rewards", "gamma"), [(np.ones((2, 2)), 0.9), ([1.0], 1.5)])
def test_discounted_returns_rejects_bad_input(rewards, gamma):
    with pytest.raises(ValueError):
        discounted_returns(rewards, gamma)


def test_sample_categorical_never_picks_zero_probability():
    rng = np.random.default_rng(0)
    draws = [sample_categorical([0.0, 0.3, 0.0, 0.7, 0.0], rng) for _ in range(2000)]
    assert set(draws) == {1, 3}
    assert np.mean(np.array(draws) == 3) == pytest.approx(0.7, abs=0.04)


def test_sample_trajectory_shapes_and_termination():
    world = GridWorld()
    optimal = dp.value_iteration(world.mdp).policy
    trajectory = sample_trajectory(world.mdp, optimal, rng=0)
    assert isinstance(trajectory, Trajectory)
    assert len(trajectory.states) == len(trajectory.actions) + 1 == len(trajectory.rewards) + 1
    assert trajectory.terminated
    assert trajectory.states[0] == world.state_index((1, 1))  # from mu
    assert trajectory.states[-1] == world.n_states - 1  # TERMINAL
    assert trajectory.rewards[-1] in (1.0, -1.0)  # the exit reward comes last
    assert (trajectory.rewards[:-1] == 0).all()


def test_sample_trajectory_is_reproducible_and_truncates():
    mdp = random_mdp(5, 2, gamma=0.9, rng=0)  # no terminal states: always truncated
    first = sample_trajectory(mdp, np.zeros(5, dtype=int), rng=42, max_steps=25)
    second = sample_trajectory(
        mdp, np.zeros(5, dtype=int), np.random.default_rng(42), max_steps=25
    )
    for a, b in zip(first[:3], second[:3], strict=True):
        np.testing.assert_array_equal(a, b)
    assert not first.terminated and len(first.actions) == 25


def test_sample_trajectory_start_state_and_errors():
    world = GridWorld(noise=0.0)
    policy = np.full(world.n_states, 1)  # always East
    trajectory = sample_trajectory(world.mdp, policy, rng=0, start_state=world.state_index((3, 3)))
    assert trajectory.states.tolist() == [
        world.state_index((3, 3)),
        world.state_index((4, 3)),
        world.n_states - 1,
    ]
    assert trajectory.rewards.tolist() == [0.0, 1.0]
    empty = sample_trajectory(world.mdp, policy, rng=0, start_state=world.n_states - 1)
    assert empty.terminated and len(empty.actions) == 0
    with pytest.raises(ValueError, match="start_state must be in"):
        sample_trajectory(world.mdp, policy, rng=0, start_state=99)


def test_trajectory_probability_hand_computed():
    world = GridWorld()  # noise 0.2
    s = world.state_index
    states = [s((1, 1)), s((1, 2)), s((1, 3))]
    # mu(1,1) = 1; N succeeds twice with 0.8 each.
    assert trajectory_probability(world.mdp, states, [0, 0], np.zeros(12, dtype=int)) == (
        pytest.approx(0.64)
    )
    uniform = np.full((12, 4), 0.25)
    assert trajectory_probability(world.mdp, states, [0, 0], uniform) == pytest.approx(
        0.64 * 0.25**2
    )
    # Going East but slipping North twice: 0.1 * 0.1.
    always_east = np.ones(12, dtype=int)
    assert trajectory_probability(world.mdp, states, [1, 1], always_east) == pytest.approx(0.01)
    # (1,1) -> (1,3) in one step is impossible; so is starting anywhere but (1,1).
    assert trajectory_probability(world.mdp, [s((1, 1)), s((1, 3))], [0], always_east) == 0.0
    assert trajectory_probability(world.mdp, [s((2, 1)), s((3, 1))], [1], always_east) == 0.0
    with pytest.raises(ValueError, match=r"len\(states\) == len\(actions\) \+ 1"):
        trajectory_probability(world.mdp, states, [0], uniform)


def test_trajectory_probabilities_sum_to_one():
    mdp = random_mdp(3, 2, gamma=0.9, rng=5)
    policy = np.random.default_rng(1).dirichlet(np.ones(2), size=3)
    total = sum(
        trajectory_probability(mdp, states, actions, policy)
        for states in itertools.product(range(3), repeat=3)
        for actions in itertools.product(range(2), repeat=2)
    )
    assert total == pytest.approx(1.0)


def test_monte_carlo_values_match_exact_policy_evaluation():
    world = GridWorld()
    policy = dp.value_iteration(world.mdp).policy
    estimate = monte_carlo_values(world.mdp, policy, rng=0, n_episodes=300)
    exact = dp.policy_evaluation_exact(world.mdp, policy)
    # Returns lie in [-1, 1]; with 300 episodes per state the standard error is below 0.06
    # and is far smaller here because the optimal policy rarely fails.
    np.testing.assert_allclose(estimate, exact, atol=0.06)
    assert estimate[-1] == 0.0


def test_monte_carlo_on_constant_reward_chain():
    # Deterministic: 0 -> 1 -> 2 (terminal), reward 1 each step: V(0) = 1 + gamma.
    P = np.zeros((3, 1, 3))
    P[0, 0, 1] = P[1, 0, 2] = P[2, 0, 2] = 1.0
    mdp = TabularMDP(
        P=P, R=np.ones((3, 1, 3)), gamma=0.5, mu=[1, 0, 0], terminal=[False, False, True]
    )
    np.testing.assert_allclose(
        monte_carlo_values(mdp, [0, 0, 0], rng=0, n_episodes=2), [1.5, 1.0, 0.0]
    )


# ---------------------------------------------------------------------------------------------
# Seeding
# ---------------------------------------------------------------------------------------------


def test_make_rng():
    rng = np.random.default_rng(0)
    assert make_rng(rng) is rng
    assert make_rng(3).integers(1000) == np.random.default_rng(3).integers(1000)
    assert isinstance(make_rng(None), np.random.Generator)
    with pytest.raises(TypeError, match="np.random.Generator"):
        make_rng(1.5)  # type: ignore[arg-type]


def test_seed_everything_seeds_all_global_sources():
    torch = pytest.importorskip("torch")
    rng = seed_everything(123)
    draws = (random.random(), np.random.rand(), float(torch.rand(1)), rng.random())
    rng = seed_everything(123)
    assert draws == (random.random(), np.random.rand(), float(torch.rand(1)), rng.random())
    with pytest.raises(ValueError, match="non-negative int"):
        seed_everything(-1)


def test_monte_carlo_value_single_state_matches_exact():
    world = GridWorld()
    policy = dp.value_iteration(world.mdp).policy
    start = world.state_index((3, 3))
    estimate = monte_carlo_value(world.mdp, policy, start, 400, rng=1)
    assert estimate == pytest.approx(
        dp.policy_evaluation_exact(world.mdp, policy)[start], abs=0.05
    )
    assert monte_carlo_value(world.mdp, policy, start, 50, rng=3) == monte_carlo_value(
        world.mdp, policy, start, 50, rng=3
    )
    with pytest.raises(ValueError, match="n_episodes must be >= 1"):
        monte_carlo_value(world.mdp, policy, start, 0, rng=0)


def test_run_episode_follows_the_policy_until_the_exit():
    env = gym.make("rlkit/GridWorld-v0", noise=0.0)
    world = GridWorld(noise=0.0)
    optimal = dp.value_iteration(world.mdp).policy
    rewards = run_episode(env, optimal, seed=0)
    # Deterministic: 5 moves with reward 0, then the +1 exit.
    np.testing.assert_array_equal(rewards, [0.0] * 5 + [1.0])
    assert discounted_return(rewards, 0.9) == pytest.approx(
        dp.value_iteration(world.mdp).values[world.state_index((1, 1))]
    )
