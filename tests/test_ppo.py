"""rlkit.agents.ppo: the math pieces' known answers, the trainer on tiny envs, CartPole, Pendulum.

Tier 1: the math pieces against hand-computed values (the lecture's six cases of L^CLIP, in
value and in gradient; the two KL estimators against the exact KL of a small categorical).
Tier 2 (fast): a truncated step bootstraps from the real final observation, every replaced
math piece is called by the trainer, target_kl stops the epochs, a seed repeats its history,
bad settings are refused. Tier 3 (``slow``): the presets learn CartPole-v1 and Pendulum-v1.
"""

from __future__ import annotations

import dataclasses
from collections import Counter as Tally

import gymnasium as gym
import matplotlib
import numpy as np
import pytest
import torch
from gymnasium.wrappers import TimeLimit
from test_a2c import (
    Counter,
    KnownCritic,
    Push,
    assert_box_actions_are_clipped_for_the_env_only,
    assert_cartpole_preset_solves_cartpole,
    assert_refused,
    capture_first_gae,
)

matplotlib.use("Agg")

from rlkit import plotting, rollouts  # noqa: E402
from rlkit.agents import ppo  # noqa: E402
from rlkit.nets import gaussian_log_prob  # noqa: E402

TINY = ppo.PPOConfig(
    total_steps=256, n_envs=2, n_steps=16, n_epochs=3, n_minibatches=4, hidden_sizes=(8,),
    value_hidden_sizes=(8,), eval_interval=0, eval_episodes=2,
)  # fmt: skip


def capped() -> gym.Env:
    return TimeLimit(Counter(), 20)


# ------------------------------------------------------------------------------ tier 1: math


@pytest.mark.parametrize(
    ("ratio", "advantage", "value", "has_gradient"),
    [
        (0.5, 1.0, 0.5, True),  # A > 0, r below the range: r A, the step is undone
        (1.1, 1.0, 1.1, True),  # A > 0, inside
        (1.5, 1.0, 1.2, False),  # A > 0, above: clipped, no gradient
        (0.5, -1.0, -0.8, False),  # A < 0, below: clipped, no gradient
        (0.9, -1.0, -0.9, True),  # A < 0, inside
        (1.5, -1.0, -1.5, True),  # A < 0, above: r A, the step is undone
    ],
)
def test_clip_loss_six_cases(ratio, advantage, value, has_gradient):
    r = torch.tensor([ratio], requires_grad=True)
    loss = ppo.ppo_clip_loss(r, torch.tensor([advantage]), clip_eps=0.2)
    assert loss.item() == pytest.approx(-value)
    loss.backward()
    assert r.grad.item() == pytest.approx(-advantage if has_gradient else 0.0)


def test_the_ratio_passes_gradient_to_the_new_log_probs_only():
    log_probs = torch.tensor([-1.0, -2.0], requires_grad=True)
    old = torch.tensor([-1.5, -2.0], requires_grad=True)
    ratio = ppo.importance_ratio(log_probs, old)
    torch.testing.assert_close(ratio, torch.tensor([np.exp(0.5), 1.0], dtype=torch.float32))
    ratio.sum().backward()
    torch.testing.assert_close(log_probs.grad, ratio.detach())
    assert old.grad is None


def test_both_kl_estimators_agree_with_the_exact_kl_on_a_categorical():
    old = torch.tensor([0.5, 0.3, 0.2])
    new = torch.tensor([0.4, 0.4, 0.2])
    exact = float((old * (old / new).log()).sum())
    actions = torch.multinomial(old, 200_000, replacement=True,
                                generator=torch.Generator().manual_seed(0))
    log_new, log_old = new.log()[actions], old.log()[actions]
    naive = float(ppo.approx_kl(log_new, log_old))
    low_variance = float(ppo.approx_kl_low_variance(log_new, log_old))
    assert naive == pytest.approx(exact, abs=2e-3)
    assert low_variance == pytest.approx(exact, abs=2e-3)
    terms_naive = log_old - log_new
    terms_low = (log_new - log_old).exp() - 1 - (log_new - log_old)
    assert terms_low.var() < terms_naive.var() and terms_low.min() >= 0


def test_value_clipping_takes_the_pessimistic_error():
    values = torch.tensor([2.0, 0.1], requires_grad=True)
    loss = ppo.clipped_value_loss(values, torch.tensor([0.0, 0.0]), torch.tensor([3.0, 0.0]), 0.5)
    assert loss.item() == pytest.approx(((0.5 - 3.0) ** 2 + 0.1**2) / 2)
    loss.backward()
    torch.testing.assert_close(values.grad, torch.tensor([0.0, 0.1]))  # the clipped one: none


# ------------------------------------------------------------------------------ tier 2: rollouts


def test_a_truncated_step_bootstraps_from_the_final_observation(monkeypatch):
    """Counter under a 3-step limit: V(s_{t+1}) of the cut step is V([3]) = 30, not V([0])."""
    monkeypatch.setattr(rollouts, "ValueNetwork", KnownCritic)
    calls: list[dict[str, np.ndarray]] = []
    config = dataclasses.replace(TINY, total_steps=16, n_steps=8, n_minibatches=2)
    ppo.train(config, seed=0, env=lambda: TimeLimit(Counter(), 3), gae_fn=capture_first_gae(calls))
    first = calls[0]
    np.testing.assert_array_equal(first["truncated"][:, 0], [0, 0, 1, 0, 0, 1, 0, 0])
    assert not first["terminated"].any()
    np.testing.assert_allclose(first["next_values"][:, 0], [10, 20, 30, 10, 20, 30, 10, 20])


def test_box_actions_are_clipped_for_the_env_only():
    config = dataclasses.replace(TINY, log_std_init=1.5)
    assert_box_actions_are_clipped_for_the_env_only(ppo, config)


def test_the_gaussian_actor_learns_a_one_step_target():
    config = dataclasses.replace(TINY, total_steps=4_000, n_envs=4, learning_rate=3e-3,
                                 final_learning_rate=None, final_clip_eps=None)
    history = ppo.train(config, seed=0, env=Push)
    assert history.act(np.zeros(1, np.float32))[0] == pytest.approx(0.5, abs=0.1)
    assert history.entropies[-1] < history.entropies[0]


# ------------------------------------------------------------------------------ plugging in


def test_the_trainer_calls_every_replaced_piece_with_what_it_promises():
    calls: Tally[str] = Tally()

    def spy(name, reference):
        def piece(*args):
            calls[name] += 1
            if name == "ratio":
                log_probs, old = args
                assert log_probs.requires_grad and not old.requires_grad
            if name == "clip_loss":
                assert args[2] == pytest.approx(0.2)  # final_clip_eps None: constant
            if name == "value_loss":
                assert args[3] == 0.7  # config.clip_value
            return reference(*args)

        return piece

    names = {"gae": ppo.gae, "ratio": ppo.importance_ratio, "clip_loss": ppo.ppo_clip_loss,
             "value_loss": ppo.clipped_value_loss, "loss": ppo.ppo_loss,
             "kl": ppo.approx_kl_low_variance, "normalize": ppo.normalize_advantages,
             "log_prob": gaussian_log_prob}  # fmt: skip
    config = dataclasses.replace(TINY, final_clip_eps=None, clip_value=0.7, target_kl=10.0)
    pieces = {f"{name}_fn": spy(name, fn) for name, fn in names.items()}
    history = ppo.train(config, seed=0, env=Push, **pieces)
    updates = len(history.losses)
    minibatch_steps = updates * config.n_epochs * config.n_minibatches
    assert updates == 256 // 32 and calls["gae"] == updates
    for name in ("ratio", "clip_loss", "value_loss", "loss", "normalize"):
        assert calls[name] == minibatch_steps, name
    assert calls["kl"] == minibatch_steps + updates  # early-stop checks and the diagnostic
    assert calls["log_prob"] == minibatch_steps + 2 * updates  # + pi_old's and the diagnostic
    np.testing.assert_array_equal(history.epochs, config.n_epochs)


def test_students_pieces_that_match_rlkit_give_the_same_history():
    def student_ratio(log_probs, old_log_probs):
        return (log_probs - old_log_probs).exp()

    def student_normalize(advantages):
        return (advantages - advantages.mean()) / (advantages.std() + 1e-8)

    config = dataclasses.replace(TINY, total_steps=512)
    reference = ppo.train(config, seed=2, env="CartPole-v1")
    student = ppo.train(config, seed=2, env="CartPole-v1", ratio_fn=student_ratio,
                        normalize_fn=student_normalize)
    np.testing.assert_array_equal(reference.episode_returns, student.episode_returns)
    np.testing.assert_allclose(reference.losses, student.losses, rtol=1e-5)


def test_wrong_outputs_of_a_students_piece_are_reported():
    with pytest.raises(ValueError, match="clip_loss_fn must return a scalar"):
        ppo.train(TINY, seed=0, env=capped, clip_loss_fn=lambda r, a, e: r * a)
    with pytest.raises(ValueError, match=r"ratio_fn must return a tensor of shape \(8,\)"):
        ppo.train(TINY, seed=0, env=capped, ratio_fn=lambda lp, old: (lp - old).exp().sum())
    with pytest.raises(ValueError, match=r"gae_fn returned shape \(32,\)"):
        ppo.train(TINY, seed=0, env=capped, gae_fn=lambda r, *rest: r.reshape(-1))


def test_target_kl_stops_the_epochs_early():
    config = dataclasses.replace(TINY, total_steps=512, n_epochs=20, learning_rate=1e-2,
                                 final_learning_rate=None)
    free = ppo.train(config, seed=0, env="CartPole-v1")
    stopped = ppo.train(dataclasses.replace(config, target_kl=0.005), seed=0, env="CartPole-v1")
    np.testing.assert_array_equal(free.epochs, 20)
    assert stopped.epochs.min() < 20 and stopped.epochs.max() <= 20
    assert stopped.approx_kls.mean() < free.approx_kls.mean()


# ------------------------------------------------------------------------------ the run


def test_same_seed_same_history_other_seed_differs():
    config = ppo.default_config(total_steps=1_024, eval_interval=512, eval_episodes=2)
    first, again = ppo.train(config, seed=5), ppo.train(config, seed=5)
    fields = ("episode_returns", "episode_end_steps", "losses", "policy_losses", "value_losses",
              "entropies", "approx_kls", "clip_fractions", "explained_variances", "epochs")
    for name in fields:
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name), err_msg=name)
    assert [e[:3] for e in first.evaluations] == [e[:3] for e in again.evaluations]
    assert [e.step for e in first.evaluations] == [512, 1_024]
    assert not np.array_equal(first.losses, ppo.train(config, seed=6).losses)
    assert first.approx_kls.min() >= 0 and first.clip_fractions.max() <= 1
    assert len(plotting.plot_ppo_diagnostics(first).axes) == 4
    assert len(plotting.plot_history(first).axes) == 2


def test_bad_settings_are_refused_with_what_to_fix():
    assert_refused(ppo, TINY, (
        ("n_minibatches", 3, r"n_minibatches \(3\) must divide n_steps \* n_envs \(32\)"),
        ("clip_eps", 0.0, "clip_eps must be > 0"), ("target_kl", 0.0, "target_kl must be > 0"),
        ("clip_value", -1.0, "clip_value must be > 0 or None"), ("n_epochs", 0, "n_epochs"),
        ("gae_lambda", 1.5, "gae_lambda must be in"), ("entropy_coef", -0.1, "entropy_coef"),
        ("final_clip_eps", -0.1, "final_clip_eps"), ("n_minibatches", 32, "at least 2 samples"),
    ))  # fmt: skip


def test_presets():
    assert ppo.default_config() == ppo.PRESETS["CartPole-v1"]
    pendulum = ppo.default_config("Pendulum-v1", total_steps=10)
    assert (pendulum.env_id, pendulum.total_steps, pendulum.gamma) == ("Pendulum-v1", 10, 0.9)
    assert ppo.default_config("Acrobot-v1") == ppo.PPOConfig(env_id="Acrobot-v1")


# ------------------------------------------------------------------------------ tier 3 (slow)


@pytest.mark.slow
def test_cartpole_preset_solves_cartpole():
    assert_cartpole_preset_solves_cartpole(ppo)


@pytest.mark.slow
def test_pendulum_preset_swings_up():
    history = ppo.train(ppo.default_config("Pendulum-v1"), seed=0)
    # Measured: -132 (benchmarks/bench_ppo.py, seed 0); a random policy scores about -1100.
    assert history.final_evaluation.mean > -250
