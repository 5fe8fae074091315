"""Notebook 07's checks: the reference on 20 grader seeds in a row, correct solutions written
differently (loops, float64 inside, other formulas), every known bug caught and named, the
known answers the lecture gives, and the release's stubs scored 0 without a crash."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import variants_rlhf

from autograder.judge.core import run_check
from autograder.judge.specs import rlhf, rlhf_policy
from rlkit.rlhf import losses

EXACT = [rlhf.RANKING_PAIRS, rlhf.BRADLEY_TERRY_LOSS, rlhf.PREFERENCE_ACCURACY,
         rlhf_policy.SEQUENCE_LOG_PROBS, rlhf_policy.KL_PENALIZED_REWARDS,
         rlhf_policy.RLOO_ADVANTAGES, rlhf_policy.DPO_LOSS, rlhf_policy.REBEL_LOSS]


@pytest.mark.parametrize("spec", EXACT, ids=lambda s: s.name)
def test_the_reference_passes_20_grader_seeds_in_a_row(spec):
    for seed in range(20):
        report = run_check(spec, spec.reference, grading=True, seed=seed)
        assert report.passed, f"seed {seed}: {report.summary()}"


@pytest.mark.parametrize("spec", EXACT, ids=lambda s: s.name)
def test_every_bug_fails_visible_and_hidden_cases_and_is_named(spec):
    assert len(spec.bugs) >= 5
    for bug in spec.bugs:
        for grading in (False, True):
            report = run_check(spec, bug.fn, grading=grading, seed=3)
            assert not report.passed and report.score == 0, bug.name
            assert report.bug == bug.name, f"{bug.name}: {report.summary()}"


@pytest.mark.parametrize("spec", [*EXACT, rlhf.LEARNS], ids=lambda s: s.name)
def test_a_release_stub_scores_zero_without_a_crash(spec):
    def stub(*args, **kwargs):
        raise NotImplementedError()

    fn = dict.fromkeys(spec.functions, stub) if spec.learning else stub
    report = run_check(spec, fn, grading=True)
    assert report.score == 0 and not report.passed
    assert "NotImplementedError" in report.summary() or "not implemented" in report.summary()


# --- the lecture's known answers, on the reference


def test_a_ranking_of_k_gives_k_choose_2_pairs_best_first():
    for k in range(1, 8):
        ranking = np.random.default_rng(k).permutation(k)
        pairs = losses.ranking_pairs(ranking)
        assert len(pairs) == math.comb(k, 2)
        position = {int(r): i for i, r in enumerate(ranking)}
        assert all(position[w] < position[loser] for w, loser in pairs)


def test_the_bradley_terry_loss_is_the_logistic_regression_nll():
    gap = torch.linspace(-5, 5, 11, dtype=torch.float64)
    nll = F.binary_cross_entropy_with_logits(gap, torch.ones_like(gap))
    assert torch.allclose(losses.bradley_terry_loss(gap, torch.zeros_like(gap)), nll)


def test_dpo_is_ln_2_at_the_reference_and_rebel_0_at_its_target():
    logps = torch.tensor([-3.0, -7.0, -1.0])
    assert math.isclose(float(losses.dpo_loss(logps, logps - 2, logps, logps - 2, 0.3)),
                        math.log(2), rel_tol=1e-6)
    reward_a, reward_b = torch.tensor([1.0, 0.0]), torch.tensor([0.5, 2.0])
    ratio_b = torch.tensor([0.1, -0.2])
    assert float(losses.rebel_loss(ratio_b + 0.2 * (reward_a - reward_b), ratio_b, reward_a,
                                   reward_b, 0.2)) < 1e-12


def test_rloo_advantages_sum_to_zero_per_prompt():
    rewards = torch.tensor(np.random.default_rng(0).normal(size=(6, 5)))
    assert torch.allclose(losses.rloo_advantages(rewards).sum(dim=1),
                          torch.zeros(6, dtype=torch.float64), atol=1e-12)


# --- correct solutions written otherwise


def log_probs_loops(logits, tokens, mask):
    out = []
    for b in range(tokens.shape[0]):
        total = torch.zeros((), dtype=logits.dtype)
        for t in range(tokens.shape[1]):
            if bool(mask[b, t]):
                total = total + torch.log_softmax(logits[b, t], dim=-1)[tokens[b, t]]
        out.append(total)
    return torch.stack(out)


def log_probs_cross_entropy(logits, tokens, mask):
    nll = F.cross_entropy(logits.transpose(1, 2), tokens, reduction="none")
    return -torch.where(mask.bool(), nll, 0.0).sum(dim=1)


def log_probs_float64(logits, tokens, mask):
    log_probs = torch.log_softmax(logits.double(), -1).gather(-1, tokens[..., None])[..., 0]
    return log_probs.masked_fill(~mask.bool(), 0.0).sum(-1).to(logits.dtype)


def kl_loops(score, log_probs, ref_log_probs, mask, beta):
    score, log_probs = score.detach(), log_probs.detach()
    rewards = torch.zeros(log_probs.shape, dtype=log_probs.dtype)
    for b in range(log_probs.shape[0]):
        last = 0
        for t in range(log_probs.shape[1]):
            if bool(mask[b, t]):
                rewards[b, t] = -beta * (float(log_probs[b, t]) - float(ref_log_probs[b, t]))
                last = t
        rewards[b, last] += float(score[b])
    return rewards


def kl_one_hot(score, log_probs, ref_log_probs, mask, beta):
    mask = mask.to(log_probs.dtype)
    last = F.one_hot(mask.sum(1).long() - 1, mask.shape[1]).to(log_probs.dtype)
    kl = torch.nan_to_num((log_probs - ref_log_probs) * mask)
    return (-beta * kl + score[:, None] * last).detach()


def rloo_loops(rewards):
    n, k = rewards.shape
    out = torch.zeros_like(rewards)
    for i in range(n):
        for j in range(k):
            others = [float(rewards[i, m]) for m in range(k) if m != j]
            out[i, j] = float(rewards[i, j]) - sum(others) / len(others)
    return out


def rloo_rescaled_mean(rewards):
    k = rewards.shape[1]
    return k / (k - 1) * (rewards - rewards.mean(dim=1, keepdim=True))


def dpo_softplus(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps,
                 ref_rejected_logps, beta):
    logits = (policy_chosen_logps - policy_rejected_logps) - (
        ref_chosen_logps - ref_rejected_logps).detach()
    return F.softplus(-beta * logits).mean()


def rebel_mse(log_ratio_a, log_ratio_b, reward_a, reward_b, eta):
    return F.mse_loss((log_ratio_a - log_ratio_b) / eta, (reward_a - reward_b).detach())


VARIANTS = [
    *[(rlhf.RANKING_PAIRS, fn) for fn in variants_rlhf.PAIRS],
    *[(rlhf.BRADLEY_TERRY_LOSS, fn) for fn in variants_rlhf.LOSSES],
    *[(rlhf.PREFERENCE_ACCURACY, fn) for fn in variants_rlhf.ACCURACIES],
    (rlhf_policy.SEQUENCE_LOG_PROBS, log_probs_loops),
    (rlhf_policy.SEQUENCE_LOG_PROBS, log_probs_cross_entropy),
    (rlhf_policy.SEQUENCE_LOG_PROBS, log_probs_float64),
    (rlhf_policy.KL_PENALIZED_REWARDS, kl_loops),
    (rlhf_policy.KL_PENALIZED_REWARDS, kl_one_hot),
    (rlhf_policy.RLOO_ADVANTAGES, rloo_loops),
    (rlhf_policy.RLOO_ADVANTAGES, rloo_rescaled_mean),
    (rlhf_policy.DPO_LOSS, dpo_softplus),
    (rlhf_policy.REBEL_LOSS, rebel_mse),
    *[(rlhf_policy.REBEL_LOSS, fn) for fn in variants_rlhf.REBEL_LOSSES],
]


@pytest.mark.parametrize(("spec", "fn"), VARIANTS, ids=[f.__name__ for _, f in VARIANTS])
def test_a_correct_solution_written_differently_gets_full_marks(spec, fn):
    for seed in (0, 1, 2):
        report = run_check(spec, fn, grading=True, seed=seed)
        assert report.passed, f"seed {seed}: {report.summary()}"


# --- the learning run: the box trains, the judge measures


def test_the_box_trains_and_returns_parameters_without_the_held_out_rankings(monkeypatch):
    import rlkit.rlhf.reward_model as trainer

    made = []
    original = trainer.make_preference_data

    def spy(n_prompts, *args, **kwargs):
        made.append(n_prompts)
        return original(n_prompts, *args, **kwargs)

    monkeypatch.setattr(trainer, "make_preference_data", spy)
    run = rlhf.learn_run(rlhf.LEARN_SEEDS[0])
    assert run.procedure == "rlhf.reward_model"
    assert str(rlhf.LEARN_HELD_OUT_SEED) not in repr(run.params)
    state = run(rlhf.REFERENCE_AGENT)  # what the box does with the student's functions
    assert rlhf.LEARN_HELD_OUT_PROMPTS not in made
    assert all(isinstance(v, np.ndarray) for v in state.values())
    assert rlhf.held_out_accuracy(state) > rlhf.LEARN_THRESHOLD
    # what is not the reward model's parameters measures nothing
    assert rlhf.held_out_accuracy({**state, "head.bias": np.zeros(2)}) == 0.0
    assert rlhf.held_out_accuracy({k: v for k, v in state.items() if k != "head.bias"}) == 0.0
    assert rlhf.held_out_accuracy([1, 2]) == 0.0
