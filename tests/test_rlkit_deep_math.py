"""Tier 1: the math pieces of DQN and REINFORCE against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from rlkit.agents.dqn import dqn_loss, epsilon_greedy_action, td_target, update_target
from rlkit.agents.reinforce import reinforce_loss, returns_weights, reward_to_go, value_loss
from rlkit.schedules import constant_schedule, exponential_schedule, linear_schedule

# ------------------------------------------------------------------------------ td_target


def test_td_target_terminal_mask_hand_values():
    rewards = torch.tensor([1.0, 0.5, -1.0])
    next_q = torch.tensor([[2.0, 4.0], [3.0, 1.0], [10.0, 10.0]])
    terminated = torch.tensor([0.0, 0.0, 1.0])
    y = td_target(rewards, next_q, terminated, gamma=0.9)
    # 1 + .9 * 4 = 4.6; .5 + .9 * 3 = 3.2; terminal: just r = -1
    torch.testing.assert_close(y, torch.tensor([4.6, 3.2, -1.0]))


def test_td_target_truncation_bootstraps():
    """A truncated transition is not terminal: only ``terminated`` enters the mask."""
    rewards = torch.tensor([1.0, 1.0])
    next_q = torch.tensor([[5.0, 7.0], [5.0, 7.0]])
    terminated = torch.tensor([0.0, 0.0])  # both truncated (time limit), neither terminated
    y = td_target(rewards, next_q, terminated, gamma=0.5)
    torch.testing.assert_close(y, torch.tensor([4.5, 4.5]))


def test_td_target_gamma_zero_and_one():
    rewards = torch.tensor([2.0, 3.0])
    next_q = torch.tensor([[1.0, -1.0], [0.0, 6.0]])
    terminated = torch.tensor([0.0, 1.0])
    torch.testing.assert_close(td_target(rewards, next_q, terminated, 0.0), rewards)
    torch.testing.assert_close(
        td_target(rewards, next_q, terminated, 1.0), torch.tensor([3.0, 3.0])
    )


def test_td_target_accepts_a_bool_mask_and_keeps_shape():
    rewards = torch.zeros(5)
    next_q = torch.ones(5, 3)
    terminated = torch.tensor([True, False, True, False, False])
    y = td_target(rewards, next_q, terminated, 0.9)
    assert y.shape == (5,) and y.dtype == torch.float32
    torch.testing.assert_close(y, torch.tensor([0.0, 0.9, 0.0, 0.9, 0.9]))


# ------------------------------------------------------------------------------ dqn_loss


def test_dqn_loss_is_huber_on_the_taken_actions():
    q = torch.tensor([[1.0, 2.0], [0.0, 5.0], [3.0, 3.0]], requires_grad=True)
    actions = torch.tensor([1, 0, 1])
    targets = torch.tensor([2.5, 3.0, 3.0])
    loss = dqn_loss(q, actions, targets)
    assert loss.shape == ()
    # errors .5 (quadratic: .125), 3 (linear: 2.5), 0  -> mean 2.625 / 3
    torch.testing.assert_close(loss, torch.tensor(2.625 / 3))
    loss.backward()
    # Only Q(s_j, a_j) gets a gradient: d/dQ = clip(Q - y, -1, 1) / B
    expected = torch.tensor([[0.0, -0.5], [-1.0, 0.0], [0.0, 0.0]]) / 3
    torch.testing.assert_close(q.grad, expected)


def test_dqn_loss_equals_half_squared_error_for_small_errors():
    q = torch.tensor([[0.1, 0.2], [0.3, 0.4]])
    targets = torch.tensor([0.0, 0.0])
    loss = dqn_loss(q, torch.tensor([0, 1]), targets)
    torch.testing.assert_close(loss, torch.tensor((0.1**2 + 0.4**2) / 2 / 2))


def test_dqn_loss_does_not_differentiate_the_targets():
    q = torch.randn(4, 2, requires_grad=True)
    targets = torch.randn(4, requires_grad=True)
    dqn_loss(q, torch.tensor([0, 1, 0, 1]), targets.detach()).backward()
    assert targets.grad is None


# ------------------------------------------------------------------------------ update_target


def test_update_target_copies_with_tau_one_and_averages_otherwise():
    online, target = nn.Linear(2, 1), nn.Linear(2, 1)
    with torch.no_grad():
        online.weight.fill_(1.0)
        online.bias.fill_(1.0)
        target.weight.fill_(3.0)
        target.bias.fill_(3.0)
    update_target(online, target, tau=0.25)  # .25 * 1 + .75 * 3
    torch.testing.assert_close(target.weight, torch.full((1, 2), 2.5))
    update_target(online, target)
    torch.testing.assert_close(target.bias, torch.ones(1))
    online.weight.data.fill_(7.0)  # a copy, not an alias
    assert target.weight[0, 0].item() == 1.0


# ------------------------------------------------------------------------------ epsilon-greedy


def test_epsilon_greedy_zero_is_greedy_for_rows_and_batches():
    rng = np.random.default_rng(0)
    assert epsilon_greedy_action(np.array([0.1, 0.9, 0.3]), 0.0, rng) == 1
    assert epsilon_greedy_action(torch.tensor([3.0, -1.0]), 0.0, rng) == 0
    batch = epsilon_greedy_action(np.array([[0.0, 1.0], [2.0, 1.0]]), 0.0, rng)
    assert batch.dtype == np.int64 and batch.tolist() == [1, 0]


def test_epsilon_greedy_frequencies():
    """P(greedy) = 1 - eps + eps / A; the others share eps / A each."""
    rng = np.random.default_rng(1)
    q = np.array([0.0, 1.0, 0.0, 0.0])
    n = 20_000
    actions = np.array([epsilon_greedy_action(q, 0.4, rng) for _ in range(n)])
    freq = np.bincount(actions, minlength=4) / n
    np.testing.assert_allclose(freq, [0.1, 0.7, 0.1, 0.1], atol=0.015)


def test_epsilon_greedy_is_reproducible_and_rejects_bad_epsilon():
    q = np.zeros(3)
    first = [epsilon_greedy_action(q, 0.5, np.random.default_rng(5)) for _ in range(3)]
    again = [epsilon_greedy_action(q, 0.5, np.random.default_rng(5)) for _ in range(3)]
    assert first == again
    with pytest.raises(ValueError, match="epsilon"):
        epsilon_greedy_action(q, 1.5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="shape"):
        epsilon_greedy_action(np.zeros((2, 2, 2)), 0.1, np.random.default_rng(0))


# ------------------------------------------------------------------------------ reward-to-go


def test_reward_to_go_three_steps():
    # G_2 = 3; G_1 = 2 + .5 * 3 = 3.5; G_0 = 1 + .5 * 3.5 = 2.75
    np.testing.assert_allclose(reward_to_go(np.array([1.0, 2.0, 3.0]), 0.5), [2.75, 3.5, 3.0])


def test_reward_to_go_single_step_and_edge_gammas():
    np.testing.assert_allclose(reward_to_go(np.array([4.0]), 0.9), [4.0])
    rewards = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(reward_to_go(rewards, 0.0), rewards)
    np.testing.assert_allclose(reward_to_go(rewards, 1.0), [6.0, 5.0, 3.0])


def test_reward_to_go_torch_in_torch_out():
    out = reward_to_go(torch.tensor([1.0, 1.0, 1.0], dtype=torch.float64), 0.5)
    assert torch.is_tensor(out) and out.dtype == torch.float64
    torch.testing.assert_close(out, torch.tensor([1.75, 1.5, 1.0], dtype=torch.float64))


def test_returns_weights_total_return_and_student_function():
    rewards = np.array([1.0, 0.0, 2.0])
    np.testing.assert_allclose(returns_weights(rewards, 0.5), [1.5, 1.0, 2.0])
    np.testing.assert_allclose(
        returns_weights(rewards, 0.5, weighting="total_return"), [1.5, 1.5, 1.5]
    )

    def wrong_shape(rewards, gamma):
        return np.array([rewards.sum()])

    with pytest.raises(ValueError, match="one G_t per step"):
        returns_weights(rewards, 0.5, reward_to_go_fn=wrong_shape)
    with pytest.raises(ValueError, match="weighting"):
        returns_weights(rewards, 0.5, weighting="bogus")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ REINFORCE loss


def test_reinforce_loss_sign_and_gradient():
    """Descending the loss raises log pi of actions with positive weight."""
    log_probs = torch.tensor([-1.0, -2.0, -0.5], requires_grad=True)
    weights = torch.tensor([1.0, 2.0, -4.0])
    loss = reinforce_loss(log_probs, weights)
    torch.testing.assert_close(loss, -(-1.0 - 4.0 + 2.0) / 3 * torch.ones(()))
    loss.backward()
    torch.testing.assert_close(log_probs.grad, -weights / 3)


def test_reinforce_loss_step_increases_probability_of_rewarded_action():
    logits = torch.zeros(2, requires_grad=True)
    optimizer = torch.optim.SGD([logits], lr=0.1)
    log_probs = torch.log_softmax(logits, dim=0)[torch.tensor([1])]
    reinforce_loss(log_probs, torch.tensor([5.0])).backward()
    optimizer.step()
    assert torch.softmax(logits, dim=0)[1] > 0.5


def test_reinforce_loss_treats_weights_as_constants():
    log_probs = torch.tensor([-1.0, -1.0], requires_grad=True)
    baseline = torch.tensor([0.5, 0.5], requires_grad=True)
    reinforce_loss(log_probs, torch.tensor([1.0, 2.0]) - baseline).backward()
    assert baseline.grad is None


def test_value_loss():
    torch.testing.assert_close(
        value_loss(torch.tensor([1.0, 3.0]), torch.tensor([0.0, 0.0])), torch.tensor(5.0)
    )


# ------------------------------------------------------------------------------ schedules


def test_schedules():
    epsilon = linear_schedule(1.0, 0.05, 100)
    assert epsilon(0) == 1.0 and epsilon(100) == pytest.approx(0.05) and epsilon(10**6) == 0.05
    assert epsilon(50) == pytest.approx(0.525)
    assert linear_schedule(0.3, 0.1, 0)(0) == 0.1
    assert exponential_schedule(1.0, 0.1, 0.5)(3) == 0.125
    assert constant_schedule(0.2)(7) == 0.2
    assert linear_schedule(1.0, 0.0, 10) == linear_schedule(1.0, 0.0, 10)  # by value
    with pytest.raises(ValueError, match="duration"):
        linear_schedule(1.0, 0.0, -1)
    with pytest.raises(ValueError, match="decay"):
        exponential_schedule(1.0, 0.0, 1.5)
