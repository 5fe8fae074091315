"""Check specs of notebook 05 (actor-critic), first part, continued: the three estimators.

The student writes options 4-6 of the lecture's six weightings of grad ln pi: Q, the advantage
Q - V, the TD residual r + V(s') - V(s); the action values Q^pi_h they take are checked in
:mod:`autograder.judge.specs.actor_critic`. The layers of DESIGN section 5:

1. fixtures: hand-made and random episodes with hand-made and random critic tables (a table
   whose rows h differ and whose terminal entries are not 0, so that a wrong time index or a
   bootstrap through the end shows), episodes cut at the horizon, compared with rlkit's
   reference;
2. exact and statistical unbiasedness, as in notebook 04 (:mod:`autograder.judge.specs.reinforce`,
   whose case builders are reused): with Q = Q^pi and V = V^pi, the expectation of the
   student's one-episode estimate over every trajectory is the exact gradient by autograd, one
   estimate from many sampled episodes is within notebook 04's Bernstein bound of it (6 of the
   reference's exact standard errors plus a range term), and the exact variance is the
   reference's, below the estimator it improves on. Both notebooks sample 1000 episodes per
   case (:data:`N_SAMPLED`).

Q^pi and V^pi for those cases come from :func:`rlkit.weightings.conditional_values` (their
definition, averaged over the enumerated trajectories). The box calls the student's function on
plain data (episodes rebuilt there, :mod:`autograder.box.procedures.reinforce`) and returns its
outputs, one per trajectory for the exact cases; the judge weights and compares them. Every
estimator is deterministic given its inputs, so a known bug is diagnosed by matching outputs
exactly (``diagnose=allclose()``). Every ``_bug_*`` is self-contained (numpy, which the notebook
imports) so that the sample class can paste its source into a notebook.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np

from autograder.judge.core import Bug, Case, CheckSpec, register
from autograder.judge.specs.reinforce import (
    N_STANDARD_ERRORS,
    _episode,
    _exact_case,
    _fixture_episodes,
    _on_episodes,
    _random_small_mdp,
    _sampled_case,
    _theta,
    _tiny,
    _variance_case,
    estimator_spec,
)
from rlkit import policy_gradient as pg
from rlkit import weightings as wt
from rlkit.mdp import TabularMDP, random_mdp
from rlkit.sampling import Trajectory

#: the rlkit helpers the notebook tells the estimators to use (notebook 04's score).
ESTIMATOR_USES = ("rlkit.policy_gradient.grad_log_policy", "rlkit.policy_gradient.softmax_policy")
#: episodes behind one statistical estimate: half of notebook 04's, since the exact cases already
#: grade the expectation and three checks sample (the visible sample is shared by the three).
N_SAMPLED = 1000


@cache
def _visible_sample() -> tuple[np.ndarray, list[Trajectory]]:
    """The visible sampled case's theta and episodes of the tiny MDP (one draw per process)."""
    rng = np.random.default_rng(505)
    mdp, horizon, _ = _tiny()
    theta = _theta(rng)
    return theta, pg.sample_episodes(mdp, theta, N_SAMPLED, rng, horizon)


def _pi_values(mdp: TabularMDP, theta: np.ndarray, horizon: int,
               trajectories: list[Trajectory] | None = None) -> wt.StepValues:
    """Q^pi_h and V^pi_h by their definition (rlkit's ``action_values`` is withheld here)."""
    return wt.conditional_values(mdp, theta, horizon, trajectories)


def _critic_tables(horizon: int, mdp: TabularMDP) -> tuple[np.ndarray, np.ndarray]:
    """Hand-made critics q[h, s, a] = 10 h + 2 s + a and v[h, s] = 5 h + s + 1.

    Their rows h differ and they are not 0 at the terminal state: a wrong time index or a value
    taken after an episode's end changes the result.
    """
    h, s, a = np.meshgrid(np.arange(horizon), np.arange(mdp.n_states), np.arange(mdp.n_actions),
                          indexing="ij")
    q = (10.0 * h + 2.0 * s + a).astype(np.float64)
    return q, q[:, :, 0] / 2.0 + 1.0


def _random_tables(rng: np.random.Generator, horizon: int,
                   mdp: TabularMDP) -> tuple[np.ndarray, np.ndarray]:
    return (rng.normal(0.0, 2.0, size=(horizon, mdp.n_states, mdp.n_actions)),
            rng.normal(0.0, 2.0, size=(horizon, mdp.n_states)))


def _cut_episodes() -> list[Trajectory]:
    """Tiny-MDP episodes cut at H = 1 (start -L-> left, start -R-> right), and one that ends."""
    return [_episode([0, 1], [0], [2.0], terminated=False),
            _episode([0, 2], [1], [0.0], terminated=False),
            _episode([2, 3], [1], [3.0])]


# --- the three estimators: shared cases


def _estimator_visible(reference: Callable, seed: int,
                       tables: Callable[[np.ndarray, np.ndarray], tuple],
                       pi_tables: Callable[[wt.StepValues], tuple],
                       previous: Callable, previous_extra: Callable[[np.ndarray], tuple],
                       ) -> list[Case]:
    """Fixtures with hand-made and random critics, exact and sampled cases, the variance.

    ``tables(q, v)`` picks the estimator's critic arguments from a Q and a V table,
    ``pi_tables`` the same from the exact Q^pi and V^pi.
    """
    rng = np.random.default_rng(seed)
    mdp, horizon, trajectories = _tiny()
    zero = np.zeros((mdp.n_states, mdp.n_actions))
    theta = _theta(rng)
    episodes = _fixture_episodes()
    made = tables(*_critic_tables(horizon, mdp))
    cut_mdp, cut_horizon = random_mdp(4, 2, gamma=1.0, rng=rng, n_terminal=1), 3
    theta_cut = _theta(rng, mdp=cut_mdp)
    cut = pg.sample_episodes(cut_mdp, theta_cut, 6, rng, cut_horizon)

    sampled_theta, sampled = _visible_sample()

    def exact(theta: np.ndarray) -> tuple:
        return pi_tables(_pi_values(mdp, theta, horizon, trajectories))

    return [
        _on_episodes("one two-step episode start -L-> left -L-> end (rewards 2, 1), theta = 0, "
                     "the hand-made tables q[h, s, a] = 10 h + 2 s + a, v[h, s] = 5 h + s + 1",
                     zero, [episodes[0]], made),
        _on_episodes("one single-step episode right -R-> end (reward 3), theta = 0, the same "
                     "tables", zero, [episodes[2]], made),
        _on_episodes("three episodes of lengths 2, 1, 1, a random theta, random tables",
                     theta, episodes, tables(*_random_tables(rng, horizon, mdp))),
        _on_episodes("H = 1: episodes cut after one step (terminated False) and one that ends, "
                     "random tables of one row", theta, _cut_episodes(),
                     tables(*_random_tables(rng, 1, mdp))),
        _on_episodes("6 episodes of a random MDP cut at H = 3, random tables", theta_cut, cut,
                     tables(*_random_tables(rng, cut_horizon, cut_mdp))),
        _exact_case("with the exact Q^pi and V^pi, in expectation over the 11 trajectories of "
                    "the tiny MDP (exactly), theta = 0: the exact gradient by autograd", mdp,
                    horizon, zero, exact(zero), trajectories),
        _exact_case("with Q^pi and V^pi, in expectation (exactly), a random theta: the exact "
                    "gradient", mdp, horizon, theta, exact(theta), trajectories),
        _sampled_case(f"with Q^pi and V^pi, {N_SAMPLED} sampled episodes, a random theta: "
                      f"within {N_STANDARD_ERRORS:g} standard errors (plus Bernstein's range "
                      "term) of the exact gradient",
                      reference, mdp, horizon, sampled_theta, seed, exact(sampled_theta),
                      trajectories, sampled),
        _variance_case("with Q^pi and V^pi, a random theta", reference, previous, rng, exact,
                       previous_extra),
    ]


def _estimator_hidden(reference: Callable, rng: np.random.Generator,
                      tables: Callable[[np.ndarray, np.ndarray], tuple],
                      pi_tables: Callable[[wt.StepValues], tuple],
                      previous: Callable, previous_extra: Callable[[np.ndarray], tuple],
                      ) -> list[Case]:
    small, horizon = _random_small_mdp(rng)
    theta_small = _theta(rng, mdp=small)
    episodes = pg.sample_episodes(small, theta_small, 5, rng, horizon)
    mdp, tiny_horizon, trajectories = _tiny()
    theta = _theta(rng)

    def exact(theta: np.ndarray) -> tuple:
        return pi_tables(_pi_values(mdp, theta, tiny_horizon, trajectories))

    return [
        _on_episodes("hidden: 5 episodes of a random MDP, random tables", theta_small,
                     episodes, tables(*_random_tables(rng, horizon, small))),
        _exact_case(f"hidden: with Q^pi and V^pi, exact expectation on a random MDP "
                    f"({small.n_states} states, horizon {horizon})", small, horizon,
                    theta_small, pi_tables(_pi_values(small, theta_small, horizon))),
        _sampled_case(f"hidden: with Q^pi and V^pi, {N_SAMPLED} sampled episodes of the tiny "
                      "MDP, a random theta", reference, mdp, tiny_horizon, theta, 0, exact(theta),
                      trajectories, pg.sample_episodes(mdp, theta, N_SAMPLED, rng, tiny_horizon)),
        _variance_case("hidden: with Q^pi and V^pi, a random theta", reference, previous, rng,
                       exact, previous_extra),
    ]


def _estimator_spec(name: str, points: int, reference: Callable, seed: int,
                    tables: Callable[[np.ndarray, np.ndarray], tuple],
                    pi_tables: Callable[[wt.StepValues], tuple], previous: Callable,
                    previous_extra: Callable[[np.ndarray], tuple], bugs: tuple[Bug, ...],
                    hint: str, withhold: tuple[str, ...] = ()) -> CheckSpec:
    return estimator_spec(
        f"actor_critic.{name}", points, reference,
        visible_cases=lambda: _estimator_visible(reference, seed, tables, pi_tables, previous,
                                                 previous_extra),
        hidden_cases=lambda rng: _estimator_hidden(reference, rng, tables, pi_tables, previous,
                                                   previous_extra),
        bugs=bugs, hint=hint, withhold=withhold, uses=ESTIMATOR_USES)


def _tiny_pi(theta: np.ndarray) -> wt.StepValues:
    mdp, horizon, trajectories = _tiny()
    return _pi_values(mdp, theta, horizon, trajectories)


# --- action_value_gradient (option 4)


def _bug_qg_state_value(theta, episodes, q_values):
    grad = np.zeros_like(theta)
    for ep in episodes:
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            p = p / p.sum()
            grad[s] += (np.eye(len(p))[a] - p) * (p @ q_values[h, s])
    return grad / len(episodes)


def _bug_qg_max(theta, episodes, q_values):
    grad = np.zeros_like(theta)
    for ep in episodes:
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * q_values[h, s].max()
    return grad / len(episodes)


def _bug_qg_first_row(theta, episodes, q_values):
    grad = np.zeros_like(theta)
    for ep in episodes:
        for s, a in zip(ep.states[:-1], ep.actions, strict=True):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * q_values[0, s, a]
    return grad / len(episodes)


def _bug_qg_next_state(theta, episodes, q_values):
    grad = np.zeros_like(theta)
    for ep in episodes:
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * q_values[h, ep.states[h + 1], a]
    return grad / len(episodes)


def _bug_qg_sampled_target(theta, episodes, q_values):
    grad = np.zeros_like(theta)
    for ep in episodes:
        n = len(ep.actions)
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            later = q_values[h + 1, ep.states[h + 1], ep.actions[h + 1]] if h + 1 < n else 0.0
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * (ep.rewards[h] + later)
    return grad / len(episodes)


def _bug_qg_mean_over_steps(theta, episodes, q_values):
    grad = np.zeros_like(theta)
    n_steps = 0
    for ep in episodes:
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * q_values[h, s, a]
            n_steps += 1
    return grad / n_steps


def _bug_qg_forgot_expectation(theta, episodes, q_values):
    grad = np.zeros_like(theta)
    for ep in episodes:
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            grad[s, a] += q_values[h, s, a]
    return grad / len(episodes)


def _bug_qg_wrong_sign(theta, episodes, q_values):
    grad = np.zeros_like(theta)
    for ep in episodes:
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] -= (np.eye(len(p))[a] - p / p.sum()) * q_values[h, s, a]
    return grad / len(episodes)


ACTION_VALUE_GRADIENT = _estimator_spec(
    "action_value_gradient", 2, wt.action_value_gradient, 502,
    tables=lambda q, v: (q,), pi_tables=lambda values: (values.q,),
    previous=pg.reward_to_go_gradient, previous_extra=lambda theta: (),
    bugs=(
        Bug("state_value", _bug_qg_state_value,
            "Weight by the value of the action TAKEN, q_values[h, s_h, a_h]; the average "
            "sum_a pi(a|s_h) Q_h(s_h, a) is V_h(s_h), a baseline whose term has mean zero."),
        Bug("max_over_actions", _bug_qg_max,
            "Use Q_h(s_h, a_h) of the action the episode took, not the best action's value."),
        Bug("first_row_only", _bug_qg_first_row,
            "Row h of q_values is step h: use q_values[h, s_h, a_h] (in the tiny MDP Q^pi "
            "looks the same for every h along a trajectory, a critic's table need not)."),
        Bug("next_state", _bug_qg_next_state,
            "Q_h(s_h, a_h) is indexed by the state the action is taken IN, states[h], not "
            "states[h + 1]."),
        Bug("sampled_target", _bug_qg_sampled_target,
            "That is a sampled target r_h + Q_{h+1}(s_{h+1}, a_{h+1}); option 4 weights the "
            "score by the table's own Q_h(s_h, a_h)."),
        Bug("mean_over_steps", _bug_qg_mean_over_steps,
            "The expectation is over trajectories: divide by the number of EPISODES N, not of "
            "steps."),
        Bug("forgot_expectation", _bug_qg_forgot_expectation,
            "Row s of grad ln pi(a|s) is e_a - pi(.|s): subtract the probabilities (notebook "
            "04's score, pg.grad_log_policy)."),
        Bug("wrong_sign", _bug_qg_wrong_sign,
            "The estimate of grad J is + sum_h grad ln pi(a_h|s_h) Q_h(s_h, a_h): your sign is "
            "flipped."),
    ),
    hint="g = 1/N sum_i sum_h grad ln pi(a_h|s_h) Q_h(s_h, a_h), with Q_h(s_h, a_h) = "
    "q_values[h, s_h, a_h] (row h of q_values is step h).",
)

# --- advantage_gradient (option 5)


def _bug_ag_sign(theta, episodes, q_values, values):
    grad = np.zeros_like(theta)
    for ep in episodes:
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * (values[h, s] - q_values[h, s, a])
    return grad / len(episodes)


def _bug_ag_plus(theta, episodes, q_values, values):
    grad = np.zeros_like(theta)
    for ep in episodes:
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * (q_values[h, s, a] + values[h, s])
    return grad / len(episodes)


def _bug_ag_next_state_value(theta, episodes, q_values, values):
    grad = np.zeros_like(theta)
    for ep in episodes:
        n = len(ep.actions)
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            after = values[h + 1, ep.states[h + 1]] if h + 1 < n else 0.0
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * (q_values[h, s, a] - after)
    return grad / len(episodes)


def _bug_ag_first_row_value(theta, episodes, q_values, values):
    grad = np.zeros_like(theta)
    for ep in episodes:
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * (q_values[h, s, a] - values[0, s])
    return grad / len(episodes)


def _bug_ag_ignores_value(theta, episodes, q_values, values):
    grad = np.zeros_like(theta)
    for ep in episodes:
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * q_values[h, s, a]
    return grad / len(episodes)


def _bug_ag_value_by_action(theta, episodes, q_values, values):
    grad = np.zeros_like(theta)
    for ep in episodes:
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * (q_values[h, s, a] - values[h, a])
    return grad / len(episodes)


def _bug_ag_mean_q(theta, episodes, q_values, values):
    grad = np.zeros_like(theta)
    for ep in episodes:
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            advantage = q_values[h, s, a] - q_values[h, s].mean()
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * advantage
    return grad / len(episodes)


def _bug_ag_mean_over_steps(theta, episodes, q_values, values):
    grad = np.zeros_like(theta)
    n_steps = 0
    for ep in episodes:
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * (q_values[h, s, a] - values[h, s])
            n_steps += 1
    return grad / n_steps


ADVANTAGE_GRADIENT = _estimator_spec(
    "advantage_gradient", 2, wt.advantage_gradient, 503,
    tables=lambda q, v: (q, v), pi_tables=lambda values: (values.q, values.v),
    previous=wt.action_value_gradient, previous_extra=lambda theta: (_tiny_pi(theta).q,),
    bugs=(
        Bug("sign_flipped", _bug_ag_sign,
            "Your sign is flipped: the advantage is A_h(s, a) = Q_h(s, a) - V_h(s), how much "
            "better the action is than the policy's average, not V - Q."),
        Bug("plus_value", _bug_ag_plus,
            "SUBTRACT the state value: A = Q - V."),
        Bug("next_state_value", _bug_ag_next_state_value,
            "Subtract V_h(s_h) of the state the action is taken IN: V of the next state "
            "depends on the action and biases the estimate."),
        Bug("first_row_value", _bug_ag_first_row_value,
            "Row h of values is step h: subtract values[h, s_h], not values[0, s_h]."),
        Bug("ignores_value", _bug_ag_ignores_value,
            "That is option 4, Q alone: subtract V_h(s_h) = values[h, s_h] from Q_h(s_h, a_h)."),
        Bug("value_by_action", _bug_ag_value_by_action,
            "The state value is indexed by the STATE: values[h, s_h], not values[h, a_h]."),
        Bug("mean_of_q", _bug_ag_mean_q,
            "Subtract the given values[h, s_h]; V^pi is the policy-weighted average "
            "sum_a pi(a|s) Q(s, a), not the plain mean over the actions."),
        Bug("mean_over_steps", _bug_ag_mean_over_steps,
            "The expectation is over trajectories: divide by the number of EPISODES N, not of "
            "steps."),
    ),
    hint="g = 1/N sum_i sum_h grad ln pi(a_h|s_h) (Q_h(s_h, a_h) - V_h(s_h)), with "
    "q_values[h, s_h, a_h] and values[h, s_h].",
)

# --- td_residual_gradient (option 6)


def _bug_td_bootstraps_end(theta, episodes, values):
    grad = np.zeros_like(theta)
    for ep in episodes:
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            after = values[min(h + 1, len(values) - 1), ep.states[h + 1]]
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * (ep.rewards[h] + after - values[h, s])
    return grad / len(episodes)


def _bug_td_zero_only_at_horizon(theta, episodes, values):
    grad = np.zeros_like(theta)
    for ep in episodes:
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            after = values[h + 1, ep.states[h + 1]] if h + 1 < len(values) else 0.0
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * (ep.rewards[h] + after - values[h, s])
    return grad / len(episodes)


def _bug_td_no_reward(theta, episodes, values):
    grad = np.zeros_like(theta)
    for ep in episodes:
        n = len(ep.actions)
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            after = values[h + 1, ep.states[h + 1]] if h + 1 < n else 0.0
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * (after - values[h, s])
    return grad / len(episodes)


def _bug_td_current_state(theta, episodes, values):
    grad = np.zeros_like(theta)
    for ep in episodes:
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            residual = ep.rewards[h] + values[h, s] - values[h, s]
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * residual
    return grad / len(episodes)


def _bug_td_same_row(theta, episodes, values):
    grad = np.zeros_like(theta)
    for ep in episodes:
        n = len(ep.actions)
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            after = values[h, ep.states[h + 1]] if h + 1 < n else 0.0
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * (ep.rewards[h] + after - values[h, s])
    return grad / len(episodes)


def _bug_td_sign(theta, episodes, values):
    grad = np.zeros_like(theta)
    for ep in episodes:
        n = len(ep.actions)
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            after = values[h + 1, ep.states[h + 1]] if h + 1 < n else 0.0
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * (values[h, s] - ep.rewards[h] - after)
    return grad / len(episodes)


def _bug_td_monte_carlo(theta, episodes, values):
    grad = np.zeros_like(theta)
    for ep in episodes:
        rewards = np.asarray(ep.rewards, dtype=float)
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * (rewards[h:].sum() - values[h, s])
    return grad / len(episodes)


def _bug_td_plus_value(theta, episodes, values):
    grad = np.zeros_like(theta)
    for ep in episodes:
        n = len(ep.actions)
        for h, (s, a) in enumerate(zip(ep.states[:-1], ep.actions, strict=True)):
            after = values[h + 1, ep.states[h + 1]] if h + 1 < n else 0.0
            p = np.exp(theta[s] - theta[s].max())
            grad[s] += (np.eye(len(p))[a] - p / p.sum()) * (ep.rewards[h] + after + values[h, s])
    return grad / len(episodes)


TD_RESIDUAL_GRADIENT = _estimator_spec(
    "td_residual_gradient", 3, wt.td_residual_gradient, 504,
    tables=lambda q, v: (v,), pi_tables=lambda values: (values.v,),
    previous=pg.baseline_gradient,
    previous_extra=lambda theta: (pg.state_values(_tiny()[0], theta),),
    withhold=("rlkit.weightings.td_residual_gradient", "rlkit.weightings.td_residuals"),
    bugs=(
        Bug("bootstraps_after_the_end", _bug_td_bootstraps_end,
            "After an episode's last step nothing is to come (a terminal state, or the "
            "horizon H of the objective): use V = 0 there, whatever values holds at s_T."),
        Bug("zero_only_at_horizon", _bug_td_zero_only_at_horizon,
            "The episode can end before H, in a terminal state: after its LAST step use 0, "
            "not values[h + 1, s_T] (the table may hold anything at a terminal state)."),
        Bug("no_reward", _bug_td_no_reward,
            "delta_h = r_h + V_{h+1}(s_{h+1}) - V_h(s_h): you left out the reward r_h."),
        Bug("current_state", _bug_td_current_state,
            "Bootstrap from the NEXT state: r_h + V_{h+1}(s_{h+1}) - V_h(s_h), not V(s_h) "
            "twice (that leaves the immediate reward alone)."),
        Bug("same_row", _bug_td_same_row,
            "s_{h+1} is visited at step h + 1: its value is values[h + 1, s_{h+1}], not "
            "values[h, s_{h+1}]."),
        Bug("sign_flipped", _bug_td_sign,
            "Your sign is flipped: the TD residual is r_h + V_{h+1}(s_{h+1}) - V_h(s_h) (the "
            "target minus the current value), not its negative."),
        Bug("monte_carlo", _bug_td_monte_carlo,
            "That is the Monte Carlo advantage, reward-to-go minus V (option 3); the TD "
            "residual bootstraps: r_h + V_{h+1}(s_{h+1}) stands for the rest of the sum."),
        Bug("plus_value", _bug_td_plus_value,
            "SUBTRACT the value of the current state: r_h + V_{h+1}(s_{h+1}) - V_h(s_h)."),
    ),
    hint="g = 1/N sum_i sum_h grad ln pi(a_h|s_h) (r_h + V_{h+1}(s_{h+1}) - V_h(s_h)), "
    "undiscounted (the lecture's objective has no gamma), with V_h(s) = values[h, s] and V = 0 "
    "after the episode's last step.",
)


register(ACTION_VALUE_GRADIENT, ADVANTAGE_GRADIENT, TD_RESIDUAL_GRADIENT)
