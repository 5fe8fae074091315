"""rlkit.advantages: TD errors, GAE(lambda) and the critic's targets, against known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rlkit.advantages import critic_targets, gae, td_errors


def random_rollout(rng: np.random.Generator, steps: int, n_envs: int, p_end: float = 0.2):
    rewards = rng.normal(size=(steps, n_envs))
    values = rng.normal(size=(steps, n_envs))
    next_values = rng.normal(size=(steps, n_envs))
    terminated = rng.random((steps, n_envs)) < p_end
    truncated = ~terminated & (rng.random((steps, n_envs)) < p_end)
    return rewards, values, next_values, terminated, truncated


def reference_gae(rewards, values, next_values, terminated, truncated, gamma, lam):
    """A plain loop, forwards: A_t = sum_k (gamma lam)^k delta_{t+k} up to the episode's end."""
    steps, n_envs = rewards.shape
    advantages = np.zeros((steps, n_envs))
    for env in range(n_envs):
        for t in range(steps):
            total, weight = 0.0, 1.0
            for k in range(t, steps):
                bootstrap = 0.0 if terminated[k, env] else gamma * next_values[k, env]
                delta = rewards[k, env] + bootstrap - values[k, env]
                total += weight * delta
                if terminated[k, env] or truncated[k, env]:
                    break  # the next row is another episode
                weight *= gamma * lam
            advantages[t, env] = total
    return advantages


# ------------------------------------------------------------------------------ known answers


def test_td_errors_by_hand():
    deltas = td_errors([1.0, 2.0, 0.5], [1.0, 1.0, 1.0], [4.0, 2.0, 9.0],
                       [False, False, True], gamma=0.5)
    np.testing.assert_allclose(deltas, [1 + 2 - 1, 2 + 1 - 1, 0.5 - 1])


def test_lambda_zero_gives_the_td_errors():
    rollout = random_rollout(np.random.default_rng(0), 7, 3)
    rewards, values, next_values, terminated, truncated = rollout
    np.testing.assert_allclose(
        gae(*rollout, gamma=0.9, lam=0.0),
        td_errors(rewards, values, next_values, terminated, gamma=0.9),
    )


def test_lambda_one_gives_the_discounted_return_minus_v_bootstrapped_at_the_end():
    rng = np.random.default_rng(1)
    steps, gamma = 6, 0.8
    rewards = rng.normal(size=steps)
    v = rng.normal(size=steps + 1)  # V(s_0..s_T): one episode that goes on past the rollout
    no = np.zeros(steps, dtype=bool)
    advantages = gae(rewards, v[:-1], v[1:], no, no, gamma=gamma, lam=1.0)
    expected = [
        sum(gamma ** (k - t) * rewards[k] for k in range(t, steps))
        + gamma ** (steps - t) * v[-1] - v[t]
        for t in range(steps)
    ]
    np.testing.assert_allclose(advantages, expected)


def test_lambda_one_on_a_terminated_episode_is_the_monte_carlo_return_minus_v():
    rewards = np.array([1.0, 2.0, 3.0])
    values = np.array([0.5, -1.0, 2.0])
    terminated = np.array([False, False, True])
    next_values = np.array([-1.0, 2.0, 123.0])  # V(s_3) of a terminal state is never used
    advantages = gae(rewards, values, next_values, terminated, np.zeros(3, bool), 0.9, 1.0)
    returns = np.array([1 + 0.9 * 2 + 0.81 * 3, 2 + 0.9 * 3, 3.0])
    np.testing.assert_allclose(advantages, returns - values)
    np.testing.assert_allclose(critic_targets(advantages, values), returns)


@pytest.mark.parametrize("lam", [0.0, 0.5, 0.95, 1.0])
def test_constant_reward_with_the_true_value_gives_zero_advantages(lam):
    """r = 1 forever, V = 1 / (1 - gamma): every TD error is 0, also at a time limit."""
    gamma = 0.9
    shape = (10, 4)
    value = np.full(shape, 1 / (1 - gamma))
    truncated = np.zeros(shape, dtype=bool)
    truncated[[2, 7, 9], [0, 1, 3]] = True  # time limits bootstrap: still zero
    advantages = gae(np.ones(shape), value, value, np.zeros(shape, bool), truncated, gamma, lam)
    np.testing.assert_allclose(advantages, 0.0, atol=1e-12)
    np.testing.assert_allclose(critic_targets(advantages, value), value)


def test_truncation_bootstraps_and_termination_does_not():
    """The same step, once truncated (V(final_obs) = 5 counts) and once terminated."""
    rewards, values = np.array([1.0, 1.0]), np.array([1.0, 2.0])
    next_values = np.array([5.0, 3.0])  # row 0: V of the real final observation
    end = np.array([True, False])
    never = np.zeros(2, dtype=bool)
    cut = gae(rewards, values, next_values, never, end, gamma=0.5, lam=1.0)
    over = gae(rewards, values, next_values, end, never, gamma=0.5, lam=1.0)
    np.testing.assert_allclose(cut, [1 + 0.5 * 5 - 1, 1 + 0.5 * 3 - 2])
    np.testing.assert_allclose(over, [1 - 1, 1 + 0.5 * 3 - 2])
    # Both stop the sum: step 0's advantage holds nothing of step 1 (another episode).
    joined = gae(rewards, values, next_values, never, never, gamma=0.5, lam=1.0)
    assert joined[0] == pytest.approx(cut[0] + 0.5 * cut[1])


def test_a_terminal_step_ignores_whatever_next_values_holds():
    advantages = gae([1.0, 1.0], [0.0, 0.0], [np.nan, np.inf], [True, True],
                     [False, False], gamma=0.99, lam=0.95)
    np.testing.assert_allclose(advantages, [1.0, 1.0])


def test_a_single_env_column_equals_the_one_dimensional_rollout():
    rollout = random_rollout(np.random.default_rng(2), 9, 1)
    flat = [x[:, 0] for x in rollout]
    np.testing.assert_allclose(gae(*rollout, 0.97, 0.9)[:, 0], gae(*flat, 0.97, 0.9))


def test_single_step_rollouts():
    advantages = gae([[1.0, 2.0]], [[0.5, 0.5]], [[1.0, 1.0]], [[False, True]],
                     [[False, False]], gamma=0.9, lam=0.95)
    np.testing.assert_allclose(advantages, [[1 + 0.9 - 0.5, 2 - 0.5]])


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    steps=st.integers(1, 12),
    n_envs=st.integers(1, 4),
    p_end=st.floats(0.0, 0.6),
    gamma=st.floats(0.0, 1.0),
    lam=st.floats(0.0, 1.0),
)
def test_reverse_scan_agrees_with_a_plain_loop(seed, steps, n_envs, p_end, gamma, lam):
    rollout = random_rollout(np.random.default_rng(seed), steps, n_envs, p_end)
    np.testing.assert_allclose(
        gae(*rollout, gamma, lam), reference_gae(*rollout, gamma, lam), rtol=1e-10, atol=1e-10
    )


# ------------------------------------------------------------------------------ array kinds


def test_numpy_in_float64_out_and_torch_in_torch_out():
    rollout = random_rollout(np.random.default_rng(3), 5, 2)
    assert gae(*rollout, 0.9, 0.9).dtype == np.float64
    as_lists = [x.tolist() for x in rollout]
    np.testing.assert_allclose(gae(*as_lists, 0.9, 0.9), gae(*rollout, 0.9, 0.9))
    rewards, values, next_values, terminated, truncated = rollout
    tensors = [torch.tensor(x, dtype=torch.float32) for x in (rewards, values, next_values)]
    flags = [torch.tensor(terminated), torch.tensor(truncated)]
    out = gae(*tensors, *flags, 0.9, 0.9)
    assert torch.is_tensor(out) and out.dtype == torch.float32 and not out.requires_grad
    rounded = [t.numpy() for t in tensors]  # the same float32 inputs, as numpy
    np.testing.assert_allclose(out.numpy(), gae(*rounded, *rollout[3:], 0.9, 0.9), rtol=1e-6)
    delta = td_errors(*tensors, flags[0], 0.9)
    assert torch.is_tensor(delta) and delta.dtype == torch.float32
    targets = critic_targets(out.double(), tensors[1].double())
    assert targets.dtype == torch.float64


def test_tensors_with_gradients_are_read_detached():
    values = torch.zeros(3, requires_grad=True)
    out = gae(torch.ones(3), values, torch.zeros(3), torch.zeros(3), torch.zeros(3), 0.9, 0.9)
    assert not out.requires_grad


def test_inputs_are_left_as_they_were():
    rollout = random_rollout(np.random.default_rng(4), 6, 3)
    copies = [x.copy() for x in rollout]
    gae(*rollout, 0.9, 0.8)
    td_errors(*rollout[:4], 0.9)
    critic_targets(rollout[0], rollout[1])
    for before, after in zip(copies, rollout, strict=True):
        np.testing.assert_array_equal(before, after)
    tensors = [torch.tensor(x) for x in rollout]
    clones = [t.clone() for t in tensors]
    gae(*tensors, 0.9, 0.8)
    for before, after in zip(clones, tensors, strict=True):
        assert torch.equal(before, after)


# ------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"values": np.zeros((4, 2))}, r"values must have the shape of rewards, \(3, 2\)"),
        ({"truncated": np.zeros(3, bool)}, r"truncated must have the shape of rewards"),
        ({"rewards": np.zeros((3, 2, 1))}, r"rewards must have shape \(T,\) or \(T, n_envs\)"),
        ({"terminated": np.full((3, 2), 0.5)}, r"terminated must hold booleans or 0/1"),
        ({"gamma": 1.5}, r"gamma must be a number in \[0, 1\]"),
        ({"lam": -0.1}, r"lam must be a number in \[0, 1\]"),
        ({"rewards": np.full((3, 2), "a")}, r"rewards must be an array of numbers"),
    ],
)
def test_bad_input_says_what_to_fix(change, message):
    arguments = {
        "rewards": np.zeros((3, 2)), "values": np.zeros((3, 2)), "next_values": np.zeros((3, 2)),
        "terminated": np.zeros((3, 2), bool), "truncated": np.zeros((3, 2), bool),
        "gamma": 0.9, "lam": 0.95,
    }  # fmt: skip
    if "rewards" in change and change["rewards"].ndim == 3:
        arguments = {k: (np.zeros((3, 2, 1)) if k not in ("gamma", "lam") else v)
                     for k, v in arguments.items()}
    arguments.update(change)
    with pytest.raises(ValueError, match=message):
        gae(**arguments)


def test_td_errors_and_critic_targets_check_shapes_and_gamma():
    with pytest.raises(ValueError, match="next_values must have the shape of rewards"):
        td_errors(np.zeros(3), np.zeros(3), np.zeros(2), np.zeros(3, bool), 0.9)
    with pytest.raises(ValueError, match="gamma"):
        td_errors(np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3, bool), -1.0)
    with pytest.raises(ValueError, match="values must have the shape of advantages"):
        critic_targets(np.zeros((2, 3)), np.zeros((3, 2)))
