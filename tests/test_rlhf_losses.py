"""rlkit.rlhf.losses: the RLHF math pieces against hand-computed values and properties."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rlkit.rlhf.losses import (
    bradley_terry_loss,
    dpo_loss,
    kl_penalized_rewards,
    preference_accuracy,
    ranking_pairs,
    rebel_loss,
    rloo_advantages,
    sequence_log_probs,
)

floats = st.floats(-5, 5, allow_nan=False, width=32)


def vectors(n: int):
    return st.lists(floats, min_size=n, max_size=n).map(lambda v: torch.tensor(v))


# ranking_pairs -----------------------------------------------------------------------------------


def test_ranking_pairs_known_answer():
    assert ranking_pairs([3, 2, 0, 1]) == [(3, 2), (3, 0), (3, 1), (2, 0), (2, 1), (0, 1)]
    assert ranking_pairs(np.array([1, 0])) == [(1, 0)]
    assert ranking_pairs([5]) == []


@given(st.permutations(list(range(6))).flatmap(
    lambda p: st.integers(2, 6).map(lambda k: p[:k])))
def test_ranking_pairs_are_all_comparisons_best_first(ranking):
    pairs = ranking_pairs(ranking)
    k = len(ranking)
    assert len(pairs) == k * (k - 1) // 2
    assert pairs == [(ranking[i], ranking[j]) for i, j in combinations(range(k), 2)]
    assert all(isinstance(a, int) and isinstance(b, int) for a, b in pairs)


def test_ranking_pairs_rejects_repeats():
    with pytest.raises(ValueError, match="once"):
        ranking_pairs([0, 1, 1])


# Bradley-Terry and accuracy ----------------------------------------------------------------------


def test_bradley_terry_known_answers():
    assert bradley_terry_loss(torch.zeros(3), torch.zeros(3)).item() == pytest.approx(math.log(2))
    loss = bradley_terry_loss(torch.tensor([2.0, 0.0]), torch.tensor([0.0, 1.0]))
    expected = -(math.log(1 / (1 + math.exp(-2))) + math.log(1 / (1 + math.exp(1)))) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    # finite where log(sigmoid(.)) underflows
    assert bradley_terry_loss(torch.tensor([0.0]), torch.tensor([200.0])).item() == pytest.approx(
        200.0)


@settings(max_examples=50)
@given(vectors(5), vectors(5))
def test_bradley_terry_is_the_logistic_regression_nll(chosen, rejected):
    logits = chosen - rejected
    nll = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.ones(5))
    assert bradley_terry_loss(chosen, rejected).item() == pytest.approx(nll.item(), abs=1e-5)
    # swapping chosen and rejected: the loss of the opposite labels
    flipped = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.zeros(5))
    assert bradley_terry_loss(rejected, chosen).item() == pytest.approx(flipped.item(), abs=1e-5)


def test_bradley_terry_gradient_pushes_chosen_up():
    chosen, rejected = torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    bradley_terry_loss(chosen, rejected).backward()
    assert (chosen.grad < 0).all() and (rejected.grad > 0).all()
    assert chosen.grad.tolist() == pytest.approx([-0.25, -0.25])  # -(1 - 0.5) / 2


def test_preference_accuracy():
    assert preference_accuracy(torch.tensor([1.0, 2.0]), torch.tensor([0.0, 3.0])) == 0.5
    assert preference_accuracy(torch.ones(4), torch.ones(4)) == 0.5  # ties: a coin flip
    assert preference_accuracy(torch.tensor([3.0, 3.0]), torch.tensor([1.0, 2.0])) == 1.0


def test_shape_mismatch_says_what_to_fix():
    with pytest.raises(ValueError, match="rejected_rewards must have the shape"):
        bradley_terry_loss(torch.zeros(3), torch.zeros(3, 1))


# sequence log-probs ------------------------------------------------------------------------------


def test_sequence_log_probs_known_answer():
    logits = torch.log(torch.tensor([[[0.5, 0.25, 0.25], [0.1, 0.8, 0.1], [1.0, 1.0, 1.0]]]))
    tokens = torch.tensor([[0, 1, 2]])
    mask = torch.tensor([[1, 1, 0]])
    expected = math.log(0.5) + math.log(0.8)
    assert sequence_log_probs(logits, tokens, mask).item() == pytest.approx(expected, rel=1e-6)


@settings(max_examples=30)
@given(st.integers(0, 2**31 - 1))
def test_padding_never_counts(seed):
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(4, 6, 5, generator=generator)
    tokens = torch.randint(0, 5, (4, 6), generator=generator)
    lengths = torch.randint(1, 7, (4,), generator=generator)
    mask = (torch.arange(6) < lengths[:, None]).long()
    base = sequence_log_probs(logits, tokens, mask)
    garbage = torch.where(mask.bool()[..., None], logits, torch.full_like(logits, -math.inf))
    other_tokens = torch.where(mask.bool(), tokens, (tokens + 1) % 5)
    assert torch.allclose(sequence_log_probs(garbage, other_tokens, mask), base)
    manual = torch.stack([torch.log_softmax(logits[b], -1)[torch.arange(n), tokens[b, :n]].sum()
                          for b, n in enumerate(lengths.tolist())])
    assert torch.allclose(base, manual, atol=1e-5)


# KL-penalised rewards ----------------------------------------------------------------------------


def test_kl_penalized_rewards_known_answer():
    log_probs = torch.tensor([[-1.0, -2.0, -0.5, -9.0], [-1.0, -3.0, -3.0, -3.0]])
    ref_log_probs = torch.tensor([[-1.5, -1.0, -0.5, -1.0], [-2.0, -1.0, -1.0, -1.0]])
    mask = torch.tensor([[1, 1, 1, 0], [1, 0, 0, 0]])
    rewards = kl_penalized_rewards(torch.tensor([2.0, -1.0]), log_probs, ref_log_probs, mask, 0.1)
    expected = torch.tensor([[-0.05, 0.1, 2.0, 0.0], [-1.1, 0.0, 0.0, 0.0]])
    assert torch.allclose(rewards, expected)


@settings(max_examples=30)
@given(st.integers(0, 2**31 - 1), st.floats(0, 2))
def test_kl_penalized_rewards_sum_to_the_objective(seed, beta):
    generator = torch.Generator().manual_seed(seed)
    log_probs, ref_log_probs = -torch.rand(3, 5, generator=generator), -torch.rand(3, 5)
    mask = (torch.arange(5) < torch.tensor([[1], [3], [5]])).long()
    score = torch.randn(3, generator=generator)
    rewards = kl_penalized_rewards(score, log_probs, ref_log_probs, mask, beta)
    kl = ((log_probs - ref_log_probs) * mask).sum(1)
    assert torch.allclose(rewards.sum(1), score - beta * kl, atol=1e-5)
    assert (rewards[mask == 0] == 0).all()


def test_kl_penalized_rewards_bad_input():
    with pytest.raises(ValueError, match="beta"):
        kl_penalized_rewards(torch.zeros(1), torch.zeros(1, 2), torch.zeros(1, 2),
                             torch.ones(1, 2), beta=-1.0)
    with pytest.raises(ValueError, match="at least one"):
        kl_penalized_rewards(torch.zeros(1), torch.zeros(1, 2), torch.zeros(1, 2),
                             torch.zeros(1, 2), beta=1.0)


# RLOO --------------------------------------------------------------------------------------------


def test_rloo_known_answer():
    advantages = rloo_advantages(torch.tensor([[1.0, 2.0, 6.0], [4.0, 4.0, 4.0]]))
    assert torch.allclose(advantages, torch.tensor([[-3.0, -1.5, 4.5], [0.0, 0.0, 0.0]]))
    assert rloo_advantages(torch.tensor([[1.0, 3.0]])).tolist() == [[-2.0, 2.0]]


@settings(max_examples=50)
@given(st.integers(1, 4), st.integers(2, 5), st.integers(0, 2**31 - 1))
def test_rloo_sums_to_zero_and_leaves_one_out(n_prompts, k, seed):
    rewards = torch.randn(n_prompts, k, generator=torch.Generator().manual_seed(seed))
    advantages = rloo_advantages(rewards)
    assert torch.allclose(advantages.sum(1), torch.zeros(n_prompts), atol=1e-5)
    i = k - 1
    others = torch.cat([rewards[:, :i], rewards[:, i + 1:]], dim=1).mean(1)
    assert torch.allclose(advantages[:, i], rewards[:, i] - others, atol=1e-5)


def test_rloo_needs_two_samples():
    with pytest.raises(ValueError, match="k >= 2"):
        rloo_advantages(torch.zeros(3, 1))


# DPO and REBEL -----------------------------------------------------------------------------------


@settings(max_examples=30)
@given(vectors(4), vectors(4), st.floats(0.01, 2))
def test_dpo_is_ln2_at_the_reference(chosen, rejected, beta):
    assert dpo_loss(chosen, rejected, chosen, rejected, beta).item() == pytest.approx(
        math.log(2), abs=1e-6)


def test_dpo_known_answer_and_gradient():
    chosen = torch.tensor([-2.0], requires_grad=True)
    rejected = torch.tensor([-4.0], requires_grad=True)
    loss = dpo_loss(chosen, rejected, torch.tensor([-3.0]), torch.tensor([-3.0]), beta=0.5)
    # beta * ((-2 + 3) - (-4 + 3)) = 1
    assert loss.item() == pytest.approx(math.log(1 + math.exp(-1.0)), rel=1e-6)
    loss.backward()
    assert chosen.grad.item() < 0 < rejected.grad.item()


def test_rebel_known_answers():
    zero = rebel_loss(torch.tensor([0.3, -0.4]), torch.tensor([0.1, 0.0]),
                      torch.tensor([1.0, 0.0]), torch.tensor([0.0, 2.0]), eta=0.2)
    assert zero.item() == pytest.approx(0.0, abs=1e-10)
    loss = rebel_loss(torch.tensor([1.0]), torch.tensor([0.0]), torch.tensor([0.0]),
                      torch.tensor([0.0]), eta=0.5)
    assert loss.item() == pytest.approx(4.0)  # (1 / 0.5 - 0)^2
