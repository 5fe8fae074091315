"""Check specs of notebook 01 (MDPs): returns, trajectories, V and Q, policy evaluation.

Every ``_bug_*`` function is a plausible wrong implementation a student writes. Each is
self-contained (numpy and rlkit only) so that the sample class can paste its source into a
notebook. ``tests/test_bug_bank.py`` proves each one fails its check and gets its own hint.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from autograder.judge import fixtures
from autograder.judge.core import (
    Bug,
    Case,
    CaseProblem,
    CheckSpec,
    Deferred,
    allclose,
    deferred_compare,
    register,
)
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
    hint="V^pi = (I - gamma P_pi)^{-1} r_pi over the non-terminal states, V = 0 at terminals.",
)

# --- monte_carlo_value


def _return_std(mdp: TabularMDP, policy: np.ndarray) -> np.ndarray:
    """The exact standard deviation of the discounted return from each state.

    The second moment M(s) = E[G^2 | s_0 = s] solves the Bellman-like system
    M(s) = sum_a pi sum_s' P [R^2 + 2 gamma R V(s') + gamma^2 M(s')] (0 at terminals).
    """
    v = dp.policy_evaluation_exact(mdp, policy)
    keep = ~mdp.terminal
    w = np.einsum("sa,sat->sat", policy, mdp.P)
    p_pi = w.sum(axis=1)[np.ix_(keep, keep)]
    rhs = np.einsum("sat,sat->s", w, mdp.R**2 + 2 * mdp.gamma * mdp.R * v[None, None, :])[keep]
    m = np.zeros(mdp.n_states)
    m[keep] = np.linalg.solve(np.eye(keep.sum()) - mdp.gamma**2 * p_pi, rhs)
    return np.sqrt(np.maximum(m - v**2, 0.0))


def _mc_case(name: str, mdp: TabularMDP, policy: np.ndarray, state: int, n: int,
             seed: int, twice: bool = False) -> Case:
    # The exact value and the bound are computed by the judge only (Deferred): the exact
    # evaluation is this notebook's own graded function, withheld in the submission's sandbox.
    # 5 standard errors (plus a little for the 1000-step cut-off): the reference passes
    # with probability > 1 - 1e-6, a biased estimator does not.
    def run(fn):
        first = fn(mdp, policy, state, n, np.random.default_rng(seed))
        if twice and fn(mdp, policy, state, n, np.random.default_rng(seed)) != first:
            raise CaseProblem("two runs with generators of the same seed gave different "
                              "estimates: draw every episode from the given `rng`")
        return first

    return Case(
        name,
        run=run,
        expected=Deferred(lambda: dp.policy_evaluation_exact(mdp, policy)[state]),
        compare=deferred_compare(lambda: allclose(
            rtol=0.0, atol=5.0 * _return_std(mdp, policy)[state] / np.sqrt(n) + 1e-3)),
    )


def _mc_cases() -> list[Case]:
    mdp, policy = _east_policy()
    gw = fixtures.gridworld()
    rng = np.random.default_rng(41)
    small = fixtures.small_mdp(rng, gamma=0.8)
    return [
        _mc_case("GridWorld, the good policy, from (1,1), 2000 episodes", mdp, policy,
                 gw.state_index((1, 1)), 2000, 1),
        _mc_case("GridWorld, the good policy, from (3,2), 2000 episodes", mdp, policy,
                 gw.state_index((3, 2)), 2000, 2),
        _mc_case("a random 'small' MDP, 3000 episodes", small,
                 fixtures.stochastic_policy(rng, small.n_states, small.n_actions),
                 int(np.flatnonzero(~small.terminal)[0]), 3000, 3),
        _mc_case("a single episode (the mean of one return)", mdp, policy,
                 gw.state_index((1, 1)), 1, 4),
        _mc_case("20 episodes, run twice with generators of the same seed", mdp, policy,
                 gw.state_index((1, 1)), 20, 5, twice=True),
    ]


def _mc_hidden(rng: np.random.Generator) -> list[Case]:
    mdp = fixtures.small_mdp(rng, gamma=0.8)
    policy = fixtures.stochastic_policy(rng, mdp.n_states, mdp.n_actions)
    state = int(rng.choice(np.flatnonzero(~mdp.terminal)))
    return [_mc_case("hidden: random MDP, 3000 episodes", mdp, policy, state, 3000,
                     int(rng.integers(1 << 30)))]


def _bug_mc_undiscounted(mdp, policy, state, n_episodes, rng):
    from rlkit.sampling import sample_trajectory

    total = 0.0
    for _ in range(n_episodes):
        total += float(np.sum(sample_trajectory(mdp, policy, rng, start_state=state).rewards))
    return total / n_episodes


# The bugs discount by hand, as a student would: rlkit's discounted_return is withheld while
# notebook 01 is graded.


def _bug_mc_starts_from_mu(mdp, policy, state, n_episodes, rng):
    from rlkit.sampling import sample_trajectory

    returns = [np.polynomial.polynomial.polyval(mdp.gamma, sample_trajectory(
        mdp, policy, rng).rewards) for _ in range(n_episodes)]
    return float(np.mean(returns))


def _bug_mc_first_reward(mdp, policy, state, n_episodes, rng):
    from rlkit.sampling import sample_trajectory

    returns = [sample_trajectory(mdp, policy, rng, start_state=state).rewards[0]
               for _ in range(n_episodes)]
    return float(np.mean(returns))


def _bug_mc_sum_not_mean(mdp, policy, state, n_episodes, rng):
    from rlkit.sampling import sample_trajectory

    total = 0.0
    for _ in range(n_episodes):
        rewards = sample_trajectory(mdp, policy, rng, start_state=state).rewards
        total += sum(mdp.gamma**t * r for t, r in enumerate(rewards))
    return float(total)


def _bug_mc_one_episode(mdp, policy, state, n_episodes, rng):
    from rlkit.sampling import sample_trajectory

    rewards = sample_trajectory(mdp, policy, rng, start_state=state).rewards
    return float(sum(mdp.gamma**t * r for t, r in enumerate(rewards)))


def _bug_mc_mean_over_steps(mdp, policy, state, n_episodes, rng):
    from rlkit.sampling import sample_trajectory

    total, steps = 0.0, 0
    for _ in range(n_episodes):
        rewards = sample_trajectory(mdp, policy, rng, start_state=state).rewards
        total += float(np.sum(mdp.gamma ** np.arange(len(rewards)) * rewards))
        steps += len(rewards)
    return total / steps


def _bug_mc_last_episode(mdp, policy, state, n_episodes, rng):
    from rlkit.sampling import sample_trajectory

    g = 0.0
    for _ in range(n_episodes):
        rewards = sample_trajectory(mdp, policy, rng, start_state=state).rewards
        g = float(np.sum(mdp.gamma ** np.arange(len(rewards)) * rewards))
    return g


MONTE_CARLO_VALUE = CheckSpec(
    name="mdps.monte_carlo_value",
    function="monte_carlo_value",
    points=2,
    reference=sampling.monte_carlo_value,
    visible_cases=_mc_cases,
    hidden_cases=_mc_hidden,
    compare=allclose(atol=0.0, rtol=0.0),
    bugs=(
        Bug("undiscounted", _bug_mc_undiscounted,
            "Average the DISCOUNTED return G_0 = sum_t gamma^t r_t of each episode."),
        Bug("starts_from_mu", _bug_mc_starts_from_mu,
            "Start every episode in the given `state` (start_state=state), not from mu."),
        Bug("first_reward", _bug_mc_first_reward,
            "The return adds up the rewards of the whole episode, not just the first one."),
        Bug("sum_not_mean", _bug_mc_sum_not_mean,
            "Divide by the number of episodes: the estimate is the sample MEAN of returns."),
        Bug("one_episode", _bug_mc_one_episode,
            "One episode is a very noisy estimate: average over all n_episodes."),
        Bug("mean_over_steps", _bug_mc_mean_over_steps,
            "Divide by the number of episodes, not by the number of steps: the estimate is "
            "the mean of one return per episode."),
        Bug("last_episode", _bug_mc_last_episode,
            "You kept only the last episode's return: average the returns of all n_episodes "
            "episodes."),
    ),
    hint="The estimate must be within 5 standard errors of the exact V^pi(state) (the case's "
    "'expected'). Use the given rng for all sampling.",
)

# --- run_episode


class StrictEpisodes(gym.Wrapper):
    """Raises when ``step`` is called after an episode ended, naming the likely mistake."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self._ended = True
        self.visited: list[int] = []
        """every observation the env returned, to tell two episodes apart"""

    def reset(self, **kwargs):  # noqa: D102
        self._ended = False
        obs, info = self.env.reset(**kwargs)
        self.visited.append(int(obs))
        return obs, info

    def step(self, action):  # noqa: D102
        if self._ended:
            raise RuntimeError(
                "step() was called after the episode ended (or before reset()): stop the loop "
                "when `terminated or truncated` is True, and call env.reset(seed=seed) first."
            )
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._ended = bool(terminated or truncated)
        self.visited.append(int(obs))
        return obs, reward, terminated, truncated, info


def _episode_env(max_episode_steps: int, noise: float = 0.2,
                 living_reward: float = 0.0) -> StrictEpisodes:
    return StrictEpisodes(gym.make("rlkit/GridWorld-v0", noise=noise,
                                   living_reward=living_reward,
                                   max_episode_steps=max_episode_steps))


def _episode_case(name: str, policy: np.ndarray, seed: int, max_episode_steps: int = 100,
                  noise: float = 0.2, living_reward: float = 0.0) -> Case:
    def run(fn):
        # Two runs with the same seed on fresh envs must visit the same states: an episode
        # that ignores the seed would otherwise pass now and then by luck.
        envs = [_episode_env(max_episode_steps, noise, living_reward) for _ in range(2)]
        first, _ = (np.asarray(fn(env, policy, seed), dtype=float) for env in envs)
        if envs[0].visited != envs[1].visited:
            raise CaseProblem("two runs with the same seed gave different episodes: "
                             "reset the env with env.reset(seed=seed)")
        return first

    return Case(name, run=run)


def _wandering_policy() -> np.ndarray:
    """A fixed policy that rarely exits, so its episodes differ a lot from seed to seed."""
    return np.random.default_rng(5).integers(0, 4, size=fixtures.lecture_mdp().n_states)


def _episode_cases() -> list[Case]:
    _, good = _east_policy()
    good_actions = good.argmax(axis=1)
    stuck = np.full(good.shape[0], 3)  # always W: bumps into the west wall forever
    return [  # the wandering case first: its episodes tell a seeded loop from an unseeded one
        _episode_case("GridWorld, a wandering policy, seed 3", _wandering_policy(), 3),
        _episode_case("GridWorld, the good policy, seed 0", good_actions, 0),
        _episode_case("GridWorld, the good policy, seed 7", good_actions, 7),
        _episode_case("deterministic moves: (1,1) to the +1 exit in 5 moves + exit",
                      good_actions, 0, noise=0.0),
        _episode_case("a policy that never reaches an exit, time limit 15 (truncation)",
                      stuck, 1, max_episode_steps=15),
        _episode_case("the lecture's living reward -0.04 on every move, the good policy",
                      good_actions, 4, living_reward=-0.04),
    ]


def _episode_hidden(rng: np.random.Generator) -> list[Case]:
    policy = rng.integers(0, 4, size=fixtures.lecture_mdp().n_states)
    return [_episode_case(f"hidden: a random policy, seed {s}", policy, int(s),
                          max_episode_steps=int(rng.integers(10, 40)))
            for s in rng.integers(1 << 30, size=2)]


def _bug_episode_no_seed(env, policy, seed):
    obs, _ = env.reset()
    rewards = []
    while True:
        obs, reward, terminated, truncated, _ = env.step(int(policy[obs]))
        rewards.append(reward)
        if terminated or truncated:
            return np.array(rewards)


def _bug_episode_ignores_truncation(env, policy, seed):
    obs, _ = env.reset(seed=seed)
    rewards = []
    while True:
        obs, reward, terminated, truncated, _ = env.step(int(policy[obs]))
        rewards.append(reward)
        if terminated:
            return np.array(rewards)


def _bug_episode_drops_last(env, policy, seed):
    obs, _ = env.reset(seed=seed)
    rewards = []
    while True:
        obs, reward, terminated, truncated, _ = env.step(int(policy[obs]))
        if terminated or truncated:
            return np.array(rewards)
        rewards.append(reward)


def _bug_episode_stale_obs(env, policy, seed):
    obs, _ = env.reset(seed=seed)
    first = obs
    rewards = []
    while True:
        obs, reward, terminated, truncated, _ = env.step(int(policy[first]))
        rewards.append(reward)
        if terminated or truncated:
            return np.array(rewards)


def _bug_episode_one_step(env, policy, seed):
    obs, _ = env.reset(seed=seed)
    obs, reward, terminated, truncated, _ = env.step(int(policy[obs]))
    return np.array([reward])


RUN_EPISODE = CheckSpec(
    name="mdps.run_episode",
    function="run_episode",
    points=2,
    reference=sampling.run_episode,
    visible_cases=_episode_cases,
    hidden_cases=_episode_hidden,
    bugs=(
        Bug("no_seed", _bug_episode_no_seed,
            "Call env.reset(seed=seed) so that the episode is reproducible."),
        Bug("ignores_truncation", _bug_episode_ignores_truncation,
            "An episode also ends when `truncated` is True (the time limit)."),
        Bug("drops_last_reward", _bug_episode_drops_last,
            "Record the reward of the last step too, before leaving the loop."),
        Bug("stale_obs", _bug_episode_stale_obs,
            "Choose each action from the NEW observation that step() returned."),
        Bug("one_step", _bug_episode_one_step,
            "Loop until the episode ends: `terminated or truncated`."),
    ),
    hint="obs, info = env.reset(seed=seed); then repeat obs, r, terminated, truncated, info = "
    "env.step(int(policy[obs])) and keep every r, until terminated or truncated.",
)

register(
    DISCOUNTED_RETURN,
    TRAJECTORY_PROBABILITY,
    EXPECTED_REWARDS,
    V_FROM_Q,
    EVALUATE_POLICY_EXACT,
    MONTE_CARLO_VALUE,
    RUN_EPISODE,
)
