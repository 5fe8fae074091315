"""Check specs of notebook 04 (REINFORCE), sections 3-5: the estimators on an MDP.

The layers of DESIGN section 5 (the cases on small MDPs are built by
:mod:`autograder.judge.specs.reinforce`, sections 1-2; the loss of section 6 and its learning
run are :mod:`autograder.judge.specs.reinforce_learning`):

1. fixtures: hand-made episodes compared with rlkit's reference (single-step episodes, gamma 0
   and 1);
2. exact and statistical unbiasedness on MDPs small enough to enumerate, and the exact variance
   of the reward-to-go and baseline estimators: the reference's, lower than the previous one's.

Every estimator is deterministic given its inputs (the grader draws the samples), so a known bug
is diagnosed by matching outputs exactly (``diagnose=allclose()``). Every ``_bug_*`` is
self-contained (numpy, which the notebook imports) so that the sample class can paste its source
into a notebook.
"""

from __future__ import annotations

import numpy as np

from autograder.judge.core import Bug, Case, CheckSpec, register
from autograder.judge.specs.reinforce import (
    _TINY_MDP,
    _episode,
    _estimator_cases,
    _estimator_hidden,
    _exact_case,
    _on_episodes,
    _theta,
    _tiny,
    _variance_case,
    estimator_spec,
)
from rlkit import policy_gradient as pg
from rlkit.mdp import TabularMDP

# --- reinforce_gradient


def _bug_rg_forgot_expectation(theta, episodes):
    grad = np.zeros_like(theta)
    for ep in episodes:
        total = np.sum(ep.rewards)
        for s, a in zip(ep.states[:-1], ep.actions, strict=True):
            grad[s, a] += total
    return grad / len(episodes)


def _bug_rg_next_state(theta, episodes):
    grad = np.zeros_like(theta)
    for ep in episodes:
        total = np.sum(ep.rewards)
        for t, a in enumerate(ep.actions):
            s = ep.states[t + 1]
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * total
    return grad / len(episodes)


def _bug_rg_mean_over_steps(theta, episodes):
    grad = np.zeros_like(theta)
    n_steps = 0
    for ep in episodes:
        total = np.sum(ep.rewards)
        for s, a in zip(ep.states[:-1], ep.actions, strict=True):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * total
            n_steps += 1
    return grad / n_steps


def _bug_rg_immediate_reward(theta, episodes):
    grad = np.zeros_like(theta)
    for ep in episodes:
        for s, a, r in zip(ep.states[:-1], ep.actions, ep.rewards, strict=True):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * r
    return grad / len(episodes)


def _bug_rg_first_step_only(theta, episodes):
    grad = np.zeros_like(theta)
    for ep in episodes:
        if len(ep.actions) == 0:
            continue
        s, a = ep.states[0], ep.actions[0]
        p = np.exp(theta[s] - theta[s].max())
        grad[s] += (np.eye(len(p))[a] - p / p.sum()) * np.sum(ep.rewards)
    return grad / len(episodes)


def _bug_rg_sum_over_episodes(theta, episodes):
    grad = np.zeros_like(theta)
    for ep in episodes:
        total = np.sum(ep.rewards)
        for s, a in zip(ep.states[:-1], ep.actions, strict=True):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * total
    return grad


def _bug_rg_wrong_sign(theta, episodes):
    grad = np.zeros_like(theta)
    for ep in episodes:
        total = np.sum(ep.rewards)
        for s, a in zip(ep.states[:-1], ep.actions, strict=True):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] -= (np.eye(len(p))[a] - p / p.sum()) * total
    return grad / len(episodes)


def _bug_rg_last_reward(theta, episodes):
    grad = np.zeros_like(theta, dtype=float)
    for ep in episodes:
        for s, a in zip(ep.states[:-1], ep.actions, strict=True):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * ep.rewards[-1]
    return grad / len(episodes)


def _bug_rg_reward_to_go(theta, episodes):
    grad = np.zeros_like(theta, dtype=float)
    for episode in episodes:
        to_go = np.cumsum(np.asarray(episode.rewards, dtype=float)[::-1])[::-1]
        for h, (s, a) in enumerate(zip(episode.states[:-1], episode.actions, strict=True)):
            z = theta[s] - theta[s].max()
            score = -np.exp(z) / np.exp(z).sum()
            score[a] += 1.0
            grad[s] += score * to_go[h]
    return grad / len(episodes)


REINFORCE_GRADIENT = estimator_spec(
    "reinforce.reinforce_gradient", 3, pg.reinforce_gradient,
    visible_cases=lambda: _estimator_cases(pg.reinforce_gradient, 404),
    hidden_cases=lambda rng: _estimator_hidden(pg.reinforce_gradient, rng, lambda t, m: ()),
    bugs=(
        Bug("forgot_expectation", _bug_rg_forgot_expectation,
            "Row s of grad ln pi(a|s) is e_a - pi(.|s): subtract the policy's probabilities, "
            "or the estimate is biased."),
        Bug("next_state", _bug_rg_next_state,
            "states has one more entry than actions: a_t is taken in states[t], not "
            "states[t + 1]."),
        Bug("mean_over_steps", _bug_rg_mean_over_steps,
            "The expectation is over trajectories: divide by the number of EPISODES N, not by "
            "the number of steps."),
        Bug("immediate_reward", _bug_rg_immediate_reward,
            "REINFORCE weights every step's score by the whole return R(tau) = sum_t r_t, not "
            "by the reward r_t of that step."),
        Bug("first_step_only", _bug_rg_first_step_only,
            "grad ln rho_theta(tau) = sum over ALL steps h of grad ln pi(a_h|s_h), not only "
            "the first."),
        Bug("sum_over_episodes", _bug_rg_sum_over_episodes,
            "Average over the N episodes (1/N sum_i): the sum grows with N."),
        Bug("wrong_sign", _bug_rg_wrong_sign,
            "The estimate of grad J is + sum_h grad ln pi(a_h|s_h) R(tau): your sign is flipped "
            "(a loss is minus this, the gradient itself is not)."),
        Bug("reward_to_go_weights", _bug_rg_reward_to_go,
            "That is the reward-to-go estimator (section 4); this one weights every step by "
            "the whole return R(tau) = sum_t r_t."),
        Bug("last_reward", _bug_rg_last_reward,
            "R(tau) is the sum of ALL the episode's rewards, sum_t r_t, not its last reward "
            "r_{T-1}."),
    ),
    hint="g = 1/N sum_i (sum_h grad ln pi(a_h|s_h)) R(tau_i); row s_h of grad ln pi(a_h|s_h) "
    "is e_{a_h} - softmax(theta[s_h]), the other rows 0.",
)

# --- reward_to_go


def _rtg_cases() -> list[Case]:
    return [
        Case("rewards [1, 2, 3], gamma 0.5", (np.array([1.0, 2.0, 3.0]), 0.5)),
        Case("rewards [1, 1, 1, 1], gamma 1 (plain sums of the rest)", (np.ones(4), 1.0)),
        Case("rewards [3, -1, 2], gamma 0 (only r_t counts)", (np.array([3.0, -1.0, 2.0]), 0.0)),
        Case("a single-step episode [5], gamma 0.9", (np.array([5.0]), 0.9)),
        Case("rewards [0, 0, 1], gamma 0.9 (a sparse reward)", (np.array([0.0, 0.0, 1.0]), 0.9)),
        Case("500 rewards of 1 (a perfect CartPole episode), gamma 0.99", (np.ones(500), 0.99)),
        Case("the lecture's living reward: [-0.04, -0.04, 1], gamma 0.9",
             (np.array([-0.04, -0.04, 1.0]), 0.9)),
    ]


def _rtg_hidden(rng: np.random.Generator) -> list[Case]:
    return [Case(f"hidden: {n} random rewards", (rng.normal(size=n), float(rng.uniform(0.1, 1))))
            for n in rng.integers(2, 50, size=3)]


def _bug_rtg_off_by_one(rewards, gamma):
    out = np.zeros(len(rewards))
    future = 0.0
    for t in reversed(range(len(rewards))):
        out[t] = future
        future = rewards[t] + gamma * future
    return out


def _bug_rtg_past_rewards(rewards, gamma):
    out = np.zeros(len(rewards))
    past = 0.0
    for t in range(len(rewards)):
        past = rewards[t] + gamma * past
        out[t] = past
    return out


def _bug_rtg_absolute_discount(rewards, gamma):
    discounted = gamma ** np.arange(len(rewards)) * np.asarray(rewards, dtype=float)
    return np.cumsum(discounted[::-1])[::-1]


def _bug_rtg_no_discount(rewards, gamma):
    return np.cumsum(np.asarray(rewards, dtype=float)[::-1])[::-1]


def _bug_rtg_total_return(rewards, gamma):
    total = np.sum(gamma ** np.arange(len(rewards)) * np.asarray(rewards, dtype=float))
    return np.full(len(rewards), total)


def _bug_rtg_reversed(rewards, gamma):
    out = []
    future = 0.0
    for r in reversed(list(rewards)):
        future = r + gamma * future
        out.append(future)
    return np.array(out)


def _bug_rtg_forward_cumsum(rewards, gamma):
    return np.cumsum(np.asarray(rewards, dtype=float))


def _bug_rtg_skips_first(rewards, gamma):
    out = np.zeros(len(rewards))
    future = 0.0
    for t in range(len(rewards) - 1, 0, -1):
        future = rewards[t] + gamma * future
        out[t] = future
    return out


def _reference_reward_to_go(rewards, gamma):
    from rlkit.agents.reinforce import reward_to_go

    return reward_to_go(rewards, gamma)


REWARD_TO_GO = CheckSpec(
    name="reinforce.reward_to_go",
    function="reward_to_go",
    points=2,
    reference=_reference_reward_to_go,
    withhold=("rlkit.agents.reinforce.reward_to_go", "rlkit.sampling.discounted_returns"),
    visible_cases=_rtg_cases,
    hidden_cases=_rtg_hidden,
    bugs=(
        Bug("off_by_one", _bug_rtg_off_by_one,
            "The reward-to-go at t INCLUDES r_t: G_t = r_t + gamma G_{t+1} (the action a_t "
            "earns r_t)."),
        Bug("past_rewards", _bug_rtg_past_rewards,
            "The reward-to-go sums the rewards from t to the END (what a_t can still change), "
            "not those up to t: go backwards."),
        Bug("absolute_discount", _bug_rtg_absolute_discount,
            "Discount from the current step: r_{t'} gets gamma^(t' - t), not gamma^t'."),
        Bug("no_discount", _bug_rtg_no_discount,
            "Each later reward is discounted: G_t = r_t + gamma G_{t+1}."),
        Bug("total_return", _bug_rtg_total_return,
            "That is R(tau) at every step; the reward-to-go G_t drops the rewards before t."),
        Bug("reversed_order", _bug_rtg_reversed,
            "You computed G_{T-1}, ..., G_0 backwards but returned them in that order: "
            "reverse, so that entry t is G_t."),
        Bug("forward_cumsum", _bug_rtg_forward_cumsum,
            "np.cumsum adds from the START (r_0 + ... + r_t); the reward-to-go adds the "
            "discounted rewards from t to the END: loop backwards, G_t = r_t + gamma G_{t+1}."),
        Bug("skips_first_step", _bug_rtg_skips_first,
            "G_0 is left at 0: the backward loop must run down to t = 0 included "
            "(reversed(range(T)), or range(T - 1, -1, -1))."),
    ),
    hint="G_t = sum_{t'=t}^{T-1} gamma^(t'-t) r_{t'}: backwards, G_t = r_t + gamma G_{t+1} "
    "with G_T = 0; a float array of shape (T,).",
)

# --- reward_to_go_gradient


def _rtg_gradient_cases() -> list[Case]:
    rng = np.random.default_rng(405)
    fractional = _episode([0, 1, 3], [0, 0], [-0.04, 1.5])
    return [*_estimator_cases(pg.reward_to_go_gradient, 405),
            _variance_case("variance, a random theta", pg.reward_to_go_gradient,
                           pg.reinforce_gradient, rng),
            _on_episodes("fractional rewards -0.04, 1.5 (start -L-> left -L-> end), a random "
                         "theta", _theta(rng), [fractional])]


def _rtg_gradient_hidden(rng: np.random.Generator) -> list[Case]:
    return [*_estimator_hidden(pg.reward_to_go_gradient, rng, lambda t, m: ()),
            _variance_case("hidden: variance, a random theta", pg.reward_to_go_gradient,
                           pg.reinforce_gradient, rng)]


def _bug_rtgg_total_return(theta, episodes):
    grad = np.zeros_like(theta)
    for ep in episodes:
        total = np.sum(ep.rewards)
        for s, a in zip(ep.states[:-1], ep.actions, strict=True):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * total
    return grad / len(episodes)


def _bug_rtgg_off_by_one(theta, episodes):
    grad = np.zeros_like(theta)
    for ep in episodes:
        rewards = np.asarray(ep.rewards, dtype=float)
        for t, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * rewards[t + 1:].sum()
    return grad / len(episodes)


def _bug_rtgg_past_rewards(theta, episodes):
    grad = np.zeros_like(theta)
    for ep in episodes:
        rewards = np.asarray(ep.rewards, dtype=float)
        for t, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * rewards[: t + 1].sum()
    return grad / len(episodes)


def _bug_rtgg_integer_to_go(theta, episodes):
    grad = np.zeros_like(theta, dtype=float)
    for ep in episodes:
        to_go = np.cumsum(np.asarray(ep.rewards, dtype=float)[::-1])[::-1].astype(int)
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * to_go[h]
    return grad / len(episodes)


def _bug_rtgg_forgot_expectation(theta, episodes):
    grad = np.zeros_like(theta)
    for ep in episodes:
        rewards = np.asarray(ep.rewards, dtype=float)
        for t, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            grad[s, a] += rewards[t:].sum()
    return grad / len(episodes)


def _bug_rtgg_mean_over_steps(theta, episodes):
    grad = np.zeros_like(theta)
    n_steps = 0
    for ep in episodes:
        rewards = np.asarray(ep.rewards, dtype=float)
        for t, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * rewards[t:].sum()
            n_steps += 1
    return grad / n_steps


def _bug_rtgg_next_state(theta, episodes):
    grad = np.zeros_like(theta)
    for ep in episodes:
        rewards = np.asarray(ep.rewards, dtype=float)
        for t, a in enumerate(ep.actions):
            s = ep.states[t + 1]
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * rewards[t:].sum()
    return grad / len(episodes)


REWARD_TO_GO_GRADIENT = estimator_spec(
    "reinforce.reward_to_go_gradient", 2, pg.reward_to_go_gradient,
    visible_cases=_rtg_gradient_cases,
    hidden_cases=_rtg_gradient_hidden,
    bugs=(
        Bug("total_return", _bug_rtgg_total_return,
            "That is the total-return estimator: weight step h by the reward-to-go "
            "sum_{t >= h} r_t instead of R(tau)."),
        Bug("off_by_one", _bug_rtgg_off_by_one,
            "The reward-to-go of step h starts AT h: it includes r_h, which a_h earns."),
        Bug("past_rewards", _bug_rtgg_past_rewards,
            "An action changes only the rewards from its step on: sum r_t for t >= h, not "
            "t <= h (that one is biased)."),
        Bug("forgot_expectation", _bug_rtgg_forgot_expectation,
            "Row s of grad ln pi(a|s) is e_a - pi(.|s): subtract the probabilities."),
        Bug("mean_over_steps", _bug_rtgg_mean_over_steps,
            "Divide by the number of EPISODES, not of steps."),
        Bug("next_state", _bug_rtgg_next_state,
            "a_h is taken in states[h], not states[h + 1]."),
        Bug("integer_rewards_to_go", _bug_rtgg_integer_to_go,
            "Your rewards-to-go were cast to integers (astype(int), an int array), which "
            "drops their fractional part: keep them as floats."),
    ),
    hint="g = 1/N sum_i sum_h grad ln pi(a_h|s_h) G_h with G_h = sum_{t=h}^{T-1} r_t (your "
    "reward_to_go with gamma = 1).",
)

# --- baseline_gradient


def _baseline_of(theta: np.ndarray, mdp: TabularMDP = _TINY_MDP) -> tuple:
    return (pg.state_values(mdp, theta),)


def _random_baseline(rng: np.random.Generator, mdp: TabularMDP) -> np.ndarray:
    return rng.normal(0.0, 2.0, size=mdp.n_states)


def _baseline_cases() -> list[Case]:
    rng = np.random.default_rng(406)
    mdp, horizon, trajectories = _tiny()
    theta = _theta(rng, 0.5)
    return [
        *_estimator_cases(pg.baseline_gradient, 406, _baseline_of),
        _exact_case("in expectation (exactly), ANY baseline b(s) keeps it unbiased: a random b",
                    mdp, horizon, theta, (_random_baseline(rng, mdp),), trajectories),
        _variance_case("variance with b = V^pi, a random theta", pg.baseline_gradient,
                       pg.reward_to_go_gradient, rng, _baseline_of),
    ]


def _baseline_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        *_estimator_hidden(pg.baseline_gradient, rng,
                           lambda t, m: (_random_baseline(rng, m),)),
        _variance_case("hidden: variance with b = V^pi, a random theta", pg.baseline_gradient,
                       pg.reward_to_go_gradient, rng, _baseline_of),
    ]


def _bug_bl_plus(theta, episodes, baseline):
    grad = np.zeros_like(theta)
    for ep in episodes:
        rewards = np.asarray(ep.rewards, dtype=float)
        for t, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * (rewards[t:].sum() + baseline[s])
    return grad / len(episodes)


def _bug_bl_next_state(theta, episodes, baseline):
    grad = np.zeros_like(theta)
    for ep in episodes:
        rewards = np.asarray(ep.rewards, dtype=float)
        for t, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            advantage = rewards[t:].sum() - baseline[ep.states[t + 1]]
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * advantage
    return grad / len(episodes)


def _bug_bl_total_return(theta, episodes, baseline):
    grad = np.zeros_like(theta)
    for ep in episodes:
        total = np.sum(ep.rewards)
        for s, a in zip(ep.states[:-1], ep.actions, strict=True):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * (total - baseline[s])
    return grad / len(episodes)


def _bug_bl_ignored(theta, episodes, baseline):
    grad = np.zeros_like(theta)
    for ep in episodes:
        rewards = np.asarray(ep.rewards, dtype=float)
        for t, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * rewards[t:].sum()
    return grad / len(episodes)


def _bug_bl_action_index(theta, episodes, baseline):
    grad = np.zeros_like(theta)
    for ep in episodes:
        rewards = np.asarray(ep.rewards, dtype=float)
        for t, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * (rewards[t:].sum() - baseline[a])
    return grad / len(episodes)


def _bug_bl_start_state(theta, episodes, baseline):
    grad = np.zeros_like(theta)
    for ep in episodes:
        rewards = np.asarray(ep.rewards, dtype=float)
        for t, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            advantage = rewards[t:].sum() - baseline[ep.states[0]]
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * advantage
    return grad / len(episodes)


def _bug_bl_off_by_one(theta, episodes, baseline):
    grad = np.zeros_like(theta)
    for ep in episodes:
        rewards = np.asarray(ep.rewards, dtype=float)
        for t, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            advantage = rewards[t + 1:].sum() - baseline[s]
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * advantage
    return grad / len(episodes)


BASELINE_GRADIENT = estimator_spec(
    "reinforce.baseline_gradient", 2, pg.baseline_gradient,
    visible_cases=_baseline_cases,
    hidden_cases=_baseline_hidden,
    bugs=(
        Bug("plus_baseline", _bug_bl_plus,
            "SUBTRACT the baseline: the weight is G_h - b(s_h)."),
        Bug("next_state_baseline", _bug_bl_next_state,
            "b(s_{h+1}) depends on the action a_h, so it biases the estimate: use b(s_h), the "
            "state the action is taken in."),
        Bug("total_return_minus_baseline", _bug_bl_total_return,
            "Start from the reward-to-go G_h = sum_{t >= h} r_t, then subtract b(s_h)."),
        Bug("ignores_baseline", _bug_bl_ignored,
            "That is the reward-to-go estimator: subtract b(s_h) from each G_h."),
        Bug("action_indexed_baseline", _bug_bl_action_index,
            "The baseline is indexed by the STATE: b(s_h) = baseline[s_h], not baseline[a_h] "
            "(a baseline that depends on the action is biased)."),
        Bug("start_state_baseline", _bug_bl_start_state,
            "Each step subtracts the baseline of ITS state, b(s_h), not b(s_0)."),
        Bug("off_by_one_reward_to_go", _bug_bl_off_by_one,
            "The reward-to-go of step h starts AT h: it includes r_h (check your reward_to_go)."),
    ),
    hint="g = 1/N sum_i sum_h grad ln pi(a_h|s_h) (G_h - b(s_h)), with G_h the reward-to-go "
    "(gamma = 1) and b = baseline[s_h].",
)


register(REINFORCE_GRADIENT, REWARD_TO_GO, REWARD_TO_GO_GRADIENT, BASELINE_GRADIENT)
