"""TabularMDP: validation, immutability, from_toy_text and random_mdp."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import pytest

import rlkit
from rlkit import dp
from rlkit.mdp import TabularMDP, random_mdp, reachable_states


def two_state_arrays() -> dict[str, np.ndarray]:
    """State 0 moves to state 1 (terminal) with reward 1 or stays with reward 0."""
    P = np.zeros((2, 2, 2))
    P[0, 0, 0] = 1.0  # action 0: stay
    P[0, 1, 1] = 1.0  # action 1: go to the terminal state
    P[1, :, 1] = 1.0
    R = np.zeros((2, 2, 2))
    R[0, 1, 1] = 1.0
    return {
        "P": P,
        "R": R,
        "gamma": 0.9,
        "mu": np.array([1.0, 0.0]),
        "terminal": np.array([False, True]),
    }


def test_package_exports():
    assert rlkit.TabularMDP is TabularMDP
    assert rlkit.GridWorld is rlkit.envs.gridworld.GridWorld
    for module in ("dp", "sampling", "qlearning", "plotting", "envs"):
        assert hasattr(rlkit, module)
    assert "rlkit/GridWorld-v0" in gym.registry


def test_valid_mdp_properties():
    mdp = TabularMDP(**two_state_arrays(), state_names=("s0", "end"), action_names=("stay", "go"))
    assert (mdp.n_states, mdp.n_actions) == (2, 2)
    np.testing.assert_array_equal(mdp.expected_rewards, [[0.0, 1.0], [0.0, 0.0]])
    assert mdp.P.dtype == np.float64 and mdp.terminal.dtype == np.bool_
    assert "n_states=2" in repr(mdp)


def test_arrays_are_read_only_copies():
    arrays = two_state_arrays()
    mdp = TabularMDP(**arrays)
    for name in ("P", "R", "mu", "terminal"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(mdp, name)[0] = 0
    with pytest.raises(ValueError, match="read-only"):
        mdp.expected_rewards[0, 0] = 5.0
    # The caller's arrays were copied, not frozen in place.
    assert arrays["P"].flags.writeable
    arrays["P"][0, 0, 0] = 0.5
    assert mdp.P[0, 0, 0] == 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        mdp.gamma = 0.5  # type: ignore[misc]


def test_terminal_accepts_zero_one():
    arrays = two_state_arrays()
    arrays["terminal"] = [0, 1]
    assert TabularMDP(**arrays).terminal.tolist() == [False, True]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"P": np.ones((2, 2))}, r"P must have shape \(S, A, S\)"),
        ({"P": np.full((2, 2, 3), 1 / 3)}, r"P must have shape \(S, A, S\).*\(2, 2, 3\)"),
        ({"R": np.zeros((2, 2, 3))}, r"R must have the same shape as P.*\(2, 2, 3\)"),
        ({"mu": np.array([1.0, 0.0, 0.0])}, r"mu must have shape \(S,\) = \(2,\); got \(3,\)"),
        ({"terminal": np.array([False])}, r"terminal must have shape \(S,\)"),
        ({"terminal": np.array([0, 2])}, "terminal must be a boolean mask"),
        ({"gamma": 1.5}, r"gamma must be in \[0, 1\]; got 1.5"),
        ({"gamma": -0.1}, r"gamma must be in \[0, 1\]"),
        ({"mu": np.array([0.5, 0.4])}, "mu must be a probability distribution"),
        ({"mu": np.array([1.5, -0.5])}, "mu must be a probability distribution"),
        ({"state_names": ("only-one",)}, "state_names needs 2 entries; got 1"),
        ({"action_names": ("a", "b", "c")}, "action_names needs 2 entries; got 3"),
    ],
)
def test_validation_errors_name_the_field(change, message):
    arrays = two_state_arrays() | change
    with pytest.raises(ValueError, match=message):
        TabularMDP(**arrays)


def test_negative_probability_names_s_a_s_next():
    arrays = two_state_arrays()
    arrays["P"][0, 1] = [1.2, -0.2]
    with pytest.raises(ValueError, match=r"P\[s=0, a=1, s'=1\] = -0.2 is negative"):
        TabularMDP(**arrays)


def test_row_not_summing_to_one_names_s_a_and_sum():
    arrays = two_state_arrays()
    arrays["P"][1, 0, 1] = 0.7
    with pytest.raises(ValueError, match=r"P\[s=1, a=0, :\] sums to 0.7, not 1"):
        TabularMDP(**arrays)


def test_row_sum_tolerance_is_1e_8():
    arrays = two_state_arrays()
    arrays["P"][0, 0, 0] = 1.0 + 1e-10
    TabularMDP(**arrays)  # within tolerance
    arrays["P"][0, 0, 0] = 1.0 + 1e-6
    with pytest.raises(ValueError, match=r"P\[s=0, a=0, :\]"):
        TabularMDP(**arrays)


def test_non_finite_rewards_rejected():
    arrays = two_state_arrays()
    arrays["R"][1, 1, 0] = np.nan
    with pytest.raises(ValueError, match=r"R must be finite; R\[1, 1, 0\]"):
        TabularMDP(**arrays)


def test_constant_reward_self_loop_is_one_over_one_minus_gamma():
    # Stable-Baselines3's known answer: reward 1 forever is worth 1 / (1 - gamma).
    for gamma in (0.0, 0.5, 0.9, 0.99):
        mdp = TabularMDP(P=[[[1.0]]], R=[[[1.0]]], gamma=gamma, mu=[1.0], terminal=[False])
        expected = 1.0 / (1.0 - gamma)
        assert dp.policy_evaluation_exact(mdp, [0])[0] == pytest.approx(expected)
        assert dp.value_iteration(mdp).values[0] == pytest.approx(expected, rel=1e-8)


def test_two_state_hand_computed_values():
    # From state 0: "go" gives 1 now and ends; "stay" gives 0 and repeats. V*(0) = 1.
    mdp = TabularMDP(**two_state_arrays())
    result = dp.value_iteration(mdp)
    np.testing.assert_allclose(result.values, [1.0, 0.0])
    assert result.policy[0] == 1
    # Q*(0, stay) = 0 + 0.9 * V*(0) = 0.9; the terminal row is 0.
    np.testing.assert_allclose(result.q_values, [[0.9, 1.0], [0.0, 0.0]])
    # Always staying is worth 0; V^pi for pi(go|0) = 0.5: V = 0.5 * 1 + 0.5 * 0.9 V -> 1/1.1.
    half = np.array([[0.5, 0.5], [1.0, 0.0]])
    assert dp.policy_evaluation_exact(mdp, half)[0] == pytest.approx(0.5 / 0.55)


# ---------------------------------------------------------------------------------------------
# from_toy_text
# ---------------------------------------------------------------------------------------------


def test_frozenlake_deterministic_start_value_is_gamma_to_the_fifth():
    # 4x4 map SFFF/FHFH/FFFH/HFFG: the shortest path 0-4-8-9-13-14-15 has 6 steps and the only
    # reward (1) comes on entering the goal, so V*(start) = gamma^5.
    gamma = 0.9
    mdp = TabularMDP.from_toy_text(gym.make("FrozenLake-v1", is_slippery=False), gamma=gamma)
    np.testing.assert_allclose(mdp.P.sum(axis=2), 1.0)
    assert sorted(np.flatnonzero(mdp.terminal)) == [5, 7, 11, 12, 15]  # holes and goal
    assert mdp.action_names == ("Left", "Down", "Right", "Up")
    assert mdp.R[14, 2, 15] == 1.0  # the reward sits on the transition into the goal
    result = dp.value_iteration(mdp)
    assert result.converged
    assert result.values[0] == pytest.approx(gamma**5)
    assert result.values[15] == 0.0  # terminal


def test_frozenlake_slippery_merges_duplicate_next_states():
    mdp = TabularMDP.from_toy_text(gym.make("FrozenLake-v1", is_slippery=True), gamma=0.99)
    # From the corner, "Left" slips Left/Down/Up with 1/3 each; Left and Up bump and stay.
    assert mdp.P[0, 0, 0] == pytest.approx(2 / 3)
    assert mdp.P[0, 0, 4] == pytest.approx(1 / 3)
    np.testing.assert_allclose(mdp.P.sum(axis=2), 1.0)
    result = dp.value_iteration(mdp)
    assert result.converged
    # Known optimum for slippery FrozenLake 4x4 at gamma = 0.99 is about 0.54 from the start.
    assert 0.5 < result.values[0] < 0.6
    np.testing.assert_allclose(result.values, dp.policy_iteration(mdp).values, atol=1e-7)


def test_cliffwalking_value_matches_shortest_safe_path():
    gamma = 0.99
    mdp = TabularMDP.from_toy_text(gym.make("CliffWalking-v1"), gamma=gamma)
    np.testing.assert_allclose(mdp.P.sum(axis=2), 1.0)
    assert np.flatnonzero(mdp.terminal).tolist() == [47]
    start = int(np.flatnonzero(mdp.mu)[0])
    assert start == 36
    # Optimal: up, 11 x right, down = 13 steps of reward -1 (the cliff edge path, 13 steps).
    expected = -sum(gamma**t for t in range(13))
    assert dp.value_iteration(mdp).values[start] == pytest.approx(expected)


def test_taxi_converts_and_solves():
    env = gym.make("Taxi-v4")
    mdp = TabularMDP.from_toy_text(env, gamma=0.99)
    assert (mdp.n_states, mdp.n_actions) == (500, 6)
    np.testing.assert_allclose(mdp.P.sum(axis=2), 1.0)
    assert mdp.terminal.any()
    assert mdp.action_names[-1] == "Dropoff"
    result = dp.value_iteration(mdp)
    assert result.converged
    # Every start state can deliver (+20 at the end, -1 per move): V* > 0.
    assert (result.values[mdp.mu > 0] > 0).all()


class _FakeToyText:
    """Minimal toy-text-like env whose model we control."""

    def __init__(self, model, start):
        self.P = model
        self.initial_state_distrib = np.asarray(start)
        self.observation_space = gym.spaces.Discrete(len(model))
        self.action_space = gym.spaces.Discrete(len(model[0]))
        self.unwrapped = self


def test_from_toy_text_averages_rewards_of_duplicate_outcomes():
    model = {
        0: {0: [(0.25, 1, 4.0, True), (0.75, 1, 0.0, True)]},
        1: {0: [(1.0, 1, 0.0, True)]},
    }
    mdp = TabularMDP.from_toy_text(_FakeToyText(model, [1.0, 0.0]), gamma=0.5)
    assert mdp.P[0, 0, 1] == 1.0
    assert mdp.R[0, 0, 1] == pytest.approx(1.0)  # 0.25 * 4 + 0.75 * 0
    assert mdp.expected_rewards[0, 0] == pytest.approx(1.0)
    assert mdp.gamma == 0.5


def test_from_toy_text_rejects_conflicting_termination():
    model = {
        0: {0: [(1.0, 1, 0.0, False)], 1: [(1.0, 2, 0.0, False)]},
        1: {0: [(1.0, 1, 0.0, True)], 1: [(1.0, 1, 0.0, True)]},
        2: {0: [(1.0, 1, 0.0, True)], 1: [(1.0, 1, 0.0, True)]},
    }
    with pytest.raises(ValueError, match="state 1 is entered with terminated=True"):
        TabularMDP.from_toy_text(_FakeToyText(model, [1.0, 0.0, 0.0]))


def test_from_toy_text_rejects_env_without_model():
    with pytest.raises(ValueError, match="has no tabular model"):
        TabularMDP.from_toy_text(gym.make("CartPole-v1"))


# ---------------------------------------------------------------------------------------------
# random_mdp and reachability
# ---------------------------------------------------------------------------------------------


def test_random_mdp_is_seeded_and_valid():
    first = random_mdp(6, 3, gamma=0.8, rng=1, n_terminal=2, sparsity=0.5)
    second = random_mdp(6, 3, gamma=0.8, rng=np.random.default_rng(1), n_terminal=2, sparsity=0.5)
    np.testing.assert_array_equal(first.P, second.P)
    np.testing.assert_array_equal(first.R, second.R)
    assert first.terminal.sum() == 2
    terminal = np.flatnonzero(first.terminal)
    np.testing.assert_array_equal(first.P[terminal, :, terminal], 1.0)  # absorbing
    assert (first.R[terminal] == 0).all()
    assert first.mu[terminal].sum() == 0
    assert (first.P[~first.terminal] == 0).any()  # sparsity zeroed some entries


@pytest.mark.parametrize(
    "kwargs",
    [{"n_terminal": 4}, {"sparsity": 1.0}, {"n_terminal": -1}],
)
def test_random_mdp_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        random_mdp(4, 2, gamma=0.9, rng=0, **kwargs)


def test_reachable_states_stops_at_blocked():
    adjacency = np.eye(4, k=1, dtype=bool)  # 0 -> 1 -> 2 -> 3
    sources = np.array([True, False, False, False])
    assert reachable_states(adjacency, sources).all()
    blocked = np.array([False, True, False, False])
    assert reachable_states(adjacency, sources, blocked).tolist() == [True, True, False, False]
