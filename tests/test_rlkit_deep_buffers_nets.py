"""Tier 1: the replay buffer, the networks and the seeded evaluation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.distributions import Categorical, Independent, Normal

from rlkit.buffers import ReplayBuffer
from rlkit.evaluation import evaluate
from rlkit.nets import (
    CategoricalPolicy,
    GaussianPolicy,
    QNetwork,
    ValueNetwork,
    bound_log_std,
    gaussian_entropy,
    gaussian_log_prob,
    mlp,
    torch_threads,
)

# ------------------------------------------------------------------------------ buffer


def fill(buffer: ReplayBuffer, n: int) -> None:
    for t in range(n):
        buffer.add(
            np.full(2, t), t % 3, float(t), np.full(2, t + 1),
            terminated=t % 5 == 4, truncated=t % 7 == 6,
        )  # fmt: skip


def test_ring_buffer_wraps_around_and_overwrites_the_oldest():
    buffer = ReplayBuffer(capacity=5, obs_shape=(2,))
    fill(buffer, 3)
    assert len(buffer) == 3
    fill(buffer, 0)
    for t in range(3, 8):  # continue the stream: 8 transitions into 5 slots
        buffer.add(np.full(2, t), 0, float(t), np.full(2, t + 1), False, False)
    assert len(buffer) == 5
    assert sorted(buffer.rewards.tolist()) == [3.0, 4.0, 5.0, 6.0, 7.0]
    # slot 0 was written by t = 0 then t = 5
    assert buffer.rewards[0] == 5.0 and buffer.obs[0].tolist() == [5.0, 5.0]
    np.testing.assert_array_equal(buffer.next_obs[:, 0], buffer.obs[:, 0] + 1)


def test_terminated_and_truncated_are_kept_apart():
    buffer = ReplayBuffer(capacity=20, obs_shape=(2,))
    fill(buffer, 14)
    np.testing.assert_array_equal(np.flatnonzero(buffer.terminated[:14]), [4, 9])
    np.testing.assert_array_equal(np.flatnonzero(buffer.truncated[:14]), [6, 13])
    batch = buffer.sample(256, np.random.default_rng(0))
    # each sampled row carries its own flags
    np.testing.assert_array_equal(batch.terminated, batch.rewards % 5 == 4)
    np.testing.assert_array_equal(batch.truncated, batch.rewards % 7 == 6)


def test_seeded_sampling_is_reproducible_and_uniform():
    buffer = ReplayBuffer(capacity=10, obs_shape=(2,))
    fill(buffer, 10)
    a = buffer.sample(32, np.random.default_rng(3))
    b = buffer.sample(32, np.random.default_rng(3))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    counts = np.bincount(
        buffer.sample(20_000, np.random.default_rng(4)).rewards.astype(int), minlength=10
    )
    assert counts.min() > 1_800 and counts.max() < 2_200  # 2,000 expected per slot


def test_dtypes_shapes_and_copies():
    buffer = ReplayBuffer(capacity=4, obs_shape=(3, 2), obs_dtype=np.uint8)
    buffer.add(np.ones((3, 2)), 1, 1.0, np.ones((3, 2)), True, False)
    batch = buffer.sample(5, np.random.default_rng(0))
    assert batch.obs.shape == (5, 3, 2) and batch.obs.dtype == np.uint8
    assert batch.actions.dtype == np.int64 and batch.rewards.dtype == np.float32
    assert batch.terminated.dtype == bool and batch.truncated.dtype == bool
    batch.obs[:] = 9  # a copy: the buffer is untouched
    assert buffer.obs[0, 0, 0] == 1
    tensors = batch.to_torch()
    assert tensors.obs.dtype == torch.float32 and tensors.actions.dtype == torch.int64
    assert tensors.terminated.dtype == torch.float32 and tensors.truncated.tolist() == [0.0] * 5


def test_continuous_actions_and_errors():
    buffer = ReplayBuffer(3, (1,), action_shape=(2,), action_dtype=np.float32)
    with pytest.raises(ValueError, match="empty"):
        buffer.sample(1, np.random.default_rng(0))
    buffer.add([0.0], [0.5, -0.5], 0.0, [1.0], False, False)
    batch = buffer.sample(2, np.random.default_rng(0))
    assert batch.actions.shape == (2, 2) and batch.to_torch().actions.dtype == torch.float32
    with pytest.raises(ValueError, match="batch_size"):
        buffer.sample(0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(0, (1,))


def test_capacity_one_keeps_only_the_latest_transition():
    buffer = ReplayBuffer(1, (1,))
    for t in range(3):
        buffer.add([t], 0, float(t), [t], False, False)
    assert (
        len(buffer) == 1
        and buffer.sample(4, np.random.default_rng(0)).rewards.tolist() == [2.0] * 4
    )


# ------------------------------------------------------------------------------ nets


def test_mlp_layers_and_activations():
    net = mlp([3, 8, 8, 2], activation=nn.ReLU, output_activation=nn.Tanh)
    kinds = [type(m).__name__ for m in net]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Linear", "Tanh"]
    assert net(torch.zeros(7, 3)).shape == (7, 2)
    with pytest.raises(ValueError, match="sizes"):
        mlp([4])


def test_q_network_shapes():
    torch.manual_seed(0)
    q = QNetwork(4, 3, hidden_sizes=(16,))
    assert q(torch.zeros(5, 4)).shape == (5, 3)
    assert q(np.zeros(4)).shape == (3,)  # float64 numpy is converted to float32


def test_dueling_q_network_is_the_value_plus_centred_advantages():
    torch.manual_seed(0)
    q = QNetwork(4, 3, hidden_sizes=(16,), dueling=True)
    obs = torch.randn(5, 4)
    out = q.net(obs)  # V(s), then A(s, .)
    assert out.shape == (5, 4) and q(obs).shape == (5, 3) and q(obs[0]).shape == (3,)
    torch.testing.assert_close(q(obs).mean(dim=-1), out[:, 0])  # the mean of Q(s, .) is V(s)
    advantages = out[:, 1:]
    torch.testing.assert_close(q(obs) - q(obs)[:, :1], advantages - advantages[:, :1])
    torch.testing.assert_close(q(obs[0]), q(obs)[0])


def test_categorical_policy_matches_torch_distributions():
    torch.manual_seed(0)
    policy = CategoricalPolicy(4, 3, hidden_sizes=(8,))
    obs = torch.randn(6, 4)
    actions = torch.tensor([0, 1, 2, 2, 1, 0])
    expected = Categorical(logits=policy(obs)).log_prob(actions)
    torch.testing.assert_close(policy.log_prob(obs, actions), expected)
    manual = torch.log_softmax(policy(obs), dim=-1)[torch.arange(6), actions]
    torch.testing.assert_close(policy.log_prob(obs, actions), manual)
    assert policy.log_prob(obs, actions).requires_grad


def test_categorical_act_with_generator_is_reproducible_and_follows_pi():
    torch.manual_seed(0)
    policy = CategoricalPolicy(2, 2, hidden_sizes=(4,))
    with torch.no_grad():
        policy.logits_net[-1].weight.zero_()
        policy.logits_net[-1].bias.copy_(torch.tensor([0.0, math.log(3.0)]))  # pi = (.25, .75)
    obs = np.zeros(2, dtype=np.float32)
    draws = [policy.act(obs, torch.Generator().manual_seed(1)) for _ in range(3)]
    assert len(set(draws)) == 1 and isinstance(draws[0], int)
    generator = torch.Generator().manual_seed(2)
    batch = policy.act(np.zeros((4000, 2), dtype=np.float32), generator)
    assert batch.shape == (4000,) and abs(batch.mean() - 0.75) < 0.03
    assert policy.act(obs, deterministic=True) == 1


def test_gaussian_policy_log_prob_sums_independent_dimensions():
    torch.manual_seed(0)
    policy = GaussianPolicy(3, 2, hidden_sizes=(8,), log_std_init=-0.5)
    obs, actions = torch.randn(5, 3), torch.randn(5, 2)
    std = math.exp(-0.5)
    expected = Normal(policy(obs), std).log_prob(actions).sum(dim=-1)
    torch.testing.assert_close(policy.log_prob(obs, actions), expected)
    _, log_std = policy.mean_and_log_std(obs)
    assert log_std.requires_grad and log_std.shape == (2,)
    assert policy.raw_log_std is not None and policy.raw_log_std.requires_grad
    sample = policy.act(np.zeros(3, dtype=np.float32), torch.Generator().manual_seed(0))
    again = policy.act(np.zeros(3, dtype=np.float32), torch.Generator().manual_seed(0))
    np.testing.assert_array_equal(sample, again)
    np.testing.assert_array_equal(
        policy.act(np.zeros(3, dtype=np.float32), deterministic=True),
        policy(torch.zeros(3)).detach().numpy(),
    )


@pytest.mark.parametrize("state_dependent_std", [False, True])
def test_gaussian_log_prob_and_entropy_match_torch_distributions(state_dependent_std):
    torch.manual_seed(1)
    policy = GaussianPolicy(3, 2, hidden_sizes=(8,), log_std_init=-1.0,
                            state_dependent_std=state_dependent_std)
    with torch.no_grad():  # move log sigma away from its start, differently per state
        for p in policy.parameters():
            p.add_(0.3 * torch.randn_like(p))
    obs, actions = torch.randn(7, 3), 3.0 * torch.randn(7, 2)
    mean, log_std = policy.mean_and_log_std(obs)
    assert log_std.shape == ((7, 2) if state_dependent_std else (2,))
    reference = Independent(Normal(mean, log_std.exp().expand_as(mean)), 1)
    tight = {"atol": 1e-6, "rtol": 1e-6}  # float32: |log-probs| up to ~100 here
    torch.testing.assert_close(gaussian_log_prob(actions, mean, log_std),
                               reference.log_prob(actions), **tight)
    torch.testing.assert_close(policy.log_prob(obs, actions), reference.log_prob(actions),
                               **tight)
    torch.testing.assert_close(policy.entropy(obs), reference.entropy(), **tight)
    double = [x.detach().double() for x in (actions, mean, log_std)]
    torch.testing.assert_close(  # float64: the same to 1e-6 absolute
        gaussian_log_prob(*double),
        Independent(Normal(double[1], double[2].exp().expand_as(double[1])), 1).log_prob(
            double[0]), atol=1e-6, rtol=0)
    torch.testing.assert_close(policy.distribution(obs).entropy(), reference.entropy())


def test_gaussian_log_prob_on_numpy_and_its_gradient():
    rng = np.random.default_rng(0)
    actions, mean, log_std = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), rng.normal(size=3)
    reference = Normal(torch.tensor(mean), torch.tensor(log_std).exp()).log_prob(
        torch.tensor(actions)).sum(-1).numpy()
    out = gaussian_log_prob(actions, mean, log_std)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    np.testing.assert_allclose(out, reference, rtol=1e-12)
    np.testing.assert_allclose(gaussian_entropy(np.zeros((2, 3))), [3 * 0.5 * math.log(
        2 * math.pi * math.e)] * 2)
    mu = torch.zeros(1, 1, requires_grad=True)
    sigma_log = torch.zeros(1, requires_grad=True)
    gaussian_log_prob(torch.tensor([[2.0]]), mu, sigma_log).backward()
    assert mu.grad.item() == pytest.approx(2.0)  # (a - mu) / sigma^2
    assert sigma_log.grad.item() == pytest.approx(2.0 ** 2 - 1)  # z^2 - 1


def test_gaussian_log_prob_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="actions and mean must have the same shape"):
        gaussian_log_prob(np.zeros((4, 2)), np.zeros((4, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="log_std must broadcast"):
        gaussian_log_prob(np.zeros((4, 2)), np.zeros((4, 2)), np.zeros(3))


def test_log_std_is_bounded_and_keeps_a_gradient_at_the_bounds():
    raw = torch.tensor([-50.0, -3.0, 0.0, 3.0, 50.0], requires_grad=True)
    bounded = bound_log_std(raw, -5.0, 2.0)
    assert bounded.min() >= -5.0 and bounded.max() <= 2.0
    bounded[1:4].sum().backward()
    assert (raw.grad[1:4] > 0).all()
    torch.manual_seed(0)
    policy = GaussianPolicy(2, 1, hidden_sizes=(4,), log_std_bounds=(-2.0, 0.5))
    with torch.no_grad():
        policy.raw_log_std.fill_(1e3)  # as far as an optimiser could push it
    _, log_std = policy.mean_and_log_std(torch.zeros(1, 2))
    assert log_std.item() == pytest.approx(0.5)
    with pytest.raises(ValueError, match="log_std_init must lie inside"):
        GaussianPolicy(2, 1, log_std_init=3.0)


def test_gaussian_samples_are_not_clipped():
    torch.manual_seed(0)
    policy = GaussianPolicy(1, 1, hidden_sizes=(4,), log_std_init=1.5)  # sigma ~ 4.5
    draws = policy.act(np.zeros((2000, 1), dtype=np.float32), torch.Generator().manual_seed(0))
    assert np.abs(draws).max() > 5.0  # the policy's own draws; the env's box is not its business


def test_categorical_entropy_and_value_network():
    torch.manual_seed(0)
    policy = CategoricalPolicy(4, 3, hidden_sizes=(8,))
    obs = torch.randn(5, 4)
    torch.testing.assert_close(policy.entropy(obs), Categorical(logits=policy(obs)).entropy(),
                               atol=1e-6, rtol=0)
    critic = ValueNetwork(4, hidden_sizes=(8,))
    assert critic(obs).shape == (5,) and critic(obs).requires_grad


def test_torch_threads_restores_the_setting():
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError), torch_threads(1):
        assert torch.get_num_threads() == 1
        raise RuntimeError
    assert torch.get_num_threads() == before


# ------------------------------------------------------------------------------ evaluation


def test_evaluate_is_seeded_and_reports_population_std():
    def policy(obs):
        return int(obs[2] > 0)  # push towards the side the pole leans to

    first = evaluate("CartPole-v1", policy, n_episodes=4, seed=3)
    again = evaluate("CartPole-v1", policy, n_episodes=4, seed=3)
    np.testing.assert_array_equal(first.returns, again.returns)
    assert first.mean == pytest.approx(first.returns.mean())
    assert first.std == pytest.approx(first.returns.std(ddof=0))
    np.testing.assert_array_equal(first.lengths, first.returns)  # CartPole: reward 1 per step
    assert first.mean > 20  # far better than a constant action (~10)
    other = evaluate("CartPole-v1", policy, n_episodes=4, seed=4)
    assert not np.array_equal(first.returns, other.returns)


def test_evaluate_with_a_factory_and_max_steps():
    import gymnasium as gym

    result = evaluate(
        lambda: gym.make("CartPole-v1"), lambda obs: int(obs[2] > 0), n_episodes=2, seed=0,
        max_steps=5,
    )  # fmt: skip
    assert result.lengths.tolist() == [5, 5]
    with pytest.raises(ValueError, match="n_episodes"):
        evaluate("CartPole-v1", lambda obs: 0, n_episodes=0, seed=0)


@pytest.mark.parametrize("max_steps", [None, 40])
def test_batched_evaluate_runs_the_same_episodes(max_steps):
    def policy(obs):
        return int(obs[2] > 0)

    def batch_policy(observations):
        assert observations.shape[1:] == (4,)
        return (observations[:, 2] > 0).astype(np.int64)

    one_by_one = evaluate("CartPole-v1", policy, n_episodes=6, seed=5, max_steps=max_steps)
    side_by_side = evaluate(
        "CartPole-v1", batch_policy, n_episodes=6, seed=5, max_steps=max_steps, batched=True
    )
    np.testing.assert_array_equal(one_by_one.returns, side_by_side.returns)
    np.testing.assert_array_equal(one_by_one.lengths, side_by_side.lengths)
    assert len(set(one_by_one.lengths.tolist())) > 1  # episodes of different lengths


def test_batched_evaluate_rejects_a_policy_that_is_not_batched():
    with pytest.raises(ValueError, match="one action per observation"):
        evaluate("CartPole-v1", lambda obs: 0, n_episodes=3, seed=0, batched=True)
