"""Check specs of notebook 06 (PPO), second part: the pieces of PPO's update around the losses.

The two KL estimators (on a stratified sample of a small categorical, whose sample mean *is*
the expectation, so that their unbiasedness is checked exactly against the exact KL), advantage
normalisation and the minibatches of an epoch. The losses and the learning run are
:mod:`autograder.judge.specs.ppo_clip` (the same topic prefix ``ppo``). The box procedures that
call the student's functions are :mod:`autograder.box.procedures.ppo_clip`; they return raw
outputs, compared here. Each ``_bug_*`` is a self-contained plausible wrong implementation with
its hint; ``tests/test_bug_bank.py`` proves every one is caught and named.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from autograder.box.procedures.ppo_clip import kl_run, minibatch_run, norm_run
from autograder.judge.core import (
    Bug,
    Case,
    CheckSpec,
    Comparator,
    allclose,
    promised_type,
    register,
)
from rlkit.agents import ppo

# --- the two KL estimators

#: a small categorical and the stratified sample whose mean is the expectation under OLD_PROBS
OLD_PROBS = np.array([0.5, 0.3, 0.2])
NEW_PROBS = np.array([0.25, 0.35, 0.4])
STRATIFIED = np.repeat(np.arange(3), (OLD_PROBS * 10).astype(int))


def _exact_kl(p: np.ndarray, q: np.ndarray) -> float:
    return float(np.sum(p * np.log(p / q)))


def _one_number(compare: Comparator) -> Comparator:
    """``compare`` of an estimate that must be one number (any shape of one value)."""

    def one_number(got: Any, expected: Any) -> str | None:
        if isinstance(got, np.ndarray) and got.size != 1:
            return f"return one number, the mean over the batch; got shape {got.shape}"
        return compare(np.reshape(got, ()) if isinstance(got, np.ndarray) else got, expected)

    return one_number


def _kl_cases() -> list[Case]:
    rng = np.random.default_rng(641)
    new_lp, old_lp = np.log(NEW_PROBS)[STRATIFIED], np.log(OLD_PROBS)[STRATIFIED]
    kl = _exact_kl(OLD_PROBS, NEW_PROBS)
    n = 12
    return [
        Case(f"a stratified sample of pi_old = {OLD_PROBS.tolist()} (each action as often as "
             f"its probability says, so its mean is the expectation): the exact "
             f"KL(pi_old || pi) = {kl:.6f} for pi = {NEW_PROBS.tolist()}",
             run=kl_run(new_lp, old_lp, torch.float64), expected=kl),
        Case("equal policies: 0", run=kl_run(old_lp, old_lp)),
        Case(f"{n} random log-probs", run=kl_run(-rng.exponential(size=n),
                                                  -rng.exponential(size=n))),
    ]


def _kl_hidden(rng: np.random.Generator) -> list[Case]:
    n = int(rng.integers(2, 40))
    return [Case("hidden: a random batch", run=kl_run(-rng.exponential(size=n),
                                                       -rng.exponential(size=n)))]


def _bug_kl_direction(log_probs, old_log_probs):
    return (log_probs - old_log_probs).mean()


def _bug_kl_abs(log_probs, old_log_probs):
    return (old_log_probs - log_probs).abs().mean()


def _bug_kl_sum(log_probs, old_log_probs):
    return (old_log_probs - log_probs).sum()


def _bug_kl_squared(log_probs, old_log_probs):
    return 0.5 * ((log_probs - old_log_probs) ** 2).mean()


def _bug_kl_r_log_r(log_probs, old_log_probs):
    log_ratio = log_probs - old_log_probs
    return (log_ratio.exp() * log_ratio).mean()


APPROX_KL = CheckSpec(
    name="ppo.approx_kl",
    function="approx_kl",
    points=1,
    reference=ppo.approx_kl,
    visible_cases=_kl_cases,
    hidden_cases=_kl_hidden,
    compare=_one_number(allclose(rtol=1e-5, atol=1e-7)),
    bugs=(
        Bug("wrong_direction", _bug_kl_direction,
            "KL(pi_old || pi) = E_old[log pi_old - log pi]: old minus new (yours is its "
            "negative)."),
        Bug("absolute_value", _bug_kl_abs,
            "Average log pi_old - log pi itself, without abs: its expectation is the KL, the "
            "expectation of |.| is larger."),
        Bug("sum_not_mean", _bug_kl_sum,
            "The estimate is the sample MEAN over the batch, not the sum."),
        Bug("squared_log_ratio", _bug_kl_squared,
            "That is the k2 estimator (log r)^2 / 2, biased; this one is the plain sample mean "
            "of log pi_old - log pi."),
        Bug("new_policy_weighted", _bug_kl_r_log_r,
            "r log r estimates KL(pi || pi_old), the other direction: average log pi_old - "
            "log pi."),
    ),
    hint="mean(old_log_probs - log_probs): the samples come from pi_old, so this is an "
    "unbiased estimate of KL(pi_old || pi).",
)


def _bug_k3_inverted(log_probs, old_log_probs):
    log_ratio = old_log_probs - log_probs
    return (torch.expm1(log_ratio) - log_ratio).mean()


def _bug_k3_no_minus_one(log_probs, old_log_probs):
    log_ratio = log_probs - old_log_probs
    return (log_ratio.exp() - log_ratio).mean()


def _bug_k3_plus_log(log_probs, old_log_probs):
    log_ratio = log_probs - old_log_probs
    return (torch.expm1(log_ratio) + log_ratio).mean()


def _bug_k3_naive(log_probs, old_log_probs):
    return (old_log_probs - log_probs).mean()


def _bug_k3_sum(log_probs, old_log_probs):
    log_ratio = log_probs - old_log_probs
    return (torch.expm1(log_ratio) - log_ratio).sum()


def _bug_k3_k2(log_probs, old_log_probs):
    return 0.5 * ((log_probs - old_log_probs) ** 2).mean()


APPROX_KL_LOW_VARIANCE = CheckSpec(
    name="ppo.approx_kl_low_variance",
    function="approx_kl_low_variance",
    points=2,
    reference=ppo.approx_kl_low_variance,
    visible_cases=_kl_cases,
    hidden_cases=_kl_hidden,
    compare=_one_number(allclose(rtol=1e-5, atol=1e-7)),
    bugs=(
        Bug("inverted_ratio", _bug_k3_inverted,
            "r = pi / pi_old = exp(log_probs - old_log_probs): new over old. With r inverted "
            "the estimate is biased."),
        Bug("no_minus_one", _bug_k3_no_minus_one,
            "(r - 1) - log r: without the - 1 every term is 1 too large."),
        Bug("plus_log", _bug_k3_plus_log,
            "SUBTRACT log r: (r - 1) - log r, which is >= 0 term by term since log r <= "
            "r - 1."),
        Bug("naive_estimator", _bug_k3_naive,
            "That is the naive estimator; the low-variance one averages (r - 1) - log r with "
            "r = exp(log_probs - old_log_probs)."),
        Bug("sum_not_mean", _bug_k3_sum,
            "The estimate is the sample MEAN over the batch, not the sum."),
        Bug("k2", _bug_k3_k2,
            "That is k2, (log r)^2 / 2, biased; k3 is (r - 1) - log r."),
    ),
    hint="with log r = log_probs - old_log_probs: mean((exp(log r) - 1) - log r), >= 0 and "
    "unbiased for KL(pi_old || pi).",
)

# --- normalize_advantages


def _either_std(rtol: float = 1e-5, atol: float = 1e-6):
    """Close to the reference (std with 1/(N-1)) or to the same with the 1/N std."""
    close = allclose(rtol=rtol, atol=atol)

    def compare(got: Any, expected: Any) -> str | None:
        problem = close(got, expected)
        if problem is None:
            return None
        n = np.asarray(expected).size
        if n > 1 and close(got, np.asarray(expected) * math.sqrt(n / (n - 1))) is None:
            return None
        return problem

    return compare


def _norm_cases() -> list[Case]:
    rng = np.random.default_rng(651)
    per_env = rng.normal(size=(6, 3)) * np.array([1.0, 10.0, 0.1]) + np.array([0.0, 5.0, -2.0])
    return [
        Case("6 steps x 3 envs on different scales: one mean and one std over every entry",
             run=norm_run(per_env)),
        Case("a flat batch of 10", run=norm_run(rng.normal(3.0, 2.0, size=10))),
        Case("all advantages equal: zeros (eps keeps 0 / 0 away)",
             run=norm_run(np.full((4, 2), 1.5))),
        Case("two entries, float64", run=norm_run([1.0, 3.0], torch.float64)),
    ]


def _norm_hidden(rng: np.random.Generator) -> list[Case]:
    shape = tuple(int(x) for x in rng.integers(2, 9, size=2))
    return [Case("hidden: a random (T, n_envs) batch", run=norm_run(
        rng.normal(size=shape) * rng.uniform(0.1, 10, size=shape[1])))]


def _bug_norm_per_env(advantages, eps=1e-8):
    return (advantages - advantages.mean(0)) / (advantages.std(0) + eps)


def _bug_norm_per_step(advantages, eps=1e-8):
    if advantages.ndim < 2:
        return (advantages - advantages.mean()) / (advantages.std() + eps)
    mean, std = advantages.mean(1, keepdim=True), advantages.std(1, keepdim=True)
    return (advantages - mean) / (std + eps)


def _bug_norm_centre_only(advantages, eps=1e-8):
    return advantages - advantages.mean()


def _bug_norm_scale_only(advantages, eps=1e-8):
    return advantages / (advantages.std() + eps)


def _bug_norm_variance(advantages, eps=1e-8):
    return (advantages - advantages.mean()) / (advantages.var() + eps)


def _bug_norm_no_eps(advantages, eps=1e-8):
    return (advantages - advantages.mean()) / advantages.std()


NORMALIZE_ADVANTAGES = CheckSpec(
    name="ppo.normalize_advantages",
    function="normalize_advantages",
    points=1,
    reference=ppo.normalize_advantages,
    visible_cases=_norm_cases,
    hidden_cases=_norm_hidden,
    compare=promised_type(_either_std()),
    bugs=(
        Bug("per_env", _bug_norm_per_env,
            "Use ONE mean and ONE std over every entry of the batch; per env (axis 0) each "
            "env's advantages would be rescaled on their own."),
        Bug("per_step", _bug_norm_per_step,
            "Use one mean and one std over the whole batch, not per row."),
        Bug("centred_only", _bug_norm_centre_only,
            "Also divide by the standard deviation (plus eps)."),
        Bug("scaled_only", _bug_norm_scale_only,
            "Also subtract the mean: the normalised advantages average 0."),
        Bug("divides_by_variance", _bug_norm_variance,
            "Divide by the standard deviation, not the variance."),
        Bug("no_eps", _bug_norm_no_eps,
            "Add eps to the standard deviation: equal advantages have std 0, and 0 / 0 is "
            "NaN."),
    ),
    hint="(A - A.mean()) / (A.std() + eps) over every entry of the batch.",
)

# --- minibatch_indices


def _minibatch_summary(output: dict[str, Any], n: int) -> dict[str, Any]:
    """What two epochs' minibatches (and the first again, same seed) show of ``n`` samples."""
    first, second = output["first epoch"], output["second epoch"]
    flat = [i for part in first for i in part]
    return {"number of minibatches": len(first),
            "sizes": sorted(len(p) for p in first),
            "every index once": sorted(flat) == list(range(n)),
            "shuffled": flat != sorted(flat),
            "a fresh order each epoch": first != second,
            "the same for the same rng seed": first == output["first epoch again"]}


def _minibatch_compare(n: int) -> Comparator:
    """Compare what the minibatches of ``n`` samples show with what the reference's show."""
    keys = ("first epoch", "second epoch", "first epoch again")

    def compare(got: Any, expected: Any) -> str | None:
        if not isinstance(got, dict) or set(got) != set(keys) or not all(
                isinstance(got[k], list) and all(isinstance(p, list) for p in got[k])
                for k in keys):
            return f"expected the values {list(keys)}, got {got!r:.200}"
        got, expected = _minibatch_summary(got, n), _minibatch_summary(expected, n)
        for key, value in expected.items():
            if got[key] != value:
                return f"{key}: expected {value}, got {got[key]}"
        return None

    return compare


def _minibatch_case(name: str, n: int, n_minibatches: int, seed: int) -> Case:
    return Case(name, run=minibatch_run(n, n_minibatches, seed), compare=_minibatch_compare(n))


def _minibatch_cases() -> list[Case]:
    return [
        _minibatch_case("64 samples in 4 minibatches, two epochs from one rng", 64, 4, 661),
        _minibatch_case("256 samples in 8 minibatches", 256, 8, 662),
        _minibatch_case("one minibatch of 32 (the whole batch, shuffled)", 32, 1, 663),
    ]


def _minibatch_hidden(rng: np.random.Generator) -> list[Case]:
    k = int(rng.integers(2, 9))
    return [_minibatch_case("hidden: random sizes", k * int(rng.integers(8, 40)), k,
                            int(rng.integers(2**31)))]


def _bug_mb_no_shuffle(n, n_minibatches, rng):
    return np.split(np.arange(n), n_minibatches)


def _bug_mb_replacement(n, n_minibatches, rng):
    return np.split(rng.integers(0, n, size=n), n_minibatches)


def _bug_mb_same_order(n, n_minibatches, rng):
    return np.split(np.random.default_rng(0).permutation(n), n_minibatches)


def _bug_mb_size_for_count(n, n_minibatches, rng):
    return np.split(rng.permutation(n), n // n_minibatches)


def _bug_mb_global_rng(n, n_minibatches, rng):
    return np.split(np.random.permutation(n), n_minibatches)


MINIBATCH_INDICES = CheckSpec(
    name="ppo.minibatch_indices",
    function="minibatch_indices",
    points=1,
    reference=ppo.minibatch_indices,
    visible_cases=_minibatch_cases,
    hidden_cases=_minibatch_hidden,
    bugs=(
        Bug("not_shuffled", _bug_mb_no_shuffle,
            "Shuffle first (rng.permutation(n)): consecutive indices are consecutive steps of "
            "one env, strongly correlated."),
        Bug("with_replacement", _bug_mb_replacement,
            "Draw a permutation, not indices with replacement: each sample is used exactly "
            "once per epoch."),
        Bug("same_order_every_epoch", _bug_mb_same_order,
            "Draw the permutation from the rng you are given: a generator seeded inside the "
            "function repeats the same order every epoch."),
        Bug("size_for_count", _bug_mb_size_for_count,
            "n_minibatches is the NUMBER of parts (each of n // n_minibatches indices), not "
            "their size."),
        Bug("global_rng", _bug_mb_global_rng,
            "Use the rng argument (rng.permutation), not numpy's global generator: the same "
            "seed must give the same minibatches."),
    ),
    hint="np.split(rng.permutation(n), n_minibatches): a list of n_minibatches index arrays.",
)


register(APPROX_KL, APPROX_KL_LOW_VARIANCE, NORMALIZE_ADVANTAGES, MINIBATCH_INDICES)
