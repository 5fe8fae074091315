"""Check specs of notebook 01 (MDPs): returns, trajectories, V and Q, policy evaluation.

The checks that sample episodes (``run_episode``, ``monte_carlo_value``) are in
``mdps_sampling.py``.

Every ``_bug_*`` function is a plausible wrong implementation a student writes. Each is
self-contained (numpy and rlkit only) so that the sample class can paste its source into a
notebook. ``tests/test_bug_bank.py`` proves each one fails its check and gets its own hint.
"""

from __future__ import annotations

import numpy as np

from autograder.judge import fixtures
from autograder.judge.core import Bug, Case, CheckSpec, allclose, register
from rlkit import dp, sampling
from rlkit.mdp import TabularMDP

# --- discounted_return


def _return_cases() -> list[Case]:
    return [
        Case("rewards [1, 1, 1], gamma 0.9", ([1.0, 1.0, 1.0], 0.9)),
        Case("rewards [0, 0, 1], gamma 0.5", ([0.0, 0.0, 1.0], 0.5)),
        Case("a single reward [5], gamma 0.5", ([5.0], 0.5)),
        Case("rewards [3, -1, 2], gamma 0 (only r_0 counts)", ([3.0, -1.0, 2.0], 0.0)),
        Case("rewards [3, -1, 2], gamma 1 (plain sum)", ([3.0, -1.0, 2.0], 1.0)),
        Case("an empty episode", ([], 0.9)),
        Case("the lecture's living reward: [-0.04, -0.04, 1], gamma 0.9",
             ([-0.04, -0.04, 1.0], 0.9)),
        Case("20 rewards as a numpy array, gamma 0.95",
             (np.linspace(-1.0, 2.0, 20), 0.95)),
    ]


def _return_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        Case(f"hidden: {n} random rewards", (rng.normal(size=n), float(rng.uniform(0.1, 1.0))))
        for n in rng.integers(2, 40, size=4)
    ]


def _bug_no_discount(rewards, gamma):
    return float(np.sum(rewards))


def _bug_discount_from_one(rewards, gamma):
    rewards = np.asarray(rewards, dtype=float)
    return float(np.sum(gamma ** np.arange(1, len(rewards) + 1) * rewards))


def _bug_reversed_discount(rewards, gamma):
    rewards = np.asarray(rewards, dtype=float)
    return float(np.sum(gamma ** np.arange(len(rewards))[::-1] * rewards))


def _bug_mean_not_sum(rewards, gamma):
    rewards = np.asarray(rewards, dtype=float)
    if len(rewards) == 0:
        return 0.0
    return float(np.mean(gamma ** np.arange(len(rewards)) * rewards))


def _bug_discount_once(rewards, gamma):
    return float(gamma * np.sum(rewards))


def _bug_return_int_rewards(rewards, gamma):
    rewards = np.asarray(rewards, dtype=int)
    return float(np.sum(gamma ** np.arange(len(rewards)) * rewards))


def _bug_return_drops_last(rewards, gamma):
    rewards = np.asarray(rewards, dtype=float)[:-1]
    return float(np.sum(gamma ** np.arange(len(rewards)) * rewards))


DISCOUNTED_RETURN = CheckSpec(
    name="mdps.discounted_return",
    function="discounted_return",
    points=1,
    reference=sampling.discounted_return,
    withhold=("rlkit.sampling.discounted_return", "rlkit.sampling.discounted_returns"),
    visible_cases=_return_cases,
    hidden_cases=_return_hidden,
    bugs=(
        Bug("no_discount", _bug_no_discount,
            "You summed the rewards without discounting: G_0 = sum_t gamma^t r_t."),
        Bug("discount_from_one", _bug_discount_from_one,
            "The first reward is not discounted: its weight is gamma^0 = 1, not gamma."),
        Bug("reversed_discount", _bug_reversed_discount,
            "The discount grows with time: r_t gets gamma^t, so later rewards count less."),
        Bug("mean_not_sum", _bug_mean_not_sum,
            "The return is a sum over time steps, not a mean."),
        Bug("discount_once", _bug_discount_once,
            "Each reward gets its own power gamma^t; multiplying the sum by gamma once is not "
            "it."),
        Bug("drops_last_reward", _bug_return_drops_last,
            "Every reward counts, the last one r_{T-1} included: sum over all T steps "
            "(range(len(rewards)))."),
        Bug("int_rewards", _bug_return_int_rewards,
            "Your rewards were cast to integers (`dtype=int`, `int(r)`), which drops their "
            "fractional part (-0.04 becomes 0): keep them as floats."),
    ),
    hint="G_0 = r_0 + gamma r_1 + gamma^2 r_2 + ...; an empty episode has return 0.",
)

# --- trajectory_probability


def _trajectory_case(name: str, mdp: TabularMDP, policy: np.ndarray, seed: int) -> Case:
    traj = sampling.sample_trajectory(mdp, policy, np.random.default_rng(seed), max_steps=12)
    return Case(name, (mdp, np.asarray(traj.states), np.asarray(traj.actions), policy))


def _trajectory_cases() -> list[Case]:
    mdp = fixtures.lecture_mdp()
    uniform = np.full((mdp.n_states, mdp.n_actions), 0.25)
    rng = np.random.default_rng(1)
    small = fixtures.small_mdp(rng)
    policy = fixtures.stochastic_policy(rng, small.n_states, small.n_actions)
    gw = fixtures.gridworld()
    start = gw.state_index((1, 1))
    return [
        Case("GridWorld, uniform policy, the one-step path (1,1) -N-> (1,2)",
             (mdp, np.array([start, gw.state_index((1, 2))]), np.array([0]), uniform)),
        _trajectory_case("GridWorld, uniform policy, a sampled path", mdp, uniform, 3),
        _trajectory_case("a random 'small' MDP with a random stochastic policy", small, policy, 4),
        Case("a path that starts where mu is 0 has probability 0",
             (mdp, np.array([gw.state_index((3, 3)), gw.state_index((4, 3))]), np.array([1]),
              uniform)),
    ]


def _trajectory_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for i in range(3):
        mdp = fixtures.small_mdp(rng)
        policy = fixtures.stochastic_policy(rng, mdp.n_states, mdp.n_actions)
        cases.append(_trajectory_case(f"hidden: random MDP {i}", mdp, policy,
                                      int(rng.integers(1 << 30))))
    return cases


def _bug_forgot_mu(mdp, states, actions, policy):
    p = 1.0
    for t in range(len(actions)):
        p *= policy[states[t], actions[t]] * mdp.P[states[t], actions[t], states[t + 1]]
    return p


def _bug_forgot_policy(mdp, states, actions, policy):
    p = mdp.mu[states[0]]
    for t in range(len(actions)):
        p *= mdp.P[states[t], actions[t], states[t + 1]]
    return p


def _bug_forgot_transitions(mdp, states, actions, policy):
    p = mdp.mu[states[0]]
    for t in range(len(actions)):
        p *= policy[states[t], actions[t]]
    return p


def _bug_sum_not_product(mdp, states, actions, policy):
    p = mdp.mu[states[0]]
    for t in range(len(actions)):
        p += policy[states[t], actions[t]] * mdp.P[states[t], actions[t], states[t + 1]]
    return p


def _bug_drops_last_step(mdp, states, actions, policy):
    p = mdp.mu[states[0]]
    for t in range(len(actions) - 1):
        p *= policy[states[t], actions[t]] * mdp.P[states[t], actions[t], states[t + 1]]
    return p


def _bug_log_probability(mdp, states, actions, policy):
    logp = np.log(mdp.mu[states[0]])
    for t in range(len(actions)):
        logp += np.log(policy[states[t], actions[t]] * mdp.P[states[t], actions[t], states[t + 1]])
    return logp


TRAJECTORY_PROBABILITY = CheckSpec(
    name="mdps.trajectory_probability",
    function="trajectory_probability",
    points=2,
    reference=sampling.trajectory_probability,
    visible_cases=_trajectory_cases,
    hidden_cases=_trajectory_hidden,
    compare=allclose(rtol=1e-6, atol=1e-12),
    bugs=(
        Bug("forgot_mu", _bug_forgot_mu,
            "The start state is random too: multiply by mu(s_0)."),
        Bug("forgot_policy", _bug_forgot_policy,
            "Each step multiplies in the policy's choice pi(a_t | s_t)."),
        Bug("forgot_transitions", _bug_forgot_transitions,
            "Each step multiplies in the environment's move P(s_{t+1} | s_t, a_t)."),
        Bug("sum_not_product", _bug_sum_not_product,
            "Probabilities of independent steps multiply; they do not add."),
        Bug("log_probability", _bug_log_probability,
            "Return the probability P(tau), not its logarithm."),
        Bug("drops_last_step", _bug_drops_last_step,
            "Multiply in every step, the last one too: t runs over range(len(actions)) "
            "(len(states) = len(actions) + 1)."),
    ),
    hint="P(tau) = mu(s_0) * prod_t pi(a_t|s_t) P(s_{t+1}|s_t, a_t), with len(states) = "
    "len(actions) + 1.",
)

# --- expected_rewards


def _expected_rewards_ref(mdp: TabularMDP) -> np.ndarray:
    return np.asarray(mdp.expected_rewards)


def _expected_rewards_cases() -> list[Case]:
    rng = np.random.default_rng(11)
    return [
        Case("the lecture GridWorld (rewards only when leaving an exit)",
             (fixtures.lecture_mdp(),)),
        Case("GridWorld with living reward -0.04",
             (fixtures.lecture_mdp(living_reward=-0.04),)),
        Case("a random 'small' MDP", (fixtures.small_mdp(rng),)),
    ]


def _expected_rewards_hidden(rng: np.random.Generator) -> list[Case]:
    return [Case(f"hidden: random MDP {i}", (fixtures.small_mdp(rng),)) for i in range(3)]


def _bug_unweighted_mean(mdp):
    return mdp.R.mean(axis=2)


def _bug_unweighted_sum(mdp):
    return mdp.R.sum(axis=2)


def _bug_no_sum(mdp):
    return mdp.P * mdp.R


def _bug_wrong_axis(mdp):
    return (mdp.P * mdp.R).sum(axis=0)


def _bug_mean_over_next(mdp):
    return (mdp.P * mdp.R).mean(axis=2)


def _bug_max_over_next(mdp):
    return np.where(mdp.P > 0, mdp.R, -np.inf).max(axis=2)


EXPECTED_REWARDS = CheckSpec(
    name="mdps.expected_rewards",
    function="expected_rewards",
    points=1,
    reference=_expected_rewards_ref,
    withhold=("rlkit.mdp.TabularMDP.expected_rewards",),
    visible_cases=_expected_rewards_cases,
    hidden_cases=_expected_rewards_hidden,
    bugs=(
        Bug("unweighted_mean", _bug_unweighted_mean,
            "Weight each next state by its probability P(s'|s,a), not equally."),
        Bug("unweighted_sum", _bug_unweighted_sum,
            "Multiply R(s,a,s') by P(s'|s,a) before summing over s'."),
        Bug("no_sum", _bug_no_sum,
            "Sum over the next state s' (the last axis): r(s, a) has shape (S, A)."),
        Bug("wrong_axis", _bug_wrong_axis,
            "The expectation is over s', the LAST axis of P[s, a, s']."),
        Bug("max_over_next", _bug_max_over_next,
            "r(s,a) is an expectation over s' ~ P(.|s,a), not the best case."),
        Bug("mean_over_next", _bug_mean_over_next,
            "The probabilities P(s'|s,a) already weight each next state: SUM P * R over s'; "
            "a mean divides it once more by the number of states."),
    ),
    hint="r(s, a) = sum_{s'} P(s'|s, a) R(s, a, s'), an (S, A) array.",
)

# --- v_from_q


def _v_from_q_cases() -> list[Case]:
    rng = np.random.default_rng(21)
    q = rng.normal(size=(5, 3))
    return [
        Case("a deterministic policy as one-hot rows", (np.array([[1.0, 2.0], [3.0, -1.0]]),
                                                        np.array([[0.0, 1.0], [1.0, 0.0]]))),
        Case("uniform policy, 5 states x 3 actions", (q, np.full((5, 3), 1 / 3))),
        Case("random stochastic policy, 5 states x 3 actions",
             (q, fixtures.stochastic_policy(rng, 5, 3))),
        Case("more states than actions (7 x 2)",
             (rng.normal(size=(7, 2)), fixtures.stochastic_policy(rng, 7, 2))),
    ]


def _v_from_q_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for i in range(3):
        s, a = (int(x) for x in rng.integers(2, 9, size=2))
        cases.append(Case(f"hidden: random Q and pi {i}",
                          (rng.normal(size=(s, a)), fixtures.stochastic_policy(rng, s, a))))
    return cases


def _bug_max_over_actions(q_values, policy):
    return q_values.max(axis=1)


def _bug_uniform_mean(q_values, policy):
    return q_values.mean(axis=1)


def _bug_v_wrong_axis(q_values, policy):
    return (policy * q_values).sum(axis=0)


def _bug_ignores_policy(q_values, policy):
    return q_values.sum(axis=1)


def _bug_mean_of_products(q_values, policy):
    return (policy * q_values).mean(axis=1)


def _bug_mean_over_states(q_values, policy):
    return (policy * q_values).mean(axis=0)


def _bug_sums_everything(q_values, policy):
    return float(np.sum(policy * q_values))


V_FROM_Q = CheckSpec(
    name="mdps.v_from_q",
    function="v_from_q",
    points=1,
    reference=dp.v_from_q,
    visible_cases=_v_from_q_cases,
    hidden_cases=_v_from_q_hidden,
    bugs=(
        Bug("max_over_actions", _bug_max_over_actions,
            "max_a Q(s, a) is V* of the greedy policy; V^pi averages Q^pi under pi(a|s)."),
        Bug("uniform_mean", _bug_uniform_mean,
            "Weight each action by pi(a|s); a plain mean assumes the uniform policy."),
        Bug("wrong_axis", _bug_v_wrong_axis,
            "Sum over actions (axis 1): V^pi has one entry per state."),
        Bug("ignores_policy", _bug_ignores_policy,
            "Multiply Q(s, a) by pi(a|s) before summing over actions."),
        Bug("sums_everything", _bug_sums_everything,
            "Sum over actions only (axis=1): the result has one value per state."),
        Bug("mean_of_products", _bug_mean_of_products,
            "pi(a|s) already weights each action: SUM pi * Q over the actions; a mean "
            "multiplies V by 1/|A| once more."),
        Bug("mean_over_states", _bug_mean_over_states,
            "Sum pi * Q over the actions (axis 1), not over the states (axis 0): V has one "
            "value per state, and it is a sum, not a mean."),
    ),
    hint="V^pi(s) = E_{a ~ pi(.|s)} [Q^pi(s, a)] = sum_a pi(a|s) Q^pi(s, a).",
)

# --- evaluate_policy_exact


def _east_policy(noise: float = 0.2, gamma: float = 0.9) -> tuple[TabularMDP, np.ndarray]:
    """The lecture GridWorld with a policy that goes up the left column, then east."""
    gw = fixtures.gridworld(noise, gamma)
    actions = np.full(gw.mdp.n_states, 1)  # E everywhere ...
    for x, y in [(1, 1), (1, 2)]:
        actions[gw.state_index((x, y))] = 0  # ... but N up the left column
    actions[gw.state_index((3, 1))] = 0  # and N from (3,1) to (3,2)
    actions[gw.state_index((3, 2))] = 0  # and N from (3,2) to (3,3), avoiding the -1 exit
    actions[gw.state_index((4, 1))] = 3  # W from (4,1) back to (3,1)
    return gw.mdp, np.eye(gw.mdp.n_actions)[actions]


def _evaluate_cases() -> list[Case]:
    rng = np.random.default_rng(31)
    small = fixtures.small_mdp(rng)
    uniform_mdp = fixtures.lecture_mdp()
    living = fixtures.lecture_mdp(living_reward=-0.04)
    rewarding = fixtures.rewarding_terminal_mdp()
    return [
        Case("GridWorld, a good deterministic policy (one-hot rows)", _east_policy()),
        Case("GridWorld with deterministic moves and gamma = 1 (terminal states matter)",
             _east_policy(noise=0.0, gamma=1.0)),
        Case("GridWorld, the uniform random policy",
             (uniform_mdp, np.full((uniform_mdp.n_states, 4), 0.25))),
        Case("a random 'small' MDP with terminal states and a stochastic policy",
             (small, fixtures.stochastic_policy(rng, small.n_states, small.n_actions))),
        Case("GridWorld with the lecture's living reward -0.04, the uniform policy",
             (living, np.full((living.n_states, 4), 0.25))),
        Case("terminal states whose own transitions carry a reward (never earned)",
             (rewarding, fixtures.stochastic_policy(rng, rewarding.n_states,
                                                    rewarding.n_actions))),
    ]


def _evaluate_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for i in range(3):
        mdp = fixtures.small_mdp(rng, n_terminal=int(rng.integers(1, 3)))
        cases.append(Case(f"hidden: random MDP {i}",
                          (mdp, fixtures.stochastic_policy(rng, mdp.n_states, mdp.n_actions))))
    return cases


def _bug_eval_forgot_gamma(mdp, policy):
    keep = ~mdp.terminal
    p_pi = np.einsum("sa,sat->st", policy, mdp.P)[np.ix_(keep, keep)]
    r_pi = np.einsum("sa,sat,sat->s", policy, mdp.P, mdp.R)[keep]
    v = np.zeros(mdp.n_states)
    v[keep] = np.linalg.lstsq(np.eye(keep.sum()) - 0.999999 * p_pi, r_pi, rcond=None)[0]
    return v


def _bug_eval_transposed(mdp, policy):
    keep = ~mdp.terminal
    p_pi = np.einsum("sa,sat->st", policy, mdp.P)[np.ix_(keep, keep)]
    r_pi = np.einsum("sa,sat,sat->s", policy, mdp.P, mdp.R)[keep]
    v = np.zeros(mdp.n_states)
    v[keep] = np.linalg.solve(np.eye(keep.sum()) - mdp.gamma * p_pi.T, r_pi)
    return v


def _bug_eval_bootstraps_terminals(mdp, policy):
    p_pi = np.einsum("sa,sat->st", policy, mdp.P)
    r_pi = np.einsum("sa,sat,sat->s", policy, mdp.P, mdp.R)
    a = np.eye(mdp.n_states) - mdp.gamma * p_pi
    return np.linalg.lstsq(a, r_pi, rcond=None)[0]


def _bug_eval_one_step(mdp, policy):
    p_pi = np.einsum("sa,sat->st", policy, mdp.P)
    r_pi = np.einsum("sa,sat,sat->s", policy, mdp.P, mdp.R)
    v = r_pi + mdp.gamma * p_pi @ r_pi
    v[mdp.terminal] = 0.0
    return v


def _bug_eval_unweighted_rewards(mdp, policy):
    keep = ~mdp.terminal
    p_pi = np.einsum("sa,sat->st", policy, mdp.P)[np.ix_(keep, keep)]
    r_pi = np.einsum("sa,sat->s", policy, mdp.R)[keep]
    v = np.zeros(mdp.n_states)
    v[keep] = np.linalg.solve(np.eye(keep.sum()) - mdp.gamma * p_pi, r_pi)
    return v


def _bug_eval_immediate_reward(mdp, policy):
    r_pi = np.einsum("sa,sat,sat->s", policy, mdp.P, mdp.R)
    return np.where(mdp.terminal, 0.0, r_pi)


def _bug_eval_plus_sign(mdp, policy):
    keep = ~mdp.terminal
    p_pi = np.einsum("sa,sat->st", policy, mdp.P)[np.ix_(keep, keep)]
    r_pi = np.einsum("sa,sat,sat->s", policy, mdp.P, mdp.R)[keep]
    values = np.zeros(mdp.n_states)
    values[keep] = np.linalg.solve(np.eye(keep.sum()) + mdp.gamma * p_pi, r_pi)
    return values


def _bug_eval_few_sweeps(mdp, policy):
    r_pi = np.einsum("sa,sat,sat->s", policy, mdp.P, mdp.R)
    p_pi = np.einsum("sa,sat->st", policy, mdp.P)
    values = np.zeros(mdp.n_states)
    for _ in range(20):
        values = np.where(mdp.terminal, 0.0, r_pi + mdp.gamma * p_pi @ values)
    return values


EVALUATE_POLICY_EXACT = CheckSpec(
    name="mdps.evaluate_policy_exact",
    function="evaluate_policy_exact",
    points=3,
    reference=dp.policy_evaluation_exact,
    visible_cases=_evaluate_cases,
    hidden_cases=_evaluate_hidden,
    compare=allclose(rtol=1e-6, atol=1e-8),
    bugs=(
        Bug("forgot_gamma", _bug_eval_forgot_gamma,
            "The system is (I - gamma P_pi) V = r_pi: you left out gamma."),
        Bug("transposed", _bug_eval_transposed,
            "P_pi[s, s'] has the current state as ROW: use P_pi, not its transpose."),
        Bug("bootstraps_terminals", _bug_eval_bootstraps_terminals,
            "Terminal states have V = 0 and never bootstrap: solve only for non-terminal states."),
        Bug("one_step", _bug_eval_one_step,
            "r_pi + gamma P_pi r_pi is only a two-step look-ahead; solve the linear system."),
        Bug("unweighted_rewards", _bug_eval_unweighted_rewards,
            "r_pi(s) = sum_a pi(a|s) sum_s' P(s'|s,a) R(s,a,s'): weight R by P."),
        Bug("immediate_reward_only", _bug_eval_immediate_reward,
            "V^pi is not the immediate reward r_pi alone: it adds the discounted future gamma "
            "P_pi V^pi; solve the linear system."),
        Bug("plus_sign", _bug_eval_plus_sign,
            "The sign is minus: V = r_pi + gamma P_pi V gives (I - gamma P_pi) V = r_pi, not "
            "(I + gamma P_pi)."),
        Bug("few_sweeps", _bug_eval_few_sweeps,
            "A fixed number of backups only approximates V^pi: solve the linear system "
            "exactly (np.linalg.solve)."),
    ),
    hint="V^pi solves the linear system (I - gamma P_pi) V = r_pi over the non-terminal states "
    "(np.linalg.solve: exact, no fixed number of sweeps), V = 0 at terminals.",
)

register(
    DISCOUNTED_RETURN,
    TRAJECTORY_PROBABILITY,
    EXPECTED_REWARDS,
    V_FROM_Q,
    EVALUATE_POLICY_EXACT,
)
