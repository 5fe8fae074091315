"""rlkit.rlhf.reward_model: comparisons of rankings, seeding, and a short learning run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rlkit.rlhf.losses import bradley_terry_loss
from rlkit.rlhf.reward_model import RewardModelConfig, pair_indices, train_reward_model

SMALL = RewardModelConfig(n_prompts=1_000, n_held_out_prompts=300, epochs=5, batch_size=32)


def test_pair_indices_flattens_every_ranking():
    prompt, chosen, rejected = pair_indices(np.array([[2, 0, 1], [1, 2, 0]]))
    assert prompt.tolist() == [0, 0, 0, 1, 1, 1]
    assert chosen.tolist() == [2, 2, 0, 1, 1, 2]
    assert rejected.tolist() == [0, 1, 1, 2, 0, 0]


def test_seeded():
    config = RewardModelConfig(n_prompts=128, n_held_out_prompts=64, epochs=1)
    _, a = train_reward_model(config, seed=3)
    _, b = train_reward_model(config, seed=3)
    assert a.losses == b.losses and a.held_out_accuracy == b.held_out_accuracy
    assert a.ceiling == b.ceiling


@pytest.mark.slow
def test_learns_towards_the_ceiling_and_a_swapped_loss_does_not():
    _, history = train_reward_model(SMALL, seed=0)
    assert history.held_out_accuracy[0] == pytest.approx(0.5, abs=0.05)
    assert history.held_out_accuracy[-1] > 0.65  # seeds 0-2: 0.71, 0.77, 0.69
    assert 0.75 < history.ceiling < 0.9
    assert history.train_chosen_longer > 0.55  # the spurious feature is in the data

    def swapped(chosen_rewards: torch.Tensor, rejected_rewards: torch.Tensor) -> torch.Tensor:
        return bradley_terry_loss(rejected_rewards, chosen_rewards)

    _, broken = train_reward_model(SMALL, seed=0, loss_fn=swapped)
    assert broken.held_out_accuracy[-1] < 0.35  # it learns the opposite: 0.28


def test_pairs_fn_is_used_and_checked():
    def first_only(ranking):
        return [(int(ranking[0]), int(ranking[1]))]

    _, history = train_reward_model(
        RewardModelConfig(n_prompts=128, n_held_out_prompts=64, epochs=1), seed=0,
        pairs_fn=first_only)
    assert len(history.losses) == 2
    with pytest.raises(ValueError, match="no comparisons"):
        train_reward_model(RewardModelConfig(n_prompts=8, n_held_out_prompts=8, epochs=1),
                           seed=0, pairs_fn=lambda ranking: [])


def test_the_held_out_accuracy_uses_the_given_pairs_and_accuracy_functions():
    # notebook 07 passes its own: rlkit's are withheld while it is graded
    calls = []

    def accuracy(chosen, rejected):
        calls.append(len(chosen))
        return 0.25

    def best_against_the_rest(ranking):
        return [(int(ranking[0]), int(other)) for other in ranking[1:]]

    config = RewardModelConfig(n_prompts=64, n_held_out_prompts=32, k=4, epochs=2)
    _, history = train_reward_model(config, seed=0, pairs_fn=best_against_the_rest,
                                    accuracy_fn=accuracy)
    assert history.held_out_accuracy == [0.25, 0.25, 0.25]
    assert calls == [32 * 3] * 3  # K - 1 pairs of each held-out prompt, from pairs_fn


def test_bad_settings():
    with pytest.raises(ValueError, match="k must be >= 2"):
        RewardModelConfig(k=1)
