"""GridWorld: layout parsing, the model (P, R, terminal), Gymnasium API and rendering."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rlkit.envs import REGISTERED_ENV_IDS
from rlkit.envs.gridworld import ACTIONS, LECTURE_LAYOUT, TERMINAL_NAME, GridWorld

N, E, S, W = (ACTIONS.index(a) for a in "NESW")
CUSTOM_LAYOUT = "S..#+\n.#...\n...-."


def test_lecture_layout_states_in_reading_order():
    world = GridWorld()
    assert LECTURE_LAYOUT == "...+\n.#.-\nS..."
    assert (world.width, world.height) == (4, 3)
    assert world.walls == frozenset({(2, 2)})
    assert world.exits == {(4, 3): 1.0, (4, 2): -1.0}
    assert world.coords == (
        (1, 3), (2, 3), (3, 3), (4, 3),
        (1, 2), (3, 2), (4, 2),
        (1, 1), (2, 1), (3, 1), (4, 1),
        None,
    )  # fmt: skip
    assert world.n_states == 12
    assert world.mdp.state_names[-1] == TERMINAL_NAME
    assert world.mdp.action_names == ("N", "E", "S", "W")
    assert world.state_index((1, 1)) == 7
    assert world.mdp.mu[world.state_index((1, 1))] == 1.0
    assert world.mdp is world.mdp  # cached


@pytest.mark.parametrize("cell", [(2, 2), (0, 1), (5, 3), (1, 4)])
def test_state_index_rejects_walls_and_outside(cell):
    with pytest.raises(ValueError, match="is a wall|outside the grid"):
        GridWorld().state_index(cell)


def test_noisy_move_probabilities_and_bumps():
    world = GridWorld()
    P = world.mdp.P
    s = world.state_index
    # (1,1) North: 0.8 up to (1,2), 0.1 East to (2,1), 0.1 West bumps the border: stays.
    assert P[s((1, 1)), N, s((1, 2))] == pytest.approx(0.8)
    assert P[s((1, 1)), N, s((2, 1))] == pytest.approx(0.1)
    assert P[s((1, 1)), N, s((1, 1))] == pytest.approx(0.1)
    # (2,1) North bumps into the wall (2,2): 0.8 stay, 0.1 each to (1,1) and (3,1).
    assert P[s((2, 1)), N, s((2, 1))] == pytest.approx(0.8)
    assert P[s((2, 1)), N, s((1, 1))] == pytest.approx(0.1)
    # The slide's (3,3) East: 0.8 to (4,3), 0.1 North bumps (stays), 0.1 South to (3,2).
    assert P[s((3, 3)), E, s((4, 3))] == pytest.approx(0.8)
    assert P[s((3, 3)), E, s((3, 3))] == pytest.approx(0.1)
    assert P[s((3, 3)), E, s((3, 2))] == pytest.approx(0.1)


def test_exit_cells_lead_to_terminal_with_their_reward():
    world = GridWorld(living_reward=-0.04)
    mdp, terminal = world.mdp, world.n_states - 1
    assert mdp.terminal.tolist() == [False] * 11 + [True]
    for cell, reward in world.exits.items():
        s = world.state_index(cell)
        np.testing.assert_array_equal(mdp.P[s, :, terminal], 1.0)
        np.testing.assert_array_equal(mdp.expected_rewards[s], reward)
    np.testing.assert_array_equal(mdp.P[terminal, :, terminal], 1.0)
    np.testing.assert_array_equal(mdp.expected_rewards[terminal], 0.0)
    assert mdp.expected_rewards[world.state_index((1, 1)), N] == pytest.approx(-0.04)


def test_custom_layout_and_exit_reward_override():
    world = GridWorld(CUSTOM_LAYOUT, exit_rewards={(5, 3): 10.0}, noise=0.0)
    assert (world.width, world.height) == (5, 3)
    assert world.exits == {(5, 3): 10.0, (4, 1): -1.0}
    assert world.walls == frozenset({(4, 3), (2, 2)})
    assert world.mdp.mu[world.state_index((1, 3))] == 1.0
    # Deterministic moves: exactly one next state per (s, a).
    assert ((world.mdp.P == 0) | (world.mdp.P == 1)).all()


def test_several_start_cells_give_uniform_start():
    world = GridWorld("S.+\nS..")
    mu = world.mdp.mu
    assert mu[world.state_index((1, 2))] == mu[world.state_index((1, 1))] == 0.5


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ("...+\n.#\nS...", "same length"),
        ("...+\n.x.-\nS...", r"unknown character\(s\) \['x'\]"),
        ("...+\n.#.-\n....", "no start"),
        ("....\n.#..\nS...", "no exit"),
        ("", "empty"),
    ],
)
def test_malformed_layouts_are_rejected(layout, message):
    with pytest.raises(ValueError, match=message):
        GridWorld(layout)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"noise": 1.5}, "noise must be in"),
        ({"exit_rewards": {(1, 1): 5.0}}, r"exit_rewards key \(1, 1\) is not an exit"),
        ({"render_mode": "human"}, "render_mode must be"),
        ({"gamma": 2.0}, "gamma must be in"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GridWorld(**kwargs)


# ---------------------------------------------------------------------------------------------
# Gymnasium API
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("env_id", REGISTERED_ENV_IDS)
def test_check_env_on_registered_ids(env_id):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any avoidable warning fails the test
        check_env(gym.make(env_id).unwrapped)


def test_check_env_on_custom_layout():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(gym.make("rlkit/GridWorld-v0", layout=CUSTOM_LAYOUT, noise=0.1).unwrapped)


def test_registered_env_has_time_limit_of_100():
    env = gym.make("rlkit/GridWorld-v0", layout="S.#+", noise=0.0)
    env.reset(seed=0)
    # Walking West from the start bumps the border forever: truncated at step 100.
    for step in range(1, 101):
        _, _, terminated, truncated, _ = env.step(W)
        assert not terminated
        assert truncated == (step == 100)


def test_own_max_episode_steps_truncates():
    env = GridWorld(noise=0.0, max_episode_steps=2)
    env.reset(seed=0)
    assert env.step(W)[3] is False
    assert env.step(W)[3] is True


def rollout(env: gym.Env, seed: int, n_steps: int = 30) -> list:
    observation, info = env.reset(seed=seed)
    out = [(observation, info["coords"])]
    rng = np.random.default_rng(123)  # same action sequence in both rollouts
    for _ in range(n_steps):
        observation, reward, terminated, truncated, info = env.step(int(rng.integers(4)))
        out.append((observation, reward, terminated, truncated, info["coords"]))
        if terminated or truncated:
            observation, info = env.reset()
    return out


def test_seeded_reset_and_step_are_reproducible():
    assert rollout(GridWorld(), seed=7) == rollout(GridWorld(), seed=7)
    assert rollout(GridWorld(), seed=7) != rollout(GridWorld(), seed=8)


def test_reset_and_step_semantics():
    env = GridWorld(noise=0.0)
    state, info = env.reset(seed=0)
    assert (state, info) == (env.state_index((1, 1)), {"coords": (1, 1)})
    state, info = env.reset(options={"start": (3, 3)})
    assert info["coords"] == (3, 3)
    state, reward, terminated, truncated, info = env.step(E)
    assert (info["coords"], reward, terminated, truncated) == ((4, 3), 0.0, False, False)
    state, reward, terminated, truncated, info = env.step(S)  # any action exits
    assert (state, reward, terminated, info["coords"]) == (env.n_states - 1, 1.0, True, None)
    assert isinstance(state, int) and isinstance(reward, float)
    with pytest.raises(ValueError, match="action must be"):
        env.step(4)


def test_step_frequencies_follow_the_model():
    env = GridWorld()
    env.reset(seed=0)
    counts = {(1, 2): 0, (2, 1): 0, (1, 1): 0}
    n = 4000
    for _ in range(n):
        env.reset(options={"start": (1, 1)})
        counts[env.step(N)[4]["coords"]] += 1
    assert counts[(1, 2)] / n == pytest.approx(0.8, abs=0.03)
    assert counts[(2, 1)] / n == pytest.approx(0.1, abs=0.03)


def test_render_rgb_array():
    env = gym.make("rlkit/GridWorld-v0", render_mode="rgb_array")
    env.reset(seed=0)
    image = env.render()
    assert image.shape == (3 * 32, 4 * 32, 3) and image.dtype == np.uint8
    # The agent (blue disc) sits in the bottom-left cell (1,1); the wall (2,2) is grey.
    assert tuple(image[80, 16]) == (50, 90, 220)
    assert tuple(image[48, 48]) == (110, 110, 110)


def test_render_ansi_marks_agent():
    env = GridWorld(render_mode="ansi")
    env.reset(seed=0)
    text = env.render()
    assert text.splitlines() == ["  .   .   .  +1", "  .   #   .  -1", "  A   .   .   ."]
    env.reset(options={"start": (4, 3)})
    env.step(N)
    assert "episode over" in env.render()


def test_render_without_mode_warns_and_returns_none():
    env = GridWorld()
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="render_mode"):
        assert env.render() is None
