"""Tiers 2 and 3: the DQN and REINFORCE trainers on tiny known-answer envs and on CartPole.

Tier 2 (fast): a one-step bandit whose optimal Q-values are known, a never-ending env cut by a
time limit (bootstrapping through the truncation gives Q = 1 / (1 - gamma)), reproducibility,
students' functions plugged into the trainers, and the gradient isolation of the target.
Tier 3 (``slow``): short seeded learning runs on CartPole-v1.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.wrappers import TimeLimit

from rlkit.agents import dqn, reinforce


class Bandit(gym.Env):
    """One step: action 1 pays 1, action 0 pays 0, then the episode terminates."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        return np.zeros(1, np.float32), {}

    def step(self, action: Any):
        return np.zeros(1, np.float32), float(action == 1), True, False, {}


class Forever(gym.Env):
    """Reward 1 every step, never terminates; only a TimeLimit ends (truncates) an episode."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        return np.zeros(1, np.float32), {}

    def step(self, action: Any):
        return np.zeros(1, np.float32), 1.0, False, False, {}


TINY_DQN = dqn.DQNConfig(
    total_steps=1_500,
    learning_rate=1e-2,
    hidden_sizes=(16,),
    batch_size=32,
    learning_starts=100,
    train_freq=1,
    gradient_steps=1,
    target_update_interval=50,
    epsilon_end=0.05,
    epsilon_decay_steps=500,
    eval_interval=0,
    eval_episodes=2,
)


# ------------------------------------------------------------------------------ DQN, tier 2


def test_dqn_learns_the_bandit_q_values():
    history = dqn.train(TINY_DQN, seed=0, env=Bandit)
    q = history.q_network(torch.zeros(1, 1)).detach()[0]
    torch.testing.assert_close(q, torch.tensor([0.0, 1.0]), atol=0.05, rtol=0)
    assert history.final_evaluation.mean == 1.0 and history.act(np.zeros(1)) == 1


def test_dqn_bootstraps_through_truncation():
    """With a time limit only, every target bootstraps: Q = 1 + gamma Q = 1 / (1 - gamma) = 2.

    Treating the truncation as terminal would give Q = 1 / (1 - 0.5 * 0.9) ~ 1.82 instead.
    """
    seen_terminated = []

    def spy_td_target(rewards, next_q_values, terminated, gamma):
        seen_terminated.append(float(terminated.sum()))
        return dqn.td_target(rewards, next_q_values, terminated, gamma)

    config = dataclasses.replace(TINY_DQN, gamma=0.5, total_steps=2_000)
    history = dqn.train(
        config, seed=0, env=lambda: TimeLimit(Forever(), 10), td_target_fn=spy_td_target
    )
    assert history.episode_lengths[0] == 10 and set(history.episode_returns) == {10.0}
    assert seen_terminated and max(seen_terminated) == 0.0  # truncated never masks
    q = history.q_network(torch.zeros(1, 1)).detach()[0]
    torch.testing.assert_close(q, torch.tensor([2.0, 2.0]), atol=0.05, rtol=0)


def test_dqn_gradient_never_reaches_the_target_network():
    captured: dict[str, Any] = {}

    def spy_update_target(online, target, tau=1.0):
        captured["target"] = target
        captured["online"] = online
        dqn.update_target(online, target, tau)

    def spy_loss(q_values, actions, targets):
        assert not targets.requires_grad  # a constant of the loss
        assert q_values.requires_grad
        return dqn.dqn_loss(q_values, actions, targets)

    dqn.train(TINY_DQN, seed=0, env=Bandit, update_target_fn=spy_update_target, loss_fn=spy_loss)
    target, online = captured["target"], captured["online"]
    assert target is not online
    assert all(p.grad is None and not p.requires_grad for p in target.parameters())
    assert all(p.grad is not None for p in online.parameters())


def test_dqn_without_target_network_bootstraps_from_the_online_net_without_grad():
    calls = []

    def spy_td_target(rewards, next_q_values, terminated, gamma):
        calls.append(next_q_values.requires_grad)
        return dqn.td_target(rewards, next_q_values, terminated, gamma)

    def never(*args):
        raise AssertionError("no target network, no target update")

    config = dataclasses.replace(TINY_DQN, use_target_network=False)
    history = dqn.train(
        config, seed=0, env=Bandit, td_target_fn=spy_td_target, update_target_fn=never
    )
    assert calls and not any(calls)
    assert history.final_evaluation.mean == 1.0


def test_dqn_without_replay_learns_from_the_latest_transition():
    batches = []

    def spy_loss(q_values, actions, targets):
        batches.append(q_values.shape[0])
        return dqn.dqn_loss(q_values, actions, targets)

    config = dataclasses.replace(TINY_DQN, use_replay=False, total_steps=300)
    dqn.train(config, seed=0, env=Bandit, loss_fn=spy_loss)
    assert set(batches) == {1} and len(batches) == 300 - config.learning_starts + 1


def test_dqn_same_seed_same_history_and_other_seed_differs():
    config = dataclasses.replace(
        dqn.DQNConfig(), total_steps=1_500, learning_starts=500, eval_interval=500, eval_episodes=2
    )
    first, again = dqn.train(config, seed=3), dqn.train(config, seed=3)
    np.testing.assert_array_equal(first.episode_returns, again.episode_returns)
    np.testing.assert_array_equal(first.losses, again.losses)
    assert [e[:3] for e in first.evaluations] == [e[:3] for e in again.evaluations]
    other = dqn.train(config, seed=4)
    assert not np.array_equal(first.episode_returns, other.episode_returns)
    assert [e.step for e in first.evaluations] == [500, 1000, 1500]
    assert first.epsilons.shape == first.episode_returns.shape
    assert np.all(np.diff(first.epsilons) <= 0)  # the schedule only decays


def test_dqn_history_bookkeeping_and_timing():
    config = dataclasses.replace(TINY_DQN, total_steps=400, eval_interval=200)
    history = dqn.train(config, seed=1, env=Bandit, progress=True)
    assert history.episode_end_steps.tolist() == list(range(1, 401))  # one step per episode
    assert len(history.losses) == 400 - config.learning_starts + 1
    assert [e.step for e in history.evaluations] == [200, 400]
    assert 0 < history.evaluations[0].train_seconds <= history.train_seconds
    assert history.train_seconds <= history.wall_seconds
    assert torch.get_num_threads() >= 1


def test_dqn_rejects_continuous_actions_and_bad_settings():
    with pytest.raises(ValueError, match="Discrete action space"):
        dqn.train(TINY_DQN, seed=0, env="Pendulum-v1")
    with pytest.raises(ValueError, match="gamma"):
        dqn.DQNConfig(gamma=1.5)
    with pytest.raises(ValueError, match="batch_size"):
        dqn.DQNConfig(batch_size=0)
    with pytest.raises(ValueError, match="tau"):
        dqn.DQNConfig(tau=0.0)
    with pytest.raises(ValueError, match="final_learning_rate"):
        dqn.DQNConfig(final_learning_rate=-1e-3)


def test_dqn_stops_at_target_return():
    config = dataclasses.replace(TINY_DQN, eval_interval=100, target_return=1.0)
    history = dqn.train(config, seed=0, env=Bandit)
    assert history.final_evaluation.mean >= 1.0 and history.final_evaluation.step < 1_500


def test_dqn_runs_a_students_schedule_and_sampler():
    sizes = []

    def constant_epsilon(step, start, end, decay_steps):
        assert (start, end, decay_steps) == (1.0, 0.05, 500)
        return 0.3

    def spy_sample(buffer, batch_size, rng):
        sizes.append(batch_size)
        return dqn.sample_batch(buffer, batch_size, rng)

    config = dataclasses.replace(TINY_DQN, total_steps=300)
    history = dqn.train(config, seed=0, env=Bandit, epsilon_fn=constant_epsilon,
                        sample_fn=spy_sample)
    assert set(history.epsilons) == {0.3}
    assert len(sizes) == len(history.losses) and set(sizes) == {config.batch_size}


def test_dqn_history_keeps_each_gradient_step_s_loss_as_the_loss_fn_returned_it():
    returned = []

    def one_element_loss(q_values, actions, targets):  # shape (1,): backward() takes it too
        loss = dqn.dqn_loss(q_values, actions, targets).reshape(1)
        returned.append(float(loss))
        return loss

    history = dqn.train(TINY_DQN, seed=0, env=Bandit, loss_fn=one_element_loss)
    assert history.losses.dtype == np.float64 and history.losses.tolist() == returned
    assert len(set(returned)) > 1


@pytest.mark.parametrize("final", [0.0, None])
def test_dqn_learning_rate_decays_to_the_final_rate(final):
    """The round of updates at the last step runs with eta = final (0: nothing moves)."""
    q_before_each_step: list[torch.Tensor] = []

    def spy_loss(q_values, actions, targets):
        q_before_each_step.append(q_values.detach().clone())  # the Bandit has one state
        return dqn.dqn_loss(q_values, actions, targets)

    config = dataclasses.replace(TINY_DQN, total_steps=400, train_freq=100, gradient_steps=3,
                                 final_learning_rate=final)
    dqn.train(config, seed=0, env=Bandit, loss_fn=spy_loss)
    first_round, last_round = q_before_each_step[:3], q_before_each_step[-3:]
    assert not all(torch.equal(first_round[0], q) for q in first_round)  # eta > 0 at first
    assert all(torch.equal(last_round[0], q) for q in last_round) == (final == 0.0)


def test_dqn_q_network_has_layer_norm_by_default():
    layers = dqn.train(TINY_DQN, seed=0, env=Bandit).q_network.net
    assert sum(isinstance(m, torch.nn.LayerNorm) for m in layers) == len(TINY_DQN.hidden_sizes)
    plain = dqn.train(dataclasses.replace(TINY_DQN, layer_norm=False), seed=0, env=Bandit)
    assert not any(isinstance(m, torch.nn.LayerNorm) for m in plain.q_network.net)


def test_dqn_default_config_is_the_preset_of_the_env_else_the_defaults():
    preset = dqn.default_config("CartPole-v1")
    assert preset == dqn.PRESETS["CartPole-v1"] != dqn.DQNConfig()  # tuned, not the defaults
    assert dqn.default_config("CartPole-v1", batch_size=8).batch_size == 8
    assert dqn.default_config("Acrobot-v1") == dqn.DQNConfig(env_id="Acrobot-v1")
    assert dqn.default_config("Acrobot-v1", total_steps=10).total_steps == 10


def settings_of_train_dqn(capsys: Any, *argv: str) -> str:
    """The ``settings:`` line that ``python -m rlkit train dqn ARGV`` prints."""
    from rlkit.cli import main

    assert main(["train", "dqn", "--steps", "200", "--eval-episodes", "1", "--no-progress",
                 *argv]) == 0
    lines = capsys.readouterr().out.splitlines()
    return next(line for line in lines if line.startswith("settings: "))


def test_train_dqn_on_the_command_line_uses_the_env_s_preset(capsys):
    cli = dict(total_steps=200, eval_episodes=1, use_replay=True, use_target_network=True)
    cartpole = settings_of_train_dqn(capsys, "--env", "CartPole-v1")
    assert cartpole == f"settings: {dqn.default_config('CartPole-v1', **cli)}"
    assert "batch_size=256" in cartpole  # the preset's, not DQNConfig's 128
    acrobot = settings_of_train_dqn(capsys, "--env", "Acrobot-v1")  # no preset: the defaults
    assert acrobot == f"settings: {dqn.DQNConfig(env_id='Acrobot-v1', **cli)}"


# ------------------------------------------------------------------------------ REINFORCE, tier 2

TINY_REINFORCE = reinforce.ReinforceConfig(
    total_steps=3_000, batch_size=100, learning_rate=5e-2, hidden_sizes=(8,), eval_interval=0,
    eval_episodes=2,
)  # fmt: skip


def prob_of_action_1(history: reinforce.ReinforceHistory) -> float:
    with torch.no_grad():
        return float(history.policy.distribution(torch.zeros(1, 1)).probs[0, 1])


def test_reinforce_learns_the_bandit():
    history = reinforce.train(TINY_REINFORCE, seed=0, env=Bandit)
    assert prob_of_action_1(history) > 0.95
    assert history.final_evaluation.mean == 1.0
    assert len(history.losses) == 30


def test_reinforce_with_the_wrong_sign_unlearns():
    def wrong_sign(log_probs, weights):
        return -reinforce.reinforce_loss(log_probs, weights)

    config = dataclasses.replace(TINY_REINFORCE, baseline="none")
    history = reinforce.train(config, seed=0, env=Bandit, loss_fn=wrong_sign)
    assert prob_of_action_1(history) < 0.05


@pytest.mark.parametrize("baseline", ["none", "mean", "value"])
@pytest.mark.parametrize("weighting", ["reward_to_go", "total_return"])
def test_reinforce_variants_learn_the_bandit(baseline, weighting):
    config = dataclasses.replace(TINY_REINFORCE, baseline=baseline, weighting=weighting)
    history = reinforce.train(config, seed=1, env=Bandit)
    assert prob_of_action_1(history) > 0.9
    assert (history.value_network is not None) == (baseline == "value")
    assert len(history.value_losses) == (len(history.losses) if baseline == "value" else 0)


def test_reinforce_runs_a_students_reward_to_go_to_the_same_history():
    def student_reward_to_go(rewards, gamma):
        out = np.zeros(len(rewards))
        for t in range(len(rewards)):
            out[t] = sum(gamma ** (k - t) * rewards[k] for k in range(t, len(rewards)))
        return out

    config = dataclasses.replace(
        reinforce.ReinforceConfig(), total_steps=1_500, batch_size=500, eval_interval=500
    )
    reference = reinforce.train(config, seed=2)
    student = reinforce.train(config, seed=2, reward_to_go_fn=student_reward_to_go)
    np.testing.assert_array_equal(reference.episode_returns, student.episode_returns)
    np.testing.assert_allclose(reference.losses, student.losses, rtol=1e-5)
    again = reinforce.train(config, seed=2)
    np.testing.assert_array_equal(reference.losses, again.losses)
    assert [e.step for e in reference.evaluations][:1] == [
        reference.episode_end_steps[np.searchsorted(reference.episode_end_steps, 500)]
    ]


def test_reinforce_value_baseline_bootstraps_a_truncated_episode():
    """At a time limit the weights include gamma^(T-t) V(s_T): V fits 1 / (1 - gamma) = 2."""
    config = dataclasses.replace(
        TINY_REINFORCE, baseline="value", gamma=0.5, total_steps=4_000, value_iters=50
    )
    history = reinforce.train(config, seed=0, env=lambda: TimeLimit(Forever(), 10))
    with torch.no_grad():
        value = float(history.value_network(torch.zeros(1, 1)))
    assert value == pytest.approx(2.0, abs=0.05)


def test_reinforce_rejects_bad_settings():
    with pytest.raises(ValueError, match="baseline"):
        reinforce.ReinforceConfig(baseline="median")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="weighting"):
        reinforce.ReinforceConfig(weighting="all")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Discrete action space"):
        reinforce.train(TINY_REINFORCE, seed=0, env="Pendulum-v1")


def test_dqn_action_gap_widens_the_gap_and_keeps_the_best_action():
    """Advantage learning on the bandit: Q(1) = 1 as before, and the action not taken best
    settles where Q(0) = 0 - alpha (Q(1) - Q(0)), i.e. Q(0) = -alpha / (1 - alpha) = -1."""
    history = dqn.train(dataclasses.replace(TINY_DQN, action_gap=0.5), seed=0, env=Bandit)
    q = history.q_network(torch.zeros(1, 1)).detach()[0]
    torch.testing.assert_close(q, torch.tensor([-1.0, 1.0]), atol=0.1, rtol=0)
    assert history.act(np.zeros(1)) == 1
    with pytest.raises(ValueError, match="action_gap"):
        dqn.DQNConfig(action_gap=1.0)


def test_double_dqn_lets_the_online_net_choose_and_learns_the_same_values():
    """double_q: td_target gets Q~(s', argmax_a' Q(s', a')) as one column; while online and
    target networks are equal (the first gradient step) that is plain DQN's max, later not."""
    columns, first_losses = [], {}

    def spy_td_target(rewards, next_q_values, terminated, gamma):
        columns.append(next_q_values.shape[-1])
        return dqn.td_target(rewards, next_q_values, terminated, gamma)

    config = dataclasses.replace(TINY_DQN, gamma=0.5, total_steps=2_000)
    histories = {}
    for double in (False, True):
        columns.clear()
        histories[double] = dqn.train(
            dataclasses.replace(config, double_q=double), seed=0,
            env=lambda: TimeLimit(Forever(), 10), td_target_fn=spy_td_target,
        )
        assert set(columns) == {1 if double else 2}
        first_losses[double] = histories[double].losses[0]
    assert first_losses[False] == first_losses[True]
    assert not np.array_equal(histories[False].losses, histories[True].losses)
    q = histories[True].q_network(torch.zeros(1, 1)).detach()[0]
    torch.testing.assert_close(q, torch.tensor([2.0, 2.0]), atol=0.05, rtol=0)


# ------------------------------------------------------------------------------ tier 3 (slow)


@pytest.mark.slow
def test_dqn_default_config_learns_cartpole():
    """The default settings get a greedy CartPole-v1 policy to >= 150 within 25k steps."""
    config = dataclasses.replace(dqn.DQNConfig(), total_steps=25_000, target_return=150.0)
    history = dqn.train(config, seed=0)
    assert history.evaluations[0].mean < 50  # an untrained policy drops the pole quickly
    assert max(e.mean for e in history.evaluations) >= 150


@pytest.mark.slow
def test_dqn_cartpole_preset_reaches_475_and_stays():
    """The CartPole-v1 preset, seed 0: a greedy evaluation reaches 475 and the final one too."""
    history = dqn.train(dqn.default_config("CartPole-v1"), seed=0)
    assert history.evaluations[0].mean < 200
    assert max(e.mean for e in history.evaluations) >= 475
    assert history.final_evaluation.mean >= 475


@pytest.mark.slow
def test_reinforce_default_config_improves_clearly_on_cartpole():
    config = dataclasses.replace(
        reinforce.ReinforceConfig(), total_steps=60_000, eval_interval=5_000, target_return=200.0
    )
    history = reinforce.train(config, seed=0)
    first_batches = history.episode_returns[:50].mean()
    assert first_batches < 40
    assert max(e.mean for e in history.evaluations) >= 200
    assert history.episode_returns[-20:].mean() > 3 * first_batches
