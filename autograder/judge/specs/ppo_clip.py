"""Check specs of notebook 06 (PPO), second part: PPO-Clip's losses and its learning run.

The importance ratio and L^CLIP in value and in gradient (the lecture's six cases: A > 0 and
A < 0, r below, inside and above the clip range, and which pairs pass a gradient), the critic's
clipped loss, the total loss with its entropy bonus; then a learning run of the student's pieces
in rlkit's PPO trainer (DESIGN section 5, layer 3). The update's other pieces (the KL
estimators, advantage normalisation, minibatches) are :mod:`autograder.judge.specs.ppo_update`;
the spec names share the topic prefix ``ppo`` with :mod:`autograder.judge.specs.ppo` (the exact
first part). The box procedures that call the student's functions are
:mod:`autograder.box.procedures.ppo_clip`; they return raw outputs, compared here. Each
``_bug_*`` is a self-contained plausible wrong implementation with its hint;
``tests/test_bug_bank.py`` proves every one is caught and named.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from autograder.box.procedures.ppo_clip import (
    RATIO,
    TRAIN_KEYWORDS,
    clip_run,
    learn_run,
    ratio_run,
    total_run,
    value_run,
)
from autograder.judge.core import Bug, Case, CheckSpec, allclose, register
from autograder.judge.specs.dqn import fields
from autograder.judge.specs.learning_runs import (
    learning_spec,
    on_policy_learning_cases,
    trained_with,
)
from rlkit.agents import ppo

# --- importance_ratio


_RATIO_COMPARE = fields(allclose(rtol=1e-5, atol=1e-7))


def _ratio_compare(got: Any, expected: Any) -> str | None:
    """The ratio has the shape of log_probs; then its values and gradients are compared."""
    if isinstance(got, dict) and isinstance(expected, dict):
        shape, got_shape = np.shape(expected.get(RATIO)), np.shape(got.get(RATIO))
        if RATIO in got and got_shape != shape:
            return f"the ratio must have the shape of log_probs, {shape}; got {got_shape}"
    return _RATIO_COMPARE(got, expected)


def _ratio_cases() -> list[Case]:
    rng = np.random.default_rng(611)
    new, old = -rng.exponential(size=6), -rng.exponential(size=6)
    return [
        Case("equal log-probs: the ratio is 1", run=ratio_run([-0.5, -1.2, -3.0],
                                                               [-0.5, -1.2, -3.0])),
        Case("6 random log-probs (float32): the ratio and its gradient; old_log_probs require "
             "grad here and must get none", run=ratio_run(new, old)),
        Case("very unlikely actions (log-probs near -1000, ratios e and 1/e): exp(-1000) is 0 "
             "in floating point", run=ratio_run([-1000.0, -999.0], [-1001.0, -998.0],
                                                 torch.float64)),
        Case("a single action, float64", run=ratio_run([-0.1], [-2.0], torch.float64)),
    ]


def _ratio_hidden(rng: np.random.Generator) -> list[Case]:
    n = int(rng.integers(2, 30))
    return [Case("hidden: a random batch", run=ratio_run(-rng.exponential(size=n),
                                                          -rng.exponential(size=n)))]


def _bug_ratio_probabilities(log_probs, old_log_probs):
    return torch.exp(log_probs) / torch.exp(old_log_probs.detach())


def _bug_ratio_inverted(log_probs, old_log_probs):
    return torch.exp(old_log_probs.detach() - log_probs)


def _bug_ratio_no_exp(log_probs, old_log_probs):
    return log_probs - old_log_probs.detach()


def _bug_ratio_not_detached(log_probs, old_log_probs):
    return torch.exp(log_probs - old_log_probs)


def _bug_ratio_of_logs(log_probs, old_log_probs):
    return log_probs / old_log_probs.detach()


IMPORTANCE_RATIO = CheckSpec(
    name="ppo.importance_ratio",
    function="importance_ratio",
    points=2,
    reference=ppo.importance_ratio,
    visible_cases=_ratio_cases,
    hidden_cases=_ratio_hidden,
    compare=_ratio_compare,
    bugs=(
        Bug("ratio_of_probabilities", _bug_ratio_probabilities,
            "Divide in log space: exp(log_probs - old_log_probs). exp of a very negative "
            "log-prob is 0 in floating point, and 0 / 0 is NaN."),
        Bug("inverted", _bug_ratio_inverted,
            "The ratio is pi_theta / pi_old: exp(log_probs - old_log_probs), new minus old."),
        Bug("no_exp", _bug_ratio_no_exp,
            "log_probs - old_log_probs is the LOG of the ratio: take its exp."),
        Bug("old_not_detached", _bug_ratio_not_detached,
            "The old policy is a constant of the update: .detach() old_log_probs, so that no "
            "gradient flows into it."),
        Bug("ratio_of_log_probs", _bug_ratio_of_logs,
            "The ratio of the probabilities is exp(log pi - log pi_old), not the quotient of "
            "the log-probs."),
    ),
    hint="ratio = exp(log_probs - old_log_probs.detach()), elementwise, a tensor of the shape "
    "of log_probs.",
)

# --- ppo_clip_loss

#: the lecture's six cases: (A, r) with clip_eps 0.2, and what the case shows
SIX_CASES = (
    (1.0, 0.5, "A > 0, r = 0.5 below 1 - eps: L = r A, the gradient pulls r back up"),
    (1.0, 1.1, "A > 0, r = 1.1 inside the clip range: L = r A"),
    (1.0, 1.5, "A > 0, r = 1.5 above 1 + eps: L = (1 + eps) A, no gradient"),
    (-1.0, 0.5, "A < 0, r = 0.5 below 1 - eps: L = (1 - eps) A, no gradient"),
    (-1.0, 0.9, "A < 0, r = 0.9 inside the clip range: L = r A"),
    (-1.0, 1.5, "A < 0, r = 1.5 above 1 + eps: L = r A, the gradient pulls r back down"),
)


def _clip_cases() -> list[Case]:
    rng = np.random.default_rng(621)
    cases = [Case(f"one pair, {name}", run=clip_run([r], [a], 0.2)) for a, r, name in SIX_CASES]
    ratio = np.array([r for _, r, _ in SIX_CASES])
    advantages = np.array([a for a, _, _ in SIX_CASES]) * np.array([0.5, 2, 1, 3, 0.7, 1.5])
    cases.append(Case("the six pairs together, other advantages: the mean over the batch",
                      run=clip_run(ratio, advantages, 0.2)))
    cases.append(Case("20 random pairs, clip_eps 0.1, float64",
                      run=clip_run(rng.uniform(0.6, 1.4, 20), rng.normal(size=20), 0.1,
                                    torch.float64)))
    cases.append(Case("8 random pairs, the advantages with gradients (a critic's output): they "
                      "are constants, none must reach them",
                      run=clip_run(rng.uniform(0.6, 1.4, 8), rng.normal(size=8), 0.2,
                                   constants_grad=True)))
    return cases


def _clip_hidden(rng: np.random.Generator) -> list[Case]:
    n = int(rng.integers(2, 40))
    return [Case("hidden: a random batch", run=clip_run(
        rng.uniform(0.5, 1.5, n), rng.normal(size=n), float(rng.uniform(0.1, 0.3)),
        constants_grad=bool(rng.random() < 0.5)))]


def _bug_clip_max(ratio, advantages, clip_eps):
    clipped = torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps)
    return -torch.max(ratio * advantages, clipped * advantages).mean()


def _bug_clip_the_product(ratio, advantages, clip_eps):
    return -torch.clamp(ratio * advantages, 1 - clip_eps, 1 + clip_eps).mean()


def _bug_clip_product_in_the_min(ratio, advantages, clip_eps):
    surrogate = ratio * advantages.detach()
    return -torch.min(surrogate, torch.clamp(surrogate, 1 - clip_eps, 1 + clip_eps)).mean()


def _bug_clip_upper_only(ratio, advantages, clip_eps):
    clipped = torch.clamp(ratio, max=1 + clip_eps)
    return -torch.min(ratio * advantages.detach(), clipped * advantages.detach()).mean()


def _bug_clip_only(ratio, advantages, clip_eps):
    return -(torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps) * advantages).mean()


def _bug_clip_sign(ratio, advantages, clip_eps):
    clipped = torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps)
    return torch.min(ratio * advantages, clipped * advantages).mean()


def _bug_clip_none(ratio, advantages, clip_eps):
    return -(ratio * advantages).mean()


def _bug_clip_sum(ratio, advantages, clip_eps):
    clipped = torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps)
    return -torch.min(ratio * advantages, clipped * advantages).sum()


def _bug_clip_around_zero(ratio, advantages, clip_eps):
    clipped = torch.clamp(ratio, -clip_eps, clip_eps)
    return -torch.min(ratio * advantages, clipped * advantages).mean()


def _bug_clip_advantages_not_detached(ratio, advantages, clip_eps):
    clipped = torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps)
    return -torch.min(ratio * advantages, clipped * advantages).mean()


PPO_CLIP_LOSS = CheckSpec(
    name="ppo.ppo_clip_loss",
    function="ppo_clip_loss",
    points=3,
    reference=ppo.ppo_clip_loss,
    visible_cases=_clip_cases,
    hidden_cases=_clip_hidden,
    compare=fields(allclose(rtol=1e-5, atol=1e-7)),
    bugs=(
        Bug("max_not_min", _bug_clip_max,
            "Take the MIN of r A and clip(r) A: the pessimistic of the two, so that a step "
            "beyond the clip range earns nothing more (max rewards it)."),
        Bug("clips_the_product", _bug_clip_the_product,
            "Clip the ratio r to [1 - eps, 1 + eps], then multiply by A: min(r A, clip(r, "
            "1 - eps, 1 + eps) A). Clipping r A itself mixes the units of A into the range."),
        Bug("clamps_r_times_a_in_the_min", _bug_clip_product_in_the_min,
            "Clip the RATIO, not the product: min(r A, clip(r, 1 - eps, 1 + eps) A). "
            "clip(r A, 1 - eps, 1 + eps) holds an advantage-sized number to a range around 1, "
            "so a pair with A < 0 is never clipped."),
        Bug("upper_bound_only", _bug_clip_upper_only,
            "Clip on both sides, clamp(r, 1 - eps, 1 + eps): the lower bound 1 - eps is what "
            "stops a pair with A < 0 from pushing its ratio further down."),
        Bug("clip_without_min", _bug_clip_only,
            "clip(r) A alone passes no gradient where a step went the wrong way (A > 0, r < "
            "1 - eps): keep the min with the unclipped r A."),
        Bug("sign", _bug_clip_sign,
            "L^CLIP is an objective to MAXIMISE: the loss to minimise is its negative, "
            "-mean(min(...))."),
        Bug("no_clip", _bug_clip_none,
            "That is the plain surrogate r A: clip the ratio to [1 - eps, 1 + eps] and take "
            "the min with it."),
        Bug("sum_not_mean", _bug_clip_sum,
            "Average over the batch (mean), not sum: the step size would grow with the "
            "batch."),
        Bug("clip_range_around_zero", _bug_clip_around_zero,
            "The clip range is around 1 (the ratio where the policies agree): "
            "[1 - clip_eps, 1 + clip_eps]."),
        Bug("advantages_not_detached", _bug_clip_advantages_not_detached,
            "The advantages are constants of the policy's loss: .detach() them, else the "
            "actor's loss also trains the critic that produced them."),
    ),
    hint="loss = -mean(min(ratio * A, clamp(ratio, 1 - clip_eps, 1 + clip_eps) * A)).",
)

# --- clipped_value_loss


def _value_cases() -> list[Case]:
    rng = np.random.default_rng(631)
    v, old, g = rng.normal(size=8), rng.normal(size=8), rng.normal(size=8)
    return [
        Case("clip_eps None: the plain squared error", run=value_run(v, old, g, None)),
        Case("clip_eps 0.2, three values: one moved 1.0 towards its target, one 1.0 away, one "
             "0.1", run=value_run([1.0, -1.0, 0.1], [0.0, 0.0, 0.0], [2.0, 1.0, 1.0], 0.2)),
        Case("clip_eps 0.5, values equal to the old values", run=value_run(old, old, g, 0.5)),
        Case("clip_eps 0.3, 8 random values, float64",
             run=value_run(v, old, g, 0.3, torch.float64)),
        Case("clip_eps 0.2, old values and returns with gradients: they are constants, none "
             "must reach them", run=value_run(v, old, g, 0.2, constants_grad=True)),
        Case("clip_eps None, returns with gradients: none must reach them",
             run=value_run(v, old, g, None, constants_grad=True)),
    ]


def _value_hidden(rng: np.random.Generator) -> list[Case]:
    n = int(rng.integers(2, 30))
    return [Case("hidden: a random batch", run=value_run(
        rng.normal(size=n), rng.normal(size=n), rng.normal(size=n), float(rng.uniform(0.1, 1)),
        constants_grad=bool(rng.random() < 0.5)))]


def _bug_value_min(values, old_values, returns, clip_eps):
    if clip_eps is None:
        return ((values - returns) ** 2).mean()
    clipped = old_values + torch.clamp(values - old_values, -clip_eps, clip_eps)
    return torch.min((values - returns) ** 2, (clipped - returns) ** 2).mean()


def _bug_value_relative(values, old_values, returns, clip_eps):
    if clip_eps is None:
        return ((values - returns) ** 2).mean()
    clipped = old_values * torch.clamp(values / old_values, 1 - clip_eps, 1 + clip_eps)
    return torch.max((values - returns) ** 2, (clipped - returns) ** 2).mean()


def _bug_value_clamps_values(values, old_values, returns, clip_eps):
    if clip_eps is None:
        return ((values - returns) ** 2).mean()
    clipped = torch.clamp(values, -clip_eps, clip_eps)
    return torch.max((values - returns) ** 2, (clipped - returns) ** 2).mean()


def _bug_value_clipped_only(values, old_values, returns, clip_eps):
    if clip_eps is None:
        return ((values - returns) ** 2).mean()
    clipped = old_values + torch.clamp(values - old_values, -clip_eps, clip_eps)
    return ((clipped - returns) ** 2).mean()


def _bug_value_half(values, old_values, returns, clip_eps):
    if clip_eps is None:
        return 0.5 * ((values - returns) ** 2).mean()
    clipped = old_values + torch.clamp(values - old_values, -clip_eps, clip_eps)
    return 0.5 * torch.max((values - returns) ** 2, (clipped - returns) ** 2).mean()


def _bug_value_ignores_clip(values, old_values, returns, clip_eps):
    return ((values - returns) ** 2).mean()


def _bug_value_old_values_not_detached(values, old_values, returns, clip_eps):
    returns = returns.detach()
    if clip_eps is None:
        return ((values - returns) ** 2).mean()
    clipped = old_values + torch.clamp(values - old_values, -clip_eps, clip_eps)
    return torch.max((values - returns) ** 2, (clipped - returns) ** 2).mean()


def _bug_value_returns_not_detached(values, old_values, returns, clip_eps):
    old_values = old_values.detach()
    if clip_eps is None:
        return ((values - returns) ** 2).mean()
    clipped = old_values + torch.clamp(values - old_values, -clip_eps, clip_eps)
    return torch.max((values - returns) ** 2, (clipped - returns) ** 2).mean()


CLIPPED_VALUE_LOSS = CheckSpec(
    name="ppo.clipped_value_loss",
    function="clipped_value_loss",
    points=2,
    reference=ppo.clipped_value_loss,
    uses=("rlkit.agents.reinforce.value_loss",),
    visible_cases=_value_cases,
    hidden_cases=_value_hidden,
    compare=fields(allclose(rtol=1e-5, atol=1e-7)),
    bugs=(
        Bug("min_not_max", _bug_value_min,
            "Take the MAX of the two squared errors (the pessimistic one): with min, a value "
            "that jumped past its clip range would still be pulled by the smaller error."),
        Bug("relative_clip", _bug_value_relative,
            "The value clip is ADDITIVE, in the values' units: V_old + clip(V - V_old, -eps, "
            "eps), not a ratio V / V_old clipped like the policy's."),
        Bug("clamps_the_values", _bug_value_clamps_values,
            "Clip the CHANGE of the value, V - V_old, to [-eps, eps], then add V_old back; "
            "not the value itself."),
        Bug("clipped_term_only", _bug_value_clipped_only,
            "Keep both terms, max((V - G)^2, (V_clip - G)^2): the clipped one alone passes no "
            "gradient once V has moved eps."),
        Bug("half", _bug_value_half,
            "The lecture's critic loss is the mean squared error, without a factor 1/2 (the "
            "coefficient value_coef weighs it in the total loss)."),
        Bug("ignores_clip_eps", _bug_value_ignores_clip,
            "With clip_eps given, clip: V_clip = V_old + clip(V - V_old, -eps, eps) and the "
            "loss is mean(max((V - G)^2, (V_clip - G)^2))."),
        Bug("old_values_not_detached", _bug_value_old_values_not_detached,
            "old_values were recorded with the rollout, a constant of the update: .detach() "
            "them, so that no gradient flows into the old critic's outputs."),
        Bug("returns_not_detached", _bug_value_returns_not_detached,
            "The targets G_t are constants: .detach() the returns, else the critic chases its "
            "own target (G_t = A_t + V_old moves with the critic)."),
    ),
    hint="clip_eps None: mean((V - G)^2); otherwise V_clip = V_old + clamp(V - V_old, -eps, "
    "eps) and mean(max((V - G)^2, (V_clip - G)^2)), with G and V_old constants.",
)

# --- ppo_loss: the three terms together


def _total_cases() -> list[Case]:
    return [
        Case("value_coef 0.5, entropy_coef 0.01, 6 entropies",
             run=total_run(6, 671, 0.5, 0.01)),
        Case("value_coef 1, entropy_coef 0.1, a single entropy, float64",
             run=total_run(1, 672, 1.0, 0.1, torch.float64)),
        Case("no entropy bonus (entropy_coef 0)", run=total_run(5, 673, 0.25, 0.0)),
    ]


def _total_hidden(rng: np.random.Generator) -> list[Case]:
    return [Case("hidden: random coefficients", run=total_run(
        int(rng.integers(2, 30)), int(rng.integers(2**31)), float(rng.uniform(0.1, 1.0)),
        float(rng.uniform(0.0, 0.1))))]


def _bug_total_entropy_sign(clip_loss, critic_loss, entropy, value_coef, entropy_coef):
    return clip_loss + value_coef * critic_loss + entropy_coef * entropy.mean()


def _bug_total_no_value_coef(clip_loss, critic_loss, entropy, value_coef, entropy_coef):
    return clip_loss + critic_loss - entropy_coef * entropy.mean()


def _bug_total_entropy_sum(clip_loss, critic_loss, entropy, value_coef, entropy_coef):
    return clip_loss + value_coef * critic_loss - entropy_coef * entropy.sum()


def _bug_total_clip_sign(clip_loss, critic_loss, entropy, value_coef, entropy_coef):
    return -clip_loss + value_coef * critic_loss - entropy_coef * entropy.mean()


def _bug_total_coefficients_swapped(clip_loss, critic_loss, entropy, value_coef, entropy_coef):
    return clip_loss + entropy_coef * critic_loss - value_coef * entropy.mean()


def _bug_total_entropy_detached(clip_loss, critic_loss, entropy, value_coef, entropy_coef):
    return clip_loss + value_coef * critic_loss - entropy_coef * entropy.detach().mean()


PPO_LOSS = CheckSpec(
    name="ppo.ppo_loss",
    function="ppo_loss",
    points=1,
    reference=ppo.ppo_loss,
    visible_cases=_total_cases,
    hidden_cases=_total_hidden,
    compare=fields(allclose(rtol=1e-5, atol=1e-7)),
    bugs=(
        Bug("entropy_sign", _bug_total_entropy_sign,
            "The entropy bonus is SUBTRACTED from the loss: minimising -c_e H keeps the policy "
            "exploring."),
        Bug("value_coef_ignored", _bug_total_no_value_coef,
            "Weigh the critic's loss by value_coef: L = -L^CLIP + c_v L^V - c_e mean(H)."),
        Bug("entropy_summed", _bug_total_entropy_sum,
            "Average the entropy over the minibatch (mean), not sum."),
        Bug("clip_loss_sign", _bug_total_clip_sign,
            "clip_loss is already the loss to minimise (-L^CLIP): add it as it is."),
        Bug("coefficients_swapped", _bug_total_coefficients_swapped,
            "value_coef weighs the critic's loss and entropy_coef the entropy, not the other "
            "way round."),
        Bug("entropy_detached", _bug_total_entropy_detached,
            "The entropy bonus must pass its gradient to the policy: do not .detach() it."),
    ),
    hint="L = clip_loss + value_coef * critic_loss - entropy_coef * entropy.mean().",
)

# --- the learning run: the student's pieces in rlkit's PPO trainer

#: the student's functions the learning run plugs into ``rlkit.agents.ppo.train``: every graded
#: piece the trainer calls (the KL estimate is only a diagnostic here, ``target_kl`` is off, but
#: rlkit's own is withheld while this notebook is graded)
_TRAIN_KEYWORDS = TRAIN_KEYWORDS
AGENT = tuple(_TRAIN_KEYWORDS)
REFERENCE_AGENT = {"importance_ratio": ppo.importance_ratio, "ppo_clip_loss": ppo.ppo_clip_loss,
                   "clipped_value_loss": ppo.clipped_value_loss, "ppo_loss": ppo.ppo_loss,
                   "approx_kl_low_variance": ppo.approx_kl_low_variance,
                   "normalize_advantages": ppo.normalize_advantages,
                   "minibatch_indices": ppo.minibatch_indices}
#: the known bugs that cannot learn CartPole in a short run, so the learning check fails them
#: too (rule 9.0, 8.9 and 2.0). The other bugs of the ratio's, the loss's and the
#: normalisation's banks still learn it (rules 54-100: CartPole forgives a lot, and PPO's
#: clipping and normalisation hide a wrong scale), and the value-loss bugs are not reached
#: (value clipping is off): their own checks catch them all
LEARNING_FAILS = (
    (IMPORTANCE_RATIO, "inverted"),
    (IMPORTANCE_RATIO, "ratio_of_log_probs"),
    (PPO_CLIP_LOSS, "sign"),
)
#: PPO on CartPole-v1 from each of LEARN_SEEDS, at most LEARN_STEPS env steps, a greedy
#: evaluation of 5 episodes capped at LEARN_CAP steps every LEARN_EVAL_INTERVAL steps, stopping
#: at the first that reaches LEARN_TARGET. The box returns the trained policy's weights, the
#: judge evaluates them as the trainer does
#: (:func:`~autograder.judge.specs.learning_runs.policy_score`), and the scores' mean minus std
#: must reach LEARN_THRESHOLD
#: (:func:`autograder.judge.core.learning_case`; the figures behind it:
#: ``benchmarks/bench_learning_checks.py --check ppo``).
LEARN_SEEDS = (0, 1, 2)
LEARN_STEPS = 10_000
LEARN_EVAL_INTERVAL = 500
LEARN_CAP = 100.0
LEARN_TARGET = 75.0
LEARN_THRESHOLD = 40.0


def learn_config() -> ppo.PPOConfig:
    """The learning run's settings, written out in full (rlkit's CartPole preset when written).

    The figures above were measured with them, and rlkit's defaults may be retuned without
    moving this check.
    """
    return ppo.PPOConfig(env_id="CartPole-v1", total_steps=LEARN_STEPS, n_envs=8, n_steps=32,
                         n_epochs=20, n_minibatches=1, gamma=0.98, gae_lambda=0.8,
                         clip_eps=0.2, final_clip_eps=0.0, learning_rate=1e-3,
                         final_learning_rate=0.0, target_kl=None, clip_value=None,
                         normalize_advantages=True, value_coef=0.5, entropy_coef=0.0,
                         max_grad_norm=0.5, reward_scale=1.0, hidden_sizes=(64, 64),
                         value_hidden_sizes=(64, 64), eval_interval=LEARN_EVAL_INTERVAL,
                         eval_episodes=5, eval_max_steps=int(LEARN_CAP),
                         eval_deterministic=True, target_return=LEARN_TARGET, torch_threads=1)


def learning_run(agent: dict[str, Any], seed: int) -> ppo.PPOHistory:
    """PPO on CartPole-v1 with ``agent``'s functions, as the learning check runs it."""
    return trained_with(ppo.train, learn_config(), _TRAIN_KEYWORDS, agent, seed)


def _learning_cases() -> list[Case]:
    return on_policy_learning_cases("PPO on CartPole-v1 with your ratio, L^CLIP, value loss, "
                                    "total loss, KL estimate, normalisation and minibatches",
                                    learn_config(), learn_run, LEARN_SEEDS, LEARN_CAP,
                                    LEARN_THRESHOLD, LEARN_STEPS)


LEARNS = learning_spec(
    "ppo.ppo_learns", AGENT, REFERENCE_AGENT, 3, _learning_cases, LEARNING_FAILS,
    hint="Your PPO pieces together do not learn CartPole. Make their own checks pass first; if "
    "they do, run the training cell and look at the returns, the approximate KL and the clip "
    "fraction.",
)

register(IMPORTANCE_RATIO, PPO_CLIP_LOSS, CLIPPED_VALUE_LOSS, PPO_LOSS, LEARNS)
