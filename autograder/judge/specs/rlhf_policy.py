"""Check specs of notebook 07 (RLHF), part two: the RL pieces, DPO and REBEL.

Lecture 001, Part II (InstructGPT's per-token KL-penalised rewards) and lecture 003's table
(RLOO, DPO, REBEL), on the toy task of :mod:`rlkit.rlhf`; the reward model's pieces are
:mod:`autograder.judge.specs.rlhf`. Every case has a known answer where the lecture gives one: the
sequence log-prob over the real tokens only, ln 2 for DPO when the policy is the reference,
RLOO's advantages that sum to 0 per prompt, REBEL's loss of 0 at its exact regression target.
The losses are checked in value and in gradient (a loss whose constants pass a gradient is a
bug a value check cannot see), in float32 and float64. Each ``_bug_*`` is a self-contained
plausible wrong implementation with its hint; ``tests/test_bug_bank.py`` proves every one is
caught and named.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from autograder.box.calls import Run
from autograder.box.procedures.rlhf import arrays_run, kl_run, log_probs_run, loss_run
from autograder.judge.core import (
    Bug,
    Case,
    CheckSpec,
    Comparator,
    allclose,
    promised_type,
    register,
)
from autograder.judge.specs.dqn import fields
from rlkit.rlhf import losses
from rlkit.rlhf.task import PAD

# --- sequence_log_probs


def _log_probs_data(rng: np.random.Generator, batch: int, width: int, vocab: int,
                    lengths: list[int], pad_logit: float | None = None):
    """Random logits, response tokens (PAD after each length) and the mask of real tokens."""
    logits = rng.normal(size=(batch, width, vocab)) * 2.0
    tokens = rng.integers(1, vocab, size=(batch, width))
    mask = np.arange(width)[None, :] < np.asarray(lengths)[:, None]
    tokens[~mask] = PAD
    if pad_logit is not None:
        logits[~mask, PAD] = pad_logit
    return logits, tokens, mask


def _one_per_response(compare: Comparator) -> Comparator:
    """``compare``, after the log-probs had one entry per response (the reference's shape)."""

    def shaped(got: Any, expected: Any) -> str | None:
        got_lp, expected_lp = (v.get("log-probs") if isinstance(v, dict) else None
                               for v in (got, expected))
        if isinstance(got_lp, np.ndarray) and isinstance(expected_lp, np.ndarray) and (
                got_lp.shape != expected_lp.shape):
            return (f"return one log-prob per response, shape {expected_lp.shape}; got "
                    f"{got_lp.shape}")
        return compare(got, expected)

    return promised_type(shaped)


def _log_probs_cases() -> list[Case]:
    rng = np.random.default_rng(731)
    random = _log_probs_data(rng, 3, 5, 6, [5, 3, 1])
    minus_inf = _log_probs_data(rng, 2, 4, 5, [2, 4], pad_logit=-np.inf)
    full = _log_probs_data(rng, 4, 2, 3, [2, 2, 2, 2])
    unlikely = np.zeros((1, 6, 5))
    unlikely[0, np.arange(6), [1, 2, 3, 1, 2, 3]] = -30.0
    return [
        Case("uniform logits over 4 tokens: 2 real tokens of log(1/4) each, then padding",
             run=log_probs_run(np.zeros((1, 3, 4)), [[2, 1, 0]], [[True, True, False]])),
        Case("3 responses of 5, 3 and 1 real tokens (bool mask): padding never counts, "
             "whatever its logits", run=log_probs_run(*random)),
        Case("float64, a float mask, and logits of -inf for PAD at the padded positions "
             "(-inf * 0 is nan)", run=log_probs_run(*minus_inf, torch.float64, torch.float64)),
        Case("4 responses without padding (int mask), a vocabulary of 3",
             run=log_probs_run(*full, torch.float32, torch.int64)),
        Case("6 very unlikely tokens (each of probability about e^-30: their product, "
             "e^-180, is 0 in float32)", run=log_probs_run(unlikely, [[1, 2, 3, 1, 2, 3]],
                                                           [[True] * 6])),
    ]


def _log_probs_hidden(rng: np.random.Generator) -> list[Case]:
    batch, width, vocab = (int(x) for x in rng.integers([2, 2, 3], [9, 9, 12]))
    lengths = rng.integers(1, width + 1, size=batch).tolist()
    return [Case("hidden: random responses and padding",
                 run=log_probs_run(*_log_probs_data(rng, batch, width, vocab, lengths)))]


def _bug_lp_padding(logits, tokens, mask):
    log_probs = torch.log_softmax(logits, dim=-1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
    return log_probs.sum(dim=-1)


def _bug_lp_mean(logits, tokens, mask):
    log_probs = torch.log_softmax(logits, dim=-1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
    mask = mask.bool()
    return torch.where(mask, log_probs, 0.0).sum(-1) / mask.sum(-1)


def _bug_lp_raw_logits(logits, tokens, mask):
    raw = logits.gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
    return torch.where(mask.bool(), raw, 0.0).sum(dim=-1)


def _bug_lp_wrong_axis(logits, tokens, mask):
    log_probs = torch.log_softmax(logits, dim=1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
    return torch.where(mask.bool(), log_probs, 0.0).sum(dim=-1)


def _bug_lp_shifted(logits, tokens, mask):
    log_probs = torch.log_softmax(logits[:, :-1], dim=-1).gather(
        -1, tokens[:, 1:].unsqueeze(-1)).squeeze(-1)
    return torch.where(mask[:, 1:].bool(), log_probs, 0.0).sum(dim=-1)


def _bug_lp_product(logits, tokens, mask):
    log_probs = torch.log_softmax(logits, dim=-1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
    return (log_probs * mask).sum(dim=-1)


def _bug_lp_probabilities(logits, tokens, mask):
    probs = torch.softmax(logits, dim=-1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
    return torch.log(torch.where(mask.bool(), probs, 1.0).prod(dim=-1))


SEQUENCE_LOG_PROBS = CheckSpec(
    name="rlhf.sequence_log_probs",
    function="sequence_log_probs",
    points=2,
    reference=losses.sequence_log_probs,
    withhold=("rlkit.rlhf.losses.sequence_log_probs", "rlkit.rlhf.losses.token_log_probs"),
    visible_cases=_log_probs_cases,
    hidden_cases=_log_probs_hidden,
    compare=_one_per_response(fields(allclose(rtol=1e-5, atol=1e-7))),
    bugs=(
        Bug("padding_counted", _bug_lp_padding,
            "Padding is not part of the response: keep only the positions where mask is 1 "
            "(torch.where(mask.bool(), log_probs, 0.0)) before summing."),
        Bug("mean_not_sum", _bug_lp_mean,
            "log pi(y|x) is the SUM of the tokens' log-probs (the log of a product), not their "
            "mean: a longer response is less likely."),
        Bug("logits_not_log_probs", _bug_lp_raw_logits,
            "Logits are not log-probabilities: take torch.log_softmax(logits, dim=-1) first, "
            "then gather the tokens' entries."),
        Bug("softmax_over_time", _bug_lp_wrong_axis,
            "Normalise over the VOCABULARY (the last axis, dim=-1): each position is a "
            "distribution over the next token."),
        Bug("shifted_by_one", _bug_lp_shifted,
            "Here logits[:, t] already predicts tokens[:, t] (no shift): gather at the same "
            "position."),
        Bug("mask_as_a_factor", _bug_lp_product,
            "Multiplying by the mask gives nan where a padded position's log-prob is -inf "
            "(-inf * 0): select with torch.where(mask.bool(), log_probs, 0.0)."),
        Bug("log_of_product_of_probabilities", _bug_lp_probabilities,
            "Sum the log-probs instead of taking the log of the product of probabilities: "
            "work in log space (torch.log_softmax)."),
    ),
    hint="torch.log_softmax(logits, -1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1), kept "
    "where mask is 1 (torch.where), summed over the response: shape (B,).",
)

# --- kl_penalized_rewards


def _kl_data(rng: np.random.Generator, lengths: list[int], width: int):
    """Scores, log-probs (garbage at the padding, which must not count) and the mask."""
    mask = np.arange(width)[None, :] < np.asarray(lengths)[:, None]
    log_probs = -rng.exponential(size=mask.shape)
    ref_log_probs = -rng.exponential(size=mask.shape)
    return rng.normal(size=len(lengths)) * 2, log_probs, ref_log_probs, mask


def _kl_cases() -> list[Case]:
    rng = np.random.default_rng(741)
    return [
        Case("one response of 2 real tokens, beta 0.5: -beta (log pi - log pi_ref) on each, "
             "the score 3 on the last real one",
             run=kl_run([3.0], [[-1.0, -1.0, 0.0]], [[-2.0, -1.0, 0.0]],
                        [[True, True, False]], 0.5)),
        Case("beta 0: only the score, on each response's last real token (lengths 4, 2, 1)",
             run=kl_run(*_kl_data(rng, [4, 2, 1], 4), 0.0)),
        Case("beta 0.1, 4 responses, log-probs and score with gradients (the rewards are "
             "constants of the update), a float mask; the log-probs at the padding are "
             "garbage", run=kl_run(*_kl_data(rng, [6, 3, 1, 4], 6), 0.1, with_grad=True)),
        Case("beta 0.5, float64, every response as long as the width",
             run=kl_run(*_kl_data(rng, [3, 3], 3), 0.5, torch.float64)),
    ]


def _kl_hidden(rng: np.random.Generator) -> list[Case]:
    batch, width = int(rng.integers(2, 9)), int(rng.integers(2, 9))
    lengths = rng.integers(1, width + 1, size=batch).tolist()
    return [Case("hidden: random responses", run=kl_run(*_kl_data(rng, lengths, width),
                                                        float(rng.uniform(0.01, 1.0))))]


def _bug_kl_sign(score, log_probs, ref_log_probs, mask, beta):
    rewards = torch.where(mask.bool(), beta * (log_probs - ref_log_probs).detach(), 0.0)
    last = (mask.bool().sum(dim=1) - 1).unsqueeze(1)
    return rewards.scatter_add(1, last, score.detach().unsqueeze(1))


def _bug_kl_unmasked(score, log_probs, ref_log_probs, mask, beta):
    rewards = -beta * (log_probs - ref_log_probs).detach()
    last = (mask.bool().sum(dim=1) - 1).unsqueeze(1)
    return rewards.scatter_add(1, last, score.detach().unsqueeze(1))


def _bug_kl_score_everywhere(score, log_probs, ref_log_probs, mask, beta):
    kl = -beta * (log_probs - ref_log_probs).detach() + score.detach().unsqueeze(1)
    return torch.where(mask.bool(), kl, 0.0)


def _bug_kl_last_column(score, log_probs, ref_log_probs, mask, beta):
    rewards = torch.where(mask.bool(), -beta * (log_probs - ref_log_probs).detach(), 0.0)
    rewards[:, -1] += score.detach()
    return rewards


def _bug_kl_first_token(score, log_probs, ref_log_probs, mask, beta):
    rewards = torch.where(mask.bool(), -beta * (log_probs - ref_log_probs).detach(), 0.0)
    rewards[:, 0] += score.detach()
    return rewards


def _bug_kl_no_beta(score, log_probs, ref_log_probs, mask, beta):
    rewards = torch.where(mask.bool(), -(log_probs - ref_log_probs).detach(), 0.0)
    last = (mask.bool().sum(dim=1) - 1).unsqueeze(1)
    return rewards.scatter_add(1, last, score.detach().unsqueeze(1))


def _bug_kl_all_on_last(score, log_probs, ref_log_probs, mask, beta):
    kl = torch.where(mask.bool(), log_probs - ref_log_probs, 0.0).detach().sum(dim=1)
    total = (score.detach() - beta * kl).unsqueeze(1)
    last = (mask.bool().sum(dim=1) - 1).unsqueeze(1)
    return torch.zeros_like(log_probs).detach().scatter_add(1, last, total)


def _bug_kl_not_detached(score, log_probs, ref_log_probs, mask, beta):
    rewards = torch.where(mask.bool(), -beta * (log_probs - ref_log_probs), 0.0)
    last = (mask.bool().sum(dim=1) - 1).unsqueeze(1)
    return rewards.scatter_add(1, last, score.unsqueeze(1).to(rewards.dtype))


KL_PENALIZED_REWARDS = CheckSpec(
    name="rlhf.kl_penalized_rewards",
    function="kl_penalized_rewards",
    points=3,
    reference=losses.kl_penalized_rewards,
    visible_cases=_kl_cases,
    hidden_cases=_kl_hidden,
    compare=promised_type(fields(allclose(rtol=1e-5, atol=1e-7))),
    bugs=(
        Bug("kl_sign_flipped", _bug_kl_sign,
            "The KL term is a PENALTY: -beta (log pi - log pi_ref), negative where the policy "
            "makes a token more likely than the reference does."),
        Bug("kl_outside_the_response", _bug_kl_unmasked,
            "Only the response's real tokens (mask 1) are the policy's actions: no KL term on "
            "the padding (nor on prompt tokens): rewards are 0 where mask is 0."),
        Bug("score_on_every_token", _bug_kl_score_everywhere,
            "The reward model scores the whole response once: add r_theta(x, y) on its LAST "
            "real token only, as InstructGPT does."),
        Bug("score_in_the_last_column", _bug_kl_last_column,
            "The last real token of a response is at mask.sum(1) - 1, not at the last column: "
            "a short response ends before its padding."),
        Bug("score_on_the_first_token", _bug_kl_first_token,
            "The score goes on the response's LAST real token (at mask.sum(1) - 1): it is "
            "known only once the response is complete."),
        Bug("beta_missing", _bug_kl_no_beta,
            "Multiply the log-ratio by beta: r_t = -beta (log pi - log pi_ref)."),
        Bug("kl_summed_on_the_last_token", _bug_kl_all_on_last,
            "The KL term goes on EVERY real token, each token's own -beta (log pi - log "
            "pi_ref); only the score sits on the last one."),
        Bug("not_detached", _bug_kl_not_detached,
            "The rewards are constants of the policy update: .detach() the log-probs and the "
            "score, so that no gradient flows through them."),
    ),
    hint="rewards = where(mask, -beta * (log_probs - ref_log_probs), 0), plus score at index "
    "mask.sum(1) - 1 of each row, all detached: shape (B, T).",
)

# --- rloo_advantages


def _rloo_run(rewards, dtype=torch.float32) -> Run:
    """One tensor in, a tensor out (the RLOO trainer computes with it), as float64."""
    return arrays_run((rewards,), dtype, tensor=True)


def _rloo_cases() -> list[Case]:
    rng = np.random.default_rng(751)
    return [
        Case("one prompt, rewards 1, 2, 6: baselines 4, 3.5 and 1.5",
             run=_rloo_run([[1.0, 2.0, 6.0]]), expected=np.array([[-3.0, -1.5, 4.5]])),
        Case("k = 2: each sample's advantage is its reward minus the other's",
             run=_rloo_run([[1.0, 3.0], [5.0, 5.0], [0.0, -2.0]]),
             expected=np.array([[-2.0, 2.0], [0.0, 0.0], [2.0, -2.0]])),
        Case("5 prompts x 4 samples, float32", run=_rloo_run(rng.normal(size=(5, 4)) * 3)),
        Case("2 prompts x 6 samples, float64",
             run=_rloo_run(rng.normal(size=(2, 6)) + 4, torch.float64)),
    ]


def _rloo_hidden(rng: np.random.Generator) -> list[Case]:
    n, k = int(rng.integers(1, 10)), int(rng.integers(2, 9))
    return [Case(f"hidden: {n} prompts x {k} samples", run=_rloo_run(rng.normal(size=(n, k))))]


def _bug_rloo_self(rewards):
    return rewards - rewards.mean(dim=1, keepdim=True)


def _bug_rloo_divides_by_k(rewards):
    return rewards - (rewards.sum(dim=1, keepdim=True) - rewards) / rewards.shape[1]


def _bug_rloo_wrong_axis(rewards):
    n = rewards.shape[0]
    return rewards - (rewards.sum(dim=0, keepdim=True) - rewards) / (n - 1)


def _bug_rloo_no_baseline(rewards):
    return rewards.clone()


def _bug_rloo_sign(rewards):
    k = rewards.shape[1]
    return (rewards.sum(dim=1, keepdim=True) - rewards) / (k - 1) - rewards


def _bug_rloo_normalised(rewards):
    centred = rewards - rewards.mean(dim=1, keepdim=True)
    return centred / (rewards.std(dim=1, keepdim=True) + 1e-8)


RLOO_ADVANTAGES = CheckSpec(
    name="rlhf.rloo_advantages",
    function="rloo_advantages",
    points=2,
    reference=losses.rloo_advantages,
    visible_cases=_rloo_cases,
    hidden_cases=_rloo_hidden,
    compare=promised_type(allclose(rtol=1e-5, atol=1e-7)),
    bugs=(
        Bug("mean_includes_the_sample", _bug_rloo_self,
            "LEAVE ONE OUT: the baseline of sample i is the mean of the OTHER k - 1 rewards of "
            "its prompt, (sum - R_i) / (k - 1); a mean that includes R_i depends on the "
            "sample's own action."),
        Bug("divides_by_k", _bug_rloo_divides_by_k,
            "The other samples are k - 1: their mean is (sum - R_i) / (k - 1), not / k."),
        Bug("mean_over_prompts", _bug_rloo_wrong_axis,
            "The baseline uses the samples of the SAME prompt (axis 1, the k samples), not "
            "the other prompts (axis 0)."),
        Bug("no_baseline", _bug_rloo_no_baseline,
            "Subtract the baseline: A_i = R_i - mean of the other samples' rewards."),
        Bug("sign", _bug_rloo_sign,
            "A_i = R_i - baseline, reward minus baseline: a better-than-its-siblings sample "
            "gets a positive advantage."),
        Bug("normalised", _bug_rloo_normalised,
            "RLOO does not divide by a standard deviation (that is GRPO's variant): A_i = R_i "
            "- (sum - R_i) / (k - 1)."),
    ),
    hint="A_i = R_i - the mean of the OTHER k - 1 rewards of its prompt: R - "
    "(R.sum(dim=1, keepdim=True) - R) / (k - 1), shape (n_prompts, k).",
)

# --- dpo_loss


def _four_tensor_loss_run(names: tuple[str, str, str, str], values, scalar: float,
                          dtype=torch.float32, constants_grad=False) -> Run:
    """A loss of two tensors with gradients and two constants, then a scalar (beta, eta).

    The loss and its gradient with respect to the first two; with ``constants_grad`` the
    constants require a gradient too, and must get none (a gradient of 0 is expected).
    """
    return loss_run(names, values, scalar, dtype, graded=2, constants_grad=constants_grad)


def _dpo_run(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta,
             dtype=torch.float32, ref_grad=False):
    return _four_tensor_loss_run(
        ("policy_chosen_logps", "policy_rejected_logps", "ref_chosen_logps",
         "ref_rejected_logps"), (policy_chosen, policy_rejected, ref_chosen, ref_rejected),
        beta, dtype, ref_grad)


def _dpo_cases() -> list[Case]:
    rng = np.random.default_rng(761)
    chosen, rejected = -rng.exponential(5, size=4), -rng.exponential(5, size=4)
    return [
        Case("the policy IS the reference (beta 0.1): ln 2, the loss at initialisation",
             run=_dpo_run(chosen, rejected, chosen, rejected, 0.1)),
        Case("8 random pairs, beta 0.1, float32",
             run=_dpo_run(-rng.exponential(5, 8), -rng.exponential(5, 8),
                          -rng.exponential(5, 8), -rng.exponential(5, 8), 0.1)),
        Case("beta 0.5, float64, the reference log-probs with gradients (they are constants: "
             "none must reach them)",
             run=_dpo_run([-10.0, -3.0, -7.0], [-9.0, -6.0, -2.0], [-12.0, -4.0, -6.0],
                          [-8.0, -5.0, -3.0], 0.5, torch.float64, ref_grad=True)),
    ]


def _dpo_hidden(rng: np.random.Generator) -> list[Case]:
    n = int(rng.integers(2, 30))
    logps = [-rng.exponential(5, n) for _ in range(4)]
    return [Case("hidden: a random batch", run=_dpo_run(*logps, float(rng.uniform(0.05, 1.0)),
                                                        ref_grad=bool(rng.random() < 0.5)))]


def _bug_dpo_no_reference(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps,
                          ref_rejected_logps, beta):
    return -F.logsigmoid(beta * (policy_chosen_logps - policy_rejected_logps)).mean()


def _bug_dpo_no_beta(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps,
                     ref_rejected_logps, beta):
    chosen = policy_chosen_logps - ref_chosen_logps.detach()
    rejected = policy_rejected_logps - ref_rejected_logps.detach()
    return -F.logsigmoid(chosen - rejected).mean()


def _bug_dpo_beta_outside(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps,
                          ref_rejected_logps, beta):
    chosen = policy_chosen_logps - ref_chosen_logps.detach()
    rejected = policy_rejected_logps - ref_rejected_logps.detach()
    return -beta * F.logsigmoid(chosen - rejected).mean()


def _bug_dpo_swapped(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps,
                     ref_rejected_logps, beta):
    chosen = policy_chosen_logps - ref_chosen_logps.detach()
    rejected = policy_rejected_logps - ref_rejected_logps.detach()
    return -F.logsigmoid(beta * (rejected - chosen)).mean()


def _bug_dpo_reference_not_detached(policy_chosen_logps, policy_rejected_logps,
                                    ref_chosen_logps, ref_rejected_logps, beta):
    chosen = policy_chosen_logps - ref_chosen_logps
    rejected = policy_rejected_logps - ref_rejected_logps
    return -F.logsigmoid(beta * (chosen - rejected)).mean()


def _bug_dpo_sum(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps,
                 ref_rejected_logps, beta):
    chosen = policy_chosen_logps - ref_chosen_logps.detach()
    rejected = policy_rejected_logps - ref_rejected_logps.detach()
    return -F.logsigmoid(beta * (chosen - rejected)).sum()


DPO_LOSS = CheckSpec(
    name="rlhf.dpo_loss",
    function="dpo_loss",
    points=2,
    reference=losses.dpo_loss,
    visible_cases=_dpo_cases,
    hidden_cases=_dpo_hidden,
    compare=fields(allclose(rtol=1e-5, atol=1e-7)),
    bugs=(
        Bug("no_reference", _bug_dpo_no_reference,
            "DPO's implicit reward is beta log(pi_theta / pi_ref): subtract the reference's "
            "log-prob from the policy's for each response (without it the loss is not ln 2 "
            "at the reference)."),
        Bug("beta_missing", _bug_dpo_no_beta,
            "Multiply the difference of the log-ratios by beta inside the log-sigmoid: "
            "-log sigma(beta [(log pi_w - log ref_w) - (log pi_l - log ref_l)])."),
        Bug("beta_outside_the_log_sigmoid", _bug_dpo_beta_outside,
            "beta scales the implicit reward, INSIDE the log-sigmoid: -log sigma(beta "
            "[...]), not -beta log sigma([...])."),
        Bug("chosen_and_rejected_swapped", _bug_dpo_swapped,
            "Your margin has the wrong sign: (log pi(y_w) - log pi_ref(y_w)) - (log pi(y_l) - "
            "log pi_ref(y_l)), each log-ratio policy minus reference, the chosen one minus the "
            "rejected one: the loss falls as the policy prefers y_w."),
        Bug("reference_not_detached", _bug_dpo_reference_not_detached,
            "The reference model is frozen: .detach() its log-probs, so that no gradient "
            "reaches them."),
        Bug("sum_not_mean", _bug_dpo_sum,
            "Average over the pairs (mean), not sum."),
    ),
    hint="z = beta * ((pi_w - ref_w) - (pi_l - ref_l)) with the ref terms detached; loss = "
    "-F.logsigmoid(z).mean().",
)

# --- rebel_loss


def _rebel_run(log_ratio_a, log_ratio_b, reward_a, reward_b, eta, dtype=torch.float32,
               reward_grad=False):
    return _four_tensor_loss_run(("log_ratio_a", "log_ratio_b", "reward_a", "reward_b"),
                                 (log_ratio_a, log_ratio_b, reward_a, reward_b), eta, dtype,
                                 reward_grad)


def _rebel_cases() -> list[Case]:
    rng = np.random.default_rng(771)
    # multiples of 1/8 and eta 1/2: every correct formula computes the residual exactly (no
    # float32 rounding), so the loss and its gradient are exactly 0 however it is written
    ra, rb = rng.integers(-16, 17, size=5) / 8, rng.integers(-16, 17, size=5) / 8
    lb = rng.integers(-4, 5, size=5) / 8
    return [
        Case("the exact regression target: log-ratio difference = eta x reward difference "
             "(eta 0.5), the loss and its gradient are 0",
             run=_rebel_run(lb + 0.5 * (ra - rb), lb, ra, rb, 0.5)),
        Case("8 random pairs, eta 0.1, float32",
             run=_rebel_run(rng.normal(size=8) * 0.2, rng.normal(size=8) * 0.2,
                            rng.normal(size=8), rng.normal(size=8), 0.1)),
        Case("eta 1, float64, the rewards with gradients (they are constants: none must reach "
             "them)", run=_rebel_run([0.5, -0.2, 0.0], [0.1, 0.3, -0.4], [1.0, 0.0, 2.0],
                                     [0.0, 1.0, 1.0], 1.0, torch.float64, reward_grad=True)),
    ]


def _rebel_hidden(rng: np.random.Generator) -> list[Case]:
    n = int(rng.integers(2, 30))
    return [Case("hidden: a random batch", run=_rebel_run(
        rng.normal(size=n) * 0.3, rng.normal(size=n) * 0.3, rng.normal(size=n),
        rng.normal(size=n), float(rng.uniform(0.05, 2.0)), reward_grad=bool(rng.random() < 0.5)))]


def _bug_rebel_eta_multiplied(log_ratio_a, log_ratio_b, reward_a, reward_b, eta):
    return ((eta * (log_ratio_a - log_ratio_b) - (reward_a - reward_b).detach()) ** 2).mean()


def _bug_rebel_absolute(log_ratio_a, log_ratio_b, reward_a, reward_b, eta):
    return ((log_ratio_a - log_ratio_b) / eta - (reward_a - reward_b).detach()).abs().mean()


def _bug_rebel_reward_gap_reversed(log_ratio_a, log_ratio_b, reward_a, reward_b, eta):
    return (((log_ratio_a - log_ratio_b) / eta - (reward_b - reward_a).detach()) ** 2).mean()


def _bug_rebel_sum(log_ratio_a, log_ratio_b, reward_a, reward_b, eta):
    return (((log_ratio_a - log_ratio_b) / eta - (reward_a - reward_b).detach()) ** 2).sum()


def _bug_rebel_not_detached(log_ratio_a, log_ratio_b, reward_a, reward_b, eta):
    return (((log_ratio_a - log_ratio_b) / eta - (reward_a - reward_b)) ** 2).mean()


def _bug_rebel_not_squared(log_ratio_a, log_ratio_b, reward_a, reward_b, eta):
    return ((log_ratio_a - log_ratio_b) / eta - (reward_a - reward_b).detach()).mean()


def _bug_rebel_root(log_ratio_a, log_ratio_b, reward_a, reward_b, eta):
    residual = (log_ratio_a - log_ratio_b) / eta - (reward_a - reward_b).detach()
    return (residual**2).mean().sqrt()


def _bug_rebel_half(log_ratio_a, log_ratio_b, reward_a, reward_b, eta):
    return 0.5 * (((log_ratio_a - log_ratio_b) / eta - (reward_a - reward_b).detach()) ** 2
                  ).mean()


REBEL_LOSS = CheckSpec(
    name="rlhf.rebel_loss",
    function="rebel_loss",
    points=2,
    reference=losses.rebel_loss,
    visible_cases=_rebel_cases,
    hidden_cases=_rebel_hidden,
    compare=fields(allclose(rtol=1e-5, atol=1e-7)),
    bugs=(
        Bug("eta_multiplies", _bug_rebel_eta_multiplied,
            "DIVIDE the log-ratio difference by eta: (1/eta)(log ratio_a - log ratio_b) "
            "regresses the reward difference (it is 0 when the log-ratio difference is eta "
            "times the reward difference)."),
        Bug("absolute_error", _bug_rebel_absolute,
            "REBEL is a least-squares regression: square the residual, not its absolute "
            "value."),
        Bug("reward_gap_reversed", _bug_rebel_reward_gap_reversed,
            "Keep a and b in the same order on both sides: the target of (log ratio_a - "
            "log ratio_b) / eta is r_a - r_b."),
        Bug("sum_not_mean", _bug_rebel_sum,
            "Average the squared residuals over the pairs (mean), not sum."),
        Bug("rewards_not_detached", _bug_rebel_not_detached,
            "The rewards are the regression's targets, constants: .detach() them, so that "
            "no gradient reaches them."),
        Bug("residual_not_squared", _bug_rebel_not_squared,
            "Square each residual before the mean: the mean of the residuals themselves can be "
            "0 while every pair is off (and its gradient ignores how far off)."),
        Bug("root_of_the_mean", _bug_rebel_root,
            "REBEL's loss is the mean of the SQUARED residuals, without a square root (at the "
            "regression target its gradient is 0 / 0)."),
        Bug("half", _bug_rebel_half,
            "REBEL's loss is the mean squared residual, without a factor 1/2."),
    ),
    hint="mean(((log_ratio_a - log_ratio_b) / eta - (reward_a - reward_b).detach()) ** 2).",
)


register(SEQUENCE_LOG_PROBS, KL_PENALIZED_REWARDS, RLOO_ADVANTAGES, DPO_LOSS, REBEL_LOSS)
