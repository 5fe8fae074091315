"""Check specs of notebook 02 (Bellman backups): value, Q-value and policy iteration.

Tabular Q-learning (part 6: ``epsilon_greedy``, ``q_learning_update``) is in
``bellman_qlearning.py``.

As in ``mdps.py``, every ``_bug_*`` is a self-contained plausible wrong implementation with the
hint its author should read; ``tests/test_bug_bank.py`` proves each one is caught.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograder.box.procedures.bellman import policy_iteration_run
from autograder.judge import fixtures
from autograder.judge.core import Bug, Case, CheckSpec, Deferred, allclose, register, type_name
from autograder.judge.specs.mdps_sampling import Unusable, reading
from rlkit import dp
from rlkit.mdp import TabularMDP

# --- shared cases


def _mdp_value_cases(seed: int) -> list[Case]:
    """(mdp, values) on the lecture GridWorld and random MDPs, values non-zero at terminals."""
    rng = np.random.default_rng(seed)
    lecture = fixtures.lecture_mdp()
    det = fixtures.lecture_mdp(noise=0.0, gamma=1.0)
    small = fixtures.small_mdp(rng, gamma=0.5)
    living = fixtures.lecture_mdp(living_reward=-0.04)
    rewarding = fixtures.rewarding_terminal_mdp()
    return [
        Case("GridWorld (0.8/0.1/0.1, gamma 0.9), V = 0: the first sweep",
             (lecture, np.zeros(lecture.n_states))),
        Case("GridWorld, V = V_1 (each exit worth its reward)",
             (lecture, fixtures.first_sweep(lecture))),
        Case("GridWorld, deterministic moves, gamma 1, a random V (terminal entries too)",
             (det, fixtures.values(rng, det))),
        Case("a random 'small' MDP (gamma 0.5) with a random V",
             (small, fixtures.values(rng, small))),
        Case("GridWorld with the lecture's living reward -0.04, V = V_1",
             (living, fixtures.first_sweep(living))),
        Case("terminal states whose own transitions carry a reward (never earned), a random V",
             (rewarding, fixtures.values(rng, rewarding))),
    ]


def _mdp_value_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for i in range(3):
        mdp = fixtures.small_mdp(rng, n_terminal=int(rng.integers(0, 3)))
        cases.append(Case(f"hidden: random MDP {i}", (mdp, fixtures.values(rng, mdp, 3.0))))
    return cases


def _bootstrap_target(mdp: TabularMDP, values: np.ndarray) -> np.ndarray:
    """sum_s' P (R + gamma V(s')) with NO terminal mask (what the bugs below get wrong)."""
    return np.einsum("sat,sat->sa", mdp.P, mdp.R + mdp.gamma * values[None, None, :])


# --- q_from_v


def _bug_q_forgot_gamma(mdp, values):
    v = np.where(mdp.terminal, 0.0, values)
    return np.einsum("sat,sat->sa", mdp.P, mdp.R + v[None, None, :])


def _bug_q_bootstraps_terminals(mdp, values):
    return np.einsum("sat,sat->sa", mdp.P, mdp.R + mdp.gamma * values[None, None, :])


def _bug_q_bootstraps_terminal_next_states(mdp, values):
    q = np.einsum("sat,sat->sa", mdp.P, mdp.R + mdp.gamma * values[None, None, :])
    return np.where(mdp.terminal[:, None], 0.0, q)  # the rows of terminal s are right


def _bug_q_masks_reward(mdp, values):
    alive = np.where(mdp.terminal, 0.0, 1.0)
    q = np.einsum("sat,sat->sa", mdp.P, (mdp.R + mdp.gamma * values[None, None, :]) * alive)
    return q * alive[:, None]


def _bug_q_reward_outside(mdp, values):
    v = np.where(mdp.terminal, 0.0, values)
    return mdp.R.sum(axis=2) + mdp.gamma * mdp.P @ v


def _bug_q_wrong_axis(mdp, values):
    v = np.where(mdp.terminal, 0.0, values)
    return np.einsum("sat,sat->ta", mdp.P, mdp.R + mdp.gamma * v[None, None, :])


def _bug_q_max_over_next(mdp, values):
    v = np.where(mdp.terminal, 0.0, values)
    target = mdp.R + mdp.gamma * v[None, None, :]
    return np.where(mdp.P > 0, target, -np.inf).max(axis=2)


def _bug_q_current_state_value(mdp, values):
    v = np.where(mdp.terminal, 0.0, values)
    return np.einsum("sat,sat->sa", mdp.P, mdp.R) + mdp.gamma * v[:, None]


Q_FROM_V = CheckSpec(
    name="bellman.q_from_v",
    function="q_from_v",
    points=2,
    reference=dp.q_from_v,
    visible_cases=lambda: _mdp_value_cases(101),
    hidden_cases=_mdp_value_hidden,
    bugs=(
        Bug("forgot_gamma", _bug_q_forgot_gamma,
            "The future value is discounted: R(s,a,s') + gamma * V(s')."),
        Bug("bootstraps_terminals", _bug_q_bootstraps_terminals,
            "A terminal next state has no future: use (1 - terminal[s']) * V(s'), whatever "
            "`values` holds there."),
        Bug("bootstraps_terminal_next_states", _bug_q_bootstraps_terminal_next_states,
            "Your rows of terminal states are right, but a terminal NEXT state s' has no "
            "future either: use (1 - terminal[s']) * V(s') inside the sum, whatever `values` "
            "holds there."),
        Bug("masks_reward", _bug_q_masks_reward,
            "The reward of the step INTO a terminal state is still earned: mask only the "
            "future gamma V(s') of a terminal s', not R(s,a,s')."),
        Bug("reward_outside_expectation", _bug_q_reward_outside,
            "R(s,a,s') sits INSIDE the expectation over s': weight it by P(s'|s,a) too."),
        Bug("wrong_axis", _bug_q_wrong_axis,
            "Sum over the next state s' (the last axis of P[s, a, s'])."),
        Bug("max_over_next_state", _bug_q_max_over_next,
            "The environment chooses s', not the agent: take the expectation, not a max."),
        Bug("current_state_value", _bug_q_current_state_value,
            "The future value is that of the next state s', weighted by P(s'|s,a): V(s') "
            "inside the sum, not V(s) of the current state."),
    ),
    hint="Q(s,a) = sum_{s'} P(s'|s,a) [R(s,a,s') + gamma (1 - terminal[s']) V(s')].",
)

# --- value_iteration_step


def _bug_vi_mean_over_actions(mdp, values):
    v = np.where(mdp.terminal, 0.0, values)
    q = np.einsum("sat,sat->sa", mdp.P, mdp.R + mdp.gamma * v[None, None, :])
    return np.where(mdp.terminal, 0.0, q.mean(axis=1))


def _bug_vi_min(mdp, values):
    v = np.where(mdp.terminal, 0.0, values)
    q = np.einsum("sat,sat->sa", mdp.P, mdp.R + mdp.gamma * v[None, None, :])
    return np.where(mdp.terminal, 0.0, q.min(axis=1))


def _bug_vi_forgot_gamma(mdp, values):
    v = np.where(mdp.terminal, 0.0, values)
    q = np.einsum("sat,sat->sa", mdp.P, mdp.R + v[None, None, :])
    return np.where(mdp.terminal, 0.0, q.max(axis=1))


def _bug_vi_bootstraps_terminals(mdp, values):
    q = np.einsum("sat,sat->sa", mdp.P, mdp.R + mdp.gamma * values[None, None, :])
    return q.max(axis=1)


def _bug_vi_in_place(mdp, values):
    v = np.where(mdp.terminal, 0.0, np.array(values, dtype=float))
    for s in range(mdp.n_states):  # Gauss-Seidel: later states already see the new V
        if mdp.terminal[s]:
            continue
        q = mdp.P[s] @ v * mdp.gamma + np.sum(mdp.P[s] * mdp.R[s], axis=1)
        v[s] = q.max()
    return v


def _bug_vi_returns_q(mdp, values):
    v = np.where(mdp.terminal, 0.0, values)
    return np.einsum("sat,sat->sa", mdp.P, mdp.R + mdp.gamma * v[None, None, :])


VALUE_ITERATION_STEP = CheckSpec(
    name="bellman.value_iteration_step",
    function="value_iteration_step",
    points=2,
    reference=dp.bellman_optimality_backup,
    visible_cases=lambda: _mdp_value_cases(102),
    hidden_cases=_mdp_value_hidden,
    bugs=(
        Bug("mean_over_actions", _bug_vi_mean_over_actions,
            "The agent picks the best action: V_k(s) = MAX_a Q(s, a), not the mean."),
        Bug("min_over_actions", _bug_vi_min, "max_a, not min_a."),
        Bug("forgot_gamma", _bug_vi_forgot_gamma,
            "Discount V_{k-1}(s') by gamma."),
        Bug("bootstraps_terminals", _bug_vi_bootstraps_terminals,
            "Terminal states never bootstrap: V(terminal) = 0 and it adds nothing to a target."),
        Bug("in_place_update", _bug_vi_in_place,
            "The lecture's backup is synchronous: compute every V_k(s) from the OLD V_{k-1}; "
            "do not write into the array you are reading."),
        Bug("returns_q", _bug_vi_returns_q,
            "Return one value per state (shape (S,)): take the max over actions of Q."),
    ),
    hint="V_k(s) = max_a sum_{s'} P(s'|s,a) [R(s,a,s') + gamma V_{k-1}(s')], 0 at terminals.",
)

# --- greedy_policy


def _greedy_cases() -> list[Case]:
    rng = np.random.default_rng(103)
    lecture = fixtures.lecture_mdp()
    v_star = fixtures.lecture_v_star()
    small = fixtures.small_mdp(rng, gamma=0.5)
    return [
        Case("GridWorld, V = V* (the lecture's optimal policy)", (lecture, v_star)),
        Case("GridWorld with living reward -2 (leave as fast as possible)",
             (fixtures.lecture_mdp(living_reward=-2.0),
              fixtures.lecture_v_star(living_reward=-2.0))),
        Case("a random 'small' MDP (gamma 0.5), a random V", (small, fixtures.values(rng, small))),
        Case("a random 'small' MDP, V non-zero at terminal states",
             (small, fixtures.values(rng, small, 10.0))),
    ]


def _bug_greedy_argmin(mdp, values):
    v = np.where(mdp.terminal, 0.0, values)
    q = np.einsum("sat,sat->sa", mdp.P, mdp.R + mdp.gamma * v[None, None, :])
    return q.argmin(axis=1)


def _bug_greedy_reward_only(mdp, values):
    return np.einsum("sat,sat->sa", mdp.P, mdp.R).argmax(axis=1)


def _bug_greedy_forgot_gamma(mdp, values):
    v = np.where(mdp.terminal, 0.0, values)
    return np.einsum("sat,sat->sa", mdp.P, mdp.R + v[None, None, :]).argmax(axis=1)


def _bug_greedy_bootstraps_terminals(mdp, values):
    q = np.einsum("sat,sat->sa", mdp.P, mdp.R + mdp.gamma * values[None, None, :])
    return q.argmax(axis=1)


def _bug_greedy_returns_values(mdp, values):
    v = np.where(mdp.terminal, 0.0, values)
    return np.einsum("sat,sat->sa", mdp.P, mdp.R + mdp.gamma * v[None, None, :]).max(axis=1)


def _bug_greedy_best_next_state(mdp, values):
    v = np.where(mdp.terminal, 0.0, values)
    return np.where(mdp.P > 0, v[None, None, :], -np.inf).max(axis=2).argmax(axis=1)


def _bug_greedy_ignores_reward(mdp, values):
    v = np.where(mdp.terminal, 0.0, values)
    return np.argmax(np.einsum("sat,t->sa", mdp.P, v), axis=1)


GREEDY_POLICY = CheckSpec(
    name="bellman.greedy_policy",
    function="greedy_policy",
    points=1,
    reference=dp.greedy_policy,
    visible_cases=_greedy_cases,
    hidden_cases=_mdp_value_hidden,
    compare=allclose(integer=True),
    diagnose=allclose(),
    bugs=(
        Bug("argmin", _bug_greedy_argmin, "Greedy means the action with the LARGEST Q(s, a)."),
        Bug("reward_only", _bug_greedy_reward_only,
            "Look one step ahead with the values: r + gamma V(s'), not the reward alone."),
        Bug("forgot_gamma", _bug_greedy_forgot_gamma,
            "Discount V(s') by gamma in the look-ahead."),
        Bug("bootstraps_terminals", _bug_greedy_bootstraps_terminals,
            "A terminal next state contributes no value, whatever `values` holds there."),
        Bug("returns_values", _bug_greedy_returns_values,
            "Return the ACTION indices (argmax), not the best values (max)."),
        Bug("best_reachable_state", _bug_greedy_best_next_state,
            "Weight the next states by their probabilities and add the rewards: compute Q."),
        Bug("ignores_reward", _bug_greedy_ignores_reward,
            "The look-ahead adds the reward of the move: argmax_a sum_s' P(s'|s,a) [R(s,a,s') "
            "+ gamma V(s')], not the values alone."),
    ),
    hint="pi(s) = argmax_a sum_{s'} P(s'|s,a) [R(s,a,s') + gamma V(s')]; ties go to the lowest "
    "action index (np.argmax does that).",
)

# --- policy_evaluation_step


def _expectation_cases() -> list[Case]:
    cases = _mdp_value_cases(104)
    rng = np.random.default_rng(104)
    out = []
    for case in cases:
        mdp, values = case.args
        out.append(Case(case.name + ", a random stochastic policy",
                        (mdp, values, fixtures.stochastic_policy(rng, mdp.n_states,
                                                                 mdp.n_actions))))
    lecture = fixtures.lecture_mdp()
    out.append(Case("GridWorld, a deterministic policy as one-hot rows (always N)",
                    (lecture, np.ones(lecture.n_states), np.eye(4)[np.zeros(lecture.n_states,
                                                                            dtype=int)])))
    return out


def _expectation_hidden(rng: np.random.Generator) -> list[Case]:
    return [Case(c.name, c.args + (fixtures.stochastic_policy(rng, c.args[0].n_states,
                                                              c.args[0].n_actions),))
            for c in _mdp_value_hidden(rng)]


def _bug_pe_max(mdp, values, policy):
    v = np.where(mdp.terminal, 0.0, values)
    q = np.einsum("sat,sat->sa", mdp.P, mdp.R + mdp.gamma * v[None, None, :])
    return np.where(mdp.terminal, 0.0, q.max(axis=1))


def _bug_pe_forgot_gamma(mdp, values, policy):
    v = np.where(mdp.terminal, 0.0, values)
    q = np.einsum("sat,sat->sa", mdp.P, mdp.R + v[None, None, :])
    return np.where(mdp.terminal, 0.0, (policy * q).sum(axis=1))


def _bug_pe_uniform(mdp, values, policy):
    v = np.where(mdp.terminal, 0.0, values)
    q = np.einsum("sat,sat->sa", mdp.P, mdp.R + mdp.gamma * v[None, None, :])
    return np.where(mdp.terminal, 0.0, q.mean(axis=1))


def _bug_pe_bootstraps_terminals(mdp, values, policy):
    q = np.einsum("sat,sat->sa", mdp.P, mdp.R + mdp.gamma * values[None, None, :])
    return (policy * q).sum(axis=1)


def _bug_pe_policy_on_next_state(mdp, values, policy):
    v = np.where(mdp.terminal, 0.0, values)
    target = mdp.R + mdp.gamma * v[None, None, :]
    return np.where(mdp.terminal, 0.0, np.einsum("ta,sat,sat->s", policy, mdp.P, target)
                    / mdp.n_states)


POLICY_EVALUATION_STEP = CheckSpec(
    name="bellman.policy_evaluation_step",
    function="policy_evaluation_step",
    points=2,
    reference=dp.bellman_expectation_backup,
    visible_cases=_expectation_cases,
    hidden_cases=_expectation_hidden,
    bugs=(
        Bug("max_not_expectation", _bug_pe_max,
            "Policy evaluation follows pi: average over a ~ pi(.|s); the max belongs to value "
            "iteration."),
        Bug("forgot_gamma", _bug_pe_forgot_gamma, "Discount V_i(s') by gamma."),
        Bug("uniform_over_actions", _bug_pe_uniform,
            "Weight each action by pi(a|s), not equally."),
        Bug("bootstraps_terminals", _bug_pe_bootstraps_terminals,
            "Terminal next states add no value; terminal states themselves have V = 0."),
        Bug("policy_on_next_state", _bug_pe_policy_on_next_state,
            "pi(a|s) is the policy in the CURRENT state s."),
    ),
    hint="V_{i+1}(s) = sum_a pi(a|s) sum_{s'} P(s'|s,a) [R(s,a,s') + gamma V_i(s')], 0 at "
    "terminals.",
)

# --- policy_iteration


def _pi_case(name: str, mdp: TabularMDP) -> Case:
    """Compare what matters and is unique: V of the returned policy and the returned V, with V*.

    The optimal policy itself is not unique when actions tie, so it is judged by its value,
    computed here from the policy the box returned. (The expected value's keys are not the
    output's: a diagnosis of a field would read the policy as values.)
    """

    def read(raw: Any) -> dict[str, np.ndarray]:
        n = mdp.n_states
        if isinstance(raw, dict) and set(raw) == {"output"}:
            raise Unusable(f"expected a pair (policy, values), got {type_name(raw['output'])}")
        if not (isinstance(raw, dict) and set(raw) == {"policy", "values"}):
            raise Unusable("the output did not come back from the case's procedure")
        try:
            policy = np.asarray(raw["policy"])
            values = np.asarray(raw["values"], dtype=float)
        except Exception:  # noqa: BLE001 - not arrays of numbers
            raise Unusable("the policy and the values should be arrays of numbers") from None
        if policy.shape != (n,):
            raise Unusable(f"the policy should have shape ({n},), got {policy.shape}")
        if values.shape != (n,):
            raise Unusable(f"the values should have shape ({n},), got {values.shape}")
        with np.errstate(all="ignore"):
            actions = policy.astype(int) if policy.dtype.kind in "biuf" else None
        if actions is None or not np.all((actions >= 0) & (actions < mdp.n_actions)):
            raise Unusable(f"the policy should hold action indices 0..{mdp.n_actions - 1}")
        return {"value of your policy": dp.policy_evaluation_exact(mdp, actions),
                "your values": values}

    def compare(got: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> str | None:
        close = allclose(rtol=1e-6, atol=1e-6)
        for key, value in expected.items():
            problem = close(got[key], value)
            if problem is not None:
                return f"{key} and V*: {problem}"
        return None

    def v_star() -> dict[str, np.ndarray]:  # value iteration is withheld in the box
        values = dp.value_iteration(mdp, tol=1e-13).values
        return {"value of your policy": values, "your values": values}

    return Case(name, run=policy_iteration_run(mdp), expected=Deferred(v_star),
                compare=reading(read, compare, raw=lambda out: "your values" not in out))


def _pi_reference(mdp: TabularMDP) -> tuple[np.ndarray, np.ndarray]:
    result = dp.policy_iteration(mdp)
    return result.policy, result.values


def _pi_cases() -> list[Case]:
    rng = np.random.default_rng(105)
    return [
        _pi_case("the lecture GridWorld", fixtures.lecture_mdp()),
        _pi_case("GridWorld with living reward -0.04", fixtures.lecture_mdp(living_reward=-0.04)),
        _pi_case("GridWorld with noise 0.5 and gamma 0.99",
                 fixtures.lecture_mdp(noise=0.5, gamma=0.99)),
        _pi_case("a random 'small' MDP", fixtures.small_mdp(rng, gamma=0.95)),
    ]


def _pi_hidden(rng: np.random.Generator) -> list[Case]:
    return [_pi_case(f"hidden: random MDP {i}", fixtures.small_mdp(rng, gamma=0.9))
            for i in range(2)]


# The bugs write their look-ahead themselves, as a student would: rlkit's q_from_v and
# greedy_policy are withheld while notebook 02 is graded, so a bug that called them would
# meet that error in the sandbox instead of giving its output.


def _bug_pi_single_improvement(mdp):
    from rlkit.dp import policy_evaluation_exact

    def greedy(values):
        future = mdp.gamma * np.where(mdp.terminal, 0.0, values)
        return np.einsum("sat,sat->sa", mdp.P, mdp.R + future[None, None, :]).argmax(axis=1)

    policy = np.zeros(mdp.n_states, dtype=int)
    policy = greedy(policy_evaluation_exact(mdp, policy))
    return policy, policy_evaluation_exact(mdp, policy)


def _bug_pi_argmin(mdp):
    from rlkit.dp import policy_evaluation_exact

    policy = np.zeros(mdp.n_states, dtype=int)
    for _ in range(100):
        values = policy_evaluation_exact(mdp, policy)
        future = mdp.gamma * np.where(mdp.terminal, 0.0, values)
        q = np.einsum("sat,sat->sa", mdp.P, mdp.R + future[None, None, :])
        q[mdp.terminal] = 0.0
        new = q.argmin(axis=1)
        if np.array_equal(new, policy):
            break
        policy = new
    return policy, values


def _bug_pi_one_sweep_evaluation(mdp):
    def look_ahead(values):
        future = mdp.gamma * np.where(mdp.terminal, 0.0, values)
        return np.einsum("sat,sat->sa", mdp.P, mdp.R + future[None, None, :])

    policy = np.zeros(mdp.n_states, dtype=int)
    values = np.zeros(mdp.n_states)
    for _ in range(100):
        q = look_ahead(values)
        values = np.where(mdp.terminal, 0.0, q[np.arange(mdp.n_states), policy])
        new = look_ahead(values).argmax(axis=1)
        if np.array_equal(new, policy):
            break
        policy = new
    return policy, values


def _bug_pi_stale_values(mdp):
    from rlkit.dp import policy_evaluation_exact

    policy = np.zeros(mdp.n_states, dtype=int)
    old_values = np.zeros(mdp.n_states)
    for _ in range(100):
        values = policy_evaluation_exact(mdp, policy)
        future = mdp.gamma * np.where(mdp.terminal, 0.0, values)
        new = np.einsum("sat,sat->sa", mdp.P, mdp.R + future[None, None, :]).argmax(axis=1)
        if np.array_equal(new, policy):
            break
        policy, old_values = new, values
    return policy, old_values


def _bug_pi_never_improves(mdp):
    from rlkit.dp import policy_evaluation_exact

    policy = np.zeros(mdp.n_states, dtype=int)
    return policy, policy_evaluation_exact(mdp, policy)


POLICY_ITERATION = CheckSpec(
    name="bellman.policy_iteration",
    function="policy_iteration",
    points=3,
    reference=_pi_reference,
    withhold=("rlkit.dp.policy_iteration",),
    uses=("rlkit.dp.policy_evaluation_exact",),
    visible_cases=_pi_cases,
    hidden_cases=_pi_hidden,
    compare=allclose(rtol=1e-6, atol=1e-6),
    bugs=(
        Bug("single_improvement", _bug_pi_single_improvement,
            "Repeat evaluation and improvement until the policy stops changing."),
        Bug("argmin_improvement", _bug_pi_argmin,
            "Improvement is greedy: argmax of the one-step look-ahead."),
        Bug("one_sweep_evaluation", _bug_pi_one_sweep_evaluation,
            "Evaluate each policy fully (policy_evaluation_exact), not with a single backup."),
        Bug("stale_values", _bug_pi_stale_values,
            "Return the values of the FINAL policy, not those of the previous one."),
        Bug("never_improves", _bug_pi_never_improves,
            "Improve the policy: pi_{k+1}(s) = argmax_a of the look-ahead with V^{pi_k}."),
    ),
    hint="Return (policy, values) with values = V^policy; the value of your policy and your "
    "values are both compared with V*.",
)

# --- q_value_iteration_step


def _q_cases() -> list[Case]:
    rng = np.random.default_rng(106)
    out = []
    for case in _mdp_value_cases(106):
        mdp = case.args[0]
        out.append(Case(case.name.split(", V")[0] + ", a random Q (terminal rows too)",
                        (mdp, rng.normal(size=(mdp.n_states, mdp.n_actions)))))
    return out


def _q_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for i in range(3):
        mdp = fixtures.small_mdp(rng, n_terminal=int(rng.integers(0, 3)))
        cases.append(Case(f"hidden: random MDP {i}",
                          (mdp, rng.normal(size=(mdp.n_states, mdp.n_actions)))))
    return cases


def _bug_qvi_global_max(mdp, q_values):
    v = np.where(mdp.terminal, 0.0, q_values.max())
    return np.einsum("sat,sat->sa", mdp.P, mdp.R + mdp.gamma * v[None, None, :])


def _bug_qvi_forgot_gamma(mdp, q_values):
    v = np.where(mdp.terminal, 0.0, q_values.max(axis=1))
    return np.einsum("sat,sat->sa", mdp.P, mdp.R + v[None, None, :])


def _bug_qvi_bootstraps_terminals(mdp, q_values):
    v = q_values.max(axis=1)
    return np.einsum("sat,sat->sa", mdp.P, mdp.R + mdp.gamma * v[None, None, :])


def _bug_qvi_mean(mdp, q_values):
    v = np.where(mdp.terminal, 0.0, q_values.mean(axis=1))
    return np.einsum("sat,sat->sa", mdp.P, mdp.R + mdp.gamma * v[None, None, :])


def _bug_qvi_same_action(mdp, q_values):
    q_next = np.where(mdp.terminal[:, None], 0.0, q_values)  # Q(s', a) with the SAME a
    return np.einsum("sat,sat->sa", mdp.P, mdp.R) + mdp.gamma * np.einsum(
        "sat,ta->sa", mdp.P, q_next)


Q_VALUE_ITERATION_STEP = CheckSpec(
    name="bellman.q_value_iteration_step",
    function="q_value_iteration_step",
    points=2,
    reference=dp.q_backup,
    visible_cases=_q_cases,
    hidden_cases=_q_hidden,
    bugs=(
        Bug("global_max", _bug_qvi_global_max,
            "max_{a'} Q(s', a') is over the actions of EACH next state s' (axis 1), not over "
            "the whole table."),
        Bug("forgot_gamma", _bug_qvi_forgot_gamma, "Discount max_{a'} Q(s', a') by gamma."),
        Bug("bootstraps_terminals", _bug_qvi_bootstraps_terminals,
            "A terminal next state has no future: mask max_{a'} Q(s', a') with (1 - terminal)."),
        Bug("mean_not_max", _bug_qvi_mean,
            "Q-value iteration backs up the BEST next action: max_{a'}, not the mean."),
        Bug("same_action", _bug_qvi_same_action,
            "The next action is the greedy one, max_{a'} Q(s', a'), not the same a."),
    ),
    hint="Q_{k+1}(s,a) = sum_{s'} P(s'|s,a) [R(s,a,s') + gamma (1 - terminal[s']) max_{a'} "
    "Q_k(s',a')].",
)

register(
    Q_FROM_V,
    VALUE_ITERATION_STEP,
    GREEDY_POLICY,
    POLICY_EVALUATION_STEP,
    POLICY_ITERATION,
    Q_VALUE_ITERATION_STEP,
)
