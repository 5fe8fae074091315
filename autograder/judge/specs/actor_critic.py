"""Check specs of notebook 05 (actor-critic), first part: the finite-horizon action values Q^pi_h.

The student writes Q^pi_h (``action_values``), backwards from V_H = 0 with nothing collected at
or after a terminal state. The cases (DESIGN section 5, layer 1) are hand-made and random MDPs,
compared with rlkit's reference: horizons of 1 to 3 steps (episodes cut at H, so Q_h depends on
h), three actions, a nearly deterministic policy, and an MDP whose terminal row is live (nothing
may be collected there). The three actor-critic estimators that take these values (options 4-6
of the lecture) are :mod:`autograder.judge.specs.actor_critic_estimators`.

The box calls the student's function on plain data and returns its output; the judge compares
it. The function is deterministic given its inputs, so a known bug is diagnosed by matching
outputs exactly (``diagnose=allclose()``). Every ``_bug_*`` is self-contained (numpy, which the
notebook imports) so that the sample class can paste its source into a notebook.
"""

from __future__ import annotations

import numpy as np

from autograder.judge.core import Bug, Case, CheckSpec, allclose, register
from autograder.judge.specs.reinforce import _theta, _tiny
from rlkit import policy_gradient as pg
from rlkit import weightings as wt
from rlkit.mdp import TabularMDP, random_mdp

# --- action_values


def _live_terminal_mdp() -> TabularMDP:
    """The tiny MDP with a live row at the terminal ``end``: nothing may be collected there.

    The model's row of a terminal state is never used by an episode (it has ended), so it may
    hold anything; here ``end`` leads to ``left`` with reward 5.
    """
    tiny = pg.tiny_mdp()
    transitions, rewards = np.array(tiny.P), np.array(tiny.R)
    transitions[3] = 0.0
    transitions[3, :, 1] = 1.0
    rewards[3, :, 1] = 5.0
    return TabularMDP(P=transitions, R=rewards, gamma=1.0, mu=tiny.mu, terminal=tiny.terminal,
                      state_names=tiny.state_names, action_names=tiny.action_names)


def _action_values_cases() -> list[Case]:
    rng = np.random.default_rng(501)
    mdp, horizon, _ = _tiny()
    random = random_mdp(4, 2, gamma=1.0, rng=rng, n_terminal=1)
    three_actions = random_mdp(3, 3, gamma=1.0, rng=rng, n_terminal=1)
    return [
        Case("tiny MDP, theta = 0, H = 2", (mdp, np.zeros((4, 2)), horizon)),
        Case("tiny MDP, H = 1: one step left, Q_0(s, a) is the expected reward",
             (mdp, np.zeros((4, 2)), 1)),
        Case("tiny MDP, a random theta, H = 2", (mdp, _theta(rng), horizon)),
        Case("tiny MDP, a random theta, H = 3 (a step more than any episode needs)",
             (mdp, _theta(rng), 3)),
        Case("a random MDP (4 states, one terminal), H = 3: episodes are cut at H, so Q_h "
             "depends on h", (random, _theta(rng, mdp=random), 3)),
        Case("a random MDP with 3 actions, H = 2", (three_actions,
                                                     _theta(rng, mdp=three_actions), 2)),
        Case("the tiny MDP whose terminal state `end` has a live row in the model (-> left, "
             "reward 5): nothing is collected at or after a terminal state",
             (_live_terminal_mdp(), _theta(rng), horizon)),
        Case("a nearly deterministic policy (logits of size 20), H = 2",
             (mdp, 20.0 * np.sign(rng.normal(size=(4, 2))), horizon)),
    ]


def _action_values_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for i in range(3):
        n_actions = int(rng.integers(2, 4))
        mdp = random_mdp(int(rng.integers(3, 6)), n_actions, gamma=1.0, rng=rng, n_terminal=1)
        horizon = int(rng.integers(1, 5))
        cases.append(Case(f"hidden: a random MDP ({mdp.n_states} states, {n_actions} actions), "
                          f"H = {horizon} {i}", (mdp, _theta(rng, mdp=mdp), horizon)))
    return cases


def _bug_av_terminal_not_zero(mdp, theta, horizon):
    p = np.exp(theta - theta.max(axis=1, keepdims=True))
    pi = p / p.sum(axis=1, keepdims=True)
    q = np.zeros((horizon, mdp.n_states, mdp.n_actions))
    v = np.zeros(mdp.n_states)
    for h in reversed(range(horizon)):
        q[h] = np.einsum("sat,sat->sa", mdp.P, mdp.R + v[None, None, :])
        v = (pi * q[h]).sum(axis=1)
    return q


def _bug_av_forwards(mdp, theta, horizon):
    p = np.exp(theta - theta.max(axis=1, keepdims=True))
    pi = p / p.sum(axis=1, keepdims=True)
    future = np.where(mdp.terminal, 0.0, 1.0)
    q = np.zeros((horizon, mdp.n_states, mdp.n_actions))
    v = np.zeros(mdp.n_states)
    for h in range(horizon):
        q[h] = np.einsum("sat,sat->sa", mdp.P, mdp.R + (future * v)[None, None, :])
        q[h][mdp.terminal] = 0.0
        v = (pi * q[h]).sum(axis=1)
    return q


def _bug_av_same_for_every_step(mdp, theta, horizon):
    p = np.exp(theta - theta.max(axis=1, keepdims=True))
    pi = p / p.sum(axis=1, keepdims=True)
    future = np.where(mdp.terminal, 0.0, 1.0)
    q_now = np.zeros((mdp.n_states, mdp.n_actions))
    v = np.zeros(mdp.n_states)
    for _ in range(horizon):
        q_now = np.einsum("sat,sat->sa", mdp.P, mdp.R + (future * v)[None, None, :])
        q_now[mdp.terminal] = 0.0
        v = (pi * q_now).sum(axis=1)
    return np.stack([q_now] * horizon)


def _bug_av_greedy(mdp, theta, horizon):
    future = np.where(mdp.terminal, 0.0, 1.0)
    q = np.zeros((horizon, mdp.n_states, mdp.n_actions))
    v = np.zeros(mdp.n_states)
    for h in reversed(range(horizon)):
        q[h] = np.einsum("sat,sat->sa", mdp.P, mdp.R + (future * v)[None, None, :])
        q[h][mdp.terminal] = 0.0
        v = q[h].max(axis=1)
    return q


def _bug_av_uniform(mdp, theta, horizon):
    future = np.where(mdp.terminal, 0.0, 1.0)
    q = np.zeros((horizon, mdp.n_states, mdp.n_actions))
    v = np.zeros(mdp.n_states)
    for h in reversed(range(horizon)):
        q[h] = np.einsum("sat,sat->sa", mdp.P, mdp.R + (future * v)[None, None, :])
        q[h][mdp.terminal] = 0.0
        v = q[h].mean(axis=1)
    return q


def _bug_av_softmax_over_states(mdp, theta, horizon):
    p = np.exp(theta - theta.max(axis=0, keepdims=True))
    pi = p / p.sum(axis=0, keepdims=True)
    future = np.where(mdp.terminal, 0.0, 1.0)
    q = np.zeros((horizon, mdp.n_states, mdp.n_actions))
    v = np.zeros(mdp.n_states)
    for h in reversed(range(horizon)):
        q[h] = np.einsum("sat,sat->sa", mdp.P, mdp.R + (future * v)[None, None, :])
        q[h][mdp.terminal] = 0.0
        v = (pi * q[h]).sum(axis=1)
    return q


def _bug_av_rewards_unweighted(mdp, theta, horizon):
    p = np.exp(theta - theta.max(axis=1, keepdims=True))
    pi = p / p.sum(axis=1, keepdims=True)
    future = np.where(mdp.terminal, 0.0, 1.0)
    q = np.zeros((horizon, mdp.n_states, mdp.n_actions))
    v = np.zeros(mdp.n_states)
    for h in reversed(range(horizon)):
        q[h] = mdp.R.sum(axis=2) + mdp.P @ (future * v)
        q[h][mdp.terminal] = 0.0
        v = (pi * q[h]).sum(axis=1)
    return q


def _bug_av_one_step_too_many(mdp, theta, horizon):
    p = np.exp(theta - theta.max(axis=1, keepdims=True))
    pi = p / p.sum(axis=1, keepdims=True)
    future = np.where(mdp.terminal, 0.0, 1.0)
    q = np.zeros((horizon + 1, mdp.n_states, mdp.n_actions))
    v = np.zeros(mdp.n_states)
    for h in reversed(range(horizon + 1)):
        q[h] = np.einsum("sat,sat->sa", mdp.P, mdp.R + (future * v)[None, None, :])
        q[h][mdp.terminal] = 0.0
        v = (pi * q[h]).sum(axis=1)
    return q[:horizon]


def _bug_av_returns_values(mdp, theta, horizon):
    p = np.exp(theta - theta.max(axis=1, keepdims=True))
    pi = p / p.sum(axis=1, keepdims=True)
    future = np.where(mdp.terminal, 0.0, 1.0)
    values = np.zeros((horizon, mdp.n_states))
    v = np.zeros(mdp.n_states)
    for h in reversed(range(horizon)):
        q = np.einsum("sat,sat->sa", mdp.P, mdp.R + (future * v)[None, None, :])
        q[mdp.terminal] = 0.0
        v = (pi * q).sum(axis=1)
        values[h] = v
    return values


ACTION_VALUES = CheckSpec(
    name="actor_critic.action_values",
    function="action_values",
    points=3,
    reference=wt.action_values,
    uses=("rlkit.dp.q_from_v", "rlkit.policy_gradient.softmax_policy"),
    visible_cases=_action_values_cases,
    hidden_cases=_action_values_hidden,
    compare=allclose(rtol=1e-6, atol=1e-9),
    diagnose=allclose(),
    bugs=(
        Bug("terminal_not_zero", _bug_av_terminal_not_zero,
            "Nothing is collected at or after a terminal state: Q_h(s, a) = 0 in a terminal "
            "row, and V_{h+1}(s') = 0 for a terminal s', whatever the model's row of s' holds "
            "(rlkit.dp.q_from_v does both)."),
        Bug("computed_forwards", _bug_av_forwards,
            "Row h has H - h steps left: fill the rows BACKWARDS, from Q_{H-1} (the expected "
            "reward alone, V_H = 0) down to Q_0 (yours has the rows in reverse order)."),
        Bug("same_for_every_step", _bug_av_same_for_every_step,
            "Keep every row: Q_h differs with the steps left (H - h), so return the whole "
            "(H, S, A) table, not Q_0 repeated."),
        Bug("greedy_next_value", _bug_av_greedy,
            "After the first action, Q^pi follows pi: V_{h+1}(s') = sum_a' pi(a'|s') "
            "Q_{h+1}(s', a'), not max_a' (that is the optimal Q*)."),
        Bug("uniform_next_value", _bug_av_uniform,
            "V_{h+1}(s') averages Q_{h+1}(s', .) with the policy's probabilities "
            "pi_theta(a'|s') = softmax(theta[s']), not equally."),
        Bug("softmax_over_states", _bug_av_softmax_over_states,
            "pi_theta(.|s) is a softmax over the ACTIONS of row s (axis 1 of theta), not over "
            "the states."),
        Bug("rewards_not_weighted", _bug_av_rewards_unweighted,
            "The expected reward is sum_s' P(s'|s,a) R(s, a, s'): weight each reward by its "
            "transition probability."),
        Bug("one_step_too_many", _bug_av_one_step_too_many,
            "Row h has H - h steps left: start from V_H = 0 (no step left), so that the last "
            "row Q_{H-1}(s, a) is the expected reward of one step, and there are H rows."),
        Bug("returns_values", _bug_av_returns_values,
            "Return the action values Q_h(s, a), shape (H, S, A), not the state values V_h(s)."),
    ),
    hint="Backwards from V_H = 0: Q_h(s,a) = sum_s' P(s'|s,a) [R(s,a,s') + V_{h+1}(s')] (0 at "
    "terminal states), V_h(s) = sum_a pi(a|s) Q_h(s,a) with pi(.|s) = softmax(theta[s]); row h "
    "has H - h steps left; return Q, shape (H, S, A).",
)


register(ACTION_VALUES)
