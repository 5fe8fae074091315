"""Check specs of notebook 06 (PPO), first part: the identity and the surrogate, exactly.

On enumerable MDPs (the tiny MDP of notebook 04 and random small ones): the advantages
A^{pi_old}_h, the state distribution d_h, the identity J(theta) - J(theta_old) = sum d^theta
pi_theta A^old, and the surrogate, whose value *and* autograd gradient are compared (at theta =
theta_old its gradient is the exact policy gradient). The second part, PPO-Clip's pieces and
the learning run, is :mod:`autograder.judge.specs.ppo_clip` (the same topic prefix ``ppo``).

The cases are plain data (an MDP and its parameters) and the surrogate's gradient comes from a
box procedure (:mod:`autograder.box.procedures.ppo`); the comparison stays in the judge.
The bugs use numpy and torch and the rlkit helpers the notebook allows (notebook 05's
``action_values``, notebook 04's ``softmax_policy``), never a withheld reference; the first bug
of each bank is self-contained (the sample class pastes it into a notebook).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from autograder.box.procedures.ppo import surrogate_run
from autograder.judge.core import Bug, Case, CheckSpec, allclose, register
from autograder.judge.specs.dqn import fields
from autograder.judge.specs.reinforce import _random_small_mdp
from rlkit import policy_gradient as pg
from rlkit import policy_improvement as pi
from rlkit import weightings as wt
from rlkit.mdp import TabularMDP

#: the rlkit helpers notebook 06 tells its exact functions to use (notebook 05's Q^pi_h and
#: V^pi_h, notebook 04's softmax policy)
EXACT_USES = ("rlkit.weightings.action_values", "rlkit.weightings.values_from_q",
              "rlkit.policy_gradient.softmax_policy")

# --- exact inputs


def _thetas(rng: np.random.Generator, mdp: TabularMDP, scale: float = 1.0) -> np.ndarray:
    return rng.normal(0.0, scale, size=(mdp.n_states, mdp.n_actions))


def _exact_inputs() -> list[tuple[str, TabularMDP, int, np.ndarray, np.ndarray]]:
    """(name, mdp, horizon, theta, theta_old): the tiny MDP and a random small one."""
    rng = np.random.default_rng(601)
    tiny, zero = pg.tiny_mdp(), np.zeros((4, 2))
    small, horizon = _random_small_mdp(np.random.default_rng(602))
    return [
        ("the tiny MDP, theta_old = 0, theta random", tiny, pg.TINY_HORIZON,
         _thetas(rng, tiny), zero),
        ("the tiny MDP, theta and theta_old random", tiny, pg.TINY_HORIZON,
         _thetas(rng, tiny), _thetas(rng, tiny)),
        (f"a random MDP ({small.n_states} states, horizon {horizon}; episodes can be cut at "
         "the horizon)", small, horizon, _thetas(rng, small), _thetas(rng, small)),
        ("the same MDP, every state as likely to start in, its terminal one too (an episode "
         "that starts there is already over)",
         dataclasses.replace(small, mu=np.full(small.n_states, 1.0 / small.n_states)),
         horizon, _thetas(rng, small), _thetas(rng, small)),
    ]


def _hidden_inputs(rng: np.random.Generator):
    small, horizon = _random_small_mdp(rng)
    return [(f"hidden: a random MDP ({small.n_states} states, horizon {horizon})", small,
             horizon, _thetas(rng, small), _thetas(rng, small))]


def _policy_cases(inputs, with_old: bool) -> list[Case]:
    """``fn(mdp, theta, horizon)`` (the new policy's own table), or with ``theta_old`` too."""
    cases = []
    for name, mdp, horizon, theta, theta_old in inputs:
        if with_old:
            cases.append(Case(name, (mdp, theta, theta_old, horizon)))
        else:
            cases.append(Case(name, (mdp, theta, horizon)))
    return cases


# --- advantage_table


def _bug_adv_q(mdp, theta, horizon):
    policy = np.exp(theta - theta.max(axis=1, keepdims=True))
    policy /= policy.sum(axis=1, keepdims=True)
    expected = np.einsum("sat,sat->sa", mdp.P, mdp.R) * ~mdp.terminal[:, None]
    q = np.zeros((horizon, mdp.n_states, mdp.n_actions))
    v_next = np.zeros(mdp.n_states)
    for h in reversed(range(horizon)):
        q[h] = expected + np.einsum("sat,t->sa", mdp.P, v_next) * ~mdp.terminal[:, None]
        v_next = (policy * q[h]).sum(axis=1)
    return q


def _bug_adv_uniform(mdp, theta, horizon):
    q = wt.action_values(mdp, theta, horizon)
    return q - q.mean(axis=2, keepdims=True)


def _bug_adv_max(mdp, theta, horizon):
    q = wt.action_values(mdp, theta, horizon)
    return q - q.max(axis=2, keepdims=True)


def _bug_adv_sign(mdp, theta, horizon):
    q = wt.action_values(mdp, theta, horizon)
    return wt.values_from_q(q, theta)[..., None] - q


def _bug_adv_next_values(mdp, theta, horizon):
    q = wt.action_values(mdp, theta, horizon)
    v = wt.values_from_q(q, theta)
    v_next = np.concatenate([v[1:], np.zeros((1, mdp.n_states))])
    return q - v_next[..., None]


def _bug_adv_first_row(mdp, theta, horizon):
    q = wt.action_values(mdp, theta, horizon)
    a = q - wt.values_from_q(q, theta)[..., None]
    return np.repeat(a[:1], horizon, axis=0)


ADVANTAGE_TABLE = CheckSpec(
    name="ppo.advantage_table",
    function="advantage_table",
    points=2,
    reference=pi.advantage_table,
    uses=EXACT_USES,
    visible_cases=lambda: _policy_cases(_exact_inputs(), with_old=False),
    hidden_cases=lambda rng: _policy_cases(_hidden_inputs(rng), with_old=False),
    compare=allclose(rtol=1e-6, atol=1e-9),
    bugs=(
        Bug("q_not_advantage", _bug_adv_q,
            "That is Q^pi_h; the advantage subtracts the state's value: A_h(s, a) = Q_h(s, a) "
            "- V_h(s)."),
        Bug("uniform_average", _bug_adv_uniform,
            "V_h(s) averages Q_h(s, .) under the POLICY, sum_a pi(a|s) Q_h(s, a), not "
            "uniformly over the actions."),
        Bug("max_baseline", _bug_adv_max,
            "Subtract V^pi_h(s) = sum_a pi(a|s) Q_h(s, a), the policy's own value, not the "
            "best action's."),
        Bug("reversed_sign", _bug_adv_sign,
            "The sign is flipped: A = Q - V, positive for actions better than the policy's "
            "average."),
        Bug("next_step_values", _bug_adv_next_values,
            "Q_h and V_h belong to the same step h: subtract V_h(s), not V_{h+1}(s)."),
        Bug("time_free", _bug_adv_first_row,
            "Each step h has its own values (H - h steps are left): compute A_h for every row "
            "from Q_h and V_h, not only the first."),
    ),
    hint="A_h(s, a) = Q_h(s, a) - V_h(s) with Q from rlkit.weightings.action_values and V_h(s) "
    "= sum_a pi_theta(a|s) Q_h(s, a); shape (H, S, A).",
)

# --- state_distribution


def _bug_d_no_terminal(mdp, theta, horizon):
    policy = np.exp(theta - theta.max(axis=1, keepdims=True))
    policy /= policy.sum(axis=1, keepdims=True)
    d = np.zeros((horizon, mdp.n_states))
    current = np.array(mdp.mu, dtype=float)
    for h in range(horizon):
        d[h] = current
        current = np.einsum("s,sa,sat->t", current, policy, mdp.P)
    return d


def _forward(mdp, policy, horizon, step):
    d = np.zeros((horizon, mdp.n_states))
    current = np.asarray(mdp.mu, dtype=float) * ~mdp.terminal
    for h in range(horizon):
        d[h] = current
        current = step(current, policy) * ~mdp.terminal
    return d


def _bug_d_transposed(mdp, theta, horizon):
    return _forward(mdp, pg.softmax_policy(theta), horizon,
                    lambda d, p: np.einsum("s,sa,tas->t", d, p, mdp.P))


def _bug_d_uniform(mdp, theta, horizon):
    uniform = np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)
    return _forward(mdp, uniform, horizon, lambda d, p: np.einsum("s,sa,sat->t", d, p, mdp.P))


def _bug_d_no_policy(mdp, theta, horizon):
    return _forward(mdp, pg.softmax_policy(theta), horizon,
                    lambda d, p: np.einsum("s,sat->t", d, mdp.P))


def _bug_d_normalised(mdp, theta, horizon):
    d = _forward(mdp, pg.softmax_policy(theta), horizon,
                 lambda d, p: np.einsum("s,sa,sat->t", d, p, mdp.P))
    totals = d.sum(axis=1, keepdims=True)
    return np.divide(d, totals, out=np.zeros_like(d), where=totals > 0)


def _bug_d_one_step_late(mdp, theta, horizon):
    d = _forward(mdp, pg.softmax_policy(theta), horizon + 1,
                 lambda d, p: np.einsum("s,sa,sat->t", d, p, mdp.P))
    return d[1:]


STATE_DISTRIBUTION = CheckSpec(
    name="ppo.state_distribution",
    function="state_distribution",
    points=3,
    reference=pi.state_distribution,
    uses=EXACT_USES,
    visible_cases=lambda: _policy_cases(_exact_inputs(), with_old=False),
    hidden_cases=lambda rng: _policy_cases(_hidden_inputs(rng), with_old=False),
    compare=allclose(rtol=1e-6, atol=1e-9),
    bugs=(
        Bug("terminal_kept", _bug_d_no_terminal,
            "An episode that entered a terminal state is over: zero the terminal states of "
            "every row (d_h(s) is the probability that the episode is still going, in s)."),
        Bug("transposed_transitions", _bug_d_transposed,
            "P[s, a, s'] is P(s'|s, a): d_{h+1}(s') = sum_{s, a} d_h(s) pi(a|s) P[s, a, s'] "
            "(the first index is where you are)."),
        Bug("ignores_the_policy", _bug_d_uniform,
            "Weigh the actions by the policy pi_theta(a|s) = softmax(theta[s]), not uniformly."),
        Bug("no_policy_weights", _bug_d_no_policy,
            "Sum over the actions WEIGHTED by pi_theta(a|s): without them each state sends out "
            "A times its probability."),
        Bug("rows_normalised", _bug_d_normalised,
            "Do not renormalise the rows: once some episodes have ended, a row sums to the "
            "probability of still going, below 1."),
        Bug("one_step_late", _bug_d_one_step_late,
            "Row 0 is the start distribution mu (with terminal states zeroed); the first "
            "transition gives row 1."),
    ),
    hint="d_0 = mu, d_{h+1}(s') = sum_{s, a} d_h(s) pi_theta(a|s) P(s'|s, a), every row with "
    "the terminal states set to 0; shape (H, S).",
)

# --- performance_difference


def _bug_pd_old_states(mdp, theta, theta_old, horizon):
    def softmax(t):
        e = np.exp(t - t.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    alive = ~np.asarray(mdp.terminal)
    old, new = softmax(theta_old), softmax(theta)
    expected = np.einsum("sat,sat->sa", mdp.P, mdp.R) * alive[:, None]
    q = np.zeros((horizon, mdp.n_states, mdp.n_actions))
    v_next = np.zeros(mdp.n_states)
    for h in reversed(range(horizon)):
        q[h] = expected + np.einsum("sat,t->sa", mdp.P, v_next) * alive[:, None]
        v_next = (old * q[h]).sum(axis=1)
    advantages = q - (old[None] * q).sum(axis=2, keepdims=True)
    total, d = 0.0, np.asarray(mdp.mu, dtype=float) * alive
    for h in range(horizon):
        total += np.einsum("s,sa,sa->", d, new, advantages[h])
        d = np.einsum("s,sa,sat->t", d, old, mdp.P) * alive
    return total


def _table(mdp, theta, theta_old, horizon):
    """The pieces the bugs below misuse: d^theta, d^old, pi, pi_old, Q^old, A^old."""
    new, old = pg.softmax_policy(theta), pg.softmax_policy(theta_old)
    step = lambda d, p: np.einsum("s,sa,sat->t", d, p, mdp.P)  # noqa: E731
    q_old = wt.action_values(mdp, theta_old, horizon)
    a_old = q_old - wt.values_from_q(q_old, theta_old)[..., None]
    return (_forward(mdp, new, horizon, step), _forward(mdp, old, horizon, step), new, old,
            q_old, a_old)


def _bug_pd_old_actions(mdp, theta, theta_old, horizon):
    d_new, _, _, old, _, a_old = _table(mdp, theta, theta_old, horizon)
    return float(np.einsum("hs,sa,hsa->", d_new, old, a_old))


def _bug_pd_first_step(mdp, theta, theta_old, horizon):
    d_new, _, new, _, _, a_old = _table(mdp, theta, theta_old, horizon)
    return float(np.einsum("s,sa,sa->", d_new[0], new, a_old[0]))


def _bug_pd_last_step(mdp, theta, theta_old, horizon):
    d_new, _, new, _, _, a_old = _table(mdp, theta, theta_old, horizon)
    return float(np.einsum("s,sa,sa->", d_new[-1], new, a_old[-1]))


def _bug_pd_q(mdp, theta, theta_old, horizon):
    d_new, _, new, _, q_old, _ = _table(mdp, theta, theta_old, horizon)
    return float(np.einsum("hs,sa,hsa->", d_new, new, q_old))


def _bug_pd_reversed(mdp, theta, theta_old, horizon):
    _, d_old, _, old, _, _ = _table(mdp, theta, theta_old, horizon)
    q_new = wt.action_values(mdp, theta, horizon)
    a_new = q_new - wt.values_from_q(q_new, theta)[..., None]
    return float(np.einsum("hs,sa,hsa->", d_old, old, a_new))


PERFORMANCE_DIFFERENCE = CheckSpec(
    name="ppo.performance_difference",
    function="performance_difference",
    points=2,
    reference=pi.performance_difference,
    uses=EXACT_USES,
    visible_cases=lambda: _policy_cases(_exact_inputs(), with_old=True),
    hidden_cases=lambda rng: _policy_cases(_hidden_inputs(rng), with_old=True),
    compare=allclose(rtol=1e-6, atol=1e-9),
    bugs=(
        Bug("old_states", _bug_pd_old_states,
            "That is the surrogate: the identity takes the states from the NEW policy, "
            "d^theta_h(s), not from the old one."),
        Bug("old_actions", _bug_pd_old_actions,
            "Your sum is 0: a policy's own advantages average to 0 over its own actions. The "
            "identity weighs the OLD policy's advantages (your advantage_table of theta_old) "
            "by the NEW policy's actions: sum_a pi_theta(a|s) A^old_h(s, a)."),
        Bug("first_step_only", _bug_pd_first_step,
            "Sum over every step h = 0..H-1, not only the first."),
        Bug("last_step_only", _bug_pd_last_step,
            "Sum over every step h = 0..H-1: yours keeps only the last one (an `=` where `+=` "
            "was meant?)."),
        Bug("q_not_advantage", _bug_pd_q,
            "Use the old policy's ADVANTAGES A^old = Q^old - V^old; with Q the sum is not "
            "J(theta) - J(theta_old)."),
        Bug("roles_reversed", _bug_pd_reversed,
            "The roles are reversed: the OLD policy's advantages, under the NEW policy's "
            "states and actions."),
    ),
    hint="sum_h sum_s d^theta_h(s) sum_a pi_theta(a|s) A^{pi_old}_h(s, a), with your "
    "state_distribution of theta and your advantage_table of theta_old; a float.",
)

# --- surrogate


def _surrogate_cases(inputs, at_old: bool) -> list[Case]:
    cases = []
    for name, mdp, horizon, theta, theta_old in inputs:
        if at_old:
            cases.append(Case(f"{name.split(',')[0]}, theta = theta_old: value 0 and the exact "
                              "policy gradient",
                              run=surrogate_run(mdp, theta_old, theta_old, horizon)))
        cases.append(Case(name, run=surrogate_run(mdp, theta, theta_old, horizon)))
    return cases


def _surrogate_visible() -> list[Case]:
    inputs = _exact_inputs()
    return _surrogate_cases(inputs[1:2], at_old=True) + _surrogate_cases(inputs, at_old=False)


def _surrogate_parts(mdp, theta, theta_old, horizon):
    old = torch.as_tensor(pg.softmax_policy(theta_old))
    step = lambda d, p: np.einsum("s,sa,sat->t", d, p, mdp.P)  # noqa: E731
    d_old = torch.as_tensor(_forward(mdp, old.numpy(), horizon, step))
    q_old = wt.action_values(mdp, theta_old, horizon)
    a_old = torch.as_tensor(q_old - wt.values_from_q(q_old, theta_old)[..., None])
    return old, d_old, torch.as_tensor(q_old), a_old, step


def _bug_sur_new_states(mdp, theta, theta_old, horizon):
    old, _, _, a_old, step = _surrogate_parts(mdp, theta, theta_old, horizon)
    new = torch.softmax(theta, dim=-1)
    d_new = torch.as_tensor(_forward(mdp, new.detach().numpy(), horizon, step))
    return torch.einsum("hs,sa,hsa->", d_new, new, a_old)


def _bug_sur_inverted(mdp, theta, theta_old, horizon):
    old, d_old, _, a_old, _ = _surrogate_parts(mdp, theta, theta_old, horizon)
    return torch.einsum("hs,sa,sa,hsa->", d_old, old, old / torch.softmax(theta, dim=-1), a_old)


def _bug_sur_log_ratio(mdp, theta, theta_old, horizon):
    old, d_old, _, a_old, _ = _surrogate_parts(mdp, theta, theta_old, horizon)
    log_ratio = torch.log_softmax(theta, dim=-1) - old.log()
    return torch.einsum("hs,sa,sa,hsa->", d_old, old, log_ratio, a_old)


def _bug_sur_detached(mdp, theta, theta_old, horizon):
    old, d_old, _, a_old, _ = _surrogate_parts(mdp, theta, theta_old, horizon)
    new = torch.as_tensor(pg.softmax_policy(theta.detach().numpy()))
    return torch.einsum("hs,sa,hsa->", d_old, new, a_old)


def _bug_sur_q(mdp, theta, theta_old, horizon):
    old, d_old, q_old, _, _ = _surrogate_parts(mdp, theta, theta_old, horizon)
    return torch.einsum("hs,sa,sa,hsa->", d_old, old, torch.softmax(theta, dim=-1) / old, q_old)


def _bug_sur_new_advantages(mdp, theta, theta_old, horizon):
    old, d_old, _, _, _ = _surrogate_parts(mdp, theta, theta_old, horizon)
    numpy_theta = theta.detach().numpy()
    q_new = wt.action_values(mdp, numpy_theta, horizon)
    a_new = torch.as_tensor(q_new - wt.values_from_q(q_new, numpy_theta)[..., None])
    return torch.einsum("hs,sa,sa,hsa->", d_old, old, torch.softmax(theta, dim=-1) / old, a_new)


SURROGATE = CheckSpec(
    name="ppo.surrogate",
    function="surrogate",
    points=3,
    reference=pi.surrogate,
    uses=EXACT_USES,
    visible_cases=_surrogate_visible,
    hidden_cases=lambda rng: _surrogate_cases(_hidden_inputs(rng), at_old=True),
    # the value is a sum of terms of order 1 that cancels to 0 at theta_old: an absolute
    # tolerance of that order's rounding (any bug is off by 1e-2 or more)
    compare=fields(allclose(rtol=1e-6, atol=1e-9), value=allclose(rtol=1e-6, atol=1e-6)),
    bugs=(
        Bug("new_states", _bug_sur_new_states,
            "That is the exact J(theta) - J(theta_old): the surrogate takes the states from "
            "the OLD policy, d^old_h(s), the ones its rollout visited."),
        Bug("inverted_ratio", _bug_sur_inverted,
            "The ratio is pi_theta / pi_old (new over old), the importance weight of an "
            "action the old policy drew."),
        Bug("log_ratio", _bug_sur_log_ratio,
            "Weigh by the ratio pi_theta / pi_old itself, not its log: the two agree in value "
            "and gradient only at theta = theta_old."),
        Bug("detached", _bug_sur_detached,
            "The surrogate must stay differentiable in theta: compute pi_theta with torch "
            "(torch.softmax(theta, dim=-1)), not through numpy or .detach()."),
        Bug("q_not_advantage", _bug_sur_q,
            "Weigh by the old policy's ADVANTAGES, not Q: with Q the surrogate is not 0 at "
            "theta = theta_old."),
        Bug("new_advantages", _bug_sur_new_advantages,
            "The advantages are the OLD policy's, A^{pi_old}, constants of theta (the "
            "rollout's critic was fitted to pi_old)."),
    ),
    hint="L(theta) = sum_h sum_s d^old_h(s) sum_a pi_old(a|s) [pi_theta(a|s) / pi_old(a|s)] "
    "A^old_h(s, a), with pi_theta = torch.softmax(theta, dim=-1) so that autograd reaches "
    "theta; a torch scalar.",
)

register(ADVANTAGE_TABLE, STATE_DISTRIBUTION, PERFORMANCE_DIFFERENCE, SURROGATE)
